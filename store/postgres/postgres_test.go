package postgres_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/registry/registrytest"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/postgres"
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

func TestRegistryConformance(t *testing.T) {
	registrytest.Run(t, func(t *testing.T) registrytest.Stores {
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
