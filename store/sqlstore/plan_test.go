package sqlstore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/sqlite"
	"github.com/mlrun/mlrun/store/sqlstore"
)

// plan returns SQLite's EXPLAIN QUERY PLAN of query, one step a line.
func plan(t *testing.T, db *sql.DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		steps = append(steps, detail)
	}
	return strings.Join(steps, "\n")
}

// TestQueriesReadIndexes: on SQLite, a runs search in the default order
// (start_time DESC, then run id) reads its page off the index
// mlrun_runs_experiment_order, with no sort of the experiment's runs, so
// its time does not grow with the experiment; a metric's history is one
// range of mlrun_metrics_history, in order.
func TestQueriesReadIndexes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "mlflow.db"), sqlite.Options{ArtifactRoot: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	exp, err := st.CreateExperiment(ctx, "plans", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", "file:"+st.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	queries, args, err := st.SearchQuery(store.SearchRuns{ExperimentIDs: []string{exp}})
	if err != nil || len(queries) != 1 {
		t.Fatalf("%d queries, %v", len(queries), err)
	}
	p := plan(t, db, queries[0], args[0]...)
	if !strings.Contains(p, "mlrun_runs_experiment_order") || strings.Contains(p, "TEMP B-TREE") {
		t.Errorf("default-order search plan:\n%s\nwant a read of mlrun_runs_experiment_order and no sort", p)
	}
	// Ordered by a metric (and filtered on it): the runs with the metric
	// in the order of mlrun_latest_metrics_order, sorting only ties;
	// then the runs without it in the default order's index.
	queries, args, err = st.SearchQuery(store.SearchRuns{ExperimentIDs: []string{exp}, Filter: "metrics.rmse < 0.9", OrderBy: []string{"metrics.rmse DESC"}})
	if err != nil || len(queries) != 2 {
		t.Fatalf("%d queries, %v", len(queries), err)
	}
	p = plan(t, db, queries[0], args[0]...)
	if !strings.Contains(p, "mlrun_latest_metrics_order") || strings.Contains(p, "USE TEMP B-TREE FOR ORDER BY") {
		t.Errorf("metric-order search plan:\n%s\nwant a read of mlrun_latest_metrics_order and no whole sort", p)
	}
	p = plan(t, db, queries[1], args[1]...)
	if !strings.Contains(p, "mlrun_runs_experiment_order") || strings.Contains(p, "TEMP B-TREE") {
		t.Errorf("metric-order search plan, runs without the metric:\n%s\nwant a read of mlrun_runs_experiment_order and no sort", p)
	}
	p = plan(t, db, sqlstore.HistoryQuery, "r", "loss")
	if !strings.Contains(p, "mlrun_metrics_history") || strings.Contains(p, "TEMP B-TREE") {
		t.Errorf("history plan:\n%s\nwant a range of mlrun_metrics_history and no sort", p)
	}
}

// TestPostgresQueriesReadIndexes: on PostgreSQL too, a runs search in the
// default order reads its page off mlrun_runs_experiment_order (declared
// start_time DESC NULLS LAST, as the search orders) with no sort of the
// experiment's runs; ordered by a metric, the runs with it come off
// mlrun_latest_metrics_order; a history is one range of
// mlrun_metrics_history. (Sequential scans are priced out, so that the
// plan is the one a large table gets.)
func TestPostgresQueriesReadIndexes(t *testing.T) {
	ctx := context.Background()
	st, db := testutil.PostgresStore(t)
	exp, err := st.CreateExperiment(ctx, "plans", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{`SET enable_seqscan = off`, `SET enable_bitmapscan = off`} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	pgPlan := func(query string, args ...any) string {
		t.Helper()
		rows, err := conn.QueryContext(ctx, "EXPLAIN "+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var lines []string
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, l)
		}
		return strings.Join(lines, "\n")
	}

	queries, args, err := st.SearchQuery(store.SearchRuns{ExperimentIDs: []string{exp}})
	if err != nil || len(queries) != 1 {
		t.Fatalf("%d queries, %v", len(queries), err)
	}
	if p := pgPlan(queries[0], args[0]...); !strings.Contains(p, "mlrun_runs_experiment_order") || strings.Contains(p, "Sort") {
		t.Errorf("default-order search plan:\n%s\nwant a read of mlrun_runs_experiment_order and no sort", p)
	}
	queries, args, err = st.SearchQuery(store.SearchRuns{ExperimentIDs: []string{exp}, Filter: "metrics.rmse < 0.9", OrderBy: []string{"metrics.rmse DESC"}})
	if err != nil || len(queries) != 2 {
		t.Fatalf("%d queries, %v", len(queries), err)
	}
	if p := pgPlan(queries[0], args[0]...); !strings.Contains(p, "mlrun_latest_metrics_order") {
		t.Errorf("metric-order search plan:\n%s\nwant a read of mlrun_latest_metrics_order", p)
	}
	if p := pgPlan(queries[1], args[1]...); !strings.Contains(p, "mlrun_runs_experiment_order") || strings.Contains(p, "Sort") {
		t.Errorf("metric-order search plan, runs without the metric:\n%s\nwant a read of mlrun_runs_experiment_order and no sort", p)
	}
	if p := pgPlan(sqlstore.HistoryQuery, "r", "loss"); !strings.Contains(p, "mlrun_metrics_history") || strings.Contains(p, "Sort") {
		t.Errorf("history plan:\n%s\nwant a range of mlrun_metrics_history and no sort", p)
	}
}
