package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/sqlite"
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
	ms := make([]store.Metric, 1000)
	for batch := 0; batch < 100; batch++ {
		for j := range ms {
			step := batch*1000 + j
			ms[j] = store.Metric{Key: "loss", Value: 1 / float64(step+1), Timestamp: int64(step), Step: int64(step)}
		}
		if err := s.LogBatch(ctx, r.Info.RunID, ms, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
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
