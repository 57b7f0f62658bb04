package testutil

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// RequireDocker returns a client of a Docker daemon that answers. Under
// CI (where .ci/run starts dockerd) a missing daemon fails the test;
// locally the test is skipped with a message saying what to start.
func RequireDocker(t testing.TB) *client.Client {
	t.Helper()
	c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err = c.Ping(ctx); err == nil {
			t.Cleanup(func() { c.Close() })
			return c
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("no Docker daemon answers under CI (.ci/run should start dockerd): %v", err)
	}
	t.Skipf("no Docker daemon answers (%v): apt-get install docker.io busybox-static, then start dockerd", err)
	return nil
}

// scriptImage is a test image built once per test binary by a script of
// the repository (no registry is needed).
type scriptImage struct {
	once sync.Once
	err  error
	out  []byte
}

// require builds tag with the script (its path from the repository's
// root), once, and returns tag.
func (s *scriptImage) require(t testing.TB, script, tag string) string {
	t.Helper()
	RequireDocker(t)
	s.once.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		s.out, s.err = exec.Command("bash", filepath.Join(filepath.Dir(file), "..", "..", script), tag).CombinedOutput()
	})
	if s.err != nil {
		t.Fatalf("build image %s with %s: %v\n%s", tag, script, s.err, s.out)
	}
	return tag
}

var baseImage, pythonBaseImage scriptImage

// BaseImage is the tag of the test base image: busybox and a static
// mlrun, built by examples/docker/build-base.sh.
const BaseImage = "mlrun-test-base:1"

// RequireBaseImage builds BaseImage (once) and returns its tag.
func RequireBaseImage(t testing.TB) string {
	t.Helper()
	return baseImage.require(t, "examples/docker/build-base.sh", BaseImage)
}

// PythonBaseImage is the tag of the test image with Python, scikit-learn
// and pandas (the host's, copied by internal/testutil/python-base.sh).
const PythonBaseImage = "mlrun-test-python:1"

// RequirePythonBaseImage builds PythonBaseImage (once) and returns its
// tag.
func RequirePythonBaseImage(t testing.TB) string {
	t.Helper()
	return pythonBaseImage.require(t, "internal/testutil/python-base.sh", PythonBaseImage)
}

// DockerExample copies examples/docker into a new folder with its
// docker_env image set to BaseImage (built if needed), and returns it.
func DockerExample(t testing.TB) string {
	t.Helper()
	image := RequireBaseImage(t)
	_, file, _, _ := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(file), "..", "..", "examples", "docker")
	dir := t.TempDir()
	for _, f := range []string{"MLproject", "train.sh"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ReplaceAll(string(b), "mlrun-example-base:latest", image)
		if err := os.WriteFile(filepath.Join(dir, f), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
