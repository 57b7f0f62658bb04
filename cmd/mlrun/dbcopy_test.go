package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/sqlite"
)

// tableRows returns every row of every table of a SQLite database (but
// alembic_version), each as text, sorted, by table: on the columns of
// cols[table] when given (the source's), else all.
func tableRows(t *testing.T, path string, cols map[string][]string) (map[string][]string, map[string][]string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	names := cols
	if names == nil {
		names = map[string][]string{}
		rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'alembic_version'`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var n string
			rows.Scan(&n)
			names[n] = nil
		}
		rows.Close()
		for n := range names {
			crs, err := db.Query(`SELECT name FROM pragma_table_xinfo(?) WHERE hidden = 0`, n)
			if err != nil {
				t.Fatal(err)
			}
			for crs.Next() {
				var c string
				crs.Scan(&c)
				names[n] = append(names[n], `"`+c+`"`)
			}
			crs.Close()
		}
	}
	out := map[string][]string{}
	for table, cs := range names {
		q := `SELECT ` + strings.Join(cs, ", ") + ` FROM "` + table + `" ORDER BY ` + strings.Join(cs, ", ")
		rows, err := db.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for rows.Next() {
			vals := make([]any, len(cs))
			ptrs := make([]any, len(cs))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			rows.Scan(ptrs...)
			var parts []string
			for _, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				if bv, ok := v.(bool); ok { // a boolean written back as 0/1
					v = map[bool]int64{false: 0, true: 1}[bv]
				}
				parts = append(parts, fmt.Sprintf("%v", v))
			}
			out[table] = append(out[table], strings.Join(parts, "|"))
		}
		rows.Close()
	}
	return out, names
}

// addGenAIRows adds to a database MLflow 3's GenAI rows its fixture
// lacks: scorer versions, and an evaluation dataset with tags, records
// (JSON columns) and a link to an experiment.
func addGenAIRows(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, v := range []string{`{"v": 1}`, `{"v": 2, "note": "naïve ✓"}`} {
		if _, err := st.RegisterScorer(ctx, "1", "judge", v); err != nil {
			t.Fatal(err)
		}
	}
	d, err := st.CreateEvaluationDataset(ctx, "qa", []store.Tag{{Key: "team", Value: "ds"}}, []string{"1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.UpsertDatasetRecords(ctx, d.ID, []json.RawMessage{
		json.RawMessage(`{"inputs": {"q": "é?", "n": [1, 2.5]}, "expectations": {"a": null}, "outputs": {"x": true}, "tags": {"mlflow.user": "u"}}`),
		json.RawMessage(`{"inputs": {"q": 2}, "source": {"source_type": "TRACE", "source_data": {"trace_id": "tr-9"}}}`),
	}); err != nil {
		t.Fatal(err)
	}
}

// TestDBCopyRoundTrip: the databases MLflow 2.17.2 and MLflow 3.6 wrote
// (copies) go to PostgreSQL with `mlrun db copy` and back into a new
// SQLite file; every row of every table comes back the same (ids, times,
// registry, logged models, traces, and MLflow 3's scorers and evaluation
// datasets added to the 3.6 copy). A non-empty destination is refused
// and left as it was.
func TestDBCopyRoundTrip(t *testing.T) {
	for _, fixture := range []string{"mlflow-2.17.2", "mlflow-3.6"} {
		t.Run(fixture, func(t *testing.T) {
			src := filepath.Join(t.TempDir(), "mlflow.db")
			b, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "testdata", fixture, "mlflow.db"))
			if err != nil {
				t.Fatalf("the %s fixture is missing: %v", fixture, err)
			}
			os.WriteFile(src, b, 0o644)
			if fixture == "mlflow-3.6" {
				addGenAIRows(t, src)
			}
			want, cols := tableRows(t, src, nil)
			pg := testutil.Postgres(t)
			out := mustRun(t, "db", "copy", "sqlite:///"+src, pg)
			if !strings.Contains(out, "Copied ") || !strings.Contains(out, "runs ") {
				t.Fatalf("db copy to PostgreSQL: %s", out)
			}
			// The copy analyzed what it wrote: PostgreSQL's planner knows
			// how many runs there are (-1 before a table's first ANALYZE).
			db, err := sql.Open("pgx", pg)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var runs, reltuples float64
			if err := db.QueryRow(`SELECT (SELECT count(*) FROM runs), reltuples FROM pg_class WHERE relname = 'runs'`).Scan(&runs, &reltuples); err != nil {
				t.Fatal(err)
			}
			if runs == 0 || reltuples != runs {
				t.Errorf("after the copy pg_class says %v runs, the table has %v: not analyzed", reltuples, runs)
			}
			if cur := mustRun(t, "db", "current", pg); !strings.HasPrefix(cur, "bf29a5ff90ea") {
				t.Fatalf("db current on PostgreSQL: %s", cur)
			}
			if _, err := mlrun(t, "db", "upgrade", pg); err == nil || !strings.Contains(err.Error(), "mlflow db upgrade") {
				t.Fatalf("db upgrade on PostgreSQL: %v", err)
			}
			back := filepath.Join(t.TempDir(), "back.db")
			mustRun(t, "db", "copy", pg, "sqlite:///"+back)
			got, _ := tableRows(t, back, cols)
			n := 0
			for table, rows := range want {
				n += len(rows)
				if strings.Join(got[table], "\n") != strings.Join(rows, "\n") {
					t.Errorf("table %s after SQLite -> PostgreSQL -> SQLite:\n got %d rows: %.600s\nwant %d rows: %.600s", table, len(got[table]), strings.Join(got[table], "\n"), len(rows), strings.Join(rows, "\n"))
				}
			}
			if n < 20 {
				t.Fatalf("the fixture has only %d rows: the comparison proves little", n)
			}
			// Copying again into the now full database is refused, and it
			// keeps what it had.
			_, err = mlrun(t, "db", "copy", "sqlite:///"+src, "sqlite:///"+back)
			if err == nil || !strings.Contains(err.Error(), "not empty") {
				t.Fatalf("copy into a non-empty database: %v", err)
			}
			again, _ := tableRows(t, back, cols)
			for table := range want {
				if len(again[table]) != len(got[table]) {
					t.Fatalf("a refused copy changed %s", table)
				}
			}
		})
	}
}
