package local_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestStandsAlone: the local backend links neither the server, the UI,
// the registry nor go-git (the loopback server is runner/launch's, given
// by cmd); it is the runner contract and the standard library.
func TestStandsAlone(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/go-git/") || (strings.HasPrefix(dep, "github.com/mlrun/mlrun/") && dep != "github.com/mlrun/mlrun/runner" && dep != "github.com/mlrun/mlrun/runner/local") {
			t.Errorf("runner/local depends on %s", dep)
		}
	}
}
