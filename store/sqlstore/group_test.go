package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/sqlite"
	"github.com/mlrun/mlrun/store/sqlstore"
)

// TestGroupPanicRunsEachAlone: a panic in a group commit outside the
// writes' own work (here, in merging them) rolls the group's transaction
// back and runs each write alone: every write succeeds, none twice, and
// the writer takes the next write as before.
func TestGroupPanicRunsEachAlone(t *testing.T) {
	ctx := context.Background()
	st, exp := sqliteExperiment(t, "panics")
	sqlstore.SetMergeHook(func() { panic("merge hook") })
	defer sqlstore.SetMergeHook(nil)

	// The leader's write holds the writer until the creates have queued
	// behind it, so they are the next group, merged.
	release := make(chan struct{})
	leader := make(chan error, 1)
	go func() {
		leader <- st.Write(ctx, func(context.Context, *sql.Tx) error { <-release; return nil })
	}()
	waitPending(t, st, 1)
	const n = 4
	type created struct {
		run *store.Run
		err error
	}
	results := make(chan created, n)
	for i := 0; i < n; i++ {
		go func() {
			r, err := st.CreateRun(ctx, store.CreateRun{ExperimentID: exp})
			results <- created{r, err}
		}()
	}
	waitPending(t, st, 1+n)
	before := st.WriteStats()
	close(release)
	if err := <-leader; err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		c := <-results
		if c.err != nil {
			t.Fatalf("create %d: %v", i, c.err)
		}
		if _, err := st.GetRun(ctx, c.run.Info.RunID); err != nil {
			t.Fatalf("created run %s: %v", c.run.Info.RunID, err)
		}
	}
	after := st.WriteStats()
	if after.Commits-before.Commits != 1+n || after.Merged != before.Merged {
		t.Errorf("%d commits, %d merged; want the leader's, then each of the %d creates alone", after.Commits-before.Commits, after.Merged-before.Merged, n)
	}
	runs, _, err := st.SearchRuns(ctx, store.SearchRuns{ExperimentIDs: []string{exp}, MaxResults: 100})
	if err != nil || len(runs) != n {
		t.Fatalf("%d runs in the experiment (%v), want %d", len(runs), err, n)
	}
	if err := st.SetTag(ctx, runs[0].Info.RunID, store.Tag{Key: "after", Value: "yes"}); err != nil {
		t.Fatalf("a write after the panic: %v", err)
	}
}

// sqliteExperiment opens a new SQLite store with an experiment named
// name.
func sqliteExperiment(t *testing.T, name string) (*sqlite.Store, string) {
	t.Helper()
	st, _ := testutil.SQLiteStore(t)
	exp, err := st.CreateExperiment(context.Background(), name, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return st, exp
}

// waitPending waits until n writes are in progress; 10 s without fails.
func waitPending(t *testing.T, st interface{ WriteStats() sqlstore.WriteStats }, n int64) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); st.WriteStats().Pending != n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %d writes in progress (%d)", n, st.WriteStats().Pending)
		}
	}
}

// TestWritePanicIsAnError: a write whose work panics gets the error
// "internal error: …" and leaves nothing; its transaction is rolled back,
// so the next write goes through, and on PostgreSQL no connection is left
// idle in the transaction, holding its locks.
func TestWritePanicIsAnError(t *testing.T) {
	ctx := context.Background()
	open := map[string]func(t *testing.T) (*sqlstore.Store, func() int){
		"sqlite": func(t *testing.T) (*sqlstore.Store, func() int) {
			st, _ := testutil.SQLiteStore(t)
			return st.Store, func() int { return 0 }
		},
		"postgres": func(t *testing.T) (*sqlstore.Store, func() int) {
			st, db := testutil.PostgresStore(t)
			return st.Store, func() int {
				var n int
				if err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
		},
	}
	for name, open := range open {
		t.Run(name, func(t *testing.T) {
			st, idleInTx := open(t)
			exp, err := st.CreateExperiment(ctx, "before", "", nil)
			if err != nil {
				t.Fatal(err)
			}
			err = st.Write(ctx, func(ctx context.Context, tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, `UPDATE experiments SET name = 'after' WHERE experiment_id = ?`, exp); err != nil {
					return err
				}
				panic("boom")
			})
			if err == nil || err.Error() != "internal error: boom" {
				t.Fatalf("got %v, want internal error: boom", err)
			}
			if n := idleInTx(); n != 0 {
				t.Errorf("%d connections idle in a transaction after the panic", n)
			}
			e, err := st.GetExperiment(ctx, exp)
			if err != nil || e.Name != "before" {
				t.Fatalf("experiment after the panic: %+v, %v; want its name unchanged", e, err)
			}
			if err := st.RenameExperiment(ctx, exp, "renamed"); err != nil {
				t.Fatalf("a write after the panic: %v", err)
			}
		})
	}
}

// holdLeaders starts n writes that each hold a group commit's transaction
// open until release is called, and returns once all n are inside their
// transactions at once (10 s without fails the test). release lets them
// commit one at a time, each once the writes queued meanwhile have left
// the queue (in the next group, whose leader the committed write chose):
// released together, two leaders finishing at once may each pass the
// lead on and split the queued writes in two groups.
func holdLeaders(t *testing.T, st *sqlstore.Store, n int) (release func()) {
	t.Helper()
	started, done := make(chan struct{}, n), make(chan error, n)
	hold := make([]chan struct{}, n)
	for i := range hold {
		hold[i] = make(chan struct{})
		go func() {
			done <- st.Write(context.Background(), func(context.Context, *sql.Tx) error {
				started <- struct{}{}
				<-hold[i]
				return nil
			})
		}()
	}
	closeAll := func() {
		for _, h := range hold {
			close(h)
		}
	}
	for i := range n {
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			closeAll()
			t.Fatalf("%d of %d writes inside a transaction at once, want all: fewer group commits run in parallel", i, n)
		}
	}
	return func() {
		t.Helper()
		for _, h := range hold {
			close(h)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(10 * time.Second); st.Queued() > 0; time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("%d writes still queued 10 s after a group committed", st.Queued())
				}
			}
		}
	}
}

// TestPostgresGroupCommits: on PostgreSQL two group commits run at once,
// and the writes that queue meanwhile are committed together, each all
// or nothing. The bad ones among them (a changed param after good
// metrics in the same batch, an unknown run, a deleted run) fail with
// their own error kinds and leave nothing, through PostgreSQL's
// savepoints (where any error aborts the transaction); the good ones are
// committed in one transaction. A write that fails as PostgreSQL fails a
// transaction that lost to another (a serialization failure) dooms its
// group: every write of it runs again alone and is committed once.
func TestPostgresGroupCommits(t *testing.T) {
	ctx := context.Background()
	pg, _ := testutil.PostgresStore(t)
	st := pg.Store
	exp, err := st.CreateExperiment(ctx, "groups", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	newRun := func() string {
		r, err := st.CreateRun(ctx, store.CreateRun{ExperimentID: exp})
		if err != nil {
			t.Fatal(err)
		}
		return r.Info.RunID
	}
	const good = 6
	runs := make([]string, good)
	for i := range runs {
		runs[i] = newRun()
	}
	fixed, deleted := newRun(), newRun()
	if err := st.LogParam(ctx, fixed, store.Param{Key: "alpha", Value: "1"}); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteRun(ctx, deleted); err != nil {
		t.Fatal(err)
	}
	// queue runs the writes while two others hold both group commits, so
	// that they wait together, and returns their results by name and how
	// many commits there were.
	queue := func(writes map[string]func() error) (map[string]error, int64) {
		t.Helper()
		release := holdLeaders(t, st, 2)
		before := st.WriteStats()
		type result struct {
			name string
			err  error
		}
		results := make(chan result, len(writes))
		for name, w := range writes {
			go func() { results <- result{name, w()} }()
		}
		waitPending(t, st, 2+int64(len(writes)))
		release()
		errs := map[string]error{}
		for range writes {
			r := <-results
			errs[r.name] = r.err
		}
		return errs, st.WriteStats().Commits - before.Commits
	}

	writes := map[string]func() error{
		"changed-param": func() error {
			return st.LogBatch(ctx, fixed, []store.Metric{{Key: "lost", Value: 1, Timestamp: 1}}, []store.Param{{Key: "alpha", Value: "2"}}, nil)
		},
		"unknown-run": func() error {
			return st.LogBatch(ctx, "0123456789abcdef0123456789abcdef", []store.Metric{{Key: "m", Value: 1, Timestamp: 1}}, nil, nil)
		},
		"deleted-run": func() error { return st.LogParam(ctx, deleted, store.Param{Key: "b", Value: "1"}) },
		"create": func() error {
			_, err := st.CreateRun(ctx, store.CreateRun{ExperimentID: exp, RunName: "grouped"})
			return err
		},
	}
	for i, id := range runs {
		writes[fmt.Sprint("good", i)] = func() error {
			return st.LogBatch(ctx, id, []store.Metric{{Key: "m", Value: float64(i), Timestamp: 1, Step: int64(i)}},
				[]store.Param{{Key: "p", Value: fmt.Sprint(i)}}, []store.Tag{{Key: "t", Value: "v"}})
		}
	}
	errs, commits := queue(writes)
	if commits != 3 {
		t.Errorf("%d commits, want 3 (the two held, then one group of the %d queued)", commits, len(writes))
	}
	for name, err := range errs {
		switch name {
		case "changed-param", "deleted-run":
			if !errors.Is(err, store.ErrInvalidArgument) {
				t.Errorf("%s: got %v, want an invalid-parameter error", name, err)
			}
		case "unknown-run":
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: got %v, want not found", name, err)
			}
		default:
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	for i, id := range runs {
		r, err := st.GetRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Metrics) != 1 || r.Metrics[0].Value != float64(i) || len(r.Params) != 1 {
			t.Errorf("run %d: metrics %v params %v, want its batch", i, r.Metrics, r.Params)
		}
	}
	if h, _, err := st.GetMetricHistory(ctx, fixed, "lost", 0, ""); err != nil || len(h) != 0 {
		t.Errorf("the failed batch left history %v (%v)", h, err)
	}
	if found, _, err := st.SearchRuns(ctx, store.SearchRuns{ExperimentIDs: []string{exp}, Filter: "attributes.run_name = 'grouped'"}); err != nil || len(found) != 1 {
		t.Errorf("the grouped create: %d runs (%v), want 1", len(found), err)
	}

	// A serialization failure: the group runs again, each write alone.
	var tries atomic.Int32
	writes = map[string]func() error{
		"loses-once": func() error {
			return st.Write(ctx, func(ctx context.Context, tx *sql.Tx) error {
				if tries.Add(1) == 1 {
					return &pgconn.PgError{Code: "40001", Message: "could not serialize access due to read/write dependencies among transactions"}
				}
				_, err := tx.ExecContext(ctx, `INSERT INTO tags (key, value, run_uuid) VALUES ('retried', 'yes', ?)`, runs[0])
				return err
			})
		},
	}
	for i, id := range runs {
		writes[fmt.Sprint("good", i)] = func() error { return st.LogParam(ctx, id, store.Param{Key: "q", Value: fmt.Sprint(i)}) }
	}
	errs, commits = queue(writes)
	for name, err := range errs {
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := tries.Load(); n != 2 {
		t.Errorf("the losing write ran %d times, want 2 (in the group, then alone)", n)
	}
	if want := int64(2 + len(writes)); commits != want {
		t.Errorf("%d commits, want %d (the two held, then each queued write alone)", commits, want)
	}
	for i, id := range runs {
		r, err := st.GetRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if p := r.Params; len(p) != 2 || p[1].Key != "q" || p[1].Value != fmt.Sprint(i) {
			t.Errorf("run %d: params %v, want p and q=%d", i, p, i)
		}
	}
	r, err := st.GetRun(ctx, runs[0])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(r.Tags, func(tg store.Tag) bool { return tg.Key == "retried" }) {
		t.Errorf("the retried write's tag is missing: %v", r.Tags)
	}
}

// TestGroupUndoInMemory: on SQLite a group commit keeps its savepoints'
// undo (the sub-journal) in memory, whatever its writes, up to 8 MiB,
// and in a temporary file past that. Seen in the process's open files at
// the commit: SQLite's temporary files are unlinked ("/var/tmp/#…
// (deleted)"). The group's params go between params logged before it,
// so that its undo must hold pages that were there before it: more than
// the 64 KiB SQLite keeps in memory by default. An undo of 12 MB (an
// update of every row of a table of that size, under a savepoint) goes
// to the file, written in parts: the unix VFS writes at most 128 KiB a
// call, and SQLite writes the undo it kept in memory in one.
func TestGroupUndoInMemory(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("needs /proc/self/fd (Linux) to see SQLite's temporary files")
	}
	ctx := context.Background()
	st, exp := sqliteExperiment(t, "undo")
	params := func(odd, from int) []store.Param {
		ps := make([]store.Param, 100)
		for i := range ps {
			ps[i] = store.Param{Key: fmt.Sprintf("k%05d", 2*(from+i)+odd), Value: "v"}
		}
		return ps
	}
	runs := make([]string, 10)
	for i := range runs {
		r, err := st.CreateRun(ctx, store.CreateRun{ExperimentID: exp})
		if err != nil {
			t.Fatal(err)
		}
		runs[i] = r.Info.RunID
		for from := 0; from < 1000; from += 100 {
			if err := st.LogBatch(ctx, runs[i], nil, params(0, from), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	const padRows = 12000 // of 1 kB: 12 MB of pages before the update
	if err := st.Write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE test_pad (id INTEGER PRIMARY KEY, x TEXT NOT NULL);
			WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < ?)
			INSERT INTO test_pad SELECT n, printf('%.*c', 1000, 'a') FROM i`, padRows)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	noop := func(context.Context, *sql.Tx) error { return nil }
	largeUndo := func(ctx context.Context, tx *sql.Tx) error {
		for _, q := range []string{`SAVEPOINT pad`, `UPDATE test_pad SET x = printf('%.*c', 1000, 'b')`, `RELEASE pad`} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}
	var tempFiles []int
	dbDir := filepath.Dir(st.Path()) + string(filepath.Separator)
	sqlstore.SetCommitHook(func() {
		fds, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Error(err)
		}
		n := 0
		for _, fd := range fds {
			// Deleted files outside the database's folder: SQLite's
			// temporary files (store/sqlite's flush reads use an
			// unnamed file in the folder).
			if l, _ := os.Readlink("/proc/self/fd/" + fd.Name()); strings.HasSuffix(l, " (deleted)") && !strings.HasPrefix(l, dbDir) {
				n++
			}
		}
		tempFiles = append(tempFiles, n)
	})
	defer sqlstore.SetCommitHook(nil)

	// group commits the ten runs' batches (at from) and, with other, one
	// more write that is not run data, in one group; it returns the
	// temporary files open at its commit.
	group := func(from int, other func(context.Context, *sql.Tx) error) int {
		t.Helper()
		tempFiles = nil
		release := holdLeaders(t, st.Store, 1)
		errs := make(chan error, len(runs)+1)
		for _, run := range runs {
			go func() { errs <- st.LogBatch(ctx, run, nil, params(1, from), nil) }()
		}
		n := len(runs)
		if other != nil {
			n++
			go func() { errs <- st.Write(ctx, other) }()
		}
		waitPending(t, st, int64(1+n))
		release()
		for range n {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if len(tempFiles) != 1 {
			t.Fatalf("%d group commits, want the queued writes' one", len(tempFiles))
		}
		return tempFiles[0]
	}
	if n := group(0, nil); n != 0 {
		t.Errorf("%d temporary files open at the commit of merged batches, want none (the undo in memory)", n)
	}
	if n := group(100, noop); n != 0 {
		t.Errorf("%d temporary files open at the commit of a group with another write, want none (the undo in memory)", n)
	}
	if n := group(200, largeUndo); n == 0 {
		t.Errorf("no temporary file open at the commit of a group with an undo of 12 MB, want it there")
	}
	if n := group(300, nil); n != 0 {
		t.Errorf("%d temporary files open at the commit of merged batches after a large undo, want none", n)
	}
	for _, run := range runs {
		r, err := st.GetRun(ctx, run)
		if err != nil || len(r.Params) != 1400 {
			t.Fatalf("run %s has %d params (%v), want 1,400", run, len(r.Params), err)
		}
	}
	var updated int
	if err := st.Write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM test_pad WHERE x = printf('%.*c', 1000, 'b')`).Scan(&updated)
	}); err != nil || updated != padRows {
		t.Fatalf("%d rows of the large update (%v), want %d", updated, err, padRows)
	}
}

// TestGroupCommitIsTimed: a group commit's time counts in WriteStats,
// from its BEGIN to the end of its COMMIT, and its COMMIT's as part of
// it (what mlrun_store_write_seconds_total and
// mlrun_store_commit_seconds_total report).
func TestGroupCommitIsTimed(t *testing.T) {
	ctx := context.Background()
	st, exp := sqliteExperiment(t, "timed")
	var before sqlstore.WriteStats
	sqlstore.SetCommitHook(func() { before = st.WriteStats() })
	defer sqlstore.SetCommitHook(nil)
	release := holdLeaders(t, st.Store, 1)
	const n = 4
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := st.CreateRun(ctx, store.CreateRun{ExperimentID: exp})
			errs <- err
		}()
	}
	waitPending(t, st, 1+n)
	release()
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	after := st.WriteStats()
	if after.Commits-before.Commits != 1 {
		t.Fatalf("%d commits after the group's hook, want its own", after.Commits-before.Commits)
	}
	tx, commit := after.TxTime-before.TxTime, after.CommitTime-before.CommitTime
	if !(commit > 0 && commit < tx) {
		t.Errorf("the group took %v, %v of it committing: want both above 0, the commit less", tx, commit)
	}
}

// TestWriteWaitsAreTimed: the time writes wait in the queue for a group,
// and the time from their group's commit to their callers running again,
// count in WriteStats (mlrun_store_write_queue_seconds_total and
// mlrun_store_write_resume_seconds_total): on SQLite, whose writer
// thread answers every write, and on PostgreSQL, whose leaders answer
// the others of their groups.
func TestWriteWaitsAreTimed(t *testing.T) {
	ctx := context.Background()
	for name, open := range map[string]func(t *testing.T) (*sqlstore.Store, int){
		"sqlite": func(t *testing.T) (*sqlstore.Store, int) {
			st, _ := testutil.SQLiteStore(t)
			return st.Store, 1
		},
		"postgres": func(t *testing.T) (*sqlstore.Store, int) {
			pg, _ := testutil.PostgresStore(t)
			return pg.Store, 2
		},
	} {
		t.Run(name, func(t *testing.T) {
			st, leaders := open(t)
			exp, err := st.CreateExperiment(ctx, "waits", "", nil)
			if err != nil {
				t.Fatal(err)
			}
			before := st.WriteStats()
			release := holdLeaders(t, st, leaders)
			const n, hold = 4, 50 * time.Millisecond
			errs := make(chan error, n)
			for range n {
				go func() {
					_, err := st.CreateRun(ctx, store.CreateRun{ExperimentID: exp})
					errs <- err
				}()
			}
			waitPending(t, st, int64(leaders+n))
			time.Sleep(hold)
			release()
			for range n {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			after := st.WriteStats()
			// Each create waited in the queue while the leaders were
			// held, at least hold after all had queued.
			if queued := after.QueueTime - before.QueueTime; queued < n*hold {
				t.Errorf("the writes waited %v in the queue, want at least %v", queued, n*hold)
			}
			if resumed := after.ResumeTime - before.ResumeTime; resumed <= 0 {
				t.Errorf("resume time %v after %d writes answered by another goroutine, want above 0", resumed, n)
			}
		})
	}
}
