package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/rest"
)

// TestServerCrashDuringGroupCommits: 16 clients stream log-batches (50
// metric points and a param each) into `mlrun server` on SQLite, so that
// writes are group-committed and merged; the server is killed with SIGKILL in the
// middle. The database passes PRAGMA integrity_check, and after a
// restart every acknowledged batch is there, and every batch is there
// whole or not at all.
func TestServerCrashDuringGroupCommits(t *testing.T) {
	const clients, points = 16, 50
	bin := buildMlrun(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "crash.db")
	args := []string{"--backend-store-uri", "sqlite:///" + db, "--artifacts-destination", filepath.Join(dir, "art"), "--expose-prometheus", dir}
	srv, base, _ := startMlrunServer(t, bin, dir, args...)
	ctx := context.Background()
	c, err := rest.Open(base, rest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	runs := make([]string, clients)
	for i := range runs {
		r, err := c.CreateRun(ctx, store.CreateRun{ExperimentID: "0"})
		if err != nil {
			t.Fatal(err)
		}
		runs[i] = r.Info.RunID
	}
	batch := func(seq int) ([]store.Metric, []store.Param) {
		ms := make([]store.Metric, points)
		for j := range ms {
			ms[j] = store.Metric{Key: "m", Value: float64(j), Timestamp: int64(seq), Step: int64(seq*points + j)}
		}
		return ms, []store.Param{{Key: fmt.Sprint("b", seq), Value: "v"}}
	}
	acked := make([][]int, clients)
	var total atomic.Int64
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl, _ := rest.Open(base, rest.Options{})
			for seq := 0; ; seq++ {
				ms, ps := batch(seq)
				if err := cl.LogBatch(ctx, runs[i], ms, ps, nil); err != nil {
					return // the server is gone
				}
				acked[i] = append(acked[i], seq)
				total.Add(1)
			}
		}()
	}
	waitFor(t, 60*time.Second, "300 acknowledged batches", func() bool { return total.Load() >= 300 })
	// The writes were committed in groups: fewer commits than writes.
	writes, commits := testutil.Scrape(t, base, "mlrun_store_writes_total"), testutil.Scrape(t, base, "mlrun_store_commits_total")
	if commits <= 0 || commits >= writes {
		t.Errorf("%v writes in %v commits: not grouped", writes, commits)
	}
	// And the batches of a group were written merged: the kill lands
	// among merged writes.
	if merged := testutil.Scrape(t, base, "mlrun_store_merged_writes_total"); merged <= 0 {
		t.Errorf("%v writes, none merged", writes)
	}
	if err := srv.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	srv.Wait()
	wg.Wait()

	raw, err := sql.Open("sqlite3", "file:"+db)
	if err != nil {
		t.Fatal(err)
	}
	var check string
	if err := raw.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check after kill -9: %q %v", check, err)
	}
	raw.Close()

	_, base, _ = startMlrunServer(t, bin, dir, args...)
	c, _ = rest.Open(base, rest.Options{})
	for i, id := range runs {
		h, _, err := c.GetMetricHistory(ctx, id, "m", 0, "")
		if err != nil {
			t.Fatal(err)
		}
		perBatch := map[int]int{}
		for _, m := range h {
			perBatch[int(m.Timestamp)]++
		}
		r, err := c.GetRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		params := map[string]bool{}
		for _, p := range r.Params {
			params[p.Key] = true
		}
		for seq, n := range perBatch {
			if n != points || !params[fmt.Sprint("b", seq)] {
				t.Errorf("run %d: batch %d is there in part: %d of %d points, param %v", i, seq, n, points, params[fmt.Sprint("b", seq)])
			}
		}
		if len(params) != len(perBatch) {
			t.Errorf("run %d: %d params but %d batches of metrics", i, len(params), len(perBatch))
		}
		for _, seq := range acked[i] {
			if perBatch[seq] != points {
				t.Errorf("run %d: acknowledged batch %d lost (%d points)", i, seq, perBatch[seq])
			}
		}
	}
	t.Logf("%d batches acknowledged before kill -9; %v writes in %v commits", total.Load(), writes, commits)
}
