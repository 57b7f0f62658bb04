package store

import "math"

// Lifecycle stages of experiments and runs.
const (
	LifecycleActive  = "active"
	LifecycleDeleted = "deleted"
)

// RunStatus is a run's status, by MLflow's enum name.
type RunStatus string

// Run statuses. FINISHED, FAILED and KILLED are terminal.
const (
	StatusRunning   RunStatus = "RUNNING"
	StatusScheduled RunStatus = "SCHEDULED"
	StatusFinished  RunStatus = "FINISHED"
	StatusFailed    RunStatus = "FAILED"
	StatusKilled    RunStatus = "KILLED"
)

// ParseRunStatus checks s is one of MLflow's run statuses.
func ParseRunStatus(s string) (RunStatus, error) {
	switch st := RunStatus(s); st {
	case StatusRunning, StatusScheduled, StatusFinished, StatusFailed, StatusKilled:
		return st, nil
	}
	return "", Invalidf("invalid run status %q: want one of RUNNING, SCHEDULED, FINISHED, FAILED, KILLED", s)
}

// Terminal reports whether the status ends a run.
func (s RunStatus) Terminal() bool {
	return s == StatusFinished || s == StatusFailed || s == StatusKilled
}

// ViewType selects active, deleted or all objects in searches.
type ViewType int

// View types, numbered as in MLflow's proto.
const (
	ActiveOnly  ViewType = 1
	DeletedOnly ViewType = 2
	AllViews    ViewType = 3
)

// ParseViewType accepts the enum name or number ("" is ActiveOnly).
func ParseViewType(s string) (ViewType, error) {
	switch s {
	case "", "ACTIVE_ONLY", "1":
		return ActiveOnly, nil
	case "DELETED_ONLY", "2":
		return DeletedOnly, nil
	case "ALL", "3":
		return AllViews, nil
	}
	return 0, Invalidf("invalid view type %q: want ACTIVE_ONLY, DELETED_ONLY or ALL", s)
}

// String returns the enum name.
func (v ViewType) String() string {
	switch v {
	case DeletedOnly:
		return "DELETED_ONLY"
	case AllViews:
		return "ALL"
	}
	return "ACTIVE_ONLY"
}

// Tag is a key/value pair on an experiment or a run.
type Tag struct {
	Key   string
	Value string
}

// Param is a run parameter; it is written once.
type Param struct {
	Key   string
	Value string
}

// Metric is one logged point of a metric's history. Value may be NaN or
// ±Inf.
type Metric struct {
	Key       string
	Value     float64
	Timestamp int64 // ms since the epoch
	Step      int64
	// MLflow 3: the logged model the metric is about (also recorded in
	// logged_model_metrics) and the dataset it was computed on; RunID
	// says which run logged it, in a logged model's metrics.
	ModelID, DatasetName, DatasetDigest, RunID string
}

// Experiment is a named group of runs.
type Experiment struct {
	ID               string
	Name             string
	ArtifactLocation string
	LifecycleStage   string
	CreationTime     int64
	LastUpdateTime   int64
	Tags             []Tag
}

// RunInfo is a run's metadata.
type RunInfo struct {
	RunID          string
	RunName        string
	ExperimentID   string
	UserID         string
	Status         RunStatus
	StartTime      int64
	EndTime        *int64
	ArtifactURI    string
	LifecycleStage string
}

// Run is a run with its data: the latest value of each metric, its params,
// tags and dataset inputs.
type Run struct {
	Info    RunInfo
	Metrics []Metric
	Params  []Param
	Tags    []Tag
	Inputs  []DatasetInput
	Outputs []ModelOutput // MLflow 3 logged models the run produced
	// ModelInputs are the MLflow 3 logged models the run used (ids).
	ModelInputs []string
}

// Tag returns the value of the run tag key, and whether it is set.
func (r *Run) Tag(key string) (string, bool) {
	for _, t := range r.Tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

// Dataset describes a dataset a run used.
type Dataset struct {
	Name       string
	Digest     string
	SourceType string
	Source     string
	Schema     string
	Profile    string
}

// DatasetInput links a dataset to a run, with input tags such as
// mlflow.data.context.
type DatasetInput struct {
	Tags    []Tag
	Dataset Dataset
}

// CreateRun is the request to start a run.
type CreateRun struct {
	ExperimentID string // "" means the default experiment "0"
	UserID       string
	RunName      string
	StartTime    int64 // 0 means now
	Tags         []Tag
}

// UpdateRun changes only the fields that are set.
type UpdateRun struct {
	Status  *RunStatus
	EndTime *int64
	RunName *string
}

// SearchExperiments is a search request over experiments.
type SearchExperiments struct {
	Filter     string
	OrderBy    []string
	ViewType   ViewType
	MaxResults int // 0 means 1000
	PageToken  string
}

// SearchRuns is a search request over runs.
type SearchRuns struct {
	ExperimentIDs []string
	Filter        string
	OrderBy       []string
	ViewType      ViewType
	MaxResults    int // 0 means 1000
	PageToken     string
}

// SanitizeMetricValue returns the value SQL stores keep for v: NaN is
// stored as 0 with the is_nan flag (MLflow's SQL store). ±Inf are kept as
// they are, where MLflow clamps them to ±MaxFloat64.
func SanitizeMetricValue(v float64) (value float64, isNaN bool) {
	if math.IsNaN(v) {
		return 0, true
	}
	return v, false
}
