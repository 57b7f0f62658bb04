package ui

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/internal/format"
	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/store"
)

func (h *Handler) experiments(w http.ResponseWriter, r *http.Request) {
	view := r.URL.Query().Get("view")
	vt, err := store.ParseViewType(strings.ToUpper(view))
	if err != nil {
		vt = store.ActiveOnly
	}
	es, _, err := h.opts.Store.SearchExperiments(r.Context(), store.SearchExperiments{ViewType: vt, MaxResults: 1000, OrderBy: []string{"name ASC"}})
	es = slices.DeleteFunc(es, func(e *store.Experiment) bool { return !h.allowed(r, false, e.ID) })
	h.render(w, r, "experiments", "Experiments", map[string]any{"Experiments": es, "View": vt.String(), "Error": errText(err)})
}

func (h *Handler) createExperiment(w http.ResponseWriter, r *http.Request) (string, error) {
	id, err := h.opts.Store.CreateExperiment(r.Context(), strings.TrimSpace(r.PostFormValue("name")), "", nil)
	if err != nil {
		return "", err
	}
	return "/experiments/" + id, nil
}

func (h *Handler) experimentAction(w http.ResponseWriter, r *http.Request) (string, error) {
	id := r.PathValue("id")
	var err error
	switch r.PathValue("action") {
	case "rename":
		err = h.opts.Store.RenameExperiment(r.Context(), id, strings.TrimSpace(r.PostFormValue("name")))
	case "delete":
		err = h.opts.Store.DeleteExperiment(r.Context(), id)
	case "restore":
		err = h.opts.Store.RestoreExperiment(r.Context(), id)
	default:
		return "", fmt.Errorf("unknown action %q", r.PathValue("action"))
	}
	if err != nil {
		return "", err
	}
	return "/experiments?view=" + r.PostFormValue("view"), nil
}

// column is a runs-table column: "params.alpha", "metrics.rmse", "tags.team".
type column struct {
	Key, Kind, Name string
}

func parseColumn(s string) (column, bool) {
	kind, name, ok := strings.Cut(s, ".")
	if !ok || name == "" || (kind != "params" && kind != "metrics" && kind != "tags") {
		return column{}, false
	}
	return column{Key: s, Kind: kind, Name: name}, true
}

// orderKey quotes a column for order_by.
func (c column) orderKey() string {
	return c.Kind + ".`" + strings.ReplaceAll(c.Name, "`", "") + "`"
}

// runRow is one row of the runs table.
type runRow struct {
	Run    *store.Run
	Depth  int
	Values []string
	Parent string
}

func (h *Handler) runs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	exp, err := h.opts.Store.GetExperiment(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, http.StatusNotFound, err.Error())
		return
	}
	vt, err := store.ParseViewType(strings.ToUpper(q.Get("view")))
	if err != nil {
		vt = store.ActiveOnly
	}
	filter, order, pageTok := q.Get("filter"), q.Get("order"), q.Get("page")
	size, _ := strconv.Atoi(q.Get("n"))
	if size <= 0 || size > 1000 {
		size = 100
	}
	var orderBy []string
	if order != "" {
		orderBy = []string{order}
	}
	runs, next, err := h.opts.Store.SearchRuns(r.Context(), store.SearchRuns{
		ExperimentIDs: []string{exp.ID}, Filter: filter, OrderBy: orderBy, ViewType: vt, MaxResults: size, PageToken: pageTok,
	})
	searchErr := errText(err)
	// The columns: the ones asked for, else the page's metrics and params.
	available := map[string]bool{}
	for _, run := range runs {
		for _, m := range run.Metrics {
			available["metrics."+m.Key] = true
		}
		for _, p := range run.Params {
			available["params."+p.Key] = true
		}
		for _, t := range run.Tags {
			if !strings.HasPrefix(t.Key, "mlflow.") {
				available["tags."+t.Key] = true
			}
		}
	}
	var all []string
	for k := range available {
		all = append(all, k)
	}
	sort.Strings(all)
	var cols []column
	if sel := q["col"]; len(sel) > 0 {
		for _, s := range sel {
			if c, ok := parseColumn(s); ok {
				cols = append(cols, c)
			}
		}
	} else {
		for _, k := range all {
			if c, ok := parseColumn(k); ok && c.Kind != "tags" && len(cols) < 8 {
				cols = append(cols, c)
			}
		}
	}
	// Rows, with children under their parent when both are on the page.
	byID := map[string]*store.Run{}
	for _, run := range runs {
		byID[run.Info.RunID] = run
	}
	children := map[string][]*store.Run{}
	var roots []*store.Run
	for _, run := range runs {
		if p, ok := run.Tag("mlflow.parentRunId"); ok && byID[p] != nil && p != run.Info.RunID {
			children[p] = append(children[p], run)
			continue
		}
		roots = append(roots, run)
	}
	var rows []runRow
	var add func(run *store.Run, depth int)
	add = func(run *store.Run, depth int) {
		row := runRow{Run: run, Depth: depth}
		row.Parent, _ = run.Tag("mlflow.parentRunId")
		for _, c := range cols {
			row.Values = append(row.Values, cellValue(run, c))
		}
		rows = append(rows, row)
		if depth < 8 {
			for _, ch := range children[run.Info.RunID] {
				add(ch, depth+1)
			}
		}
	}
	for _, run := range roots {
		add(run, 0)
	}
	type header struct {
		Col       column
		OrderAsc  string
		OrderDesc string
		Sorted    string
	}
	var headers []header
	for _, c := range cols {
		hd := header{Col: c, OrderAsc: c.orderKey() + " ASC", OrderDesc: c.orderKey() + " DESC"}
		if order == hd.OrderAsc {
			hd.Sorted = "asc"
		} else if order == hd.OrderDesc {
			hd.Sorted = "desc"
		}
		headers = append(headers, hd)
	}
	selected := map[string]bool{}
	for _, c := range cols {
		selected[c.Key] = true
	}
	h.render(w, r, "runs", exp.Name, map[string]any{
		"Experiment": exp, "Description": metadataValue(exp.Tags, tagNote), "Rows": rows, "Headers": headers, "All": all, "Selected": selected,
		"Filter": filter, "Order": order, "View": vt.String(), "Next": next, "Page": pageTok, "Error": searchErr,
		"ColQuery": colQuery(cols), "Size": q.Get("n"),
	})
}

func colQuery(cols []column) string {
	var parts []string
	for _, c := range cols {
		parts = append(parts, "col="+urlEscape(c.Key))
	}
	return strings.Join(parts, "&")
}

func cellValue(run *store.Run, c column) string {
	switch c.Kind {
	case "metrics":
		for _, m := range run.Metrics {
			if m.Key == c.Name {
				return format.Float(m.Value)
			}
		}
	case "params":
		for _, p := range run.Params {
			if p.Key == c.Name {
				return p.Value
			}
		}
	case "tags":
		v, _ := run.Tag(c.Name)
		return v
	}
	return ""
}

func (h *Handler) runsAction(w http.ResponseWriter, r *http.Request) (string, error) {
	ids := r.PostForm["run"]
	if len(ids) == 0 {
		return "", errors.New("select at least one run")
	}
	for _, id := range ids {
		var err error
		switch r.PathValue("action") {
		case "delete":
			err = h.opts.Store.DeleteRun(r.Context(), id)
		case "restore":
			err = h.opts.Store.RestoreRun(r.Context(), id)
		default:
			return "", fmt.Errorf("unknown action %q", r.PathValue("action"))
		}
		if err != nil {
			return "", err
		}
	}
	return "/experiments/" + urlEscape(r.PathValue("id")) + "?view=" + urlEscape(r.PostFormValue("view")), nil
}

// artifactEntry is one row of the artifact browser.
type artifactEntry struct {
	Path  string
	Name  string
	IsDir bool
	Size  int64
}

const previewLimit = 64 << 10

func (h *Handler) run(w http.ResponseWriter, r *http.Request) {
	run, err := h.opts.Store.GetRun(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, http.StatusNotFound, err.Error())
		return
	}
	exp, _ := h.opts.Store.GetExperiment(r.Context(), run.Info.ExperimentID)
	dir := r.URL.Query().Get("path")
	file := r.URL.Query().Get("file")
	data := map[string]any{"Run": run, "Experiment": exp, "Dir": dir, "File": file}
	if h.opts.RunArtifacts != nil {
		repo, err := h.opts.RunArtifacts(run.Info.ArtifactURI)
		if err == nil {
			rel, perr := artifact.CleanPath(dir)
			if perr != nil {
				data["ArtifactError"] = perr.Error()
			} else if files, err := repo.List(r.Context(), rel); err != nil {
				data["ArtifactError"] = err.Error()
			} else {
				var entries []artifactEntry
				for _, f := range files {
					p := f.Path
					entries = append(entries, artifactEntry{Path: p, Name: path.Base(p), IsDir: f.IsDir, Size: f.Size})
				}
				data["Artifacts"] = entries
			}
			if log, ok := readText(r, repo, "mlrun/step.log"); ok {
				data["StepLog"] = log
			}
			if file != "" {
				if fp, err := artifact.CleanPath(file); err == nil && fp != "" {
					switch ext := strings.ToLower(path.Ext(fp)); {
					case ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".gif" || ext == ".svg":
						data["Image"] = fp
					default:
						if text, ok := readText(r, repo, fp); ok {
							data["Preview"] = text
						} else {
							data["NoPreview"] = true
						}
					}
				}
			}
		} else {
			data["ArtifactError"] = err.Error()
		}
	}
	if t := h.tuning(r, run); t != nil {
		data["Tuning"] = t
	}
	data["LoggedModels"], data["MoreModels"] = h.loggedModels(r, run), max(len(run.Outputs)-runPageModels, 0)
	// Its parent, and its description (MLflow's mlflow.note.content).
	data["Parent"], _ = run.Tag("mlflow.parentRunId")
	data["Description"], _ = run.Tag(tagNote)
	h.render(w, r, "run", run.Info.RunName, data)
}

// tuningView is what the page of a tuning parent (mlrun tune) shows of
// its search: the trials by objective, links to their parallel
// coordinates and to the best-so-far curve.
type tuningView struct {
	Metric, Mode, Algo, BestRunID, SelectedRunID string
	Trials                                       []tuningTrial
	CompareIDs                                   string // the trials to compare, comma-separated
	Failed                                       int
}

type tuningTrial struct {
	Run   *store.Run
	Value float64
	OK    bool
}

// maxCompared bounds the trials one parallel-coordinates chart shows.
const maxCompared = 100

// tuning reads a tuning parent's trials (its child runs); nil for any
// other run.
func (h *Handler) tuning(r *http.Request, run *store.Run) *tuningView {
	metric, ok := run.Tag("mlrun.tune.metric")
	if !ok {
		return nil
	}
	t := &tuningView{Metric: metric}
	t.Mode, _ = run.Tag("mlrun.tune.mode")
	t.Algo, _ = run.Tag("mlrun.tune.algo")
	t.BestRunID, _ = run.Tag("mlrun.tune.best_run_id")
	t.SelectedRunID, _ = run.Tag("mlrun.tune.selected_run_id")
	tok := ""
	for {
		runs, next, err := h.opts.Store.SearchRuns(r.Context(), store.SearchRuns{ExperimentIDs: []string{run.Info.ExperimentID},
			Filter: "tags.mlflow.parentRunId = '" + run.Info.RunID + "'", MaxResults: 1000, PageToken: tok})
		if err != nil {
			break
		}
		for _, c := range runs {
			tt := tuningTrial{Run: c}
			for _, m := range c.Metrics {
				if m.Key == metric && c.Info.Status == store.StatusFinished {
					tt.Value, tt.OK = m.Value, true
				}
			}
			if c.Info.Status == store.StatusFailed {
				t.Failed++
			}
			t.Trials = append(t.Trials, tt)
		}
		if tok = next; tok == "" {
			break
		}
	}
	sort.SliceStable(t.Trials, func(i, j int) bool {
		a, b := t.Trials[i], t.Trials[j]
		if a.OK != b.OK {
			return a.OK
		}
		if t.Mode == "max" {
			return a.Value > b.Value
		}
		return a.Value < b.Value
	})
	var ids []string
	for _, tt := range t.Trials {
		if tt.OK && len(ids) < maxCompared {
			ids = append(ids, tt.Run.Info.RunID)
		}
	}
	t.CompareIDs = strings.Join(ids, ",")
	return t
}

// readText reads up to previewLimit bytes of a text file.
func readText(r *http.Request, repo artifact.Repository, p string) (string, bool) {
	rc, _, err := repo.Open(r.Context(), p)
	if err != nil {
		return "", false
	}
	defer rc.Close()
	b, _ := io.ReadAll(io.LimitReader(rc, previewLimit))
	for _, c := range b {
		if c == 0 {
			return "", false // binary
		}
	}
	s := string(b)
	if len(b) == previewLimit {
		s += "\n… (truncated; download the file for the rest)"
	}
	return s, true
}

func (h *Handler) chart(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ids := splitIDs(q.Get("runs"))
	var runs []*store.Run
	keys := map[string]bool{}
	for _, id := range ids {
		if run, err := h.opts.Store.GetRun(r.Context(), id); err == nil {
			runs = append(runs, run)
			for _, m := range run.Metrics {
				keys[m.Key] = true
			}
		}
	}
	var all []string
	for k := range keys {
		all = append(all, k)
	}
	sort.Strings(all)
	key := q.Get("key")
	if key == "" && len(all) > 0 {
		key = all[0]
	}
	h.render(w, r, "chart", "Chart: "+key, map[string]any{"Runs": runs, "Key": key, "Keys": all, "IDs": strings.Join(ids, ",")})
}

func splitIDs(s string) []string {
	var out []string
	for _, id := range strings.Split(s, ",") {
		if id = strings.TrimSpace(id); id != "" && len(out) < 100 {
			out = append(out, id)
		}
	}
	return out
}

// compareRow is a param or metric across runs.
type compareRow struct {
	Key    string
	Values []string
	Differ bool
}

func (h *Handler) compare(w http.ResponseWriter, r *http.Request) {
	ids := splitIDs(r.URL.Query().Get("runs"))
	var runs []*store.Run
	for _, id := range ids {
		run, err := h.opts.Store.GetRun(r.Context(), id)
		if err != nil {
			h.fail(w, r, http.StatusNotFound, err.Error())
			return
		}
		runs = append(runs, run)
	}
	rows := func(kind string) []compareRow {
		keys := map[string]bool{}
		for _, run := range runs {
			if kind == "params" {
				for _, p := range run.Params {
					keys[p.Key] = true
				}
			} else {
				for _, m := range run.Metrics {
					keys[m.Key] = true
				}
			}
		}
		var out []compareRow
		for k := range keys {
			row := compareRow{Key: k}
			for i, run := range runs {
				v := cellValue(run, column{Kind: kind, Name: k})
				row.Values = append(row.Values, v)
				if i > 0 && v != row.Values[0] {
					row.Differ = true
				}
			}
			out = append(out, row)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
		return out
	}
	params, metrics := rows("params"), rows("metrics")
	metric := r.URL.Query().Get("metric")
	if metric == "" && len(metrics) > 0 {
		metric = metrics[0].Key
	}
	// Parallel coordinates data: one line per run across params and the metric.
	type axis struct {
		Name   string   `json:"name"`
		Values []string `json:"values"`
	}
	var axes []axis
	for _, p := range params {
		axes = append(axes, axis{Name: p.Key, Values: p.Values})
	}
	for _, m := range metrics {
		if m.Key == metric {
			axes = append(axes, axis{Name: m.Key, Values: m.Values})
		}
	}
	h.render(w, r, "compare", "Compare runs", map[string]any{
		"Runs": runs, "Params": params, "Metrics": metrics, "Metric": metric, "Axes": toJSON(axes), "IDs": strings.Join(ids, ","),
	})
}

func (h *Handler) models(w http.ResponseWriter, r *http.Request) {
	if h.opts.Registry == nil {
		h.fail(w, r, http.StatusNotFound, "this server has no model registry")
		return
	}
	ms, _, err := h.opts.Registry.SearchRegisteredModels(r.Context(), registry.SearchModels{MaxResults: 1000, Filter: r.URL.Query().Get("filter")})
	ms = slices.DeleteFunc(ms, func(m *registry.RegisteredModel) bool { return !h.allowed(r, true, m.Name) })
	h.render(w, r, "models", "Models", map[string]any{"Models": ms, "Error": errText(err), "Filter": r.URL.Query().Get("filter")})
}

func (h *Handler) model(w http.ResponseWriter, r *http.Request) {
	if h.opts.Registry == nil {
		h.fail(w, r, http.StatusNotFound, "this server has no model registry")
		return
	}
	m, err := h.opts.Registry.GetRegisteredModel(r.Context(), r.PathValue("name"))
	if err != nil {
		h.fail(w, r, http.StatusNotFound, err.Error())
		return
	}
	vs, _, err := h.opts.Registry.SearchModelVersions(r.Context(), registry.SearchVersions{
		Filter: "name = '" + strings.ReplaceAll(m.Name, "'", "''") + "'", OrderBy: []string{"version_number DESC"}, MaxResults: 1000,
	})
	// The runs that made the latest versions (ten at most), to compare
	// side by side as MLflow's registry compares versions.
	var runIDs []string
	for _, v := range vs {
		if v.RunID != "" && !slices.Contains(runIDs, v.RunID) && len(runIDs) < 10 {
			runIDs = append(runIDs, v.RunID)
		}
	}
	compare := ""
	if len(runIDs) > 1 {
		compare = strings.Join(runIDs, ",")
	}
	h.render(w, r, "model", m.Name, map[string]any{"Model": m, "Versions": vs, "Error": errText(err), "LoggedModels": h.modelExperiments(r, vs), "CompareRuns": compare})
}
