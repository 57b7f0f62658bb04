package server_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/artifact/local"
	"github.com/mlrun/mlrun/server"
	"github.com/mlrun/mlrun/store/sqlite"
)

// copyTree copies a folder (the fixture's artifacts) into dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// mlflow36Server serves a copy of the database MLflow 3.6 wrote (in a
// test folder) and returns its URL and the copy's path.
func mlflow36Server(t *testing.T) (url, path string) {
	return mlflow36ServerWith(t, nil)
}

// mlflow36ServerWith is mlflow36Server with prepare run on the copy, as
// plain SQL, before mlrun opens it.
func mlflow36ServerWith(t *testing.T, prepare func(db *sql.DB)) (url, path string) {
	t.Helper()
	b, err := os.ReadFile("../../shared/testdata/mlflow-3.6/mlflow.db")
	if err != nil {
		t.Fatalf("the MLflow 3.6 fixture is missing: %v", err)
	}
	path = filepath.Join(t.TempDir(), "mlflow.db")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		db, err := sql.Open("sqlite3", path)
		if err != nil {
			t.Fatal(err)
		}
		prepare(db)
		db.Close()
	}
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(st, server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	t.Cleanup(func() { srv.Close(); st.Close() })
	return srv.URL, path
}

// TestServesMLflow36Database serves a copy of the database and artifacts
// MLflow 3.6 wrote: runs with their model inputs and outputs, logged
// models with their metrics, the searches MLflow 3's client sends by
// itself, the registry, and artifacts through the proxy and run listing.
func TestServesMLflow36Database(t *testing.T) {
	const fixture = "../../shared/testdata/mlflow-3.6"
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join(fixture, "mlflow.db"))
	if err != nil {
		t.Fatalf("the MLflow 3.6 fixture is missing: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "mlflow.db"), b, 0o644)
	dest := filepath.Join(dir, "mlartifacts")
	copyTree(t, filepath.Join(fixture, "mlartifacts"), dest)
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "mlflow.db"), sqlite.Options{ArtifactRoot: "mlflow-artifacts:/"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := httptest.NewServer(server.New(st, server.Options{Artifacts: local.New(dest), ArtifactRoots: []string{dest}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer srv.Close()
	ts := &testServer{url: srv.URL, store: st, dir: dir}
	const api = "/api/2.0/mlflow"
	const train1, model1 = "5f6d2d27311246c78f96b33b716cdc4a", "m-bd2ded587a44407892455c38615f9805"

	get := func(path string) map[string]any {
		t.Helper()
		status, body := ts.do(t, "GET", path, "", nil)
		var m map[string]any
		if status != 200 || json.Unmarshal(body, &m) != nil {
			t.Fatalf("GET %s: %d %s", path, status, body)
		}
		return m
	}
	run := get(api + "/runs/get?run_id=" + train1)["run"].(map[string]any)
	inputs, _ := json.Marshal(run["inputs"])
	outputs, _ := json.Marshal(run["outputs"])
	if !strings.Contains(string(inputs), `"model_inputs":[{"model_id":"`+model1+`"}]`) || !strings.Contains(string(inputs), `"name":"iris"`) ||
		!strings.Contains(string(outputs), `"model_id":"`+model1+`"`) {
		t.Fatalf("train-1 inputs %s outputs %s", inputs, outputs)
	}
	lm := get(api + "/logged-models/" + model1)["model"].(map[string]any)
	data, _ := json.Marshal(lm["data"])
	if strings.Count(string(data), `"model_id":"`+model1+`"`) != 4 || !strings.Contains(string(data), `"dataset_name":"iris"`) || !strings.Contains(string(data), `"key":"val_acc"`) {
		t.Fatalf("logged model data %s", data)
	}
	// What MLflow 3's client sends from list_artifacts and runs:/ URIs.
	status, m := ts.post(t, api+"/logged-models/search", map[string]any{"experiment_ids": []string{"1"}, "filter": "name = 'model' AND source_run_id = '" + train1 + "'"})
	if status != 200 || len(m["models"].([]any)) != 1 {
		t.Fatalf("search with the client's filter: %d %v", status, m)
	}
	status, m = ts.post(t, api+"/logged-models/search", map[string]any{"experiment_ids": []string{"1"},
		"order_by": []map[string]any{{"field_name": "metrics.acc", "ascending": false}}})
	if status != 200 || len(m["models"].([]any)) != 2 || m["models"].([]any)[0].(map[string]any)["info"].(map[string]any)["model_id"] != model1 {
		t.Fatalf("search ordered by acc: %d %v", status, m)
	}
	v := get(api + "/model-versions/get?name=m&version=1")["model_version"].(map[string]any)
	if v["source"] != "models:/"+model1 {
		t.Fatalf("m v1: %v", v)
	}
	// A version's files, its source a models:/<model_id> URI.
	if status, body := ts.do(t, "GET", "/model-versions/get-artifact?name=m&version=1&path=MLmodel", "", nil); status != 200 || !strings.Contains(string(body), "flavors") {
		t.Fatalf("model-versions/get-artifact: %d %s", status, body)
	}
	// A version registered from runs:/<run>/model, which MLflow 3's run
	// keeps as a logged model, not in its own artifacts: its files are
	// the model's (registry.ResolveRunsURI).
	if status, m := ts.post(t, api+"/model-versions/create", map[string]any{"name": "m", "source": "runs:/" + train1 + "/model", "run_id": train1}); status != 200 {
		t.Fatalf("a version from runs:/…/model: %d %v", status, m)
	}
	if status, body := ts.do(t, "GET", "/model-versions/get-artifact?name=m&version=3&path=MLmodel", "", nil); status != 200 || !strings.Contains(string(body), "model_id: "+model1) {
		t.Fatalf("model-versions/get-artifact of a runs:/ version: %d %s", status, body)
	}
	if status, _ := ts.do(t, "GET", "/model-versions/get-artifact?name=m&version=1&path=../../../../etc/passwd", "", nil); status != 400 {
		t.Fatalf("model-versions/get-artifact with '..': %d", status)
	}
	// A logged model's files: MLflow 3's ListLoggedModelArtifacts and the
	// UI's artifacts/files, through the proxy's destination.
	lmFiles, _ := json.Marshal(get(api + "/logged-models/" + model1 + "/artifacts/directories")["files"])
	if !strings.Contains(string(lmFiles), `"is_dir":false,"path":"MLmodel"`) || !strings.Contains(string(lmFiles), `"path":"model.pkl"`) {
		t.Fatalf("the logged model's files: %s", lmFiles)
	}
	if root := get(api + "/logged-models/" + model1 + "/artifacts/directories")["root_uri"]; root != "mlflow-artifacts:/1/models/"+model1+"/artifacts" {
		t.Fatalf("the logged model's root: %v", root)
	}
	if status, body := ts.do(t, "GET", "/ajax-api/2.0/mlflow/logged-models/"+model1+"/artifacts/files?artifact_file_path=MLmodel", "", nil); status != 200 || !strings.Contains(string(body), "flavors") {
		t.Fatalf("logged-models/…/artifacts/files: %d %s", status, body)
	}
	for path, want := range map[string]int{
		"/ajax-api/2.0/mlflow/logged-models/" + model1 + "/artifacts/files?artifact_file_path=../../../../mlflow.db": 400,
		"/ajax-api/2.0/mlflow/logged-models/" + model1 + "/artifacts/files":                                          400,
		api + "/logged-models/" + model1 + "/artifacts/directories?artifact_directory_path=../..":                    400,
		api + "/logged-models/m-0123456789abcdef0123456789abcdef/artifacts/directories":                              404,
	} {
		if status, body := ts.do(t, "GET", path, "", nil); status != want {
			t.Errorf("GET %s: %d %s, want %d", path, status, body, want)
		}
	}
	alias := get(api + "/registered-models/alias?name=m&alias=challenger")["model_version"].(map[string]any)
	if alias["version"] != "2" {
		t.Fatalf("challenger: %v", alias)
	}
	list := get(api + "/artifacts/list?run_id=" + train1)
	files, _ := json.Marshal(list["files"])
	for _, want := range []string{`"path":"notes"`, `"path":"config.json"`, `"path":"data"`} {
		if !strings.Contains(string(files), want) {
			t.Fatalf("train-1 artifacts %s lack %s", files, want)
		}
	}
	if status, body := ts.do(t, "GET", "/get-artifact?run_id="+train1+"&path=notes/hello.txt", "", nil); status != 200 || len(body) == 0 {
		t.Fatalf("notes/hello.txt: %d", status)
	}
	// Writing keeps it MLflow 3.6's: a new logged model with a metric.
	status, m = ts.post(t, api+"/logged-models", map[string]any{"experiment_id": "1", "name": "again", "source_run_id": train1})
	if status != 200 {
		t.Fatalf("create a logged model: %d %v", status, m)
	}
	id := m["model"].(map[string]any)["info"].(map[string]any)["model_id"].(string)
	if status, m := ts.post(t, api+"/runs/log-metric", map[string]any{"run_id": train1, "key": "acc2", "value": 0.5, "timestamp": 1, "model_id": id}); status != 200 {
		t.Fatalf("a metric with model_id: %d %v", status, m)
	}
	if d, _ := json.Marshal(get(api + "/logged-models/" + id)["model"].(map[string]any)["data"]); !strings.Contains(string(d), `"key":"acc2"`) {
		t.Fatalf("the new model's metrics: %s", d)
	}
}

// TestMissingRunArtifactPathListsEmpty: MLflow 3's RunsArtifactRepository
// lists runs:/<run>/model as the run's files plus the logged model's
// (found by the search tested above); the run's part must be an empty
// 200, not an error, for a path the run does not have, on both the
// proxy's listing and artifacts/list, so the model's files are used.
func TestMissingRunArtifactPathListsEmpty(t *testing.T) {
	ts := newServer(t)
	_, m := ts.post(t, "/api/2.0/mlflow/runs/create", map[string]any{"experiment_id": "0"})
	run := m["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
	if status, body := ts.do(t, "GET", "/api/2.0/mlflow-artifacts/artifacts?path=0/"+run+"/artifacts/model", "", nil); status != 200 || string(body) != "{}" {
		t.Fatalf("proxy listing of a missing path: %d %s", status, body)
	}
	status, body := ts.do(t, "GET", "/api/2.0/mlflow/artifacts/list?run_id="+run+"&path=model", "", nil)
	if status != 200 || strings.Contains(string(body), `"files"`) || !strings.Contains(string(body), `"root_uri"`) {
		t.Fatalf("artifacts/list of a missing path: %d %s", status, body)
	}
}
