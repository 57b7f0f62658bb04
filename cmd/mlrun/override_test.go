package main

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/internal/pyenv"
	"github.com/mlrun/mlrun/store"
)

// writeWheel writes a pure-Python wheel of package name at version into
// dir (what pip installs from --find-links with no index): a module
// holding VERSION, its METADATA, WHEEL and RECORD.
func writeWheel(t *testing.T, dir, name, version string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%s-py3-none-any.whl", name, version)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	info := fmt.Sprintf("%s-%s.dist-info", name, version)
	files := [][2]string{
		{name + "/__init__.py", fmt.Sprintf("VERSION = %q\n", version)},
		{info + "/METADATA", fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\n", name, version)},
		{info + "/WHEEL", "Wheel-Version: 1.0\nGenerator: mlrun-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"},
	}
	var record strings.Builder
	for _, file := range files {
		w, _ := zw.Create(file[0])
		w.Write([]byte(file[1]))
		sum := sha256.Sum256([]byte(file[1]))
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", file[0], base64.RawURLEncoding.EncodeToString(sum[:]), len(file[1]))
	}
	fmt.Fprintf(&record, "%s/RECORD,,\n", info)
	w, _ := zw.Create(info + "/RECORD")
	w.Write([]byte(record.String()))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestModelsPredictRequirementsOverride: models predict
// --pip-requirements-override (MLflow's -r) builds the model's virtualenv
// with the given requirements in place of its own of the same packages,
// apart from the model's own environment: the model pins mlrunprobe==1.0,
// the override asks >=1.5,<3, and each environment holds its version (pip
// installing from a folder of wheels made here, there being no package
// index). A bad requirement, or an override with --env-manager local, is
// refused before any environment is built.
func TestModelsPredictRequirementsOverride(t *testing.T) {
	if err := exec.Command("python3", "-c", "import venv, ensurepip").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("python3 lacks venv under CI: %v", err)
		}
		t.Skip("python3 lacks venv: apt-get install python3-venv")
	}
	wheels, root := t.TempDir(), t.TempDir()
	writeWheel(t, wheels, "mlrunprobe", "1.0")
	writeWheel(t, wheels, "mlrunprobe", "2.0")
	t.Setenv("PIP_NO_INDEX", "1")
	t.Setenv("PIP_FIND_LINKS", wheels)
	t.Setenv("MLRUN_ENV_ROOT", root)

	dir := copyModel(t, "../../../shared/testdata/mlflow-2.17.2/models/sklearn")
	os.WriteFile(filepath.Join(dir, "python_env.yaml"), []byte("python: 3.11.2\nbuild_dependencies: []\ndependencies:\n- -r requirements.txt\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "requirements.txt"), []byte("mlrunprobe==1.0"), 0o644)
	in := filepath.Join(t.TempDir(), "in.json")
	os.WriteFile(in, []byte(`{"inputs": [[0.1, 0.2, 0.3, 0.4]]}`), 0o644)
	predict := func(extra ...string) (string, error) {
		return mlrun(t, append([]string{"models", "predict", "-m", dir, "-i", in}, extra...)...)
	}

	// The model's worker lacks numpy and pandas in either environment, so
	// predict fails after building it; the environments are what count.
	if out, _ := predict("--runtime", "python"); !strings.Contains(out, "creating virtualenv") {
		t.Fatalf("the model's environment was not built:\n%s", out)
	}
	if out, _ := predict("-r", "mlrunprobe>=1.5,<3"); !strings.Contains(out, "creating virtualenv") {
		t.Fatalf("the overridden environment was not built:\n%s", out)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "requirements.txt")); string(b) != "mlrunprobe==1.0" {
		t.Fatalf("the model's requirements.txt changed: %q", b)
	}
	envs, _ := filepath.Glob(filepath.Join(root, "mlrun-*", "bin", "python"))
	var versions []string
	for _, py := range envs {
		out, err := exec.Command(py, "-c", "import mlrunprobe; print(mlrunprobe.VERSION)").CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v %s", py, err, out)
		}
		versions = append(versions, strings.TrimSpace(string(out)))
	}
	sort.Strings(versions)
	if !reflect.DeepEqual(versions, []string{"1.0", "2.0"}) {
		t.Fatalf("environments hold mlrunprobe %v, want 1.0 (the model's) and 2.0 (overridden)", versions)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-r", "mlrunprobe=2.0"}, `invalid requirement "mlrunprobe=2.0"`},
		{[]string{"-r", "mlrunprobe==2.0", "--env-manager", "local"}, "needs --env-manager virtualenv or conda"},
	} {
		out, err := predict(tc.args...)
		if !errors.Is(err, store.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) || strings.Contains(out, "creating virtualenv") {
			t.Errorf("%v: %v (want %q)\n%s", tc.args, err, tc.want, out)
		}
	}
	// conda: the override goes into conda.yaml's pip section (no conda
	// here: the error says what to install).
	t.Setenv("PATH", filepath.Dir(mustLookPath(t, "python3"))+":/usr/bin:/bin")
	if _, err := predict("-r", "mlrunprobe==2.0", "--env-manager", "conda"); !errors.Is(err, pyenv.ErrUnavailable) {
		t.Errorf("conda: %v", err)
	}
}
