package server_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	tracev1 "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/server"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/sqlite"
)

// TestPrometheusMetrics: with Options.Metrics (--expose-prometheus), GET
// /metrics lists MLflow's exporter's series, by route pattern (one series
// for all model ids, not one each) and status, and the open runs; /health
// is left out, as in MLflow.
func TestPrometheusMetrics(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "m.db"), sqlite.Options{ArtifactRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := httptest.NewServer(server.New(st, server.Options{Metrics: server.NewMetrics(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer srv.Close()
	ts := &testServer{url: srv.URL}
	for i := 0; i < 3; i++ { // two RUNNING, one FINISHED
		r, err := st.CreateRun(context.Background(), store.CreateRun{ExperimentID: "0"})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 { // a param, then the same again: a read answers it
			for range 2 {
				if err := st.LogParam(context.Background(), r.Info.RunID, store.Param{Key: "lr", Value: "0.1"}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if i == 2 {
			done := store.StatusFinished
			if _, err := st.UpdateRun(context.Background(), r.Info.RunID, store.UpdateRun{Status: &done}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// 404, not 501: the store's capabilities are still found behind the
	// timing of its calls.
	for _, id := range []string{"m-first", "m-second", "m-third"} {
		if status, _ := ts.get(t, "/api/2.0/mlflow/logged-models/"+id); status != 404 {
			t.Fatalf("logged-models/%s: %d", id, status)
		}
	}
	ts.get(t, "/api/2.0/mlflow/experiments/get?experiment_id=0")
	// Streamed answers are timed as the store calls they are.
	if status, _ := ts.get(t, "/api/2.0/mlflow/runs/search?experiment_ids=0"); status != 200 {
		t.Fatalf("runs/search: %d", status)
	}
	ts.do(t, "GET", "/health", "", nil)
	status, body := ts.do(t, "GET", "/metrics", "", nil)
	text := string(body)
	if status != 200 {
		t.Fatalf("/metrics: %d %s", status, text)
	}
	for _, want := range []string{
		`mlflow_http_request_duration_seconds_count{method="GET",route="/api/2.0/mlflow/logged-models/{id}",status="404"} 3`,
		`mlflow_http_request_duration_seconds_count{method="GET",route="/api/2.0/mlflow/experiments/get",status="200"} 1`,
		`mlflow_http_request_total{method="GET",status="404"} 3`,
		`go_goroutines`,
		"mlrun_open_runs 2\n",
		`mlrun_store_call_duration_seconds_count{op="GetExperiment"} 1`,
		`mlrun_store_call_duration_seconds_count{op="SearchRuns"} 1`,
		// Three creates, a param and an update, committed one by one;
		// the param logged again written by none.
		"mlrun_store_writes_total 5\n",
		"mlrun_store_commits_total 5\n",
		"mlrun_store_unchanged_writes_total 1\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// The writes took time, and their commits part of it.
	write, commit := testutil.MetricValue(t, strings.NewReader(text), "mlrun_store_write_seconds_total"), testutil.MetricValue(t, strings.NewReader(text), "mlrun_store_commit_seconds_total")
	if !(write > 0 && commit > 0 && commit < write) {
		t.Errorf("mlrun_store_write_seconds_total %g, mlrun_store_commit_seconds_total %g: want both above 0, the commits' less", write, commit)
	}
	// Each waited for the writer thread to take it, and then to run
	// again once answered.
	queue, resume := testutil.MetricValue(t, strings.NewReader(text), "mlrun_store_write_queue_seconds_total"), testutil.MetricValue(t, strings.NewReader(text), "mlrun_store_write_resume_seconds_total")
	if !(queue > 0 && resume > 0) {
		t.Errorf("mlrun_store_write_queue_seconds_total %g, mlrun_store_write_resume_seconds_total %g: want both above 0", queue, resume)
	}
	// The pages the commits wrote to the WAL: this process's count, one
	// page at least for each of the five commits.
	if pages := testutil.MetricValue(t, strings.NewReader(text), "mlrun_sqlite_wal_pages_total"); pages != float64(st.WALPages()) || pages < 5 {
		t.Errorf("mlrun_sqlite_wal_pages_total %g, the store's WALPages %d: want the same, 5 or more", pages, st.WALPages())
	}
	if strings.Contains(text, `route="/health"`) || strings.Contains(text, "m-first") {
		t.Errorf("/metrics has /health or a run id:\n%s", text)
	}
	// Without the option there is no /metrics route.
	plain := httptest.NewServer(server.New(st, server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer plain.Close()
	if status, _ := (&testServer{url: plain.URL}).do(t, "GET", "/metrics", "", nil); status != 404 {
		t.Fatalf("/metrics without --expose-prometheus: %d", status)
	}
}

// TestTraceCapabilitiesBehindMetrics: with Options.Metrics the store's
// calls are timed through a wrapper, and the trace capabilities are still
// found behind it: OTLP spans go to the spans table (not a traces.json),
// GetTrace reads them there, and the filter correlation counts traces.
func TestTraceCapabilitiesBehindMetrics(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "m.db"), sqlite.Options{ArtifactRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := httptest.NewServer(server.New(st, server.Options{Metrics: server.NewMetrics(), ArtifactRoots: []string{root}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer srv.Close()
	ts := &testServer{url: srv.URL}
	traceID := bytes.Repeat([]byte{0x5a}, 16)
	req, _ := http.NewRequest("POST", srv.URL+"/v1/traces", bytes.NewReader(otlpExport(t, &tracev1.Span{TraceId: traceID, SpanId: []byte{1, 2, 3, 4, 5, 6, 7, 8},
		Name: "root", StartTimeUnixNano: 1_000_000, EndTimeUnixNano: 3_000_000})))
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set(server.OTLPExperimentHeader, "0")
	if status, body, _ := send(t, req); status != 200 {
		t.Fatalf("OTLP export: %d %s", status, body)
	}
	id := "tr-" + hex.EncodeToString(traceID)
	kept, err := st.TraceSpans(ctx, []string{id})
	if err != nil || len(kept[id]) != 1 {
		t.Fatalf("spans in the tracking store: %v %v", kept, err)
	}
	status, m := ts.get(t, "/api/3.0/mlflow/traces/get?trace_id="+id)
	if sps, _ := m["trace"].(map[string]any)["spans"].([]any); status != 200 || len(sps) != 1 {
		t.Fatalf("GetTrace: %d %v", status, m)
	}
	status, m = ts.post(t, "/api/3.0/mlflow/traces/calculate-filter-correlation", map[string]any{"experiment_ids": []string{"0"},
		"filter_string1": "trace.status = 'OK'", "filter_string2": "span.name = 'root'"})
	if status != 200 || m["total_count"] != 1.0 || m["filter2_count"] != 1.0 || m["joint_count"] != 1.0 {
		t.Fatalf("calculate-filter-correlation: %d %v", status, m)
	}
}
