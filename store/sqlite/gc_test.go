package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/sqlite"
)

// TestHardDeleteOnMLflow3Database: on a database upgraded by MLflow 3 (with
// foreign keys from its logged-model tables to experiments), a deleted
// experiment with a run that logged a model output goes in one piece.
func TestHardDeleteOnMLflow3Database(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m3.db")
	testutil.NewMLflow3DB(t, path, t.TempDir())
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	exp, err := st.CreateExperiment(ctx, "e", "", []store.Tag{{Key: "k", Value: "v"}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.CreateRun(ctx, store.CreateRun{ExperimentID: exp})
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.CreateLoggedModel(ctx, store.LoggedModel{ExperimentID: exp, Name: "m", SourceRunID: r.Info.RunID,
		Tags: []store.Tag{{Key: "t", Value: "v"}}, Params: []store.Param{{Key: "p", Value: "v"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.LogOutputs(ctx, r.Info.RunID, []store.ModelOutput{{ModelID: m.ModelID}}); err != nil {
		t.Fatal(err)
	}
	if err := st.HardDeleteExperiment(ctx, exp); !errors.Is(err, store.ErrInvalidArgument) {
		t.Fatalf("hard delete of an active experiment: %v", err)
	}
	if err := st.DeleteExperiment(ctx, exp); err != nil {
		t.Fatal(err)
	}
	if err := st.HardDeleteExperiment(ctx, exp); err != nil {
		t.Fatalf("hard delete: %v", err)
	}
	if _, err := st.GetLoggedModel(ctx, m.ModelID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("logged model after hard delete: %v", err)
	}
	if _, err := st.GetRun(ctx, r.Info.RunID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("run after hard delete: %v", err)
	}
	if _, err := st.GetExperiment(ctx, exp); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("experiment after hard delete: %v", err)
	}
}
