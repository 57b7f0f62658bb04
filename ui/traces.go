package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/mlrun/mlrun/internal/spans"
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

// experimentPage is storeAs and experimentOf, for a page of an
// experiment's items kept by a store capability T.
func experimentPage[T any](h *Handler, w http.ResponseWriter, r *http.Request, what string) (T, *store.Experiment, bool) {
	v, ok := storeAs[T](h, w, r, what)
	if !ok {
		return v, nil, false
	}
	exp, ok := h.experimentOf(w, r)
	return v, exp, ok
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
	ts, exp, ok := experimentPage[store.Traces](h, w, r, "traces")
	if !ok {
		return
	}
	filter := r.URL.Query().Get("filter")
	list, next, err := ts.SearchTraces(r.Context(), store.SearchTraces{ExperimentIDs: []string{exp.ID}, Filter: filter, MaxResults: 100, PageToken: r.URL.Query().Get("page")})
	h.render(w, r, "traces", "Traces", map[string]any{"Experiment": exp, "Traces": list, "Next": next, "Filter": filter, "Error": errText(err),
		"Assessments": h.traceAssessments(r, list)})
}

// sessionRow is one session of an experiment's traces (MLflow 3's chat
// sessions: the traces sharing an mlflow.trace.session).
type sessionRow struct {
	ID              string
	Filter          string // the traces page's filter for its traces
	Traces, Errors  int
	First, Last     int64 // ms
	Users           []string
	ExecutionTimeMs int64
}

// maxSessionTraces bounds how many of an experiment's traces the
// sessions page reads (newest first).
const maxSessionTraces = 5000

// sessions lists an experiment's sessions, the latest active first, each
// with its traces linked.
func (h *Handler) sessions(w http.ResponseWriter, r *http.Request) {
	ts, exp, ok := experimentPage[store.Traces](h, w, r, "traces")
	if !ok {
		return
	}
	by := map[string]*sessionRow{}
	read, tok, truncated := 0, "", false
	var err error
	for {
		var list []*store.TraceInfo
		list, tok, err = ts.SearchTraces(r.Context(), store.SearchTraces{ExperimentIDs: []string{exp.ID}, Filter: "metadata.`" + metaSession + "` LIKE '%'",
			OrderBy: []string{"timestamp_ms DESC"}, MaxResults: 500, PageToken: tok})
		if err != nil {
			break
		}
		for _, t := range list {
			id, user := metadataValue(t.RequestMetadata, metaSession), metadataValue(t.RequestMetadata, metaUser)
			row := by[id]
			if row == nil {
				row = &sessionRow{ID: id, Filter: sessionFilter(id), First: t.TimestampMs, Last: t.TimestampMs}
				by[id] = row
			}
			row.Traces++
			row.ExecutionTimeMs += t.ExecutionTimeMs
			row.First, row.Last = min(row.First, t.TimestampMs), max(row.Last, t.TimestampMs)
			if t.Status == "ERROR" {
				row.Errors++
			}
			if user != "" && !slices.Contains(row.Users, user) {
				row.Users = append(row.Users, user)
			}
		}
		read += len(list)
		if tok == "" {
			break
		}
		if read >= maxSessionTraces {
			truncated = true
			break
		}
	}
	rows := make([]*sessionRow, 0, len(by))
	for _, row := range by {
		sort.Strings(row.Users)
		rows = append(rows, row)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Last != rows[j].Last {
			return rows[i].Last > rows[j].Last
		}
		return rows[i].ID < rows[j].ID
	})
	h.render(w, r, "sessions", "Sessions", map[string]any{"Experiment": exp, "Sessions": rows, "Truncated": truncated, "Read": read, "Error": errText(err)})
}

// traceAssessments are the valid feedback and expectations of each
// listed trace, by trace id, as "name=value" (MLflow's trace table shows
// them as columns); none when the store keeps no assessments.
func (h *Handler) traceAssessments(r *http.Request, list []*store.TraceInfo) map[string][]string {
	as, ok := h.opts.Store.(store.Assessments)
	if !ok {
		return nil
	}
	out := map[string][]string{}
	for _, t := range list {
		got, err := as.TraceAssessments(r.Context(), t.RequestID)
		if err != nil {
			continue
		}
		for _, a := range got {
			if a.Valid {
				v := a.Value
				if a.Error != "" {
					v = "error"
				}
				if r := []rune(v); len(r) > 40 {
					v = string(r[:39]) + "…"
				}
				out[t.RequestID] = append(out[t.RequestID], a.Name+"="+v)
			}
		}
	}
	return out
}

// spanRow is one span of a trace's tree, in depth-first order.
type spanRow struct {
	Name, Type, Status, StatusMessage string
	DurationMs                        float64
	Running                           bool
	Depth                             int
	// OffsetPct and WidthPct place the span on the trace's timeline: its
	// start and length as percentages of the time from the first span's
	// start to the last one's end (a running span reaches the end).
	OffsetPct, WidthPct float64
	startNs, endNs      int64
	Inputs, Outputs     string
	// Chat is the conversation of a chat model's span (OpenAI's and
	// MLflow's chat formats: the request's messages, then the reply),
	// shown as messages beside the raw inputs and outputs.
	Chat []chatMessage
	// Attributes are the others, as text; Events the span's events.
	Attributes []attrRow
	Events     []eventRow
}

type attrRow struct{ Key, Value string }

type eventRow struct {
	Name       string
	TimeMs     int64
	Attributes []attrRow
}

// attrText is an attribute's text: MLflow stores values as JSON text, a
// string shown without its quotes.
func attrText(v any) string {
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

// attrRows lists attributes by key, leaving out those in skip.
func attrRows(attrs map[string]any, skip ...string) []attrRow {
	var out []attrRow
	for k, v := range attrs {
		if !slices.Contains(skip, k) {
			out = append(out, attrRow{k, attrText(v)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// spanTree reads a trace's span dicts (any of MLflow's layouts) and
// orders them parent before children, siblings by start; spans that
// cannot be read are left out and said in the error.
func spanTree(raws []json.RawMessage) ([]spanRow, error) {
	var all []*spans.Span
	var bad []string
	for i, raw := range raws {
		sp, err := spans.Parse(raw)
		if err != nil {
			bad = append(bad, fmt.Sprintf("span %d: %v", i, err))
			continue
		}
		all = append(all, sp)
	}
	ids := map[string]bool{}
	for _, s := range all {
		ids[string(s.SpanID)] = true
	}
	children := map[string][]*spans.Span{}
	for _, s := range all {
		p := string(s.ParentID)
		if !ids[p] {
			p = "" // a root, or an orphan shown at the top
		}
		children[p] = append(children[p], s)
	}
	var out []spanRow
	var walk func(parent string, depth int)
	walk = func(parent string, depth int) {
		kids := children[parent]
		sort.SliceStable(kids, func(i, j int) bool { return kids[i].StartNs < kids[j].StartNs })
		for _, s := range kids {
			row := spanRow{Name: s.Name, Type: s.Type(), Status: s.Status, StatusMessage: s.StatusMessage, Depth: depth, startNs: s.StartNs, endNs: s.EndNs,
				Running: s.EndNs == 0, Inputs: attrText(s.Attributes["mlflow.spanInputs"]), Outputs: attrText(s.Attributes["mlflow.spanOutputs"]),
				Attributes: attrRows(s.Attributes, "mlflow.spanInputs", "mlflow.spanOutputs", spans.AttrSpanType, spans.AttrTraceRequestID)}
			if _, ok := s.Attributes["mlflow.spanInputs"]; !ok {
				row.Inputs = ""
			}
			if _, ok := s.Attributes["mlflow.spanOutputs"]; !ok {
				row.Outputs = ""
			}
			if !row.Running {
				row.DurationMs = float64(s.EndNs-s.StartNs) / 1e6
			}
			row.Chat = chatOf(row.Inputs, row.Outputs)
			for _, e := range s.Events {
				row.Events = append(row.Events, eventRow{Name: e.Name, TimeMs: e.TimeNs / 1e6, Attributes: attrRows(e.Attributes)})
			}
			out = append(out, row)
			if len(out) > 10000 {
				return
			}
			walk(string(s.SpanID), depth+1)
		}
	}
	walk("", 0)
	timeline(out)
	if len(bad) > 0 {
		return out, fmt.Errorf("%d of the trace's spans could not be read: %s", len(bad), strings.Join(bad, "; "))
	}
	return out, nil
}

// timeline sets each row's place on the trace's timeline (MLflow's trace
// view draws the same bars): a span too short to see gets a sliver.
func timeline(rows []spanRow) {
	if len(rows) == 0 {
		return
	}
	first, last := rows[0].startNs, rows[0].startNs
	for _, r := range rows {
		first, last = min(first, r.startNs), max(last, r.startNs, r.endNs)
	}
	window := float64(last - first)
	if window <= 0 {
		return
	}
	for i := range rows {
		r := &rows[i]
		end := r.endNs
		if r.Running || end < r.startNs {
			end = last
		}
		r.OffsetPct = float64(r.startNs-first) / window * 100
		r.WidthPct = max(float64(end-r.startNs)/window*100, 0.5)
		r.WidthPct = min(r.WidthPct, 100-r.OffsetPct)
	}
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
		list, err := tracedata.Spans(raw)
		if err == nil {
			data["Spans"], err = spanTree(list)
		}
		if err != nil {
			data["SpansError"] = err.Error()
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

// chatMessage is one message of a chat span.
type chatMessage struct{ Role, Content string }

// chatOf reads a chat span's conversation: inputs {"messages": [{role,
// content}]} and outputs {"choices": [{"message": {...}}]} (OpenAI's
// chat completion, which MLflow's chat models answer too) or a message
// itself; content is text or a list of parts whose text is kept. Nil when
// the inputs hold no messages.
func chatOf(inputs, outputs string) []chatMessage {
	type message struct {
		Role    string `json:"role"`
		Content any    `json:"content"`
	}
	text := func(c any) string {
		switch c := c.(type) {
		case string:
			return c
		case []any:
			var parts []string
			for _, p := range c {
				if m, ok := p.(map[string]any); ok {
					if t, ok := m["text"].(string); ok {
						parts = append(parts, t)
					}
				}
			}
			return strings.Join(parts, "\n")
		case nil:
			return ""
		}
		b, _ := json.Marshal(c)
		return string(b)
	}
	var in struct {
		Messages []message `json:"messages"`
	}
	if json.Unmarshal([]byte(inputs), &in) != nil || len(in.Messages) == 0 {
		return nil
	}
	var out []chatMessage
	for _, m := range in.Messages {
		out = append(out, chatMessage{m.Role, text(m.Content)})
	}
	var reply struct {
		Choices []struct {
			Message *message `json:"message"`
		} `json:"choices"`
		message
	}
	if json.Unmarshal([]byte(outputs), &reply) == nil {
		for _, c := range reply.Choices {
			if c.Message != nil {
				out = append(out, chatMessage{c.Message.Role, text(c.Message.Content)})
			}
		}
		if len(reply.Choices) == 0 && reply.Role != "" {
			out = append(out, chatMessage{reply.Role, text(reply.Content)})
		}
	}
	return out
}
