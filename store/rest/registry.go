package rest

import (
	"context"
	"net/http"

	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/store"
)

var _ registry.Store = (*Store)(nil)

func (s *Store) model(ctx context.Context, method, ep string, req wire.ModelRequest) (*registry.RegisteredModel, error) {
	var out wire.RegisteredModelResponse
	if err := s.call(ctx, method, ep, req, &out); err != nil {
		return nil, err
	}
	return out.RegisteredModel.ToRegisteredModel(), nil
}

func (s *Store) version(ctx context.Context, method, ep string, req wire.VersionRequest) (*registry.ModelVersion, error) {
	var out wire.ModelVersionResponse
	if err := s.call(ctx, method, ep, req, &out); err != nil {
		return nil, err
	}
	return out.ModelVersion.ToModelVersion(), nil
}

func strPtr(s string) *string { return &s }

// CreateRegisteredModel implements registry.Store.
func (s *Store) CreateRegisteredModel(ctx context.Context, name string, tags []store.Tag, description string) (*registry.RegisteredModel, error) {
	return s.model(ctx, http.MethodPost, "/registered-models/create", wire.ModelRequest{Name: name, Tags: wire.FromTags(tags), Description: strPtr(description)})
}

// GetRegisteredModel implements registry.Store.
func (s *Store) GetRegisteredModel(ctx context.Context, name string) (*registry.RegisteredModel, error) {
	return s.model(ctx, http.MethodGet, "/registered-models/get", wire.ModelRequest{Name: name})
}

// RenameRegisteredModel implements registry.Store.
func (s *Store) RenameRegisteredModel(ctx context.Context, name, newName string) (*registry.RegisteredModel, error) {
	return s.model(ctx, http.MethodPost, "/registered-models/rename", wire.ModelRequest{Name: name, NewName: newName})
}

// UpdateRegisteredModel implements registry.Store.
func (s *Store) UpdateRegisteredModel(ctx context.Context, name, description string) (*registry.RegisteredModel, error) {
	return s.model(ctx, http.MethodPatch, "/registered-models/update", wire.ModelRequest{Name: name, Description: strPtr(description)})
}

// DeleteRegisteredModel implements registry.Store.
func (s *Store) DeleteRegisteredModel(ctx context.Context, name string) error {
	return s.call(ctx, http.MethodDelete, "/registered-models/delete", wire.ModelRequest{Name: name}, nil)
}

// SearchRegisteredModels implements registry.Store.
func (s *Store) SearchRegisteredModels(ctx context.Context, q registry.SearchModels) ([]*registry.RegisteredModel, string, error) {
	var out wire.SearchRegisteredModelsResponse
	err := s.call(ctx, http.MethodGet, "/registered-models/search", wire.SearchModelsRequest{Filter: q.Filter, MaxResults: wire.Int64(q.MaxResults), OrderBy: q.OrderBy, PageToken: q.PageToken}, &out)
	if err != nil {
		return nil, "", err
	}
	ms := make([]*registry.RegisteredModel, len(out.RegisteredModels))
	for i, m := range out.RegisteredModels {
		ms[i] = m.ToRegisteredModel()
	}
	return ms, out.NextPageToken, nil
}

// GetLatestVersions implements registry.Store.
func (s *Store) GetLatestVersions(ctx context.Context, name string, stages []string) ([]*registry.ModelVersion, error) {
	var out wire.ModelVersionsResponse
	if err := s.call(ctx, http.MethodPost, "/registered-models/get-latest-versions", wire.ModelRequest{Name: name, Stages: stages}, &out); err != nil {
		return nil, err
	}
	return wire.ToModelVersions(out.ModelVersions), nil
}

// SetRegisteredModelTag implements registry.Store.
func (s *Store) SetRegisteredModelTag(ctx context.Context, name string, t store.Tag) error {
	return s.call(ctx, http.MethodPost, "/registered-models/set-tag", wire.ModelRequest{Name: name, Key: t.Key, Value: t.Value}, nil)
}

// DeleteRegisteredModelTag implements registry.Store.
func (s *Store) DeleteRegisteredModelTag(ctx context.Context, name, key string) error {
	return s.call(ctx, http.MethodDelete, "/registered-models/delete-tag", wire.ModelRequest{Name: name, Key: key}, nil)
}

// SetAlias implements registry.Store.
func (s *Store) SetAlias(ctx context.Context, name, alias, version string) error {
	return s.call(ctx, http.MethodPost, "/registered-models/alias", wire.ModelRequest{Name: name, Alias: alias, Version: wire.ID(version)}, nil)
}

// DeleteAlias implements registry.Store.
func (s *Store) DeleteAlias(ctx context.Context, name, alias string) error {
	return s.call(ctx, http.MethodDelete, "/registered-models/alias", wire.ModelRequest{Name: name, Alias: alias}, nil)
}

// GetVersionByAlias implements registry.Store.
func (s *Store) GetVersionByAlias(ctx context.Context, name, alias string) (*registry.ModelVersion, error) {
	var out wire.ModelVersionResponse
	if err := s.call(ctx, http.MethodGet, "/registered-models/alias", wire.ModelRequest{Name: name, Alias: alias}, &out); err != nil {
		return nil, err
	}
	return out.ModelVersion.ToModelVersion(), nil
}

// CreateModelVersion implements registry.Store.
func (s *Store) CreateModelVersion(ctx context.Context, req registry.CreateVersion) (*registry.ModelVersion, error) {
	return s.version(ctx, http.MethodPost, "/model-versions/create", wire.VersionRequest{
		Name: req.Name, Source: req.Source, RunID: req.RunID, RunLink: req.RunLink, ModelID: req.ModelID,
		Description: strPtr(req.Description), Tags: wire.FromTags(req.Tags),
	})
}

// GetModelVersion implements registry.Store.
func (s *Store) GetModelVersion(ctx context.Context, name, version string) (*registry.ModelVersion, error) {
	return s.version(ctx, http.MethodGet, "/model-versions/get", wire.VersionRequest{Name: name, Version: wire.ID(version)})
}

// UpdateModelVersion implements registry.Store.
func (s *Store) UpdateModelVersion(ctx context.Context, name, version, description string) (*registry.ModelVersion, error) {
	return s.version(ctx, http.MethodPatch, "/model-versions/update", wire.VersionRequest{Name: name, Version: wire.ID(version), Description: strPtr(description)})
}

// DeleteModelVersion implements registry.Store.
func (s *Store) DeleteModelVersion(ctx context.Context, name, version string) error {
	return s.call(ctx, http.MethodDelete, "/model-versions/delete", wire.VersionRequest{Name: name, Version: wire.ID(version)}, nil)
}

// SearchModelVersions implements registry.Store.
func (s *Store) SearchModelVersions(ctx context.Context, q registry.SearchVersions) ([]*registry.ModelVersion, string, error) {
	var out wire.ModelVersionsResponse
	err := s.call(ctx, http.MethodGet, "/model-versions/search", wire.SearchModelsRequest{Filter: q.Filter, MaxResults: wire.Int64(q.MaxResults), OrderBy: q.OrderBy, PageToken: q.PageToken}, &out)
	if err != nil {
		return nil, "", err
	}
	return wire.ToModelVersions(out.ModelVersions), out.NextPageToken, nil
}

// TransitionStage implements registry.Store.
func (s *Store) TransitionStage(ctx context.Context, name, version, stage string, archiveExisting bool) (*registry.ModelVersion, error) {
	return s.version(ctx, http.MethodPost, "/model-versions/transition-stage", wire.VersionRequest{Name: name, Version: wire.ID(version), Stage: stage, ArchiveExistingVersions: wire.Bool(archiveExisting)})
}

// GetDownloadURI implements registry.Store.
func (s *Store) GetDownloadURI(ctx context.Context, name, version string) (string, error) {
	var out wire.DownloadURIResponse
	if err := s.call(ctx, http.MethodGet, "/model-versions/get-download-uri", wire.VersionRequest{Name: name, Version: wire.ID(version)}, &out); err != nil {
		return "", err
	}
	return out.ArtifactURI, nil
}

// SetModelVersionTag implements registry.Store.
func (s *Store) SetModelVersionTag(ctx context.Context, name, version string, t store.Tag) error {
	return s.call(ctx, http.MethodPost, "/model-versions/set-tag", wire.VersionRequest{Name: name, Version: wire.ID(version), Key: t.Key, Value: t.Value}, nil)
}

// DeleteModelVersionTag implements registry.Store.
func (s *Store) DeleteModelVersionTag(ctx context.Context, name, version, key string) error {
	return s.call(ctx, http.MethodDelete, "/model-versions/delete-tag", wire.VersionRequest{Name: name, Version: wire.ID(version), Key: key}, nil)
}
