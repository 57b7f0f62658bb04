package server

import (
	"net/http"

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
	} {
		s.route(pattern, s.limitBody(h))
	}
}

func (s *Server) traces() (store.Traces, error) {
	t, ok := s.store.(store.Traces)
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
		return nil, ts.SetTraceTag(r.Context(), r.PathValue("request_id"), req.Key, req.Value)
	})
}

func (s *Server) deleteTraceTag(w http.ResponseWriter, r *http.Request) {
	s.traceCall(w, r, func(ts store.Traces, req *wire.TraceRequest) (*store.TraceInfo, error) {
		return nil, ts.DeleteTraceTag(r.Context(), r.PathValue("request_id"), req.Key)
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
