package ui_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/store"
)

// BenchmarkRunsPage10k renders an experiment's runs page (the first 100
// of 10,000 runs, each with params, metrics and tags).
func BenchmarkRunsPage10k(b *testing.B) {
	srv := testutil.StartServer(b, false)
	ctx := context.Background()
	exp, _ := srv.Store.CreateExperiment(ctx, "big", "", nil)
	for i := 0; i < 10000; i++ {
		r, err := srv.Store.CreateRun(ctx, store.CreateRun{ExperimentID: exp, StartTime: int64(1000 + i)})
		if err != nil {
			b.Fatal(err)
		}
		srv.Store.LogBatch(ctx, r.Info.RunID,
			[]store.Metric{{Key: "rmse", Value: float64(i%100) / 100, Timestamp: 1}, {Key: "r2", Value: 0.5, Timestamp: 1}},
			[]store.Param{{Key: "alpha", Value: fmt.Sprint(i % 10)}, {Key: "l1", Value: "0.1"}},
			[]store.Tag{{Key: "team", Value: "ml"}})
	}
	url := srv.URL + "/experiments/" + exp + "?order=metrics.rmse+DESC"
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := http.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n < 10000 {
			b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
		}
	}
}

// BenchmarkChart100k serves a chart's data for a 100,000-point history,
// downsampled with LTTB to 1,000 points.
func BenchmarkChart100k(b *testing.B) {
	srv := testutil.StartServer(b, false)
	ctx := context.Background()
	r, _ := srv.Store.CreateRun(ctx, store.CreateRun{})
	ms := make([]store.Metric, 1000)
	for batch := 0; batch < 100; batch++ {
		for j := range ms {
			s := batch*1000 + j
			ms[j] = store.Metric{Key: "loss", Value: 1 / float64(s+1), Timestamp: int64(s), Step: int64(s)}
		}
		if err := srv.Store.LogBatch(ctx, r.Info.RunID, ms, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	url := srv.URL + "/ui-api/metrics?runs=" + r.Info.RunID + "&key=loss"
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := http.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n > 200000 {
			b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
		}
	}
}
