package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/sqlite"
)

// fixtureDB copies the database written by a real MLflow 2.17.2
// (shared/testdata/mlflow-2.17.2/mlflow.db) into t.TempDir().
func fixtureDB(t *testing.T) string {
	t.Helper()
	src := filepath.Join("..", "..", "..", "shared", "testdata", "mlflow-2.17.2", "mlflow.db")
	in, err := os.Open(src)
	if err != nil {
		t.Fatalf("the MLflow 2.17.2 fixture is missing (%v): the repository expects ../shared beside it", err)
	}
	defer in.Close()
	dst := filepath.Join(t.TempDir(), "mlflow.db")
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	out.Close()
	return dst
}

// TestReadsMLflow2172Database opens a database made by MLflow 2.17.2 itself
// and reads back what its README says is in it.
func TestReadsMLflow2172Database(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, fixtureDB(t), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e, err := s.GetExperimentByName(ctx, "wine-quality")
	if err != nil || e.ID != "1" {
		t.Fatalf("wine-quality: %+v %v", e, err)
	}
	if d, err := s.GetExperiment(ctx, "2"); err != nil || d.LifecycleStage != store.LifecycleDeleted {
		t.Fatalf("deleted-one: %+v %v", d, err)
	}
	r, err := s.GetRun(ctx, "7350075c2b7d4c8aa8fff1ab467f84c0")
	if err != nil {
		t.Fatal(err)
	}
	if r.Info.RunName != "elasticnet-0" || r.Info.Status != store.StatusFinished {
		t.Fatalf("run info %+v", r.Info)
	}
	params := map[string]string{}
	for _, p := range r.Params {
		params[p.Key] = p.Value
	}
	if params["alpha"] != "0.5" || params["l1_ratio"] != "0.1" {
		t.Fatalf("params %v", params)
	}
	if v, _ := r.Tag("team"); v != "ml-platform" {
		t.Fatalf("team tag %q", v)
	}
	hist, _, err := s.GetMetricHistory(ctx, r.Info.RunID, "rmse", 0, "")
	if err != nil || len(hist) != 5 {
		t.Fatalf("rmse history %v %v", hist, err)
	}
	for i, m := range hist {
		want := 0.8 - 0.05*float64(i) - 0.5*0.01
		if m.Step != int64(i) || math.Abs(m.Value-want) > 1e-9 {
			t.Fatalf("rmse[%d] = %+v, want %v", i, m, want)
		}
	}
	// The filter grammar over MLflow's rows.
	runs, _, err := s.SearchRuns(ctx, store.SearchRuns{ExperimentIDs: []string{"1"}, Filter: "metrics.r2 > 0.33 and tags.team = 'ml-platform'", OrderBy: []string{"metrics.r2 DESC"}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range runs {
		names = append(names, r.Info.RunName)
	}
	if strings.Join(names, ",") != "elasticnet-2,elasticnet-0" {
		t.Fatalf("search: %v", names)
	}
	child, _, err := s.SearchRuns(ctx, store.SearchRuns{ExperimentIDs: []string{"1"}, Filter: "tags.`mlflow.parentRunId` = '7350075c2b7d4c8aa8fff1ab467f84c0'"})
	if err != nil || len(child) != 1 || child[0].Info.RunName != "child" {
		t.Fatalf("child run: %v %v", child, err)
	}
	nanRun, err := s.GetRun(ctx, "06f7c2860b8a46049ac3c250706bbf41")
	if err != nil || len(nanRun.Metrics) != 1 || !math.IsNaN(nanRun.Metrics[0].Value) {
		t.Fatalf("NaN metric: %+v %v", nanRun, err)
	}
	// mlrun writes into MLflow's database.
	nr, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: "1", RunName: "from-mlrun"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.LogParam(ctx, nr.Info.RunID, store.Param{Key: "alpha", Value: "0.3"}); err != nil {
		t.Fatal(err)
	}
}

func TestRefusesOlderRevision(t *testing.T) {
	path := fixtureDB(t)
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE alembic_version SET version_num = '4465047574b1'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = sqlite.Open(context.Background(), path, sqlite.Options{})
	if err == nil || !strings.Contains(err.Error(), "4465047574b1") || !strings.Contains(err.Error(), sqlite.MLflow2Revision) || !strings.Contains(err.Error(), "mlflow db upgrade") {
		t.Fatalf("older revision: got %v", err)
	}
}

// TestNewDatabaseHasMLflowSchema: a database mlrun creates has exactly
// the tables and columns of the database MLflow 3.6 wrote, at its
// revision; with Revision f5a4f2784254, those of MLflow 2.17.2's.
func TestNewDatabaseHasMLflowSchema(t *testing.T) {
	for _, c := range []struct{ revision, fixture string }{{"", fixture36DB(t)}, {sqlite.MLflow2Revision, fixtureDB(t)}} {
		path := filepath.Join(t.TempDir(), "new.db")
		s, err := sqlite.Open(context.Background(), path, sqlite.Options{Revision: c.revision})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		if got, want := schemaOf(t, path), schemaOf(t, c.fixture); got != want {
			t.Fatalf("revision %q: schema differs from MLflow's:\n got %s\nwant %s", c.revision, got, want)
		}
		want := sqlite.HeadRevision
		if c.revision != "" {
			want = c.revision
		}
		if rev := revisionOf(t, path); rev != want {
			t.Fatalf("alembic_version = %q, want %s", rev, want)
		}
	}
	if _, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "x.db"), sqlite.Options{Revision: "0584bdc529eb"}); err == nil || !strings.Contains(err.Error(), "0584bdc529eb") {
		t.Fatalf("a revision mlrun does not create: %v", err)
	}
}

// TestReopenKeepsEverything writes runs, reopens the file and checks every
// point, param and tag is intact.
func TestReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		hist   []store.Metric
		params []store.Param
		tags   map[string]string
	}
	wants := map[string]want{}
	for i := 0; i < 5; i++ {
		r, err := s.CreateRun(ctx, store.CreateRun{})
		if err != nil {
			t.Fatal(err)
		}
		var w want
		w.tags = map[string]string{"mlflow.runName": r.Info.RunName, "k": string(rune('a' + i))}
		for j := 0; j < 50; j++ {
			w.hist = append(w.hist, store.Metric{Key: "m", Value: float64(i*100 + j), Timestamp: int64(j), Step: int64(j)})
		}
		w.params = []store.Param{{Key: "p", Value: string(rune('A' + i))}}
		if err := s.LogBatch(ctx, r.Info.RunID, w.hist, w.params, []store.Tag{{Key: "k", Value: w.tags["k"]}}); err != nil {
			t.Fatal(err)
		}
		wants[r.Info.RunID] = w
	}
	s.Close()
	s, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for id, w := range wants {
		r, err := s.GetRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		h, _, err := s.GetMetricHistory(ctx, id, "m", 0, "")
		if err != nil || len(h) != len(w.hist) {
			t.Fatalf("history of %s: %d points %v", id, len(h), err)
		}
		for i := range h {
			if h[i] != w.hist[i] {
				t.Fatalf("point %d: %+v want %+v", i, h[i], w.hist[i])
			}
		}
		if len(r.Params) != 1 || r.Params[0] != w.params[0] {
			t.Fatalf("params %v", r.Params)
		}
		if len(r.Tags) != len(w.tags) {
			t.Fatalf("tags %v want %v", r.Tags, w.tags)
		}
		for _, tg := range r.Tags {
			if w.tags[tg.Key] != tg.Value {
				t.Fatalf("tag %s = %q want %q", tg.Key, tg.Value, w.tags[tg.Key])
			}
		}
	}
}

// fixture36DB copies the database written by a real MLflow 3.6
// (shared/testdata/mlflow-3.6/mlflow.db) into t.TempDir().
func fixture36DB(t *testing.T) string {
	t.Helper()
	src := filepath.Join("..", "..", "..", "shared", "testdata", "mlflow-3.6", "mlflow.db")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatalf("the MLflow 3.6 fixture is missing (%v): the repository expects ../shared beside it", err)
	}
	dst := filepath.Join(t.TempDir(), "mlflow.db")
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// schemaOf lists every table with its columns (name, type, not null,
// default, primary key), sorted, mlrun's own indexes aside.
func schemaOf(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT m.name, p.name, p.type, p."notnull", coalesce(p.dflt_value, ''), p.pk
		FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' ORDER BY m.name, p.cid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var table, col, typ, dflt string
		var notnull, pk int
		rows.Scan(&table, &col, &typ, &notnull, &dflt, &pk)
		fmt.Fprintf(&b, "%s.%s %s %d %s %d\n", table, col, typ, notnull, dflt, pk)
	}
	rows.Close()
	// Foreign keys (with their ON DELETE/UPDATE) and MLflow's indexes.
	fks, err := db.Query(`SELECT m.name, f."table", f."from", coalesce(f."to", ''), f.on_update, f.on_delete
		FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table' ORDER BY 1, 2, 3`)
	if err != nil {
		t.Fatal(err)
	}
	defer fks.Close()
	for fks.Next() {
		var a, b2, c, d, e, f string
		fks.Scan(&a, &b2, &c, &d, &e, &f)
		fmt.Fprintf(&b, "fk %s.%s -> %s.%s %s %s\n", a, c, b2, d, e, f)
	}
	idx, err := db.Query(`SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'mlrun_%' AND name NOT LIKE 'sqlite_autoindex_%' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	for idx.Next() {
		var n, tb string
		idx.Scan(&n, &tb)
		fmt.Fprintf(&b, "index %s on %s\n", n, tb)
	}
	return b.String()
}

func revisionOf(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rev string
	if err := db.QueryRow(`SELECT version_num FROM alembic_version`).Scan(&rev); err != nil {
		t.Fatal(err)
	}
	return rev
}
