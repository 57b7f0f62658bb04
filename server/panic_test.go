package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/runner/runnertest"
	"github.com/mlrun/mlrun/server"
	"github.com/mlrun/mlrun/store"
)

// panicking is a real SQLite store whose run reads and history stream
// panic, as a bug would: the history after 5,000 points, past the first
// part of the answer sent.
type panicking struct{ testutil.FullStore }

func (panicking) GetRun(context.Context, string) (*store.Run, error) { panic("boom in GetRun") }

func (panicking) StreamMetricHistory(_ context.Context, _, key string, fn func(store.Metric) error) error {
	for i := 0; i < 5000; i++ {
		if err := fn(store.Metric{Key: key, Value: float64(i), Timestamp: 1, Step: int64(i)}); err != nil {
			return err
		}
	}
	panic("boom in the history")
}

// TestHandlerPanic: a handler that panics before answering gets MLflow's
// INTERNAL_ERROR (500, no detail); one that panics mid-answer has its
// connection cut, so the client sees a broken answer, not a short one.
// Each panic is one log record with its stack; the server goes on.
func TestHandlerPanic(t *testing.T) {
	st, _ := testutil.SQLiteStore(t)
	var log runnertest.Buffer
	srv := testutil.StartServerOn(t, panicking{st}, t.TempDir(), false, func(o *server.Options) {
		o.Logger = slog.New(slog.NewTextHandler(&log, nil))
	})
	get := func(path string) (*http.Response, []byte, error) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, b, err
	}

	resp, body, err := get("/api/2.0/mlflow/runs/get?run_id=0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	var e wire.ErrorBody
	if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != http.StatusInternalServerError || e.ErrorCode != "INTERNAL_ERROR" || strings.Contains(string(body), "boom") {
		t.Fatalf("runs/get: %d %s (%v), want 500 INTERNAL_ERROR without the panic's detail", resp.StatusCode, body, err)
	}

	run, err := st.CreateRun(context.Background(), store.CreateRun{ExperimentID: "0"})
	if err != nil {
		t.Fatal(err)
	}
	resp, body, err = get("/api/2.0/mlflow/metrics/get-history?metric_key=loss&run_id=" + run.Info.RunID)
	if err == nil {
		t.Fatalf("get-history: %d, %d bytes read whole; want the answer broken off", resp.StatusCode, len(body))
	}
	if resp == nil || resp.StatusCode != http.StatusOK || len(body) < 32<<10 {
		t.Fatalf("get-history: %v; want a 200 broken off after its first part (%d bytes)", err, len(body))
	}

	if _, body, err = get("/api/2.0/mlflow/experiments/get?experiment_id=0"); err != nil || !strings.Contains(string(body), `"Default"`) {
		t.Fatalf("a request after the panics: %s %v", body, err)
	}
	for _, p := range []string{"boom in GetRun", "boom in the history"} {
		var records []string
		for _, l := range strings.Split(log.String(), "\n") {
			if strings.Contains(l, p) {
				records = append(records, l)
			}
		}
		if len(records) != 1 || !strings.Contains(records[0], "level=ERROR msg=panic") || !strings.Contains(records[0], "stack=") {
			t.Errorf("log records of %q: %q, want one, with its stack", p, records)
		}
	}
}
