package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/plugins/builtin/testdata"
	"github.com/mlrun/mlrun/store"
)

// withFlavors makes the built-in flavors runnable: the test binary is not
// mlrun, so build mlrun and point the plugin path at a folder holding the
// built-in flavor executables.
func withFlavors(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"sklearn", "xgboost", "onnx"} {
		build := exec.Command("go", "build", "-o", filepath.Join(dir, "mlrun-flavor-"+f), "../mlrun-flavor-"+f)
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build flavor %s: %v\n%s", f, err, out)
		}
	}
	t.Setenv("MLRUN_PLUGIN_PATH", dir)
}

func TestModelsInspectAndLog(t *testing.T) {
	withFlavors(t)
	out := squash(mustRun(t, "models", "inspect", testdata.Path("sklearn/pipeline_p4.pkl")))
	if !strings.Contains(out, "flavor sklearn") || !strings.Contains(out, "estimator sklearn.pipeline.Pipeline") || !strings.Contains(out, "sklearn_version 1.2.1") {
		t.Fatalf("inspect: %s", out)
	}
	out = mustRun(t, "models", "inspect", "--json", testdata.Path("onnx/linear.onnx"))
	var js struct {
		Flavor string
		Facts  map[string]string
	}
	json.Unmarshal([]byte(out), &js)
	if js.Flavor != "onnx" || js.Facts["ir_version"] != "8" {
		t.Fatalf("inspect --json: %s", out)
	}
	if _, err := mlrun(t, "models", "inspect", testdata.Path("sklearn/evil_system.pkl")); err == nil || !strings.Contains(err.Error(), "posix.system") {
		t.Fatalf("evil pickle: %v", err)
	}
	for name, uri := range trackingURIs(t) {
		t.Run(name, func(t *testing.T) {
			t.Setenv("MLFLOW_TRACKING_URI", uri)
			t.Setenv("MLFLOW_RUN_ID", "")
			t.Chdir(t.TempDir())
			out := mustRun(t, "models", "log", testdata.Path("xgboost/binary.json"), "--registered-model-name", "booster")
			lines := strings.Split(strings.TrimSpace(out), "\n")
			ref := lines[len(lines)-1]
			if !strings.HasPrefix(ref, "runs:/") || !strings.HasSuffix(ref, "/model") {
				t.Fatalf("log: %q", out)
			}
			runID := strings.Split(strings.TrimPrefix(ref, "runs:/"), "/")[0]
			st, err := openStore(context.Background(), uri, "")
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			r, err := st.GetRun(context.Background(), runID)
			if err != nil {
				t.Fatal(err)
			}
			hist, _ := r.Tag("mlflow.log-model.history")
			var models []map[string]any
			if err := json.Unmarshal([]byte(hist), &models); err != nil || len(models) != 1 || models[0]["artifact_path"] != "model" || models[0]["flavors"] == nil {
				t.Fatalf("log-model history %q: %v", hist, err)
			}
			if r.Info.Status != store.StatusFinished {
				t.Fatalf("the run made for the model is %s", r.Info.Status)
			}
			dst := filepath.Join(t.TempDir(), "dl")
			mustRun(t, "models", "download", "models:/booster/1", "-d", dst)
			mm, err := os.ReadFile(filepath.Join(dst, "MLmodel"))
			if err != nil || !strings.Contains(string(mm), "xgb_version: 1.7.4") || !strings.Contains(string(mm), "loader_module: mlflow.xgboost") ||
				!strings.Contains(string(mm), "run_id: "+runID) || !strings.Contains(string(mm), "artifact_path: model\n") {
				t.Fatalf("downloaded MLmodel: %v\n%s", err, mm)
			}
			if strings.Contains(string(mm), "signature") {
				t.Fatalf("an inferred signature was written (MLflow writes none without an input example):\n%s", mm)
			}
			if _, err := os.Stat(filepath.Join(dst, "model.json")); err != nil {
				t.Fatalf("model file not downloaded: %v", err)
			}
		})
	}
}

// TestModelsLogWritesLoggedModelsOnMLflow3Databases: on a database
// upgraded by MLflow 3, models log also writes the logged-model record.
func TestModelsLogWritesLoggedModelsOnMLflow3Databases(t *testing.T) {
	withFlavors(t)
	t.Chdir(t.TempDir()) // the Default experiment's artifacts go to ./mlruns
	path := filepath.Join(t.TempDir(), "m3.db")
	testutil.NewMLflow3DB(t, path, "")
	t.Setenv("MLFLOW_TRACKING_URI", "sqlite:///"+path)
	t.Setenv("MLFLOW_RUN_ID", "")
	out := mustRun(t, "models", "log", testdata.Path("onnx/linear.onnx"))
	if !strings.Contains(out, "Logged model m-") {
		t.Fatalf("no logged-model record: %s", out)
	}
	st, err := openStore(context.Background(), "sqlite:///"+path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ms, _, err := st.(store.LoggedModels).SearchLoggedModels(context.Background(), store.SearchLoggedModels{ExperimentIDs: []string{"0"}, MaxResults: 10})
	if err != nil || len(ms) != 1 || ms[0].Status != "LOGGED_MODEL_READY" || ms[0].ModelType != "onnx" {
		t.Fatalf("logged models: %+v %v", ms, err)
	}
	if _, err := os.Stat(filepath.Join(strings.TrimPrefix(ms[0].ArtifactURI, "file://"), "MLmodel")); err != nil {
		t.Fatalf("the logged model's files: %v", err)
	}
}

// TestModelsLogSendsStartTime: the run `models log` makes for a model
// carries start_time and user_id in its create call, as MLflow's client
// sends them (MLflow's server fills in neither; mlrun's did, which hid
// it): the call is read on its way to a real mlrun server.
func TestModelsLogSendsStartTime(t *testing.T) {
	withFlavors(t)
	proxyURL, check := testutil.CreateRunRecorder(t)
	t.Setenv("MLFLOW_RUN_ID", "")
	mustRun(t, "models", "log", "--tracking-uri", proxyURL, testdata.Path("onnx/linear.onnx"))
	check(t)
}
