package server

import (
	"net/http"

	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/store"
)

// scorerRoutes registers MLflow 3's scorer endpoints (GenAI scorers and
// LLM judges registered in an experiment, versioned by name).
func (s *Server) scorerRoutes(prefix string) {
	for pattern, h := range map[string]http.HandlerFunc{
		"POST " + prefix + "/scorers/register": s.registerScorer,
		"GET " + prefix + "/scorers/list":      s.listScorers,
		"GET " + prefix + "/scorers/versions":  s.listScorerVersions,
		"GET " + prefix + "/scorers/get":       s.getScorer,
		"DELETE " + prefix + "/scorers/delete": s.deleteScorer,
	} {
		s.route(pattern, s.limitBody(h))
	}
}

// scorerCall decodes a scorer request, checks the fields every scorer
// endpoint requires (and name unless listing), and runs fn.
func (s *Server) scorerCall(w http.ResponseWriter, r *http.Request, needName bool, fn func(store.Scorers, *wire.ScorerRequest, int) (any, error)) {
	handle(w, r, func(req *wire.ScorerRequest) (any, error) {
		sc, ok := s.raw.(store.Scorers)
		if !ok {
			return nil, &apiError{codeNotImplemented, "this tracking store does not keep scorers"}
		}
		if err := require("experiment_id", string(req.ExperimentID)); err != nil {
			return nil, err
		}
		if needName {
			if err := require("name", req.Name); err != nil {
				return nil, err
			}
		}
		version := 0
		if req.Version != nil {
			if *req.Version < 1 {
				return nil, store.Invalidf("Invalid value %d for parameter 'version': scorer versions start at 1.", *req.Version)
			}
			version = int(*req.Version)
		}
		return fn(sc, req, version)
	})
}

func (s *Server) registerScorer(w http.ResponseWriter, r *http.Request) {
	s.scorerCall(w, r, true, func(sc store.Scorers, req *wire.ScorerRequest, _ int) (any, error) {
		if err := require("serialized_scorer", req.SerializedScorer); err != nil {
			return nil, err
		}
		v, err := sc.RegisterScorer(r.Context(), string(req.ExperimentID), req.Name, req.SerializedScorer)
		if err != nil {
			return nil, err
		}
		return wire.RegisterScorerResponse{Version: int64(v.Version), ScorerID: v.ID, ExperimentID: v.ExperimentID, Name: v.Name,
			SerializedScorer: v.SerializedScorer, CreationTime: v.CreationTime}, nil
	})
}

func scorersResponse(list []*store.Scorer, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	out := wire.ScorersResponse{Scorers: make([]wire.Scorer, len(list))}
	for i, v := range list {
		out.Scorers[i] = wire.FromScorer(v)
	}
	return out, nil
}

func (s *Server) listScorers(w http.ResponseWriter, r *http.Request) {
	s.scorerCall(w, r, false, func(sc store.Scorers, req *wire.ScorerRequest, _ int) (any, error) {
		return scorersResponse(sc.ListScorers(r.Context(), string(req.ExperimentID)))
	})
}

func (s *Server) listScorerVersions(w http.ResponseWriter, r *http.Request) {
	s.scorerCall(w, r, true, func(sc store.Scorers, req *wire.ScorerRequest, _ int) (any, error) {
		return scorersResponse(sc.ListScorerVersions(r.Context(), string(req.ExperimentID), req.Name))
	})
}

func (s *Server) getScorer(w http.ResponseWriter, r *http.Request) {
	s.scorerCall(w, r, true, func(sc store.Scorers, req *wire.ScorerRequest, version int) (any, error) {
		v, err := sc.GetScorer(r.Context(), string(req.ExperimentID), req.Name, version)
		if err != nil {
			return nil, err
		}
		return wire.ScorerResponse{Scorer: wire.FromScorer(v)}, nil
	})
}

func (s *Server) deleteScorer(w http.ResponseWriter, r *http.Request) {
	s.scorerCall(w, r, true, func(sc store.Scorers, req *wire.ScorerRequest, version int) (any, error) {
		return empty{}, sc.DeleteScorer(r.Context(), string(req.ExperimentID), req.Name, version)
	})
}
