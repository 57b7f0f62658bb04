package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// RegistryInstall is how a developer gets the image registry the tests
// use (.ci/run does the same, once, outside the clone).
const RegistryInstall = "cd .ci/registry && go build -o $HOME/.cache/mlrun-tools/registry ."

// StartRegistry starts a real image registry (CNCF distribution) on a
// loopback port for the test and returns its host (127.0.0.1:PORT), which
// Docker treats as an insecure registry. With a user, it asks for that
// user and password (htpasswd) on every request.
func StartRegistry(t testing.TB, user, password string) string {
	t.Helper()
	bin := ciTool("MLRUN_REGISTRY", "registry", false) // a "registry" on PATH may be anything
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("the registry is missing under CI (.ci/run should install it: %s)", RegistryInstall)
		}
		t.Skipf("registry not found: install it (%s) to run this test", RegistryInstall)
	}
	dir := t.TempDir()
	port := FreePort(t)
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%d\n", filepath.Join(dir, "data"), port)
	if user != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "htpasswd"), []byte(user+":"+string(hash)+"\n"), 0o600)
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: mlrun-test\n    path: %s\n", filepath.Join(dir, "htpasswd"))
	}
	os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0o644)
	cmd := exec.Command(bin, "serve", filepath.Join(dir, "config.yml"))
	startDaemon(t, cmd, port, "the registry")
	return "127.0.0.1:" + strconv.Itoa(port)
}
