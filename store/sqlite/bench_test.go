package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/sqlite"
	"github.com/mlrun/mlrun/store/storetest"
)

func benchStore(b *testing.B) *sqlite.Store {
	b.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func benchLogBatch(b *testing.B, n int) {
	s := benchStore(b)
	ctx := context.Background()
	r, err := s.CreateRun(ctx, store.CreateRun{})
	if err != nil {
		b.Fatal(err)
	}
	ms := make([]store.Metric, n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range ms {
			ms[j] = store.Metric{Key: fmt.Sprint("m", j%10), Value: float64(j), Timestamp: int64(i), Step: int64(i*n + j)}
		}
		if err := s.LogBatch(ctx, r.Info.RunID, ms, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "metrics/s")
}

func BenchmarkLogBatch10(b *testing.B)   { benchLogBatch(b, 10) }
func BenchmarkLogBatch1000(b *testing.B) { benchLogBatch(b, 1000) }

func BenchmarkCreateRun(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	tags := []store.Tag{{Key: "mlflow.user", Value: "bench"}, {Key: "mlflow.source.name", Value: "bench.py"}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.CreateRun(ctx, store.CreateRun{Tags: tags}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSearchRuns10kReturn1k: 10,000 runs, each with 3 params, 3
// metrics and 3 tags; one search with a metric filter and a metric order
// returning a page of 1,000 runs with all their data.
func BenchmarkSearchRuns10kReturn1k(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	exp, err := s.CreateExperiment(ctx, "bench", "", nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 10000; i++ {
		r, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: exp, RunName: fmt.Sprint("run-", i), StartTime: int64(1000 + i)})
		if err != nil {
			b.Fatal(err)
		}
		err = s.LogBatch(ctx, r.Info.RunID,
			[]store.Metric{{Key: "rmse", Value: float64(i%977) / 977, Timestamp: 1}, {Key: "r2", Value: 0.5, Timestamp: 1}, {Key: "mae", Value: 0.1, Timestamp: 1}},
			[]store.Param{{Key: "alpha", Value: fmt.Sprint(i % 10)}, {Key: "l1", Value: "0.1"}, {Key: "model", Value: "enet"}},
			[]store.Tag{{Key: "team", Value: "ml"}, {Key: "stage", Value: "dev"}})
		if err != nil {
			b.Fatal(err)
		}
	}
	q := store.SearchRuns{ExperimentIDs: []string{exp}, Filter: "metrics.rmse < 0.9", OrderBy: []string{"metrics.rmse DESC"}, MaxResults: 1000}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runs, _, err := s.SearchRuns(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		if len(runs) != 1000 {
			b.Fatalf("%d runs", len(runs))
		}
	}
}

func BenchmarkGetHistory100k(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	r, err := s.CreateRun(ctx, store.CreateRun{})
	if err != nil {
		b.Fatal(err)
	}
	testutil.LogHistory(b, s, r.Info.RunID, "loss", 100000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h, _, err := s.GetMetricHistory(ctx, r.Info.RunID, "loss", 0, "")
		if err != nil {
			b.Fatal(err)
		}
		if len(h) != 100000 {
			b.Fatalf("%d points", len(h))
		}
	}
}

// BenchmarkSearchRunsBySize is the experiment-size curve on SQLite
// (storetest.SearchRunsBySize): a page of 1,000 runs with all their data
// from experiments of 1,000, 10,000 and 100,000 runs.
//
//	go test -run '^$' -bench SearchRunsBySize -benchtime 5x ./store/sqlite/
func BenchmarkSearchRunsBySize(b *testing.B) {
	storetest.SearchRunsBySize(b, func(b *testing.B) (store.Store, *sql.DB) {
		s := benchStore(b)
		db, err := sql.Open("sqlite3", "file:"+s.Path()+"?_txlock=immediate&_busy_timeout=30000")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		return s, db
	}, "")
}

// BenchmarkParallelWrites is the store's side of the server's small-write
// workloads: 20 goroutines (as the load's 20 clients), each with a run of
// its own, through group commit, with no HTTP.
//
//	go test -run '^$' -bench ParallelWrites -benchtime 3s ./store/sqlite/
func BenchmarkParallelWrites(b *testing.B) {
	for _, w := range []struct {
		name string
		do   func(ctx context.Context, s *sqlite.Store, run string, i int) error
	}{
		{"create-run", func(ctx context.Context, s *sqlite.Store, _ string, _ int) error {
			_, err := s.CreateRun(ctx, store.CreateRun{ExperimentID: "0"})
			return err
		}},
		{"log-param-10", func(ctx context.Context, s *sqlite.Store, run string, i int) error {
			ps := make([]store.Param, 10)
			for j := range ps {
				ps[j] = store.Param{Key: fmt.Sprint("q", i, "_", j), Value: "v"}
			}
			return s.LogBatch(ctx, run, nil, ps, nil)
		}},
		{"log-batch-500", func(ctx context.Context, s *sqlite.Store, run string, i int) error {
			ms := make([]store.Metric, 500)
			for j := range ms {
				ms[j] = store.Metric{Key: fmt.Sprint("m", j%10), Value: float64(j), Timestamp: int64(i), Step: int64(i*500 + j)}
			}
			return s.LogBatch(ctx, run, ms, nil, nil)
		}},
		{"log-batch-10", func(ctx context.Context, s *sqlite.Store, run string, i int) error {
			ms := make([]store.Metric, 10)
			for j := range ms {
				ms[j] = store.Metric{Key: fmt.Sprint("m", j), Value: float64(i), Timestamp: int64(i), Step: int64(i)}
			}
			return s.LogBatch(ctx, run, ms, nil, nil)
		}},
	} {
		b.Run(w.name, func(b *testing.B) {
			s := benchStore(b)
			ctx := context.Background()
			runs := make(chan string, 64)
			for range 64 {
				r, err := s.CreateRun(ctx, store.CreateRun{})
				if err != nil {
					b.Fatal(err)
				}
				runs <- r.Info.RunID
			}
			b.SetParallelism(10) // 20 goroutines on 2 cores
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				run := <-runs
				for i := 0; pb.Next(); i++ {
					if err := w.do(ctx, s, run, i); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
			ws := s.WriteStats()
			b.ReportMetric(float64(ws.Writes)/float64(ws.Commits), "writes/commit")
			b.ReportMetric(float64(ws.Merged)/float64(ws.Writes), "merged/write")
		})
	}
}

// BenchmarkSweepParams is how a sweep logs its params: every run, new,
// gets the same ten keys (p0 … p9, five values each) in one LogBatch,
// from 20 goroutines through group commit, into a database that holds
// 50,000 earlier runs with the same params. (The server's log-param-10
// logs ten new keys into one run a request: the keys spread over the
// params index, the runs do not.) Run ids are time-ordered, as the
// store makes them.
//
//	go test -run '^$' -bench SweepParams -benchtime 3s ./store/sqlite/
func BenchmarkSweepParams(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	db, err := sql.Open("sqlite3", "file:"+s.Path()+"?_txlock=immediate&_busy_timeout=30000")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	params := func(i int) []store.Param {
		ps := make([]store.Param, 10)
		for j := range ps {
			ps[j] = store.Param{Key: fmt.Sprint("p", j), Value: fmt.Sprint((i + j) % 5)}
		}
		return ps
	}
	const earlier = 50000
	ids := seedRuns(b, db, earlier+b.N, func(i int) []store.Param {
		if i < earlier {
			return params(i)
		}
		return nil
	})
	var next atomic.Int64
	next.Store(earlier - 1)
	b.SetParallelism(10) // 20 goroutines on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1))
			if err := s.LogBatch(ctx, ids[i], nil, params(i), nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
}

// seedRuns writes n active runs of the Default experiment straight into
// db, in one transaction, with time-ordered ids (as the store makes
// them), each with the params paramsOf returns; it returns their ids in
// the order written.
func seedRuns(b *testing.B, db *sql.DB, n int, paramsOf func(i int) []store.Param) []string {
	b.Helper()
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	run, err := tx.Prepare(`INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, source_version, lifecycle_stage, artifact_uri, experiment_id) VALUES (?, 'sweep', 'UNKNOWN', '', '', 'bench', 'RUNNING', 1, '', 'active', ?, 0)`)
	if err != nil {
		b.Fatal(err)
	}
	param, err := tx.Prepare(`INSERT INTO params ("key", value, run_uuid) VALUES (?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, n)
	for i := range ids {
		u := uuid.Must(uuid.NewV7())
		ids[i] = hex.EncodeToString(u[:])
		if _, err := run.Exec(ids[i], "mlruns/0/"+ids[i]+"/artifacts"); err != nil {
			b.Fatal(err)
		}
		for _, p := range paramsOf(i) {
			if _, err := param.Exec(p.Key, p.Value, ids[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return ids
}

// BenchmarkLogSpansOneByOne: a trace's spans logged one call each, as
// MLflow 3.4+'s client sends them (a span to /v1/traces as it ends), each
// span with inputs and outputs of about 1 KB; spans/s over the whole
// trace. Every call also brings the trace's record up to date.
func BenchmarkLogSpansOneByOne(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprint("spans=", n), func(b *testing.B) {
			s := benchStore(b)
			ctx := context.Background()
			exp, err := s.CreateExperiment(ctx, "spans", "", nil)
			if err != nil {
				b.Fatal(err)
			}
			payload := strings.Repeat("x", 500)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tid := make([]byte, 16)
				binary.BigEndian.PutUint64(tid[8:], uint64(i+1))
				id := "tr-" + hex.EncodeToString(tid)
				if _, err := s.PutTrace(ctx, store.TraceInfo{RequestID: id, ExperimentID: exp, Status: "IN_PROGRESS"}); err != nil {
					b.Fatal(err)
				}
				for j := n; j >= 1; j-- { // children end first, the root (1) last
					sid := make([]byte, 8)
					binary.BigEndian.PutUint64(sid, uint64(j))
					parent := "null"
					if j > 1 {
						parent = `"` + base64.StdEncoding.EncodeToString([]byte{0, 0, 0, 0, 0, 0, 0, 1}) + `"`
					}
					sp := fmt.Sprintf(`{"trace_id": %q, "span_id": %q, "parent_span_id": %s, "name": "step-%d", "start_time_unix_nano": %d, "end_time_unix_nano": %d,
						"events": [], "status": {"code": "STATUS_CODE_OK", "message": ""}, "attributes": {"mlflow.traceRequestId": "\"%s\"", "mlflow.spanType": "\"LLM\"",
						"mlflow.spanInputs": "{\"prompt\": \"%s\"}", "mlflow.spanOutputs": "\"%s\"",
						"mlflow.chat.tokenUsage": "{\"input_tokens\": 10, \"output_tokens\": 5, \"total_tokens\": 15}"}}`,
						base64.StdEncoding.EncodeToString(tid), base64.StdEncoding.EncodeToString(sid), parent, j, 1_700_000_000_000_000_000+j*1000, 1_700_000_001_000_000_000-j*1000, id, payload, payload)
					if err := s.LogSpans(ctx, id, []json.RawMessage{json.RawMessage(sp)}); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "spans/s")
		})
	}
}
