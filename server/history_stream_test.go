package server_test

import (
	"context"
	"encoding/json"
	"math"
	"net/url"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/store"
)

// TestMetricHistoryStreamed: a whole history (more points than one
// 32 KiB write holds, NaN and ±Inf among them, a key with a slash) is
// streamed with exactly the bytes of the MetricsResponse the store's
// points make; an empty history is {}; an unknown run is MLflow's
// RESOURCE_DOES_NOT_EXIST with 404, before anything is streamed.
func TestMetricHistoryStreamed(t *testing.T) {
	srv := newServer(t)
	ctx := context.Background()
	run, err := srv.store.CreateRun(ctx, store.CreateRun{})
	if err != nil {
		t.Fatal(err)
	}
	const key = "val/loss: a"
	ms := make([]store.Metric, 1000)
	for batch := 0; batch < 5; batch++ {
		for j := range ms {
			i := batch*1000 + j
			v := 1 / float64(i+1)
			switch i % 97 {
			case 1:
				v = math.NaN()
			case 2:
				v = math.Inf(1)
			case 3:
				v = math.Inf(-1)
			}
			ms[j] = store.Metric{Key: key, Value: v, Timestamp: int64(i), Step: int64(i)}
		}
		if err := srv.store.LogBatch(ctx, run.Info.RunID, ms, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	get := func(run, key string) (int, string) {
		code, b := srv.do(t, "GET", "/api/2.0/mlflow/metrics/get-history?run_id="+run+"&metric_key="+url.QueryEscape(key), "", nil)
		return code, string(b)
	}
	points, _, err := srv.store.GetMetricHistory(ctx, run.Info.RunID, key, 0, "")
	if err != nil || len(points) != 5000 {
		t.Fatalf("%d points, %v", len(points), err)
	}
	want, _ := json.Marshal(wire.MetricsResponse{Metrics: wire.FromMetrics(points)})
	if len(want) < 3*32<<10 {
		t.Fatalf("the history is %d bytes: too short to take several writes", len(want))
	}
	if code, body := get(run.Info.RunID, key); code != 200 || body != string(want) {
		t.Fatalf("streamed history (%d, %d bytes) differs from the MetricsResponse (%d bytes)", code, len(body), len(want))
	}
	if code, body := get(run.Info.RunID, "absent"); code != 200 || body != "{}" {
		t.Fatalf("empty history: %d %s", code, body)
	}
	code, body := get("0123456789abcdef0123456789abcdef", key)
	if code != 404 || !strings.Contains(body, `"error_code":"RESOURCE_DOES_NOT_EXIST"`) {
		t.Fatalf("unknown run: %d %s", code, body)
	}
}
