package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/store"
)

// datasets is an experiment's evaluation datasets (MLflow 3's GenAI
// evaluation datasets linked to it).
func (h *Handler) datasets(w http.ResponseWriter, r *http.Request) {
	ds, exp, ok := experimentPage[store.EvaluationDatasets](h, w, r, "evaluation datasets")
	if !ok {
		return
	}
	filter := r.URL.Query().Get("filter")
	list, next, err := ds.SearchEvaluationDatasets(r.Context(), store.SearchEvaluationDatasets{ExperimentIDs: []string{exp.ID}, Filter: filter,
		MaxResults: 100, PageToken: r.URL.Query().Get("page")})
	h.render(w, r, "datasets", "Evaluation datasets", map[string]any{"Experiment": exp, "Datasets": list, "Next": next, "Filter": filter, "Error": errText(err)})
}

// recordRow is a dataset record as the page shows it: its JSON indented.
type recordRow struct {
	*store.DatasetRecord
	Inputs, Outputs, Expectations, Tags string
}

// dataset is one evaluation dataset with a page of its records.
func (h *Handler) dataset(w http.ResponseWriter, r *http.Request) {
	ds, ok := storeAs[store.EvaluationDatasets](h, w, r, "evaluation datasets")
	if !ok {
		return
	}
	d, err := ds.GetEvaluationDataset(r.Context(), r.PathValue("dataset_id"))
	if err != nil {
		h.fail(w, r, http.StatusNotFound, err.Error())
		return
	}
	exps, err := ds.DatasetExperimentIDs(r.Context(), d.ID)
	if err != nil {
		h.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	recs, next, err := ds.DatasetRecords(r.Context(), d.ID, 200, r.URL.Query().Get("page"))
	rows := make([]recordRow, len(recs))
	for i, rec := range recs {
		rows[i] = recordRow{DatasetRecord: rec, Inputs: indent(rec.Inputs), Outputs: indent(rec.Outputs), Expectations: indent(rec.Expectations), Tags: indent(rec.Tags)}
	}
	h.render(w, r, "dataset", d.Name, map[string]any{"Dataset": d, "Experiments": exps, "Records": rows, "Next": next, "Error": errText(err)})
}

// scorerRow is a scorer's latest version and how many there are.
type scorerRow struct {
	*store.Scorer
	Versions   int
	Serialized string
}

// scorers is an experiment's registered scorers and LLM judges.
func (h *Handler) scorers(w http.ResponseWriter, r *http.Request) {
	sc, exp, ok := experimentPage[store.Scorers](h, w, r, "scorers")
	if !ok {
		return
	}
	list, err := sc.ListScorers(r.Context(), exp.ID)
	var rows []scorerRow
	for _, s := range list {
		vs, verr := sc.ListScorerVersions(r.Context(), exp.ID, s.Name)
		if verr != nil && err == nil {
			err = verr
		}
		rows = append(rows, scorerRow{Scorer: s, Versions: len(vs), Serialized: indent(s.SerializedScorer)})
	}
	h.render(w, r, "scorers", "Scorers", map[string]any{"Experiment": exp, "Scorers": rows, "Error": errText(err)})
}

// indent is JSON text indented for reading, or the text as it is.
func indent(text string) string {
	var b bytes.Buffer
	if json.Indent(&b, []byte(text), "", "  ") != nil {
		return text
	}
	return b.String()
}

// Prompts are registered models tagged mlflow.prompt.is_prompt (MLflow 3's
// prompt registry); a version's template is its mlflow.prompt.text tag.
const (
	promptFilter  = "tags.`mlflow.prompt.is_prompt` = 'true'"
	promptTextTag = "mlflow.prompt.text"
)

// prompts lists the registry's prompts (the models page leaves them out,
// as MLflow 3's does).
func (h *Handler) prompts(w http.ResponseWriter, r *http.Request) {
	if h.opts.Registry == nil {
		h.fail(w, r, http.StatusNotFound, "this server has no model registry")
		return
	}
	filter := promptFilter
	if q := r.URL.Query().Get("filter"); q != "" {
		filter += " AND " + q
	}
	ms, _, err := h.opts.Registry.SearchRegisteredModels(r.Context(), registry.SearchModels{MaxResults: 1000, Filter: filter})
	ms = slices.DeleteFunc(ms, func(m *registry.RegisteredModel) bool { return !h.allowed(r, true, m.Name) })
	h.render(w, r, "prompts", "Prompts", map[string]any{"Prompts": ms, "Error": errText(err), "Filter": r.URL.Query().Get("filter")})
}

// promptVersion is a prompt's version as its page shows it.
type promptVersion struct {
	*registry.ModelVersion
	Template string
	Tags     []store.Tag // without the template and MLflow's markers
}

// prompt shows a prompt's versions, each with its template, and with
// ?from=A&to=B the two versions' templates compared line by line (MLflow's
// prompt page compares versions so).
func (h *Handler) prompt(w http.ResponseWriter, r *http.Request) {
	if h.opts.Registry == nil {
		h.fail(w, r, http.StatusNotFound, "this server has no model registry")
		return
	}
	m, err := h.opts.Registry.GetRegisteredModel(r.Context(), r.PathValue("name"))
	if err == nil && !isPrompt(m.Tags) {
		err = fmt.Errorf("%s is a registered model, not a prompt", m.Name)
	}
	if err != nil {
		h.fail(w, r, http.StatusNotFound, err.Error())
		return
	}
	vs, _, err := h.opts.Registry.SearchModelVersions(r.Context(), registry.SearchVersions{
		Filter: "name = '" + strings.ReplaceAll(m.Name, "'", "''") + "' AND " + promptFilter, OrderBy: []string{"version_number DESC"}, MaxResults: 1000,
	})
	rows := make([]promptVersion, len(vs))
	for i, v := range vs {
		rows[i].ModelVersion = v
		for _, t := range v.Tags {
			switch {
			case t.Key == promptTextTag:
				rows[i].Template = indent(t.Value)
			case strings.HasPrefix(t.Key, "mlflow.prompt.") || strings.HasPrefix(t.Key, "_mlflow"):
			default:
				rows[i].Tags = append(rows[i].Tags, t)
			}
		}
	}
	data := map[string]any{"Prompt": m, "Versions": rows, "Error": errText(err)}
	// ?from=A&to=B: the two versions' templates compared line by line.
	if from, to := r.URL.Query().Get("from"), r.URL.Query().Get("to"); from != "" || to != "" {
		var a, b *promptVersion
		for i := range rows {
			switch rows[i].Version {
			case from:
				a = &rows[i]
			case to:
				b = &rows[i]
			}
		}
		missing := from
		if a != nil {
			missing = to
		}
		if a == nil || b == nil {
			h.fail(w, r, http.StatusNotFound, fmt.Sprintf("%s has no version %q to compare", m.Name, missing))
			return
		}
		data["From"], data["To"], data["Diff"] = a.Version, b.Version, lineDiff(a.Template, b.Template)
	}
	h.render(w, r, "prompt", m.Name, data)
}

func isPrompt(tags []store.Tag) bool {
	for _, t := range tags {
		if t.Key == "mlflow.prompt.is_prompt" && strings.EqualFold(t.Value, "true") {
			return true
		}
	}
	return false
}
