package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/plugins/builtin/testdata"
	"github.com/mlrun/mlrun/runner/launch"
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
			// MLflow 3.6's log_model: a logged model, its URI printed.
			lines := strings.Split(strings.TrimSpace(out), "\n")
			ref := lines[len(lines)-1]
			modelID, ok := strings.CutPrefix(ref, "models:/m-")
			if !ok {
				t.Fatalf("log: %q", out)
			}
			modelID = "m-" + modelID
			st, err := openStore(context.Background(), uri, "")
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			lm, err := st.(store.LoggedModels).GetLoggedModel(context.Background(), modelID)
			if err != nil || lm.Name != "model" || lm.Status != "LOGGED_MODEL_READY" || lm.SourceRunID == "" {
				t.Fatalf("the logged model: %+v %v", lm, err)
			}
			if tag := tagValue(lm.Tags, "mlflow.modelVersions"); !strings.Contains(tag, `{"name": "booster", "version": 1}`) {
				t.Fatalf("the logged model's mlflow.modelVersions: %q", tag)
			}
			runID := lm.SourceRunID
			r, err := st.GetRun(context.Background(), runID)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Outputs) != 1 || r.Outputs[0].ModelID != modelID {
				t.Fatalf("the run's outputs: %+v", r.Outputs)
			}
			// As MLflow 3 keeps it: with the model, not in the run's files,
			// and no MLflow 2 log-model history.
			if hist, ok := r.Tag("mlflow.log-model.history"); ok {
				t.Fatalf("log-model history %q", hist)
			}
			if r.Info.Status != store.StatusFinished {
				t.Fatalf("the run made for the model is %s", r.Info.Status)
			}
			// It names this process as its driver: killed mid-way, the run
			// would be ended by the next mlrun (launch.Reap), not left RUNNING.
			if pid, _ := r.Tag(launch.TagRunnerPID); pid != strconv.Itoa(os.Getpid()) {
				t.Fatalf("the run made for the model has runner pid %q, want this process's", pid)
			}
			if v := mustRun(t, "models", "get", "booster", "1"); !strings.Contains(v, "models:/"+modelID) {
				t.Fatalf("version 1's source:\n%s", v)
			}
			dst := filepath.Join(t.TempDir(), "dl")
			mustRun(t, "models", "download", "models:/booster/1", "-d", dst)
			mm, err := os.ReadFile(filepath.Join(dst, "MLmodel"))
			if err != nil || !strings.Contains(string(mm), "xgb_version: 1.7.4") || !strings.Contains(string(mm), "loader_module: mlflow.xgboost") ||
				!strings.Contains(string(mm), "run_id: "+runID) || !strings.Contains(string(mm), "artifact_path: "+lm.ArtifactURI+"\n") ||
				!strings.Contains(string(mm), "model_id: "+modelID) || !strings.Contains(string(mm), "model_uuid: "+modelID) || !strings.Contains(string(mm), "mlflow_version: 3.6.0") {
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

// TestModelsLogIntoARun: logging into a run (as a step does, through
// MLFLOW_RUN_ID) gives the logged model what MLflow 3.6's log_model
// gives it: the run's params, its user and source tags, and its metrics
// at step 0 (linked to the model too); the model is reached as
// runs:/<run>/<name> though the run's own artifacts hold none of it.
func TestModelsLogIntoARun(t *testing.T) {
	withFlavors(t)
	t.Chdir(t.TempDir()) // the Default experiment's artifacts go to ./mlruns
	path := filepath.Join(t.TempDir(), "m3.db")
	testutil.NewMLflow3DB(t, path, "")
	uri := "sqlite:///" + path
	t.Setenv("MLFLOW_TRACKING_URI", uri)
	st, err := openStore(context.Background(), uri, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	r, err := st.CreateRun(ctx, store.CreateRun{ExperimentID: "0", UserID: "ann", StartTime: 1,
		Tags: []store.Tag{{Key: "mlflow.user", Value: "ann"}, {Key: "mlflow.source.name", Value: "train.py"}, {Key: "mlflow.source.type", Value: "LOCAL"}, {Key: "team", Value: "x"}}})
	if err != nil {
		t.Fatal(err)
	}
	runID := r.Info.RunID
	if err := st.LogBatch(ctx, runID, []store.Metric{{Key: "rmse", Value: 0.5, Timestamp: 10, Step: 0}, {Key: "rmse", Value: 0.4, Timestamp: 11, Step: 1}, {Key: "r2", Value: 0.9, Timestamp: 12}},
		[]store.Param{{Key: "alpha", Value: "0.1"}}, nil); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MLFLOW_RUN_ID", runID)
	out := mustRun(t, "models", "log", testdata.Path("onnx/linear.onnx"), "--name", "net")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	id := strings.TrimPrefix(lines[len(lines)-1], "models:/")
	lm, err := st.(store.LoggedModels).GetLoggedModel(ctx, id)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if lm.Name != "net" || lm.SourceRunID != runID || lm.Status != "LOGGED_MODEL_READY" || lm.ModelType != "" {
		t.Fatalf("the logged model: %+v", lm)
	}
	if len(lm.Params) != 1 || lm.Params[0] != (store.Param{Key: "alpha", Value: "0.1"}) {
		t.Fatalf("the logged model's params: %+v", lm.Params)
	}
	if tagValue(lm.Tags, "mlflow.user") != "ann" || tagValue(lm.Tags, "mlflow.source.name") != "train.py" || tagValue(lm.Tags, "team") != "" {
		t.Fatalf("the logged model's tags: %+v", lm.Tags)
	}
	var linked []string
	for _, m := range lm.Metrics {
		linked = append(linked, fmt.Sprintf("%s@%d=%g", m.Key, m.Step, m.Value))
	}
	if slices.Sort(linked); strings.Join(linked, " ") != "r2@0=0.9 rmse@0=0.5" {
		t.Fatalf("the logged model's metrics: %v", linked)
	}
	// The same points, linked (MLflow's metrics key has no model id):
	// the run's history is not doubled.
	if hist, _, err := st.GetMetricHistory(ctx, runID, "rmse", 0, ""); err != nil || len(hist) != 2 {
		t.Fatalf("the run's rmse history: %+v %v", hist, err)
	}
	// --step: the run's output at that step, its metrics there linked.
	out = mustRun(t, "models", "log", testdata.Path("onnx/linear.onnx"), "--name", "net-1", "--step", "1")
	lines = strings.Split(strings.TrimSpace(out), "\n")
	at1, err := st.(store.LoggedModels).GetLoggedModel(ctx, strings.TrimPrefix(lines[len(lines)-1], "models:/"))
	if err != nil || len(at1.Metrics) != 1 || at1.Metrics[0].Key != "rmse" || at1.Metrics[0].Value != 0.4 {
		t.Fatalf("the model logged at step 1: %+v %v", at1, err)
	}
	if r, _ := st.GetRun(ctx, runID); len(r.Outputs) != 2 || r.Outputs[1] != (store.ModelOutput{ModelID: at1.ModelID, Step: 1}) {
		t.Fatalf("the run's outputs: %+v", r.Outputs)
	}
	// --tag, --param, --model-type, as log_model(tags=, params=,
	// model_type=): the run's params win; the tags go to the version too.
	out = mustRun(t, "models", "log", testdata.Path("onnx/linear.onnx"), "--name", "tagged", "--tag", "stage=dev", "--tag", "mlflow.user=bob",
		"--param", "alpha=9", "--param", "beta=2", "--model-type", "regressor", "--registered-model-name", "reg")
	lines = strings.Split(strings.TrimSpace(out), "\n")
	tm, err := st.(store.LoggedModels).GetLoggedModel(ctx, strings.TrimPrefix(lines[len(lines)-1], "models:/"))
	if err != nil || tm.ModelType != "regressor" || tagValue(tm.Tags, "stage") != "dev" || tagValue(tm.Tags, "mlflow.user") != "bob" || tagValue(tm.Tags, "mlflow.source.name") != "train.py" {
		t.Fatalf("the tagged model: %+v %v", tm, err)
	}
	got := map[string]string{}
	for _, p := range tm.Params {
		got[p.Key] = p.Value
	}
	if len(got) != 2 || got["alpha"] != "0.1" || got["beta"] != "2" {
		t.Fatalf("the tagged model's params: %v", got)
	}
	if v := squash(mustRun(t, "models", "get", "reg", "1")); !strings.Contains(v, "tag stage dev") {
		t.Fatalf("the version's tags:\n%s", v)
	}
	if _, err := mlrun(t, "models", "log", testdata.Path("onnx/linear.onnx"), "--param", "nokey"); err == nil || !strings.Contains(err.Error(), `--param "nokey": want KEY=VALUE`) {
		t.Fatalf("a bad --param: %v", err)
	}
	if files, err := mlrun(t, "artifacts", "list", "--run-id", runID); err != nil || strings.Contains(files, "net") {
		t.Fatalf("the run's own artifacts: %v %s", err, files)
	}
	dst := t.TempDir()
	mustRun(t, "models", "download", "runs:/"+runID+"/net", "-d", dst)
	if mm, err := os.ReadFile(filepath.Join(dst, "MLmodel")); err != nil || !strings.Contains(string(mm), "model_id: "+id) {
		t.Fatalf("runs:/<run>/net: %v %s", err, mm)
	}
}

// TestModelsLogOnMLflow2Database: a database still at MLflow 2.17.2's
// schema keeps no logged models, so the model goes where MLflow 2's
// log_model puts it: the run's artifacts, and its log-model history;
// the same through a server on such a database (its logged-model calls
// answer 501, as an MLflow 2 server's are missing).
func TestModelsLogOnMLflow2Database(t *testing.T) {
	withFlavors(t)
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "testdata", "mlflow-2.17.2", "mlflow.db"))
	if err != nil {
		t.Fatalf("the MLflow 2.17.2 fixture is missing: %v", err)
	}
	t.Chdir(t.TempDir())
	for _, via := range []string{"sqlite", "http"} {
		t.Run(via, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m2.db")
			os.WriteFile(path, b, 0o644)
			st, err := openStore(context.Background(), "sqlite:///"+path, "")
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			uri := "sqlite:///" + path
			if via == "http" { // the server answers logged-model calls 501 there
				uri = testutil.StartServerOn(t, st.(testutil.FullStore), t.TempDir(), true).URL
			}
			t.Setenv("MLFLOW_TRACKING_URI", uri)
			t.Setenv("MLFLOW_RUN_ID", "")
			out := mustRun(t, "models", "log", testdata.Path("onnx/linear.onnx"), "--registered-model-name", "net2")
			lines := strings.Split(strings.TrimSpace(out), "\n")
			ref := lines[len(lines)-1]
			runID, ok := strings.CutSuffix(strings.TrimPrefix(ref, "runs:/"), "/model")
			if !ok || !strings.HasPrefix(ref, "runs:/") {
				t.Fatalf("log: %q", out)
			}
			r, err := st.GetRun(context.Background(), runID)
			if err != nil {
				t.Fatal(err)
			}
			hist, _ := r.Tag("mlflow.log-model.history")
			var models []map[string]any
			if err := json.Unmarshal([]byte(hist), &models); err != nil || len(models) != 1 || models[0]["artifact_path"] != "model" || models[0]["flavors"] == nil {
				t.Fatalf("log-model history %q: %v", hist, err)
			}
			dst := t.TempDir()
			mustRun(t, "models", "download", "models:/net2/1", "-d", dst)
			if mm, err := os.ReadFile(filepath.Join(dst, "MLmodel")); err != nil || !strings.Contains(string(mm), "artifact_path: model\n") || strings.Contains(string(mm), "model_id") {
				t.Fatalf("MLmodel: %v %s", err, mm)
			}
		})
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

// TestModelsLogPinsTheLoggingEnvironment: what a model file cannot tell
// (cloudpickle's version for a pickle, onnx's and onnxruntime's for an ONNX
// file, the Python version) is pinned to the Python environment the model
// is logged from, as MLflow pins to the process that calls log_model: here
// a real python3 whose path holds package metadata of chosen versions (one
// with a local version label, which MLflow strips). Without a Python the
// model is still logged, unpinned, with one line saying so.
func TestModelsLogPinsTheLoggingEnvironment(t *testing.T) {
	withFlavors(t)
	site := t.TempDir()
	for pkg, version := range map[string]string{"cloudpickle": "3.0.0+cpu", "onnx": "1.16.2", "onnxruntime": "1.19.0"} {
		info := filepath.Join(site, pkg+"-"+version+".dist-info")
		if err := os.Mkdir(info, 0o755); err != nil {
			t.Fatal(err)
		}
		meta := "Metadata-Version: 2.1\nName: " + pkg + "\nVersion: " + version + "\n"
		if err := os.WriteFile(filepath.Join(info, "METADATA"), []byte(meta), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PYTHONPATH", site)
	pyver, err := exec.Command("python3", "-c", "import platform; print(platform.python_version())").Output()
	if err != nil {
		t.Fatalf("python3 (install python3): %v", err)
	}
	t.Setenv("MLFLOW_TRACKING_URI", trackingURIs(t)["sqlite"])
	t.Setenv("MLFLOW_RUN_ID", "")
	logged := func(file string, args ...string) (reqs, mlmodel, out string) {
		t.Helper()
		out = mustRun(t, append([]string{"models", "log", testdata.Path(file)}, args...)...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		dst := filepath.Join(t.TempDir(), "dl")
		mustRun(t, "models", "download", lines[len(lines)-1], "-d", dst)
		r, err1 := os.ReadFile(filepath.Join(dst, "requirements.txt"))
		m, err2 := os.ReadFile(filepath.Join(dst, "MLmodel"))
		if err1 != nil || err2 != nil {
			t.Fatalf("download: %v %v", err1, err2)
		}
		return string(r), string(m), out
	}
	reqs, mm, _ := logged("sklearn/pipeline_p4.pkl")
	if want := "cloudpickle==3.0.0\n"; !strings.Contains(reqs, want) || !strings.Contains(reqs, "scikit-learn==1.2.1") {
		t.Errorf("sklearn requirements.txt lacks %q (and the file's own scikit-learn==1.2.1):\n%s", want, reqs)
	}
	if want := "python_version: " + strings.TrimSpace(string(pyver)); !strings.Contains(mm, want) {
		t.Errorf("MLmodel lacks %q:\n%s", want, mm)
	}
	reqs, mm, _ = logged("onnx/linear.onnx")
	if !strings.Contains(reqs, "onnx==1.16.2\n") || !strings.HasSuffix(reqs, "onnxruntime==1.19.0") {
		t.Errorf("onnx requirements.txt:\n%s", reqs)
	}
	if !strings.Contains(mm, "onnx_version: 1.16.2") {
		t.Errorf("MLmodel lacks onnx_version 1.16.2:\n%s", mm)
	}
	reqs, _, out := logged("sklearn/pipeline_p4.pkl", "--python", filepath.Join(site, "no-python"))
	if !strings.Contains(out, "requirements left unpinned") || !strings.Contains(out, "no-python") {
		t.Errorf("no line about the missing Python:\n%s", out)
	}
	if !strings.Contains(reqs, "cloudpickle\n") || strings.Contains(reqs, "cloudpickle==") {
		t.Errorf("without a Python, cloudpickle must stay unpinned:\n%s", reqs)
	}
	// A bare environment (a venv without system packages) has neither.
	venv := filepath.Join(t.TempDir(), "venv")
	if out, err := exec.Command("python3", "-m", "venv", "--without-pip", venv).CombinedOutput(); err != nil {
		t.Fatalf("python3 -m venv (install python3-venv): %v\n%s", err, out)
	}
	t.Setenv("PYTHONPATH", "")
	python := filepath.Join(venv, "bin", "python3")
	_, _, out = logged("onnx/linear.onnx", "--python", python)
	if !strings.Contains(out, "onnx, onnxruntime not installed in "+python+": left unpinned") {
		t.Errorf("no line about the packages not installed:\n%s", out)
	}
}

// TestModelsLogInputExample: --input-example saves the example as MLflow's
// log_model saves input_example (input_example.json, the serving example,
// saved_input_example_info) and, for a file that states no signature,
// makes its columns the signature's inputs, which serving then enforces.
// A bad example is refused before anything is logged.
func TestModelsLogInputExample(t *testing.T) {
	withFlavors(t)
	t.Chdir(t.TempDir())
	path := filepath.Join(t.TempDir(), "m3.db")
	testutil.NewMLflow3DB(t, path, "")
	uri := "sqlite:///" + path
	t.Setenv("MLFLOW_TRACKING_URI", uri)
	t.Setenv("MLFLOW_RUN_ID", "")
	os.WriteFile("ex.json", []byte(`{"dataframe_split": {"columns": ["f0", "f1", "f2", "f3"], "data": [[0.1, 1, 2.5, 3], [0.2, 0, 1.5, 4]]}}`), 0o644)
	out := mustRun(t, "models", "log", testdata.Path("xgboost/binary.json"), "--input-example", "ex.json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	model := lines[len(lines)-1]
	dl := filepath.Join(t.TempDir(), "dl")
	mustRun(t, "models", "download", model, "-d", dl)
	mm, _ := os.ReadFile(filepath.Join(dl, "MLmodel"))
	var doc struct {
		Signature struct{ Inputs, Outputs *string } `yaml:"signature"`
		Info      map[string]string                 `yaml:"saved_input_example_info"`
	}
	if err := yaml.Unmarshal(mm, &doc); err != nil || doc.Signature.Inputs == nil || doc.Signature.Outputs != nil ||
		*doc.Signature.Inputs != `[{"type": "double", "name": "f0", "required": true}, {"type": "long", "name": "f1", "required": true}, {"type": "double", "name": "f2", "required": true}, {"type": "long", "name": "f3", "required": true}]` ||
		doc.Info["artifact_path"] != "input_example.json" || doc.Info["serving_input_path"] != "serving_input_example.json" || doc.Info["type"] != "dataframe" {
		t.Fatalf("MLmodel: %v\n%s", err, mm)
	}
	if b, _ := os.ReadFile(filepath.Join(dl, "input_example.json")); string(b) != `{"columns": ["f0", "f1", "f2", "f3"], "data": [[0.1, 1, 2.5, 3], [0.2, 0, 1.5, 4]]}` {
		t.Fatalf("input_example.json: %s", b)
	}
	// The serving example scores; a request without f3 is refused by the
	// schema, as MLflow's scoring server refuses it.
	pred := mustRun(t, "models", "predict", "-m", model, "-i", filepath.Join(dl, "serving_input_example.json"))
	if !strings.Contains(pred, `"predictions"`) {
		t.Fatalf("predict the serving example: %s", pred)
	}
	os.WriteFile("bad.json", []byte(`{"dataframe_split": {"columns": ["f0", "f1", "f2"], "data": [[0.1, 1, 2.5]]}}`), 0o644)
	if _, err := mlrun(t, "models", "predict", "-m", model, "-i", "bad.json"); err == nil || !strings.Contains(err.Error(), "Model is missing inputs ['f3']") {
		t.Fatalf("a request without f3: %v", err)
	}
	// ONNX states its signature (tensors): the example does not replace it.
	onnxOut := mustRun(t, "models", "log", testdata.Path("onnx/linear.onnx"), "--input-example", "ex.json")
	lines = strings.Split(strings.TrimSpace(onnxOut), "\n")
	dl2 := filepath.Join(t.TempDir(), "dl2")
	mustRun(t, "models", "download", lines[len(lines)-1], "-d", dl2)
	if mm, _ := os.ReadFile(filepath.Join(dl2, "MLmodel")); !strings.Contains(string(mm), "tensor") || !strings.Contains(string(mm), "saved_input_example_info") {
		t.Fatalf("ONNX MLmodel:\n%s", mm)
	}

	st, err := openStore(context.Background(), uri, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	before, _, _ := st.SearchRuns(context.Background(), store.SearchRuns{ExperimentIDs: []string{"0"}})
	os.WriteFile("mixed.json", []byte(`{"dataframe_records": [{"a": 1}, {"a": "x"}]}`), 0o644)
	if _, err := mlrun(t, "models", "log", testdata.Path("xgboost/binary.json"), "--input-example", "mixed.json"); err == nil || !strings.Contains(err.Error(), `column "a" mixes kinds of values`) {
		t.Fatalf("a bad example: %v", err)
	}
	if after, _, _ := st.SearchRuns(context.Background(), store.SearchRuns{ExperimentIDs: []string{"0"}}); len(after) != len(before) {
		t.Fatalf("a refused example left a run: %d runs, were %d", len(after), len(before))
	}
}
