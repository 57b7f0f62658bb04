package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/store"
)

// RunCollector runs the suite of store.Collector, what `mlrun gc` needs,
// against the stores open returns (the stores on a database).
func RunCollector(t *testing.T, open Opener) {
	t.Run("HardDeleteLoggedModel", func(t *testing.T) { testHardDeleteLoggedModel(t, open(t)) })
	t.Run("HardDeleteExperimentWithScorers", func(t *testing.T) { testHardDeleteExperimentWithScorers(t, open(t)) })
}

// testHardDeleteExperimentWithScorers: a deleted experiment's registered
// scorers go with it (MLflow's scorer_versions rows too: the database
// checks their foreign keys at commit), and another experiment's stay; an
// evaluation dataset it shared with another experiment stays, linked to
// that one only.
func testHardDeleteExperimentWithScorers(t *testing.T, s store.Store) {
	col, isCol := s.(store.Collector)
	sc, isScorers := s.(store.Scorers)
	if !isCol || !isScorers {
		t.Fatalf("the store lacks gc (%v) or scorers (%v)", isCol, isScorers)
	}
	gone, kept := newExp(t, s, "gc-scorers"), newExp(t, s, "gc-scorers-kept")
	for _, exp := range []string{gone, kept} {
		for range 2 {
			must[*store.Scorer](t)(sc.RegisterScorer(ctx(), exp, "judge", `{"name": "judge"}`))
		}
	}
	ds := s.(store.EvaluationDatasets)
	shared := must[*store.EvaluationDataset](t)(ds.CreateEvaluationDataset(ctx(), "shared", nil, []string{gone, kept}))
	ok(t, s.DeleteExperiment(ctx(), gone))
	ok(t, col.HardDeleteExperiment(ctx(), gone))
	_, err := sc.ListScorers(ctx(), gone)
	wantKind(t, err, store.ErrNotFound)
	if vs := must[[]*store.Scorer](t)(sc.ListScorerVersions(ctx(), kept, "judge")); len(vs) != 2 {
		t.Errorf("the other experiment's scorer has %d versions, want 2", len(vs))
	}
	// A dataset linked to it stays, linked to the others only.
	if ids := must[[]string](t)(ds.DatasetExperimentIDs(ctx(), shared.ID)); len(ids) != 1 || ids[0] != kept {
		t.Errorf("the shared dataset's experiments after the hard delete: %v, want [%s]", ids, kept)
	}
}

// testHardDeleteLoggedModel: a deleted logged model goes with its tags,
// params, metrics and links to runs; an active one, one a model version
// is registered from (until that version is deleted) and an unknown one
// are refused, each with its kind of error, and change nothing.
func testHardDeleteLoggedModel(t *testing.T, s store.Store) {
	col, isCol := s.(store.Collector)
	lm, isLM := s.(store.LoggedModels)
	reg, isReg := s.(registry.Store)
	if !isCol || !isLM || !isReg {
		t.Fatalf("the store lacks gc (%v), logged models (%v) or the registry (%v)", isCol, isLM, isReg)
	}
	exp := newExp(t, s, "gc-models")
	r := newRun(t, s, exp)
	mk := func() *store.LoggedModel {
		m := must[*store.LoggedModel](t)(lm.CreateLoggedModel(ctx(), store.LoggedModel{ExperimentID: exp, Name: "model", SourceRunID: r.Info.RunID,
			Params: []store.Param{{Key: "alpha", Value: "0.5"}}, Tags: []store.Tag{{Key: "team", Value: "ds"}}}))
		ok(t, s.LogBatch(ctx(), r.Info.RunID, []store.Metric{{Key: "acc", Value: 0.9, Timestamp: 1, ModelID: m.ModelID}}, nil, nil))
		ok(t, lm.LogOutputs(ctx(), r.Info.RunID, []store.ModelOutput{{ModelID: m.ModelID}}))
		ok(t, lm.LogModelInputs(ctx(), r.Info.RunID, []string{m.ModelID}))
		return m
	}
	gone, active, registered := mk(), mk(), mk()
	must[*registry.RegisteredModel](t)(reg.CreateRegisteredModel(ctx(), "gc-m", nil, ""))
	v := must[*registry.ModelVersion](t)(reg.CreateModelVersion(ctx(), registry.CreateVersion{Name: "gc-m", Source: "models:/" + registered.ModelID}))
	ok(t, lm.DeleteLoggedModel(ctx(), gone.ModelID))
	ok(t, lm.DeleteLoggedModel(ctx(), registered.ModelID))

	deleted := must[[]store.DeletedLoggedModel](t)(col.DeletedLoggedModels(ctx()))
	byID := map[string]store.DeletedLoggedModel{}
	for _, d := range deleted {
		byID[d.ModelID] = d
	}
	if len(deleted) != 2 || byID[gone.ModelID].ArtifactURI != gone.ArtifactURI || byID[gone.ModelID].Deleted == 0 ||
		len(byID[gone.ModelID].Versions) != 0 || !slices.Equal(byID[registered.ModelID].Versions, []string{`"gc-m" version ` + v.Version}) {
		t.Fatalf("deleted logged models: %+v", deleted)
	}

	for _, tc := range []struct {
		id, want string
		kind     error
	}{
		{active.ModelID, "is not in `deleted` lifecycle stage", store.ErrInvalidArgument},
		{registered.ModelID, `holds the files of registered model "gc-m" version ` + v.Version, store.ErrInvalidArgument},
		{"m-0123456789abcdef0123456789abcdef", "not found", store.ErrNotFound},
	} {
		if err := col.HardDeleteLoggedModel(ctx(), tc.id); !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("hard delete %s: %v, want %v saying %q", tc.id, err, tc.kind, tc.want)
		}
	}
	ok(t, col.HardDeleteLoggedModel(ctx(), gone.ModelID))
	if _, err := col.DeletedLoggedModels(ctx()); err != nil {
		t.Fatal(err)
	}
	run := must[*store.Run](t)(s.GetRun(ctx(), r.Info.RunID))
	var outputs []string
	for _, o := range run.Outputs {
		outputs = append(outputs, o.ModelID)
	}
	for _, ids := range [][]string{outputs, run.ModelInputs} {
		if slices.Contains(ids, gone.ModelID) || !slices.Contains(ids, active.ModelID) || !slices.Contains(ids, registered.ModelID) {
			t.Errorf("the run's links to models after the hard delete: %v", ids)
		}
	}
	if m := must[*store.LoggedModel](t)(lm.GetLoggedModel(ctx(), active.ModelID)); len(m.Params) != 1 || len(m.Tags) != 1 || len(m.Metrics) != 1 {
		t.Errorf("the active model lost data: %+v", m)
	}
	deleted = must[[]store.DeletedLoggedModel](t)(col.DeletedLoggedModels(ctx()))
	if len(deleted) != 1 || deleted[0].ModelID != registered.ModelID {
		t.Fatalf("deleted logged models after the hard delete: %+v", deleted)
	}

	// Once its version is deleted, the registered model's files may go.
	ok(t, reg.DeleteModelVersion(ctx(), "gc-m", v.Version))
	if d := must[[]store.DeletedLoggedModel](t)(col.DeletedLoggedModels(ctx())); len(d) != 1 || len(d[0].Versions) != 0 {
		t.Fatalf("after its version was deleted: %+v", d)
	}
	ok(t, col.HardDeleteLoggedModel(ctx(), registered.ModelID))
	if d := must[[]store.DeletedLoggedModel](t)(col.DeletedLoggedModels(ctx())); len(d) != 0 {
		t.Fatalf("deleted logged models left: %+v", d)
	}
	if err := col.HardDeleteLoggedModel(ctx(), gone.ModelID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("hard delete twice: %v", err)
	}
}
