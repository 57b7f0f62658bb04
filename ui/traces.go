package ui

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strings"

	"github.com/mlrun/mlrun/internal/tracedata"
	"github.com/mlrun/mlrun/store"
)

// storeAs is the tracking store as one of its optional capabilities; false,
// the page answered with a 404 naming what, when it lacks it.
func storeAs[T any](h *Handler, w http.ResponseWriter, r *http.Request, what string) (T, bool) {
	v, ok := h.opts.Store.(T)
	if !ok {
		h.fail(w, r, http.StatusNotFound, "this tracking store keeps no "+what)
	}
	return v, ok
}

// experimentOf is the experiment a page's path names ({id}); false, the
// page answered with a 404, when there is none.
func (h *Handler) experimentOf(w http.ResponseWriter, r *http.Request) (*store.Experiment, bool) {
	exp, err := h.opts.Store.GetExperiment(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, http.StatusNotFound, err.Error())
		return nil, false
	}
	return exp, true
}

// traces lists an experiment's traces, newest first.
func (h *Handler) traces(w http.ResponseWriter, r *http.Request) {
	ts, ok := storeAs[store.Traces](h, w, r, "traces")
	if !ok {
		return
	}
	exp, ok := h.experimentOf(w, r)
	if !ok {
		return
	}
	filter := r.URL.Query().Get("filter")
	list, next, err := ts.SearchTraces(r.Context(), store.SearchTraces{ExperimentIDs: []string{exp.ID}, Filter: filter, MaxResults: 100, PageToken: r.URL.Query().Get("page")})
	h.render(w, r, "traces", "Traces", map[string]any{"Experiment": exp, "Traces": list, "Next": next, "Filter": filter, "Error": errText(err)})
}

// spanRow is one span of a trace's tree, in depth-first order.
type spanRow struct {
	Name, Type, Status string
	DurationMs         float64
	Depth              int
	Inputs, Outputs    string
}

// traceSpan is a span of traces.json in either MLflow layout: 2.x's
// (context.span_id, parent_id, start_time/end_time in ns, status_code) or
// 3.x's (span_id/parent_span_id in base64, *_unix_nano, status.code).
type traceSpan struct {
	Name    string `json:"name"`
	Context struct {
		SpanID string `json:"span_id"`
	} `json:"context"`
	ParentID     *string               `json:"parent_id"`
	Start        int64                 `json:"start_time"`
	End          int64                 `json:"end_time"`
	StatusCode   string                `json:"status_code"`
	SpanID       string                `json:"span_id"`
	ParentSpanID *string               `json:"parent_span_id"`
	StartNano    json.Number           `json:"start_time_unix_nano"`
	EndNano      json.Number           `json:"end_time_unix_nano"`
	Status       struct{ Code string } `json:"status"`
	Attributes   map[string]any        `json:"attributes"`
}

func (s traceSpan) id() string {
	if s.Context.SpanID != "" {
		return strings.TrimPrefix(s.Context.SpanID, "0x")
	}
	return b64hex(s.SpanID)
}

func (s traceSpan) parent() string {
	switch {
	case s.ParentID != nil:
		return strings.TrimPrefix(*s.ParentID, "0x")
	case s.ParentSpanID != nil:
		return b64hex(*s.ParentSpanID)
	}
	return ""
}

func b64hex(s string) string {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return s
	}
	return hex.EncodeToString(b)
}

// attr is an attribute's text: MLflow stores values as JSON text.
func (s traceSpan) attr(k string) string {
	v, ok := s.Attributes[k]
	if !ok {
		return ""
	}
	str, isStr := v.(string)
	if !isStr {
		b, _ := json.Marshal(v)
		return string(b)
	}
	var inner any
	if json.Unmarshal([]byte(str), &inner) == nil {
		if t, ok := inner.(string); ok {
			return t
		}
	}
	return str
}

// spanTree orders spans parent before children, siblings by start.
func spanTree(spans []traceSpan) []spanRow {
	children := map[string][]traceSpan{}
	ids := map[string]bool{}
	for _, s := range spans {
		ids[s.id()] = true
	}
	for _, s := range spans {
		p := s.parent()
		if !ids[p] {
			p = "" // a root, or an orphan shown at the top
		}
		children[p] = append(children[p], s)
	}
	var out []spanRow
	var walk func(parent string, depth int)
	walk = func(parent string, depth int) {
		kids := children[parent]
		sort.SliceStable(kids, func(i, j int) bool { return kids[i].startNs() < kids[j].startNs() })
		for _, s := range kids {
			status := s.StatusCode
			if status == "" {
				status = strings.TrimPrefix(s.Status.Code, "STATUS_CODE_")
			}
			out = append(out, spanRow{Name: s.Name, Type: s.attr("mlflow.spanType"), Status: status, Depth: depth,
				DurationMs: float64(s.endNs()-s.startNs()) / 1e6, Inputs: s.attr("mlflow.spanInputs"), Outputs: s.attr("mlflow.spanOutputs")})
			if len(out) > 10000 {
				return
			}
			walk(s.id(), depth+1)
		}
	}
	walk("", 0)
	return out
}

func (s traceSpan) startNs() int64 {
	if s.Start != 0 {
		return s.Start
	}
	n, _ := s.StartNano.Int64()
	return n
}

func (s traceSpan) endNs() int64 {
	if s.End != 0 {
		return s.End
	}
	n, _ := s.EndNano.Int64()
	return n
}

// trace shows one trace: its info and its spans as a tree, read from the
// tracking store or the traces.json the client uploaded (tracedata).
func (h *Handler) trace(w http.ResponseWriter, r *http.Request) {
	ts, ok := storeAs[store.Traces](h, w, r, "traces")
	if !ok {
		return
	}
	t, err := ts.GetTraceInfo(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, http.StatusNotFound, err.Error())
		return
	}
	data := map[string]any{"Trace": t}
	if raw, err := tracedata.Read(r.Context(), h.opts.Store, t, h.opts.RunArtifacts); err != nil {
		data["SpansError"] = "no span data: " + err.Error()
	} else {
		var doc struct {
			Spans []traceSpan `json:"spans"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			data["SpansError"] = "the trace's data is not MLflow's: " + err.Error()
		} else {
			data["Spans"] = spanTree(doc.Spans)
		}
	}
	if as, ok := h.opts.Store.(store.Assessments); ok {
		list, err := as.TraceAssessments(r.Context(), t.RequestID)
		if err != nil && !errors.Is(err, store.ErrUnsupported) {
			data["AssessmentsError"] = err.Error()
		}
		data["Assessments"] = list
	}
	h.render(w, r, "trace", "Trace "+t.RequestID, data)
}
