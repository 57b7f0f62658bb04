package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/sqlite"
	"github.com/mlrun/mlrun/store/sqlstore"
)

// groupStore opens a new database for a group commit test, with a new
// experiment named name.
func groupStore(t *testing.T, name string) (s *sqlite.Store, path, exp string) {
	t.Helper()
	dir := t.TempDir()
	path = filepath.Join(dir, "mlflow.db")
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{ArtifactRoot: filepath.Join(dir, "mlruns")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if exp, err = s.CreateExperiment(context.Background(), name, "", nil); err != nil {
		t.Fatal(err)
	}
	return s, path, exp
}

// beginOnFile begins a write transaction (BEGIN IMMEDIATE) on the
// database file at path through a connection of its own, as another
// process would; done rolls back what was not committed and closes it.
func beginOnFile(tb testing.TB, path string) (tx *sql.Tx, done func()) {
	tb.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_txlock=immediate&_busy_timeout=30000")
	if err != nil {
		tb.Fatal(err)
	}
	if tx, err = db.BeginTx(context.Background(), nil); err != nil {
		db.Close()
		tb.Fatal(err)
	}
	return tx, func() {
		tx.Rollback()
		db.Close()
	}
}

// queued runs writes while another process holds the database's write
// lock, so that they are one group commit: the leader's write waits in
// BEGIN and the others queue behind it; then the lock is let go. The
// writes are the named ones and n more made by nth (named "good0"…). It
// returns each write's result by name, and the change in the store's
// write counts.
func queued(t *testing.T, s *sqlite.Store, path string, leader func() error, named map[string]func() error, n int, nth func(int) func() error) (map[string]error, sqlstore.WriteStats) {
	t.Helper()
	ctx := context.Background()
	lock, done := beginOnFile(t, path)
	defer done()
	if _, err := lock.ExecContext(ctx, `UPDATE experiments SET last_update_time = last_update_time WHERE experiment_id = 0`); err != nil {
		t.Fatal(err)
	}
	before := s.WriteStats()
	type result struct {
		name string
		err  error
	}
	results := make(chan result, 1+len(named)+n)
	write := func(name string, fn func() error) {
		go func() { results <- result{name, fn()} }()
	}
	write("leader", leader)
	// The writer has taken the leader off the queue (its wait is counted
	// then) and waits in BEGIN: the writes that queue now are the next
	// group, however late the writer thread got to run.
	waitFor(t, "the writer to take the leader", func() bool {
		st := s.WriteStats()
		return st.Pending == 1 && st.QueueTime > before.QueueTime
	})
	for i := 0; i < n; i++ {
		write(fmt.Sprint("good", i), nth(i))
	}
	for name, fn := range named {
		write(name, fn)
	}
	total := 1 + len(named) + n
	waitFor(t, "the writes to queue", func() bool { return s.WriteStats().Pending == int64(total) })
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	errs := map[string]error{}
	for i := 0; i < total; i++ {
		r := <-results
		errs[r.name] = r.err
	}
	after := s.WriteStats()
	return errs, sqlstore.WriteStats{Writes: after.Writes - before.Writes, Commits: after.Commits - before.Commits, Merged: after.Merged - before.Merged}
}

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
	s, path, exp := groupStore(t, "group")
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

	errs, d := queued(t, s, path, func() error { return s.SetTag(ctx, runs[0], store.Tag{Key: "first", Value: "yes"}) }, map[string]func() error{
		"changed-param": func() error {
			// Its metrics are written before the param is found changed.
			return s.LogBatch(ctx, fixed, []store.Metric{{Key: "lost", Value: 1, Timestamp: 1}}, []store.Param{{Key: "alpha", Value: "2"}}, nil)
		},
		"unknown-run": func() error {
			return s.LogBatch(ctx, "0123456789abcdef0123456789abcdef", []store.Metric{{Key: "m", Value: 1, Timestamp: 1}}, nil, nil)
		},
		"deleted-run": func() error { return s.LogParam(ctx, deleted, store.Param{Key: "b", Value: "1"}) },
	}, good, func(i int) func() error {
		return func() error {
			return s.LogBatch(ctx, runs[i], []store.Metric{{Key: "m", Value: float64(i), Timestamp: 1, Step: int64(i)}},
				[]store.Param{{Key: "p", Value: fmt.Sprint(i)}}, []store.Tag{{Key: "t", Value: "v"}})
		}
	})
	if d.Commits != 2 {
		t.Errorf("%d writes took %d commits, want 2 (the leader alone, then one group)", d.Writes, d.Commits)
	}
	// The changed param is found only by trying: the merged writes were
	// rolled back and each ran alone.
	if d.Merged != 0 {
		t.Errorf("%d writes committed merged, want none (a changed param among them)", d.Merged)
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

// TestGroupCommitMergesWrites: creates and log-batches that queue together
// are committed merged (one multi-row statement per table for them all),
// and each gets what it would have alone: a created run is the one GetRun
// reads back; a batch's params, metrics (the latest by step), tags (a
// runName tag renames the run) are there. Writes among them that their
// checks refuse (a deleted or unknown experiment, an unknown run) fail
// with their own error kinds, and the rest are merged all the same. A
// batch of many rows is committed in the group but not merged.
func TestGroupCommitMergesWrites(t *testing.T) {
	ctx := context.Background()
	s, path, exp := groupStore(t, "merged")
	gone, err := s.CreateExperiment(ctx, "gone", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteExperiment(ctx, gone); err != nil {
		t.Fatal(err)
	}
	const n = 6
	runs := make([]string, n)
	for i := range runs {
		r, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: exp, Tags: []store.Tag{{Key: "t", Value: "old"}}})
		if err != nil {
			t.Fatal(err)
		}
		runs[i] = r.Info.RunID
	}
	// A batch of many rows is not merged (its rows, not its statements,
	// are its cost), but is committed in the group all the same.
	lr, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: exp})
	if err != nil {
		t.Fatal(err)
	}
	large := lr.Info.RunID
	largeBatch := make([]store.Metric, 200)
	for i := range largeBatch {
		largeBatch[i] = store.Metric{Key: "big", Value: float64(i), Timestamp: 1, Step: int64(i)}
	}
	created := make([]*store.Run, n)
	errs, d := queued(t, s, path, func() error { return s.SetTag(ctx, runs[0], store.Tag{Key: "first", Value: "yes"}) }, map[string]func() error{
		"deleted-experiment": func() error { _, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: gone}); return err },
		"unknown-experiment": func() error { _, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: "987654"}); return err },
		"unknown-run": func() error {
			return s.LogBatch(ctx, "0123456789abcdef0123456789abcdef", nil, []store.Param{{Key: "a", Value: "1"}}, nil)
		},
		"large": func() error { return s.LogBatch(ctx, large, largeBatch, nil, nil) },
	}, 2*n, func(i int) func() error {
		if i < n {
			return func() error {
				r, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: exp, RunName: fmt.Sprint("c", i), UserID: "alice",
					Tags: []store.Tag{{Key: "k", Value: "1"}, {Key: "k", Value: fmt.Sprint(i)}, {Key: "mlflow.user", Value: "alice"}}})
				created[i] = r
				return err
			}
		}
		i -= n
		return func() error {
			tags := []store.Tag{{Key: "t", Value: fmt.Sprint("new", i)}}
			if i == 0 {
				tags = append(tags, store.Tag{Key: "mlflow.runName", Value: "renamed"})
			}
			return s.LogBatch(ctx, runs[i],
				[]store.Metric{{Key: "m", Value: 2, Timestamp: 5, Step: 2}, {Key: "m", Value: 1, Timestamp: 9, Step: 1}, {Key: "m", Value: 2, Timestamp: 5, Step: 2}},
				[]store.Param{{Key: "p", Value: fmt.Sprint(i)}, {Key: "q", Value: "x"}}, tags)
		}
	})
	if d.Commits != 2 || d.Merged != 2*n { // not the large batch
		t.Errorf("%d writes: %d commits, %d merged; want 2 commits (the leader alone, then one group), %d merged", d.Writes, d.Commits, d.Merged, 2*n)
	}
	for name, err := range errs {
		var want error
		switch name {
		case "deleted-experiment":
			want = store.ErrInvalidArgument
		case "unknown-experiment", "unknown-run":
			want = store.ErrNotFound
		}
		if (want == nil && err != nil) || (want != nil && !errors.Is(err, want)) {
			t.Errorf("%s: got %v, want %v", name, err, want)
		}
	}
	for i, c := range created {
		got, err := s.GetRun(ctx, c.Info.RunID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Info != c.Info || fmt.Sprint(got.Tags) != fmt.Sprint(c.Tags) || c.Info.ExperimentID != exp || c.Info.RunName != fmt.Sprint("c", i) {
			t.Errorf("created %+v %v, read back %+v %v", c.Info, c.Tags, got.Info, got.Tags)
		}
		if v, _ := got.Tag("k"); v != fmt.Sprint(i) || len(got.Tags) != 3 {
			t.Errorf("created run %d has tags %v, want k=%d (its last), mlflow.user, mlflow.runName", i, got.Tags, i)
		}
	}
	for i, id := range runs {
		got, err := s.GetRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Metrics) != 1 || got.Metrics[0].Step != 2 || got.Metrics[0].Value != 2 {
			t.Errorf("run %d: latest metrics %v, want m=2 at step 2", i, got.Metrics)
		}
		if fmt.Sprint(got.Params) != fmt.Sprint([]store.Param{{Key: "p", Value: fmt.Sprint(i)}, {Key: "q", Value: "x"}}) {
			t.Errorf("run %d: params %v", i, got.Params)
		}
		if v, _ := got.Tag("t"); v != fmt.Sprint("new", i) {
			t.Errorf("run %d: tag t = %q", i, v)
		}
		if h, _, err := s.GetMetricHistory(ctx, id, "m", 0, ""); err != nil || len(h) != 2 {
			t.Errorf("run %d: history %v (%v), want its 2 points", i, h, err)
		}
	}
	if h, _, err := s.GetMetricHistory(ctx, large, "big", 0, ""); err != nil || len(h) != len(largeBatch) {
		t.Errorf("the large batch: %d points (%v), want %d", len(h), err, len(largeBatch))
	}
	if r, _ := s.GetRun(ctx, runs[0]); r.Info.RunName != "renamed" {
		t.Errorf("a merged mlflow.runName tag left the run named %q", r.Info.RunName)
	}
}

// TestGroupCommitMergesParamsLoggedAgain: batches that log params again
// with the values they have (as a retried request does), beside new ones,
// are merged in their group like any other: each succeeds and its run
// has its params once. (A changed value in a group makes each write run
// alone: TestGroupCommitBadWriteFailsAlone.)
func TestGroupCommitMergesParamsLoggedAgain(t *testing.T) {
	ctx := context.Background()
	s, path, exp := groupStore(t, "again")
	const n = 6
	runs := make([]string, n)
	for i := range runs {
		r, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: exp})
		if err != nil {
			t.Fatal(err)
		}
		runs[i] = r.Info.RunID
		if err := s.LogBatch(ctx, runs[i], nil, []store.Param{{Key: "p", Value: fmt.Sprint(i)}, {Key: "q", Value: "x"}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	errs, d := queued(t, s, path, func() error { return s.SetTag(ctx, runs[0], store.Tag{Key: "first", Value: "yes"}) }, nil, n, func(i int) func() error {
		return func() error {
			return s.LogBatch(ctx, runs[i], nil, []store.Param{{Key: "p", Value: fmt.Sprint(i)}, {Key: "new", Value: fmt.Sprint("n", i)}, {Key: "q", Value: "x"}}, nil)
		}
	})
	if d.Commits != 2 || d.Merged != n {
		t.Errorf("%d writes: %d commits, %d merged; want 2 commits (the leader alone, then one group), %d merged", d.Writes, d.Commits, d.Merged, n)
	}
	for name, err := range errs {
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for i, id := range runs {
		got, err := s.GetRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if want := []store.Param{{Key: "new", Value: fmt.Sprint("n", i)}, {Key: "p", Value: fmt.Sprint(i)}, {Key: "q", Value: "x"}}; fmt.Sprint(got.Params) != fmt.Sprint(want) {
			t.Errorf("run %d: params %v, want %v", i, got.Params, want)
		}
	}
}

// TestGroupLeaderAloneWaitsForRunnableWrites: a write that finds the
// writer free and nothing else queued (on SQLite, the writer goroutine
// that finds one write alone) lets runnable goroutines go first,
// so a write on its way (here: a goroutine started just before, with one
// processor, that has not run yet) joins its group: one commit for both,
// not one each.
func TestGroupLeaderAloneWaitsForRunnableWrites(t *testing.T) {
	s, _, exp := groupStore(t, "alone")
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	ctx := context.Background()
	for round := range 20 {
		before := s.WriteStats()
		errc := make(chan error, 1)
		go func() {
			_, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: exp})
			errc <- err
		}()
		if _, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: exp}); err != nil {
			t.Fatal(err)
		}
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		after := s.WriteStats()
		if c, w := after.Commits-before.Commits, after.Writes-before.Writes; c != 1 || w != 2 {
			t.Fatalf("round %d: %d writes in %d commits, want 2 in 1", round, w, c)
		}
	}
}

// TestParamsLoggedAgainNeedNoWrite: a params-only batch of params the
// store has committed, with their values, is answered by a read, with no
// write transaction; whatever else (a changed value, a new param, a
// metric, a deleted run, params another process wrote, a run another
// process removed) goes on to the write and gets its answer there.
func TestParamsLoggedAgainNeedNoWrite(t *testing.T) {
	ctx := context.Background()
	s, path, exp := groupStore(t, "again")
	newRun := func(s *sqlite.Store) string {
		r, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: exp})
		if err != nil {
			t.Fatal(err)
		}
		return r.Info.RunID
	}
	var ps []store.Param
	for i := range 10 {
		ps = append(ps, store.Param{Key: fmt.Sprint("p", i), Value: fmt.Sprint("v", i)})
	}
	// logs checks what a batch returns (nil, or an error of kind and
	// with text) and whether it was a write (writes 1) or answered by a
	// read (writes 0, counted as unchanged).
	logs := func(what, run string, ms []store.Metric, batch []store.Param, writes int64, kind error, text string) {
		t.Helper()
		before := s.WriteStats()
		err := s.LogBatch(ctx, run, ms, batch, nil)
		switch {
		case kind == nil && err != nil:
			t.Errorf("%s: %v", what, err)
		case kind != nil && (!errors.Is(err, kind) || !strings.Contains(fmt.Sprint(err), text)):
			t.Errorf("%s: error %v, want %v with %q", what, err, kind, text)
		}
		after := s.WriteStats()
		if got := after.Writes - before.Writes; got != writes {
			t.Errorf("%s: %d writes, want %d", what, got, writes)
		}
		if got := after.Unchanged - before.Unchanged; got != 1-writes {
			t.Errorf("%s: %d unchanged, want %d", what, got, 1-writes)
		}
	}
	run := newRun(s)
	logs("first", run, nil, ps, 1, nil, "")
	logs("again", run, nil, ps, 0, nil, "")
	logs("some of them again", run, nil, ps[3:5], 0, nil, "")
	if err := s.LogParam(ctx, run, ps[7]); err != nil {
		t.Fatal(err)
	}
	logs("a changed value", run, nil, []store.Param{ps[0], {Key: "p1", Value: "other"}}, 1, store.ErrInvalidArgument, "Changing param values is not allowed")
	logs("a new one beside them", run, nil, []store.Param{ps[0], {Key: "new", Value: "n"}}, 1, nil, "")
	logs("with a metric", run, []store.Metric{{Key: "m", Value: 1, Timestamp: 1}}, ps[:1], 1, nil, "")
	if got, err := s.GetRun(ctx, run); err != nil || len(got.Params) != 11 || !slices.Contains(got.Params, ps[1]) {
		t.Fatalf("params %v (%v), want the ten and new, p1 unchanged", got.Params, err)
	}
	if err := s.DeleteRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	logs("to a deleted run", run, nil, ps, 1, store.ErrInvalidArgument, "must be in the 'active' state")
	if err := s.RestoreRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	logs("restored", run, nil, ps, 0, nil, "")

	// Another process's store on the file: its params are news to this
	// one, until it has written (here: found) them itself.
	other, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	theirs := newRun(other)
	if err := other.LogBatch(ctx, theirs, nil, ps, nil); err != nil {
		t.Fatal(err)
	}
	logs("written by another process", theirs, nil, ps, 1, nil, "")
	logs("then again", theirs, nil, ps, 0, nil, "")
	// Behind the store's back, a value changes (a hand edit), then the
	// run goes (another process's gc): what this store remembers is no
	// answer; the read sees each, and the write says what it is.
	onFile := func(qs ...string) {
		t.Helper()
		tx, done := beginOnFile(t, path)
		defer done()
		for _, q := range qs {
			if _, err := tx.ExecContext(ctx, q, theirs); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	onFile(`UPDATE params SET value = 'edited' WHERE run_uuid = ? AND "key" = 'p2'`)
	logs("a value edited", theirs, nil, ps, 1, store.ErrInvalidArgument, "Changing param values is not allowed")
	onFile(`DELETE FROM params WHERE run_uuid = ?`, `DELETE FROM tags WHERE run_uuid = ?`, `DELETE FROM runs WHERE run_uuid = ?`)
	logs("to a run removed", theirs, nil, ps, 1, store.ErrNotFound, "not found")
}
