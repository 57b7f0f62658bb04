package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/store"
)

// copyModel copies an MLflow-written model folder of shared/testdata into
// a folder of the test.
func copyModel(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "model")
	if out, err := exec.Command("cp", "-r", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("copy %s: %v %s", src, err, out)
	}
	exec.Command("chmod", "-R", "u+w", dst).Run()
	return dst
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestUpdatePipRequirementsLocal: mlflow models update-pip-requirements
// on a folder holding MLflow 2.17.2's sklearn model: added requirements
// replace their package's (whatever its spelling) or come last, in
// requirements.txt and conda.yaml's pip section, each file written as
// MLflow writes it (conda.yaml byte for byte what PyYAML's yaml.dump
// writes); removed ones go, whatever their version; a bad requirement
// changes nothing.
func TestUpdatePipRequirementsLocal(t *testing.T) {
	dir := copyModel(t, "../../../shared/testdata/mlflow-2.17.2/models/sklearn")
	out := mustRun(t, "models", "update-pip-requirements", "-m", dir, "add", "Scikit_Learn==1.5.0", "pandas >= 2", "pandas<3")
	if !strings.Contains(out, "Updated the requirements of "+dir) {
		t.Fatalf("add printed %q", out)
	}
	if got, want := readFile(t, filepath.Join(dir, "requirements.txt")), "mlflow==2.17.2\ncloudpickle==2.2.0\nscikit_learn==1.5.0\npandas<3,>=2"; got != want {
		t.Fatalf("requirements.txt = %q, want %q", got, want)
	}
	wantConda := `channels:
- conda-forge
dependencies:
- python=3.11.2
- pip<=23.0.1
- pip:
  - mlflow==2.17.2
  - cloudpickle==2.2.0
  - scikit_learn==1.5.0
  - pandas<3,>=2
name: mlflow-env
`
	if got := readFile(t, filepath.Join(dir, "conda.yaml")); got != wantConda {
		t.Fatalf("conda.yaml =\n%s\nwant\n%s", got, wantConda)
	}

	out = mustRun(t, "models", "update-pip-requirements", "-m", dir, "remove", "scikit-learn", "torch==2")
	if !strings.Contains(out, `"torch" not found in requirements, ignoring`) {
		t.Fatalf("remove printed %q", out)
	}
	if got, want := readFile(t, filepath.Join(dir, "requirements.txt")), "mlflow==2.17.2\ncloudpickle==2.2.0\npandas<3,>=2"; got != want {
		t.Fatalf("after remove, requirements.txt = %q, want %q", got, want)
	}
	if got := readFile(t, filepath.Join(dir, "conda.yaml")); strings.Contains(got, "scikit") || !strings.Contains(got, "  - pandas<3,>=2\n") {
		t.Fatalf("after remove, conda.yaml =\n%s", got)
	}

	before := readFile(t, filepath.Join(dir, "requirements.txt"))
	for _, tc := range []struct {
		args []string
		want string
		kind error
	}{
		{[]string{"add", "numpy", "pandas=1.0"}, `invalid requirement "pandas=1.0"`, store.ErrInvalidArgument},
		{[]string{"add"}, "give the requirements", nil},
		{[]string{"upgrade", "numpy"}, `want add or remove`, nil},
	} {
		_, err := mlrun(t, append([]string{"models", "update-pip-requirements", "-m", dir}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.kind != nil && !errors.Is(err, tc.kind)) {
			t.Errorf("%v: %v, want %q (%v)", tc.args, err, tc.want, tc.kind)
		}
	}
	if got := readFile(t, filepath.Join(dir, "requirements.txt")); got != before {
		t.Fatalf("a refused update changed requirements.txt: %q", got)
	}
	if _, err := mlrun(t, "models", "update-pip-requirements", "-m", t.TempDir(), "add", "numpy"); !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "neither requirements.txt nor conda.yaml") {
		t.Fatalf("a folder that is no model: %v", err)
	}
	// A requirements file past 16 MiB is refused before anything is written.
	huge := filepath.Join(t.TempDir(), "huge")
	os.MkdirAll(huge, 0o755)
	os.WriteFile(filepath.Join(huge, "conda.yaml"), []byte("dependencies: []\n"), 0o644)
	f, _ := os.Create(filepath.Join(huge, "requirements.txt"))
	f.Truncate(16<<20 + 1)
	f.Close()
	if _, err := mlrun(t, "models", "update-pip-requirements", "-m", huge, "add", "numpy"); !errors.Is(err, store.ErrInvalidArgument) || !strings.Contains(err.Error(), "larger than 16 MiB") {
		t.Fatalf("a huge requirements.txt: %v", err)
	}
	if got := readFile(t, filepath.Join(huge, "conda.yaml")); got != "dependencies: []\n" {
		t.Fatalf("conda.yaml changed beside a refused requirements.txt: %q", got)
	}
}

// TestUpdatePipRequirementsLoggedModel: on a copy of the MLflow 3.6
// database and artifacts served by an mlrun server, models:/<model_id>
// and runs:/<run_id>/model (which MLflow 3 follows to the run's logged
// model) update the logged model's files through the server's artifact
// proxy; a registered version's models:/name/1 is refused, as MLflow
// refuses it, and nothing changes.
func TestUpdatePipRequirementsLoggedModel(t *testing.T) {
	url, _, art := serveMLflow36(t)
	t.Setenv("MLFLOW_TRACKING_URI", url)
	const train2, model1, model2 = "f1346045419f4ab790e0776d3edb60c3", "m-bd2ded587a44407892455c38615f9805", "m-9e24c3ed6f294f13a0b8a2bb7a42de1c"
	files := func(id string) string { return filepath.Join(art, "1", "models", id, "artifacts") }
	orig := readFile(t, filepath.Join(files(model1), "requirements.txt"))

	if _, err := mlrun(t, "models", "update-pip-requirements", "-m", "models:/m/1", "add", "pandas==2.2.3"); !errors.Is(err, store.ErrInvalidArgument) || !strings.Contains(err.Error(), "Model URIs with the `models:/` scheme are not supported") {
		t.Fatalf("models:/m/1: %v", err)
	}
	if got := readFile(t, filepath.Join(files(model1), "requirements.txt")); got != orig {
		t.Fatal("a refused update changed the model")
	}

	mustRun(t, "models", "update-pip-requirements", "-m", "models:/"+model1, "add", "pandas==2.2.3", "scikit-learn==1.5.0")
	got := readFile(t, filepath.Join(files(model1), "requirements.txt"))
	if want := strings.Replace(orig, "scikit-learn==1.2.1", "scikit-learn==1.5.0", 1) + "\npandas==2.2.3"; got != want {
		t.Fatalf("models:/<model_id>: requirements.txt =\n%s\nwant\n%s", got, want)
	}
	if c := readFile(t, filepath.Join(files(model1), "conda.yaml")); !strings.Contains(c, "  - scikit-learn==1.5.0\n") || !strings.HasSuffix(c, "  - pandas==2.2.3\nname: mlflow-env\n") {
		t.Fatalf("models:/<model_id>: conda.yaml =\n%s", c)
	}

	mustRun(t, "models", "update-pip-requirements", "-m", "runs:/"+train2+"/model", "remove", "psutil")
	if got := readFile(t, filepath.Join(files(model2), "requirements.txt")); strings.Contains(got, "psutil") || !strings.Contains(got, "mlflow==3.6.0") {
		t.Fatalf("runs:/<run_id>/model: requirements.txt =\n%s", got)
	}
	if got := readFile(t, filepath.Join(files(model1), "requirements.txt")); !strings.Contains(got, "psutil") {
		t.Fatal("runs:/ of train-2 changed train-1's model")
	}
}
