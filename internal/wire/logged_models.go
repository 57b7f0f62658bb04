package wire

import "github.com/mlrun/mlrun/store"

// LoggedModelInfo is MLflow 3's LoggedModelInfo message.
type LoggedModelInfo struct {
	ModelID                string     `json:"model_id"`
	ExperimentID           string     `json:"experiment_id"`
	Name                   string     `json:"name"`
	CreationTimestampMs    Int64      `json:"creation_timestamp_ms,omitempty"`
	LastUpdatedTimestampMs Int64      `json:"last_updated_timestamp_ms,omitempty"`
	ArtifactURI            string     `json:"artifact_uri,omitempty"`
	Status                 string     `json:"status,omitempty"`
	ModelType              string     `json:"model_type,omitempty"`
	SourceRunID            string     `json:"source_run_id,omitempty"`
	StatusMessage          string     `json:"status_message,omitempty"`
	Tags                   []KeyValue `json:"tags,omitempty"`
}

// LoggedModelData is MLflow 3's LoggedModelData message.
type LoggedModelData struct {
	Params  []KeyValue `json:"params,omitempty"`
	Metrics []Metric   `json:"metrics,omitempty"`
}

// LoggedModel is MLflow 3's LoggedModel message.
type LoggedModel struct {
	Info LoggedModelInfo `json:"info"`
	Data LoggedModelData `json:"data"`
}

// LoggedModelResponse is {model}.
type LoggedModelResponse struct {
	Model LoggedModel `json:"model"`
}

// LoggedModelRequest carries the fields of the logged-model endpoints.
type LoggedModelRequest struct {
	ExperimentID  ID         `json:"experiment_id,omitempty"`
	Name          string     `json:"name,omitempty"`
	ModelType     string     `json:"model_type,omitempty"`
	SourceRunID   string     `json:"source_run_id,omitempty"`
	Params        []KeyValue `json:"params,omitempty"`
	Tags          []KeyValue `json:"tags,omitempty"`
	Status        Enum       `json:"status,omitempty"`
	ExperimentIDs []ID       `json:"experiment_ids,omitempty"`
	MaxResults    Int64      `json:"max_results,omitempty"`
	PageToken     string     `json:"page_token,omitempty"`
	Filter        string     `json:"filter,omitempty"`
	// L5's datasets and order_by.
	Datasets []DatasetRef       `json:"datasets,omitempty"`
	OrderBy  []LoggedModelOrder `json:"order_by,omitempty"`
}

// DatasetRef names a dataset in a logged-model search.
type DatasetRef struct {
	DatasetName   string `json:"dataset_name"`
	DatasetDigest string `json:"dataset_digest,omitempty"`
}

// LoggedModelOrder is one order_by entry of a logged-model search;
// Ascending defaults to true.
type LoggedModelOrder struct {
	FieldName     string `json:"field_name"`
	Ascending     *bool  `json:"ascending,omitempty"`
	DatasetName   string `json:"dataset_name,omitempty"`
	DatasetDigest string `json:"dataset_digest,omitempty"`
}

// ToSearchLoggedModels converts L5's request.
func (r LoggedModelRequest) ToSearchLoggedModels() store.SearchLoggedModels {
	q := store.SearchLoggedModels{Filter: r.Filter, MaxResults: int(r.MaxResults), PageToken: r.PageToken}
	for _, id := range r.ExperimentIDs {
		q.ExperimentIDs = append(q.ExperimentIDs, string(id))
	}
	for _, d := range r.Datasets {
		q.Datasets = append(q.Datasets, store.DatasetRef{Name: d.DatasetName, Digest: d.DatasetDigest})
	}
	for _, o := range r.OrderBy {
		q.OrderBy = append(q.OrderBy, store.LoggedModelOrder{Field: o.FieldName, Ascending: o.Ascending == nil || *o.Ascending,
			Dataset: store.DatasetRef{Name: o.DatasetName, Digest: o.DatasetDigest}})
	}
	return q
}

// FromSearchLoggedModels converts a search to L5's request.
func FromSearchLoggedModels(q store.SearchLoggedModels) LoggedModelRequest {
	r := LoggedModelRequest{Filter: q.Filter, MaxResults: Int64(q.MaxResults), PageToken: q.PageToken}
	for _, id := range q.ExperimentIDs {
		r.ExperimentIDs = append(r.ExperimentIDs, ID(id))
	}
	for _, d := range q.Datasets {
		r.Datasets = append(r.Datasets, DatasetRef{DatasetName: d.Name, DatasetDigest: d.Digest})
	}
	for _, o := range q.OrderBy {
		asc := o.Ascending
		r.OrderBy = append(r.OrderBy, LoggedModelOrder{FieldName: o.Field, Ascending: &asc, DatasetName: o.Dataset.Name, DatasetDigest: o.Dataset.Digest})
	}
	return r
}

// SearchLoggedModelsResponse is L5's response.
type SearchLoggedModelsResponse struct {
	Models        []LoggedModel `json:"models,omitempty"`
	NextPageToken string        `json:"next_page_token,omitempty"`
}

// ModelOutputs is R14's request.
type ModelOutputs struct {
	RunID  string `json:"run_id"`
	Models []struct {
		ModelID string `json:"model_id"`
		Step    Int64  `json:"step"`
	} `json:"models"`
}

// FromLoggedModel converts a logged model.
func FromLoggedModel(m *store.LoggedModel) LoggedModel {
	return LoggedModel{
		Info: LoggedModelInfo{
			ModelID: m.ModelID, ExperimentID: m.ExperimentID, Name: m.Name, CreationTimestampMs: Int64(m.CreationTimestamp),
			LastUpdatedTimestampMs: Int64(m.LastUpdatedTimestamp), ArtifactURI: m.ArtifactURI, Status: m.Status,
			ModelType: m.ModelType, SourceRunID: m.SourceRunID, StatusMessage: m.StatusMessage, Tags: FromTags(m.Tags),
		},
		Data: LoggedModelData{Params: FromParams(m.Params), Metrics: FromMetrics(m.Metrics)},
	}
}
