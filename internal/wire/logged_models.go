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
	Params []KeyValue `json:"params,omitempty"`
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
		Data: LoggedModelData{Params: FromParams(m.Params)},
	}
}
