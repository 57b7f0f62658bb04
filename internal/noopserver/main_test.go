package main

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlrun/mlrun/internal/testutil"
)

// TestNoopServer: the command serves the no-op handler with a flush on
// the address it prints, answers a log-batch with {}, and exits 0 on an
// interrupt, removing its flush file; a flush folder that does not exist
// is a one-line error and exit code 1.
func TestNoopServer(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "noopserver")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-flush", dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "serving the no-op handler on ")
	if err != nil || !ok {
		t.Fatalf("first line %q (%v)", line, err)
	}
	resp, err := http.Post(url+"/api/2.0/mlflow/runs/log-batch", "application/json", strings.NewReader(`{"run_id": "r"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "{}" {
		t.Fatalf("log-batch: %d %q", resp.StatusCode, b)
	}
	if _, err := os.Stat(filepath.Join(dir, "noop-flush")); err != nil {
		t.Fatalf("no flush file while serving: %v", err)
	}
	cmd.Process.Signal(os.Interrupt)
	if exited, err := testutil.WaitExit(cmd, 10*time.Second); !exited {
		t.Fatal("still running 10 s after an interrupt")
	} else if err != nil {
		t.Fatalf("after an interrupt: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "noop-flush")); !os.IsNotExist(err) {
		t.Fatalf("the flush file after exit: %v, want it removed", err)
	}

	out, err := exec.Command(bin, "-addr", "127.0.0.1:0", "-flush", filepath.Join(dir, "missing")).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.HasPrefix(string(out), "noopserver: noop: open ") || strings.Count(string(out), "\n") != 1 {
		t.Fatalf("a missing folder: %v, output %q; want exit code 1 and one line", err, out)
	}
}
