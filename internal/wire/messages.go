package wire

import (
	"github.com/mlrun/mlrun/store"
)

// KeyValue is a tag or param: {key, value}.
type KeyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Metric is a metric point.
type Metric struct {
	Key           string `json:"key"`
	Value         Float  `json:"value"`
	Timestamp     Int64  `json:"timestamp"`
	Step          Int64  `json:"step"`
	RunID         string `json:"run_id,omitempty"`
	DatasetName   string `json:"dataset_name,omitempty"`
	DatasetDigest string `json:"dataset_digest,omitempty"`
	ModelID       string `json:"model_id,omitempty"`
}

// Experiment is MLflow's Experiment message.
type Experiment struct {
	ExperimentID     string     `json:"experiment_id"`
	Name             string     `json:"name"`
	ArtifactLocation string     `json:"artifact_location,omitempty"`
	LifecycleStage   string     `json:"lifecycle_stage,omitempty"`
	LastUpdateTime   Int64      `json:"last_update_time,omitempty"`
	CreationTime     Int64      `json:"creation_time,omitempty"`
	Tags             []KeyValue `json:"tags,omitempty"`
}

// RunInfo is MLflow's RunInfo message.
type RunInfo struct {
	RunID          string `json:"run_id"`
	RunUUID        string `json:"run_uuid"`
	RunName        string `json:"run_name,omitempty"`
	ExperimentID   string `json:"experiment_id"`
	UserID         string `json:"user_id,omitempty"`
	Status         string `json:"status,omitempty"`
	StartTime      Int64  `json:"start_time,omitempty"`
	EndTime        *Int64 `json:"end_time,omitempty"`
	ArtifactURI    string `json:"artifact_uri,omitempty"`
	LifecycleStage string `json:"lifecycle_stage,omitempty"`
}

// RunData is MLflow's RunData message.
type RunData struct {
	Metrics []Metric   `json:"metrics,omitempty"`
	Params  []KeyValue `json:"params,omitempty"`
	Tags    []KeyValue `json:"tags,omitempty"`
}

// Dataset is MLflow's Dataset message.
type Dataset struct {
	Name       string `json:"name"`
	Digest     string `json:"digest"`
	SourceType string `json:"source_type"`
	Source     string `json:"source"`
	Schema     string `json:"schema,omitempty"`
	Profile    string `json:"profile,omitempty"`
}

// DatasetInput is MLflow's DatasetInput message.
type DatasetInput struct {
	Tags    []KeyValue `json:"tags,omitempty"`
	Dataset Dataset    `json:"dataset"`
}

// RunInputs is MLflow's RunInputs message.
type RunInputs struct {
	DatasetInputs []DatasetInput `json:"dataset_inputs,omitempty"`
	ModelInputs   []ModelInput   `json:"model_inputs,omitempty"` // MLflow 3
}

// ModelOutputEntry is MLflow 3's ModelOutput message.
type ModelOutputEntry struct {
	ModelID string `json:"model_id"`
	Step    Int64  `json:"step"`
}

// ModelInput is MLflow 3's ModelInput message: a logged model a run used.
type ModelInput struct {
	ModelID string `json:"model_id"`
}

// RunOutputs is MLflow 3's RunOutputs message.
type RunOutputs struct {
	ModelOutputs []ModelOutputEntry `json:"model_outputs,omitempty"`
}

// Run is MLflow's Run message.
type Run struct {
	Info    RunInfo     `json:"info"`
	Data    RunData     `json:"data"`
	Inputs  *RunInputs  `json:"inputs,omitempty"`
	Outputs *RunOutputs `json:"outputs,omitempty"`
}

// FileInfo is an artifact listing entry.
type FileInfo struct {
	Path     string `json:"path"`
	IsDir    bool   `json:"is_dir"`
	FileSize *Int64 `json:"file_size,omitempty"`
}

// ErrorBody is MLflow's error response.
type ErrorBody struct {
	ErrorCode string `json:"error_code"`
	Message   string `json:"message"`
}

// FromExperiment converts a store experiment.
func FromExperiment(e *store.Experiment) Experiment {
	return Experiment{
		ExperimentID: e.ID, Name: e.Name, ArtifactLocation: e.ArtifactLocation,
		LifecycleStage: e.LifecycleStage, LastUpdateTime: Int64(e.LastUpdateTime),
		CreationTime: Int64(e.CreationTime), Tags: FromTags(e.Tags),
	}
}

// ToExperiment converts to a store experiment.
func (e Experiment) ToExperiment() *store.Experiment {
	return &store.Experiment{
		ID: e.ExperimentID, Name: e.Name, ArtifactLocation: e.ArtifactLocation,
		LifecycleStage: e.LifecycleStage, LastUpdateTime: int64(e.LastUpdateTime),
		CreationTime: int64(e.CreationTime), Tags: ToTags(e.Tags),
	}
}

// FromTags converts tags.
func FromTags(ts []store.Tag) []KeyValue {
	if len(ts) == 0 {
		return nil
	}
	out := make([]KeyValue, len(ts))
	for i, t := range ts {
		out[i] = KeyValue{t.Key, t.Value}
	}
	return out
}

// ToTags converts tags.
func ToTags(kvs []KeyValue) []store.Tag {
	if len(kvs) == 0 {
		return nil
	}
	out := make([]store.Tag, len(kvs))
	for i, kv := range kvs {
		out[i] = store.Tag{Key: kv.Key, Value: kv.Value}
	}
	return out
}

// FromParams converts params.
func FromParams(ps []store.Param) []KeyValue {
	if len(ps) == 0 {
		return nil
	}
	out := make([]KeyValue, len(ps))
	for i, p := range ps {
		out[i] = KeyValue{p.Key, p.Value}
	}
	return out
}

// ToParams converts params.
func ToParams(kvs []KeyValue) []store.Param {
	if len(kvs) == 0 {
		return nil
	}
	out := make([]store.Param, len(kvs))
	for i, kv := range kvs {
		out[i] = store.Param{Key: kv.Key, Value: kv.Value}
	}
	return out
}

// FromMetric converts a metric.
func FromMetric(m store.Metric) Metric {
	return Metric{Key: m.Key, Value: Float(m.Value), Timestamp: Int64(m.Timestamp), Step: Int64(m.Step),
		RunID: m.RunID, DatasetName: m.DatasetName, DatasetDigest: m.DatasetDigest, ModelID: m.ModelID}
}

// ToMetric converts a metric.
func (m Metric) ToMetric() store.Metric {
	return store.Metric{Key: m.Key, Value: float64(m.Value), Timestamp: int64(m.Timestamp), Step: int64(m.Step),
		DatasetName: m.DatasetName, DatasetDigest: m.DatasetDigest, ModelID: m.ModelID, RunID: m.RunID}
}

// FromMetrics converts metrics.
func FromMetrics(ms []store.Metric) []Metric {
	if len(ms) == 0 {
		return nil
	}
	out := make([]Metric, len(ms))
	for i, m := range ms {
		out[i] = FromMetric(m)
	}
	return out
}

// ToMetrics converts metrics.
func ToMetrics(ms []Metric) []store.Metric {
	out := make([]store.Metric, len(ms))
	for i, m := range ms {
		out[i] = m.ToMetric()
	}
	return out
}

// FromRunInfo converts run info; run_uuid repeats run_id.
func FromRunInfo(ri *store.RunInfo) RunInfo {
	w := RunInfo{
		RunID: ri.RunID, RunUUID: ri.RunID, RunName: ri.RunName, ExperimentID: ri.ExperimentID,
		UserID: ri.UserID, Status: string(ri.Status), StartTime: Int64(ri.StartTime),
		ArtifactURI: ri.ArtifactURI, LifecycleStage: ri.LifecycleStage,
	}
	if ri.EndTime != nil {
		v := Int64(*ri.EndTime)
		w.EndTime = &v
	}
	return w
}

// ToRunInfo converts run info.
func (w RunInfo) ToRunInfo() *store.RunInfo {
	id := w.RunID
	if id == "" {
		id = w.RunUUID
	}
	ri := &store.RunInfo{
		RunID: id, RunName: w.RunName, ExperimentID: w.ExperimentID, UserID: w.UserID,
		Status: store.RunStatus(w.Status), StartTime: int64(w.StartTime), ArtifactURI: w.ArtifactURI,
		LifecycleStage: w.LifecycleStage,
	}
	if w.EndTime != nil {
		v := int64(*w.EndTime)
		ri.EndTime = &v
	}
	return ri
}

// FromDatasetInputs converts dataset inputs.
func FromDatasetInputs(ins []store.DatasetInput) []DatasetInput {
	out := make([]DatasetInput, len(ins))
	for i, in := range ins {
		d := in.Dataset
		out[i] = DatasetInput{Tags: FromTags(in.Tags), Dataset: Dataset{
			Name: d.Name, Digest: d.Digest, SourceType: d.SourceType, Source: d.Source, Schema: d.Schema, Profile: d.Profile,
		}}
	}
	return out
}

// ToDatasetInputs converts dataset inputs.
func ToDatasetInputs(ins []DatasetInput) []store.DatasetInput {
	out := make([]store.DatasetInput, len(ins))
	for i, in := range ins {
		d := in.Dataset
		out[i] = store.DatasetInput{Tags: ToTags(in.Tags), Dataset: store.Dataset{
			Name: d.Name, Digest: d.Digest, SourceType: d.SourceType, Source: d.Source, Schema: d.Schema, Profile: d.Profile,
		}}
	}
	return out
}

// FromRun converts a run.
func FromRun(r *store.Run) Run {
	w := Run{
		Info:    FromRunInfo(&r.Info),
		Data:    RunData{Metrics: FromMetrics(r.Metrics), Params: FromParams(r.Params), Tags: FromTags(r.Tags)},
		Inputs:  &RunInputs{},
		Outputs: &RunOutputs{},
	}
	if len(r.Inputs) > 0 {
		w.Inputs.DatasetInputs = FromDatasetInputs(r.Inputs)
	}
	for _, o := range r.Outputs {
		w.Outputs.ModelOutputs = append(w.Outputs.ModelOutputs, ModelOutputEntry{ModelID: o.ModelID, Step: Int64(o.Step)})
	}
	for _, id := range r.ModelInputs {
		w.Inputs.ModelInputs = append(w.Inputs.ModelInputs, ModelInput{ModelID: id})
	}
	return w
}

// ToRun converts a run.
func (w Run) ToRun() *store.Run {
	r := &store.Run{
		Info:    *w.Info.ToRunInfo(),
		Params:  ToParams(w.Data.Params),
		Tags:    ToTags(w.Data.Tags),
		Metrics: nil,
	}
	if len(w.Data.Metrics) > 0 {
		r.Metrics = ToMetrics(w.Data.Metrics)
	}
	if w.Inputs != nil && len(w.Inputs.DatasetInputs) > 0 {
		r.Inputs = ToDatasetInputs(w.Inputs.DatasetInputs)
	}
	if w.Inputs != nil {
		for _, m := range w.Inputs.ModelInputs {
			r.ModelInputs = append(r.ModelInputs, m.ModelID)
		}
	}
	if w.Outputs != nil {
		for _, o := range w.Outputs.ModelOutputs {
			r.Outputs = append(r.Outputs, store.ModelOutput{ModelID: o.ModelID, Step: int64(o.Step)})
		}
	}
	return r
}
