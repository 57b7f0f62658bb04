package rest

import (
	"context"
	"net/http"
	"net/url"

	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/store"
)

var _ store.LoggedModels = (*Store)(nil)

func toLoggedModel(w wire.LoggedModel) *store.LoggedModel {
	i := w.Info
	return &store.LoggedModel{
		ModelID: i.ModelID, ExperimentID: i.ExperimentID, Name: i.Name, ArtifactURI: i.ArtifactURI,
		CreationTimestamp: int64(i.CreationTimestampMs), LastUpdatedTimestamp: int64(i.LastUpdatedTimestampMs),
		Status: i.Status, StatusMessage: i.StatusMessage, ModelType: i.ModelType, SourceRunID: i.SourceRunID,
		Tags: wire.ToTags(i.Tags), Params: wire.ToParams(w.Data.Params), Metrics: wire.ToMetrics(w.Data.Metrics),
	}
}

func (s *Store) loggedModel(ctx context.Context, method, ep string, req any) (*store.LoggedModel, error) {
	var out wire.LoggedModelResponse
	if err := s.call(ctx, method, ep, req, &out); err != nil {
		return nil, err
	}
	return toLoggedModel(out.Model), nil
}

func modelPath(id string) string { return "/logged-models/" + url.PathEscape(id) }

// CreateLoggedModel implements store.LoggedModels.
func (s *Store) CreateLoggedModel(ctx context.Context, m store.LoggedModel) (*store.LoggedModel, error) {
	return s.loggedModel(ctx, http.MethodPost, "/logged-models", wire.LoggedModelRequest{
		ExperimentID: wire.ID(m.ExperimentID), Name: m.Name, ModelType: m.ModelType, SourceRunID: m.SourceRunID,
		Params: wire.FromParams(m.Params), Tags: wire.FromTags(m.Tags),
	})
}

// GetLoggedModel implements store.LoggedModels.
func (s *Store) GetLoggedModel(ctx context.Context, id string) (*store.LoggedModel, error) {
	return s.loggedModel(ctx, http.MethodGet, modelPath(id), struct{}{})
}

// FinalizeLoggedModel implements store.LoggedModels.
func (s *Store) FinalizeLoggedModel(ctx context.Context, id, status string) (*store.LoggedModel, error) {
	return s.loggedModel(ctx, http.MethodPatch, modelPath(id), wire.LoggedModelRequest{Status: wire.Enum(status)})
}

// DeleteLoggedModel implements store.LoggedModels.
func (s *Store) DeleteLoggedModel(ctx context.Context, id string) error {
	return s.call(ctx, http.MethodDelete, modelPath(id), struct{}{}, nil)
}

// SetLoggedModelTags implements store.LoggedModels.
func (s *Store) SetLoggedModelTags(ctx context.Context, id string, tags []store.Tag) (*store.LoggedModel, error) {
	return s.loggedModel(ctx, http.MethodPatch, modelPath(id)+"/tags", wire.LoggedModelRequest{Tags: wire.FromTags(tags)})
}

// DeleteLoggedModelTag implements store.LoggedModels.
func (s *Store) DeleteLoggedModelTag(ctx context.Context, id, key string) error {
	return s.call(ctx, http.MethodDelete, modelPath(id)+"/tags/"+url.PathEscape(key), struct{}{}, nil)
}

// LogLoggedModelParams implements store.LoggedModels.
func (s *Store) LogLoggedModelParams(ctx context.Context, id string, params []store.Param) error {
	return s.call(ctx, http.MethodPost, modelPath(id)+"/params", wire.LoggedModelRequest{Params: wire.FromParams(params)}, nil)
}

// SearchLoggedModels implements store.LoggedModels.
func (s *Store) SearchLoggedModels(ctx context.Context, q store.SearchLoggedModels) ([]*store.LoggedModel, string, error) {
	req := wire.FromSearchLoggedModels(q)
	var out wire.SearchLoggedModelsResponse
	if err := s.call(ctx, http.MethodPost, "/logged-models/search", req, &out); err != nil {
		return nil, "", err
	}
	ms := make([]*store.LoggedModel, len(out.Models))
	for i, m := range out.Models {
		ms[i] = toLoggedModel(m)
	}
	return ms, out.NextPageToken, nil
}

// LogOutputs implements store.LoggedModels.
func (s *Store) LogOutputs(ctx context.Context, runID string, outputs []store.ModelOutput) error {
	req := wire.ModelOutputs{RunID: runID}
	for _, o := range outputs {
		req.Models = append(req.Models, struct {
			ModelID string     `json:"model_id"`
			Step    wire.Int64 `json:"step"`
		}{o.ModelID, wire.Int64(o.Step)})
	}
	return s.call(ctx, http.MethodPost, "/runs/outputs", req, nil)
}

// LogModelInputs implements store.LoggedModels.
func (s *Store) LogModelInputs(ctx context.Context, runID string, modelIDs []string) error {
	req := wire.LogInputs{RunID: runID}
	for _, id := range modelIDs {
		req.Models = append(req.Models, wire.ModelInput{ModelID: id})
	}
	return s.post(ctx, "/runs/log-inputs", req, nil)
}
