package sqlstore_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

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
	st, _ := testutil.SQLiteStore(t)
	exp, err := st.CreateExperiment(ctx, "panics", "", nil)
	if err != nil {
		t.Fatal(err)
	}
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

// waitPending waits until n writes are in progress; 10 s without fails.
func waitPending(t *testing.T, st *sqlite.Store, n int64) {
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
