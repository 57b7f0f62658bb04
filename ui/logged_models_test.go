package ui_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/store"
)

// TestRunPageListsLoggedModels: MLflow 3's log_model (and mlrun's
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
	get := func(path string) string {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
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
}
