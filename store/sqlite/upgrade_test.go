package sqlite_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/sqlite"
)

func rowCounts(t *testing.T, path string) map[string]int {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	out := map[string]int{}
	for _, n := range names {
		var c int
		db.QueryRow(`SELECT count(*) FROM "` + n + `"`).Scan(&c)
		out[n] = c
	}
	return out
}

// TestUpgradeMLflow2172Database: mlrun db upgrade brings a copy of the
// database MLflow 2.17.2 wrote to MLflow 3.6's schema (tables and columns
// compared with the database MLflow 3.6 wrote), every row kept, and
// logged models then work on it.
func TestUpgradeMLflow2172Database(t *testing.T) {
	ctx := context.Background()
	path := fixtureDB(t)
	before := rowCounts(t, path)
	res, err := sqlite.Upgrade(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if res.From != sqlite.MLflow2Revision || res.To != sqlite.HeadRevision || len(res.Created) != 15 {
		t.Fatalf("upgrade: %+v", res)
	}
	if got, want := schemaOf(t, path), schemaOf(t, fixture36DB(t)); got != want {
		t.Fatalf("upgraded schema differs from MLflow 3.6's:\n got %s\nwant %s", got, want)
	}
	if rev := revisionOf(t, path); rev != sqlite.HeadRevision {
		t.Fatalf("revision %s", rev)
	}
	after := rowCounts(t, path)
	for table, n := range before {
		if after[table] != n {
			t.Errorf("table %s: %d rows, had %d", table, after[table], n)
		}
	}
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.GetRun(ctx, "7350075c2b7d4c8aa8fff1ab467f84c0")
	if err != nil || r.Info.RunName != "elasticnet-0" {
		t.Fatalf("a run after the upgrade: %+v %v", r, err)
	}
	if v, _ := r.Tag("team"); v != "ml-platform" {
		t.Fatalf("team tag %q", v)
	}
	hist, _, err := s.GetMetricHistory(ctx, r.Info.RunID, "rmse", 0, "")
	if err != nil || len(hist) != 5 {
		t.Fatalf("rmse history %v %v", hist, err)
	}
	if m, err := s.CreateLoggedModel(ctx, store.LoggedModel{ExperimentID: "1", Name: "m", SourceRunID: r.Info.RunID}); err != nil || m.ModelID == "" {
		t.Fatalf("a logged model on the upgraded database: %+v %v", m, err)
	}
	if s.Revision() != sqlite.HeadRevision {
		t.Fatalf("Revision() = %s", s.Revision())
	}
	// Again: nothing to do.
	s.Close()
	if res, err := sqlite.Upgrade(ctx, path); err != nil || res.From != sqlite.HeadRevision || len(res.Created)+len(res.Rebuilt) != 0 {
		t.Fatalf("a second upgrade: %+v %v", res, err)
	}
}

// TestUpgradeRefusesAnOpenDatabase: while a store has the database open,
// Upgrade changes nothing and says why.
func TestUpgradeRefusesAnOpenDatabase(t *testing.T) {
	ctx := context.Background()
	path := fixtureDB(t)
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.GetRun(ctx, "7350075c2b7d4c8aa8fff1ab467f84c0"); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Upgrade(ctx, path); err == nil || !strings.Contains(err.Error(), "another process has") {
		t.Fatalf("upgrade of an open database: %v", err)
	}
	if rev := revisionOf(t, path); rev != sqlite.MLflow2Revision {
		t.Fatalf("revision changed to %s", rev)
	}
}

// TestOpensMLflow36Database reads the database MLflow 3.6 wrote: runs,
// logged models and the registry.
func TestOpensMLflow36Database(t *testing.T) {
	ctx := context.Background()
	path := fixture36DB(t)
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.GetRun(ctx, "5f6d2d27311246c78f96b33b716cdc4a")
	if err != nil || r.Info.RunName != "train-1" || r.Info.Status != store.StatusFinished {
		t.Fatalf("train-1: %+v %v", r, err)
	}
	m, err := s.GetLoggedModel(ctx, "m-bd2ded587a44407892455c38615f9805")
	if err != nil || m.Name != "model" || m.SourceRunID != r.Info.RunID {
		t.Fatalf("logged model: %+v %v", m, err)
	}
	v, err := s.GetModelVersion(ctx, "m", "1")
	if err != nil || v.Source != "models:/m-bd2ded587a44407892455c38615f9805" {
		t.Fatalf("m v1: %+v %v", v, err)
	}
	// Writes keep MLflow 3.6's schema: a run, a trace as MLflow 3 sends
	// it, an assessment of it.
	if _, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: "1"}); err != nil {
		t.Fatal(err)
	}
	tr, err := s.PutTrace(ctx, store.TraceInfo{RequestID: "tr-0123456789abcdef0123456789abcdef", ExperimentID: "1", TimestampMs: 1, ExecutionTimeMs: 2, Status: "OK", RequestPreview: "q"})
	if err != nil || tr.RequestPreview != "q" {
		t.Fatalf("a trace on the 3.6 database: %+v %v", tr, err)
	}
	if _, err := s.CreateAssessment(ctx, store.Assessment{TraceID: tr.RequestID, Name: "ok", Type: "feedback", Value: "true", SourceType: "HUMAN", Valid: true}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if got, want := schemaOf(t, path), schemaOf(t, fixture36DB(t)); got != want {
		t.Fatal("the schema changed after writes")
	}
}

// TestTracesOnMLflow2Schema: MLflow 3's whole-trace upsert works on a
// database at MLflow 2.17.2's schema too (no preview columns: those are
// not kept there).
func TestTracesOnMLflow2Schema(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, fixtureDB(t), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.PutTrace(ctx, store.TraceInfo{RequestID: "tr-1", ExperimentID: "1", TimestampMs: 10, ExecutionTimeMs: 5, Status: "OK", RequestPreview: "x"})
	if err != nil || got.Status != "OK" || got.ExecutionTimeMs != 5 || got.RequestPreview != "" {
		t.Fatalf("put trace on a 2.17.2 database: %+v %v", got, err)
	}
}
