package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/internal/testutil"
)

// TestTraceEndpoints: MLflow 2.x's trace endpoints over HTTP: the
// response shapes, the errors MLflow gives, and the data location tag.
func TestTraceEndpoints(t *testing.T) {
	ts := newServer(t)
	const api = "/api/2.0/mlflow"
	st, m := ts.post(t, api+"/traces", map[string]any{"experiment_id": "0", "timestamp_ms": 100,
		"request_metadata": []map[string]string{{"key": "mlflow.trace_schema.version", "value": "2"}},
		"tags":             []map[string]string{{"key": "mlflow.traceName", "value": "predict"}}})
	info, _ := m["trace_info"].(map[string]any)
	if st != 200 || info["status"] != "IN_PROGRESS" || info["experiment_id"] != "0" || info["timestamp_ms"] != 100.0 {
		t.Fatalf("start: %d %v", st, m)
	}
	id := info["request_id"].(string)
	tags, _ := info["tags"].([]any)
	if len(tags) != 2 || tags[1].(map[string]any)["value"] != "mlflow-artifacts:/0/traces/"+id+"/artifacts" {
		t.Fatalf("tags %v", tags)
	}
	status, body := ts.do(t, "PATCH", api+"/traces/"+id, "application/json", []byte(`{"timestamp_ms": 350, "status": "OK"}`))
	if status != 200 || !strings.Contains(string(body), `"execution_time_ms":250`) || !strings.Contains(string(body), `"status":"OK"`) {
		t.Fatalf("end: %d %s", status, body)
	}
	if status, body := ts.do(t, "GET", api+"/traces?experiment_ids=0&filter=name%20%3D%20%27predict%27", "", nil); status != 200 || !strings.Contains(string(body), id) {
		t.Fatalf("search: %d %s", status, body)
	}
	for _, c := range []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"POST", api + "/traces", `{"experiment_id": "424242"}`, 404, "RESOURCE_DOES_NOT_EXIST"},
		{"POST", api + "/traces", `{"experiment_id": "0", "tags": [{"key": "mlflow.artifactLocation", "value": "/etc"}]}`, 400, "INVALID_PARAMETER_VALUE"},
		{"PATCH", api + "/traces/0123456789abcdef0123456789abcdef", `{"timestamp_ms": 1}`, 404, "RESOURCE_DOES_NOT_EXIST"},
		{"DELETE", api + "/traces/" + id + "/tags", `{}`, 400, "INVALID_PARAMETER_VALUE"},
		{"DELETE", api + "/traces/" + id + "/tags", `{"key": "nope"}`, 404, "RESOURCE_DOES_NOT_EXIST"},
		{"GET", api + "/traces", ``, 400, "INVALID_PARAMETER_VALUE"},
		{"POST", api + "/traces/delete-traces", `{"experiment_id": "0"}`, 400, "INVALID_PARAMETER_VALUE"},
	} {
		var b []byte
		ct := ""
		if c.body != "" {
			b, ct = []byte(c.body), "application/json"
		}
		status, body := ts.do(t, c.method, c.path, ct, b)
		if status != c.status || !strings.Contains(string(body), c.code) {
			t.Errorf("%s %s %s: %d %s, want %d %s", c.method, c.path, c.body, status, body, c.status, c.code)
		}
	}
	if status, body := ts.do(t, "DELETE", api+"/traces/"+id+"/tags", "application/json", []byte(`{"key": "mlflow.traceName"}`)); status != 200 {
		t.Fatalf("delete tag: %d %s", status, body)
	}
	if status, body := ts.do(t, "POST", api+"/traces/delete-traces", "application/json", []byte(`{"experiment_id": "0", "request_ids": ["`+id+`"]}`)); status != 200 || string(body) != `{"traces_deleted":1}` {
		t.Fatalf("delete: %d %s", status, body)
	}
}

// TestTraceEndpointsV3: what MLflow 3's client sends at a trace's end and
// reads back, in MLflow 3's shapes (protobuf JSON times, maps), and the v2
// endpoints reading the same trace by its tr- id.
func TestTraceEndpointsV3(t *testing.T) {
	ts := newServer(t)
	const v3 = "/api/3.0/mlflow"
	body := `{"trace": {"trace_info": {"trace_id": "tr-0123456789abcdef0123456789abcdef", "client_request_id": "c-1",
		"trace_location": {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": "0"}},
		"request_preview": "{\"q\": 1}", "request_time": "2026-01-02T03:04:05.678Z", "execution_duration": "1.250s", "state": "OK",
		"trace_metadata": {"mlflow.trace_schema.version": "3", "mlflow.sourceRun": "r1"}, "tags": {"mlflow.traceName": "agent"}}}}`
	status, resp := ts.do(t, "POST", v3+"/traces", "application/json", []byte(body))
	for _, want := range []string{`"trace_id":"tr-0123456789abcdef0123456789abcdef"`, `"request_time":"2026-01-02T03:04:05.678Z"`, `"execution_duration":"1.250s"`,
		`"state":"OK"`, `"mlflow.artifactLocation":"mlflow-artifacts:/0/traces/tr-0123456789abcdef0123456789abcdef/artifacts"`,
		`"trace_location":{"type":"MLFLOW_EXPERIMENT","mlflow_experiment":{"experiment_id":"0"}}`, `"client_request_id":"c-1"`} {
		if status != 200 || !strings.Contains(string(resp), want) {
			t.Fatalf("StartTraceV3: %d %s lacks %s", status, resp, want)
		}
	}
	// mlrun keeps the spans MLflow 3.4+'s client sends to /v1/traces, so
	// the client is told to upload no traces.json (TestMLflow36ClientTraces).
	if !strings.Contains(string(resp), `"mlflow.trace.spansLocation":"TRACKING_STORE"`) {
		t.Fatalf("StartTraceV3 on a database with MLflow 3's spans table: %s lacks spansLocation TRACKING_STORE", resp)
	}
	if status, resp := ts.do(t, "GET", v3+"/traces/tr-0123456789abcdef0123456789abcdef", "", nil); status != 200 || !strings.Contains(string(resp), `"state":"OK"`) {
		t.Fatalf("GetTraceInfoV3: %d %s", status, resp)
	}
	if status, resp := ts.do(t, "GET", v3+"/traces/tr-nope", "", nil); status != 404 || !strings.Contains(string(resp), "Trace with ID 'tr-nope' not found.") {
		t.Fatalf("unknown v3 trace: %d %s", status, resp)
	}
	status, resp = ts.do(t, "POST", v3+"/traces/search", "application/json", []byte(`{"locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": "0"}}], "filter": "run_id = 'r1'"}`))
	if status != 200 || !strings.Contains(string(resp), "tr-0123456789abcdef0123456789abcdef") {
		t.Fatalf("SearchTracesV3: %d %s", status, resp)
	}
	if status, resp := ts.do(t, "POST", v3+"/traces/search", "application/json", []byte(`{}`)); status != 400 {
		t.Fatalf("SearchTracesV3 without locations: %d %s", status, resp)
	}
	if status, resp := ts.do(t, "POST", v3+"/traces", "application/json", []byte(`{"trace": {"trace_info": {"trace_id": "tr-1", "trace_location": {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": "0"}}, "request_time": "yesterday"}}}`)); status != 400 {
		t.Fatalf("a bad request_time: %d %s", status, resp)
	}
	// The v2 endpoints read it by the same id (as 3.x clients do for tags and deletes).
	if status, resp := ts.do(t, "GET", "/api/2.0/mlflow/traces/tr-0123456789abcdef0123456789abcdef/info", "", nil); status != 200 || !strings.Contains(string(resp), `"execution_time_ms":1250`) {
		t.Fatalf("v2 info of a v3 trace: %d %s", status, resp)
	}
}

// TestTraceDataAndUI: the spans a client uploads as traces.json (MLflow
// 2.x's layout, then 3.x's) come back from get-trace-artifact and show
// as a tree, parent before children, each with its bar on the trace's
// timeline, on the UI's trace page; the experiment's trace list links it.
func TestTraceDataAndUI(t *testing.T) {
	ts := newServer(t)
	const api = "/api/2.0/mlflow"
	_, m := ts.post(t, api+"/traces", map[string]any{"experiment_id": "0", "timestamp_ms": 1000, "tags": []map[string]string{{"key": "mlflow.traceName", "value": "agent"}}})
	id := m["trace_info"].(map[string]any)["request_id"].(string)
	if status, body := ts.do(t, "GET", "/ajax-api/2.0/mlflow/get-trace-artifact?request_id="+id, "", nil); status != 404 || !strings.Contains(string(body), "Trace data not found") {
		t.Fatalf("no data yet: %d %s", status, body)
	}
	v2 := `{"spans": [
	 {"name": "tool", "context": {"span_id": "0x0000000000000002", "trace_id": "0x1"}, "parent_id": "0x0000000000000001", "start_time": 2000000, "end_time": 5000000, "status_code": "OK", "attributes": {"mlflow.spanType": "\"TOOL\"", "mlflow.spanInputs": "{\"q\": 1}"}},
	 {"name": "agent", "context": {"span_id": "0x0000000000000001", "trace_id": "0x1"}, "parent_id": null, "start_time": 1000000, "end_time": 9000000, "status_code": "OK", "attributes": {"mlflow.spanType": "\"AGENT\""}},
	 {"name": "llm", "context": {"span_id": "0x0000000000000003", "trace_id": "0x1"}, "parent_id": "0x0000000000000002", "start_time": 3000000, "end_time": 4000000, "status_code": "ERROR",
	  "attributes": {"mlflow.spanType": "\"CHAT_MODEL\"", "mlflow.spanInputs": "{\"messages\": [{\"role\": \"user\", \"content\": \"Capital of France?\"}]}",
	   "mlflow.spanOutputs": "{\"choices\": [{\"message\": {\"role\": \"assistant\", \"content\": \"Paris.\"}}]}"}}
	], "request": null, "response": null}`
	if status, body := ts.do(t, "PUT", "/api/2.0/mlflow-artifacts/artifacts/0/traces/"+id+"/artifacts/traces.json", "", []byte(v2)); status != 200 {
		t.Fatalf("upload traces.json: %d %s", status, body)
	}
	status, body := ts.do(t, "GET", "/ajax-api/2.0/mlflow/get-trace-artifact?request_id="+id, "", nil)
	if status != 200 || !strings.Contains(string(body), `"name":"llm"`) {
		t.Fatalf("get-trace-artifact: %d %s", status, body)
	}
	if status, body := ts.do(t, "GET", "/experiments/0/traces", "", nil); status != 200 || !strings.Contains(string(body), `href="/traces/`+id+`"`) || !strings.Contains(string(body), "agent") {
		t.Fatalf("UI trace list: %d", status)
	}
	status, body = ts.do(t, "GET", "/traces/"+id, "", nil)
	page := string(body)
	ia, it, il := strings.Index(page, ">agent<"), strings.Index(page, "↳ tool"), strings.Index(page, "↳ llm")
	if status != 200 || ia < 0 || it < ia || il < it || !strings.Contains(page, "span depth2") || !strings.Contains(page, "TOOL") || !strings.Contains(page, "3.0 ms") {
		t.Fatalf("UI trace page: %d, spans out of order or missing (%d %d %d)\n%s", status, ia, it, il, page)
	}
	// A chat model's span shows its conversation.
	if !strings.Contains(page, `<p class="msg"><b class="role">user</b> Capital of France?</p><p class="msg"><b class="role">assistant</b> Paris.</p>`) {
		t.Errorf("the chat span's conversation is not shown:\n%s", page)
	}
	// Each span's bar on the timeline, from the first start (1 ms) to the
	// last end (9 ms): agent the whole, tool 2-5 ms, llm 3-4 ms.
	for _, bar := range []string{`style="margin-left: 0.00%; width: 100.00%"`, `style="margin-left: 12.50%; width: 37.50%"`, `style="margin-left: 25.00%; width: 12.50%"`} {
		if !strings.Contains(page, bar) {
			t.Errorf("the trace's timeline lacks %s", bar)
		}
	}
	// MLflow 3's layout: ids in base64, *_unix_nano, status objects.
	v3 := `{"spans": [
	 {"trace_id": "AAAAAAAAAAAAAAAAAAAAAQ==", "span_id": "AAAAAAAAAAE=", "parent_span_id": null, "name": "root3", "start_time_unix_nano": 1000000, "end_time_unix_nano": 3000000, "status": {"code": "STATUS_CODE_OK"}, "attributes": {}},
	 {"trace_id": "AAAAAAAAAAAAAAAAAAAAAQ==", "span_id": "AAAAAAAAAAI=", "parent_span_id": "AAAAAAAAAAE=", "name": "child3", "start_time_unix_nano": 1500000, "end_time_unix_nano": 2000000, "status": {"code": "STATUS_CODE_ERROR", "message": "ValueError: bad"}, "attributes": {}},
	 {"trace_id": "AAAAAAAAAAAAAAAAAAAAAQ==", "span_id": "not-an-id", "name": "broken"},
	 {"trace_id": "tr-00000000000000000000000000000001", "otel_trace_id": "00000000000000000000000000000001", "span_id": "0000000000000003", "parent_span_id": "0000000000000002", "name": "grandchild37", "start_time_unix_nano": 1600000, "end_time_unix_nano": null, "status": {"code": "UNSET"}, "attributes": {}}
	]}`
	ts.do(t, "PUT", "/api/2.0/mlflow-artifacts/artifacts/0/traces/"+id+"/artifacts/traces.json", "", []byte(v3))
	status, body = ts.do(t, "GET", "/traces/"+id, "", nil)
	// MLflow 3.7's layout (hex ids) too; a span that cannot be read is
	// named, the others shown.
	if status != 200 || !strings.Contains(string(body), "↳ child3") || !strings.Contains(string(body), "ERROR") || !strings.Contains(string(body), "ValueError: bad") ||
		!strings.Contains(string(body), "span depth2") || !strings.Contains(string(body), "↳ grandchild37") || !strings.Contains(string(body), "running") ||
		!strings.Contains(string(body), "1 of the trace&#39;s spans could not be read: span 2:") {
		t.Fatalf("UI trace page, MLflow 3 layout: %d\n%s", status, body)
	}
}

// TestAssessments: MLflow 3's feedback and expectations on a trace:
// create, get, update by mask, the trace info listing them, delete, and
// MLflow's errors (neither feedback nor expectation 400, unknown trace 404).
func TestAssessments(t *testing.T) {
	ts := newServer(t)
	const v3 = "/api/3.0/mlflow"
	ts.do(t, "POST", v3+"/traces", "application/json", []byte(`{"trace": {"trace_info": {"trace_id": "tr-1", "trace_location": {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": "0"}}, "request_time": "2026-01-01T00:00:00Z", "state": "OK"}}}`))
	status, body := ts.do(t, "POST", v3+"/traces/tr-1/assessments", "application/json",
		[]byte(`{"assessment": {"assessment_name": "correct", "source": {"source_type": "LLM_JUDGE", "source_id": "gpt"}, "feedback": {"value": 0.8}, "rationale": "close", "metadata": {"k": "v"}}}`))
	if status != 200 || !strings.Contains(string(body), `"assessment_id":"a-`) || !strings.Contains(string(body), `"feedback":{"value":0.8}`) || !strings.Contains(string(body), `"valid":true`) {
		t.Fatalf("create: %d %s", status, body)
	}
	var m struct {
		Assessment struct {
			ID string `json:"assessment_id"`
		} `json:"assessment"`
	}
	json.Unmarshal(body, &m)
	id := m.Assessment.ID
	status, body = ts.do(t, "PATCH", v3+"/traces/tr-1/assessments/"+id, "application/json", []byte(`{"assessment": {"assessment_name": "correct", "rationale": "exact"}, "update_mask": "rationale"}`))
	if status != 200 || !strings.Contains(string(body), `"rationale":"exact"`) || !strings.Contains(string(body), `"value":0.8`) {
		t.Fatalf("update: %d %s", status, body)
	}
	if status, body := ts.do(t, "GET", v3+"/traces/tr-1", "", nil); status != 200 || !strings.Contains(string(body), `"assessments":[{"assessment_id":"`+id) {
		t.Fatalf("trace info with assessments: %d %s", status, body)
	}
	for _, c := range []struct {
		method, path, body string
		status             int
	}{
		{"POST", v3 + "/traces/tr-1/assessments", `{"assessment": {"assessment_name": "x", "source": {"source_type": "HUMAN"}}}`, 400},
		{"POST", v3 + "/traces/tr-none/assessments", `{"assessment": {"assessment_name": "x", "source": {"source_type": "HUMAN"}, "expectation": {"value": "4"}}}`, 404},
		{"PATCH", v3 + "/traces/tr-1/assessments/" + id, `{"assessment": {}, "update_mask": "colour"}`, 400},
		{"GET", v3 + "/traces/tr-1/assessments/a-nope", ``, 404},
	} {
		var b []byte
		ct := ""
		if c.body != "" {
			b, ct = []byte(c.body), "application/json"
		}
		if status, body := ts.do(t, c.method, c.path, ct, b); status != c.status {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, status, body, c.status)
		}
	}
	if status, _ := ts.do(t, "DELETE", v3+"/traces/tr-1/assessments/"+id, "", nil); status != 200 {
		t.Fatalf("delete: %d", status)
	}
	if status, _ := ts.do(t, "GET", v3+"/traces/tr-1/assessments/"+id, "", nil); status != 404 {
		t.Fatalf("get after delete: %d", status)
	}
}

// TestTraceTagsV3AndLinkedPrompts: MLflow 3's client sets and deletes a
// trace's tags at /api/3.0/mlflow/traces/{trace_id}/tags, and links the
// prompt versions a trace used with traces/link-prompts (its
// mlflow.linkedPrompts tag).
func TestTraceTagsV3AndLinkedPrompts(t *testing.T) {
	srv := testutil.StartServer(t, true)
	ctx := context.Background()
	exp, _ := srv.Store.CreateExperiment(ctx, "v3-tags", "", nil)
	tr, err := srv.Store.StartTrace(ctx, exp, 1, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	v3 := srv.URL + "/api/3.0/mlflow/traces/" + tr.RequestID + "/tags"
	if status, m := callJSON(t, "PATCH", v3, `{"key": "env", "value": "prod"}`); status != 200 || len(m) != 0 {
		t.Fatalf("set tag: %d %v", status, m)
	}
	if status, m := callJSON(t, "POST", srv.URL+"/api/2.0/mlflow/traces/link-prompts",
		`{"trace_id": "`+tr.RequestID+`", "prompt_versions": [{"name": "qa", "version": "2"}]}`); status != 200 {
		t.Fatalf("link prompts: %d %v", status, m)
	}
	got, _ := srv.Store.GetTraceInfo(ctx, tr.RequestID)
	tags := map[string]string{}
	for _, tg := range got.Tags {
		tags[tg.Key] = tg.Value
	}
	if tags["env"] != "prod" || tags["mlflow.linkedPrompts"] != `[{"name":"qa","version":"2"}]` {
		t.Fatalf("tags: %v", tags)
	}
	if status, m := callJSON(t, "DELETE", v3, `{"key": "env"}`); status != 200 {
		t.Fatalf("delete tag: %d %v", status, m)
	}
	if status, m := callJSON(t, "DELETE", v3, `{"key": "env"}`); status != 404 || m["error_code"] != "RESOURCE_DOES_NOT_EXIST" {
		t.Fatalf("delete the tag again: %d %v", status, m)
	}
	if status, m := callJSON(t, "POST", srv.URL+"/api/2.0/mlflow/traces/link-prompts", `{"prompt_versions": []}`); status != 400 || m["error_code"] != "INVALID_PARAMETER_VALUE" {
		t.Fatalf("link prompts without a trace: %d %v", status, m)
	}
}
