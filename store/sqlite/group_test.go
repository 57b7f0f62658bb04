package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/sqlite"
)

// waitFor polls cond until it holds; 10 s without it fails the test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestGroupCommitBadWriteFailsAlone: writes that queue while the writer
// is busy are committed in one transaction; the bad ones among them (a
// changed param after good metrics in the same batch, an unknown run, a
// deleted run) fail with their own error kinds and leave nothing, and
// every good one is committed.
func TestGroupCommitBadWriteFailsAlone(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "mlflow.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{ArtifactRoot: filepath.Join(dir, "mlruns")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	exp, err := s.CreateExperiment(ctx, "group", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	newRun := func() string {
		r, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: exp})
		if err != nil {
			t.Fatal(err)
		}
		return r.Info.RunID
	}
	const good = 8
	runs := make([]string, good)
	for i := range runs {
		runs[i] = newRun()
	}
	fixed, deleted := newRun(), newRun()
	if err := s.LogParam(ctx, fixed, store.Param{Key: "alpha", Value: "1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRun(ctx, deleted); err != nil {
		t.Fatal(err)
	}

	// Another process holds the write lock: the next write (the leader)
	// waits in BEGIN, and the writes after it queue behind it.
	other, err := sql.Open("sqlite3", "file:"+path+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	lock, err := other.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()
	if _, err := lock.ExecContext(ctx, `UPDATE experiments SET last_update_time = last_update_time WHERE experiment_id = 0`); err != nil {
		t.Fatal(err)
	}

	before := s.WriteStats()
	type result struct {
		name string
		err  error
	}
	results := make(chan result, good+4)
	write := func(name string, fn func() error) {
		go func() { results <- result{name, fn()} }()
	}
	write("leader", func() error { return s.SetTag(ctx, runs[0], store.Tag{Key: "first", Value: "yes"}) })
	waitFor(t, "the leader", func() bool { return s.WriteStats().Pending == 1 })
	for i := 0; i < good; i++ {
		write(fmt.Sprint("good", i), func() error {
			return s.LogBatch(ctx, runs[i], []store.Metric{{Key: "m", Value: float64(i), Timestamp: 1, Step: int64(i)}},
				[]store.Param{{Key: "p", Value: fmt.Sprint(i)}}, []store.Tag{{Key: "t", Value: "v"}})
		})
	}
	write("changed-param", func() error {
		// Its metrics are written before the param is found changed.
		return s.LogBatch(ctx, fixed, []store.Metric{{Key: "lost", Value: 1, Timestamp: 1}}, []store.Param{{Key: "alpha", Value: "2"}}, nil)
	})
	write("unknown-run", func() error {
		return s.LogBatch(ctx, "0123456789abcdef0123456789abcdef", []store.Metric{{Key: "m", Value: 1, Timestamp: 1}}, nil, nil)
	})
	write("deleted-run", func() error { return s.LogParam(ctx, deleted, store.Param{Key: "b", Value: "1"}) })
	waitFor(t, "the writes to queue", func() bool { return s.WriteStats().Pending == 1+good+3 })
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}

	errs := map[string]error{}
	for i := 0; i < 1+good+3; i++ {
		r := <-results
		errs[r.name] = r.err
	}
	after := s.WriteStats()
	if n := after.Commits - before.Commits; n != 2 {
		t.Errorf("%d writes took %d commits, want 2 (the leader alone, then one group)", after.Writes-before.Writes, n)
	}
	for name, err := range errs {
		switch name {
		case "changed-param":
			if !errors.Is(err, store.ErrInvalidArgument) {
				t.Errorf("%s: got %v, want an invalid-parameter error", name, err)
			}
		case "unknown-run":
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: got %v, want not found", name, err)
			}
		case "deleted-run":
			if !errors.Is(err, store.ErrInvalidArgument) {
				t.Errorf("%s: got %v, want an invalid-parameter error (MLflow: not active)", name, err)
			}
		default:
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	for i, id := range runs {
		r, err := s.GetRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Metrics) != 1 || r.Metrics[0].Value != float64(i) || len(r.Params) != 1 {
			t.Errorf("run %d: metrics %v params %v, want its batch", i, r.Metrics, r.Params)
		}
	}
	r, err := s.GetRun(ctx, fixed)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Metrics) != 0 {
		t.Errorf("the failed batch left metrics %v", r.Metrics)
	}
	h, _, err := s.GetMetricHistory(ctx, fixed, "lost", 0, "")
	if err != nil || len(h) != 0 {
		t.Errorf("the failed batch left history %v (%v)", h, err)
	}
}
