package server_test

import (
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mlrun/mlrun/internal/spans"
	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/rest"
)

// Two traces as an MLflow 3.6 server (uvicorn, spans sent by OTLP) leaves
// them in its database: a finished one whose two spans are in the spans
// table (content: Span.to_dict in 3.6's layout; one with its 64-bit times
// as protobuf's JSON strings), and one still running with one of its
// three spans.
const (
	doneTrace    = "tr-0af7651916cd43dd8448eb211c80319c"
	runningTrace = "tr-11111111111111111111111111111111"
)

func insertMLflow36Spans(t *testing.T) func(db *sql.DB) {
	return func(db *sql.DB) {
		stmts := []string{
			`INSERT INTO trace_info (request_id, experiment_id, timestamp_ms, execution_time_ms, status, request_preview, response_preview)
			 VALUES ('` + doneTrace + `', 1, 1700000000000, 500, 'OK', '{"question": "why?"}', '"because"'),
			        ('` + runningTrace + `', 1, 1700000001000, NULL, 'IN_PROGRESS', NULL, NULL)`,
			`INSERT INTO trace_tags ("key", value, request_id) VALUES
			 ('mlflow.trace.spansLocation', 'TRACKING_STORE', '` + doneTrace + `'), ('mlflow.artifactLocation', 'mlflow-artifacts:/1/traces/` + doneTrace + `/artifacts', '` + doneTrace + `'),
			 ('mlflow.traceName', 'agent', '` + doneTrace + `'),
			 ('mlflow.trace.spansLocation', 'TRACKING_STORE', '` + runningTrace + `'), ('mlflow.artifactLocation', 'mlflow-artifacts:/1/traces/` + runningTrace + `/artifacts', '` + runningTrace + `')`,
			`INSERT INTO trace_request_metadata ("key", value, request_id) VALUES
			 ('mlflow.trace_schema.version', '3', '` + doneTrace + `'), ('mlflow.trace.sizeStats', '{"total_size_bytes": 900, "num_spans": 2, "max": 500, "p25": 400, "p50": 450, "p75": 500}', '` + doneTrace + `'),
			 ('mlflow.trace_schema.version', '3', '` + runningTrace + `'), ('mlflow.trace.sizeStats', '{"total_size_bytes": 900, "num_spans": 3}', '` + runningTrace + `')`,
			`INSERT INTO spans (trace_id, experiment_id, span_id, parent_span_id, name, type, status, start_time_unix_nano, end_time_unix_nano, content) VALUES
			 ('` + doneTrace + `', 1, '0000000000000002', '0000000000000001', 'retrieve', 'RETRIEVER', 'OK', 1700000000100000000, 1700000000300000000,
			  '{"trace_id": "CvdlGRbNQ92ESOshHIAxnA==", "span_id": "AAAAAAAAAAI=", "trace_state": "", "parent_span_id": "AAAAAAAAAAE=", "name": "retrieve", "start_time_unix_nano": "1700000000100000000", "end_time_unix_nano": "1700000000300000000", "attributes": {"mlflow.traceRequestId": "\"` + doneTrace + `\"", "mlflow.spanType": "\"RETRIEVER\"", "mlflow.spanInputs": "{\"query\": \"why?\"}", "mlflow.spanOutputs": "[{\"page_content\": \"because\", \"metadata\": {\"k\": 1}}]"}, "status": {"code": "STATUS_CODE_OK", "message": ""}, "events": []}'),
			 ('` + doneTrace + `', 1, '0000000000000001', NULL, 'agent', 'AGENT', 'OK', 1700000000000000000, 1700000000500000000,
			  '{"trace_id": "CvdlGRbNQ92ESOshHIAxnA==", "span_id": "AAAAAAAAAAE=", "trace_state": "", "parent_span_id": "", "name": "agent", "start_time_unix_nano": 1700000000000000000, "end_time_unix_nano": 1700000000500000000, "attributes": {"mlflow.traceRequestId": "\"` + doneTrace + `\"", "mlflow.spanType": "\"AGENT\"", "mlflow.spanInputs": "{\"question\": \"why?\"}", "mlflow.spanOutputs": "\"because\""}, "status": {"code": "STATUS_CODE_OK", "message": ""}, "events": []}'),
			 ('` + runningTrace + `', 1, '0000000000000005', NULL, 'chain', 'CHAIN', 'UNSET', 1700000001000000000, NULL,
			  '{"trace_id": "EREREREREREREREREREREQ==", "span_id": "AAAAAAAAAAU=", "parent_span_id": null, "name": "chain", "start_time_unix_nano": 1700000001000000000, "end_time_unix_nano": null, "attributes": {"mlflow.spanType": "\"CHAIN\""}, "status": {"code": "STATUS_CODE_UNSET", "message": ""}, "events": []}')`,
		}
		for _, q := range stmts {
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%v\n%s", err, q)
			}
		}
	}
}

// TestSpansOfAnMLflow36Server reads the spans an MLflow 3.6 server kept in
// its database: GetTrace and BatchGetTraces answer with them (protobuf's
// JSON of OpenTelemetry spans, read back with protojson), the UI's
// get-trace-artifact and trace page show them, and mlrun's REST store
// reads them back into MLflow's span dicts.
func TestSpansOfAnMLflow36Server(t *testing.T) {
	url, _ := mlflow36ServerWith(t, insertMLflow36Spans(t))

	status, m := callJSON(t, "GET", url+"/api/3.0/mlflow/traces/get?trace_id="+doneTrace, "")
	tr, _ := m["trace"].(map[string]any)
	list, _ := tr["spans"].([]any)
	if status != 200 || len(list) != 2 || tr["trace_info"].(map[string]any)["trace_id"] != doneTrace {
		t.Fatalf("GetTrace: %d %v", status, m)
	}
	var names []string
	for _, raw := range list {
		b, _ := json.Marshal(raw)
		sp, err := spans.ParseProtoJSON(b)
		if err != nil {
			t.Fatalf("a span is not OpenTelemetry's: %v\n%s", err, b)
		}
		names = append(names, sp.GetName())
		if sp.GetName() == "agent" && (len(sp.GetParentSpanId()) != 0 || sp.GetEndTimeUnixNano() != 1700000000500000000 || sp.GetStatus().GetCode().String() != "STATUS_CODE_OK") {
			t.Errorf("the root span: %v", sp)
		}
		if sp.GetName() == "retrieve" && (sp.GetStartTimeUnixNano() != 1700000000100000000 || !strings.Contains(string(b), `{"key":"mlflow.spanType","value":{"string_value":"RETRIEVER"}}`) ||
			!strings.Contains(string(b), `"start_time_unix_nano":1700000000100000000`)) {
			t.Errorf("the child span: %s", b)
		}
	}
	if strings.Join(names, ",") != "agent,retrieve" {
		t.Fatalf("spans in start order: %v", names)
	}

	// A running trace: whole only with allow_partial; BatchGetTraces
	// leaves it out, and unknown ids too.
	if status, m := callJSON(t, "GET", url+"/api/3.0/mlflow/traces/get?trace_id="+runningTrace+"&allow_partial=true", ""); status != 200 || len(m["trace"].(map[string]any)["spans"].([]any)) != 1 {
		t.Fatalf("GetTrace with allow_partial: %d %v", status, m)
	}
	start := time.Now()
	if status, m := callJSON(t, "GET", url+"/api/3.0/mlflow/traces/get?trace_id="+runningTrace, ""); status != 404 || m["error_code"] != "RESOURCE_DOES_NOT_EXIST" || !strings.Contains(m["message"].(string), "1 of its 3 spans") {
		t.Fatalf("GetTrace of a running trace: %d %v", status, m)
	} else if time.Since(start) < 2*time.Second {
		t.Fatalf("GetTrace gave up on a running trace after %v, not waiting for its spans", time.Since(start))
	}
	status, m = callJSON(t, "GET", url+"/api/3.0/mlflow/traces/batchGet?trace_ids="+doneTrace+"&trace_ids="+runningTrace+"&trace_ids=tr-nope", "")
	if traces, _ := m["traces"].([]any); status != 200 || len(traces) != 1 || traces[0].(map[string]any)["trace_info"].(map[string]any)["trace_id"] != doneTrace {
		t.Fatalf("BatchGetTraces: %d %v", status, m)
	}
	for _, tc := range []struct{ q, code string }{{"traces/get", "INVALID_PARAMETER_VALUE"}, {"traces/get?trace_id=tr-nope", "RESOURCE_DOES_NOT_EXIST"},
		{"traces/batchGet", "INVALID_PARAMETER_VALUE"}, {"traces/get?trace_id=" + doneTrace + "&allow_partial=maybe", "INVALID_PARAMETER_VALUE"}} {
		if status, m := callJSON(t, "GET", url+"/api/3.0/mlflow/"+tc.q, ""); m["error_code"] != tc.code {
			t.Errorf("GET %s: %d %v, want %s", tc.q, status, m, tc.code)
		}
	}

	// The UI's trace data and page.
	req, _ := http.NewRequest("GET", url+"/ajax-api/2.0/mlflow/get-trace-artifact?request_id="+doneTrace, nil)
	if status, body, _ := send(t, req); status != 200 || !strings.Contains(body, `"name":"agent"`) || !strings.Contains(body, `"name":"retrieve"`) {
		t.Fatalf("get-trace-artifact: %d %s", status, body)
	}
	if _, page, _ := send(t, mustRequest(t, "GET", url+"/traces/"+doneTrace)); !strings.Contains(page, "↳ retrieve") {
		t.Fatalf("the trace's page lacks its spans:\n%s", page)
	}

	// mlrun's REST store, as an MLflow 3 client reads them.
	rs, err := rest.Open(url, rest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := rs.TraceSpans(t.Context(), []string{doneTrace, runningTrace})
	if err != nil || len(got) != 1 || len(got[doneTrace]) != 2 {
		t.Fatalf("REST TraceSpans: %v %v", got, err)
	}
	sp, err := spans.Parse(got[doneTrace][1])
	if err != nil || sp.Name != "retrieve" || sp.Type() != "RETRIEVER" || sp.Attributes["mlflow.spanOutputs"] == nil {
		t.Fatalf("a span read back through REST: %+v %v", sp, err)
	}
	var outputs []map[string]any
	if err := json.Unmarshal([]byte(sp.Attributes["mlflow.spanOutputs"].(string)), &outputs); err != nil || outputs[0]["page_content"] != "because" {
		t.Fatalf("the child's outputs through REST: %v %v", sp.Attributes["mlflow.spanOutputs"], err)
	}

	// Through a server, spans are filed under their own trace id: spans of
	// another trace are refused before anything is sent.
	other := json.RawMessage(`{"trace_id": "EREREREREREREREREREREQ==", "span_id": "AAAAAAAAAAk=", "parent_span_id": null, "name": "x",
		"start_time_unix_nano": 1, "end_time_unix_nano": 2, "status": {"code": "STATUS_CODE_OK"}, "attributes": {}}`)
	if err := rs.LogSpans(t.Context(), doneTrace, []json.RawMessage{other}); !errors.Is(err, store.ErrInvalidArgument) || !strings.Contains(err.Error(), "belongs to trace "+runningTrace) {
		t.Fatalf("spans of another trace through REST: %v", err)
	}
	if got, _ := rs.TraceSpans(t.Context(), []string{doneTrace}); len(got[doneTrace]) != 2 {
		t.Fatalf("a refused LogSpans changed the trace: %v", got)
	}
}

// TestTraceFilterCorrelation: MLflow 3's CalculateTraceFilterCorrelation
// on a real server: the four counts within the base filter, the NPMI
// scores (the values MLflow's formula gives), scores left out where
// undefined, and refusals.
func TestTraceFilterCorrelation(t *testing.T) {
	srv := testutil.StartServer(t, true)
	ctx := t.Context()
	exp, _ := srv.Store.CreateExperiment(ctx, "correlation", "", nil)
	// 10 production traces: 4 tagged a, 5 tagged b, 3 of them both; 2
	// development traces tagged both, outside the base filter.
	for i := range 12 {
		tags := []store.Tag{{Key: "env", Value: "prod"}}
		if i >= 10 {
			tags = []store.Tag{{Key: "env", Value: "dev"}, {Key: "a", Value: "1"}, {Key: "b", Value: "1"}}
		}
		if i < 4 {
			tags = append(tags, store.Tag{Key: "a", Value: "1"})
		}
		if i >= 1 && i < 6 {
			tags = append(tags, store.Tag{Key: "b", Value: "1"})
		}
		if _, err := srv.Store.StartTrace(ctx, exp, int64(i), nil, tags); err != nil {
			t.Fatal(err)
		}
	}
	post := func(body string) (int, map[string]any) {
		return callJSON(t, "POST", srv.URL+"/api/3.0/mlflow/traces/calculate-filter-correlation", body)
	}
	status, m := post(`{"experiment_ids": ["` + exp + `"], "filter_string1": "tag.a = '1'", "filter_string2": "tag.b = '1'", "base_filter": "tag.env = 'prod'"}`)
	if status != 200 || m["total_count"] != 10.0 || m["filter1_count"] != 4.0 || m["filter2_count"] != 5.0 || m["joint_count"] != 3.0 ||
		math.Abs(m["npmi"].(float64)-0.33677264689975395) > 1e-12 || math.Abs(m["npmi_smoothed"].(float64)-0.2730787340224989) > 1e-12 {
		t.Fatalf("correlation: %d %v", status, m)
	}
	status, m = post(`{"experiment_ids": ["` + exp + `"], "filter_string1": "tag.a = '1'", "filter_string2": "tag.nope = 'x'"}`)
	if _, has := m["npmi"]; status != 200 || has || m["total_count"] != 12.0 || m["filter2_count"] != 0.0 {
		t.Fatalf("a filter matching nothing: %d %v", status, m)
	}
	for body, want := range map[string]string{
		`{"filter_string1": "tag.a = '1'", "filter_string2": "tag.b = '1'"}`:                          "experiment_ids",
		`{"experiment_ids": ["` + exp + `"], "filter_string2": "tag.b = '1'"}`:                        "filter_string1",
		`{"experiment_ids": ["` + exp + `"], "filter_string1": "tag.a >", "filter_string2": "x = 1"}`: "Invalid comparator",
	} {
		if status, m := post(body); status != 400 || m["error_code"] != "INVALID_PARAMETER_VALUE" || !strings.Contains(m["message"].(string), want) {
			t.Errorf("%s: %d %v, want 400 naming %s", body, status, m, want)
		}
	}
}
