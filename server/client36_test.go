package server_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	commonv1 "go.opentelemetry.io/proto/otlp/common/v1"
	tracev1 "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/mlrun/mlrun/artifact/local"
	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/server"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/sqlite"
)

// mlflowClient36 speaks to a tracking server as MLflow 3.6's Python
// client logs a trace (spec/traces.md, "3.6 client flow"): it reads
// /version, sends each finished span to /v1/traces when the server is
// 3.4 or later, creates the trace with StartTraceV3 when its root ends,
// and uploads traces.json through the artifact proxy unless the returned
// trace is tagged spansLocation=TRACKING_STORE.
type mlflowClient36 struct {
	t        *testing.T
	url, exp string
}

// sendsSpans is the client's check: the server's version is 3.4 or later.
func (c mlflowClient36) sendsSpans() bool {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.url+"/version", nil)
	status, body, _ := send(c.t, req)
	var major, minor int
	if _, err := fmt.Sscanf(body, "%d.%d", &major, &minor); status != 200 || err != nil {
		c.t.Fatalf("/version: %d %q", status, body)
	}
	return major > 3 || major == 3 && minor >= 4
}

// span is one span of trace tid as MLflow's Span.to_otel_proto makes it:
// the attributes decoded from the JSON text the span keeps (_SpanAttributesRegistry.get)
// into OpenTelemetry values (_set_otel_proto_anyvalue): strings plain, a
// dict a key-value list; the trace's id among them; an LLM span's token
// usage.
func (c mlflowClient36) span(tid []byte, id, parent byte, name string) *tracev1.Span {
	kv := func(k string, v *commonv1.AnyValue) *commonv1.KeyValue { return &commonv1.KeyValue{Key: k, Value: v} }
	plain := func(s string) *commonv1.AnyValue {
		return &commonv1.AnyValue{Value: &commonv1.AnyValue_StringValue{StringValue: s}}
	}
	num := func(n int64) *commonv1.AnyValue {
		return &commonv1.AnyValue{Value: &commonv1.AnyValue_IntValue{IntValue: n}}
	}
	dict := func(kvs ...*commonv1.KeyValue) *commonv1.AnyValue {
		return &commonv1.AnyValue{Value: &commonv1.AnyValue_KvlistValue{KvlistValue: &commonv1.KeyValueList{Values: kvs}}}
	}
	typ := "CHAIN"
	attrs := []*commonv1.KeyValue{kv("mlflow.traceRequestId", plain("tr-"+hex.EncodeToString(tid))),
		kv("mlflow.spanInputs", dict(kv("q", plain(name)))), kv("mlflow.spanOutputs", plain("done"))}
	if parent != 0 {
		typ = "LLM"
		attrs = append(attrs, kv("mlflow.chat.tokenUsage", dict(kv("input_tokens", num(30)), kv("output_tokens", num(12)), kv("total_tokens", num(42)))))
	}
	sp := &tracev1.Span{TraceId: tid, SpanId: []byte{0, 0, 0, 0, 0, 0, 0, id}, Name: name,
		StartTimeUnixNano: 1_700_000_000_000_000_000 + uint64(id-1)*1_000_000, EndTimeUnixNano: 1_700_000_000_400_000_000 - uint64(id-1)*1_000_000,
		Status: &tracev1.Status{Code: tracev1.Status_STATUS_CODE_OK}, Attributes: append(attrs, kv("mlflow.spanType", plain(typ)))}
	if parent != 0 {
		sp.ParentSpanId = []byte{0, 0, 0, 0, 0, 0, 0, parent}
	}
	return sp
}

// logSpans is the exporter's log_spans: one span batch to /v1/traces,
// with the headers MLflow's client sends; false when the server answers
// as MLflow's does for a store that keeps no spans (a 501 saying "REST
// OTLP span logging is not supported"), after which the exporter sends
// no more spans.
func (c mlflowClient36) logSpans(sps ...*tracev1.Span) bool {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.url+"/v1/traces", bytes.NewReader(otlpExport(c.t, sps...)))
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set(server.OTLPExperimentHeader, c.exp)
	req.Header.Set("User-Agent", "mlflow-python-client/3.6.0")
	req.Header.Set("X-MLflow-Client-Version", "3.6.0")
	status, body, _ := send(c.t, req)
	if status == 501 && strings.Contains(body, "REST OTLP span logging is not supported") {
		return false
	}
	if status != 200 {
		c.t.Fatalf("log_spans: %d %s", status, body)
	}
	return true
}

// startTrace is StartTraceV3 as the client sends it when the root span
// ends (numSpans in the metadata's size stats, as the client counts
// them); it returns the trace's tags as the server answers them.
func (c mlflowClient36) startTrace(id string, numSpans int) map[string]any {
	c.t.Helper()
	// The session and user as mlflow.update_current_trace(metadata=…) sets
	// them: one chat session per trace id's last byte.
	meta := map[string]string{"mlflow.trace_schema.version": "3", "mlflow.user": "alice",
		"mlflow.trace.session": "chat-" + id[len(id)-2:], "mlflow.trace.user": "bob"}
	if numSpans > 0 {
		meta["mlflow.trace.sizeStats"] = `{"total_size_bytes": 900, "num_spans": ` + strconv.Itoa(numSpans) + `, "max": 500, "p25": 400, "p50": 450, "p75": 500}`
	}
	body, _ := json.Marshal(map[string]any{"trace": map[string]any{"trace_info": map[string]any{"trace_id": id,
		"trace_location": map[string]any{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": map[string]any{"experiment_id": c.exp}},
		"request_time":   "2023-11-14T22:13:20Z", "execution_duration": "0.400s", "state": "OK",
		"request_preview": `{"q": "agent"}`, "response_preview": `"done"`, "trace_metadata": meta, "tags": map[string]string{"mlflow.traceName": "agent"}}}})
	status, m := callJSON(c.t, "POST", c.url+"/api/3.0/mlflow/traces", string(body))
	info, _ := m["trace"].(map[string]any)["trace_info"].(map[string]any)
	if status != 200 || info == nil {
		c.t.Fatalf("StartTraceV3: %d %v", status, m)
	}
	tags, _ := info["tags"].(map[string]any)
	return tags
}

// uploadsTraceData is the exporter's choice after StartTraceV3.
func uploadsTraceData(tags map[string]any) bool {
	return tags[store.TagTraceSpansLocation] != store.SpansInTrackingStore
}

// upload is _upload_trace_data: traces.json (spans in MLflow's span
// dict layout) PUT through the artifact proxy at the trace's
// mlflow.artifactLocation.
func (c mlflowClient36) upload(tags map[string]any, doc string) {
	c.t.Helper()
	loc, _ := tags[store.TagTraceArtifactLocation].(string)
	path, ok := strings.CutPrefix(loc, "mlflow-artifacts:/")
	if !ok {
		c.t.Fatalf("the trace's artifact location: %q", loc)
	}
	req, _ := http.NewRequest("PUT", c.url+"/api/2.0/mlflow-artifacts/artifacts/"+strings.TrimPrefix(path, "/")+"/traces.json", strings.NewReader(doc))
	if status, body, _ := send(c.t, req); status != 200 {
		c.t.Fatalf("upload of traces.json: %d %s", status, body)
	}
}

// getTrace is MlflowClient.get_trace on a 3.4+ server: GetTrace, the
// span names it answers.
func (c mlflowClient36) getTrace(id string, partial bool) (int, []string) {
	c.t.Helper()
	status, m := callJSON(c.t, "GET", c.url+"/api/3.0/mlflow/traces/get?trace_id="+id+"&allow_partial="+strconv.FormatBool(partial), "")
	var names []string
	if tr, ok := m["trace"].(map[string]any); ok {
		sps, _ := tr["spans"].([]any)
		for _, sp := range sps {
			names = append(names, sp.(map[string]any)["name"].(string))
		}
	}
	return status, names
}

// TestMLflow36ClientTraces: mlrun reports MLflow 3.6, so MLflow 3.4+'s
// client sends its spans to /v1/traces and mlrun keeps them as MLflow
// 3.4+'s server does: StartTraceV3 tags the trace TRACKING_STORE whether
// the spans came first or are still on their way (the client's export
// queue may send StartTraceV3 first), so the client uploads no
// traces.json, and GetTrace, BatchGetTraces and search read the spans
// from the spans table. A 3.0-3.3 client, which sends no spans and
// uploads traces.json whatever the tags say, still has its spans read.
// On a database at MLflow 2.17.2's schema (no spans table) the trace is
// not tagged, so the client uploads traces.json.
func TestMLflow36ClientTraces(t *testing.T) {
	srv := testutil.StartServer(t, true)
	exp, err := srv.Store.CreateExperiment(t.Context(), "genai", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := mlflowClient36{t: t, url: srv.URL, exp: exp}
	if !c.sendsSpans() {
		t.Fatal("MLflow 3.4+'s client would not send spans to this server")
	}

	// Spans first, as each ends (the child, then the root), then the trace.
	a := bytes.Repeat([]byte{0xa1}, 16)
	aID := "tr-" + hex.EncodeToString(a)
	c.logSpans(c.span(a, 2, 1, "retrieve"))
	c.logSpans(c.span(a, 1, 0, "agent"))
	if tags := c.startTrace(aID, 2); uploadsTraceData(tags) {
		t.Fatalf("after its spans, StartTraceV3 answered tags %v: the client would upload traces.json", tags)
	}
	if status, names := c.getTrace(aID, false); status != 200 || strings.Join(names, ",") != "agent,retrieve" {
		t.Fatalf("GetTrace of a trace sent spans first: %d %v", status, names)
	}

	// The trace first (the export queue's workers raced), its spans after.
	b := bytes.Repeat([]byte{0xb2}, 16)
	bID := "tr-" + hex.EncodeToString(b)
	if tags := c.startTrace(bID, 2); uploadsTraceData(tags) {
		t.Fatalf("before its spans, StartTraceV3 answered tags %v: the client would upload traces.json", tags)
	}
	if status, names := c.getTrace(bID, true); status != 200 || len(names) != 0 {
		t.Fatalf("GetTrace allow_partial before the spans: %d %v", status, names)
	}
	c.logSpans(c.span(b, 1, 0, "agent"), c.span(b, 2, 1, "retrieve"))
	if status, names := c.getTrace(bID, false); status != 200 || strings.Join(names, ",") != "agent,retrieve" {
		t.Fatalf("GetTrace of a trace whose spans came last: %d %v", status, names)
	}
	// The client's record stands: its state, time and preview; the
	// spans' token usage is summed into it.
	_, m := callJSON(t, "GET", srv.URL+"/api/3.0/mlflow/traces/"+bID, "")
	info := m["trace"].(map[string]any)["trace_info"].(map[string]any)
	if info["state"] != "OK" || info["request_time"] != "2023-11-14T22:13:20Z" || info["request_preview"] != `{"q": "agent"}` ||
		info["trace_metadata"].(map[string]any)["mlflow.trace.tokenUsage"] != `{"input_tokens": 30, "output_tokens": 12, "total_tokens": 42}` {
		t.Fatalf("the trace's record after its spans: %v", info)
	}
	// mlflow.search_traces: SearchTracesV3 (span filters see the spans,
	// their type read from the plain value the client sent), then
	// BatchGetTraces.
	for _, filter := range []string{"span.name = 'retrieve'", "span.type = 'LLM'"} {
		body, _ := json.Marshal(map[string]any{"locations": []any{map[string]any{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": map[string]any{"experiment_id": exp}}},
			"filter": filter})
		if status, m := callJSON(t, "POST", srv.URL+"/api/3.0/mlflow/traces/search", string(body)); status != 200 || len(m["traces"].([]any)) != 2 {
			t.Fatalf("search %s: %d %v", filter, status, m)
		}
	}
	if status, m := callJSON(t, "GET", srv.URL+"/api/3.0/mlflow/traces/batchGet?trace_ids="+aID+"&trace_ids="+bID, ""); status != 200 || len(m["traces"].([]any)) != 2 {
		t.Fatalf("BatchGetTraces: %d %v", status, m)
	}
	// The UI's traces page shows each trace's session and user, the
	// session a link to its session's traces.
	_, page, _ := send(t, mustRequest(t, "GET", srv.URL+"/experiments/"+exp+"/traces"))
	link := "?filter=metadata.%60mlflow.trace.session%60+%3D+%27chat-b2%27"
	if !strings.Contains(page, `<td class="session"><a href="`+strings.ReplaceAll(link, "+", "&#43;")+`">chat-b2</a></td>`) || !strings.Contains(page, `<td class="user">bob</td>`) {
		t.Fatalf("the traces page lacks the sessions and users:\n%s", page)
	}
	if _, page, _ = send(t, mustRequest(t, "GET", srv.URL+"/experiments/"+exp+"/traces"+link)); !strings.Contains(page, bID) || strings.Contains(page, aID) {
		t.Fatalf("the session's traces:\n%s", page)
	}

	// An MLflow 3.0-3.3 client: no spans sent, traces.json uploaded anyway.
	old := bytes.Repeat([]byte{0xc3}, 16)
	oldID := "tr-" + hex.EncodeToString(old)
	tags := c.startTrace(oldID, 0)
	c.upload(tags, `{"spans": [{"trace_id": "w8PDw8PDw8PDw8PDw8PDww==", "span_id": "AAAAAAAAAAE=", "parent_span_id": null, "name": "legacy",
		"start_time_unix_nano": 1700000000000000000, "end_time_unix_nano": 1700000000400000000, "events": [],
		"status": {"code": "STATUS_CODE_OK", "message": ""}, "attributes": {"mlflow.traceRequestId": "\"`+oldID+`\"", "mlflow.spanType": "\"CHAIN\""}}]}`)
	if status, names := c.getTrace(oldID, false); status != 200 || strings.Join(names, ",") != "legacy" {
		t.Fatalf("GetTrace of a trace whose client uploaded traces.json: %d %v", status, names)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/ajax-api/2.0/mlflow/get-trace-artifact?request_id="+oldID, nil)
	if status, body, _ := send(t, req); status != 200 || !strings.Contains(body, `"name":"legacy"`) {
		t.Fatalf("get-trace-artifact of that trace: %d %s", status, body)
	}

	// A database at MLflow 2.17.2's schema keeps no spans.
	dir := t.TempDir()
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "mlflow.db"), sqlite.Options{ArtifactRoot: "mlflow-artifacts:/", Revision: sqlite.MLflow2Revision})
	if err != nil {
		t.Fatal(err)
	}
	old2 := httptest.NewServer(server.New(st, server.Options{Artifacts: local.New(filepath.Join(dir, "art")), ArtifactRoots: []string{filepath.Join(dir, "art")},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	t.Cleanup(func() { old2.Close(); st.Close() })
	c2 := mlflowClient36{t: t, url: old2.URL, exp: "0"}
	d := bytes.Repeat([]byte{0xd4}, 16)
	dID := "tr-" + hex.EncodeToString(d)
	// The client is told, as MLflow's server tells it, that spans are not
	// taken here, and stops sending them; a plain OpenTelemetry SDK's
	// export is still gathered into the trace's traces.json.
	if !c2.sendsSpans() || c2.logSpans(c2.span(d, 1, 0, "agent")) {
		t.Fatal("MLflow's client was not told that a database without the spans table takes no spans")
	}
	other := bytes.Repeat([]byte{0xe5}, 16)
	req, _ = http.NewRequest("POST", old2.URL+"/v1/traces", bytes.NewReader(otlpExport(t, c2.span(other, 1, 0, "otel"))))
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set(server.OTLPExperimentHeader, "0")
	if status, body, _ := send(t, req); status != 200 {
		t.Fatalf("a plain OpenTelemetry export on a database without the spans table: %d %s", status, body)
	}
	if status, names := c2.getTrace("tr-"+hex.EncodeToString(other), false); status != 200 || strings.Join(names, ",") != "otel" {
		t.Fatalf("that export's trace: %d %v", status, names)
	}
	tags = c2.startTrace(dID, 1)
	if !uploadsTraceData(tags) {
		t.Fatalf("on a database without the spans table, StartTraceV3 answered tags %v: the client would not upload traces.json", tags)
	}
	c2.upload(tags, `{"spans": [{"trace_id": "1NTU1NTU1NTU1NTU1NTU1A==", "span_id": "AAAAAAAAAAE=", "parent_span_id": null, "name": "agent",
		"start_time_unix_nano": 1700000000000000000, "end_time_unix_nano": 1700000000400000000, "events": [],
		"status": {"code": "STATUS_CODE_OK", "message": ""}, "attributes": {"mlflow.traceRequestId": "\"`+dID+`\""}}]}`)
	if status, names := c2.getTrace(dID, false); status != 200 || strings.Join(names, ",") != "agent" {
		t.Fatalf("GetTrace on a database at MLflow 2.17.2's schema: %d %v", status, names)
	}
}
