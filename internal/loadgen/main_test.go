package main

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/server"
	"github.com/mlrun/mlrun/store"
)

// TestLoadgen drives a real mlrun server with two write workloads for a
// short while: it exits 0, prints for each a rate, a median and a 99th
// percentile (not below the median), and counts no error; it made only
// the experiment its writes go to (the read workloads' 500 runs are not
// written when no read workload runs).
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
	if f := strings.Fields(lines[0]); !slices.Equal(f, []string{"workload", "req/s", "p50-ms", "p99-ms", "errors"}) {
		t.Fatalf("header %q", lines[0])
	}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != 5 || f[4] != "0" || f[1] == "0.0" {
			t.Fatalf("workload line %q: want a rate and no errors", l)
		}
		p50, err1 := strconv.ParseFloat(f[2], 64)
		p99, err2 := strconv.ParseFloat(f[3], 64)
		if err1 != nil || err2 != nil || p50 <= 0 || p99 < p50 {
			t.Fatalf("workload line %q: want 0 < p50 <= p99", l)
		}
	}
	exps, _, err := srv.Store.SearchExperiments(context.Background(), store.SearchExperiments{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range exps {
		names = append(names, e.Name)
	}
	if len(names) != 2 || !slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "load-writes-") }) {
		t.Fatalf("experiments %q, want Default and the writes' one", names)
	}
}

// TestLoadgenBadFlags: an unknown workload, no clients or no time is
// refused with exit code 2 and a line naming it, before anything is sent
// to the server (here there is none).
func TestLoadgenBadFlags(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "loadgen")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-w", "create-run,nope"}, `-w: no workload "nope" (there are create-run, log-batch-10,`},
		{[]string{"-w", ","}, `-w: no workload ""`},
		{[]string{"-c", "0"}, "-c 0: want at least one client"},
		{[]string{"-d", "0s"}, "-d 0s: want a positive duration"},
	} {
		out, err := exec.Command(bin, append([]string{"-url", "http://127.0.0.1:1"}, c.args...)...).CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("%v: %v, want exit code 2\n%s", c.args, err, out)
		}
		if !strings.Contains(string(out), "loadgen: "+c.want) || strings.Contains(string(out), "connect") {
			t.Errorf("%v: output\n%s\nwant %q and no connection", c.args, out, c.want)
		}
	}
}

// TestLoadgenWriterBusy: against an mlrun server that exposes its
// metrics, loadgen also prints how busy the store's writer was, how
// much of it went to COMMIT, how many writes a commit carried, and how
// long a write waited in the queue and to run again once answered, and
// how many pages a commit wrote to the WAL (its store is SQLite's), for
// the write workloads ("-" for a read workload); TestLoadgen checks a
// server without metrics keeps the five columns.
func TestLoadgenWriterBusy(t *testing.T) {
	srv := testutil.StartServer(t, false, func(o *server.Options) { o.Metrics = server.NewMetrics() })
	out, err := exec.Command("go", "run", ".", "-url", srv.URL, "-c", "3", "-d", "300ms", "-w", "create-run,search-runs-500").CombinedOutput()
	if err != nil {
		t.Fatalf("loadgen: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 3 {
		t.Fatalf("output:\n%s", out)
	}
	if f := strings.Fields(lines[0]); !slices.Equal(f, []string{"workload", "req/s", "p50-ms", "p99-ms", "errors", "writer-%", "commit-%", "writes/commit", "queue-ms", "resume-ms", "pages/commit"}) {
		t.Fatalf("header %q", lines[0])
	}
	f := strings.Fields(lines[1])
	if len(f) != 11 || f[0] != "create-run" {
		t.Fatalf("create-run line %q", lines[1])
	}
	busy, err1 := strconv.ParseFloat(f[5], 64)
	commit, err2 := strconv.ParseFloat(f[6], 64)
	if err1 != nil || err2 != nil || !(busy > 0 && commit > 0 && commit < busy) {
		t.Fatalf("create-run line %q: want 0 < commit-%% < writer-%%", lines[1])
	}
	// Every create-run is a write, and each commit carries one at least.
	if perCommit, err := strconv.ParseFloat(f[7], 64); err != nil || perCommit < 1 {
		t.Fatalf("create-run line %q: want writes/commit >= 1", lines[1])
	}
	// Every create-run waited for the writer thread to take it and, once
	// answered, to run again.
	queue, err1 := strconv.ParseFloat(f[8], 64)
	resume, err2 := strconv.ParseFloat(f[9], 64)
	if err1 != nil || err2 != nil || !(queue > 0 && resume > 0) {
		t.Fatalf("create-run line %q: want queue-ms and resume-ms above 0", lines[1])
	}
	// A new run changes a page of the runs table, and of each of its
	// indexes, at least.
	if pages, err := strconv.ParseFloat(f[10], 64); err != nil || pages < 4 {
		t.Fatalf("create-run line %q: want 4 pages/commit or more", lines[1])
	}
	if f := strings.Fields(lines[2]); len(f) != 11 || f[0] != "search-runs-500" || !slices.Equal(f[5:], []string{"-", "-", "-", "-", "-", "-"}) {
		t.Fatalf("search-runs-500 line %q: want - - - - - - for a read workload", lines[2])
	}
}
