package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mlrun/mlrun/internal/npmi"
	"github.com/mlrun/mlrun/internal/spans"
	"github.com/mlrun/mlrun/internal/tracedata"
	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/store"
)

// traceRoutes registers MLflow 2.x's trace endpoints (the spans are the
// traces.json artifact the client uploads through the proxy, or kept by
// the tracking store: internal/tracedata).
func (s *Server) traceRoutes(prefix string) {
	for pattern, h := range map[string]http.HandlerFunc{
		"POST " + prefix + "/traces":                     s.startTrace,
		"PATCH " + prefix + "/traces/{request_id}":       s.endTrace,
		"GET " + prefix + "/traces/{request_id}/info":    s.getTraceInfo,
		"GET " + prefix + "/traces":                      s.searchTraces,
		"POST " + prefix + "/traces/delete-traces":       s.deleteTraces,
		"PATCH " + prefix + "/traces/{request_id}/tags":  s.setTraceTag,
		"DELETE " + prefix + "/traces/{request_id}/tags": s.deleteTraceTag,
		"POST " + prefix + "/traces/link-to-run":         s.linkTracesToRun,
		"POST " + prefix + "/traces/link-prompts":        s.linkPromptsToTrace,
	} {
		s.route(pattern, s.limitBody(h))
	}
}

func (s *Server) traces() (store.Traces, error) {
	t, ok := s.raw.(store.Traces)
	if !ok {
		return nil, &apiError{codeNotImplemented, "this tracking store does not keep traces"}
	}
	return t, nil
}

// traceCall decodes, runs fn, and answers {trace_info} (or {} for nil).
func (s *Server) traceCall(w http.ResponseWriter, r *http.Request, fn func(store.Traces, *wire.TraceRequest) (*store.TraceInfo, error)) {
	handle(w, r, func(req *wire.TraceRequest) (any, error) {
		ts, err := s.traces()
		if err != nil {
			return nil, err
		}
		t, err := fn(ts, req)
		if err != nil || t == nil {
			return empty{}, err
		}
		return wire.TraceInfoResponse{TraceInfo: wire.FromTraceInfo(t)}, nil
	})
}

func (s *Server) startTrace(w http.ResponseWriter, r *http.Request) {
	s.traceCall(w, r, func(ts store.Traces, req *wire.TraceRequest) (*store.TraceInfo, error) {
		return ts.StartTrace(r.Context(), string(req.ExperimentID), int64(req.TimestampMs), wire.ToTags(req.RequestMetadata), wire.ToTags(req.Tags))
	})
}

func (s *Server) endTrace(w http.ResponseWriter, r *http.Request) {
	s.traceCall(w, r, func(ts store.Traces, req *wire.TraceRequest) (*store.TraceInfo, error) {
		return ts.EndTrace(r.Context(), r.PathValue("request_id"), int64(req.TimestampMs), string(req.Status), wire.ToTags(req.RequestMetadata), wire.ToTags(req.Tags))
	})
}

func (s *Server) getTraceInfo(w http.ResponseWriter, r *http.Request) {
	s.traceCall(w, r, func(ts store.Traces, _ *wire.TraceRequest) (*store.TraceInfo, error) {
		return ts.GetTraceInfo(r.Context(), r.PathValue("request_id"))
	})
}

func (s *Server) setTraceTag(w http.ResponseWriter, r *http.Request) {
	s.traceCall(w, r, func(ts store.Traces, req *wire.TraceRequest) (*store.TraceInfo, error) {
		return nil, ts.SetTraceTag(r.Context(), traceIDOf(r), req.Key, req.Value)
	})
}

func (s *Server) deleteTraceTag(w http.ResponseWriter, r *http.Request) {
	s.traceCall(w, r, func(ts store.Traces, req *wire.TraceRequest) (*store.TraceInfo, error) {
		return nil, ts.DeleteTraceTag(r.Context(), traceIDOf(r), req.Key)
	})
}

// traceIDOf is the trace a path names: MLflow 2.x's {request_id}, or 3's
// {trace_id}.
func traceIDOf(r *http.Request) string {
	return firstNonEmpty(r.PathValue("request_id"), r.PathValue("trace_id"))
}

// linkPromptsToTrace is MLflow 3's POST …/traces/link-prompts: the prompt
// versions a trace used, kept in its mlflow.linkedPrompts tag.
func (s *Server) linkPromptsToTrace(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.LinkPromptsRequest) (any, error) {
		ts, err := s.traces()
		if err != nil {
			return nil, err
		}
		if err := require("trace_id", req.TraceID); err != nil {
			return nil, err
		}
		return empty{}, ts.LinkPromptsToTrace(r.Context(), req.TraceID, req.PromptVersions)
	})
}

func (s *Server) searchTraces(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.TraceRequest) (any, error) {
		ts, err := s.traces()
		if err != nil {
			return nil, err
		}
		q := store.SearchTraces{Filter: req.Filter, OrderBy: req.OrderBy, MaxResults: int(req.MaxResults), PageToken: req.PageToken}
		for _, id := range req.ExperimentIDs {
			q.ExperimentIDs = append(q.ExperimentIDs, string(id))
		}
		out, next, err := ts.SearchTraces(r.Context(), q)
		if err != nil {
			return nil, err
		}
		resp := wire.SearchTracesResponse{NextPageToken: next}
		for _, t := range out {
			resp.Traces = append(resp.Traces, wire.FromTraceInfo(t))
		}
		return resp, nil
	})
}

func (s *Server) deleteTraces(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.TraceRequest) (any, error) {
		ts, err := s.traces()
		if err != nil {
			return nil, err
		}
		q := store.DeleteTraces{ExperimentID: string(req.ExperimentID), RequestIDs: req.RequestIDs}
		if req.MaxTimestampMillis != nil {
			v := int64(*req.MaxTimestampMillis)
			q.MaxTimestampMs = &v
		}
		if req.MaxTraces != nil {
			v := int64(*req.MaxTraces)
			q.MaxTraces = &v
		}
		n, err := ts.DeleteTraces(r.Context(), q)
		if err != nil {
			return nil, err
		}
		return wire.DeleteTracesResponse{TracesDeleted: wire.Int64(n)}, nil
	})
}

// traceV3Routes registers MLflow 3's trace endpoints: StartTraceV3 (the
// whole trace, sent at its end), GetTraceInfoV3, SearchTracesV3,
// DeleteTracesV3, the tag endpoints, and GetTrace and BatchGetTraces
// (the trace with its spans, from the tracking store or traces.json).
func (s *Server) traceV3Routes(prefix string) {
	for pattern, h := range map[string]http.HandlerFunc{
		"POST " + prefix + "/traces":                              s.startTraceV3,
		"GET " + prefix + "/traces/{trace_id}":                    s.getTraceInfoV3,
		"POST " + prefix + "/traces/search":                       s.searchTracesV3,
		"POST " + prefix + "/traces/delete-traces":                s.deleteTraces,
		"PATCH " + prefix + "/traces/{trace_id}/tags":             s.setTraceTag,
		"DELETE " + prefix + "/traces/{trace_id}/tags":            s.deleteTraceTag,
		"GET " + prefix + "/traces/get":                           s.getTrace,
		"GET " + prefix + "/traces/batchGet":                      s.batchGetTraces,
		"POST " + prefix + "/traces/calculate-filter-correlation": s.traceFilterCorrelation,
	} {
		s.route(pattern, s.limitBody(h))
	}
}

func (s *Server) startTraceV3(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.TraceV3Message) (any, error) {
		ts, err := s.traces()
		if err != nil {
			return nil, err
		}
		in, err := req.Trace.TraceInfo.ToTraceInfo()
		if err != nil {
			return nil, err
		}
		if s.keepsSpans() {
			// As MLflow 3.4+'s SQL store: the trace's spans are (or will
			// be) sent to /v1/traces and kept here, so its client uploads
			// no traces.json (MLflow 3.0-3.3's, which send none, upload
			// it anyway; readers fall back to it).
			in.Tags = append(slices.DeleteFunc(in.Tags, func(tg store.Tag) bool { return tg.Key == store.TagTraceSpansLocation }),
				store.Tag{Key: store.TagTraceSpansLocation, Value: store.SpansInTrackingStore})
		}
		t, err := ts.PutTrace(r.Context(), *in)
		if err != nil {
			return nil, err
		}
		return wire.TraceV3Message{Trace: wire.TraceV3{TraceInfo: wire.FromTraceInfoV3(t)}}, nil
	})
}

func (s *Server) getTraceInfoV3(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(_ *struct{}) (any, error) {
		ts, err := s.traces()
		if err != nil {
			return nil, err
		}
		t, err := ts.GetTraceInfo(r.Context(), r.PathValue("trace_id"))
		if errors.Is(err, store.ErrNotFound) {
			return nil, store.NotFoundf("Trace with ID '%s' not found.", r.PathValue("trace_id"))
		}
		if err != nil {
			return nil, err
		}
		info := wire.FromTraceInfoV3(t)
		if as, ok := s.raw.(store.Assessments); ok {
			list, err := as.TraceAssessments(r.Context(), t.RequestID)
			if err != nil {
				return nil, err
			}
			for _, a := range list {
				info.Assessments = append(info.Assessments, wire.FromAssessment(a))
			}
		}
		return wire.TraceV3Message{Trace: wire.TraceV3{TraceInfo: info}}, nil
	})
}

func (s *Server) searchTracesV3(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.SearchTracesV3Request) (any, error) {
		ts, err := s.traces()
		if err != nil {
			return nil, err
		}
		if len(req.Locations) == 0 {
			return nil, missingParam("locations")
		}
		q := store.SearchTraces{Filter: req.Filter, OrderBy: req.OrderBy, MaxResults: int(req.MaxResults), PageToken: req.PageToken}
		for _, l := range req.Locations {
			if l.MlflowExperiment != nil {
				q.ExperimentIDs = append(q.ExperimentIDs, l.MlflowExperiment.ExperimentID)
			}
		}
		if len(q.ExperimentIDs) == 0 {
			return empty{}, nil
		}
		out, next, err := ts.SearchTraces(r.Context(), q)
		if err != nil {
			return nil, err
		}
		resp := wire.SearchTracesV3Response{NextPageToken: next}
		for _, t := range out {
			resp.Traces = append(resp.Traces, wire.FromTraceInfoV3(t))
		}
		return resp, nil
	})
}

// traceDataError gives tracedata's errors MLflow's codes: data missing
// 404 NOT_FOUND, data that is not MLflow's (or no location) 500
// INVALID_STATE.
func traceDataError(err error) error {
	switch {
	case errors.Is(err, tracedata.ErrNotFound):
		return &apiError{codeNotFound, strings.Replace(err.Error(), tracedata.ErrNotFound.Error(), "Trace data not found", 1)}
	case errors.Is(err, tracedata.ErrInvalid):
		return &apiError{codeInvalidState, err.Error()}
	}
	return err
}

// getTraceArtifact is the UI helper GET /ajax-api/2.0/mlflow/
// get-trace-artifact?request_id=: the trace's data as traces.json holds
// it, from the tracking store or the file, re-encoded.
func (s *Server) getTraceArtifact(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("request_id")
	if id == "" {
		writeError(w, r, &apiError{"BAD_REQUEST", "Missing value for required parameter 'request_id'."})
		return
	}
	ts, err := s.traces()
	if err != nil {
		writeError(w, r, err)
		return
	}
	t, err := ts.GetTraceInfo(r.Context(), id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	data, err := tracedata.Read(r.Context(), s.raw, t, s.runRepo)
	if err != nil {
		writeError(w, r, traceDataError(err))
		return
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		writeError(w, r, &apiError{codeInvalidState, "Trace data of " + id + " is not valid JSON"})
		return
	}
	b, _ := json.Marshal(doc)
	h := w.Header()
	h.Set("Content-Type", "text/plain")
	h.Set("Content-Disposition", "attachment; filename=traces.json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.Write(b)
}

// assessmentRoutes registers MLflow 3's assessment endpoints.
func (s *Server) assessmentRoutes(prefix string) {
	base := prefix + "/traces/{trace_id}/assessments"
	for pattern, h := range map[string]http.HandlerFunc{
		"POST " + base:                        s.createAssessment,
		"GET " + base + "/{assessment_id}":    s.assessmentCall("get"),
		"PATCH " + base + "/{assessment_id}":  s.assessmentCall("update"),
		"DELETE " + base + "/{assessment_id}": s.assessmentCall("delete"),
	} {
		s.route(pattern, s.limitBody(h))
	}
}

func (s *Server) assessmentStore() (store.Assessments, error) {
	a, ok := s.raw.(store.Assessments)
	if !ok {
		return nil, &apiError{codeNotImplemented, "this tracking store does not keep assessments"}
	}
	return a, nil
}

func (s *Server) createAssessment(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.AssessmentMessage) (any, error) {
		as, err := s.assessmentStore()
		if err != nil {
			return nil, err
		}
		a, err := as.CreateAssessment(r.Context(), req.Assessment.ToAssessment(r.PathValue("trace_id")))
		if err != nil {
			return nil, err
		}
		return wire.AssessmentMessage{Assessment: wire.FromAssessment(a)}, nil
	})
}

func (s *Server) assessmentCall(op string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		handle(w, r, func(req *wire.AssessmentMessage) (any, error) {
			as, err := s.assessmentStore()
			if err != nil {
				return nil, err
			}
			trace, id := r.PathValue("trace_id"), r.PathValue("assessment_id")
			var a *store.Assessment
			switch op {
			case "get":
				a, err = as.GetAssessment(r.Context(), trace, id)
			case "update":
				in := req.Assessment.ToAssessment(trace)
				in.ID = id
				var mask []string
				for _, f := range strings.Split(req.UpdateMask, ",") {
					mask = append(mask, strings.TrimSpace(f))
				}
				a, err = as.UpdateAssessment(r.Context(), in, mask)
			default:
				return empty{}, as.DeleteAssessment(r.Context(), trace, id)
			}
			if err != nil {
				return nil, err
			}
			return wire.AssessmentMessage{Assessment: wire.FromAssessment(a)}, nil
		})
	}
}

// linkTracesToRun is MLflow 3's POST /api/2.0/mlflow/traces/link-to-run.
func (s *Server) linkTracesToRun(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.TraceRequest) (any, error) {
		ts, err := s.traces()
		if err != nil {
			return nil, err
		}
		if err := require("run_id", req.RunID); err != nil {
			return nil, err
		}
		return empty{}, ts.LinkTracesToRun(r.Context(), req.TraceIDs, req.RunID)
	})
}

// spanWaitLimit is how long GetTrace without allow_partial waits for a
// trace's spans to all be there (MLflow's store retries about 3 s).
const spanWaitLimit = 3 * time.Second

// traceWithSpans is a trace in MLflow 3's Trace message: its info and its
// spans as OpenTelemetry spans in MLflow's JSON. complete is false when
// the trace's metadata counts more spans than it has. Its errors are
// tracedata's (traceDataError gives them their codes).
func (s *Server) traceWithSpans(r *http.Request, t *store.TraceInfo) (tr wire.TraceV3, complete bool, err error) {
	data, err := tracedata.Read(r.Context(), s.raw, t, s.runRepo)
	if err != nil {
		return tr, false, err
	}
	raws, err := tracedata.Spans(data)
	if err != nil {
		return tr, false, err
	}
	tr.TraceInfo = wire.FromTraceInfoV3(t)
	tr.Spans = []json.RawMessage{}
	for i, raw := range raws {
		sp, err := spans.Parse(raw)
		if err != nil {
			return tr, false, fmt.Errorf("%w: span %d of trace %s: %v", tracedata.ErrInvalid, i, t.RequestID, err)
		}
		b, err := spans.ProtoJSON(sp.Proto())
		if err != nil {
			return tr, false, err
		}
		tr.Spans = append(tr.Spans, b)
	}
	return tr, len(tr.Spans) >= expectedSpans(t), nil
}

// expectedSpans is the span count a trace's metadata
// mlflow.trace.sizeStats gives (MLflow's client writes it), or 0.
func expectedSpans(t *store.TraceInfo) int {
	for _, m := range t.RequestMetadata {
		if m.Key == "mlflow.trace.sizeStats" {
			var stats struct {
				NumSpans int `json:"num_spans"`
			}
			json.Unmarshal([]byte(m.Value), &stats)
			return stats.NumSpans
		}
	}
	return 0
}

// getTrace is MLflow 3's GET …/traces/get?trace_id=&allow_partial=: the
// trace with its spans. Without allow_partial a trace whose spans are not
// all there yet (in the tracking store, spans arrive as they end) is
// waited for up to spanWaitLimit, then 404.
func (s *Server) getTrace(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.GetTrace) (any, error) {
		if err := require("trace_id", req.TraceID); err != nil {
			return nil, err
		}
		ts, err := s.traces()
		if err != nil {
			return nil, err
		}
		deadline := time.Now().Add(spanWaitLimit)
		for {
			t, err := ts.GetTraceInfo(r.Context(), req.TraceID)
			if err != nil {
				return nil, err
			}
			tr, complete, err := s.traceWithSpans(r, t)
			if err != nil {
				return nil, traceDataError(err)
			}
			if complete || bool(req.AllowPartial) {
				return wire.TraceV3Message{Trace: tr}, nil
			}
			if !tracedata.InTrackingStore(t) || time.Now().After(deadline) {
				return nil, &apiError{codeNotFound, fmt.Sprintf("Trace with ID '%s' is not fully exported yet: %d of its %d spans are stored; ask with allow_partial=true for what is there.", req.TraceID, len(tr.Spans), expectedSpans(t))}
			}
			select {
			case <-r.Context().Done():
				return nil, r.Context().Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
}

// batchGetTraces is MLflow 3's GET …/traces/batchGet?trace_ids=…: each
// known trace whose spans are all there and readable, with them; others
// are left out, as MLflow leaves out traces not complete.
func (s *Server) batchGetTraces(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.BatchGetTraces) (any, error) {
		if len(req.TraceIDs) == 0 {
			return nil, invalidParam("Missing value for required parameter 'trace_ids'.")
		}
		if len(req.TraceIDs) > maxBatchTraces {
			return nil, invalidParam(fmt.Sprintf("At most %d trace_ids may be asked for at once, got %d.", maxBatchTraces, len(req.TraceIDs)))
		}
		ts, err := s.traces()
		if err != nil {
			return nil, err
		}
		var resp wire.BatchGetTracesResponse
		for _, id := range req.TraceIDs {
			t, err := ts.GetTraceInfo(r.Context(), id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			tr, complete, err := s.traceWithSpans(r, t)
			if errors.Is(err, tracedata.ErrNotFound) || errors.Is(err, tracedata.ErrInvalid) || (err == nil && !complete) {
				continue
			}
			if err != nil {
				return nil, err
			}
			resp.Traces = append(resp.Traces, tr)
		}
		return resp, nil
	})
}

// maxBatchTraces bounds one BatchGetTraces (MLflow's client asks for 10
// at a time).
const maxBatchTraces = 100

// traceFilterCorrelation is MLflow 3's POST
// …/traces/calculate-filter-correlation: how two filters co-occur among
// an experiment's traces (those matching base_filter, if given), as NPMI
// (internal/npmi) with the four counts; the scores are left out where
// undefined (a filter matching nothing).
func (s *Server) traceFilterCorrelation(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.TraceFilterCorrelation) (any, error) {
		if len(req.ExperimentIDs) == 0 {
			return nil, invalidParam("Missing value for required parameter 'experiment_ids'.")
		}
		if err := require("filter_string1", req.FilterString1); err != nil {
			return nil, err
		}
		if err := require("filter_string2", req.FilterString2); err != nil {
			return nil, err
		}
		tc, ok := s.raw.(store.TraceCounter)
		if !ok {
			return nil, &apiError{codeNotImplemented, "The Correlations API needs a SQL tracking store."}
		}
		var counts [4]int64
		for i, filters := range [][]string{{req.BaseFilter}, {req.BaseFilter, req.FilterString1}, {req.BaseFilter, req.FilterString2},
			{req.BaseFilter, req.FilterString1, req.FilterString2}} {
			n, err := tc.CountTraces(r.Context(), req.ExperimentIDs, filters...)
			if err != nil {
				return nil, err
			}
			counts[i] = n
		}
		resp := wire.TraceFilterCorrelationResponse{TotalCount: counts[0], Filter1Count: counts[1], Filter2Count: counts[2], JointCount: counts[3]}
		score, smoothed := npmi.Scores(counts[3], counts[1], counts[2], counts[0])
		if !math.IsNaN(score) {
			resp.NPMI = &score
		}
		if !math.IsNaN(smoothed) {
			resp.NPMISmoothed = &smoothed
		}
		return resp, nil
	})
}
