package server_test

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	commonv1 "go.opentelemetry.io/proto/otlp/common/v1"
	tracev1 "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/mlrun/mlrun/internal/spans"
	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/internal/tracedata"
	"github.com/mlrun/mlrun/server"
	"github.com/mlrun/mlrun/store"
)

// otlpExport is an ExportTraceServiceRequest of spans, in protobuf: its
// one field, resource_spans (1), holding them.
func otlpExport(t testing.TB, spans ...*tracev1.Span) []byte {
	t.Helper()
	rs, err := proto.Marshal(&tracev1.ResourceSpans{ScopeSpans: []*tracev1.ScopeSpans{{Spans: spans}}})
	if err != nil {
		t.Fatal(err)
	}
	return protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), rs)
}

func str(k, v string) *commonv1.KeyValue {
	return &commonv1.KeyValue{Key: k, Value: &commonv1.AnyValue{Value: &commonv1.AnyValue_StringValue{StringValue: v}}}
}

// TestOTLPTraces: an OpenTelemetry SDK's OTLP/HTTP export to /v1/traces
// (MLflow 3's collector endpoint) becomes an MLflow trace of the
// experiment its header names: a child span sent first, the root later,
// merged into one traces.json in MLflow's span layout; the trace's time,
// duration, state, name and previews follow the root; MLflow 3's API, the
// UI and get-trace-artifact show it. OTLP's JSON works too; a missing
// header, an unknown experiment, another experiment's trace and a
// malformed body are refused.
func TestOTLPTraces(t *testing.T) {
	srv := testutil.StartServer(t, true)
	ctx := context.Background()
	exp, _ := srv.Store.CreateExperiment(ctx, "otel", "", nil)
	traceID, _ := hex.DecodeString("0af7651916cd43dd8448eb211c80319c")
	post := func(body []byte, ct, exp string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+"/v1/traces", bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		if exp != "" {
			req.Header.Set(server.OTLPExperimentHeader, exp)
		}
		status, b, _ := send(t, req)
		return status, b
	}
	child := &tracev1.Span{TraceId: traceID, SpanId: []byte{0, 0, 0, 0, 0, 0, 0, 2}, ParentSpanId: []byte{0, 0, 0, 0, 0, 0, 0, 1}, Name: "retrieve",
		StartTimeUnixNano: 1_700_000_000_100_000_000, EndTimeUnixNano: 1_700_000_000_300_000_000,
		Attributes: []*commonv1.KeyValue{str("mlflow.spanType", `"RETRIEVER"`), {Key: "k", Value: &commonv1.AnyValue{Value: &commonv1.AnyValue_IntValue{IntValue: 3}}},
			str("mlflow.chat.tokenUsage", `{"input_tokens": 30, "output_tokens": 12, "total_tokens": 42}`)},
		Events: []*tracev1.Span_Event{{Name: "exception", TimeUnixNano: 1_700_000_000_200_000_000, Attributes: []*commonv1.KeyValue{str("exception.type", "ValueError")}}}}
	if status, body := post(otlpExport(t, child), "application/x-protobuf", exp); status != 200 {
		t.Fatalf("export of the child: %d %s", status, body)
	}
	id := "tr-0af7651916cd43dd8448eb211c80319c"
	if got, err := srv.Store.GetTraceInfo(ctx, id); err != nil || got.Status != "IN_PROGRESS" || got.TimestampMs != 1_700_000_000_100 {
		t.Fatalf("after the child alone: %+v %v", got, err)
	}
	root := &tracev1.Span{TraceId: traceID, SpanId: []byte{0, 0, 0, 0, 0, 0, 0, 1}, Name: "agent",
		StartTimeUnixNano: 1_700_000_000_000_000_000, EndTimeUnixNano: 1_700_000_000_500_000_000,
		Status:     &tracev1.Status{Code: tracev1.Status_STATUS_CODE_OK},
		Attributes: []*commonv1.KeyValue{str("mlflow.spanInputs", `{"question": "why?"}`), str("mlflow.spanOutputs", `"because"`)}}
	if status, body := post(otlpExport(t, root), "application/x-protobuf", exp); status != 200 {
		t.Fatalf("export of the root: %d %s", status, body)
	}

	_, m := callJSON(t, "GET", srv.URL+"/api/3.0/mlflow/traces/"+id, "")
	info, _ := m["trace"].(map[string]any)["trace_info"].(map[string]any)
	if info["state"] != "OK" || info["request_time"] != "2023-11-14T22:13:20Z" || info["execution_duration"] != "0.500s" ||
		info["request_preview"] != `{"question": "why?"}` || info["response_preview"] != `"because"` || info["tags"].(map[string]any)["mlflow.traceName"] != "agent" {
		t.Fatalf("the trace: %v", m)
	}
	// The UI's list shows its request and response previews.
	if _, page, _ := send(t, mustRequest(t, "GET", srv.URL+"/experiments/"+exp+"/traces")); !strings.Contains(page, `<td class="request"><code>{&#34;question&#34;: &#34;why?&#34;}</code></td>`) ||
		!strings.Contains(page, `<td class="response"><code>&#34;because&#34;</code></td>`) {
		t.Errorf("the UI's trace list lacks the previews:\n%s", page)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/ajax-api/2.0/mlflow/get-trace-artifact?request_id="+id, nil)
	status, body, _ := send(t, req)
	var doc struct {
		Spans []struct {
			Name         string            `json:"name"`
			SpanID       string            `json:"span_id"`
			ParentSpanID *string           `json:"parent_span_id"`
			Status       map[string]string `json:"status"`
			Attributes   map[string]any    `json:"attributes"`
			Events       []map[string]any  `json:"events"`
		} `json:"spans"`
	}
	// Spans in the order they started, the root first.
	if status != 200 || json.Unmarshal([]byte(body), &doc) != nil || len(doc.Spans) != 2 || doc.Spans[1].Name != "retrieve" || doc.Spans[0].Name != "agent" ||
		doc.Spans[0].ParentSpanID != nil || *doc.Spans[1].ParentSpanID != "AAAAAAAAAAE=" || doc.Spans[0].Status["code"] != "STATUS_CODE_OK" ||
		doc.Spans[1].Attributes["mlflow.spanType"] != `"RETRIEVER"` || doc.Spans[1].Attributes["k"] != 3.0 ||
		// MLflow's Span.from_dict refuses a span without its trace's id.
		doc.Spans[0].Attributes["mlflow.traceRequestId"] != `"`+id+`"` ||
		// An event as MLflow 3's Span.from_dict reads it: time_unix_nano.
		len(doc.Spans[1].Events) != 1 || doc.Spans[1].Events[0]["time_unix_nano"] != 1.7000000002e18 || doc.Spans[1].Events[0]["name"] != "exception" {
		t.Fatalf("the trace's data: %d %s", status, body)
	}
	// As an MLflow 3.4+ server keeps them: in the spans table, in its
	// columns, the trace tagged TRACKING_STORE (and no traces.json).
	got, _ := srv.Store.GetTraceInfo(ctx, id)
	if !tracedata.InTrackingStore(got) {
		t.Fatalf("the trace's tags: %v", got.Tags)
	}
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(srv.Dir, "mlflow.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := db.QueryContext(ctx, `SELECT span_id || ' ' || COALESCE(parent_span_id, '-') || ' ' || name || ' ' || COALESCE(type, '-') || ' ' || status || ' ' || duration_ns
		FROM spans WHERE trace_id = ? ORDER BY span_id`, id)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for r.Next() {
		var row string
		r.Scan(&row)
		rows = append(rows, row)
	}
	r.Close()
	filepath.WalkDir(srv.Dir, func(p string, _ fs.DirEntry, _ error) error {
		if filepath.Base(p) == "traces.json" {
			t.Errorf("spans kept by the tracking store were also written to %s", p)
		}
		return nil
	})
	if strings.Join(rows, "; ") != "0000000000000001 - agent - OK 500000000; 0000000000000002 0000000000000001 retrieve RETRIEVER UNSET 200000000" {
		t.Fatalf("spans rows: %q", rows)
	}
	// Sent again, a span replaces itself.
	post(otlpExport(t, child), "application/x-protobuf", exp)
	if _, body, _ := send(t, mustRequest(t, "GET", srv.URL+"/ajax-api/2.0/mlflow/get-trace-artifact?request_id="+id)); strings.Count(body, `"name":"retrieve"`) != 1 {
		t.Fatalf("after sending the child again: %s", body)
	}
	// The experiment's traces page: the token usage summed from the spans,
	// and the request preview.
	if _, page, _ := send(t, mustRequest(t, "GET", srv.URL+"/experiments/"+exp+"/traces")); !strings.Contains(page, `<td class="tokens">42 (30 in, 12 out)</td>`) ||
		!strings.Contains(page, "<code>{&#34;question&#34;: &#34;why?&#34;}</code>") {
		t.Fatalf("the traces page lacks the token usage or the preview:\n%s", page)
	}
	// The UI shows the tree.
	if _, page, _ := send(t, mustRequest(t, "GET", srv.URL+"/traces/"+id)); !strings.Contains(page, "agent") || !strings.Contains(page, "↳ retrieve") ||
		// The child's other attributes and its event.
		!strings.Contains(page, "<th>k</th><td><code>3</code></td>") || !strings.Contains(page, "<b>exception</b>") || !strings.Contains(page, "<th>exception.type</th><td><code>ValueError</code></td>") {
		t.Fatalf("the trace's page lacks its spans, their attributes or events:\n%s", page)
	}

	// OTLP's JSON encoding.
	other, _ := hex.DecodeString("11111111111111111111111111111111")
	js, _ := protojson.Marshal(&tracev1.ResourceSpans{ScopeSpans: []*tracev1.ScopeSpans{{Spans: []*tracev1.Span{{TraceId: other, SpanId: []byte{1, 2, 3, 4, 5, 6, 7, 8},
		Name: "json-root", StartTimeUnixNano: 1_000_000, EndTimeUnixNano: 3_000_000, Status: &tracev1.Status{Code: tracev1.Status_STATUS_CODE_ERROR}}}}}})
	if status, body := post([]byte(`{"resourceSpans": [`+string(js)+`]}`), "application/json", exp); status != 200 || body != "{}" {
		t.Fatalf("a JSON export: %d %s", status, body)
	}
	if got, err := srv.Store.GetTraceInfo(ctx, "tr-11111111111111111111111111111111"); err != nil || got.Status != "ERROR" || got.ExecutionTimeMs != 2 {
		t.Fatalf("the JSON export's trace: %+v %v", got, err)
	}

	// gzip and deflate, as OTLP exporters (and MLflow) take them.
	for i, enc := range []string{"gzip", "deflate"} {
		id := bytes.Repeat([]byte{byte(0x21 + i)}, 16)
		var zbuf bytes.Buffer
		var zw io.WriteCloser = gzip.NewWriter(&zbuf)
		if enc == "deflate" {
			zw = zlib.NewWriter(&zbuf)
		}
		zw.Write(otlpExport(t, &tracev1.Span{TraceId: id, SpanId: []byte{1, 2, 3, 4, 5, 6, 7, 8}, Name: enc, StartTimeUnixNano: 1, EndTimeUnixNano: 2}))
		zw.Close()
		req, _ := http.NewRequest("POST", srv.URL+"/v1/traces", &zbuf)
		req.Header.Set("Content-Type", "application/x-protobuf")
		req.Header.Set("Content-Encoding", enc)
		req.Header.Set(server.OTLPExperimentHeader, exp)
		if status, body, _ := send(t, req); status != 200 {
			t.Fatalf("a %s export: %d %s", enc, status, body)
		}
		if got, err := srv.Store.GetTraceInfo(ctx, "tr-"+hex.EncodeToString(id)); err != nil || got.Status != "OK" {
			t.Fatalf("the %s export's trace: %+v %v", enc, got, err)
		}
	}
	req, _ = http.NewRequest("POST", srv.URL+"/v1/traces", bytes.NewReader(otlpExport(t, root)))
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "br")
	req.Header.Set(server.OTLPExperimentHeader, exp)
	if status, body, _ := send(t, req); status != 400 || !strings.Contains(body, "unsupported Content-Encoding: br") {
		t.Fatalf("a br export: %d %s", status, body)
	}
	req.Header.Set("Content-Encoding", "gzip")
	req.Body = io.NopCloser(bytes.NewReader([]byte("not gzip")))
	if status, body, _ := send(t, req); status != 400 || !strings.Contains(body, "failed to decompress gzip") {
		t.Fatalf("a broken gzip export: %d %s", status, body)
	}

	// A trace whose spans are already in its traces.json (sent before the
	// tracking store kept spans) keeps gathering them there.
	legacy := bytes.Repeat([]byte{0x33}, 16)
	lt, err := srv.Store.PutTrace(ctx, store.TraceInfo{RequestID: "tr-" + hex.EncodeToString(legacy), ExperimentID: exp, TimestampMs: 1})
	if err != nil {
		t.Fatal(err)
	}
	first, _ := json.Marshal(map[string]any{"spans": []any{spans.FromOTLP(&tracev1.Span{TraceId: legacy, SpanId: []byte{9, 9, 9, 9, 9, 9, 9, 9}, Name: "old", StartTimeUnixNano: 1}).Dict()}})
	loc := ""
	for _, tg := range lt.Tags {
		if tg.Key == store.TagTraceArtifactLocation {
			loc = strings.TrimPrefix(tg.Value, "mlflow-artifacts:/")
		}
	}
	os.MkdirAll(filepath.Join(srv.Artifacts, loc), 0o755)
	if err := os.WriteFile(filepath.Join(srv.Artifacts, loc, "traces.json"), first, 0o644); err != nil {
		t.Fatal(err)
	}
	post(otlpExport(t, &tracev1.Span{TraceId: legacy, SpanId: []byte{1, 1, 1, 1, 1, 1, 1, 1}, Name: "new", StartTimeUnixNano: 2, EndTimeUnixNano: 3}), "application/x-protobuf", exp)
	onDisk, _ := os.ReadFile(filepath.Join(srv.Artifacts, loc, "traces.json"))
	if lt, _ = srv.Store.GetTraceInfo(ctx, lt.RequestID); tracedata.InTrackingStore(lt) || !strings.Contains(string(onDisk), `"name":"old"`) || !strings.Contains(string(onDisk), `"name":"new"`) {
		t.Fatalf("a trace with a traces.json: tags %v, traces.json %s", lt.Tags, onDisk)
	}

	exp2, _ := srv.Store.CreateExperiment(ctx, "otel-2", "", nil)
	for _, tc := range []struct {
		body       []byte
		ct, exp    string
		status     int
		code, text string
	}{
		{otlpExport(t, root), "application/x-protobuf", "", 400, "INVALID_PARAMETER_VALUE", "x-mlflow-experiment-id"},
		{otlpExport(t, root), "application/x-protobuf", "987654", 404, "RESOURCE_DOES_NOT_EXIST", "987654"},
		{otlpExport(t, root), "application/x-protobuf", exp2, 400, "INVALID_PARAMETER_VALUE", "belongs to experiment " + exp},
		{[]byte{0x0a, 0xff}, "application/x-protobuf", exp, 400, "INVALID_PARAMETER_VALUE", "malformed OTLP"},
		{otlpExport(t, &tracev1.Span{TraceId: []byte{1}, SpanId: []byte{2}}), "application/x-protobuf", exp, 400, "INVALID_PARAMETER_VALUE", "16-byte trace_id"},
		{[]byte("x"), "text/plain", exp, 400, "INVALID_PARAMETER_VALUE", "content type"},
	} {
		status, body := post(tc.body, tc.ct, tc.exp)
		var e struct {
			ErrorCode string `json:"error_code"`
			Message   string `json:"message"`
		}
		if status != tc.status || json.Unmarshal([]byte(body), &e) != nil || e.ErrorCode != tc.code || !strings.Contains(strings.ToLower(e.Message), strings.ToLower(tc.text)) {
			t.Errorf("export %q (%s, experiment %q): %d %s, want %d %s with %q", tc.body[:min(len(tc.body), 8)], tc.ct, tc.exp, status, body, tc.status, tc.code, tc.text)
		}
	}
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// FuzzOTLP sends arbitrary bodies, as protobuf and as JSON, to /v1/traces
// of a real server: the answer is 200 or MLflow's JSON error, never a
// 5xx. The seeds (run in every go test) are real exports and their
// corruptions.
func FuzzOTLP(f *testing.F) {
	traceID, _ := hex.DecodeString("0af7651916cd43dd8448eb211c80319c")
	good := otlpExport(f, &tracev1.Span{TraceId: traceID, SpanId: []byte{1, 2, 3, 4, 5, 6, 7, 8}, Name: "root", StartTimeUnixNano: 1, EndTimeUnixNano: 2,
		Attributes: []*commonv1.KeyValue{str("mlflow.spanInputs", `{"a": 1}`), {Key: "nested", Value: &commonv1.AnyValue{Value: &commonv1.AnyValue_KvlistValue{
			KvlistValue: &commonv1.KeyValueList{Values: []*commonv1.KeyValue{str("x", "y")}}}}}}})
	for _, b := range [][]byte{good, good[:len(good)/2], append(append([]byte{}, good...), good...), {}, {0x0a, 0x00}, []byte(`{"resourceSpans": [{}]}`), []byte(`{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "AQ==", "spanId": "Ag=="}]}]}]}`)} {
		f.Add(b, false)
		f.Add(b, true)
	}
	srv := testutil.StartServer(f, true)
	f.Fuzz(func(t *testing.T, body []byte, asJSON bool) {
		ct := "application/x-protobuf"
		if asJSON {
			ct = "application/json"
		}
		req, _ := http.NewRequest("POST", srv.URL+"/v1/traces", bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		req.Header.Set(server.OTLPExperimentHeader, "0")
		status, out, _ := send(t, req)
		if status >= 500 {
			t.Fatalf("%s %q: %d %s", ct, body, status, out)
		}
		if status != 200 {
			var e struct {
				ErrorCode string `json:"error_code"`
			}
			if json.Unmarshal([]byte(out), &e) != nil || e.ErrorCode == "" {
				t.Fatalf("%s %q: %d %q, not an MLflow error", ct, body, status, out)
			}
		}
	})
}
