package wire

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mlrun/mlrun/store"
)

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
	TraceIDs           []string   `json:"trace_ids,omitempty"` // link-to-run
	RunID              string     `json:"run_id,omitempty"`
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

// TraceLocation is MLflow 3's TraceLocation (experiments only).
type TraceLocation struct {
	Type             string `json:"type"`
	MlflowExperiment *struct {
		ExperimentID string `json:"experiment_id"`
	} `json:"mlflow_experiment,omitempty"`
}

// TraceInfoV3 is MLflow 3's TraceInfo: times as protobuf JSON (RFC 3339
// and "1.250s"), metadata and tags as maps.
type TraceInfoV3 struct {
	TraceID           string            `json:"trace_id"`
	ClientRequestID   string            `json:"client_request_id,omitempty"`
	TraceLocation     TraceLocation     `json:"trace_location"`
	RequestPreview    string            `json:"request_preview,omitempty"`
	ResponsePreview   string            `json:"response_preview,omitempty"`
	RequestTime       string            `json:"request_time,omitempty"`
	ExecutionDuration string            `json:"execution_duration,omitempty"`
	State             string            `json:"state,omitempty"`
	TraceMetadata     map[string]string `json:"trace_metadata,omitempty"`
	Tags              map[string]string `json:"tags,omitempty"`
	Assessments       []Assessment      `json:"assessments,omitempty"`
}

// TraceV3 is MLflow 3's Trace: {trace_info}, and with GetTrace and
// BatchGetTraces its spans (OpenTelemetry's Span in protobuf's JSON).
type TraceV3 struct {
	TraceInfo TraceInfoV3       `json:"trace_info"`
	Spans     []json.RawMessage `json:"spans,omitempty"`
}

// GetTrace is GetTrace's request (GET …/traces/get).
type GetTrace struct {
	TraceID      string `json:"trace_id"`
	AllowPartial Bool   `json:"allow_partial"`
}

// BatchGetTraces is BatchGetTraces' request (GET …/traces/batchGet).
type BatchGetTraces struct {
	TraceIDs []string `json:"trace_ids"`
}

// BatchGetTracesResponse is BatchGetTraces' response.
type BatchGetTracesResponse struct {
	Traces []TraceV3 `json:"traces,omitempty"`
}

// TraceV3Message is {trace}: StartTraceV3's request and response, and
// GetTraceInfoV3's response.
type TraceV3Message struct {
	Trace TraceV3 `json:"trace"`
}

// SearchTracesV3Request is SearchTracesV3's request.
type SearchTracesV3Request struct {
	Locations  []TraceLocation `json:"locations,omitempty"`
	Filter     string          `json:"filter,omitempty"`
	MaxResults Int64           `json:"max_results,omitempty"`
	OrderBy    []string        `json:"order_by,omitempty"`
	PageToken  string          `json:"page_token,omitempty"`
}

// SearchTracesV3Response is SearchTracesV3's response.
type SearchTracesV3Response struct {
	Traces        []TraceInfoV3 `json:"traces,omitempty"`
	NextPageToken string        `json:"next_page_token,omitempty"`
}

// FromTraceInfoV3 renders a trace in MLflow 3's shape.
func FromTraceInfoV3(t *store.TraceInfo) TraceInfoV3 {
	w := TraceInfoV3{TraceID: t.RequestID, ClientRequestID: t.ClientRequestID, RequestPreview: t.RequestPreview, ResponsePreview: t.ResponsePreview,
		RequestTime: protoTime(t.TimestampMs), ExecutionDuration: protoDuration(t.ExecutionTimeMs), State: t.Status}
	if w.State == "TRACE_STATUS_UNSPECIFIED" {
		w.State = "STATE_UNSPECIFIED"
	}
	w.TraceLocation.Type = "MLFLOW_EXPERIMENT"
	w.TraceLocation.MlflowExperiment = &struct {
		ExperimentID string `json:"experiment_id"`
	}{t.ExperimentID}
	if len(t.RequestMetadata) > 0 {
		w.TraceMetadata = map[string]string{}
		for _, kv := range t.RequestMetadata {
			w.TraceMetadata[kv.Key] = kv.Value
		}
	}
	if len(t.Tags) > 0 {
		w.Tags = map[string]string{}
		for _, kv := range t.Tags {
			w.Tags[kv.Key] = kv.Value
		}
	}
	return w
}

// ToTraceInfo reads MLflow 3's shape; bad times are ErrInvalidArgument.
func (w TraceInfoV3) ToTraceInfo() (*store.TraceInfo, error) {
	t := &store.TraceInfo{RequestID: w.TraceID, ClientRequestID: w.ClientRequestID, RequestPreview: w.RequestPreview,
		ResponsePreview: w.ResponsePreview, Status: w.State}
	if w.TraceLocation.MlflowExperiment != nil {
		t.ExperimentID = w.TraceLocation.MlflowExperiment.ExperimentID
	}
	if w.RequestTime != "" {
		ts, err := time.Parse(time.RFC3339Nano, w.RequestTime)
		if err != nil {
			return nil, store.Invalidf("request_time '%s' is not an RFC 3339 time", w.RequestTime)
		}
		t.TimestampMs = ts.UnixMilli()
	}
	if w.ExecutionDuration != "" {
		d, err := time.ParseDuration(w.ExecutionDuration)
		if err != nil || !strings.HasSuffix(w.ExecutionDuration, "s") {
			return nil, store.Invalidf("execution_duration '%s' is not a duration such as '1.250s'", w.ExecutionDuration)
		}
		t.ExecutionTimeMs = d.Milliseconds()
	}
	for _, k := range slices.Sorted(maps.Keys(w.TraceMetadata)) {
		t.RequestMetadata = append(t.RequestMetadata, store.Tag{Key: k, Value: w.TraceMetadata[k]})
	}
	for _, k := range slices.Sorted(maps.Keys(w.Tags)) {
		t.Tags = append(t.Tags, store.Tag{Key: k, Value: w.Tags[k]})
	}
	return t, nil
}

// protoTime is a google.protobuf.Timestamp's JSON: RFC 3339 in UTC, with
// milliseconds when there are any.
func protoTime(ms int64) string {
	t := time.UnixMilli(ms).UTC()
	if ms%1000 == 0 {
		return t.Format("2006-01-02T15:04:05Z")
	}
	return t.Format("2006-01-02T15:04:05.000Z")
}

// protoDuration is a google.protobuf.Duration's JSON: "1s", "0.250s".
func protoDuration(ms int64) string {
	if ms%1000 == 0 {
		return strconv.FormatInt(ms/1000, 10) + "s"
	}
	sign := ""
	if ms < 0 {
		sign, ms = "-", -ms
	}
	return fmt.Sprintf("%s%d.%03ds", sign, ms/1000, ms%1000)
}

// AssessmentSource is who made an assessment.
type AssessmentSource struct {
	SourceType string `json:"source_type"`
	SourceID   string `json:"source_id,omitempty"`
}

// AssessmentValue is a feedback's or an expectation's value.
type AssessmentValue struct {
	Value json.RawMessage `json:"value,omitempty"`
	Error json.RawMessage `json:"error,omitempty"`
}

// Assessment is MLflow 3's Assessment message.
type Assessment struct {
	AssessmentID   string            `json:"assessment_id,omitempty"`
	AssessmentName string            `json:"assessment_name"`
	TraceID        string            `json:"trace_id,omitempty"`
	SpanID         string            `json:"span_id,omitempty"`
	Source         *AssessmentSource `json:"source,omitempty"`
	CreateTime     string            `json:"create_time,omitempty"`
	LastUpdateTime string            `json:"last_update_time,omitempty"`
	Feedback       *AssessmentValue  `json:"feedback,omitempty"`
	Expectation    *AssessmentValue  `json:"expectation,omitempty"`
	Rationale      string            `json:"rationale,omitempty"`
	Metadata       map[string]string `json:"metadata,omitempty"`
	Overrides      string            `json:"overrides,omitempty"`
	Valid          *bool             `json:"valid,omitempty"`
	RunID          string            `json:"run_id,omitempty"`
}

// AssessmentMessage is {assessment} (with PATCH's update_mask).
type AssessmentMessage struct {
	Assessment Assessment `json:"assessment"`
	UpdateMask string     `json:"update_mask,omitempty"`
}

// FromAssessment renders an assessment.
func FromAssessment(a *store.Assessment) Assessment {
	valid := a.Valid
	w := Assessment{AssessmentID: a.ID, AssessmentName: a.Name, TraceID: a.TraceID, SpanID: a.SpanID,
		Source: &AssessmentSource{SourceType: a.SourceType, SourceID: a.SourceID}, CreateTime: protoTime(a.CreatedMs),
		LastUpdateTime: protoTime(a.UpdatedMs), Rationale: a.Rationale, Overrides: a.Overrides, Valid: &valid, RunID: a.RunID}
	v := &AssessmentValue{Value: json.RawMessage(a.Value)}
	if a.Error != "" {
		v.Error = json.RawMessage(a.Error)
	}
	if a.Type == "expectation" {
		w.Expectation = v
	} else {
		w.Feedback = v
	}
	if a.Metadata != "" {
		json.Unmarshal([]byte(a.Metadata), &w.Metadata)
	}
	return w
}

// ToAssessment reads an assessment of a trace (its times too, when they
// are protobuf JSON times).
func (w Assessment) ToAssessment(traceID string) store.Assessment {
	a := store.Assessment{ID: w.AssessmentID, TraceID: traceID, Name: w.AssessmentName, SpanID: w.SpanID,
		Rationale: w.Rationale, Overrides: w.Overrides, Valid: w.Valid == nil || *w.Valid, RunID: w.RunID}
	if t, err := time.Parse(time.RFC3339Nano, w.CreateTime); err == nil {
		a.CreatedMs = t.UnixMilli()
	}
	if t, err := time.Parse(time.RFC3339Nano, w.LastUpdateTime); err == nil {
		a.UpdatedMs = t.UnixMilli()
	}
	if w.Source != nil {
		a.SourceType, a.SourceID = w.Source.SourceType, w.Source.SourceID
	}
	v := w.Feedback
	a.Type = "feedback"
	if v == nil && w.Expectation != nil {
		v, a.Type = w.Expectation, "expectation"
	}
	if v == nil {
		a.Type = ""
	} else {
		a.Value = string(v.Value)
		if a.Value == "" {
			a.Value = "null"
		}
		a.Error = string(v.Error)
	}
	if len(w.Metadata) > 0 {
		b, _ := json.Marshal(w.Metadata)
		a.Metadata = string(b)
	}
	return a
}

// LinkPromptsRequest is LinkPromptsToTrace's request.
type LinkPromptsRequest struct {
	TraceID        string                   `json:"trace_id"`
	PromptVersions []store.PromptVersionRef `json:"prompt_versions"`
}

// TraceFilterCorrelation is CalculateTraceFilterCorrelation's request.
type TraceFilterCorrelation struct {
	ExperimentIDs []string `json:"experiment_ids"`
	FilterString1 string   `json:"filter_string1"`
	FilterString2 string   `json:"filter_string2"`
	BaseFilter    string   `json:"base_filter,omitempty"`
}

// TraceFilterCorrelationResponse is its response: the NPMI scores (absent
// when undefined) and the counts they come from.
type TraceFilterCorrelationResponse struct {
	NPMI         *float64 `json:"npmi,omitempty"`
	NPMISmoothed *float64 `json:"npmi_smoothed,omitempty"`
	Filter1Count int64    `json:"filter1_count"`
	Filter2Count int64    `json:"filter2_count"`
	JointCount   int64    `json:"joint_count"`
	TotalCount   int64    `json:"total_count"`
}
