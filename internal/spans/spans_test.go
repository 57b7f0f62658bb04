package spans

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	tracev1 "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/mlrun/mlrun/store"
)

// The same child span in the layouts MLflow has written: 2.x's traces.json
// (hex ids with 0x, dropped leading zeros), 3.0–3.6's Span.to_dict (base64
// ids; 64-bit times as numbers or, from protobuf's JSON, strings) and
// 3.7's (hex ids, otel_trace_id).
var layouts = map[string]string{
	"2.x": `{"name": "retrieve", "context": {"span_id": "0x2", "trace_id": "0x0af7651916cd43dd8448eb211c80319c"},
		"parent_id": "0x0000000000000001", "start_time": 1700000000100000000, "end_time": 1700000000300000000,
		"status_code": "OK", "status_message": "", "attributes": {"mlflow.spanType": "\"RETRIEVER\"", "mlflow.spanInputs": "{\"q\": \"why?\", \"k\": 3}"},
		"events": [{"name": "exception", "timestamp": 1700000000200000000, "attributes": {"exception.type": "ValueError"}}]}`,
	"3.6": `{"trace_id": "CvdlGRbNQ92ESOshHIAxnA==", "span_id": "AAAAAAAAAAI=", "parent_span_id": "AAAAAAAAAAE=", "name": "retrieve",
		"start_time_unix_nano": 1700000000100000000, "end_time_unix_nano": 1700000000300000000,
		"events": [{"name": "exception", "time_unix_nano": 1700000000200000000, "attributes": {"exception.type": "ValueError"}}],
		"status": {"code": "STATUS_CODE_OK", "message": ""}, "attributes": {"mlflow.spanType": "\"RETRIEVER\"", "mlflow.spanInputs": "{\"q\": \"why?\", \"k\": 3}"}}`,
	"3.6 protobuf strings": `{"trace_id": "CvdlGRbNQ92ESOshHIAxnA==", "span_id": "AAAAAAAAAAI=", "parent_span_id": "AAAAAAAAAAE=", "name": "retrieve",
		"start_time_unix_nano": "1700000000100000000", "end_time_unix_nano": "1700000000300000000",
		"events": [{"name": "exception", "time_unix_nano": "1700000000200000000", "attributes": {"exception.type": "ValueError"}}],
		"status": {"code": "STATUS_CODE_OK"}, "attributes": {"mlflow.spanType": "\"RETRIEVER\"", "mlflow.spanInputs": "{\"q\": \"why?\", \"k\": 3}"}}`,
	"3.x with MLflow's trace id and hex span ids": `{"trace_id": "tr-0af7651916cd43dd8448eb211c80319c", "span_id": "0000000000000002", "parent_span_id": "0000000000000001", "name": "retrieve",
		"start_time_unix_nano": 1700000000100000000, "end_time_unix_nano": 1700000000300000000,
		"events": [{"name": "exception", "time_unix_nano": 1700000000200000000, "attributes": {"exception.type": "ValueError"}}],
		"status": {"code": "OK", "message": ""}, "attributes": {"mlflow.spanType": "\"RETRIEVER\"", "mlflow.spanInputs": "{\"q\": \"why?\", \"k\": 3}"}}`,
	"3.7": `{"trace_id": "tr-0af7651916cd43dd8448eb211c80319c", "otel_trace_id": "0af7651916cd43dd8448eb211c80319c", "span_id": "0000000000000002",
		"parent_span_id": "0000000000000001", "name": "retrieve", "start_time_unix_nano": 1700000000100000000, "end_time_unix_nano": 1700000000300000000,
		"events": [{"name": "exception", "time_unix_nano": 1700000000200000000, "attributes": {"exception.type": "ValueError"}}],
		"status": {"code": "OK", "message": ""}, "attributes": {"mlflow.spanType": "\"RETRIEVER\"", "mlflow.spanInputs": "{\"q\": \"why?\", \"k\": 3}"}, "mlflow.span_dict_version": 4}`,
}

func TestParseEveryLayout(t *testing.T) {
	traceID := []byte{0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd, 0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c}
	for name, raw := range layouts {
		s, err := Parse([]byte(raw))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(s.TraceID, traceID) || !bytes.Equal(s.SpanID, []byte{0, 0, 0, 0, 0, 0, 0, 2}) || !bytes.Equal(s.ParentID, []byte{0, 0, 0, 0, 0, 0, 0, 1}) ||
			s.Name != "retrieve" || s.StartNs != 1700000000100000000 || s.EndNs != 1700000000300000000 || s.Status != "OK" || s.Type() != "RETRIEVER" ||
			len(s.Events) != 1 || s.Events[0].TimeNs != 1700000000200000000 || s.Events[0].Attributes["exception.type"] != "ValueError" {
			t.Fatalf("%s: %+v", name, s)
		}
	}
}

func TestParseRefusesWhatIsNotASpan(t *testing.T) {
	for _, raw := range []string{`[]`, `{"span_id": "not base64!", "trace_id": "CvdlGRbNQ92ESOshHIAxnA=="}`,
		`{"span_id": "AAAAAAAAAAI=", "trace_id": "AAAA"}`, `{"context": {"span_id": "0xzz", "trace_id": "0x1"}}`, `{"name": 3}`} {
		if s, err := Parse([]byte(raw)); err == nil {
			t.Errorf("%s: read as %+v", raw, s)
		}
	}
}

// A span read from any layout and written in 3.6's reads back the same.
func TestDictRoundTrip(t *testing.T) {
	for name, raw := range layouts {
		s, _ := Parse([]byte(raw))
		b, _ := json.Marshal(s.Dict())
		again, err := Parse(b)
		if err != nil || !reflect.DeepEqual(again, s) {
			t.Fatalf("%s: %s\nread back %+v\nwant %+v (%v)", name, b, again, s, err)
		}
	}
}

// GetTrace's span: protobuf's JSON of OpenTelemetry's Span with the proto
// field names, times as numbers, attributes decoded into OpenTelemetry
// values; read back (protojson, which rejects what is not the schema) and
// re-encoded, every attribute means what it meant.
func TestProtoJSON(t *testing.T) {
	s, _ := Parse([]byte(layouts["3.6"]))
	s.Attributes["plain"] = "not json"
	s.Attributes["trailing"] = "0}" // not JSON to Python's json.loads either
	s.Attributes["n"] = json.Number("2.5")
	b, err := ProtoJSON(s.Proto())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"trace_id":"CvdlGRbNQ92ESOshHIAxnA=="`, `"parent_span_id":"AAAAAAAAAAE="`, `"start_time_unix_nano":1700000000100000000`,
		`"time_unix_nano":1700000000200000000`, `"code":"STATUS_CODE_OK"`, `{"key":"mlflow.spanType","value":{"string_value":"RETRIEVER"}}`,
		`{"key":"k","value":{"int_value":3}}`, `{"key":"plain","value":{"string_value":"not json"}}`, `{"key":"trailing","value":{"string_value":"0}"}}`,
		`{"key":"n","value":{"double_value":2.5}}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("lacks %s:\n%s", want, b)
		}
	}
	sp, err := ParseProtoJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	back := FromTraceProto(sp)
	for k, v := range s.Attributes {
		var want, got any
		if str, ok := v.(string); !ok {
			b, _ := json.Marshal(v)
			json.Unmarshal(b, &want)
		} else if json.Unmarshal([]byte(str), &want) != nil {
			want = v
		}
		if err := json.Unmarshal([]byte(back.Attributes[k].(string)), &got); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("attribute %s: %v, want %v", k, back.Attributes[k], v)
		}
	}
	if back.StartNs != s.StartNs || back.EndNs != s.EndNs || !bytes.Equal(back.ParentID, s.ParentID) || back.Status != "OK" || back.Events[0].Attributes["exception.type"] != "ValueError" {
		t.Fatalf("read back: %+v", back)
	}
	if _, err := ParseProtoJSON([]byte(`{"trace_id": 5}`)); err == nil {
		t.Fatal("a span whose trace_id is a number was read")
	}
}

// OTLP from another SDK: strings stay as sent, other values are JSON.
func TestFromOTLP(t *testing.T) {
	sp := &tracev1.Span{TraceId: make([]byte, 16), SpanId: []byte{1, 2, 3, 4, 5, 6, 7, 8}, Name: "call", StartTimeUnixNano: 5,
		Status: &tracev1.Status{Code: tracev1.Status_STATUS_CODE_ERROR, Message: "boom"}}
	sp.Attributes = (&Span{Attributes: map[string]any{"s": "text", "i": json.Number("7")}}).Proto().Attributes
	d := FromOTLP(sp).Dict()
	if d["status"].(map[string]any)["code"] != "STATUS_CODE_ERROR" || d["parent_span_id"] != nil || d["end_time_unix_nano"] != nil ||
		d["attributes"].(map[string]any)["s"] != "text" || d["attributes"].(map[string]any)["i"] != int64(7) {
		t.Fatalf("%v", d)
	}
}

func span(id, parent byte, name string, start, end int64, status string, attrs map[string]any) *Span {
	s := &Span{TraceID: make([]byte, 16), SpanID: []byte{0, 0, 0, 0, 0, 0, 0, id}, Name: name, StartNs: start, EndNs: end, Status: status, Attributes: attrs}
	if parent != 0 {
		s.ParentID = []byte{0, 0, 0, 0, 0, 0, 0, parent}
	}
	return s
}

// A trace's record from its spans, as MLflow's ingest derives it; token
// usage summed as aggregate_usage_from_spans sums it: a span's usage
// counts unless an ancestor has usage of its own (it already includes its
// children's).
func TestSummarize(t *testing.T) {
	u := func(in, out int) map[string]any {
		return map[string]any{AttrChatUsage: fmt.Sprintf(`{"input_tokens": %d, "output_tokens": %d, "total_tokens": %d}`, in, out, in+out)}
	}
	root := span(1, 0, "agent", 1_000_000_000, 1_900_000_000, "ERROR", map[string]any{"mlflow.spanInputs": `{"q": "why?"}`, "mlflow.spanOutputs": `"because"`})
	llm := span(2, 1, "llm", 1_100_000_000, 1_500_000_000, "OK", u(10, 5))
	inner := span(3, 2, "inner", 1_200_000_000, 1_300_000_000, "OK", u(7, 7)) // inside llm: not counted again
	tool := span(4, 1, "tool", 1_600_000_000, 2_000_000_000, "OK", u(1, 1))
	early := span(5, 1, "early", 900_000_000, 950_000_000, "OK", nil)

	r := Summarize([]*Span{llm, inner, tool})
	if r.HasRoot || r.State != "IN_PROGRESS" || r.StartMs != 1100 || r.TokenUsage != `{"input_tokens": 11, "output_tokens": 6, "total_tokens": 17}` {
		t.Fatalf("without the root: %+v", r)
	}
	r = Summarize([]*Span{tool, inner, llm, root, early})
	if !r.RootEnded || r.State != "ERROR" || r.Name != "agent" || r.StartMs != 900 || r.DurationMs != 1100 ||
		r.RequestPreview != `{"q": "why?"}` || r.ResponsePreview != `"because"` || r.TokenUsage != `{"input_tokens": 11, "output_tokens": 6, "total_tokens": 17}` {
		t.Fatalf("with the root: %+v", r)
	}
	if r := Summarize([]*Span{span(1, 0, "x", 5, 0, "UNSET", nil)}); r.State != "IN_PROGRESS" || r.TokenUsage != "" || r.RootEnded {
		t.Fatalf("a running root, no usage: %+v", r)
	}

	// A trace its client already ended keeps its times and state until the
	// root arrives; previews and name fill only what is missing.
	client := &store.TraceInfo{RequestID: "tr-1", ExperimentID: "1", TimestampMs: 5, ExecutionTimeMs: 7, Status: "OK", RequestPreview: "mine",
		Tags: []store.Tag{{Key: "mlflow.traceName", Value: "named"}}}
	got := Summarize([]*Span{llm}).Apply(client)
	if got.Status != "OK" || got.TimestampMs != 5 || got.ExecutionTimeMs != 7 || len(got.Tags) != 0 || got.RequestMetadata[0].Value != `{"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}` {
		t.Fatalf("child spans of an ended trace: %+v", got)
	}
	got = Summarize([]*Span{llm, root}).Apply(client)
	if got.Status != "ERROR" || got.TimestampMs != 1000 || got.ExecutionTimeMs != 900 || got.RequestPreview != "mine" || got.ResponsePreview != `"because"` || len(got.Tags) != 0 {
		t.Fatalf("with its root: %+v", got)
	}
	got = Summarize([]*Span{llm}).Apply(&store.TraceInfo{RequestID: "tr-2", Status: "IN_PROGRESS"})
	if got.Status != "IN_PROGRESS" || got.TimestampMs != 1100 {
		t.Fatalf("a trace made by span ingest: %+v", got)
	}
}
