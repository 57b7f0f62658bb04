package wire

import "github.com/mlrun/mlrun/store"

// TraceInfo is MLflow 2.x's TraceInfo message.
type TraceInfo struct {
	RequestID       string     `json:"request_id"`
	ExperimentID    string     `json:"experiment_id"`
	TimestampMs     Int64      `json:"timestamp_ms"`
	ExecutionTimeMs Int64      `json:"execution_time_ms"`
	Status          string     `json:"status"`
	RequestMetadata []KeyValue `json:"request_metadata,omitempty"`
	Tags            []KeyValue `json:"tags,omitempty"`
}

// TraceRequest carries the fields of the v2 trace endpoints.
type TraceRequest struct {
	ExperimentID       ID         `json:"experiment_id,omitempty"`
	TimestampMs        Int64      `json:"timestamp_ms,omitempty"`
	Status             Enum       `json:"status,omitempty"`
	RequestMetadata    []KeyValue `json:"request_metadata,omitempty"`
	Tags               []KeyValue `json:"tags,omitempty"`
	Key                string     `json:"key,omitempty"`
	Value              string     `json:"value,omitempty"`
	ExperimentIDs      []ID       `json:"experiment_ids,omitempty"`
	Filter             string     `json:"filter,omitempty"`
	MaxResults         Int64      `json:"max_results,omitempty"`
	OrderBy            []string   `json:"order_by,omitempty"`
	PageToken          string     `json:"page_token,omitempty"`
	MaxTimestampMillis *Int64     `json:"max_timestamp_millis,omitempty"`
	MaxTraces          *Int64     `json:"max_traces,omitempty"`
	RequestIDs         []string   `json:"request_ids,omitempty"`
}

// TraceInfoResponse is {trace_info}.
type TraceInfoResponse struct {
	TraceInfo TraceInfo `json:"trace_info"`
}

// SearchTracesResponse is SearchTraces' response.
type SearchTracesResponse struct {
	Traces        []TraceInfo `json:"traces,omitempty"`
	NextPageToken string      `json:"next_page_token,omitempty"`
}

// DeleteTracesResponse is DeleteTraces' response.
type DeleteTracesResponse struct {
	TracesDeleted Int64 `json:"traces_deleted"`
}

// FromTraceInfo converts a trace.
func FromTraceInfo(t *store.TraceInfo) TraceInfo {
	return TraceInfo{RequestID: t.RequestID, ExperimentID: t.ExperimentID, TimestampMs: Int64(t.TimestampMs),
		ExecutionTimeMs: Int64(t.ExecutionTimeMs), Status: t.Status, RequestMetadata: FromTags(t.RequestMetadata), Tags: FromTags(t.Tags)}
}

// ToTraceInfo converts a trace.
func (w TraceInfo) ToTraceInfo() *store.TraceInfo {
	return &store.TraceInfo{RequestID: w.RequestID, ExperimentID: w.ExperimentID, TimestampMs: int64(w.TimestampMs),
		ExecutionTimeMs: int64(w.ExecutionTimeMs), Status: w.Status, RequestMetadata: ToTags(w.RequestMetadata), Tags: ToTags(w.Tags)}
}
