package server

import (
	"fmt"
	"github.com/mlrun/mlrun/artifact"
	"net/http"

	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/store"
)

// loggedModelRoutes registers MLflow 3's logged-model endpoints. They work
// on stores that implement store.LoggedModels with the tables for them
// (a database upgraded by MLflow 3); elsewhere they answer
// NOT_IMPLEMENTED with the reason.
func (s *Server) loggedModelRoutes(prefix string) {
	for _, r := range []struct {
		pattern string
		h       http.HandlerFunc
	}{
		{"POST " + prefix + "/logged-models", s.createLoggedModel},
		{"POST " + prefix + "/logged-models/search", s.searchLoggedModels},
		{"GET " + prefix + "/logged-models/{id}", s.getLoggedModel},
		{"PATCH " + prefix + "/logged-models/{id}", s.finalizeLoggedModel},
		{"DELETE " + prefix + "/logged-models/{id}", s.deleteLoggedModel},
		{"PATCH " + prefix + "/logged-models/{id}/tags", s.setLoggedModelTags},
		{"DELETE " + prefix + "/logged-models/{id}/tags/{key}", s.deleteLoggedModelTag},
		{"POST " + prefix + "/logged-models/{id}/params", s.logLoggedModelParams},
		{"GET " + prefix + "/logged-models/{id}/artifacts/directories", s.listLoggedModelArtifacts},
		{"GET " + prefix + "/logged-models/{id}/artifacts/files", s.getLoggedModelArtifact},
		{"POST " + prefix + "/runs/outputs", s.logOutputs},
	} {
		s.route(r.pattern, s.limitBody(r.h))
	}
}

// loggedModelRepo is the repository of a logged model's files (its
// artifact location), and the location.
func (s *Server) loggedModelRepo(r *http.Request) (artifact.Repository, string, error) {
	lm, err := s.lm()
	if err != nil {
		return nil, "", err
	}
	m, err := lm.GetLoggedModel(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, "", err
	}
	repo, err := s.runRepo(m.ArtifactURI)
	return repo, m.ArtifactURI, err
}

// listLoggedModelArtifacts is MLflow 3's ListLoggedModelArtifacts: the
// files of a logged model below artifact_directory_path, paths relative
// to the model's root.
func (s *Server) listLoggedModelArtifacts(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *struct {
		Dir string `json:"artifact_directory_path"`
	}) (any, error) {
		rel, err := artifact.CleanPath(req.Dir)
		if err != nil {
			return nil, err
		}
		repo, root, err := s.loggedModelRepo(r)
		if err != nil {
			return nil, err
		}
		files, err := repo.List(r.Context(), rel)
		if err != nil {
			return nil, err
		}
		resp := wire.ListArtifactsResponse{RootURI: root}
		for _, f := range files {
			resp.Files = append(resp.Files, fileInfo(f.Path, f))
		}
		return resp, nil
	})
}

// getLoggedModelArtifact is MLflow 3's GET …/logged-models/{id}/artifacts/
// files?artifact_file_path=…: one file of a logged model, streamed.
func (s *Server) getLoggedModelArtifact(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("artifact_file_path")
	if q == "" {
		writeError(w, r, &apiError{"BAD_REQUEST", `Request must include the "artifact_file_path" query parameter.`})
		return
	}
	rel, err := artifact.CleanPath(q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	repo, _, err := s.loggedModelRepo(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	serveFile(w, r, repo, rel)
}

func (s *Server) lm() (store.LoggedModels, error) {
	lm, ok := s.raw.(store.LoggedModels)
	if !ok {
		return nil, &apiError{codeNotImplemented, "this tracking store does not keep MLflow 3 logged models"}
	}
	return lm, nil
}

// loggedModelCall decodes, runs fn, and answers {model} (or {} for nil).
func (s *Server) loggedModelCall(w http.ResponseWriter, r *http.Request, fn func(store.LoggedModels, *wire.LoggedModelRequest) (*store.LoggedModel, error)) {
	handle(w, r, func(req *wire.LoggedModelRequest) (any, error) {
		lm, err := s.lm()
		if err != nil {
			return nil, err
		}
		m, err := fn(lm, req)
		if err != nil {
			return nil, err
		}
		if m == nil {
			return empty{}, nil
		}
		return wire.LoggedModelResponse{Model: wire.FromLoggedModel(m)}, nil
	})
}

func (s *Server) createLoggedModel(w http.ResponseWriter, r *http.Request) {
	s.loggedModelCall(w, r, func(lm store.LoggedModels, req *wire.LoggedModelRequest) (*store.LoggedModel, error) {
		if err := require("experiment_id", string(req.ExperimentID)); err != nil {
			return nil, err
		}
		return lm.CreateLoggedModel(r.Context(), store.LoggedModel{
			ExperimentID: string(req.ExperimentID), Name: req.Name, ModelType: req.ModelType, SourceRunID: req.SourceRunID,
			Params: wire.ToParams(req.Params), Tags: wire.ToTags(req.Tags),
		})
	})
}

func (s *Server) getLoggedModel(w http.ResponseWriter, r *http.Request) {
	s.loggedModelCall(w, r, func(lm store.LoggedModels, _ *wire.LoggedModelRequest) (*store.LoggedModel, error) {
		return lm.GetLoggedModel(r.Context(), r.PathValue("id"))
	})
}

func (s *Server) finalizeLoggedModel(w http.ResponseWriter, r *http.Request) {
	s.loggedModelCall(w, r, func(lm store.LoggedModels, req *wire.LoggedModelRequest) (*store.LoggedModel, error) {
		if err := require("status", string(req.Status)); err != nil {
			return nil, err
		}
		return lm.FinalizeLoggedModel(r.Context(), r.PathValue("id"), string(req.Status))
	})
}

func (s *Server) deleteLoggedModel(w http.ResponseWriter, r *http.Request) {
	s.loggedModelCall(w, r, func(lm store.LoggedModels, _ *wire.LoggedModelRequest) (*store.LoggedModel, error) {
		return nil, lm.DeleteLoggedModel(r.Context(), r.PathValue("id"))
	})
}

func (s *Server) setLoggedModelTags(w http.ResponseWriter, r *http.Request) {
	s.loggedModelCall(w, r, func(lm store.LoggedModels, req *wire.LoggedModelRequest) (*store.LoggedModel, error) {
		return lm.SetLoggedModelTags(r.Context(), r.PathValue("id"), wire.ToTags(req.Tags))
	})
}

func (s *Server) deleteLoggedModelTag(w http.ResponseWriter, r *http.Request) {
	s.loggedModelCall(w, r, func(lm store.LoggedModels, _ *wire.LoggedModelRequest) (*store.LoggedModel, error) {
		return nil, lm.DeleteLoggedModelTag(r.Context(), r.PathValue("id"), r.PathValue("key"))
	})
}

func (s *Server) logLoggedModelParams(w http.ResponseWriter, r *http.Request) {
	s.loggedModelCall(w, r, func(lm store.LoggedModels, req *wire.LoggedModelRequest) (*store.LoggedModel, error) {
		return nil, lm.LogLoggedModelParams(r.Context(), r.PathValue("id"), wire.ToParams(req.Params))
	})
}

func (s *Server) searchLoggedModels(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.LoggedModelRequest) (any, error) {
		lm, err := s.lm()
		if err != nil {
			return nil, err
		}
		for i, o := range req.OrderBy {
			if o.FieldName == "" {
				return nil, missingParam(fmt.Sprintf("order_by[%d].field_name", i))
			}
		}
		for i, d := range req.Datasets {
			if d.DatasetName == "" {
				return nil, missingParam(fmt.Sprintf("datasets[%d].dataset_name", i))
			}
		}
		ms, next, err := lm.SearchLoggedModels(r.Context(), req.ToSearchLoggedModels())
		if err != nil {
			return nil, err
		}
		resp := wire.SearchLoggedModelsResponse{NextPageToken: next}
		for _, m := range ms {
			resp.Models = append(resp.Models, wire.FromLoggedModel(m))
		}
		return resp, nil
	})
}

func (s *Server) logOutputs(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.ModelOutputs) (any, error) {
		lm, err := s.lm()
		if err != nil {
			return nil, err
		}
		if err := require("run_id", req.RunID); err != nil {
			return nil, err
		}
		if len(req.Models) == 0 {
			return nil, missingParam("models")
		}
		outs := make([]store.ModelOutput, len(req.Models))
		for i, m := range req.Models {
			outs[i] = store.ModelOutput{ModelID: m.ModelID, Step: int64(m.Step)}
		}
		return empty{}, lm.LogOutputs(r.Context(), req.RunID, outs)
	})
}
