package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/store"
)

// BenchOpener returns a fresh, empty store for one benchmark and a
// connection pool to its database that takes '?' placeholders, to seed
// it; it registers its own cleanup with b.
type BenchOpener func(b *testing.B) (store.Store, *sql.DB)

// SearchRunsBySize is the experiment-size curve: experiments of 1,000,
// 10,000 and 100,000 runs (SeedExperiment), searched for a page of 1,000
// runs with all their data: in the default order, filtered and ordered
// by a metric, and by a param. Each store's benchmark calls it. settle,
// unless empty, is SQL run once the runs are written: what the
// database's own upkeep would have done by the time an experiment grew
// so (PostgreSQL's autovacuum analyzes the tables).
func SearchRunsBySize(b *testing.B, open BenchOpener, settle string) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("runs=%d", n), func(b *testing.B) {
			s, db := open(b)
			exp := SeedExperiment(b, s, db, n)
			if settle != "" {
				if _, err := db.Exec(settle); err != nil {
					b.Fatal(err)
				}
			}
			for _, q := range []struct {
				name   string
				filter string
				order  []string
			}{
				{"default-order", "", nil},
				{"metric-filter-order", "metrics.rmse < 0.9", []string{"metrics.rmse DESC"}},
				{"param-filter-order", "params.alpha != '3'", []string{"params.model ASC"}},
			} {
				b.Run(q.name, func(b *testing.B) {
					sq := store.SearchRuns{ExperimentIDs: []string{exp}, Filter: q.filter, OrderBy: q.order, MaxResults: 1000}
					for i := 0; i < b.N; i++ {
						runs, _, err := s.SearchRuns(context.Background(), sq)
						if err != nil {
							b.Fatal(err)
						}
						if len(runs) == 0 || len(runs) > 1000 || (n > 1000 && len(runs) != 1000) || len(runs[0].Params) != 3 || len(runs[0].Metrics) != 3 {
							b.Fatalf("%d runs", len(runs))
						}
					}
				})
			}
		})
	}
}

// seedChunk is how many runs SeedExperiment writes a statement.
const seedChunk = 1000

// SeedExperiment creates an experiment in s and writes n runs into it
// straight through db, in MLflow's schema, in one transaction of
// multi-row inserts: each run with params alpha (i%10), l1 and model
// (m<i%100>), metrics rmse (i%977/977), r2 and mae (their latest values
// too) and tags mlflow.runName and team. It returns the experiment's id.
func SeedExperiment(tb testing.TB, s store.Store, db *sql.DB, n int) string {
	tb.Helper()
	ctx := context.Background()
	exp, err := s.CreateExperiment(ctx, fmt.Sprint("bench-", n), "", nil)
	if err != nil {
		tb.Fatal(err)
	}
	expN, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		tb.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	insert := func(head, tuple string, rows int, args []any) {
		q := head + strings.TrimSuffix(strings.Repeat(tuple+", ", rows), ", ")
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			tb.Fatal(err)
		}
	}
	for from := 0; from < n; from += seedChunk {
		to := min(from+seedChunk, n)
		var runs, tags, params, metrics []any
		for i := from; i < to; i++ {
			id := fmt.Sprintf("%032x", i+1)
			runs = append(runs, id, fmt.Sprint("run-", i), int64(1000+i), "mlruns/"+id, expN)
			tags = append(tags, "mlflow.runName", fmt.Sprint("run-", i), id, "team", "ml", id)
			params = append(params, "alpha", fmt.Sprint(i%10), id, "l1", "0.1", id, "model", fmt.Sprint("m", i%100), id)
			metrics = append(metrics, "rmse", float64(i%977)/977, id, "r2", 0.5, id, "mae", 0.1, id)
		}
		k := to - from
		insert(`INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, source_version, lifecycle_stage, artifact_uri, experiment_id) VALUES `,
			`(?, ?, 'UNKNOWN', '', '', 'bench', 'FINISHED', ?, '', 'active', ?, ?)`, k, runs)
		insert(`INSERT INTO tags ("key", value, run_uuid) VALUES `, `(?, ?, ?)`, 2*k, tags)
		insert(`INSERT INTO params ("key", value, run_uuid) VALUES `, `(?, ?, ?)`, 3*k, params)
		insert(`INSERT INTO metrics ("key", value, timestamp, run_uuid, step, is_nan) VALUES `, `(?, ?, 1, ?, 0, FALSE)`, 3*k, metrics)
		insert(`INSERT INTO latest_metrics ("key", value, timestamp, run_uuid, step, is_nan) VALUES `, `(?, ?, 1, ?, 0, FALSE)`, 3*k, metrics)
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	return exp
}
