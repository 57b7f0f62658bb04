package server

import (
	"net/http"
	"slices"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/registry/webhook"
	"github.com/mlrun/mlrun/store"
)

// registryRoutes registers the model registry endpoints under prefix, with
// MLflow's HTTP methods (PATCH updates, DELETE with a JSON body).
func (s *Server) registryRoutes(prefix string) {
	type route struct {
		method, path string
		h            http.HandlerFunc
	}
	for _, r := range []route{
		{"POST", "/registered-models/create", s.createModel},
		{"GET", "/registered-models/get", s.getModel},
		{"POST", "/registered-models/rename", s.renameModel},
		{"PATCH", "/registered-models/update", s.updateModel},
		{"DELETE", "/registered-models/delete", s.deleteModel},
		{"GET", "/registered-models/search", s.searchModels},
		{"POST", "/registered-models/get-latest-versions", s.latestVersions},
		{"GET", "/registered-models/get-latest-versions", s.latestVersions},
		{"POST", "/registered-models/set-tag", s.setModelTag},
		{"DELETE", "/registered-models/delete-tag", s.deleteModelTag},
		{"POST", "/registered-models/alias", s.setAlias},
		{"DELETE", "/registered-models/alias", s.deleteAlias},
		{"GET", "/registered-models/alias", s.getByAlias},
		{"POST", "/model-versions/create", s.createVersion},
		{"GET", "/model-versions/get", s.getVersion},
		{"PATCH", "/model-versions/update", s.updateVersion},
		{"DELETE", "/model-versions/delete", s.deleteVersion},
		{"GET", "/model-versions/search", s.searchVersions},
		{"POST", "/model-versions/transition-stage", s.transitionStage},
		{"GET", "/model-versions/get-download-uri", s.downloadURI},
		{"POST", "/model-versions/set-tag", s.setVersionTag},
		{"DELETE", "/model-versions/delete-tag", s.deleteVersionTag},
	} {
		s.route(r.method+" "+prefix+r.path, s.limitBody(r.h))
	}
}

// reg returns the registry, or an error when the server has none.
func (s *Server) reg() (registry.Store, error) {
	if s.opts.Registry == nil {
		return nil, &apiError{codeNotImplemented, "this server has no model registry"}
	}
	return s.opts.Registry, nil
}

func (s *Server) createModel(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.ModelRequest) (any, error) {
		reg, err := s.reg()
		if err != nil {
			return nil, err
		}
		if err := require("name", req.Name); err != nil {
			return nil, err
		}
		m, err := reg.CreateRegisteredModel(r.Context(), req.Name, wire.ToTags(req.Tags), deref(req.Description))
		if err != nil {
			return nil, err
		}
		tags, desc := wire.ToTags(req.Tags), webhook.Optional(deref(req.Description))
		if registry.IsPromptVersion(tags) {
			s.deliver(r.Context(), registry.PromptCreated, webhook.RegisteredModelCreated{Name: m.Name, Tags: tagMap(tags, registry.PromptTag, registry.PromptTypeTag), Description: desc})
		} else {
			s.deliver(r.Context(), registry.RegisteredModelCreated, webhook.RegisteredModelCreated{Name: m.Name, Tags: tagMap(tags), Description: desc})
		}
		return wire.RegisteredModelResponse{RegisteredModel: wire.FromRegisteredModel(m)}, nil
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// modelCall is the shape of the handlers that return a registered model.
func (s *Server) modelCall(w http.ResponseWriter, r *http.Request, required []string, fn func(registry.Store, *wire.ModelRequest) (*registry.RegisteredModel, error)) {
	handle(w, r, func(req *wire.ModelRequest) (any, error) {
		reg, err := s.reg()
		if err != nil {
			return nil, err
		}
		if err := requireFields(required, req.Name, req.NewName); err != nil {
			return nil, err
		}
		m, err := fn(reg, req)
		if err != nil {
			return nil, err
		}
		if m == nil {
			return empty{}, nil
		}
		return wire.RegisteredModelResponse{RegisteredModel: wire.FromRegisteredModel(m)}, nil
	})
}

// requireFields checks name (always) and new_name (when listed).
func requireFields(required []string, name, newName string) error {
	for _, f := range required {
		v := name
		if f == "new_name" {
			v = newName
		}
		if err := require(f, v); err != nil {
			return err
		}
	}
	return nil
}

var nameOnly = []string{"name"}

func (s *Server) getModel(w http.ResponseWriter, r *http.Request) {
	s.modelCall(w, r, nameOnly, func(reg registry.Store, req *wire.ModelRequest) (*registry.RegisteredModel, error) {
		return reg.GetRegisteredModel(r.Context(), req.Name)
	})
}

func (s *Server) renameModel(w http.ResponseWriter, r *http.Request) {
	s.modelCall(w, r, []string{"name", "new_name"}, func(reg registry.Store, req *wire.ModelRequest) (*registry.RegisteredModel, error) {
		return reg.RenameRegisteredModel(r.Context(), req.Name, req.NewName)
	})
}

func (s *Server) updateModel(w http.ResponseWriter, r *http.Request) {
	s.modelCall(w, r, nameOnly, func(reg registry.Store, req *wire.ModelRequest) (*registry.RegisteredModel, error) {
		return reg.UpdateRegisteredModel(r.Context(), req.Name, deref(req.Description))
	})
}

func (s *Server) deleteModel(w http.ResponseWriter, r *http.Request) {
	s.modelCall(w, r, nameOnly, func(reg registry.Store, req *wire.ModelRequest) (*registry.RegisteredModel, error) {
		return nil, reg.DeleteRegisteredModel(r.Context(), req.Name)
	})
}

func (s *Server) setModelTag(w http.ResponseWriter, r *http.Request) {
	s.modelCall(w, r, nameOnly, func(reg registry.Store, req *wire.ModelRequest) (*registry.RegisteredModel, error) {
		if err := require("key", req.Key); err != nil {
			return nil, err
		}
		if err := reg.SetRegisteredModelTag(r.Context(), req.Name, store.Tag{Key: req.Key, Value: req.Value}); err != nil {
			return nil, err
		}
		if s.isPrompt(r.Context(), req.Name) {
			s.deliver(r.Context(), registry.PromptTagSet, webhook.PromptTagSet{Name: req.Name, Key: req.Key, Value: req.Value})
		}
		return nil, nil
	})
}

func (s *Server) deleteModelTag(w http.ResponseWriter, r *http.Request) {
	s.modelCall(w, r, nameOnly, func(reg registry.Store, req *wire.ModelRequest) (*registry.RegisteredModel, error) {
		if err := require("key", req.Key); err != nil {
			return nil, err
		}
		if err := reg.DeleteRegisteredModelTag(r.Context(), req.Name, req.Key); err != nil {
			return nil, err
		}
		if s.isPrompt(r.Context(), req.Name) {
			s.deliver(r.Context(), registry.PromptTagDeleted, webhook.PromptTagDeleted{Name: req.Name, Key: req.Key})
		}
		return nil, nil
	})
}

func (s *Server) setAlias(w http.ResponseWriter, r *http.Request) {
	s.modelCall(w, r, nameOnly, func(reg registry.Store, req *wire.ModelRequest) (*registry.RegisteredModel, error) {
		if err := require("alias", req.Alias, "version", string(req.Version)); err != nil {
			return nil, err
		}
		if err := reg.SetAlias(r.Context(), req.Name, req.Alias, string(req.Version)); err != nil {
			return nil, err
		}
		event := registry.ModelVersionAliasCreated
		if s.isPrompt(r.Context(), req.Name) {
			event = registry.PromptAliasCreated
		}
		s.deliver(r.Context(), event, webhook.ModelVersionAliasCreated{Name: req.Name, Alias: req.Alias, Version: string(req.Version)})
		return nil, nil
	})
}

func (s *Server) deleteAlias(w http.ResponseWriter, r *http.Request) {
	s.modelCall(w, r, nameOnly, func(reg registry.Store, req *wire.ModelRequest) (*registry.RegisteredModel, error) {
		if err := require("alias", req.Alias); err != nil {
			return nil, err
		}
		if err := reg.DeleteAlias(r.Context(), req.Name, req.Alias); err != nil {
			return nil, err
		}
		event := registry.ModelVersionAliasDeleted
		if s.isPrompt(r.Context(), req.Name) {
			event = registry.PromptAliasDeleted
		}
		s.deliver(r.Context(), event, webhook.ModelVersionAliasDeleted{Name: req.Name, Alias: req.Alias})
		return nil, nil
	})
}

func (s *Server) getByAlias(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.ModelRequest) (any, error) {
		reg, err := s.reg()
		if err != nil {
			return nil, err
		}
		if err := require("name", req.Name, "alias", req.Alias); err != nil {
			return nil, err
		}
		v, err := reg.GetVersionByAlias(r.Context(), req.Name, req.Alias)
		if err != nil {
			return nil, err
		}
		return wire.ModelVersionResponse{ModelVersion: wire.FromModelVersion(v)}, nil
	})
}

func (s *Server) searchModels(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.SearchModelsRequest) (any, error) {
		reg, err := s.reg()
		if err != nil {
			return nil, err
		}
		ms, next, err := reg.SearchRegisteredModels(r.Context(), registry.SearchModels{Filter: req.Filter, OrderBy: req.OrderBy, MaxResults: int(req.MaxResults), PageToken: req.PageToken})
		if err != nil {
			return nil, err
		}
		resp := wire.SearchRegisteredModelsResponse{NextPageToken: next}
		for _, m := range ms {
			resp.RegisteredModels = append(resp.RegisteredModels, wire.FromRegisteredModel(m))
		}
		return resp, nil
	})
}

func (s *Server) latestVersions(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.ModelRequest) (any, error) {
		reg, err := s.reg()
		if err != nil {
			return nil, err
		}
		if err := require("name", req.Name); err != nil {
			return nil, err
		}
		vs, err := reg.GetLatestVersions(r.Context(), req.Name, req.Stages)
		if err != nil {
			return nil, err
		}
		return wire.ModelVersionsResponse{ModelVersions: wire.FromModelVersions(vs)}, nil
	})
}

// versionCall is the shape of the handlers that return a model version.
func (s *Server) versionCall(w http.ResponseWriter, r *http.Request, fn func(registry.Store, *wire.VersionRequest) (*registry.ModelVersion, error)) {
	handle(w, r, func(req *wire.VersionRequest) (any, error) {
		reg, err := s.reg()
		if err != nil {
			return nil, err
		}
		if err := require("name", req.Name, "version", string(req.Version)); err != nil {
			return nil, err
		}
		v, err := fn(reg, req)
		if err != nil {
			return nil, err
		}
		if v == nil {
			return empty{}, nil
		}
		return wire.ModelVersionResponse{ModelVersion: wire.FromModelVersion(v)}, nil
	})
}

func (s *Server) createVersion(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.VersionRequest) (any, error) {
		reg, err := s.reg()
		if err != nil {
			return nil, err
		}
		if err := require("name", req.Name, "source", req.Source); err != nil {
			return nil, err
		}
		v, err := reg.CreateModelVersion(r.Context(), registry.CreateVersion{
			Name: req.Name, Source: req.Source, RunID: req.RunID, RunLink: req.RunLink, ModelID: req.ModelID,
			Description: deref(req.Description), Tags: wire.ToTags(req.Tags),
		})
		if err != nil {
			return nil, err
		}
		tags := wire.ToTags(req.Tags)
		if registry.IsPromptVersion(tags) {
			var template *string
			for _, t := range tags {
				if t.Key == registry.PromptTextTag {
					template = &t.Value
				}
			}
			s.deliver(r.Context(), registry.PromptVersionCreated, webhook.PromptVersionCreated{Name: req.Name, Version: v.Version, Template: template,
				Tags: tagMap(tags, registry.PromptTextTag, registry.PromptTag, registry.PromptTypeTag), Description: webhook.Optional(deref(req.Description))})
		} else {
			s.deliver(r.Context(), registry.ModelVersionCreated, webhook.ModelVersionCreated{Name: req.Name, Version: v.Version, Source: req.Source,
				RunID: webhook.Optional(req.RunID), Tags: tagMap(tags), Description: webhook.Optional(deref(req.Description))})
		}
		return wire.ModelVersionResponse{ModelVersion: wire.FromModelVersion(v)}, nil
	})
}

func (s *Server) getVersion(w http.ResponseWriter, r *http.Request) {
	s.versionCall(w, r, func(reg registry.Store, req *wire.VersionRequest) (*registry.ModelVersion, error) {
		return reg.GetModelVersion(r.Context(), req.Name, string(req.Version))
	})
}

func (s *Server) updateVersion(w http.ResponseWriter, r *http.Request) {
	s.versionCall(w, r, func(reg registry.Store, req *wire.VersionRequest) (*registry.ModelVersion, error) {
		return reg.UpdateModelVersion(r.Context(), req.Name, string(req.Version), deref(req.Description))
	})
}

func (s *Server) deleteVersion(w http.ResponseWriter, r *http.Request) {
	s.versionCall(w, r, func(reg registry.Store, req *wire.VersionRequest) (*registry.ModelVersion, error) {
		return nil, reg.DeleteModelVersion(r.Context(), req.Name, string(req.Version))
	})
}

func (s *Server) transitionStage(w http.ResponseWriter, r *http.Request) {
	s.versionCall(w, r, func(reg registry.Store, req *wire.VersionRequest) (*registry.ModelVersion, error) {
		if err := require("stage", req.Stage); err != nil {
			return nil, err
		}
		return reg.TransitionStage(r.Context(), req.Name, string(req.Version), req.Stage, bool(req.ArchiveExistingVersions))
	})
}

func (s *Server) setVersionTag(w http.ResponseWriter, r *http.Request) {
	s.versionCall(w, r, func(reg registry.Store, req *wire.VersionRequest) (*registry.ModelVersion, error) {
		if err := require("key", req.Key); err != nil {
			return nil, err
		}
		if err := reg.SetModelVersionTag(r.Context(), req.Name, string(req.Version), store.Tag{Key: req.Key, Value: req.Value}); err != nil {
			return nil, err
		}
		event := registry.ModelVersionTagSet
		if s.isPrompt(r.Context(), req.Name) {
			event = registry.PromptVersionTagSet
		}
		s.deliver(r.Context(), event, webhook.ModelVersionTagSet{Name: req.Name, Version: string(req.Version), Key: req.Key, Value: req.Value})
		return nil, nil
	})
}

func (s *Server) deleteVersionTag(w http.ResponseWriter, r *http.Request) {
	s.versionCall(w, r, func(reg registry.Store, req *wire.VersionRequest) (*registry.ModelVersion, error) {
		if err := require("key", req.Key); err != nil {
			return nil, err
		}
		if err := reg.DeleteModelVersionTag(r.Context(), req.Name, string(req.Version), req.Key); err != nil {
			return nil, err
		}
		event := registry.ModelVersionTagDeleted
		if s.isPrompt(r.Context(), req.Name) {
			event = registry.PromptVersionTagDeleted
		}
		s.deliver(r.Context(), event, webhook.ModelVersionTagDeleted{Name: req.Name, Version: string(req.Version), Key: req.Key})
		return nil, nil
	})
}

func (s *Server) downloadURI(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.VersionRequest) (any, error) {
		reg, err := s.reg()
		if err != nil {
			return nil, err
		}
		if err := require("name", req.Name, "version", string(req.Version)); err != nil {
			return nil, err
		}
		uri, err := reg.GetDownloadURI(r.Context(), req.Name, string(req.Version))
		if err != nil {
			return nil, err
		}
		return wire.DownloadURIResponse{ArtifactURI: uri}, nil
	})
}

func (s *Server) searchVersions(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.SearchModelsRequest) (any, error) {
		reg, err := s.reg()
		if err != nil {
			return nil, err
		}
		vs, next, err := reg.SearchModelVersions(r.Context(), registry.SearchVersions{Filter: req.Filter, OrderBy: req.OrderBy, MaxResults: int(req.MaxResults), PageToken: req.PageToken})
		if err != nil {
			return nil, err
		}
		return wire.ModelVersionsResponse{ModelVersions: wire.FromModelVersions(vs), NextPageToken: next}, nil
	})
}

// getVersionArtifact is MLflow's GET /model-versions/get-artifact?name=&
// version=&path=: one file of a version's model, wherever its source
// lives (runs:/, models:/<model_id>, the proxy, a folder under a root).
func (s *Server) getVersionArtifact(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name, version := q.Get("name"), q.Get("version")
	if err := require("name", name, "version", version); err != nil {
		writeError(w, r, err)
		return
	}
	rel, err := artifact.CleanPath(q.Get("path"))
	if err == nil && rel == "" {
		err = missingParam("path")
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	reg, err := s.reg()
	if err != nil {
		writeError(w, r, err)
		return
	}
	uri, err := reg.GetDownloadURI(r.Context(), name, version)
	if err == nil {
		uri, err = registry.Resolve(r.Context(), s.raw, reg, uri, s.holdsFiles)
	}
	var repo artifact.Repository
	if err == nil {
		repo, err = s.runRepo(uri)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	serveFile(w, r, repo, rel)
}

// tagMap is tags as the webhooks' payloads give them.
// tagMap is tags as a webhook payload holds them, without the omit keys.
func tagMap(tags []store.Tag, omit ...string) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		if !slices.Contains(omit, t.Key) {
			m[t.Key] = t.Value
		}
	}
	return m
}
