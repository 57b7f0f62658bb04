package server_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mlrun/mlrun/internal/load"
	"github.com/mlrun/mlrun/internal/load/noop"
	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/postgres"
	"github.com/mlrun/mlrun/store/rest"
	"github.com/mlrun/mlrun/store/sqlite"
	"github.com/mlrun/mlrun/store/sqlstore"
)

// BenchmarkServerLoad runs the load workloads (internal/load) through
// real HTTP with 20 concurrent clients: on one server over SQLite, one
// over PostgreSQL, and two servers sharing one PostgreSQL database
// (clients alternate; PostgreSQL with its durable defaults,
// testutil.DurablePostgres). Each reports requests per second and the median
// and 99th-percentile time of a request; an error fails it. "noop" is
// the ceiling for small requests on this machine: a handler on the same
// HTTP stack (net/http, loopback, the same client) that decodes each
// request's JSON and answers a fixed body, driven with the small write
// workloads. "noop-flush" is the ceiling for durable ones: the same
// handler, each request answered only after a group commit that does
// nothing but what durability costs at least, one 4 KiB write to a file
// in the test's folder and its fsync, for every request waiting (see
// internal/load/noop). A store's small writes also report their rate
// as a share of each of those two, measured earlier in the same run
// (%-of-noop, %-of-noop-flush: #15's yardstick), when they were:
//
//	go test -run '^$' -bench 'ServerLoad/(noop|noop-flush|sqlite)/(create-run|log-param-10)$' -benchtime 3s ./server/
//	go test -run '^$' -bench ServerLoad -benchtime 3s ./server/
func BenchmarkServerLoad(b *testing.B) {
	// ceilings holds the last req/s of "noop" and "noop-flush" by
	// workload, for the stores' shares of them.
	ceilings := map[string]map[string]float64{"noop": {}, "noop-flush": {}}
	// start serves a setup and returns its URLs, its stores (none for
	// the no-op) and, on PostgreSQL, the database.
	setups := []struct {
		name  string
		start func(b *testing.B) ([]string, []testutil.FullStore, *sql.DB)
	}{
		{"noop", func(b *testing.B) ([]string, []testutil.FullStore, *sql.DB) {
			return []string{startNoop(b, nil)}, nil, nil
		}},
		{"noop-flush", func(b *testing.B) ([]string, []testutil.FullStore, *sql.DB) {
			return []string{startNoopFlush(b)}, nil, nil
		}},
		{"sqlite", func(b *testing.B) ([]string, []testutil.FullStore, *sql.DB) {
			srv := testutil.StartServer(b, false)
			return []string{srv.URL}, []testutil.FullStore{srv.Store}, nil
		}},
		// PostgreSQL as deployed: each commit answered once flushed (the
		// tests' cluster flushes nothing).
		{"postgres-1", func(b *testing.B) ([]string, []testutil.FullStore, *sql.DB) {
			st := openPostgres(b, testutil.DurablePostgres(b))
			return []string{testutil.StartServerOn(b, st, b.TempDir(), false).URL}, []testutil.FullStore{st}, st.(*postgres.Store).DB()
		}},
		{"postgres-2", func(b *testing.B) ([]string, []testutil.FullStore, *sql.DB) {
			uri := testutil.DurablePostgres(b)
			var urls []string
			var sts []testutil.FullStore
			for i := 0; i < 2; i++ {
				st := openPostgres(b, uri)
				urls = append(urls, testutil.StartServerOn(b, st, b.TempDir(), false).URL)
				sts = append(sts, st)
			}
			return urls, sts, sts[0].(*postgres.Store).DB()
		}},
	}
	for _, setup := range setups {
		b.Run(setup.name, func(b *testing.B) {
			urls, stores, db := setup.start(b)
			ctx := context.Background()
			c, err := rest.Open(urls[0], rest.Options{})
			if err != nil {
				b.Fatal(err)
			}
			env := load.Env{WriteExperimentID: "1"}
			isNoop := strings.HasPrefix(setup.name, "noop")
			if !isNoop {
				if env, err = load.Setup(ctx, c, true); err != nil {
					b.Fatal(err)
				}
			}
			for _, w := range load.Workloads {
				if isNoop && !noop.Workloads[w.Name] {
					continue
				}
				if w.Reads && db != nil {
					// The write workloads just added some 100,000 rows
					// that PostgreSQL has no statistics of yet; a server's
					// autovacuum analyzes them within a minute or so, and
					// until then the planner guesses (see db copy's
					// AfterCopy in store/postgres).
					if _, err := db.ExecContext(ctx, `ANALYZE`); err != nil {
						b.Fatal(err)
					}
				}
				b.Run(w.Name, func(b *testing.B) {
					// One run of b.N × 200 ms. (Not b.N runs of 200 ms:
					// each ends with a tail in which its last requests
					// finish while the other clients have stopped; for
					// get-history, 50-180 ms a request, five tails a
					// second cost 0-18 % of its rate, 3 alternating
					// rounds.)
					before, pagesBefore := writeStats(stores), walPages(stores)
					r, err := load.Drive(ctx, urls, 20, time.Duration(b.N)*200*time.Millisecond, env, w)
					if err != nil || r.FirstError != nil {
						b.Fatalf("%v %v", err, r.FirstError)
					}
					if after := writeStats(stores); !w.Reads && after.Commits > before.Commits {
						// The writers' busy share (over 100 where
						// transactions run in parallel: PostgreSQL's two
						// groups, two servers) and the commit's part in it.
						tx := after.TxTime - before.TxTime
						b.ReportMetric(100*tx.Seconds()/r.Elapsed.Seconds(), "writer-busy-%")
						b.ReportMetric(100*(after.CommitTime-before.CommitTime).Seconds()/r.Elapsed.Seconds(), "commit-busy-%")
						writes := float64(after.Writes - before.Writes)
						b.ReportMetric(writes/float64(after.Commits-before.Commits), "writes/commit")
						// Where else a write's time went: waiting for a
						// group to take it, and, once answered, for a CPU.
						b.ReportMetric((after.QueueTime-before.QueueTime).Seconds()*1e6/writes, "queue-µs")
						b.ReportMetric((after.ResumeTime-before.ResumeTime).Seconds()*1e6/writes, "resume-µs")
						// SQLite: what a commit cost the disk.
						if pagesBefore >= 0 {
							b.ReportMetric(float64(walPages(stores)-pagesBefore)/float64(after.Commits-before.Commits), "wal-pages/commit")
						}
					}
					ok, elapsed, lat := r.Requests-r.Errors, r.Elapsed, r.Latencies
					rate := float64(ok) / elapsed.Seconds()
					b.ReportMetric(rate, "req/s")
					if c, isCeiling := ceilings[setup.name]; isCeiling {
						c[w.Name] = rate
					} else {
						for _, name := range []string{"noop", "noop-flush"} {
							if ceiling := ceilings[name][w.Name]; ceiling > 0 {
								b.ReportMetric(100*rate/ceiling, "%-of-"+name)
							}
						}
					}
					b.ReportMetric(lat.Percentile(0.5).Seconds()*1000, "p50-ms")
					b.ReportMetric(lat.Percentile(0.99).Seconds()*1000, "p99-ms")
					if w.Name == "log-batch-500" {
						b.ReportMetric(500*float64(ok)/elapsed.Seconds(), "rows/s")
					}
				})
			}
		})
	}
}

// writeStats sums the write stats of stores.
func writeStats(stores []testutil.FullStore) sqlstore.WriteStats {
	var sum sqlstore.WriteStats
	for _, st := range stores {
		s := st.(interface{ WriteStats() sqlstore.WriteStats }).WriteStats()
		sum.Writes += s.Writes
		sum.Commits += s.Commits
		sum.TxTime += s.TxTime
		sum.CommitTime += s.CommitTime
		sum.QueueTime += s.QueueTime
		sum.ResumeTime += s.ResumeTime
	}
	return sum
}

// walPages is how many pages the process's SQLite stores have written
// to their WAL files, -1 when stores are not SQLite's.
func walPages(stores []testutil.FullStore) int64 {
	if len(stores) == 0 {
		return -1
	}
	wp, ok := stores[0].(interface{ WALPages() int64 })
	if !ok {
		return -1
	}
	return wp.WALPages() // the process's count: once, not per store
}

// startNoop serves noop.Handler(wait) on a loopback port.
func startNoop(b *testing.B, wait func() error) string {
	srv := httptest.NewServer(noop.Handler(wait))
	b.Cleanup(srv.Close)
	return srv.URL
}

// startNoopFlush serves noop.Handler with a noop.Flusher's Wait.
func startNoopFlush(b *testing.B) string {
	fl, err := noop.NewFlusher(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	url := startNoop(b, fl.Wait)
	b.Cleanup(func() { fl.Close() }) // before the server's: its requests end
	return url
}

// BenchmarkRawMetricInsert is the ceiling for log-batch-500 on SQLite: one
// connection inserting MLflow's metric rows (a prepared statement) and
// upserting latest_metrics once per key, 10,000 rows per transaction, on
// the schema and settings mlrun's server has (WAL, synchronous=FULL,
// mlrun's indexes), with no HTTP, no JSON and no validation.
//
//	go test -run '^$' -bench 'ServerLoad/sqlite/log-batch-500|RawMetricInsert' -benchtime 3s ./server/
func BenchmarkRawMetricInsert(b *testing.B) {
	ctx := context.Background()
	db, runs, kick := rawDB(b, 1)
	runID := runs[0]
	const perTx = 10000
	rows := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		kick()
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		ins, err := tx.PrepareContext(ctx, `INSERT INTO metrics ("key", value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, 0)`)
		if err != nil {
			b.Fatal(err)
		}
		for j := 0; j < perTx; j++ {
			step := i*perTx + j
			if _, err := ins.ExecContext(ctx, fmt.Sprint("m", j%10), float64(j), int64(i), runID, step); err != nil {
				b.Fatal(err)
			}
		}
		ins.Close()
		for k := 0; k < 10; k++ {
			if _, err := tx.ExecContext(ctx, `INSERT INTO latest_metrics ("key", value, timestamp, step, is_nan, run_uuid) VALUES (?, ?, ?, ?, 0, ?)
				ON CONFLICT ("key", run_uuid) DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp, step = excluded.step`,
				fmt.Sprint("m", k), 1.0, int64(i), i*perTx+perTx-10+k, runID); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		rows += perTx
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkRawSmallWrites is the ceiling for create-run and log-param-10
// on SQLite: one connection doing just the rows the load's requests make,
// in transactions of 10 requests (the group size 20 clients give), each
// table's rows of a transaction in one multi-row insert (as merged writes
// do), on the schema and settings mlrun's server has (WAL,
// synchronous=FULL, mlrun's indexes), with no HTTP, no JSON, no checks.
// create-run: a run and its mlflow.runName tag; log-param-10: ten new
// params of one of 20 runs, keyed as the load keys them (q<n>_<j>).
//
//	go test -run '^$' -bench 'RawSmallWrites|ServerLoad/(noop|sqlite)/(create-run|log-param-10)$' -benchtime 3s ./server/
func BenchmarkRawSmallWrites(b *testing.B) {
	const perTx = 10
	// Each writes the rows of perTx requests, from request req on.
	for _, w := range []struct {
		name  string
		write func(ctx context.Context, tx *sql.Tx, req int, runs []string) error
	}{
		{"create-run", func(ctx context.Context, tx *sql.Tx, _ int, _ []string) error {
			var args, tags []any
			for k := 0; k < perTx; k++ {
				u := uuid.Must(uuid.NewV7())
				id := hex.EncodeToString(u[:])
				args = append(args, id, "name", "", time.Now().UnixMilli(), "mlflow-artifacts:/0/"+id+"/artifacts", 0)
				tags = append(tags, "mlflow.runName", "name", id)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id, deleted_time) VALUES `+
				rowsSQL(`(?, ?, 'UNKNOWN', '', '', ?, 'RUNNING', ?, NULL, '', 'active', ?, ?, NULL)`, perTx), args...); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO tags ("key", value, run_uuid) VALUES `+rowsSQL("(?, ?, ?)", perTx), tags...)
			return err
		}},
		{"log-param-10", func(ctx context.Context, tx *sql.Tx, req int, runs []string) error {
			var args []any
			for k := req; k < req+perTx; k++ {
				for j := 0; j < 10; j++ {
					args = append(args, fmt.Sprint("q", k/len(runs), "_", j), "v", runs[k%len(runs)])
				}
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO params ("key", value, run_uuid) VALUES `+rowsSQL("(?, ?, ?)", 10*perTx), args...)
			return err
		}},
	} {
		b.Run(w.name, func(b *testing.B) {
			ctx := context.Background()
			db, runs, kick := rawDB(b, 20)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				kick()
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				if err := w.write(ctx, tx, i*perTx, runs); err != nil {
					b.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*perTx)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// rawDB makes a database with mlrun's schema and n runs (through the
// store), and opens it as the raw benchmarks use it: one connection,
// WAL, synchronous=FULL, foreign keys on, as mlrun's server writes. Like
// the store, the benchmark calls kick as each transaction begins (the
// read before the flush, sqlite.FlushReader).
func rawDB(b *testing.B, n int) (*sql.DB, []string, func()) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "raw.db")
	st, err := sqlite.Open(ctx, path, sqlite.Options{ArtifactRoot: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	runs := make([]string, n)
	for i := range runs {
		r, err := st.CreateRun(ctx, store.CreateRun{})
		if err != nil {
			b.Fatal(err)
		}
		runs[i] = r.Info.RunID
	}
	st.Close()
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_sync=FULL&_foreign_keys=1&_txlock=immediate&_stmt_cache_size=128")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	fr, err := sqlite.OpenFlushReader(filepath.Dir(path))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(fr.Close)
	return db, runs, fr.Kick
}

// rowsSQL is n copies of tuple, comma separated.
func rowsSQL(tuple string, n int) string {
	return strings.TrimSuffix(strings.Repeat(tuple+", ", n), ", ")
}

// BenchmarkServerLargeReads: through HTTP, one client at a time, a
// runs/search returning 1,000 runs with their params, metrics and tags
// from an experiment of 25,000 runs (default order, and filtered and
// ordered by a metric), and a get-history of 100,000 points. Each
// reports its time per request and the bytes it returned.
//
//	go test -run '^$' -bench ServerLargeReads -benchtime 10x ./server/
func BenchmarkServerLargeReads(b *testing.B) {
	srv := testutil.StartServer(b, false)
	ctx := context.Background()
	exp, err := srv.Store.CreateExperiment(ctx, "large", "", nil)
	if err != nil {
		b.Fatal(err)
	}
	// 25,000 runs, written by 20 writers (group-committed).
	const runs, writers = 25000, 20
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		go func() {
			for i := w; i < runs; i += writers {
				r, err := srv.Store.CreateRun(ctx, store.CreateRun{ExperimentID: exp, StartTime: int64(1000 + i)})
				if err == nil {
					err = srv.Store.LogBatch(ctx, r.Info.RunID,
						[]store.Metric{{Key: "rmse", Value: float64(i%977) / 977, Timestamp: 1}, {Key: "r2", Value: 0.5, Timestamp: 1}, {Key: "mae", Value: 0.1, Timestamp: 1}},
						[]store.Param{{Key: "alpha", Value: fmt.Sprint(i % 10)}, {Key: "l1", Value: "0.1"}, {Key: "model", Value: "enet"}},
						[]store.Tag{{Key: "team", Value: "ml"}})
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for w := 0; w < writers; w++ {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	hist, err := srv.Store.CreateRun(ctx, store.CreateRun{})
	if err != nil {
		b.Fatal(err)
	}
	testutil.LogHistory(b, srv.Store, hist.Info.RunID, "loss", 100000)
	do := func(b *testing.B, method, path, body, field string, want int) {
		var size int
		for i := 0; i < b.N; i++ {
			req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			data, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("%d %v %.300s", resp.StatusCode, err, data)
			}
			if n := bytes.Count(data, []byte(field+":")); n != want {
				b.Fatalf("%d %s, want %d", n, field, want)
			}
			size = len(data)
		}
		b.ReportMetric(float64(size), "bytes/op")
	}
	b.Run("search-1000-of-25000", func(b *testing.B) {
		do(b, "POST", "/api/2.0/mlflow/runs/search", `{"experiment_ids":["`+exp+`"],"max_results":1000}`, `"run_uuid"`, 1000)
	})
	b.Run("search-1000-of-25000-by-metric", func(b *testing.B) {
		do(b, "POST", "/api/2.0/mlflow/runs/search", `{"experiment_ids":["`+exp+`"],"max_results":1000,"filter":"metrics.rmse < 0.9","order_by":["metrics.rmse DESC"]}`, `"run_uuid"`, 1000)
	})
	b.Run("get-history-100000", func(b *testing.B) {
		do(b, "GET", "/api/2.0/mlflow/metrics/get-history?metric_key=loss&run_id="+hist.Info.RunID, "", `"step"`, 100000)
	})
}
