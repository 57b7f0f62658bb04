package wire

import (
	"strconv"

	"github.com/mlrun/mlrun/store"
)

// ScorerRequest is the request of MLflow 3's scorer endpoints
// (RegisterScorer, ListScorers, ListScorerVersions, GetScorer,
// DeleteScorer): each uses the fields it needs.
type ScorerRequest struct {
	ExperimentID     ID     `json:"experiment_id,omitempty"`
	Name             string `json:"name,omitempty"`
	SerializedScorer string `json:"serialized_scorer,omitempty"`
	Version          *Int64 `json:"version,omitempty"`
}

// RegisterScorerResponse is RegisterScorer.Response.
type RegisterScorerResponse struct {
	Version          int64  `json:"version"`
	ScorerID         string `json:"scorer_id"`
	ExperimentID     string `json:"experiment_id"`
	Name             string `json:"name"`
	SerializedScorer string `json:"serialized_scorer"`
	CreationTime     int64  `json:"creation_time,omitempty"`
}

// Scorer is the Scorer message: its experiment_id is an int32, so a
// number in JSON.
type Scorer struct {
	ExperimentID     Int64  `json:"experiment_id"`
	ScorerName       string `json:"scorer_name"`
	ScorerVersion    int64  `json:"scorer_version"`
	SerializedScorer string `json:"serialized_scorer"`
	CreationTime     int64  `json:"creation_time,omitempty"`
	ScorerID         string `json:"scorer_id"`
}

// ScorersResponse is ListScorers.Response and ListScorerVersions.Response
// (no scorers: {}, as MLflow's JSON leaves out an empty list).
type ScorersResponse struct {
	Scorers []Scorer `json:"scorers,omitempty"`
}

// ScorerResponse is GetScorer.Response.
type ScorerResponse struct {
	Scorer Scorer `json:"scorer"`
}

// FromScorer is a stored scorer version on the wire.
func FromScorer(s *store.Scorer) Scorer {
	exp, _ := strconv.ParseInt(s.ExperimentID, 10, 64)
	return Scorer{ExperimentID: Int64(exp), ScorerName: s.Name, ScorerVersion: int64(s.Version), SerializedScorer: s.SerializedScorer,
		CreationTime: s.CreationTime, ScorerID: s.ID}
}

// ToScorer is a wire scorer as stored.
func (s Scorer) ToScorer() *store.Scorer {
	return &store.Scorer{ExperimentID: strconv.FormatInt(int64(s.ExperimentID), 10), Name: s.ScorerName, Version: int(s.ScorerVersion),
		SerializedScorer: s.SerializedScorer, CreationTime: s.CreationTime, ID: s.ScorerID}
}
