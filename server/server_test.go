package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/server"
	"github.com/mlrun/mlrun/store"
)

// testServer is an in-process mlrun server over a SQLite file in
// t.TempDir(), serving artifacts from a folder beside it.
type testServer struct {
	url       string
	store     testutil.FullStore
	artifacts string // the proxy's destination folder
	dir       string
}

func newServer(t *testing.T) *testServer { return startServer(t, true) }

func newServerNoArtifacts(t *testing.T) *testServer { return startServer(t, false) }

func startServer(t *testing.T, serve bool) *testServer {
	s := testutil.StartServer(t, serve)
	return &testServer{url: s.URL, store: s.Store, artifacts: s.Artifacts, dir: s.Dir}
}

// do sends a request and returns the status and body.
func (ts *testServer) do(t *testing.T, method, path, contentType string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, ts.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	status, b, _ := send(t, req)
	return status, []byte(b)
}

// send sends req and returns the answer's status, body and header.
func send(t *testing.T, req *http.Request) (int, string, http.Header) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

func (ts *testServer) post(t *testing.T, path string, v any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(v)
	status, out := ts.do(t, "POST", path, "application/json", b)
	var m map[string]any
	json.Unmarshal(out, &m)
	return status, m
}

func (ts *testServer) get(t *testing.T, path string) (int, map[string]any) {
	t.Helper()
	status, out := ts.do(t, "GET", path, "", nil)
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("GET %s: %d %s is not JSON", path, status, out)
	}
	return status, m
}

func newRun(t *testing.T, ts *testServer) *store.Run {
	t.Helper()
	r, err := ts.store.CreateRun(context.Background(), store.CreateRun{RunName: "r", StartTime: 1})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestQuirksRealClientsDependOn(t *testing.T) {
	ts := newServer(t)
	r := newRun(t, ts)
	id := r.Info.RunID
	base := "/api/2.0/mlflow"

	// Legacy run_uuid instead of run_id.
	if st, m := ts.get(t, base+"/runs/get?run_uuid="+id); st != 200 || m["run"] == nil {
		t.Fatalf("run_uuid: %d %v", st, m)
	}
	// GET with a JSON body.
	if st, b := ts.do(t, "GET", base+"/runs/get", "application/json", []byte(`{"run_id": "`+id+`"}`)); st != 200 {
		t.Fatalf("GET with body: %d %s", st, b)
	}
	// Experiment id as a number; double-encoded JSON body.
	if st, m := ts.post(t, base+"/runs/create", map[string]any{"experiment_id": 0}); st != 200 {
		t.Fatalf("numeric experiment id: %d %v", st, m)
	}
	inner, _ := json.Marshal(map[string]any{"name": "double-encoded"})
	if st, m := ts.post(t, base+"/experiments/create", string(inner)); st != 200 || m["experiment_id"] == nil {
		t.Fatalf("double-encoded body: %d %v", st, m)
	}
	// int64 as a string, enum by number, NaN as a string.
	if st, m := ts.post(t, base+"/runs/log-metric", map[string]any{"run_id": id, "key": "m", "value": "NaN", "timestamp": "5", "step": "2"}); st != 200 {
		t.Fatalf("string numbers: %d %v", st, m)
	}
	if st, m := ts.post(t, base+"/runs/update", map[string]any{"run_id": id, "status": 3, "end_time": 10}); st != 200 || m["run_info"].(map[string]any)["status"] != "FINISHED" {
		t.Fatalf("enum by number: %d %v", st, m)
	}
	// NaN comes back as "NaN", int64 as numbers.
	_, b := ts.do(t, "GET", base+"/metrics/get-history?run_id="+id+"&metric_key=m", "", nil)
	if !bytes.Contains(b, []byte(`"value":"NaN"`)) || !bytes.Contains(b, []byte(`"timestamp":5`)) || !bytes.Contains(b, []byte(`"step":2`)) {
		t.Fatalf("history JSON: %s", b)
	}
	// Repeated query keys are lists; the ajax prefix serves the same API.
	if st, m := ts.get(t, "/ajax-api/2.0/mlflow/experiments/search?max_results=10&order_by=name&order_by=experiment_id"); st != 200 || len(m["experiments"].([]any)) != 2 {
		t.Fatalf("ajax search: %d %v", st, m)
	}
	// Unknown fields are ignored (a finished run is still active).
	if st, m := ts.post(t, base+"/runs/set-tag", map[string]any{"run_id": id, "key": "k", "value": "v", "future_field": 1}); st != 200 {
		t.Fatalf("unknown field: %d %v", st, m)
	}
}

func TestHealthAndVersion(t *testing.T) {
	ts := newServer(t)
	if st, b := ts.do(t, "GET", "/health", "", nil); st != 200 || string(b) != "OK" {
		t.Fatalf("health: %d %q", st, b)
	}
	if st, b := ts.do(t, "GET", "/version", "", nil); st != 200 || string(b) != server.Version {
		t.Fatalf("version: %d %q", st, b)
	}
	if st, _ := ts.do(t, "GET", "/api/2.0/mlflow/no-such-endpoint", "", nil); st != 404 {
		t.Fatalf("unknown route: %d", st)
	}
}

func TestErrorCodes(t *testing.T) {
	ts := newServer(t)
	r := newRun(t, ts)
	ctx := context.Background()
	delID, _ := ts.store.CreateExperiment(ctx, "gone", "", nil)
	ts.store.DeleteExperiment(ctx, delID)
	ts.store.LogParam(ctx, r.Info.RunID, store.Param{Key: "p", Value: "1"})
	base := "/api/2.0/mlflow"
	cases := []struct {
		name, method, path, ct, body string
		status                       int
		code                         string
	}{
		{"unknown run", "GET", base + "/runs/get?run_id=0123456789abcdef0123456789abcdef", "", "", 404, "RESOURCE_DOES_NOT_EXIST"},
		{"unknown experiment", "GET", base + "/experiments/get?experiment_id=424242", "", "", 404, "RESOURCE_DOES_NOT_EXIST"},
		{"experiment by name", "GET", base + "/experiments/get-by-name?experiment_name=nope", "", "", 404, "RESOURCE_DOES_NOT_EXIST"},
		{"history of unknown run", "GET", base + "/metrics/get-history?run_id=0123456789abcdef0123456789abcdef&metric_key=m", "", "", 404, "RESOURCE_DOES_NOT_EXIST"},
		{"taken name", "POST", base + "/experiments/create", "application/json", `{"name": "gone"}`, 400, "RESOURCE_ALREADY_EXISTS"},
		{"rename deleted", "POST", base + "/experiments/update", "application/json", `{"experiment_id": "` + delID + `", "new_name": "x"}`, 500, "INVALID_STATE"},
		{"missing name", "POST", base + "/experiments/create", "application/json", `{}`, 400, "INVALID_PARAMETER_VALUE"},
		{"missing run id", "GET", base + "/runs/get", "", "", 400, "INVALID_PARAMETER_VALUE"},
		{"missing metric value", "POST", base + "/runs/log-metric", "application/json", `{"run_id": "` + r.Info.RunID + `", "key": "m", "timestamp": 1}`, 400, "INVALID_PARAMETER_VALUE"},
		{"missing batch key", "POST", base + "/runs/log-batch", "application/json", `{"run_id": "` + r.Info.RunID + `", "metrics": [{"value": 1, "timestamp": 1}]}`, 400, "INVALID_PARAMETER_VALUE"},
		{"changed param", "POST", base + "/runs/log-parameter", "application/json", `{"run_id": "` + r.Info.RunID + `", "key": "p", "value": "2"}`, 400, "INVALID_PARAMETER_VALUE"},
		{"malformed JSON", "POST", base + "/runs/log-parameter", "application/json", `{"run_id": `, 400, "INVALID_PARAMETER_VALUE"},
		{"wrong type", "POST", base + "/runs/log-metric", "application/json", `{"run_id": "` + r.Info.RunID + `", "key": "m", "value": "abc", "timestamp": 1}`, 400, "INVALID_PARAMETER_VALUE"},
		{"wrong content type", "POST", base + "/runs/log-parameter", "text/plain", `{}`, 400, "INVALID_PARAMETER_VALUE"},
		{"bad filter", "POST", base + "/runs/search", "application/json", `{"experiment_ids": ["0"], "filter": "metrics.x = 'a'"}`, 400, "INVALID_PARAMETER_VALUE"},
		{"duplicate order_by", "POST", base + "/runs/search", "application/json", `{"experiment_ids": ["0"], "order_by": ["start_time", "start_time DESC"]}`, 400, "INVALID_PARAMETER_VALUE"},
		{"bad page token", "POST", base + "/runs/search", "application/json", `{"experiment_ids": ["0"], "page_token": "garbage!"}`, 400, "INVALID_PARAMETER_VALUE"},
		{"bad view type", "POST", base + "/runs/search", "application/json", `{"experiment_ids": ["0"], "run_view_type": "SOME"}`, 400, "INVALID_PARAMETER_VALUE"},
		{"too many results", "POST", base + "/runs/search", "application/json", `{"experiment_ids": ["0"], "max_results": 50001}`, 400, "INVALID_PARAMETER_VALUE"},
		{"bad status", "POST", base + "/runs/update", "application/json", `{"run_id": "` + r.Info.RunID + `", "status": "DONE"}`, 400, "INVALID_PARAMETER_VALUE"},
		{"bad model json", "POST", base + "/runs/log-model", "application/json", `{"run_id": "` + r.Info.RunID + `", "model_json": "{\"artifact_path\": \"m\"}"}`, 400, "INVALID_PARAMETER_VALUE"},
		{"bulk too many runs", "GET", base + "/metrics/get-history-bulk-interval?metric_key=m" + manyRunIDs(101), "", "", 400, "INVALID_PARAMETER_VALUE"},
		{"mpu", "POST", "/api/2.0/mlflow-artifacts/mpu/create/x", "application/json", `{"path": "x"}`, 501, "NOT_IMPLEMENTED"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, b := ts.do(t, tc.method, tc.path, tc.ct, []byte(tc.body))
			var eb struct{ ErrorCode, Message string }
			var m map[string]string
			json.Unmarshal(b, &m)
			eb.ErrorCode, eb.Message = m["error_code"], m["message"]
			if st != tc.status || eb.ErrorCode != tc.code || eb.Message == "" {
				t.Fatalf("got %d %s, want %d %s", st, b, tc.status, tc.code)
			}
			if bytes.Contains(b, []byte("goroutine")) || bytes.Contains(b, []byte("panic")) {
				t.Fatalf("stack trace in the error: %s", b)
			}
		})
	}
}

func manyRunIDs(n int) string {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		b.WriteString("&run_ids=r")
	}
	return b.String()
}

func TestBodyLimit(t *testing.T) {
	ts := newServer(t)
	big := bytes.Repeat([]byte(" "), server.DefaultBodyLimit+10)
	st, b := ts.do(t, "POST", "/api/2.0/mlflow/experiments/create", "application/json", big)
	if st != 400 || !bytes.Contains(b, []byte("INVALID_PARAMETER_VALUE")) {
		t.Fatalf("oversized body: %d %s", st, b)
	}
}

func TestSearchDatasets(t *testing.T) {
	ts := newServer(t)
	r := newRun(t, ts)
	err := ts.store.LogInputs(context.Background(), r.Info.RunID, []store.DatasetInput{{
		Tags:    []store.Tag{{Key: "mlflow.data.context", Value: "training"}},
		Dataset: store.Dataset{Name: "iris", Digest: "d1", SourceType: "local", Source: "{}"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	st, m := ts.post(t, "/ajax-api/2.0/mlflow/experiments/search-datasets", map[string]any{"experiment_ids": []string{"0"}})
	sums, _ := m["dataset_summaries"].([]any)
	if st != 200 || len(sums) != 1 || sums[0].(map[string]any)["context"] != "training" || sums[0].(map[string]any)["name"] != "iris" {
		t.Fatalf("search-datasets: %d %v", st, m)
	}
	if st, _ := ts.post(t, "/ajax-api/2.0/mlflow/experiments/search-datasets", map[string]any{}); st != 400 {
		t.Fatalf("no experiment ids: %d", st)
	}
}

func jsonBody(v any) ([]byte, error) { return json.Marshal(v) }

func contains(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }
