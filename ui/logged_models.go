package ui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"slices"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/store"
)

// loggedModelView is what a run's page shows of an MLflow 3 logged model
// the run produced: MLflow 3's log_model keeps a model's files with the
// model, not in the run's artifacts.
type loggedModelView struct {
	Model    *store.LoggedModel
	Step     int64
	Error    string
	Files    []artifactEntry // the model folder's top level
	Versions []registry.ModelVersion
}

// runPageModels is how many of a run's logged models its page shows
// (each costs a read of the model and a listing of its files): a run that
// logs a checkpoint a step as a model would make the page slow.
const runPageModels = 20

// loggedModels are the logged models a run output, with their files and
// the registered versions each lists in its mlflow.modelVersions tag.
func (h *Handler) loggedModels(r *http.Request, run *store.Run) []loggedModelView {
	lm, ok := h.opts.Store.(store.LoggedModels)
	if !ok {
		return nil
	}
	var out []loggedModelView
	outputs := run.Outputs
	if len(outputs) > runPageModels { // the latest steps; the models page has them all
		outputs = outputs[len(outputs)-runPageModels:]
	}
	for _, o := range outputs {
		m, err := lm.GetLoggedModel(r.Context(), o.ModelID)
		if err != nil {
			out = append(out, loggedModelView{Model: &store.LoggedModel{ModelID: o.ModelID}, Step: o.Step, Error: err.Error()})
			continue
		}
		v := h.modelView(r, m)
		v.Step = o.Step
		out = append(out, v)
	}
	return out
}

// modelView is a logged model with its registered versions and the top
// level of its files (a listing that fails is said in Error).
func (h *Handler) modelView(r *http.Request, m *store.LoggedModel) loggedModelView {
	v := loggedModelView{Model: m, Versions: versionsOf(m)}
	if h.opts.RunArtifacts == nil {
		return v
	}
	repo, err := h.opts.RunArtifacts(m.ArtifactURI)
	var files []artifact.FileInfo
	if err == nil {
		files, err = repo.List(r.Context(), "")
	}
	if err != nil {
		v.Error = err.Error()
	}
	for _, f := range files {
		v.Files = append(v.Files, artifactEntry{Path: f.Path, Name: path.Base(f.Path), IsDir: f.IsDir, Size: f.Size})
	}
	return v
}

// versionsOf are the registered versions a logged model lists in its
// mlflow.modelVersions tag (MLflow's client and server each add one, the
// version once a number and once a string: listed once).
func versionsOf(m *store.LoggedModel) []registry.ModelVersion {
	var out []registry.ModelVersion
	for _, t := range m.Tags {
		if t.Key != "mlflow.modelVersions" {
			continue
		}
		var list []struct {
			Name    string `json:"name"`
			Version any    `json:"version"`
		}
		json.Unmarshal([]byte(t.Value), &list)
		for _, e := range list {
			mv := registry.ModelVersion{Name: e.Name, Version: fmt.Sprint(e.Version)}
			if e.Name != "" && !slices.ContainsFunc(out, func(x registry.ModelVersion) bool { return x.Name == mv.Name && x.Version == mv.Version }) {
				out = append(out, mv)
			}
		}
	}
	return out
}

// loggedModelRow is a logged model as an experiment's models page shows
// it: its latest value of each metric, and its registered versions.
type loggedModelRow struct {
	*store.LoggedModel
	Latest   []store.Metric
	Versions []registry.ModelVersion
}

// experimentModels is an experiment's MLflow 3 logged models (MLflow 3's
// Models tab), searched with MLflow's logged-model filter, 100 a page.
func (h *Handler) experimentModels(w http.ResponseWriter, r *http.Request) {
	lm, exp, ok := experimentPage[store.LoggedModels](h, w, r, "logged models")
	if !ok {
		return
	}
	filter := r.URL.Query().Get("filter")
	list, next, err := lm.SearchLoggedModels(r.Context(), store.SearchLoggedModels{ExperimentIDs: []string{exp.ID}, Filter: filter,
		MaxResults: 100, PageToken: r.URL.Query().Get("page")})
	rows := make([]loggedModelRow, 0, len(list))
	for _, m := range list {
		row := loggedModelRow{LoggedModel: m, Versions: versionsOf(m)}
		for _, mt := range m.Metrics { // oldest first: the last of a key is its latest
			if i := slices.IndexFunc(row.Latest, func(x store.Metric) bool { return x.Key == mt.Key }); i >= 0 {
				row.Latest[i] = mt
			} else {
				row.Latest = append(row.Latest, mt)
			}
		}
		rows = append(rows, row)
	}
	h.render(w, r, "loggedmodels", "Models", map[string]any{"Experiment": exp, "Models": rows, "Next": next, "Filter": filter, "Error": errText(err)})
}

// modelExperiments maps the MLflow 3 logged models the versions register
// to their experiments, for links to them on the experiment's models
// page; a model the store cannot find is left out.
func (h *Handler) modelExperiments(r *http.Request, vs []*registry.ModelVersion) map[string]string {
	lm, ok := h.opts.Store.(store.LoggedModels)
	if !ok {
		return nil
	}
	out := map[string]string{}
	for _, v := range vs {
		if v.ModelID == "" || out[v.ModelID] != "" {
			continue
		}
		if m, err := lm.GetLoggedModel(r.Context(), v.ModelID); err == nil {
			out[v.ModelID] = m.ExperimentID
		}
	}
	return out
}

// loggedModel shows one MLflow 3 logged model (MLflow 3's logged model
// page): its info, every metric it was logged with (step, dataset, run),
// params, tags, its files, the registered versions made from it and a
// link to the traces tagged with its id.
func (h *Handler) loggedModel(w http.ResponseWriter, r *http.Request) {
	lm, ok := storeAs[store.LoggedModels](h, w, r, "logged models")
	if !ok {
		return
	}
	m, err := lm.GetLoggedModel(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, http.StatusNotFound, err.Error())
		return
	}
	exp, _ := h.opts.Store.GetExperiment(r.Context(), m.ExperimentID)
	v := h.modelView(r, m)
	// Its MLmodel (flavors, signature, input example), as text.
	mlmodel := ""
	if h.opts.RunArtifacts != nil {
		if repo, err := h.opts.RunArtifacts(m.ArtifactURI); err == nil {
			mlmodel, _ = readText(r, repo, "MLmodel")
		}
	}
	var tags []store.Tag
	for _, t := range m.Tags {
		if t.Key != "mlflow.modelVersions" {
			tags = append(tags, t)
		}
	}
	h.render(w, r, "loggedmodel", m.Name, map[string]any{"View": v, "Experiment": exp, "Tags": tags, "MLmodel": mlmodel})
}
