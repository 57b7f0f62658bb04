package server

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"mime"
	"net/http"
	"sort"
	"strings"
	"sync"

	tracev1 "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/internal/spans"
	"github.com/mlrun/mlrun/internal/tracedata"
	"github.com/mlrun/mlrun/store"
)

// OTLPExperimentHeader names the experiment OTLP spans go to (MLflow's
// x-mlflow-experiment-id).
const OTLPExperimentHeader = "X-Mlflow-Experiment-Id"

// otlpLimit is the largest OTLP request body taken.
const otlpLimit = 64 << 20

// otlpTraces is POST /v1/traces, MLflow 3's OpenTelemetry collector
// endpoint: an OTLP/HTTP export (protobuf, or OTLP's JSON) of spans from
// any OpenTelemetry SDK, into the experiment its X-Mlflow-Experiment-Id
// header names. Each trace becomes an MLflow trace (id "tr-" and the
// trace id in hex) whose spans are kept, in MLflow's span layout, in the
// trace's traces.json artifact, as MLflow's own client writes it: the
// API, the UI and the commands read them there. Spans of one trace sent
// in several exports are merged (by span id); the trace's times, state,
// name and previews follow its root span.
func (s *Server) otlpTraces(w http.ResponseWriter, r *http.Request) {
	exp := r.Header.Get(OTLPExperimentHeader)
	if exp == "" {
		writeError(w, r, invalidParam("Missing required header: "+OTLPExperimentHeader))
		return
	}
	ts, err := s.traces()
	if err != nil {
		writeError(w, r, err)
		return
	}
	if _, err := s.store.GetExperiment(r.Context(), exp); err != nil {
		writeError(w, r, err)
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, otlpLimit))
	if err != nil {
		writeError(w, r, invalidParam("could not read the OTLP request: "+err.Error()))
		return
	}
	if body, err = otlpDecompress(body, r.Header.Get("Content-Encoding")); err != nil {
		writeError(w, r, invalidParam(err.Error()))
		return
	}
	var rs []*tracev1.ResourceSpans
	switch mt {
	case "application/x-protobuf", "application/protobuf":
		rs, err = spans.DecodeExport(body)
	case "application/json":
		rs, err = decodeOTLPJSON(body)
	default:
		writeError(w, r, invalidParam(fmt.Sprintf("OTLP content type must be application/x-protobuf or application/json, got '%s'", mt)))
		return
	}
	if err != nil {
		writeError(w, r, invalidParam("malformed OTLP trace export: "+err.Error()))
		return
	}
	byTrace := map[string][]map[string]any{}
	var order []string
	for _, res := range rs {
		for _, ss := range res.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				if len(sp.GetTraceId()) != 16 || len(sp.GetSpanId()) != 8 {
					writeError(w, r, invalidParam("an OTLP span needs a 16-byte trace_id and an 8-byte span_id"))
					return
				}
				id := "tr-" + hex.EncodeToString(sp.GetTraceId())
				if _, seen := byTrace[id]; !seen {
					order = append(order, id)
				}
				mspan := spans.FromOTLP(sp)
				mspan.EnsureTraceRequestID(id)
				byTrace[id] = append(byTrace[id], mspan.Dict())
			}
		}
	}
	for _, id := range order {
		if err := s.mergeOTLPTrace(r, ts, exp, id, byTrace[id]); err != nil {
			writeError(w, r, err)
			return
		}
	}
	if mt == "application/json" {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("{}"))
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK) // an empty ExportTraceServiceResponse
}

// otlpDecompress undoes the request's Content-Encoding (OTLP exporters
// may gzip; MLflow also takes deflate, zlib-wrapped or raw), reading at
// most otlpLimit bytes of the result.
func otlpDecompress(body []byte, encoding string) ([]byte, error) {
	var rd io.Reader
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "", "identity":
		return body, nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("failed to decompress gzip payload: %v", err)
		}
		rd = zr
	case "deflate":
		if zr, err := zlib.NewReader(bytes.NewReader(body)); err == nil {
			rd = zr
		} else {
			rd = flate.NewReader(bytes.NewReader(body))
		}
	default:
		return nil, fmt.Errorf("unsupported Content-Encoding: %s", encoding)
	}
	out, err := io.ReadAll(io.LimitReader(rd, otlpLimit+1))
	if err != nil {
		return nil, fmt.Errorf("failed to decompress %s payload: %v", encoding, err)
	}
	if len(out) > otlpLimit {
		return nil, fmt.Errorf("the decompressed OTLP request is larger than %d bytes", otlpLimit)
	}
	return out, nil
}

// decodeOTLPJSON reads OTLP's JSON encoding of an export.
func decodeOTLPJSON(b []byte) ([]*tracev1.ResourceSpans, error) {
	var req struct {
		ResourceSpans []json.RawMessage `json:"resourceSpans"`
	}
	if err := json.Unmarshal(b, &req); err != nil {
		return nil, err
	}
	out := make([]*tracev1.ResourceSpans, len(req.ResourceSpans))
	for i, raw := range req.ResourceSpans {
		out[i] = &tracev1.ResourceSpans{}
		if err := protojson.Unmarshal(raw, out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// otlpLocks serialize the merges of one trace's spans in this process
// (exports of one trace may arrive at once): a trace takes the lock its
// id hashes to, so the locks stay few however many traces come.
var otlpLocks [64]sync.Mutex

// mergeOTLPTrace adds spans to a trace (made when new), rewrites its
// traces.json with them, and brings its record up to date.
func (s *Server) mergeOTLPTrace(r *http.Request, ts store.Traces, exp, id string, spans []map[string]any) error {
	h := fnv.New32a()
	h.Write([]byte(id))
	mu := &otlpLocks[h.Sum32()%uint32(len(otlpLocks))]
	mu.Lock()
	defer mu.Unlock()
	ctx := r.Context()
	t, err := ts.GetTraceInfo(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if t, err = ts.PutTrace(ctx, store.TraceInfo{RequestID: id, ExperimentID: exp, Status: "IN_PROGRESS",
			RequestMetadata: []store.Tag{{Key: "mlflow.trace_schema.version", Value: "3"}}}); err != nil {
			return err
		}
	case err != nil:
		return err
	case t.ExperimentID != exp:
		return store.Invalidf("Trace %s belongs to experiment %s, not %s.", id, t.ExperimentID, exp)
	}
	if tracedata.InTrackingStore(t) {
		return s.logOTLPSpans(ctx, ts, t, spans)
	}
	loc := ""
	for _, tg := range t.Tags {
		if tg.Key == store.TagTraceArtifactLocation {
			loc = tg.Value
		}
	}
	repo, err := s.runRepo(loc)
	if err != nil {
		return err
	}
	doc := map[string]any{}
	if rc, _, err := repo.Open(ctx, "traces.json"); err == nil {
		err = json.NewDecoder(io.LimitReader(rc, tracedata.MaxSize)).Decode(&doc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("trace %s: its traces.json is not JSON: %w", id, err)
		}
	} else if !errors.Is(err, artifact.ErrNotFound) {
		return err
	} else if err := s.logOTLPSpans(ctx, ts, t, spans); !errors.Is(err, store.ErrUnsupported) {
		return err // kept by the tracking store, or failed
	}
	all, _ := doc["spans"].([]any)
	at := map[string]int{}
	for i, sp := range all {
		if m, ok := sp.(map[string]any); ok {
			if sid, ok := m["span_id"].(string); ok {
				at[sid] = i
			}
		}
	}
	for _, sp := range spans {
		if i, ok := at[sp["span_id"].(string)]; ok {
			all[i] = sp
		} else {
			at[sp["span_id"].(string)] = len(all)
			all = append(all, sp)
		}
	}
	doc["spans"] = all
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	if err := repo.Put(ctx, "traces.json", bytes.NewReader(b)); err != nil {
		return err
	}
	_, err = ts.PutTrace(ctx, traceFromSpans(t, all))
	return err
}

// logOTLPSpans keeps a trace's spans in the tracking store, as MLflow
// 3.4+ servers do (its spans table; the trace is tagged
// spansLocation=TRACKING_STORE), and brings its record up to date with
// all its spans; store.ErrUnsupported when the store keeps none (a
// database before MLflow 3's spans table).
func (s *Server) logOTLPSpans(ctx context.Context, ts store.Traces, t *store.TraceInfo, sps []map[string]any) error {
	sl, isLogger := s.store.(store.SpanLogger)
	sr, isReader := s.store.(store.TraceSpans)
	if !isLogger || !isReader {
		return store.ErrUnsupported
	}
	raws := make([]json.RawMessage, len(sps))
	for i, sp := range sps {
		raws[i], _ = json.Marshal(sp)
	}
	if err := sl.LogSpans(ctx, t.RequestID, raws); err != nil {
		return err
	}
	kept, err := sr.TraceSpans(ctx, []string{t.RequestID})
	if err != nil {
		return err
	}
	all := make([]any, 0, len(kept[t.RequestID]))
	for _, raw := range kept[t.RequestID] {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("trace %s: a stored span is not JSON: %w", t.RequestID, err)
		}
		all = append(all, m)
	}
	_, err = ts.PutTrace(ctx, traceFromSpans(t, all))
	return err
}

// traceFromSpans is a trace's record as its spans say: start, duration,
// state and name from its root span (IN_PROGRESS until the root span has
// ended), the previews from the root's inputs and outputs.
func traceFromSpans(t *store.TraceInfo, spans []any) store.TraceInfo {
	out := store.TraceInfo{RequestID: t.RequestID, ExperimentID: t.ExperimentID, Status: "IN_PROGRESS", ClientRequestID: t.ClientRequestID}
	var starts []float64
	for _, sp := range spans {
		m, _ := sp.(map[string]any)
		start := num(m["start_time_unix_nano"])
		if start > 0 {
			starts = append(starts, start)
		}
		if m["parent_span_id"] != nil && m["parent_span_id"] != "" {
			continue
		}
		out.TimestampMs = int64(start / 1e6)
		if end := num(m["end_time_unix_nano"]); end > 0 {
			out.ExecutionTimeMs = int64((end - start) / 1e6)
			out.Status = "OK"
			if st, _ := m["status"].(map[string]any); st != nil && st["code"] == "STATUS_CODE_ERROR" {
				out.Status = "ERROR"
			}
		}
		name, _ := m["name"].(string)
		out.Tags = append(out.Tags, store.Tag{Key: "mlflow.traceName", Value: name})
		attrs, _ := m["attributes"].(map[string]any)
		out.RequestPreview, out.ResponsePreview = previewOf(attrs["mlflow.spanInputs"]), previewOf(attrs["mlflow.spanOutputs"])
	}
	if out.TimestampMs == 0 && len(starts) > 0 {
		sort.Float64s(starts)
		out.TimestampMs = int64(starts[0] / 1e6)
	}
	return out
}

func num(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case uint64:
		return float64(x)
	case int64:
		return float64(x)
	}
	return 0
}

// previewOf is a root span's inputs or outputs as a trace preview: the
// text as written, at most 1,000 characters (MLflow's limit).
func previewOf(v any) string {
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
