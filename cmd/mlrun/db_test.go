package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/artifact/local"
	"github.com/mlrun/mlrun/server"
	"github.com/mlrun/mlrun/store"
)

// TestDBCommands: current, upgrade (on a copy of the database MLflow
// 2.17.2 wrote), init at MLflow 2.17.2's revision, and backup.
func TestDBCommands(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("../../../shared/testdata/mlflow-2.17.2/mlflow.db")
	if err != nil {
		t.Fatalf("the MLflow 2.17.2 fixture is missing: %v", err)
	}
	db := filepath.Join(dir, "mlflow.db")
	os.WriteFile(db, b, 0o644)
	uri := "sqlite:///" + db
	if out := mustRun(t, "db", "current", uri); !strings.HasPrefix(out, "f5a4f2784254 ") {
		t.Fatalf("current: %q", out)
	}
	if out := mustRun(t, "db", "upgrade", uri); !strings.Contains(out, "from revision f5a4f2784254 to bf29a5ff90ea") {
		t.Fatalf("upgrade: %q", out)
	}
	if out := mustRun(t, "db", "current", uri); !strings.HasPrefix(out, "bf29a5ff90ea ") {
		t.Fatalf("current after upgrade: %q", out)
	}
	if out := mustRun(t, "runs", "get", "--run-id", "7350075c2b7d4c8aa8fff1ab467f84c0", "--tracking-uri", uri); !strings.Contains(out, "elasticnet-0") {
		t.Fatalf("a run after the upgrade: %q", out)
	}
	old := filepath.Join(dir, "old.db")
	if out := mustRun(t, "db", "init", "--revision", "f5a4f2784254", "sqlite:///"+old); !strings.Contains(out, "at revision f5a4f2784254") {
		t.Fatalf("init: %q", out)
	}
	if _, err := mlrun(t, "db", "init", "sqlite:///"+old); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("init over an existing file: %v", err)
	}
	if _, err := mlrun(t, "db", "current", "sqlite:///"+filepath.Join(dir, "none.db")); err == nil {
		t.Fatal("current of a missing database created it")
	}
	dest := filepath.Join(dir, "backup.db")
	if out := mustRun(t, "db", "backup", "--tracking-uri", uri, dest); !strings.Contains(out, "Backed up") {
		t.Fatalf("backup: %q", out)
	}
	if out := mustRun(t, "runs", "get", "--run-id", "7350075c2b7d4c8aa8fff1ab467f84c0", "--tracking-uri", "sqlite:///"+dest); !strings.Contains(out, "elasticnet-0") {
		t.Fatalf("a run in the backup: %q", out)
	}
}

// serveMLflow36 serves a copy of the MLflow 3.6 database and its
// artifacts (shared/testdata) from an mlrun server, and returns its URL,
// its store and the artifacts' folder.
func serveMLflow36(t *testing.T) (string, store.Store, string) {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile("../../../shared/testdata/mlflow-3.6/mlflow.db")
	if err != nil {
		t.Fatalf("the MLflow 3.6 fixture is missing: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "mlflow.db"), b, 0o644)
	art := filepath.Join(dir, "mlartifacts")
	if out, err := exec.Command("cp", "-r", "../../../shared/testdata/mlflow-3.6/mlartifacts", art).CombinedOutput(); err != nil {
		t.Fatalf("copy artifacts: %v %s", err, out)
	}
	st, err := openStore(context.Background(), "sqlite:///"+filepath.Join(dir, "mlflow.db"), "mlflow-artifacts:/")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := httptest.NewServer(server.New(st, server.Options{Artifacts: local.New(art), ArtifactRoots: []string{art}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	t.Cleanup(srv.Close)
	return srv.URL, st, art
}

// TestModelsDownloadLoggedModel: 'mlrun models download models:/<model_id>'
// and a registered version whose source is one, on a copy of the MLflow
// 3.6 database and its artifacts served by an mlrun server.
func TestModelsDownloadLoggedModel(t *testing.T) {
	url, _, _ := serveMLflow36(t)
	for _, uri := range []string{"models:/m-bd2ded587a44407892455c38615f9805", "models:/m/1", "models:/m@challenger"} {
		dst := t.TempDir()
		if out := mustRun(t, "models", "download", "--tracking-uri", url, "--dst-path", dst, uri); !strings.Contains(out, "MLmodel") && out == "" {
			t.Fatalf("download %s: %q", uri, out)
		}
		if _, err := os.Stat(filepath.Join(dst, "MLmodel")); err != nil {
			files, _ := os.ReadDir(dst)
			t.Fatalf("download %s: no MLmodel in %s (%v)", uri, dst, files)
		}
	}
}

// TestRunsURIReachesLoggedModel: MLflow 3.6's log_model keeps a model's
// files with the logged model, not in the run's artifacts, and MLflow 3
// still takes runs:/<run_id>/<name> for it (RunsArtifactRepository,
// register_model). On a copy of the MLflow 3.6 database (its runs logged
// their models so), mlrun's commands follow such a URI the same way: the
// run's own files first, then the run's logged model of that name (at
// the largest step when there are several).
func TestRunsURIReachesLoggedModel(t *testing.T) {
	url, st, art := serveMLflow36(t)
	t.Setenv("MLFLOW_TRACKING_URI", url)
	const train1, train2, model1 = "5f6d2d27311246c78f96b33b716cdc4a", "f1346045419f4ab790e0776d3edb60c3", "m-bd2ded587a44407892455c38615f9805"
	hasModel := func(file string) {
		t.Helper()
		b, err := os.ReadFile(file)
		if err != nil || !strings.Contains(string(b), "model_id: "+model1) {
			t.Fatalf("%s: %v %q, want train-1's logged model's MLmodel", file, err, b)
		}
	}
	// What the run used and made, as runs get shows it.
	got := squash(mustRun(t, "runs", "get", train1))
	for _, want := range []string{"dataset iris digest 470bc25c, context training", "model input models:/" + model1, "logged model models:/" + model1 + " (step 0)"} {
		if !strings.Contains(got, want) {
			t.Fatalf("runs get lacks %q:\n%s", want, got)
		}
	}
	// runs describe: MLflow 3's Run.to_dictionary, inputs and outputs too.
	var described struct {
		Inputs struct {
			ModelInputs   []map[string]string `json:"model_inputs"`
			DatasetInputs []struct {
				Dataset map[string]any    `json:"dataset"`
				Tags    map[string]string `json:"tags"`
			} `json:"dataset_inputs"`
		} `json:"inputs"`
		Outputs struct {
			ModelOutputs []map[string]any `json:"model_outputs"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "runs", "describe", train1)), &described); err != nil {
		t.Fatal(err)
	}
	ins, outs := described.Inputs, described.Outputs
	if len(ins.ModelInputs) != 1 || ins.ModelInputs[0]["model_id"] != model1 || len(ins.DatasetInputs) != 1 ||
		ins.DatasetInputs[0].Dataset["name"] != "iris" || ins.DatasetInputs[0].Dataset["digest"] != "470bc25c" || ins.DatasetInputs[0].Tags["mlflow.data.context"] != "training" ||
		len(outs.ModelOutputs) != 1 || outs.ModelOutputs[0]["model_id"] != model1 || outs.ModelOutputs[0]["step"] != float64(0) {
		t.Fatalf("runs describe: %+v", described)
	}
	dst := t.TempDir()
	mustRun(t, "artifacts", "download", "-u", "runs:/"+train1+"/model", "-d", dst)
	hasModel(filepath.Join(dst, "model", "MLmodel"))
	dst = t.TempDir()
	mustRun(t, "artifacts", "download", "--run-id", train1, "--artifact-path", "model", "-d", dst)
	hasModel(filepath.Join(dst, "model", "MLmodel"))
	dst = t.TempDir()
	mustRun(t, "artifacts", "download", "-u", "runs:/"+train1+"/model/MLmodel", "-d", dst)
	hasModel(filepath.Join(dst, "MLmodel"))
	dst = t.TempDir()
	mustRun(t, "models", "download", "runs:/"+train1+"/model", "-d", dst)
	hasModel(filepath.Join(dst, "MLmodel"))
	// The run's own files are still the run's.
	dst = t.TempDir()
	mustRun(t, "artifacts", "download", "-u", "runs:/"+train1+"/notes", "-d", dst)
	if _, err := os.Stat(filepath.Join(dst, "notes", "hello.txt")); err != nil {
		t.Fatalf("runs:/…/notes: %v", err)
	}

	// Registering runs:/<run>/model registers the logged model, as MLflow
	// 3 does: source models:/<model_id>, and the model lists the version.
	out := mustRun(t, "models", "register", "runs:/"+train1+"/model", "--name", "fromrun", "--json")
	var resp struct {
		V map[string]any `json:"model_version"`
	}
	err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &resp)
	if v := resp.V; err != nil || v["source"] != "models:/"+model1 || v["run_id"] != train1 || v["model_id"] != model1 {
		t.Fatalf("register runs:/…/model: %v %s", err, out)
	}
	lm, err := st.(store.LoggedModels).GetLoggedModel(context.Background(), model1)
	if err != nil {
		t.Fatal(err)
	}
	if tag := tagValue(lm.Tags, "mlflow.modelVersions"); !strings.Contains(tag, `{"name": "fromrun", "version": 1}`) {
		t.Fatalf("the logged model's mlflow.modelVersions: %q", tag)
	}
	if _, err := mlrun(t, "models", "register", "runs:/"+train1+"/nothing", "--name", "fromrun"); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("register a name neither the run's files nor its models have: %v", err)
	}

	// A run that has files at the name too: they win (MLflow 2's layout,
	// and 'models log' on a database at its schema).
	src := filepath.Join(t.TempDir(), "MLmodel")
	os.WriteFile(src, []byte("flavors: {}\nrun_copy: true\n"), 0o644)
	mustRun(t, "artifacts", "log-artifact", "--run-id", train2, "--artifact-path", "model", "--local-file", src)
	dst = t.TempDir()
	mustRun(t, "models", "download", "runs:/"+train2+"/model", "-d", dst)
	if b, _ := os.ReadFile(filepath.Join(dst, "MLmodel")); !strings.Contains(string(b), "run_copy") {
		t.Fatalf("runs:/ with the run's own files gave %q", b)
	}

	// Two models of one name: the one the run output at the larger step.
	lms := st.(store.LoggedModels)
	ctx := context.Background()
	for i, step := range []int64{5, 1} {
		m, err := lms.CreateLoggedModel(ctx, store.LoggedModel{ExperimentID: "1", Name: "twice", SourceRunID: train2})
		if err != nil {
			t.Fatal(err)
		}
		if err := lms.LogOutputs(ctx, train2, []store.ModelOutput{{ModelID: m.ModelID, Step: step}}); err != nil {
			t.Fatal(err)
		}
		folder := filepath.Join(art, "1", "models", m.ModelID, "artifacts")
		os.MkdirAll(folder, 0o755)
		os.WriteFile(filepath.Join(folder, "which.txt"), []byte(fmt.Sprint("step ", step, " model ", i)), 0o644)
	}
	dst = t.TempDir()
	mustRun(t, "artifacts", "download", "-u", "runs:/"+train2+"/twice/which.txt", "-d", dst)
	if b, _ := os.ReadFile(filepath.Join(dst, "which.txt")); string(b) != "step 5 model 0" {
		t.Fatalf("runs:/…/twice gave %q, want the model at step 5", b)
	}
}
