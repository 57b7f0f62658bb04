package ui_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/store"
)

// TestRunPageListsLoggedModels (and the experiment's models page): MLflow 3's log_model (and mlrun's
// 'models log') keeps a model's files with the logged model, not in the
// run's artifacts, so a run's page lists the models the run output: each
// with its id, status and step, its files (links that download them) and
// the registered versions it lists in its mlflow.modelVersions tag.
func TestRunPageListsLoggedModels(t *testing.T) {
	srv := testutil.StartServer(t, true)
	st, ctx := srv.Store, context.Background()
	r, err := st.CreateRun(ctx, store.CreateRun{ExperimentID: "0", RunName: "train"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.CreateLoggedModel(ctx, store.LoggedModel{ExperimentID: "0", Name: "clf", SourceRunID: r.Info.RunID})
	if err != nil {
		t.Fatal(err)
	}
	folder := filepath.Join(srv.Artifacts, filepath.FromSlash(strings.TrimPrefix(m.ArtifactURI, "mlflow-artifacts:/")))
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(folder, "MLmodel"), []byte("model_id: "+m.ModelID+"\n"), 0o644)
	if _, err := st.FinalizeLoggedModel(ctx, m.ModelID, "LOGGED_MODEL_READY"); err != nil {
		t.Fatal(err)
	}
	if err := st.LogOutputs(ctx, r.Info.RunID, []store.ModelOutput{{ModelID: m.ModelID, Step: 3}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateRegisteredModel(ctx, "iris", nil, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateModelVersion(ctx, registry.CreateVersion{Name: "iris", Source: "models:/" + m.ModelID}); err != nil {
		t.Fatal(err)
	}
	get := func(path string) string { t.Helper(); return getPage(t, srv.URL+path) }
	page := get("/runs/" + r.Info.RunID)
	i := strings.Index(page, `id="logged-models"`)
	if i < 0 {
		t.Fatalf("no logged models on the run's page:\n%s", page)
	}
	section := page[i:]
	section = section[:strings.Index(section, "</table>")]
	for _, want := range []string{">clf<", m.ModelID, "LOGGED_MODEL_READY", "step 3", `href="/models/iris">iris version 1</a>`} {
		if !strings.Contains(section, want) {
			t.Fatalf("the logged models lack %q:\n%s", want, section)
		}
	}
	link := regexp.MustCompile(`href="([^"]*artifact_file_path=MLmodel)"`).FindStringSubmatch(section)
	if link == nil {
		t.Fatalf("no link to the model's MLmodel:\n%s", section)
	}
	if body := get(html.UnescapeString(link[1])); body != "model_id: "+m.ModelID+"\n" {
		t.Fatalf("the model's MLmodel through the page's link: %q", body)
	}

	// The experiment's models (MLflow 3's Models tab): linked from the
	// runs page, each model with its run, latest metrics, params and
	// versions; searched with MLflow's logged-model filter.
	runs := get("/experiments/0")
	if !strings.Contains(runs, `href="/experiments/0/models" id="models-link"`) {
		t.Fatal("the experiment's page does not link its models")
	}
	// The runs table: how many models each run logged, linked to them.
	ml := regexp.MustCompile(`<td class="models"><a href="([^"]*)">1 logged</a>`).FindStringSubmatch(runs)
	if ml == nil {
		t.Fatalf("the runs table does not show the run's logged model:\n%s", runs)
	}
	if models := get(html.UnescapeString(ml[1])); !strings.Contains(models, m.ModelID) {
		t.Fatalf("the run's models (%s):\n%s", ml[1], models)
	}
	st.LogBatch(ctx, r.Info.RunID, []store.Metric{{Key: "acc", Value: 0.5, Timestamp: 1, ModelID: m.ModelID}, {Key: "acc", Value: 0.75, Timestamp: 2, Step: 1, ModelID: m.ModelID}}, nil, nil)
	st.LogLoggedModelParams(ctx, m.ModelID, []store.Param{{Key: "C", Value: "1.0"}})
	page = get("/experiments/0/models")
	for _, want := range []string{`<a href="/logged-models/` + m.ModelID + `">clf</a>`, m.ModelID, `href="/runs/` + r.Info.RunID + `"`, "acc=0.75", "C=1.0", `href="/models/iris">iris v1</a>`} {
		if !strings.Contains(page, want) {
			t.Fatalf("the experiment's models lack %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "acc=0.5") {
		t.Fatalf("an older metric value is shown:\n%s", page)
	}
	// The registered model's page links the version to its logged model.
	vl := regexp.MustCompile(`class="logged-model" href="([^"]*)">models:/` + m.ModelID + `</a>`).FindStringSubmatch(get("/models/iris"))
	if vl == nil {
		t.Fatalf("the version does not link its logged model:\n%s", get("/models/iris"))
	}
	if models := get(html.UnescapeString(vl[1])); !strings.Contains(models, `<span id="model-name">clf</span>`) {
		t.Fatalf("the version's logged model (%s):\n%s", vl[1], models)
	}
	// The logged model's own page (MLflow 3's): every metric with its
	// step and run, params, tags (not the versions list, shown apart),
	// its files to download, its registered version, its source run.
	one := get("/logged-models/" + m.ModelID)
	for _, want := range []string{"LOGGED_MODEL_READY", `id="source-run" href="/runs/` + r.Info.RunID + `"`, "<td>acc</td><td>0.5</td><td>0</td>", "<td>acc</td><td>0.75</td><td>1</td>",
		"<th>C</th><td>1.0</td>", `href="/models/iris">iris version 1</a>`, `artifact_file_path=MLmodel">MLmodel</a>`, `id="model-traces"`,
		`<pre class="log" id="mlmodel">model_id: ` + m.ModelID} {
		if !strings.Contains(one, want) {
			t.Fatalf("the logged model's page lacks %q:\n%s", want, one)
		}
	}
	if strings.Contains(one, "<th>mlflow.modelVersions</th>") {
		t.Fatalf("the logged model's page lists the versions tag among its tags")
	}
	resp, err := http.Get(srv.URL + "/logged-models/m-00000000000000000000000000000000")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("an unknown logged model's page: %d", resp.StatusCode)
	}
	// Its traces (MLflow 3 tags a trace with the active model's id).
	mine, err := st.StartTrace(ctx, "0", 1, []store.Tag{{Key: "mlflow.modelId", Value: m.ModelID}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := st.StartTrace(ctx, "0", 2, nil, nil)
	tl := regexp.MustCompile(`class="model-traces" href="([^"]*)"`).FindStringSubmatch(page)
	if tl == nil {
		t.Fatalf("no link to the model's traces:\n%s", page)
	}
	if traces := get(html.UnescapeString(tl[1])); !strings.Contains(traces, mine.RequestID) || strings.Contains(traces, other.RequestID) {
		t.Fatalf("the model's traces (%s) are not just its own:\n%s", tl[1], traces)
	}
	// The trace's page links back to its logged model.
	if tp := get("/traces/" + mine.RequestID); !strings.Contains(tp, `<a class="trace-model" href="/logged-models/`+m.ModelID+`">`) {
		t.Fatalf("the trace's page does not link its logged model:\n%s", tp)
	}
	if page := get("/experiments/0/models?filter=" + url.QueryEscape("metrics.acc > 0.9")); strings.Contains(page, m.ModelID) || !strings.Contains(page, "No logged models.") {
		t.Fatalf("filtered out, the model is still listed:\n%s", page)
	}
	if page := get("/experiments/0/models?filter=" + url.QueryEscape("name = 'clf' AND params.C = '1.0'")); !strings.Contains(page, m.ModelID) {
		t.Fatalf("filtered in, the model is not listed:\n%s", page)
	}
	if page := get("/experiments/0/models?filter=" + url.QueryEscape("colour = 'red'")); !strings.Contains(page, `id="search-error"`) {
		t.Fatalf("a bad filter shows no error:\n%s", page)
	}
}

// TestRunPageCapsLoggedModels: a run that logs a model a step (each a
// read of the model and a listing of its files on the page) shows its
// latest 20, and links the others on the experiment's models page.
func TestRunPageCapsLoggedModels(t *testing.T) {
	srv := testutil.StartServer(t, true)
	st, ctx := srv.Store, context.Background()
	r, err := st.CreateRun(ctx, store.CreateRun{ExperimentID: "0", RunName: "checkpoints"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for step := range 23 {
		m, err := st.CreateLoggedModel(ctx, store.LoggedModel{ExperimentID: "0", Name: fmt.Sprint("ckpt-", step), SourceRunID: r.Info.RunID})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.LogOutputs(ctx, r.Info.RunID, []store.ModelOutput{{ModelID: m.ModelID, Step: int64(step)}}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ModelID)
	}
	page := getPage(t, srv.URL+"/runs/"+r.Info.RunID)
	for i, id := range ids {
		if shown := strings.Contains(page, id); shown != (i >= 3) {
			t.Fatalf("model of step %d shown: %v", i, shown)
		}
	}
	more := regexp.MustCompile(`id="more-models"><a href="([^"]*)">3 earlier models</a>`).FindStringSubmatch(page)
	if more == nil {
		t.Fatalf("no link to the earlier models:\n%s", page)
	}
	all := getPage(t, srv.URL+html.UnescapeString(more[1]))
	for _, id := range ids {
		if !strings.Contains(all, id) {
			t.Fatalf("the run's models page lacks %s", id)
		}
	}
}
