// Package spans reads and converts the spans of MLflow traces: MLflow's
// span dicts (Span.to_dict, as kept in traces.json and in MLflow 3's
// spans table, in the layouts of 2.x, 3.0–3.6 and later releases) and
// OpenTelemetry's protobuf spans (what OTLP carries, and what MLflow 3's
// GetTrace and BatchGetTraces answer with).
package spans

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	commonv1 "go.opentelemetry.io/proto/otlp/common/v1"
	tracev1 "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/mlrun/mlrun/store"
)

// Span is one span, whatever layout it was read from.
type Span struct {
	TraceID          []byte // OpenTelemetry's 16 bytes
	SpanID, ParentID []byte // 8 bytes; ParentID empty for a root span
	Name             string
	StartNs, EndNs   int64 // EndNs 0 while the span runs
	// Status is OK, ERROR or UNSET.
	Status, StatusMessage string
	// Attributes as the dict keeps them: MLflow's SDK writes JSON text
	// ("\"LLM\""); spans from other OpenTelemetry SDKs may hold plain
	// values.
	Attributes map[string]any
	Events     []Event
}

// Event is a span's event; its attributes are plain values.
type Event struct {
	Name       string
	TimeNs     int64
	Attributes map[string]any
}

// AttrSpanType is the attribute holding a span's type (LLM, TOOL, …).
const AttrSpanType = "mlflow.spanType"

// AttrTraceRequestID is the attribute naming the MLflow trace a span
// belongs to; MLflow's Span.from_dict refuses a span without it.
const AttrTraceRequestID = "mlflow.traceRequestId"

// EnsureTraceRequestID gives the span the attribute AttrTraceRequestID
// (JSON text of the trace id) unless it has one, as MLflow's OTLP
// ingest does for spans from other SDKs.
func (s *Span) EnsureTraceRequestID(traceID string) {
	if _, ok := s.Attributes[AttrTraceRequestID]; ok {
		return
	}
	if s.Attributes == nil {
		s.Attributes = map[string]any{}
	}
	b, _ := json.Marshal(traceID)
	s.Attributes[AttrTraceRequestID] = string(b)
}

// dict holds every key of the three layouts.
type dict struct {
	Name string `json:"name"`
	// 2.x
	Context *struct {
		SpanID  string `json:"span_id"`
		TraceID string `json:"trace_id"`
	} `json:"context"`
	ParentID      *string     `json:"parent_id"`
	StartTime     json.Number `json:"start_time"`
	EndTime       json.Number `json:"end_time"`
	StatusCode    string      `json:"status_code"`
	StatusMessage string      `json:"status_message"`
	// 3.x
	TraceID      string      `json:"trace_id"`
	OTelTraceID  string      `json:"otel_trace_id"` // 3.7's layout: ids in hex
	SpanID       string      `json:"span_id"`
	ParentSpanID *string     `json:"parent_span_id"`
	StartNano    json.Number `json:"start_time_unix_nano"`
	EndNano      json.Number `json:"end_time_unix_nano"`
	Status       *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"status"`
	Attributes map[string]any `json:"attributes"`
	Events     []struct {
		Name       string         `json:"name"`
		Timestamp  json.Number    `json:"timestamp"`
		TimeNano   json.Number    `json:"time_unix_nano"`
		Attributes map[string]any `json:"attributes"`
	} `json:"events"`
}

// Parse reads a span dict in any of MLflow's layouts.
func Parse(raw []byte) (*Span, error) {
	var d dict
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("a span is not a JSON object of MLflow's span layout: %w", err)
	}
	s := &Span{Name: d.Name, Attributes: d.Attributes}
	var err error
	switch {
	case d.Context != nil: // 2.x
		if s.TraceID, err = hexID(d.Context.TraceID, 16); err == nil {
			s.SpanID, err = hexID(d.Context.SpanID, 8)
		}
		if err == nil && d.ParentID != nil && *d.ParentID != "" {
			s.ParentID, err = hexID(*d.ParentID, 8)
		}
		s.StartNs, s.EndNs = num(d.StartTime), num(d.EndTime)
		s.Status, s.StatusMessage = statusName(d.StatusCode), d.StatusMessage
	case d.OTelTraceID != "": // 3.7 on: hex ids, trace_id is MLflow's
		if s.TraceID, err = hexID(d.OTelTraceID, 16); err == nil {
			s.SpanID, err = hexID(d.SpanID, 8)
		}
		if err == nil && d.ParentSpanID != nil && *d.ParentSpanID != "" {
			s.ParentID, err = hexID(*d.ParentSpanID, 8)
		}
	default: // 3.0–3.6: base64 ids (hex, or the MLflow trace id, taken too)
		if s.TraceID, err = anyID(d.TraceID, 16); err == nil {
			s.SpanID, err = anyID(d.SpanID, 8)
		}
		if err == nil && d.ParentSpanID != nil && *d.ParentSpanID != "" {
			s.ParentID, err = anyID(*d.ParentSpanID, 8)
		}
	}
	if err != nil {
		return nil, err
	}
	if d.Context == nil {
		s.StartNs, s.EndNs = num(d.StartNano), num(d.EndNano)
		if d.Status != nil {
			s.Status, s.StatusMessage = statusName(d.Status.Code), d.Status.Message
		} else {
			s.Status = "UNSET"
		}
	}
	for _, e := range d.Events {
		t := num(e.TimeNano)
		if e.TimeNano == "" {
			t = num(e.Timestamp)
		}
		s.Events = append(s.Events, Event{Name: e.Name, TimeNs: t, Attributes: e.Attributes})
	}
	return s, nil
}

// Type is the span's type (the attribute mlflow.spanType, decoded), or "".
func (s *Span) Type() string {
	v, ok := s.Attributes[AttrSpanType]
	if !ok {
		return ""
	}
	if str, ok := v.(string); ok {
		var t string
		if json.Unmarshal([]byte(str), &t) == nil {
			return t
		}
		return str
	}
	return fmt.Sprint(v)
}

func num(n json.Number) int64 {
	if n == "" {
		return 0
	}
	if i, err := n.Int64(); err == nil {
		return i
	}
	f, _ := n.Float64()
	return int64(f)
}

// statusName maps MLflow's and OpenTelemetry's spellings to OK, ERROR or
// UNSET.
func statusName(code string) string {
	switch strings.TrimPrefix(strings.ToUpper(code), "STATUS_CODE_") {
	case "OK":
		return "OK"
	case "ERROR":
		return "ERROR"
	}
	return "UNSET"
}

func hexID(s string, n int) ([]byte, error) {
	h := strings.TrimPrefix(s, "0x")
	if len(h)%2 == 1 {
		h = "0" + h
	}
	b, err := hex.DecodeString(h)
	if err != nil || len(b) > n {
		return nil, fmt.Errorf("span id %q is not %d bytes in hex", s, n)
	}
	if len(b) < n { // 2.x wrote ids with %x, leading zeros dropped
		b = append(make([]byte, n-len(b)), b...)
	}
	return b, nil
}

// anyID reads an id of n bytes in base64 or, failing that, in hex (with
// MLflow's "tr-" trace id prefix or 2.x's "0x"): layouts have varied.
func anyID(s string, n int) ([]byte, error) {
	if b, err := b64ID(s, n); err == nil {
		return b, nil
	}
	h := strings.TrimPrefix(s, "tr-")
	if len(strings.TrimPrefix(h, "0x")) == 2*n {
		if b, err := hexID(h, n); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("span id %q is not %d bytes in base64 or hex", s, n)
}

func b64ID(s string, n int) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != n {
		return nil, fmt.Errorf("span id %q is not %d bytes in base64", s, n)
	}
	return b, nil
}

// Dict is the span in the layout of MLflow 3.0–3.6's Span.to_dict (ids
// in base64, times in ns, status as STATUS_CODE_…), the layout those
// releases write to traces.json and their spans table and that every
// MLflow 3 reads.
func (s *Span) Dict() map[string]any {
	enc := base64.StdEncoding.EncodeToString
	var parent, end any
	if len(s.ParentID) > 0 {
		parent = enc(s.ParentID)
	}
	if s.EndNs > 0 {
		end = s.EndNs
	}
	events := []any{}
	for _, e := range s.Events {
		attrs := e.Attributes
		if attrs == nil {
			attrs = map[string]any{}
		}
		events = append(events, map[string]any{"name": e.Name, "time_unix_nano": e.TimeNs, "attributes": attrs})
	}
	attrs := s.Attributes
	if attrs == nil {
		attrs = map[string]any{}
	}
	return map[string]any{
		"trace_id": enc(s.TraceID), "span_id": enc(s.SpanID), "parent_span_id": parent, "name": s.Name,
		"start_time_unix_nano": s.StartNs, "end_time_unix_nano": end, "events": events,
		"status": map[string]any{"code": "STATUS_CODE_" + s.Status, "message": s.StatusMessage}, "attributes": attrs,
	}
}

// FromOTLP is a span an OpenTelemetry SDK exported (OTLP), attributes
// as sent: a string stays the text it is (MLflow's SDK sends JSON text),
// other values become their JSON values.
func FromOTLP(sp *tracev1.Span) *Span {
	s := &Span{TraceID: sp.GetTraceId(), SpanID: sp.GetSpanId(), ParentID: sp.GetParentSpanId(), Name: sp.GetName(),
		StartNs: int64(sp.GetStartTimeUnixNano()), EndNs: int64(sp.GetEndTimeUnixNano()),
		Status: statusName(sp.GetStatus().GetCode().String()), StatusMessage: sp.GetStatus().GetMessage(),
		Attributes: anyAttrs(sp.GetAttributes())}
	for _, e := range sp.GetEvents() {
		s.Events = append(s.Events, Event{Name: e.GetName(), TimeNs: int64(e.GetTimeUnixNano()), Attributes: anyAttrs(e.GetAttributes())})
	}
	return s
}

// FromTraceProto is a span of MLflow 3's GetTrace or BatchGetTraces
// answer, where attributes come decoded: each goes back to the JSON text
// the dict keeps.
func FromTraceProto(sp *tracev1.Span) *Span {
	s := FromOTLP(sp)
	for k, v := range s.Attributes {
		b, _ := json.Marshal(v)
		s.Attributes[k] = string(b)
	}
	return s
}

func anyAttrs(kvs []*commonv1.KeyValue) map[string]any {
	out := map[string]any{}
	for _, kv := range kvs {
		out[kv.GetKey()] = anyValue(kv.GetValue())
	}
	return out
}

// anyValue is an OTLP AnyValue as a JSON value.
func anyValue(v *commonv1.AnyValue) any {
	switch x := v.GetValue().(type) {
	case *commonv1.AnyValue_StringValue:
		return x.StringValue
	case *commonv1.AnyValue_BoolValue:
		return x.BoolValue
	case *commonv1.AnyValue_IntValue:
		return x.IntValue
	case *commonv1.AnyValue_DoubleValue:
		if math.IsNaN(x.DoubleValue) || math.IsInf(x.DoubleValue, 0) {
			return strconv.FormatFloat(x.DoubleValue, 'g', -1, 64)
		}
		return x.DoubleValue
	case *commonv1.AnyValue_ArrayValue:
		out := []any{}
		for _, e := range x.ArrayValue.GetValues() {
			out = append(out, anyValue(e))
		}
		return out
	case *commonv1.AnyValue_KvlistValue:
		return anyAttrs(x.KvlistValue.GetValues())
	case *commonv1.AnyValue_BytesValue:
		return base64.StdEncoding.EncodeToString(x.BytesValue)
	}
	return nil
}

// OTLP is the span as MLflow's SDK exports it over OTLP: attributes as
// the dict keeps them (JSON text as a string), sorted by key.
func (s *Span) OTLP() *tracev1.Span {
	sp := s.Proto()
	sp.Attributes = nil
	for _, k := range sortedKeys(s.Attributes) {
		sp.Attributes = append(sp.Attributes, &commonv1.KeyValue{Key: k, Value: protoValue(s.Attributes[k])})
	}
	return sp
}

// EncodeExport is OTLP's ExportTraceServiceRequest carrying the spans, in
// protobuf.
func EncodeExport(sps ...*tracev1.Span) ([]byte, error) {
	rs, err := proto.Marshal(&tracev1.ResourceSpans{ScopeSpans: []*tracev1.ScopeSpans{{Spans: sps}}})
	if err != nil {
		return nil, err
	}
	return protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), rs), nil
}

// DecodeExport reads ExportTraceServiceRequest's one field, repeated
// ResourceSpans resource_spans = 1, from its protobuf bytes (the
// collector package's generated type is not imported: it pulls in a
// grpc-gateway whose genproto clashes with this module's).
func DecodeExport(b []byte) ([]*tracev1.ResourceSpans, error) {
	var out []*tracev1.ResourceSpans
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		if num != 1 || typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		rs := &tracev1.ResourceSpans{}
		if err := proto.Unmarshal(v, rs); err != nil {
			return nil, err
		}
		out = append(out, rs)
	}
	return out, nil
}

// Proto is the span as MLflow 3's Span.to_otel_proto makes it for
// GetTrace and BatchGetTraces: attributes decoded from their JSON text
// into OpenTelemetry values (text that is not JSON stays a string),
// sorted by key.
func (s *Span) Proto() *tracev1.Span {
	sp := &tracev1.Span{TraceId: s.TraceID, SpanId: s.SpanID, ParentSpanId: s.ParentID, Name: s.Name,
		StartTimeUnixNano: uint64(s.StartNs), EndTimeUnixNano: uint64(max(s.EndNs, 0)),
		Status: &tracev1.Status{Message: s.StatusMessage, Code: tracev1.Status_StatusCode(tracev1.Status_StatusCode_value["STATUS_CODE_"+s.Status])}}
	for _, k := range sortedKeys(s.Attributes) {
		v := s.Attributes[k]
		if str, ok := v.(string); ok {
			var dec any
			d := json.NewDecoder(strings.NewReader(str))
			d.UseNumber()
			if d.Decode(&dec) == nil && isEOF(d) {
				v = dec
			}
		}
		sp.Attributes = append(sp.Attributes, &commonv1.KeyValue{Key: k, Value: protoValue(v)})
	}
	for _, e := range s.Events {
		ev := &tracev1.Span_Event{Name: e.Name, TimeUnixNano: uint64(e.TimeNs)}
		for _, k := range sortedKeys(e.Attributes) {
			ev.Attributes = append(ev.Attributes, &commonv1.KeyValue{Key: k, Value: protoValue(e.Attributes[k])})
		}
		sp.Events = append(sp.Events, ev)
	}
	return sp
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// protoValue is a JSON value as an OTLP AnyValue (null: an empty one).
func protoValue(v any) *commonv1.AnyValue {
	switch x := v.(type) {
	case nil:
		return &commonv1.AnyValue{}
	case bool:
		return &commonv1.AnyValue{Value: &commonv1.AnyValue_BoolValue{BoolValue: x}}
	case string:
		return &commonv1.AnyValue{Value: &commonv1.AnyValue_StringValue{StringValue: x}}
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return &commonv1.AnyValue{Value: &commonv1.AnyValue_IntValue{IntValue: i}}
		}
		f, _ := x.Float64()
		return &commonv1.AnyValue{Value: &commonv1.AnyValue_DoubleValue{DoubleValue: f}}
	case int64:
		return &commonv1.AnyValue{Value: &commonv1.AnyValue_IntValue{IntValue: x}}
	case float64:
		return &commonv1.AnyValue{Value: &commonv1.AnyValue_DoubleValue{DoubleValue: x}}
	case []any:
		arr := &commonv1.ArrayValue{}
		for _, e := range x {
			arr.Values = append(arr.Values, protoValue(e))
		}
		return &commonv1.AnyValue{Value: &commonv1.AnyValue_ArrayValue{ArrayValue: arr}}
	case map[string]any:
		kv := &commonv1.KeyValueList{}
		for _, k := range sortedKeys(x) {
			kv.Values = append(kv.Values, &commonv1.KeyValue{Key: k, Value: protoValue(x[k])})
		}
		return &commonv1.AnyValue{Value: &commonv1.AnyValue_KvlistValue{KvlistValue: kv}}
	}
	return &commonv1.AnyValue{Value: &commonv1.AnyValue_StringValue{StringValue: fmt.Sprint(v)}}
}

// int64Keys are the 64-bit integer fields of OpenTelemetry's Span,
// which MLflow's message_to_json writes as JSON numbers (protobuf's JSON
// writes them as strings).
var int64Keys = map[string]bool{"start_time_unix_nano": true, "end_time_unix_nano": true, "time_unix_nano": true, "int_value": true}

// ProtoJSON is a span as MLflow's REST API writes it: protobuf's JSON
// with the fields' proto names and 64-bit integers as numbers.
func ProtoJSON(sp *tracev1.Span) (json.RawMessage, error) {
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(sp)
	if err != nil {
		return nil, err
	}
	var doc any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	return json.Marshal(numbers(doc))
}

func numbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && int64Keys[k] {
				x[k] = json.Number(s)
			} else {
				x[k] = numbers(e)
			}
		}
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
	}
	return v
}

// ParseProtoJSON reads a span of MLflow's REST API (protobuf's JSON, 64-bit
// integers as numbers or strings).
func ParseProtoJSON(raw []byte) (*tracev1.Span, error) {
	sp := &tracev1.Span{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, sp); err != nil {
		return nil, fmt.Errorf("a span is not OpenTelemetry's span JSON: %w", err)
	}
	return sp, nil
}

// Attribute and metadata keys of token usage: a span's
// mlflow.chat.tokenUsage ({"input_tokens", "output_tokens",
// "total_tokens"}) and their sum over a trace, in its metadata.
const (
	AttrChatUsage      = "mlflow.chat.tokenUsage"
	MetadataTokenUsage = "mlflow.trace.tokenUsage"
)

// Record is what a trace's spans say of its record, as MLflow 3.4+'s
// span ingest derives it: the start of the earliest span, the time to the
// end of the latest once the root span has ended, the state of the root
// (IN_PROGRESS until it has ended; ERROR, else OK), the root's name and
// its inputs and outputs as previews, and the token usage of the spans
// summed as MLflow's aggregate_usage_from_spans sums it.
type Record struct {
	HasRoot, RootEnded              bool
	StartMs, DurationMs             int64
	State, Name                     string
	RequestPreview, ResponsePreview string
	// TokenUsage is the summed usage as Python's json.dumps writes it,
	// "" when no span carries any.
	TokenUsage string
}

// Summarize derives a trace's record from its spans.
func Summarize(list []*Span) Record {
	r := Record{State: "IN_PROGRESS"}
	if len(list) == 0 {
		return r
	}
	byID := map[string]bool{}
	minStart, maxEnd := list[0].StartNs, int64(0)
	for _, s := range list {
		byID[string(s.SpanID)] = true
		minStart = min(minStart, s.StartNs)
		maxEnd = max(maxEnd, s.EndNs)
	}
	r.StartMs = minStart / 1e6
	children := map[string][]*Span{}
	var roots []*Span
	for _, s := range list {
		if len(s.ParentID) == 0 || !byID[string(s.ParentID)] {
			roots = append(roots, s)
		} else {
			children[string(s.ParentID)] = append(children[string(s.ParentID)], s)
		}
		if len(s.ParentID) == 0 && !r.HasRoot {
			r.HasRoot, r.Name = true, s.Name
			r.RequestPreview, r.ResponsePreview = preview(s.Attributes["mlflow.spanInputs"]), preview(s.Attributes["mlflow.spanOutputs"])
			if s.EndNs > 0 {
				r.RootEnded = true
				r.State = "OK"
				if s.Status == "ERROR" {
					r.State = "ERROR"
				}
			}
		}
	}
	if r.RootEnded {
		r.DurationMs = (maxEnd - minStart) / 1e6
	}
	var in, out, total int64
	found := false
	var walk func(s *Span, ancestorHas bool)
	walk = func(s *Span, ancestorHas bool) {
		u, has := usage(s.Attributes[AttrChatUsage])
		if has && !ancestorHas {
			in, out, total = in+u["input_tokens"], out+u["output_tokens"], total+u["total_tokens"]
			found = true
		}
		for _, c := range children[string(s.SpanID)] {
			walk(c, ancestorHas || has)
		}
	}
	for _, s := range roots {
		walk(s, false)
	}
	if found {
		r.TokenUsage = fmt.Sprintf(`{"input_tokens": %d, "output_tokens": %d, "total_tokens": %d}`, in, out, total)
	}
	return r
}

// usage reads a span's token usage attribute (JSON text of an object).
func usage(v any) (map[string]int64, bool) {
	str, ok := v.(string)
	if !ok {
		if v == nil {
			return nil, false
		}
		b, _ := json.Marshal(v)
		str = string(b)
	}
	var m map[string]float64
	if json.Unmarshal([]byte(str), &m) != nil || m == nil {
		return nil, false
	}
	out := map[string]int64{}
	for k, n := range m {
		out[k] = int64(n)
	}
	return out, true
}

// preview is a root span's inputs or outputs as a trace preview: the text
// as written, at most 1,000 characters (MLflow's limit).
func preview(v any) string {
	s, ok := v.(string)
	if !ok {
		if v == nil {
			return ""
		}
		b, _ := json.Marshal(v)
		s = string(b)
	}
	if r := []rune(s); len(r) > 1000 {
		s = string(r[:1000])
	}
	return s
}

// Apply is the trace's record t brought up to date with r, for
// store.Traces' PutTrace: times and state follow the spans, except that
// a trace whose client already ended it (OK or ERROR) keeps its times
// and state until its root span arrives; previews and the trace's name
// are filled only where missing; the token usage is the spans' sum.
func (r Record) Apply(t *store.TraceInfo) store.TraceInfo {
	out := store.TraceInfo{RequestID: t.RequestID, ExperimentID: t.ExperimentID, ClientRequestID: t.ClientRequestID,
		TimestampMs: t.TimestampMs, ExecutionTimeMs: t.ExecutionTimeMs, Status: t.Status,
		RequestPreview: t.RequestPreview, ResponsePreview: t.ResponsePreview}
	ended := t.Status == "OK" || t.Status == "ERROR"
	if r.RootEnded || !ended {
		out.TimestampMs, out.Status = r.StartMs, r.State
		if r.RootEnded {
			out.ExecutionTimeMs = r.DurationMs
		}
	}
	if out.RequestPreview == "" {
		out.RequestPreview = r.RequestPreview
	}
	if out.ResponsePreview == "" {
		out.ResponsePreview = r.ResponsePreview
	}
	named := false
	for _, tg := range t.Tags {
		named = named || tg.Key == "mlflow.traceName"
	}
	if r.HasRoot && !named {
		out.Tags = append(out.Tags, store.Tag{Key: "mlflow.traceName", Value: r.Name})
	}
	if r.TokenUsage != "" {
		out.RequestMetadata = append(out.RequestMetadata, store.Tag{Key: MetadataTokenUsage, Value: r.TokenUsage})
	}
	return out
}

// isEOF reports whether d has nothing left but white space: Python's
// json.loads refuses text after the value ("0}"), which d.More accepts.
func isEOF(d *json.Decoder) bool {
	_, err := d.Token()
	return err == io.EOF
}
