package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/store"
)

// traceRoutes registers MLflow 2.x's trace endpoints (the spans are the
// traces.json artifact the client uploads through the proxy).
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

// traceV3Routes registers MLflow 3's trace endpoints that its client
// needs without span storage: StartTraceV3 (the whole trace, sent at its
// end), GetTraceInfoV3, SearchTracesV3 and DeleteTracesV3. mlrun never
// tags a trace mlflow.trace.spansLocation=TRACKING_STORE, so the client
// uploads the spans as traces.json through the artifact proxy, and
// /version stays below 3.4 so it sends no OTLP spans.
func (s *Server) traceV3Routes(prefix string) {
	for pattern, h := range map[string]http.HandlerFunc{
		"POST " + prefix + "/traces":                   s.startTraceV3,
		"GET " + prefix + "/traces/{trace_id}":         s.getTraceInfoV3,
		"POST " + prefix + "/traces/search":            s.searchTracesV3,
		"POST " + prefix + "/traces/delete-traces":     s.deleteTraces,
		"PATCH " + prefix + "/traces/{trace_id}/tags":  s.setTraceTag,
		"DELETE " + prefix + "/traces/{trace_id}/tags": s.deleteTraceTag,
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

// getTraceArtifact is the UI helper GET /ajax-api/2.0/mlflow/
// get-trace-artifact?request_id=: the trace's traces.json, re-encoded.
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
	loc := ""
	for _, tg := range t.Tags {
		if tg.Key == store.TagTraceArtifactLocation {
			loc = tg.Value
		}
	}
	if loc == "" {
		writeError(w, r, &apiError{codeInvalidState, "Trace " + id + " has no " + store.TagTraceArtifactLocation + " tag"})
		return
	}
	repo, err := s.runRepo(loc)
	if err != nil {
		writeError(w, r, err)
		return
	}
	rc, _, err := repo.Open(r.Context(), "traces.json")
	if err != nil {
		if errors.Is(err, artifact.ErrNotFound) {
			err = &apiError{codeNotFound, "Trace data not found for path=" + loc + "/traces.json"}
		}
		writeError(w, r, err)
		return
	}
	defer rc.Close()
	var doc any
	if err := json.NewDecoder(io.LimitReader(rc, 256<<20)).Decode(&doc); err != nil {
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
