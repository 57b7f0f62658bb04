package wire

import (
	"github.com/mlrun/mlrun/registry"
)

// RegisteredModelAlias is {alias, version}.
type RegisteredModelAlias struct {
	Alias   string `json:"alias"`
	Version string `json:"version"`
}

// RegisteredModel is MLflow's RegisteredModel message.
type RegisteredModel struct {
	Name                 string                 `json:"name"`
	CreationTimestamp    Int64                  `json:"creation_timestamp,omitempty"`
	LastUpdatedTimestamp Int64                  `json:"last_updated_timestamp,omitempty"`
	Description          string                 `json:"description,omitempty"`
	LatestVersions       []ModelVersion         `json:"latest_versions,omitempty"`
	Tags                 []KeyValue             `json:"tags,omitempty"`
	Aliases              []RegisteredModelAlias `json:"aliases,omitempty"`
}

// ModelVersion is MLflow's ModelVersion message.
type ModelVersion struct {
	Name                 string     `json:"name"`
	Version              string     `json:"version"`
	CreationTimestamp    Int64      `json:"creation_timestamp,omitempty"`
	LastUpdatedTimestamp Int64      `json:"last_updated_timestamp,omitempty"`
	UserID               string     `json:"user_id,omitempty"`
	CurrentStage         string     `json:"current_stage,omitempty"`
	Description          string     `json:"description,omitempty"`
	Source               string     `json:"source,omitempty"`
	RunID                string     `json:"run_id,omitempty"`
	Status               string     `json:"status,omitempty"`
	StatusMessage        string     `json:"status_message,omitempty"`
	Tags                 []KeyValue `json:"tags,omitempty"`
	RunLink              string     `json:"run_link,omitempty"`
	Aliases              []string   `json:"aliases,omitempty"`
	ModelID              string     `json:"model_id,omitempty"` // MLflow 3
}

// FromModelVersion converts a version.
func FromModelVersion(v *registry.ModelVersion) ModelVersion {
	return ModelVersion{
		Name: v.Name, Version: v.Version, CreationTimestamp: Int64(v.CreationTimestamp), LastUpdatedTimestamp: Int64(v.LastUpdatedTimestamp),
		UserID: v.UserID, CurrentStage: v.CurrentStage, Description: v.Description, Source: v.Source, RunID: v.RunID,
		Status: v.Status, StatusMessage: v.StatusMessage, Tags: FromTags(v.Tags), RunLink: v.RunLink, Aliases: v.Aliases,
		ModelID: v.ModelID,
	}
}

// ToModelVersion converts a version.
func (w ModelVersion) ToModelVersion() *registry.ModelVersion {
	return &registry.ModelVersion{
		Name: w.Name, Version: w.Version, CreationTimestamp: int64(w.CreationTimestamp), LastUpdatedTimestamp: int64(w.LastUpdatedTimestamp),
		UserID: w.UserID, CurrentStage: w.CurrentStage, Description: w.Description, Source: w.Source, RunID: w.RunID,
		Status: w.Status, StatusMessage: w.StatusMessage, Tags: ToTags(w.Tags), RunLink: w.RunLink, Aliases: w.Aliases,
		ModelID: w.ModelID,
	}
}

// FromModelVersions converts versions.
func FromModelVersions(vs []*registry.ModelVersion) []ModelVersion {
	if len(vs) == 0 {
		return nil
	}
	out := make([]ModelVersion, len(vs))
	for i, v := range vs {
		out[i] = FromModelVersion(v)
	}
	return out
}

// ToModelVersions converts versions.
func ToModelVersions(ws []ModelVersion) []*registry.ModelVersion {
	out := make([]*registry.ModelVersion, len(ws))
	for i, w := range ws {
		out[i] = w.ToModelVersion()
	}
	return out
}

// FromRegisteredModel converts a model.
func FromRegisteredModel(m *registry.RegisteredModel) RegisteredModel {
	w := RegisteredModel{
		Name: m.Name, CreationTimestamp: Int64(m.CreationTimestamp), LastUpdatedTimestamp: Int64(m.LastUpdatedTimestamp),
		Description: m.Description, LatestVersions: FromModelVersions(m.LatestVersions), Tags: FromTags(m.Tags),
	}
	for _, a := range m.Aliases {
		w.Aliases = append(w.Aliases, RegisteredModelAlias{Alias: a.Alias, Version: a.Version})
	}
	return w
}

// ToRegisteredModel converts a model.
func (w RegisteredModel) ToRegisteredModel() *registry.RegisteredModel {
	m := &registry.RegisteredModel{
		Name: w.Name, CreationTimestamp: int64(w.CreationTimestamp), LastUpdatedTimestamp: int64(w.LastUpdatedTimestamp),
		Description: w.Description, Tags: ToTags(w.Tags),
	}
	if len(w.LatestVersions) > 0 {
		m.LatestVersions = ToModelVersions(w.LatestVersions)
	}
	for _, a := range w.Aliases {
		m.Aliases = append(m.Aliases, registry.Alias{Alias: a.Alias, Version: a.Version})
	}
	return m
}

// Registry requests and responses.
type (
	// ModelRequest names a model and carries the fields of RM1–RM5, RM8–RM12.
	ModelRequest struct {
		Name        string     `json:"name"`
		NewName     string     `json:"new_name,omitempty"`
		Description *string    `json:"description,omitempty"`
		Tags        []KeyValue `json:"tags,omitempty"`
		Key         string     `json:"key,omitempty"`
		Value       string     `json:"value,omitempty"`
		Alias       string     `json:"alias,omitempty"`
		Version     ID         `json:"version,omitempty"`
		Stages      []string   `json:"stages,omitempty"`
	}
	// RegisteredModelResponse is {registered_model}.
	RegisteredModelResponse struct {
		RegisteredModel RegisteredModel `json:"registered_model"`
	}
	// SearchModelsRequest is RM6's and MV5's request.
	SearchModelsRequest struct {
		Filter     string   `json:"filter,omitempty"`
		MaxResults Int64    `json:"max_results,omitempty"`
		OrderBy    []string `json:"order_by,omitempty"`
		PageToken  string   `json:"page_token,omitempty"`
	}
	// SearchRegisteredModelsResponse is RM6's response.
	SearchRegisteredModelsResponse struct {
		RegisteredModels []RegisteredModel `json:"registered_models,omitempty"`
		NextPageToken    string            `json:"next_page_token,omitempty"`
	}
	// ModelVersionsResponse is RM7's and MV5's response.
	ModelVersionsResponse struct {
		ModelVersions []ModelVersion `json:"model_versions,omitempty"`
		NextPageToken string         `json:"next_page_token,omitempty"`
	}
	// VersionRequest names a version and carries the fields of MV1–MV9.
	VersionRequest struct {
		Name                    string     `json:"name"`
		Version                 ID         `json:"version,omitempty"`
		Source                  string     `json:"source,omitempty"`
		RunID                   string     `json:"run_id,omitempty"`
		RunLink                 string     `json:"run_link,omitempty"`
		Description             *string    `json:"description,omitempty"`
		Tags                    []KeyValue `json:"tags,omitempty"`
		Stage                   string     `json:"stage,omitempty"`
		ArchiveExistingVersions Bool       `json:"archive_existing_versions,omitempty"`
		Key                     string     `json:"key,omitempty"`
		Value                   string     `json:"value,omitempty"`
		ModelID                 string     `json:"model_id,omitempty"` // MLflow 3: the logged model registered
	}
	// ModelVersionResponse is {model_version}.
	ModelVersionResponse struct {
		ModelVersion ModelVersion `json:"model_version"`
	}
	// DownloadURIResponse is MV7's response.
	DownloadURIResponse struct {
		ArtifactURI string `json:"artifact_uri"`
	}
)
