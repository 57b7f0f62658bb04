package ui

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/mlrun/mlrun/store"
)

// datasets is an experiment's evaluation datasets (MLflow 3's GenAI
// evaluation datasets linked to it).
func (h *Handler) datasets(w http.ResponseWriter, r *http.Request) {
	ds, ok := h.opts.Store.(store.EvaluationDatasets)
	if !ok {
		h.fail(w, r, http.StatusNotFound, "this tracking store keeps no evaluation datasets")
		return
	}
	exp, ok := h.experimentOf(w, r)
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
	ds, ok := h.opts.Store.(store.EvaluationDatasets)
	if !ok {
		h.fail(w, r, http.StatusNotFound, "this tracking store keeps no evaluation datasets")
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
	sc, ok := h.opts.Store.(store.Scorers)
	if !ok {
		h.fail(w, r, http.StatusNotFound, "this tracking store keeps no scorers")
		return
	}
	exp, ok := h.experimentOf(w, r)
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
