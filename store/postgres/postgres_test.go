package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/registry/registrytest"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/postgres"
	"github.com/mlrun/mlrun/store/sqlstore"
	"github.com/mlrun/mlrun/store/storetest"
)

// open returns a store on a new database of a real PostgreSQL server.
func open(t *testing.T) store.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), testutil.Postgres(t), postgres.Options{ArtifactRoot: filepath.Join(t.TempDir(), "mlruns")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, open)
}

func TestCollectorConformance(t *testing.T) {
	storetest.RunCollector(t, open)
}

func TestRegistryConformance(t *testing.T) {
	registrytest.Run(t, func(t *testing.T) registrytest.Stores {
		s := open(t)
		return registrytest.Stores{Tracking: s, Registry: s.(registrytest.Registry)}
	})
}

func TestWebhooks(t *testing.T) {
	registrytest.RunWebhooks(t, func(t *testing.T) registrytest.Stores {
		s := open(t)
		return registrytest.Stores{Tracking: s, Registry: s.(registrytest.Registry)}
	})
}

// TestTryExclusive: two stores (two servers) on one database: while one
// runs under a name, the other's TryExclusive does not run; afterwards it
// does.
func TestTryExclusive(t *testing.T) {
	uri := testutil.Postgres(t)
	ctx := context.Background()
	var stores [2]*postgres.Store
	for i := range stores {
		s, err := postgres.Open(ctx, uri, postgres.Options{ArtifactRoot: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	inside, release := make(chan struct{}), make(chan struct{})
	done := make(chan bool)
	go func() {
		ran, err := stores[0].TryExclusive(ctx, "reaper", func() error { close(inside); <-release; return nil })
		if err != nil {
			t.Error(err)
		}
		done <- ran
	}()
	<-inside
	ran, err := stores[1].TryExclusive(ctx, "reaper", func() error { return nil })
	if err != nil || ran {
		t.Fatalf("a second process ran under a held lock: ran=%v err=%v", ran, err)
	}
	if ran, err := stores[1].TryExclusive(ctx, "another", func() error { return nil }); err != nil || !ran {
		t.Fatalf("another name is free: ran=%v err=%v", ran, err)
	}
	close(release)
	if !<-done {
		t.Fatal("the first did not run")
	}
	if ran, err := stores[1].TryExclusive(ctx, "reaper", func() error { return nil }); err != nil || !ran {
		t.Fatalf("after release: ran=%v err=%v", ran, err)
	}
}

// TestHardDelete: gc on PostgreSQL, whose foreign keys are checked at once
// (not deferrable): a deleted run, then a deleted experiment holding runs
// with metrics, params, tags, inputs, a logged model with metrics linked
// to a run, and a trace with tags and an assessment, go in one piece each.
func TestHardDelete(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	col := s.(store.Collector)
	lm := s.(store.LoggedModels)
	tr := s.(store.Traces)
	exp, err := s.CreateExperiment(ctx, "gone", "", []store.Tag{{Key: "k", Value: "v"}})
	if err != nil {
		t.Fatal(err)
	}
	mkRun := func() string {
		r, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: exp})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.LogBatch(ctx, r.Info.RunID, []store.Metric{{Key: "m", Value: 1, Timestamp: 1}}, []store.Param{{Key: "p", Value: "v"}}, []store.Tag{{Key: "t", Value: "v"}}); err != nil {
			t.Fatal(err)
		}
		if err := s.LogInputs(ctx, r.Info.RunID, []store.DatasetInput{{Tags: []store.Tag{{Key: "context", Value: "train"}}, Dataset: store.Dataset{Name: "d", Digest: r.Info.RunID[:8], SourceType: "local", Source: "{}"}}}); err != nil {
			t.Fatal(err)
		}
		return r.Info.RunID
	}
	alone, kept := mkRun(), mkRun()
	m, err := lm.CreateLoggedModel(ctx, store.LoggedModel{ExperimentID: exp, Name: "m", SourceRunID: kept, Params: []store.Param{{Key: "C", Value: "1"}}, Tags: []store.Tag{{Key: "a", Value: "b"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.LogMetric(ctx, kept, store.Metric{Key: "acc", Value: 0.9, Timestamp: 2, ModelID: m.ModelID}); err != nil {
		t.Fatal(err)
	}
	trace, err := tr.StartTrace(ctx, exp, 1, []store.Tag{{Key: "mlflow.sourceRun", Value: kept}}, []store.Tag{{Key: "x", Value: "y"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.(store.Assessments).CreateAssessment(ctx, store.Assessment{TraceID: trace.RequestID, Name: "ok", Type: "feedback", Value: "true", SourceType: "HUMAN", Valid: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRun(ctx, alone); err != nil {
		t.Fatal(err)
	}
	if err := col.HardDeleteRun(ctx, alone); err != nil {
		t.Fatalf("hard delete of a run: %v", err)
	}
	if _, err := s.GetRun(ctx, alone); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the run after hard delete: %v", err)
	}
	if err := s.DeleteExperiment(ctx, exp); err != nil {
		t.Fatal(err)
	}
	if err := col.HardDeleteExperiment(ctx, exp); err != nil {
		t.Fatalf("hard delete of an experiment: %v", err)
	}
	if _, err := s.GetExperiment(ctx, exp); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the experiment after hard delete: %v", err)
	}
	if _, err := lm.GetLoggedModel(ctx, m.ModelID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the logged model after hard delete: %v", err)
	}
	// The name can be used again, as after mlflow gc.
	if _, err := s.CreateExperiment(ctx, "gone", "", nil); err != nil {
		t.Fatalf("reuse the name: %v", err)
	}
}

// TestInIDsHidesTheIDsFromThePlanner: a page's run ids reach PostgreSQL
// as one array behind a subquery, so the plan holds none of them (the
// planner estimated a list's elements one by one against the column's
// most common values: 6-7 ms to plan 500 where runs have many tags), and
// the query still finds every row of those runs and no other.
func TestInIDsHidesTheIDsFromThePlanner(t *testing.T) {
	ctx := context.Background()
	st, db := testutil.PostgresStore(t)
	exp, err := st.CreateExperiment(ctx, "many-tags", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var ids []any
	for i := range 300 {
		r, err := st.CreateRun(ctx, store.CreateRun{ExperimentID: exp})
		if err != nil {
			t.Fatal(err)
		}
		tags := make([]store.Tag, 10)
		for j := range tags {
			tags[j] = store.Tag{Key: fmt.Sprint("t", j), Value: "v"}
		}
		if err := st.LogBatch(ctx, r.Info.RunID, nil, nil, tags); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			ids = append(ids, r.Info.RunID)
		}
	}
	if _, err := db.ExecContext(ctx, `ANALYZE tags`); err != nil {
		t.Fatal(err)
	}
	plan := func(in string, args []any) string {
		rows, err := db.QueryContext(ctx, `EXPLAIN SELECT run_uuid, "key", value FROM tags WHERE run_uuid`+in, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				t.Fatal(err)
			}
			b.WriteString(l + "\n")
		}
		return b.String()
	}
	id := ids[0].(string)
	if p := plan(sqlstore.InList(ids)); !strings.Contains(p, id) {
		t.Fatalf("the list's plan does not name the ids: the check below proves nothing\n%s", p)
	}
	in, args := postgres.InIDs(ids)
	if p := plan(in, args); strings.Contains(p, id) || !strings.Contains(p, "InitPlan") {
		t.Errorf("the plan names the ids, or has no InitPlan holding them:\n%s", p)
	}
	var n, runs int
	if err := db.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT run_uuid) FROM tags WHERE run_uuid`+in, args...).Scan(&n, &runs); err != nil {
		t.Fatal(err)
	}
	if runs != len(ids) || n != 11*len(ids) {
		t.Errorf("%d tags of %d runs, want %d of %d (ten and the run name each)", n, runs, 11*len(ids), len(ids))
	}
}

// TestParamsLoggedAgainNeedNoWrite: on PostgreSQL too, params logged
// again with their values are answered by a read (the statement of
// sqlstore's logged.go runs here), and a changed value or a deleted run
// still goes to the write and gets its error.
func TestParamsLoggedAgainNeedNoWrite(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	writes := func() int64 { return s.(interface{ WriteStats() sqlstore.WriteStats }).WriteStats().Writes }
	exp, err := s.CreateExperiment(ctx, "again", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: exp})
	if err != nil {
		t.Fatal(err)
	}
	run := r.Info.RunID
	ps := []store.Param{{Key: "lr", Value: "0.1"}, {Key: "depth", Value: "3"}}
	if err := s.LogBatch(ctx, run, nil, ps, nil); err != nil {
		t.Fatal(err)
	}
	before := writes()
	if err := s.LogBatch(ctx, run, nil, ps, nil); err != nil {
		t.Fatal(err)
	}
	if n := writes() - before; n != 0 {
		t.Errorf("logged again: %d writes, want none", n)
	}
	err = s.LogBatch(ctx, run, nil, []store.Param{{Key: "lr", Value: "0.2"}}, nil)
	if !errors.Is(err, store.ErrInvalidArgument) || !strings.Contains(err.Error(), "Changing param values is not allowed") {
		t.Errorf("a changed value: %v", err)
	}
	if err := s.DeleteRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	before = writes()
	err = s.LogBatch(ctx, run, nil, ps, nil)
	if !errors.Is(err, store.ErrInvalidArgument) || !strings.Contains(err.Error(), "must be in the 'active' state") {
		t.Errorf("to a deleted run: %v", err)
	}
	if n := writes() - before; n != 1 {
		t.Errorf("to a deleted run: %d writes, want 1", n)
	}
}
