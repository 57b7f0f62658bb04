package rest

import (
	"context"
	"net/http"
	"net/url"

	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/store"
)

var _ store.Traces = (*Store)(nil)

func (s *Store) traceInfo(ctx context.Context, method, ep string, req any) (*store.TraceInfo, error) {
	var out wire.TraceInfoResponse
	if err := s.call(ctx, method, ep, req, &out); err != nil {
		return nil, err
	}
	return out.TraceInfo.ToTraceInfo(), nil
}

// StartTrace implements store.Traces.
func (s *Store) StartTrace(ctx context.Context, experimentID string, timestampMs int64, metadata, tags []store.Tag) (*store.TraceInfo, error) {
	return s.traceInfo(ctx, http.MethodPost, "/traces", wire.TraceRequest{ExperimentID: wire.ID(experimentID), TimestampMs: wire.Int64(timestampMs),
		RequestMetadata: wire.FromTags(metadata), Tags: wire.FromTags(tags)})
}

// EndTrace implements store.Traces.
func (s *Store) EndTrace(ctx context.Context, id string, timestampMs int64, status string, metadata, tags []store.Tag) (*store.TraceInfo, error) {
	return s.traceInfo(ctx, http.MethodPatch, "/traces/"+url.PathEscape(id), wire.TraceRequest{TimestampMs: wire.Int64(timestampMs), Status: wire.Enum(status),
		RequestMetadata: wire.FromTags(metadata), Tags: wire.FromTags(tags)})
}

// GetTraceInfo implements store.Traces.
func (s *Store) GetTraceInfo(ctx context.Context, id string) (*store.TraceInfo, error) {
	return s.traceInfo(ctx, http.MethodGet, "/traces/"+url.PathEscape(id)+"/info", struct{}{})
}

// SearchTraces implements store.Traces.
func (s *Store) SearchTraces(ctx context.Context, q store.SearchTraces) ([]*store.TraceInfo, string, error) {
	req := wire.TraceRequest{Filter: q.Filter, OrderBy: q.OrderBy, MaxResults: wire.Int64(q.MaxResults), PageToken: q.PageToken}
	for _, id := range q.ExperimentIDs {
		req.ExperimentIDs = append(req.ExperimentIDs, wire.ID(id))
	}
	var out wire.SearchTracesResponse
	if err := s.call(ctx, http.MethodGet, "/traces", req, &out); err != nil {
		return nil, "", err
	}
	ts := make([]*store.TraceInfo, len(out.Traces))
	for i, t := range out.Traces {
		ts[i] = t.ToTraceInfo()
	}
	return ts, out.NextPageToken, nil
}

// DeleteTraces implements store.Traces.
func (s *Store) DeleteTraces(ctx context.Context, q store.DeleteTraces) (int, error) {
	req := wire.TraceRequest{ExperimentID: wire.ID(q.ExperimentID), RequestIDs: q.RequestIDs}
	if q.MaxTimestampMs != nil {
		v := wire.Int64(*q.MaxTimestampMs)
		req.MaxTimestampMillis = &v
	}
	if q.MaxTraces != nil {
		v := wire.Int64(*q.MaxTraces)
		req.MaxTraces = &v
	}
	var out wire.DeleteTracesResponse
	if err := s.post(ctx, "/traces/delete-traces", req, &out); err != nil {
		return 0, err
	}
	return int(out.TracesDeleted), nil
}

// SetTraceTag implements store.Traces.
func (s *Store) SetTraceTag(ctx context.Context, id, key, value string) error {
	return s.call(ctx, http.MethodPatch, "/traces/"+url.PathEscape(id)+"/tags", wire.TraceRequest{Key: key, Value: value}, nil)
}

// DeleteTraceTag implements store.Traces.
func (s *Store) DeleteTraceTag(ctx context.Context, id, key string) error {
	return s.call(ctx, http.MethodDelete, "/traces/"+url.PathEscape(id)+"/tags", wire.TraceRequest{Key: key}, nil)
}

// PutTrace implements store.Traces (MLflow 3's StartTraceV3).
func (s *Store) PutTrace(ctx context.Context, t store.TraceInfo) (*store.TraceInfo, error) {
	var out wire.TraceV3Message
	req := wire.TraceV3Message{Trace: wire.TraceV3{TraceInfo: wire.FromTraceInfoV3(&t)}}
	if err := s.callPath(ctx, http.MethodPost, "/api/3.0/mlflow/traces", req, &out); err != nil {
		return nil, err
	}
	return out.Trace.TraceInfo.ToTraceInfo()
}

// LinkTracesToRun implements store.Traces.
func (s *Store) LinkTracesToRun(ctx context.Context, traceIDs []string, runID string) error {
	return s.post(ctx, "/traces/link-to-run", wire.TraceRequest{TraceIDs: traceIDs, RunID: runID}, nil)
}

// LinkPromptsToTrace implements store.Traces (MLflow 3's
// traces/link-prompts).
func (s *Store) LinkPromptsToTrace(ctx context.Context, traceID string, prompts []store.PromptVersionRef) error {
	return s.post(ctx, "/traces/link-prompts", wire.LinkPromptsRequest{TraceID: traceID, PromptVersions: prompts}, nil)
}
