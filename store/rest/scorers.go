package rest

import (
	"context"
	"net/http"

	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/store"
)

var _ store.Scorers = (*Store)(nil)

// scorerCall calls one of MLflow 3's scorer endpoints.
func (s *Store) scorerCall(ctx context.Context, method, ep string, req wire.ScorerRequest, out any) error {
	return s.callPath(ctx, method, "/api/3.0/mlflow/scorers/"+ep, req, out)
}

func scorerRequest(experimentID, name string, version int) wire.ScorerRequest {
	req := wire.ScorerRequest{ExperimentID: wire.ID(experimentID), Name: name}
	if version > 0 {
		v := wire.Int64(version)
		req.Version = &v
	}
	return req
}

// RegisterScorer implements store.Scorers.
func (s *Store) RegisterScorer(ctx context.Context, experimentID, name, serialized string) (*store.Scorer, error) {
	req := scorerRequest(experimentID, name, 0)
	req.SerializedScorer = serialized
	var out wire.RegisterScorerResponse
	if err := s.scorerCall(ctx, http.MethodPost, "register", req, &out); err != nil {
		return nil, err
	}
	return &store.Scorer{ExperimentID: out.ExperimentID, Name: out.Name, Version: int(out.Version), SerializedScorer: out.SerializedScorer,
		CreationTime: out.CreationTime, ID: out.ScorerID}, nil
}

func (s *Store) scorerList(ctx context.Context, ep string, req wire.ScorerRequest) ([]*store.Scorer, error) {
	var out wire.ScorersResponse
	if err := s.scorerCall(ctx, http.MethodGet, ep, req, &out); err != nil {
		return nil, err
	}
	list := make([]*store.Scorer, len(out.Scorers))
	for i, v := range out.Scorers {
		list[i] = v.ToScorer()
	}
	return list, nil
}

// ListScorers implements store.Scorers.
func (s *Store) ListScorers(ctx context.Context, experimentID string) ([]*store.Scorer, error) {
	return s.scorerList(ctx, "list", scorerRequest(experimentID, "", 0))
}

// ListScorerVersions implements store.Scorers.
func (s *Store) ListScorerVersions(ctx context.Context, experimentID, name string) ([]*store.Scorer, error) {
	return s.scorerList(ctx, "versions", scorerRequest(experimentID, name, 0))
}

// GetScorer implements store.Scorers.
func (s *Store) GetScorer(ctx context.Context, experimentID, name string, version int) (*store.Scorer, error) {
	var out wire.ScorerResponse
	if err := s.scorerCall(ctx, http.MethodGet, "get", scorerRequest(experimentID, name, version), &out); err != nil {
		return nil, err
	}
	return out.Scorer.ToScorer(), nil
}

// DeleteScorer implements store.Scorers.
func (s *Store) DeleteScorer(ctx context.Context, experimentID, name string, version int) error {
	return s.scorerCall(ctx, http.MethodDelete, "delete", scorerRequest(experimentID, name, version), nil)
}
