package docker_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/image"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/runner"
	"github.com/mlrun/mlrun/runner/docker"
)

// TestPushWithTheDockerConfig: an image goes to a registry that asks for
// a password with the credentials of the local Docker config (auths, or
// a credential helper), and the digest returned is the one the registry
// serves; without credentials the push fails with the registry's word.
func TestPushWithTheDockerConfig(t *testing.T) {
	cli := testutil.RequireDocker(t)
	base := testutil.RequireBaseImage(t)
	reg := testutil.StartRegistry(t, "pusher", "s3cret")
	ref := reg + "/mlrun-test/pushed:1"
	if err := cli.ImageTag(context.Background(), base, ref); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.ImageRemove(context.Background(), ref, image.RemoveOptions{}) })
	cfgDir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", cfgDir)

	_, err := docker.PushImage(context.Background(), cli, io.Discard, ref)
	if !errors.Is(err, runner.ErrBackendUnavailable) || !strings.Contains(err.Error(), "Error while pushing to docker registry") {
		t.Fatalf("push without credentials: %v", err)
	}

	auth := base64.StdEncoding.EncodeToString([]byte("pusher:s3cret"))
	os.WriteFile(filepath.Join(cfgDir, "config.json"), []byte(fmt.Sprintf(`{"auths": {%q: {"auth": %q}}}`, reg, auth)), 0o600)
	digest, err := docker.PushImage(context.Background(), cli, io.Discard, ref)
	if err != nil || !strings.HasPrefix(digest, "sha256:") {
		t.Fatalf("push with auths: %q %v", digest, err)
	}
	req, _ := http.NewRequest("HEAD", "http://"+reg+"/v2/mlrun-test/pushed/manifests/1", nil)
	req.SetBasicAuth("pusher", "s3cret")
	req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Docker-Content-Digest") != digest {
		t.Fatalf("the registry's manifest: %v %v %q, want digest %s", err, resp.StatusCode, resp.Header.Get("Docker-Content-Digest"), digest)
	}

	// A credential helper named for the registry (the docker CLI's
	// protocol: the server on stdin, JSON out).
	bin := t.TempDir()
	helper := "#!/bin/sh\nread server\n[ \"$server\" = \"" + reg + "\" ] || { echo 'credentials not found in native keychain'; exit 1; }\n" +
		"echo '{\"ServerURL\": \"" + reg + "\", \"Username\": \"pusher\", \"Secret\": \"s3cret\"}'\n"
	os.WriteFile(filepath.Join(bin, "docker-credential-mlruntest"), []byte(helper), 0o755)
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	os.WriteFile(filepath.Join(cfgDir, "config.json"), []byte(fmt.Sprintf(`{"credHelpers": {%q: "mlruntest"}}`, reg)), 0o600)
	if d, err := docker.PushImage(context.Background(), cli, io.Discard, ref); err != nil || d != digest {
		t.Fatalf("push with a credential helper: %q %v", d, err)
	}
	os.WriteFile(filepath.Join(cfgDir, "config.json"), []byte(`{"auths": `), 0o600)
	if _, err := docker.PushImage(context.Background(), cli, io.Discard, ref); !errors.Is(err, runner.ErrInvalid) || !strings.Contains(err.Error(), "config.json") {
		t.Fatalf("a broken docker config: %v", err)
	}
}
