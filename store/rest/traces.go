package rest

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	tracev1 "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/mlrun/mlrun/internal/spans"
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

var (
	_ store.TraceSpans = (*Store)(nil)
	_ store.SpanLogger = (*Store)(nil)
)

// TraceSpans implements store.TraceSpans with MLflow 3's BatchGetTraces
// (ten traces a call, as MLflow's client asks): the OpenTelemetry spans
// it answers with, back in MLflow's span dicts. A trace the server leaves
// out (unknown, or its spans not all there) is absent.
func (s *Store) TraceSpans(ctx context.Context, traceIDs []string) (map[string][]json.RawMessage, error) {
	out := map[string][]json.RawMessage{}
	for len(traceIDs) > 0 {
		chunk := traceIDs[:min(len(traceIDs), 10)]
		traceIDs = traceIDs[len(chunk):]
		var resp wire.BatchGetTracesResponse
		if err := s.callPath(ctx, http.MethodGet, "/api/3.0/mlflow/traces/batchGet", wire.BatchGetTraces{TraceIDs: chunk}, &resp); err != nil {
			return nil, err
		}
		for _, t := range resp.Traces {
			list := []json.RawMessage{}
			for i, raw := range t.Spans {
				sp, err := spans.ParseProtoJSON(raw)
				if err != nil {
					return nil, fmt.Errorf("span %d of trace %s from the server: %w", i, t.TraceInfo.TraceID, err)
				}
				b, _ := json.Marshal(spans.FromTraceProto(sp).Dict())
				list = append(list, b)
			}
			out[t.TraceInfo.TraceID] = list
		}
	}
	return out, nil
}

// KeepsSpans implements store.SpanLogger: false, since the tracking
// server decides where the spans it is sent are kept, and tags its traces
// so itself.
func (s *Store) KeepsSpans() bool { return false }

// LogSpans implements store.SpanLogger as MLflow 3's REST store logs
// spans: an OTLP export (protobuf) to the server's /v1/traces, into the
// trace's experiment. The server names a trace after its spans' trace id
// (tr- and the id in hex), so spans of another trace are refused.
func (s *Store) LogSpans(ctx context.Context, traceID string, raws []json.RawMessage) error {
	var sps []*tracev1.Span
	for i, raw := range raws {
		sp, err := spans.Parse(raw)
		if err != nil {
			return store.Invalidf("span %d of trace %s: %v", i, traceID, err)
		}
		sps = append(sps, sp.OTLP())
	}
	t, err := s.GetTraceInfo(ctx, traceID)
	if err != nil {
		return err
	}
	for i, sp := range sps {
		if id := "tr-" + hex.EncodeToString(sp.GetTraceId()); id != traceID {
			return store.Invalidf("span %d belongs to trace %s, not %s: a tracking server files spans under their own trace id", i, id, traceID)
		}
	}
	body, err := spans.EncodeExport(sps...)
	if err != nil {
		return err
	}
	resp, err := s.Do(ctx, http.MethodPost, "/v1/traces", bytes.NewReader(body), http.Header{
		"Content-Type": {"application/x-protobuf"}, "X-Mlflow-Experiment-Id": {t.ExperimentID}})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusNotImplemented {
		if err := ResponseError(resp.StatusCode, b); !errors.Is(err, store.ErrNotFound) {
			return store.Errorf(store.ErrUnsupported, "the tracking server takes no spans (/v1/traces answered %d): an MLflow server older than 3.4, or not run with uvicorn", resp.StatusCode)
		}
	}
	return ResponseError(resp.StatusCode, b)
}
