package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/internal/testutil"
)

// TestLoadgen drives a real mlrun server with two workloads for a short
// while: it exits 0, prints a rate for each and counts no error.
func TestLoadgen(t *testing.T) {
	srv := testutil.StartServer(t, false)
	out, err := exec.Command("go", "run", ".", "-url", srv.URL, "-c", "3", "-d", "300ms", "-w", "create-run,log-batch-10").CombinedOutput()
	if err != nil {
		t.Fatalf("loadgen: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "create-run") || !strings.HasPrefix(lines[2], "log-batch-10") {
		t.Fatalf("output:\n%s", out)
	}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != 3 || f[2] != "0" || f[1] == "0.0" {
			t.Fatalf("workload line %q: want a rate and no errors", l)
		}
	}
}
