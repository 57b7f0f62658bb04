package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	dockerbuild "github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	dockerclient "github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"

	"github.com/mlrun/mlrun/internal/pyenv"
	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/store"
)

// xgbModel writes, in the working directory, model/ holding the fixture
// booster reg.json and its MLmodel, and returns a scoring request of the
// fixture's first rows and the answer XGBoost's own predictions make.
func xgbModel(t *testing.T) (body, csv, want string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testutil.XGBoostFixtures(), "reg.json"))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll("model", 0o755)
	os.WriteFile("model/model.json", b, 0o644)
	os.WriteFile("model/MLmodel", []byte("flavors:\n  python_function:\n    data: model.json\n    loader_module: mlflow.xgboost\n  xgboost:\n    data: model.json\n    model_class: xgboost.core.Booster\n    model_format: json\n"), 0o644)
	fx := testutil.ReadXGBoostPredictions(t)
	var lines []string
	for _, r := range fx.Rows[:4] {
		var cols []string
		for _, v := range r {
			if v == nil {
				cols = append(cols, "")
			} else {
				cols = append(cols, fmt.Sprint(*v))
			}
		}
		lines = append(lines, strings.Join(cols, ","))
	}
	return `{"inputs": ` + fx.RowsJSON(4, 5) + `}`, "a,b,c,d,e\n" + strings.Join(lines, "\n") + "\n",
		testutil.PredictionsBody(fx.Flat(t, "reg.json")[:4])
}

// TestModelsPredict: `mlrun models predict` on a registered xgboost
// booster (models:/name@alias, models:/name/1, runs:/…, a local folder),
// JSON or CSV in, stdout or a file out, XGBoost's own predictions; on
// SQLite, a server and PostgreSQL.
func TestModelsPredict(t *testing.T) {
	for name, uri := range trackingURIs(t) {
		t.Run(name, func(t *testing.T) {
			t.Setenv("MLFLOW_TRACKING_URI", uri)
			t.Setenv("MLFLOW_REGISTRY_URI", "")
			t.Chdir(t.TempDir())
			body, csv, want := xgbModel(t)
			os.WriteFile("in.json", []byte(body), 0o644)
			os.WriteFile("in.csv", []byte(csv), 0o644)
			st, err := openStore(context.Background(), uri, "")
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			r, err := st.CreateRun(context.Background(), store.CreateRun{})
			if err != nil {
				t.Fatal(err)
			}
			mustRun(t, "log", "artifact", "--run-id", r.Info.RunID, "model")
			mustRun(t, "models", "register", "runs:/"+r.Info.RunID+"/model", "--name", "xgb")
			mustRun(t, "models", "alias", "set", "xgb", "champion", "1")
			for _, m := range []string{"models:/xgb@champion", "models:/xgb/1", "runs:/" + r.Info.RunID + "/model", "model"} {
				if out := mustRun(t, "models", "predict", "-m", m, "-i", "in.json"); strings.TrimSpace(out) != want {
					t.Errorf("predict -m %s: %s, want %s", m, out, want)
				}
			}
			mustRun(t, "models", "predict", "-m", "models:/xgb@champion", "-i", "in.csv", "-t", "csv", "-o", "out.json")
			if b, _ := os.ReadFile("out.json"); strings.TrimSpace(string(b)) != want {
				t.Errorf("predict csv to a file: %s", b)
			}
			if _, err := mlrun(t, "models", "predict", "-m", "model", "-i", "in.json", "-t", "xml"); err == nil || err.Error() != "Content type must be one of json or csv." {
				t.Errorf("-t xml: %v", err)
			}
			os.WriteFile("bad.json", []byte(`{"inputs": [[1, 2]]}`), 0o644)
			if _, err := mlrun(t, "models", "predict", "-m", "model", "-i", "bad.json"); err == nil || !strings.Contains(err.Error(), "Feature shape mismatch, expected: 5, got 2") {
				t.Errorf("bad input: %v", err)
			}
			if _, err := mlrun(t, "models", "predict", "-m", "models:/xgb@nobody", "-i", "in.json"); err == nil || !strings.Contains(err.Error(), "nobody") {
				t.Errorf("unknown alias: %v", err)
			}
		})
	}
}

// TestModelsServeBinary: the real binary serves models:/xgb@champion
// from a SQLite registry: /ping, /invocations with XGBoost's predictions;
// SIGTERM stops it gracefully (exit 0).
func TestModelsServeBinary(t *testing.T) {
	bin := buildMlrun(t)
	dir := t.TempDir()
	t.Chdir(dir)
	body, _, want := xgbModel(t)
	db := "sqlite:///" + filepath.Join(dir, "mlflow.db")
	if out, err := exec.Command(bin, "db", "init", db).CombinedOutput(); err != nil {
		t.Fatalf("db init: %v %s", err, out)
	}
	run := func(args ...string) string {
		out, err := exec.Command(bin, append(args, "--tracking-uri", db)...).CombinedOutput()
		if err != nil {
			t.Fatalf("mlrun %s: %v %s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	st, err := openStore(context.Background(), db, "")
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.CreateRun(context.Background(), store.CreateRun{})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	run("log", "artifact", "--run-id", r.Info.RunID, "model")
	run("models", "register", "runs:/"+r.Info.RunID+"/model", "--name", "xgb")
	run("models", "alias", "set", "xgb", "champion", "1")

	port := testutil.FreePort(t)
	cmd := exec.Command(bin, "models", "serve", "-m", "models:/xgb@champion", "-p", itoa(port), "--tracking-uri", db)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	base := "http://127.0.0.1:" + itoa(port)
	waitFor(t, 30*time.Second, "models serve did not answer /ping", func() bool {
		resp, err := http.Get(base + "/ping")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	resp, err := http.Post(base+"/invocations", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(got) != want {
		t.Fatalf("/invocations: %d %s, want %s", resp.StatusCode, got, want)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if exited, err := testutil.WaitExit(cmd, 20*time.Second); !exited {
		t.Fatal("models serve did not stop on SIGTERM")
	} else if err != nil {
		t.Fatalf("after SIGTERM: %v", err)
	}
}

// TestModelsBuildDocker: `mlrun models build-docker` (a static mlrun
// running it, so the image gets that binary) makes an image FROM scratch
// of MLflow 2.17.2's own logged booster; a container of it, on the real
// Docker daemon, answers /ping and /invocations on port 8080 with
// XGBoost's predictions. A dynamically linked mlrun is refused.
func TestModelsBuildDocker(t *testing.T) {
	cli := testutil.RequireDocker(t)
	dir := t.TempDir()
	static := staticMlrun(t, dir)
	model := filepath.Join(dir, "model")
	os.MkdirAll(model, 0o755)
	for _, f := range []string{"MLmodel", "model.xgb", "conda.yaml", "python_env.yaml", "requirements.txt"} {
		b, err := os.ReadFile(filepath.Join("../../../shared/testdata/mlflow-2.17.2/models/xgboost", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(model, f), b, 0o644)
	}
	if _, err := mlrun(t, "models", "build-docker", "-m", model, "-n", "x:1"); err == nil || !strings.Contains(err.Error(), "statically linked") {
		t.Fatalf("a dynamic mlrun: %v", err)
	}
	tag := fmt.Sprintf("mlrun-test-served:%d", time.Now().UnixNano())
	if out, err := exec.Command(static, "models", "build-docker", "-m", model, "-n", tag).CombinedOutput(); err != nil {
		t.Fatalf("build-docker: %v\n%s", err, out)
	}
	t.Cleanup(func() { cli.ImageRemove(context.Background(), tag, image.RemoveOptions{Force: true}) })
	base := serveContainer(t, cli, tag)
	fx := testutil.ReadXGBoostPredictions(t)
	resp, err := http.Post(base+"/invocations", "application/json", strings.NewReader(`{"inputs": `+fx.RowsJSON(5, 4)+`}`))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := testutil.PredictionsBody(fx.MLflow.Predictions[:5]); resp.StatusCode != 200 || string(got) != want {
		t.Fatalf("/invocations in the container: %d %s, want %s", resp.StatusCode, got, want)
	}

	// generate-dockerfile writes the same build context into a folder;
	// the daemon builds it into an image that serves the model too.
	ctxDir := filepath.Join(dir, "mlflow-dockerfile")
	if out, err := exec.Command(static, "models", "generate-dockerfile", "-m", model, "-d", ctxDir, "--install-java", "--mlflow-home", "/src/mlflow").CombinedOutput(); err != nil {
		t.Fatalf("generate-dockerfile: %v\n%s", err, out)
	}
	df, _ := os.ReadFile(filepath.Join(ctxDir, "Dockerfile"))
	bin, _ := os.ReadFile(filepath.Join(ctxDir, "mlrun"))
	orig, _ := os.ReadFile(static)
	if !strings.HasPrefix(string(df), "FROM scratch") || !bytes.Equal(bin, orig) {
		t.Fatalf("the folder's Dockerfile %q, mlrun %d bytes (want %d)", df, len(bin), len(orig))
	}
	if _, err := os.Stat(filepath.Join(ctxDir, "model", "model.xgb")); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(static, "models", "generate-dockerfile", "-m", model, "-d", ctxDir).CombinedOutput(); err == nil || !strings.Contains(string(out), "is not empty") {
		t.Fatalf("generate-dockerfile into a full folder: %v %s", err, out)
	}
	tag2 := tag + "-gen"
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	filepath.WalkDir(ctxDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, _ := d.Info()
		rel, _ := filepath.Rel(ctxDir, p)
		tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: int64(info.Mode().Perm()), Size: info.Size(), Typeflag: tar.TypeReg})
		b, _ := os.ReadFile(p)
		tw.Write(b)
		return nil
	})
	tw.Close()
	built, err := cli.ImageBuild(context.Background(), &buf, dockerbuild.ImageBuildOptions{Tags: []string{tag2}, Remove: true, Version: dockerbuild.BuilderV1})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, built.Body)
	built.Body.Close()
	t.Cleanup(func() { cli.ImageRemove(context.Background(), tag2, image.RemoveOptions{Force: true}) })
	serveContainer(t, cli, tag2) // answers /ping
}

// staticMlrun builds a statically linked mlrun (what build-docker puts in
// an image) into dir.
func staticMlrun(t *testing.T, dir string) string {
	t.Helper()
	static := filepath.Join(dir, "mlrun-static")
	build := exec.Command("go", "build", "-tags", "osusergo netgo sqlite_omit_load_extension", "-ldflags", "-s -w -extldflags -static", "-o", static, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("static build: %v\n%s", err, out)
	}
	return static
}

// serveContainer runs a container of a served model's image on the real
// daemon, with port 8080 published on loopback, and returns its base URL
// once it answers /ping.
func serveContainer(t *testing.T, cli *dockerclient.Client, tag string) string {
	t.Helper()
	ctx := context.Background()
	created, err := cli.ContainerCreate(ctx, &container.Config{Image: tag, ExposedPorts: nat.PortSet{"8080/tcp": {}}},
		&container.HostConfig{PortBindings: nat.PortMap{"8080/tcp": {{HostIP: "127.0.0.1", HostPort: "0"}}}}, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.ContainerRemove(context.Background(), created.ID, container.RemoveOptions{Force: true}) })
	if err := cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	info, err := cli.ContainerInspect(ctx, created.ID)
	if err != nil || len(info.NetworkSettings.Ports["8080/tcp"]) == 0 {
		t.Fatalf("inspect: %v %+v", err, info.NetworkSettings)
	}
	base := "http://127.0.0.1:" + info.NetworkSettings.Ports["8080/tcp"][0].HostPort
	waitFor(t, 60*time.Second, "the container did not answer /ping", func() bool {
		resp, err := http.Get(base + "/ping")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	return base
}

// TestModelsBuildDockerPython: MLflow 2.17.2's logged ElasticNet, which
// mlrun predicts in Go, is built FROM scratch (no Python); with
// --runtime python it is refused FROM scratch with what to do instead,
// and built FROM --base-image (Python, scikit-learn and pandas in it).
// A container of each answers /invocations with scikit-learn's own
// predictions (the Python one byte for byte).
func TestModelsBuildDockerPython(t *testing.T) {
	cli := testutil.RequireDocker(t)
	pyBase := testutil.RequirePythonBaseImage(t)
	dir := t.TempDir()
	static := staticMlrun(t, dir)
	model := "../../../shared/testdata/mlflow-2.17.2/models/sklearn"
	fx := testutil.ReadSklearnPredictions(t)
	rows, _ := json.Marshal(fx.Rows)
	answers := func(tag string, rel float64) {
		t.Helper()
		t.Cleanup(func() { cli.ImageRemove(context.Background(), tag, image.RemoveOptions{Force: true}) })
		base := serveContainer(t, cli, tag)
		resp, err := http.Post(base+"/invocations", "application/json", strings.NewReader(`{"inputs": `+string(rows)+`}`))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !testutil.MatchesPredictions(string(got), fx.Predictions, rel) {
			t.Fatalf("/invocations in the container %s: %d %s, want %v", tag, resp.StatusCode, got, fx.Predictions)
		}
	}
	tag := fmt.Sprintf("mlrun-test-served-sk:%d", time.Now().UnixNano())
	out, err := exec.Command(static, "models", "build-docker", "-m", model, "-n", tag).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "(sklearn, in Go)") {
		t.Fatalf("sklearn FROM scratch: %v\n%s", err, out)
	}
	answers(tag, 1e-15)

	tag = fmt.Sprintf("mlrun-test-served-py:%d", time.Now().UnixNano())
	out, err = exec.Command(static, "models", "build-docker", "-m", model, "-n", tag, "--runtime", "python").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "give --base-image, an image with Python and the model's requirements") {
		t.Fatalf("sklearn, --runtime python, FROM scratch: %v\n%s", err, out)
	}
	out, err = exec.Command(static, "models", "build-docker", "-m", model, "-n", tag, "--runtime", "python", "--base-image", pyBase, "--base-python", "/usr/bin/python3").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "(sklearn, by the Python of "+pyBase+")") {
		t.Fatalf("build-docker --base-image: %v\n%s", err, out)
	}
	answers(tag, 0)
}

// TestModelsPredictEnvManagers: a model served by a Python worker gets
// its Python from --env-manager: virtualenv builds one from the model's
// python_env.yaml (here with no dependencies, there being no package
// index: the worker then lacks numpy, which proves it ran in the new
// environment) and reuses it the second time; models prepare-env builds
// it ahead, for predict to find; local takes --python (the system's, with
// scikit-learn, which predicts); conda without conda says what to
// install.
func TestModelsPredictEnvManagers(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import sklearn, pandas").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("/usr/bin/python3 lacks scikit-learn or pandas under CI: %v", err)
		}
		t.Skip("/usr/bin/python3 lacks scikit-learn or pandas: apt-get install python3-sklearn python3-pandas")
	}
	t.Setenv("MLRUN_ENV_ROOT", t.TempDir())
	dir := t.TempDir()
	src := "../../../shared/testdata/mlflow-2.17.2/models/sklearn"
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(src, e.Name()))
		os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "python_env.yaml"), []byte("python: 3.11.2\nbuild_dependencies: []\ndependencies: []\n"), 0o644)
	in := filepath.Join(t.TempDir(), "in.json")
	os.WriteFile(in, []byte(`{"inputs": [[0.1, 0.2, 0.3, 0.4]]}`), 0o644)

	for i, wantBuild := range []bool{true, false} {
		out, err := mlrun(t, "models", "predict", "-m", dir, "-i", in, "--runtime", "python")
		if err == nil || !strings.Contains(err.Error(), "could not load the model") || !strings.Contains(err.Error(), "No module named") {
			t.Fatalf("virtualenv, run %d: %v\n%s", i, err, out)
		}
		if built := strings.Contains(out, "creating virtualenv"); built != wantBuild {
			t.Errorf("virtualenv, run %d: built=%v, want %v\n%s", i, built, wantBuild, out)
		}
	}
	// prepare-env builds the environment ahead (in a new cache), and
	// predict then finds it built; a model served in Go needs none.
	t.Setenv("MLRUN_ENV_ROOT", t.TempDir())
	if out := mustRun(t, "models", "prepare-env", "-m", dir, "--runtime", "python"); !strings.Contains(out, "creating virtualenv") || !strings.Contains(out, "is ready: ") {
		t.Fatalf("prepare-env: %s", out)
	}
	if out, _ := mlrun(t, "models", "predict", "-m", dir, "-i", in, "--runtime", "python"); strings.Contains(out, "creating virtualenv") {
		t.Fatalf("predict after prepare-env built again:\n%s", out)
	}
	if out := mustRun(t, "models", "prepare-env", "-m", "../../../shared/testdata/mlflow-2.17.2/models/xgboost"); !strings.Contains(out, "(xgboost) is served in Go: it needs no Python environment") {
		t.Fatalf("prepare-env of an xgboost model: %s", out)
	}
	// No conda here: the error says what to install.
	t.Setenv("PATH", filepath.Dir(mustLookPath(t, "python3"))+":/usr/bin:/bin")
	if _, err := mlrun(t, "models", "predict", "-m", dir, "-i", in, "--env-manager", "conda", "--runtime", "python"); !errors.Is(err, pyenv.ErrUnavailable) || !strings.Contains(err.Error(), "conda or mamba is needed") {
		t.Errorf("conda: %v", err)
	}
	if _, err := mlrun(t, "models", "prepare-env", "-m", dir, "--env-manager", "conda", "--runtime", "python"); !errors.Is(err, pyenv.ErrUnavailable) || !strings.Contains(err.Error(), "conda or mamba is needed") {
		t.Errorf("prepare-env, conda: %v", err)
	}
	out, err := mlrun(t, "models", "predict", "-m", dir, "-i", in, "--env-manager", "local", "--python", "/usr/bin/python3", "--runtime", "python")
	if err != nil || !strings.HasPrefix(out, `{"predictions": [`) {
		t.Fatalf("local: %v %s", err, out)
	}
	// Without --runtime python, the model MLflow 2.17.2 logged (an
	// ElasticNet) is predicted in Go, needing no environment, and
	// answers what scikit-learn answered.
	if out := mustRun(t, "models", "prepare-env", "-m", dir); !strings.Contains(out, "(sklearn) is served in Go: it needs no Python environment") {
		t.Fatalf("prepare-env of an sklearn model Go predicts: %s", out)
	}
	if goOut := mustRun(t, "models", "predict", "-m", dir, "-i", in); goOut != out {
		t.Errorf("Go answered %s; scikit-learn %s", goOut, out)
	}
	if _, err := mlrun(t, "models", "predict", "-m", dir, "-i", in, "--runtime", "java"); !errors.Is(err, store.ErrInvalidArgument) {
		t.Errorf("--runtime java: %v", err)
	}
	// An ONNX model has no Python worker: --runtime python says so, and
	// --runtime go refuses what needs Python, saying why.
	onnxDir := t.TempDir()
	b, _ := os.ReadFile("../../plugins/builtin/testdata/onnx/linear.onnx")
	os.WriteFile(filepath.Join(onnxDir, "model.onnx"), b, 0o644)
	os.WriteFile(filepath.Join(onnxDir, "MLmodel"), []byte("flavors:\n  onnx:\n    data: model.onnx\n  python_function:\n    loader_module: mlflow.onnx\n"), 0o644)
	if _, err := mlrun(t, "models", "predict", "-m", onnxDir, "-i", in, "--runtime", "python"); !errors.Is(err, store.ErrUnsupported) || !strings.Contains(err.Error(), "no Python worker for onnx models") {
		t.Errorf("onnx, --runtime python: %v", err)
	}
	logProba := t.TempDir()
	b, _ = os.ReadFile("../../plugins/builtin/testdata/sklearn/histgb_p5.pkl")
	os.WriteFile(filepath.Join(logProba, "model.pkl"), b, 0o644)
	os.WriteFile(filepath.Join(logProba, "MLmodel"), []byte("flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n    predict_fn: predict_log_proba\n  sklearn:\n    pickled_model: model.pkl\n    serialization_format: pickle\n"), 0o644)
	if _, err := mlrun(t, "models", "predict", "-m", logProba, "-i", in, "--runtime", "go"); !errors.Is(err, store.ErrUnsupported) || !strings.Contains(err.Error(), "predict_log_proba") {
		t.Errorf("predict_log_proba, --runtime go: %v", err)
	}
}

func mustLookPath(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestModelsPredictEnv: models predict --env (MLflow's) sets environment
// variables of the model's Python worker: here PYTHONPATH, without which
// the pickled model's class cannot be found, and a variable its predict
// answers with. A malformed --env is refused before the model is loaded.
func TestModelsPredictEnv(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import pandas").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("/usr/bin/python3 lacks pandas under CI: %v", err)
		}
		t.Skip("/usr/bin/python3 lacks pandas: apt-get install python3-pandas")
	}
	pkg, dir := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(pkg, "envmodel.py"), []byte("import os\n\nclass EnvModel:\n    def predict(self, X):\n        return [os.environ.get('MLRUN_TEST_GREETING', 'unset')] * len(X)\n"), 0o644)
	mk := exec.Command("/usr/bin/python3", "-c", "import sys, pickle; sys.path.insert(0, sys.argv[1]); import envmodel; pickle.dump(envmodel.EnvModel(), open(sys.argv[2], 'wb'))",
		pkg, filepath.Join(dir, "model.pkl"))
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("pickle the model: %v %s", err, out)
	}
	os.WriteFile(filepath.Join(dir, "MLmodel"), []byte("flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n  sklearn:\n    pickled_model: model.pkl\n    serialization_format: pickle\n"), 0o644)
	in := filepath.Join(t.TempDir(), "in.json")
	os.WriteFile(in, []byte(`{"dataframe_split": {"columns": ["a"], "data": [[1], [2]]}}`), 0o644)
	args := []string{"models", "predict", "-m", dir, "-i", in, "--env-manager", "local", "--python", "/usr/bin/python3"}

	if _, err := mlrun(t, args...); err == nil || !strings.Contains(err.Error(), "envmodel") {
		t.Fatalf("without --env the class should not be found: %v", err)
	}
	out := mustRun(t, append(args, "--env", "PYTHONPATH="+pkg, "--env", "MLRUN_TEST_GREETING=hello")...)
	if strings.TrimSpace(out) != `{"predictions": ["hello", "hello"]}` {
		t.Fatalf("predict --env: %q", out)
	}
	if _, err := mlrun(t, append(args, "--env", "NOEQUALS")...); err == nil || !strings.Contains(err.Error(), `"NOEQUALS": want KEY=VALUE`) {
		t.Fatalf("a malformed --env: %v", err)
	}
}

// TestEnableMLServerIsRefused: --enable-mlserver (mlflow's, Seldon's
// MLServer) is refused, saying what mlrun serves instead, not ignored.
func TestEnableMLServerIsRefused(t *testing.T) {
	for _, cmd := range []string{"serve", "predict"} {
		_, err := mlrun(t, "models", cmd, "-m", "../../../shared/testdata/mlflow-2.17.2/models/xgboost", "--enable-mlserver")
		if !errors.Is(err, store.ErrUnsupported) || !strings.Contains(err.Error(), "MLflow's scoring protocol") {
			t.Errorf("models %s --enable-mlserver: %v", cmd, err)
		}
	}
}
