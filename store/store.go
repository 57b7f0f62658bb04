package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Store is the tracking store. Implementations are safe for concurrent use.
//
// Every method takes a context; a cancelled context aborts the call and
// leaves nothing half-written (each call is one transaction in SQL stores).
// Ids are strings: experiment ids are decimal integers in SQL stores, run
// ids are 32 lowercase hex digits.
type Store interface {
	// CreateExperiment creates an active experiment and returns its id.
	// The name must be unique among active and deleted experiments
	// (ErrAlreadyExists). An empty artifactLocation means
	// <artifact root>/<id>.
	CreateExperiment(ctx context.Context, name, artifactLocation string, tags []Tag) (string, error)
	// GetExperiment returns the experiment, deleted or not (ErrNotFound).
	GetExperiment(ctx context.Context, id string) (*Experiment, error)
	// GetExperimentByName prefers an active experiment (ErrNotFound).
	GetExperimentByName(ctx context.Context, name string) (*Experiment, error)
	// SearchExperiments returns a page of experiments and the token of the
	// next page ("" at the end).
	SearchExperiments(ctx context.Context, q SearchExperiments) ([]*Experiment, string, error)
	// RenameExperiment renames an active experiment (ErrInvalidState if
	// deleted, ErrAlreadyExists if the name is taken).
	RenameExperiment(ctx context.Context, id, newName string) error
	// DeleteExperiment soft-deletes an active experiment and its runs.
	DeleteExperiment(ctx context.Context, id string) error
	// RestoreExperiment restores a deleted experiment and its runs.
	RestoreExperiment(ctx context.Context, id string) error
	// SetExperimentTag upserts a tag on an active experiment.
	SetExperimentTag(ctx context.Context, id string, tag Tag) error
	// DeleteExperimentTag removes a tag (ErrNotFound if absent).
	DeleteExperimentTag(ctx context.Context, id, key string) error

	// CreateRun starts a RUNNING run in an active experiment.
	CreateRun(ctx context.Context, req CreateRun) (*Run, error)
	// GetRun returns the run with its latest metrics, params, tags and
	// inputs, deleted or not (ErrNotFound).
	GetRun(ctx context.Context, runID string) (*Run, error)
	// UpdateRun changes status, end time or name of an active run.
	UpdateRun(ctx context.Context, runID string, req UpdateRun) (*RunInfo, error)
	// DeleteRun soft-deletes a run; RestoreRun undoes it.
	DeleteRun(ctx context.Context, runID string) error
	RestoreRun(ctx context.Context, runID string) error
	// SearchRuns returns a page of runs and the next page's token ("" at
	// the end). Paging is by position in the sort order, so every run that
	// existed when paging began is returned exactly once even while runs
	// are added.
	SearchRuns(ctx context.Context, q SearchRuns) ([]*Run, string, error)

	// LogMetric appends a point to a metric's history of an active run.
	// An exact duplicate point is ignored.
	LogMetric(ctx context.Context, runID string, m Metric) error
	// LogParam records a param; the same value again is a no-op, another
	// value is ErrInvalidArgument.
	LogParam(ctx context.Context, runID string, p Param) error
	// SetTag upserts a run tag; mlflow.runName also renames the run.
	SetTag(ctx context.Context, runID string, t Tag) error
	// DeleteTag removes a run tag (ErrNotFound if absent).
	DeleteTag(ctx context.Context, runID, key string) error
	// LogBatch writes metrics, params and tags in one transaction: all or
	// nothing. MLflow's batch limits apply (ErrInvalidArgument).
	LogBatch(ctx context.Context, runID string, metrics []Metric, params []Param, tags []Tag) error
	// LogInputs links datasets to a run.
	LogInputs(ctx context.Context, runID string, inputs []DatasetInput) error
	// LogModel appends a model (a JSON object with MLflow's mandatory
	// fields) to the run's mlflow.log-model.history tag, as one
	// transaction: concurrent calls lose nothing.
	LogModel(ctx context.Context, runID, modelJSON string) error
	// GetMetricHistory returns the points of one metric ordered by
	// (timestamp, step, value). maxResults 0 means all in one page.
	GetMetricHistory(ctx context.Context, runID, key string, maxResults int, pageToken string) ([]Metric, string, error)

	// Close releases the store's resources.
	Close() error
}

// HistoryStreamer is a Store that hands out a metric's whole history one
// point at a time, in GetMetricHistory's order, as it reads it: a server
// streams a long history without holding it. An unknown run is an error
// before fn is called; an error from fn ends the stream with it.
type HistoryStreamer interface {
	StreamMetricHistory(ctx context.Context, runID, key string, fn func(Metric) error) error
}

// RunsStreamer is a Store that hands out a SearchRuns page one run at a
// time, in the page's order, as it loads the runs' data, then returns the
// next page's token: a server streams a large page without holding it.
// An error before fn is first called (a bad filter) is SearchRuns' error;
// an error from fn ends the stream with it.
type RunsStreamer interface {
	StreamSearchRuns(ctx context.Context, q SearchRuns, fn func(*Run) error) (next string, err error)
}

// DatasetSummary is one dataset used by an experiment's runs, with the
// context it was used in (input tag mlflow.data.context).
type DatasetSummary struct {
	ExperimentID string
	Name         string
	Digest       string
	Context      string
}

// DatasetSearcher is an optional Store capability: listing the datasets
// of experiments (the UI's search-datasets).
type DatasetSearcher interface {
	SearchDatasets(ctx context.Context, experimentIDs []string) ([]DatasetSummary, error)
}

// LoggedModel is an MLflow 3 logged model.
type LoggedModel struct {
	ModelID              string
	ExperimentID         string
	Name                 string
	ArtifactURI          string
	CreationTimestamp    int64
	LastUpdatedTimestamp int64
	Status               string // LOGGED_MODEL_PENDING, LOGGED_MODEL_READY, LOGGED_MODEL_UPLOAD_FAILED
	StatusMessage        string
	ModelType            string
	SourceRunID          string
	Tags                 []Tag
	Params               []Param
	Metrics              []Metric // logged with this model's id, oldest first
}

// SearchLoggedModels is a logged-model search (MLflow 3's L5).
type SearchLoggedModels struct {
	ExperimentIDs []string
	// Filter is MLflow's grammar over attributes (name, model_id,
	// model_type, status, source_run_id, creation_timestamp,
	// last_updated_timestamp), metrics.<key>, params.<key>, tags.<key>.
	Filter string
	// Datasets, when given, make metric clauses and orders look only at
	// metrics computed on one of them.
	Datasets   []DatasetRef
	OrderBy    []LoggedModelOrder // default: creation_timestamp, newest first
	MaxResults int                // default 50
	PageToken  string
}

// DatasetRef names a dataset (digest optional).
type DatasetRef struct{ Name, Digest string }

// LoggedModelOrder is one order_by field: an attribute or metrics.<key>.
type LoggedModelOrder struct {
	Field     string
	Ascending bool
	Dataset   DatasetRef
}

// ModelOutput links a logged model produced by a run, at a step.
type ModelOutput struct {
	ModelID string
	Step    int64
}

// LoggedModels is an optional Store capability: MLflow 3's logged models.
// A store without the tables for them returns ErrUnsupported.
type LoggedModels interface {
	CreateLoggedModel(ctx context.Context, m LoggedModel) (*LoggedModel, error)
	GetLoggedModel(ctx context.Context, id string) (*LoggedModel, error)
	FinalizeLoggedModel(ctx context.Context, id, status string) (*LoggedModel, error)
	DeleteLoggedModel(ctx context.Context, id string) error
	SetLoggedModelTags(ctx context.Context, id string, tags []Tag) (*LoggedModel, error)
	DeleteLoggedModelTag(ctx context.Context, id, key string) error
	LogLoggedModelParams(ctx context.Context, id string, params []Param) error
	SearchLoggedModels(ctx context.Context, q SearchLoggedModels) ([]*LoggedModel, string, error)
	LogOutputs(ctx context.Context, runID string, outputs []ModelOutput) error
	// LogModelInputs records logged models a run used (runs/log-inputs'
	// models; MLflow's client sends it when a metric names a model).
	LogModelInputs(ctx context.Context, runID string, modelIDs []string) error
}

// TraceInfo is a trace's record (MLflow 2.x's TraceInfo): its spans are
// kept by the tracking store (TraceSpans) when tagged
// TagTraceSpansLocation=SpansInTrackingStore, else in the traces.json
// artifact at the tag mlflow.artifactLocation.
type TraceInfo struct {
	RequestID       string
	ExperimentID    string
	TimestampMs     int64
	ExecutionTimeMs int64
	Status          string // OK, ERROR, IN_PROGRESS, TRACE_STATUS_UNSPECIFIED
	RequestMetadata []Tag
	Tags            []Tag
	// MLflow 3 (kept where the database has the columns).
	ClientRequestID, RequestPreview, ResponsePreview string
}

// SearchTraces is a trace search.
type SearchTraces struct {
	ExperimentIDs []string
	Filter        string
	OrderBy       []string
	MaxResults    int // default 100, at most 500
	PageToken     string
}

// DeleteTraces selects traces of one experiment to delete: by time
// (MaxTimestampMs, optionally only the MaxTraces oldest) or by ids.
type DeleteTraces struct {
	ExperimentID   string
	MaxTimestampMs *int64
	MaxTraces      *int64
	RequestIDs     []string
}

// TagTraceArtifactLocation is the server-set tag naming where a trace's
// data (traces.json) is stored.
const TagTraceArtifactLocation = "mlflow.artifactLocation"

// Traces is an optional Store capability: MLflow's traces (v2 API).
type Traces interface {
	StartTrace(ctx context.Context, experimentID string, timestampMs int64, metadata, tags []Tag) (*TraceInfo, error)
	EndTrace(ctx context.Context, requestID string, timestampMs int64, status string, metadata, tags []Tag) (*TraceInfo, error)
	GetTraceInfo(ctx context.Context, requestID string) (*TraceInfo, error)
	SearchTraces(ctx context.Context, q SearchTraces) ([]*TraceInfo, string, error)
	DeleteTraces(ctx context.Context, q DeleteTraces) (int, error)
	SetTraceTag(ctx context.Context, requestID, key, value string) error
	DeleteTraceTag(ctx context.Context, requestID, key string) error
	// PutTrace records a whole trace under the client's id (MLflow 3's
	// StartTraceV3, sent when a trace ends): created or updated,
	// metadata and tags upserted, the data location tag added.
	PutTrace(ctx context.Context, t TraceInfo) (*TraceInfo, error)
	// LinkTracesToRun associates up to 100 traces with a run (MLflow 3's
	// entity_associations); a run_id search then finds them too.
	LinkTracesToRun(ctx context.Context, traceIDs []string, runID string) error
	// LinkPromptsToTrace records prompt versions a trace used, in its tag
	// mlflow.linkedPrompts (a JSON list of {"name", "version"}), each once.
	LinkPromptsToTrace(ctx context.Context, traceID string, prompts []PromptVersionRef) error
}

// TagTraceSpansLocation is the tag MLflow 3.4+ servers set on a trace
// to say where its spans are: SpansInTrackingStore when the tracking
// store's spans table keeps them (TraceSpans), else in traces.json.
const TagTraceSpansLocation = "mlflow.trace.spansLocation"

// SpansInTrackingStore is TagTraceSpansLocation's value for spans kept
// by the tracking store.
const SpansInTrackingStore = "TRACKING_STORE"

// TraceSpans is an optional Store capability: the spans MLflow 3.4+
// keeps in the tracking store (its spans table) rather than in
// traces.json, each the JSON of MLflow's Span.to_dict.
type TraceSpans interface {
	// TraceSpans returns the spans kept for each of the traces, in the
	// order they started; a trace with none is absent from the map.
	TraceSpans(ctx context.Context, traceIDs []string) (map[string][]json.RawMessage, error)
}

// TraceCounter is an optional Store capability: how many traces of the
// experiments match every filter (each in the trace search grammar), for
// MLflow 3's CalculateTraceFilterCorrelation.
type TraceCounter interface {
	CountTraces(ctx context.Context, experimentIDs []string, filters ...string) (int64, error)
}

// SpanLogger is an optional Store capability: LogSpans keeps spans of an
// existing trace in the tracking store (a span logged again replaces
// itself), tags the trace TagTraceSpansLocation=SpansInTrackingStore and
// brings its record up to date with its spans (the earliest start while
// the root span is missing; then times, state, name, previews and token
// usage from all of them), as MLflow 3.4+'s log_spans does.
//
// KeepsSpans reports whether the store itself keeps the spans it is
// given (false for a database before MLflow 3's spans table, and for a
// remote server, which tags its own traces): a trace started through
// MLflow 3's API on such a store is tagged
// TagTraceSpansLocation=SpansInTrackingStore, as MLflow 3.4+'s SQL store
// tags it, so its client sends its spans rather than a traces.json.
type SpanLogger interface {
	LogSpans(ctx context.Context, traceID string, spans []json.RawMessage) error
	KeepsSpans() bool
}

// PromptVersionRef names a version of a prompt of the registry.
type PromptVersionRef struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// TagLinkedPrompts is the trace tag listing the prompt versions it used.
const TagLinkedPrompts = "mlflow.linkedPrompts"

// Assessment is MLflow 3's judgement of a trace: a feedback (a value, or
// an error) or an expectation. Value, Error and Metadata are JSON text.
type Assessment struct {
	ID, TraceID, Name    string
	Type                 string // "feedback" or "expectation"
	Value, Error         string
	CreatedMs, UpdatedMs int64
	SourceType, SourceID string
	RunID, SpanID        string
	Rationale, Overrides string
	Valid                bool
	Metadata             string
}

// Assessments is an optional Store capability (MLflow 3's assessments
// table). Update changes the fields mask names (assessment_name,
// expectation, feedback, rationale, metadata, valid).
type Assessments interface {
	CreateAssessment(ctx context.Context, a Assessment) (*Assessment, error)
	GetAssessment(ctx context.Context, traceID, id string) (*Assessment, error)
	UpdateAssessment(ctx context.Context, a Assessment, mask []string) (*Assessment, error)
	DeleteAssessment(ctx context.Context, traceID, id string) error
	TraceAssessments(ctx context.Context, traceID string) ([]*Assessment, error)
}

// Scorer is one version of a scorer registered in an experiment (MLflow
// 3's GenAI scorers and LLM judges): SerializedScorer is the client's JSON,
// kept as given; versions count from 1 per (experiment, name).
type Scorer struct {
	ExperimentID     string
	Name             string
	Version          int
	SerializedScorer string
	CreationTime     int64 // ms; 0 when the database did not record it
	ID               string
}

// Scorers is an optional Store capability (MLflow 3's scorers and
// scorer_versions tables). Each call needs the experiment to exist and be
// active (else RESOURCE_DOES_NOT_EXIST or INVALID_PARAMETER_VALUE, as in
// MLflow); an unknown name or version is RESOURCE_DOES_NOT_EXIST.
type Scorers interface {
	// RegisterScorer stores serialized as the next version of the
	// experiment's scorer name (creating the scorer at version 1).
	RegisterScorer(ctx context.Context, experimentID, name, serialized string) (*Scorer, error)
	// ListScorers returns the latest version of each scorer of the
	// experiment, by name.
	ListScorers(ctx context.Context, experimentID string) ([]*Scorer, error)
	// ListScorerVersions returns every version of one scorer, oldest first.
	ListScorerVersions(ctx context.Context, experimentID, name string) ([]*Scorer, error)
	// GetScorer returns one version, or the latest when version is 0.
	GetScorer(ctx context.Context, experimentID, name string, version int) (*Scorer, error)
	// DeleteScorer deletes one version, or the whole scorer when version
	// is 0.
	DeleteScorer(ctx context.Context, experimentID, name string, version int) error
}

// EvaluationDataset is an MLflow 3 GenAI evaluation dataset: records of
// inputs and expectations, linked to experiments. Schema and Profile are
// JSON text the store keeps up to date as records arrive; Digest changes
// with every change of the records.
type EvaluationDataset struct {
	ID, Name                    string
	Tags                        []Tag
	Schema, Profile, Digest     string
	CreatedTime, LastUpdateTime int64
	CreatedBy, LastUpdatedBy    string
	// ExperimentIDs is filled where MLflow's answers carry it (create,
	// add and remove experiments); DatasetExperimentIDs lists them.
	ExperimentIDs []string
}

// DatasetRecord is one record of an evaluation dataset. Inputs, Outputs,
// Expectations, Tags and Source are JSON text ("" for none); Source is
// {"source_type": …, "source_data": {…}}.
type DatasetRecord struct {
	ID, DatasetID                       string
	Inputs, Outputs, Expectations, Tags string
	Source, SourceID, SourceType        string
	CreatedTime, LastUpdateTime         int64
	CreatedBy, LastUpdatedBy            string
}

// SearchEvaluationDatasets is a search of evaluation datasets: those
// linked to any of ExperimentIDs (all when none), matching Filter
// (attributes name, digest, created_by, last_updated_by, created_time,
// last_update_time, and tags.<key>), in OrderBy's order (created_time
// DESC by default).
type SearchEvaluationDatasets struct {
	ExperimentIDs []string
	Filter        string
	OrderBy       []string
	MaxResults    int // default 1000
	PageToken     string
}

// EvaluationDatasets is an optional Store capability: MLflow 3's
// evaluation datasets (tables evaluation_datasets, evaluation_dataset_tags,
// evaluation_dataset_records, and entity_associations for the links to
// experiments). An unknown dataset is RESOURCE_DOES_NOT_EXIST, except
// where MLflow lets the call pass (delete, tag delete).
type EvaluationDatasets interface {
	CreateEvaluationDataset(ctx context.Context, name string, tags []Tag, experimentIDs []string) (*EvaluationDataset, error)
	GetEvaluationDataset(ctx context.Context, id string) (*EvaluationDataset, error)
	// DeleteEvaluationDataset deletes a dataset with its records, tags
	// and links; an unknown one is no error, as in MLflow.
	DeleteEvaluationDataset(ctx context.Context, id string) error
	SearchEvaluationDatasets(ctx context.Context, q SearchEvaluationDatasets) ([]*EvaluationDataset, string, error)
	// SetEvaluationDatasetTags upserts tags (tags with no value are left
	// alone, as MLflow skips None).
	SetEvaluationDatasetTags(ctx context.Context, id string, tags []Tag) error
	DeleteEvaluationDatasetTag(ctx context.Context, id, key string) error
	// UpsertDatasetRecords adds records (JSON objects with inputs and
	// optionally outputs, expectations, tags, source): a record whose
	// inputs a record of the dataset already has is merged into it (its
	// outputs replaced, its expectations and tags updated).
	UpsertDatasetRecords(ctx context.Context, id string, records []json.RawMessage) (inserted, updated int, err error)
	// DatasetRecords pages through a dataset's records, oldest first
	// (maxResults 0: 1000).
	DatasetRecords(ctx context.Context, id string, maxResults int, pageToken string) ([]*DatasetRecord, string, error)
	DeleteDatasetRecords(ctx context.Context, id string, recordIDs []string) (int, error)
	DatasetExperimentIDs(ctx context.Context, id string) ([]string, error)
	AddDatasetToExperiments(ctx context.Context, id string, experimentIDs []string) (*EvaluationDataset, error)
	RemoveDatasetFromExperiments(ctx context.Context, id string, experimentIDs []string) (*EvaluationDataset, error)
}

// Local is an optional Store capability: a database this process opens
// itself (not a server's), with the root of new experiments' artifacts.
// The runner serves such a store on loopback for a step.
type Local interface {
	ArtifactRoot() string
}

// TagModelHistory is the run tag holding the JSON list of logged models.
const TagModelHistory = "mlflow.log-model.history"

// AppendModelHistory returns the mlflow.log-model.history value old with
// modelJSON appended. A corrupt old history is replaced rather than kept
// growing; modelJSON must be a JSON object.
func AppendModelHistory(old, modelJSON string) (string, error) {
	var model map[string]any
	if err := json.Unmarshal([]byte(modelJSON), &model); err != nil || model == nil {
		return "", Invalidf("Malformed model info. 'model_json' must be a JSON object")
	}
	var hist []any
	if old != "" {
		if err := json.Unmarshal([]byte(old), &hist); err != nil {
			hist = nil
		}
	}
	b, err := json.Marshal(append(hist, model))
	if err != nil {
		return "", fmt.Errorf("encode model history: %w", err)
	}
	return string(b), nil
}

// Collector is an optional Store capability: removing deleted runs,
// logged models and experiments for good, as `mlflow gc` does (`mlrun gc`).
type Collector interface {
	// DeletedRuns returns the ids of the runs in the deleted lifecycle
	// stage, deleted at least olderThan ago (0: all of them).
	DeletedRuns(ctx context.Context, olderThan time.Duration) ([]string, error)
	// HardDeleteRun removes a deleted run and everything logged to it;
	// a run that is not deleted is INVALID_PARAMETER_VALUE.
	HardDeleteRun(ctx context.Context, runID string) error
	// HardDeleteExperiment removes a deleted experiment with its runs,
	// tags, datasets and traces; one that is not deleted is
	// INVALID_PARAMETER_VALUE.
	HardDeleteExperiment(ctx context.Context, id string) error
	// DeletedLoggedModels returns every logged model (MLflow 3) in the
	// deleted lifecycle stage, oldest deletion first; none on a database
	// without MLflow 3's tables.
	DeletedLoggedModels(ctx context.Context) ([]DeletedLoggedModel, error)
	// HardDeleteLoggedModel removes a deleted logged model with its tags,
	// params, metrics and its links to runs. One that is not deleted, or
	// that a model version is registered from, is INVALID_PARAMETER_VALUE;
	// one that does not exist is RESOURCE_DOES_NOT_EXIST.
	HardDeleteLoggedModel(ctx context.Context, id string) error
}

// DeletedLoggedModel is a logged model in the deleted lifecycle stage, as
// `mlrun gc` sees it.
type DeletedLoggedModel struct {
	ModelID     string
	ArtifactURI string
	// Deleted is when it was deleted (its last update), in ms since the epoch.
	Deleted int64
	// Versions are the model versions registered from it ("name" version
	// "n"), whose files are its artifacts: while one exists the model
	// stays.
	Versions []string
}
