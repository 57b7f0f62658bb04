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
// header names; MLflow 3.4+'s client sends its spans here too. Each trace
// becomes an MLflow trace (id "tr-" and the trace id in hex) whose spans
// are kept, in MLflow's span layout, where MLflow 3.4+'s server keeps
// them: the tracking store's spans table, or, for a trace that already
// has a traces.json or a database without that table, its traces.json
// (mergeOTLPTrace). Spans of one trace sent in several exports are merged
// (by span id); the trace's times, state, name and previews follow its
// root span.
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
	if !s.keepsSpans() && fromMLflowClient(r) {
		// As MLflow's server answers for a store without span logging:
		// its client stops sending spans and uploads traces.json itself
		// (the spans gathered here would be replaced by it anyway).
		writeError(w, r, &apiError{codeNotImplemented, "REST OTLP span logging is not supported by this tracking store: its database is at MLflow 2.17.2's schema, without MLflow 3's spans table ('mlrun db upgrade' adds it)"})
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

// mergeOTLPTrace adds spans to a trace (made when new): to the tracking
// store when it keeps them and the trace has no traces.json, else into
// its traces.json; either way the trace's record follows its spans.
func (s *Server) mergeOTLPTrace(r *http.Request, ts store.Traces, exp, id string, batch []map[string]any) error {
	h := fnv.New32a()
	h.Write([]byte(id))
	mu := &otlpLocks[h.Sum32()%uint32(len(otlpLocks))]
	mu.Lock()
	defer mu.Unlock()
	ctx := r.Context()
	t, err := ts.GetTraceInfo(ctx, id)
	created := false
	switch {
	case errors.Is(err, store.ErrNotFound):
		if t, err = ts.PutTrace(ctx, store.TraceInfo{RequestID: id, ExperimentID: exp, Status: "IN_PROGRESS",
			RequestMetadata: []store.Tag{{Key: "mlflow.trace_schema.version", Value: "3"}}}); err != nil {
			return err
		}
		created = true
	case err != nil:
		return err
	case t.ExperimentID != exp:
		return store.Invalidf("Trace %s belongs to experiment %s, not %s.", id, t.ExperimentID, exp)
	}
	// A new trace has no traces.json to look for (nor needs the
	// artifact store at all) when the tracking store keeps its spans.
	if tracedata.InTrackingStore(t) || created && s.keepsSpans() {
		return s.logOTLPSpans(ctx, t, batch)
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
	} else if err := s.logOTLPSpans(ctx, t, batch); !errors.Is(err, store.ErrUnsupported) {
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
	for _, sp := range batch {
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
	list := make([]*spans.Span, 0, len(all))
	for _, sp := range all {
		b, _ := json.Marshal(sp)
		if parsed, err := spans.Parse(b); err == nil {
			list = append(list, parsed)
		}
	}
	_, err = ts.PutTrace(ctx, spans.Summarize(list).Apply(t))
	return err
}

// logOTLPSpans keeps a trace's spans in the tracking store, as MLflow
// 3.4+ servers do (its spans table; the trace is tagged
// spansLocation=TRACKING_STORE and its record follows its spans);
// store.ErrUnsupported when the store keeps none (a database before
// MLflow 3's spans table).
func (s *Server) logOTLPSpans(ctx context.Context, t *store.TraceInfo, sps []map[string]any) error {
	sl, isLogger := s.raw.(store.SpanLogger)
	if !isLogger {
		return store.ErrUnsupported
	}
	raws := make([]json.RawMessage, len(sps))
	for i, sp := range sps {
		raws[i], _ = json.Marshal(sp)
	}
	return sl.LogSpans(ctx, t.RequestID, raws)
}

// keepsSpans reports whether the tracking store keeps spans itself
// (store.SpanLogger's KeepsSpans).
func (s *Server) keepsSpans() bool {
	sl, ok := s.raw.(store.SpanLogger)
	return ok && sl.KeepsSpans()
}

// fromMLflowClient reports whether r comes from MLflow's Python client,
// which names itself in the User-Agent and X-MLflow-Client-Version
// headers.
func fromMLflowClient(r *http.Request) bool {
	return r.Header.Get("X-Mlflow-Client-Version") != "" || strings.HasPrefix(r.UserAgent(), "mlflow-python-client/")
}
