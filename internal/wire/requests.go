package wire

// Request and response messages of the tracking endpoints, by MLflow's
// proto names. Fields that clients may send in several forms use the
// lenient scalar types.

// CreateExperiment is E1's request.
type CreateExperiment struct {
	Name             string     `json:"name"`
	ArtifactLocation string     `json:"artifact_location,omitempty"`
	Tags             []KeyValue `json:"tags,omitempty"`
}

// CreateExperimentResponse is E1's response.
type CreateExperimentResponse struct {
	ExperimentID string `json:"experiment_id"`
}

// ExperimentRequest names one experiment (E2, E6, E7).
type ExperimentRequest struct {
	ExperimentID ID `json:"experiment_id"`
}

// GetExperimentByName is E3's request.
type GetExperimentByName struct {
	ExperimentName string `json:"experiment_name"`
}

// ExperimentResponse is E2/E3's response.
type ExperimentResponse struct {
	Experiment Experiment `json:"experiment"`
}

// SearchExperiments is E4's request.
type SearchExperiments struct {
	MaxResults Int64    `json:"max_results,omitempty"`
	PageToken  string   `json:"page_token,omitempty"`
	Filter     string   `json:"filter,omitempty"`
	OrderBy    []string `json:"order_by,omitempty"`
	ViewType   Enum     `json:"view_type,omitempty"`
}

// SearchExperimentsResponse is E4's response.
type SearchExperimentsResponse struct {
	Experiments   []Experiment `json:"experiments,omitempty"`
	NextPageToken string       `json:"next_page_token,omitempty"`
}

// UpdateExperiment is E5's request.
type UpdateExperiment struct {
	ExperimentID ID     `json:"experiment_id"`
	NewName      string `json:"new_name"`
}

// SetExperimentTag is E8's request.
type SetExperimentTag struct {
	ExperimentID ID     `json:"experiment_id"`
	Key          string `json:"key"`
	Value        string `json:"value"`
}

// DeleteExperimentTag is E9's request.
type DeleteExperimentTag struct {
	ExperimentID ID     `json:"experiment_id"`
	Key          string `json:"key"`
}

// CreateRun is R1's request.
type CreateRun struct {
	ExperimentID ID         `json:"experiment_id,omitempty"`
	UserID       string     `json:"user_id,omitempty"`
	RunName      string     `json:"run_name,omitempty"`
	StartTime    Int64      `json:"start_time,omitempty"`
	Tags         []KeyValue `json:"tags,omitempty"`
}

// RunResponse is R1/R5's response.
type RunResponse struct {
	Run Run `json:"run"`
}

// RunRequest names a run by run_id or legacy run_uuid.
type RunRequest struct {
	RunID   string `json:"run_id,omitempty"`
	RunUUID string `json:"run_uuid,omitempty"`
}

// ID returns run_id, else run_uuid.
func (r RunRequest) ID() string {
	if r.RunID != "" {
		return r.RunID
	}
	return r.RunUUID
}

// UpdateRun is R2's request.
type UpdateRun struct {
	RunRequest
	Status  Enum   `json:"status,omitempty"`
	EndTime *Int64 `json:"end_time,omitempty"`
	RunName string `json:"run_name,omitempty"`
}

// UpdateRunResponse is R2's response.
type UpdateRunResponse struct {
	RunInfo RunInfo `json:"run_info"`
}

// SearchRuns is R6's request.
type SearchRuns struct {
	ExperimentIDs []ID     `json:"experiment_ids,omitempty"`
	Filter        string   `json:"filter,omitempty"`
	RunViewType   Enum     `json:"run_view_type,omitempty"`
	MaxResults    Int64    `json:"max_results,omitempty"`
	OrderBy       []string `json:"order_by,omitempty"`
	PageToken     string   `json:"page_token,omitempty"`
}

// SearchRunsResponse is R6's response.
type SearchRunsResponse struct {
	Runs          []Run  `json:"runs,omitempty"`
	NextPageToken string `json:"next_page_token,omitempty"`
}

// LogMetric is R7's request.
type LogMetric struct {
	RunRequest
	Key       string `json:"key"`
	Value     *Float `json:"value,omitempty"`
	Timestamp *Int64 `json:"timestamp,omitempty"`
	Step      Int64  `json:"step,omitempty"`
	// MLflow 3: the logged model and dataset the metric is about.
	ModelID       string `json:"model_id,omitempty"`
	DatasetName   string `json:"dataset_name,omitempty"`
	DatasetDigest string `json:"dataset_digest,omitempty"`
}

// LogParam is R8's request.
type LogParam struct {
	RunRequest
	Key   string `json:"key"`
	Value string `json:"value"`
}

// SetTag is R9's request.
type SetTag struct {
	RunRequest
	Key   string `json:"key"`
	Value string `json:"value"`
}

// DeleteTag is R10's request.
type DeleteTag struct {
	RunID string `json:"run_id"`
	Key   string `json:"key"`
}

// BatchMetric is a metric of a log-batch, whose fields may be missing.
type BatchMetric struct {
	Key           string `json:"key"`
	Value         *Float `json:"value,omitempty"`
	Timestamp     *Int64 `json:"timestamp,omitempty"`
	Step          Int64  `json:"step,omitempty"`
	ModelID       string `json:"model_id,omitempty"`
	DatasetName   string `json:"dataset_name,omitempty"`
	DatasetDigest string `json:"dataset_digest,omitempty"`
}

// LogBatch is R11's request.
type LogBatch struct {
	RunID   string        `json:"run_id"`
	Metrics []BatchMetric `json:"metrics,omitempty"`
	Params  []KeyValue    `json:"params,omitempty"`
	Tags    []KeyValue    `json:"tags,omitempty"`
}

// LogModel is R12's request.
type LogModel struct {
	RunID     string `json:"run_id"`
	ModelJSON string `json:"model_json"`
}

// LogInputs is R13's request.
type LogInputs struct {
	RunID    string         `json:"run_id"`
	Datasets []DatasetInput `json:"datasets,omitempty"`
	Models   []ModelInput   `json:"models,omitempty"` // MLflow 3
}

// GetMetricHistory is M1's request.
type GetMetricHistory struct {
	RunRequest
	MetricKey  string `json:"metric_key"`
	PageToken  string `json:"page_token,omitempty"`
	MaxResults Int64  `json:"max_results,omitempty"`
}

// MetricsResponse is M1/M2's response.
type MetricsResponse struct {
	Metrics       []Metric `json:"metrics,omitempty"`
	NextPageToken string   `json:"next_page_token,omitempty"`
}

// GetMetricHistoryBulkInterval is M2's request.
type GetMetricHistoryBulkInterval struct {
	RunIDs     []string `json:"run_ids"`
	MetricKey  string   `json:"metric_key"`
	StartStep  *Int64   `json:"start_step,omitempty"`
	EndStep    *Int64   `json:"end_step,omitempty"`
	MaxResults Int64    `json:"max_results,omitempty"`
}

// ListArtifacts is A1's request.
type ListArtifacts struct {
	RunRequest
	Path      string `json:"path,omitempty"`
	PageToken string `json:"page_token,omitempty"`
}

// ListArtifactsResponse is A1's response.
type ListArtifactsResponse struct {
	RootURI       string     `json:"root_uri,omitempty"`
	Files         []FileInfo `json:"files,omitempty"`
	NextPageToken string     `json:"next_page_token,omitempty"`
}

// ProxyListResponse is the artifact proxy's listing.
type ProxyListResponse struct {
	Files []FileInfo `json:"files,omitempty"`
}
