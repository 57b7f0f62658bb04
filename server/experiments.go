package server

import (
	"net/http"

	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/store"
)

// handle decodes the request into a new Req, runs fn and writes its
// response or error.
func handle[Req any](w http.ResponseWriter, r *http.Request, fn func(*Req) (any, error)) {
	req := new(Req)
	if err := decode(r, req); err != nil {
		writeError(w, r, err)
		return
	}
	resp, err := fn(req)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if st, ok := resp.(streamer); ok {
		st.stream(w, r)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

type empty struct{}

func (s *Server) createExperiment(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.CreateExperiment) (any, error) {
		if err := require("name", req.Name); err != nil {
			return nil, err
		}
		id, err := s.store.CreateExperiment(r.Context(), req.Name, req.ArtifactLocation, wire.ToTags(req.Tags))
		if err != nil {
			return nil, err
		}
		return wire.CreateExperimentResponse{ExperimentID: id}, nil
	})
}

func (s *Server) getExperiment(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.ExperimentRequest) (any, error) {
		if err := require("experiment_id", string(req.ExperimentID)); err != nil {
			return nil, err
		}
		e, err := s.store.GetExperiment(r.Context(), string(req.ExperimentID))
		if err != nil {
			return nil, err
		}
		return wire.ExperimentResponse{Experiment: wire.FromExperiment(e)}, nil
	})
}

func (s *Server) getExperimentByName(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.GetExperimentByName) (any, error) {
		if err := require("experiment_name", req.ExperimentName); err != nil {
			return nil, err
		}
		e, err := s.store.GetExperimentByName(r.Context(), req.ExperimentName)
		if err != nil {
			return nil, err
		}
		return wire.ExperimentResponse{Experiment: wire.FromExperiment(e)}, nil
	})
}

func (s *Server) searchExperiments(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.SearchExperiments) (any, error) {
		vt, err := store.ParseViewType(string(req.ViewType))
		if err != nil {
			return nil, err
		}
		es, next, err := s.store.SearchExperiments(r.Context(), store.SearchExperiments{
			Filter: req.Filter, OrderBy: req.OrderBy, ViewType: vt,
			MaxResults: int(req.MaxResults), PageToken: req.PageToken,
		})
		if err != nil {
			return nil, err
		}
		resp := wire.SearchExperimentsResponse{NextPageToken: next}
		for _, e := range es {
			resp.Experiments = append(resp.Experiments, wire.FromExperiment(e))
		}
		return resp, nil
	})
}

func (s *Server) updateExperiment(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.UpdateExperiment) (any, error) {
		if err := require("experiment_id", string(req.ExperimentID), "new_name", req.NewName); err != nil {
			return nil, err
		}
		return empty{}, s.store.RenameExperiment(r.Context(), string(req.ExperimentID), req.NewName)
	})
}

func (s *Server) deleteExperiment(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.ExperimentRequest) (any, error) {
		if err := require("experiment_id", string(req.ExperimentID)); err != nil {
			return nil, err
		}
		return empty{}, s.store.DeleteExperiment(r.Context(), string(req.ExperimentID))
	})
}

func (s *Server) restoreExperiment(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.ExperimentRequest) (any, error) {
		if err := require("experiment_id", string(req.ExperimentID)); err != nil {
			return nil, err
		}
		return empty{}, s.store.RestoreExperiment(r.Context(), string(req.ExperimentID))
	})
}

func (s *Server) setExperimentTag(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.SetExperimentTag) (any, error) {
		if err := require("experiment_id", string(req.ExperimentID), "key", req.Key); err != nil {
			return nil, err
		}
		return empty{}, s.store.SetExperimentTag(r.Context(), string(req.ExperimentID), store.Tag{Key: req.Key, Value: req.Value})
	})
}

func (s *Server) deleteExperimentTag(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.DeleteExperimentTag) (any, error) {
		if err := require("experiment_id", string(req.ExperimentID), "key", req.Key); err != nil {
			return nil, err
		}
		return empty{}, s.store.DeleteExperimentTag(r.Context(), string(req.ExperimentID), req.Key)
	})
}
