// Package pyenv builds MLflow's Python environments: a virtualenv from a
// python_env.yaml, cached by the hash of its content (and of the
// requirement files it names), or a conda environment from a conda.yaml,
// named by its hash, so that the second user of the same spec gets it at
// once. `mlrun run` builds a project's environment with it,
// `mlrun models serve` a model's.
package pyenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"
	"gopkg.in/yaml.v3"
)

// Error kinds.
var (
	// ErrInvalid: the spec is broken.
	ErrInvalid = errors.New("invalid python_env")
	// ErrUnavailable: no Python or venv module to build with.
	ErrUnavailable = errors.New("cannot build a virtualenv")
)

// Spec is MLflow's python_env.yaml.
type Spec struct {
	Python            string   `yaml:"python"`
	BuildDependencies []string `yaml:"build_dependencies"`
	Dependencies      []string `yaml:"dependencies"`
}

// Root is where environments are cached: $MLRUN_ENV_ROOT, else the
// user's cache folder's mlrun/envs.
func Root() (string, error) {
	if d := os.Getenv("MLRUN_ENV_ROOT"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache folder for environments: set MLRUN_ENV_ROOT (%w)", err)
	}
	return filepath.Join(d, "mlrun", "envs"), nil
}

// Virtualenv builds (or reuses) the virtualenv of the python_env.yaml at
// specPath ("" for a bare one), pip-installing its build dependencies
// and dependencies ("-r file" relative to the spec's folder), and
// returns the environment's folder (its interpreter is bin/python).
// Builders of the same spec take turns; the build's output goes to log.
func Virtualenv(ctx context.Context, specPath string, log io.Writer) (string, error) {
	var spec Spec
	h := sha256.New()
	base := "."
	if specPath != "" {
		base = filepath.Dir(specPath)
		data, err := os.ReadFile(specPath)
		if err != nil {
			return "", fmt.Errorf("read python_env: %w", err)
		}
		if err := yaml.Unmarshal(data, &spec); err != nil {
			return "", fmt.Errorf("%w: %s is not valid YAML: %v", ErrInvalid, filepath.Base(specPath), err)
		}
		h.Write(data)
		for _, d := range spec.Dependencies {
			if f, ok := strings.CutPrefix(strings.TrimSpace(d), "-r "); ok {
				b, _ := os.ReadFile(filepath.Join(base, strings.TrimSpace(f)))
				h.Write(b)
			}
		}
	}
	python, err := FindPython(spec.Python)
	if err != nil {
		return "", err
	}
	h.Write([]byte(python))
	root, err := Root()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, "mlrun-"+hex.EncodeToString(h.Sum(nil))[:20])
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("environment cache: %w", err)
	}
	lock := flock.New(dir + ".lock")
	if _, err := lock.TryLockContext(ctx, 100*time.Millisecond); err != nil {
		return "", fmt.Errorf("lock the environment cache: %w", err)
	}
	defer lock.Unlock()
	if _, err := os.Stat(filepath.Join(dir, ".mlrun-ready")); err == nil {
		return dir, nil
	}
	fmt.Fprintf(log, "mlrun: creating virtualenv %s\n", dir)
	os.RemoveAll(dir) // a half-built one from an interrupted build
	run := func(name string, args ...string) error {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = base
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s %s: %w", filepath.Base(name), strings.Join(args, " "), err)
		}
		return nil
	}
	if err := run(python, "-m", "venv", dir); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("%w (is python3-venv installed?): %v", ErrUnavailable, err)
	}
	if deps := append(append([]string{}, spec.BuildDependencies...), spec.Dependencies...); len(deps) > 0 {
		args := []string{"install", "--disable-pip-version-check"}
		for _, d := range deps {
			args = append(args, strings.Fields(d)...)
		}
		if err := run(filepath.Join(dir, "bin", "pip"), args...); err != nil {
			os.RemoveAll(dir)
			return "", fmt.Errorf("install the python_env dependencies: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ".mlrun-ready"), nil, 0o644); err != nil {
		return "", err
	}
	return dir, nil
}

// FindPython returns an interpreter for the requested version: pythonX.Y
// on PATH when the version names one, else python3.
func FindPython(version string) (string, error) {
	var candidates []string
	if parts := strings.Split(version, "."); len(parts) >= 2 {
		candidates = append(candidates, "python"+parts[0]+"."+parts[1])
	}
	candidates = append(candidates, "python3", "python")
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: no python3 on PATH", ErrUnavailable)
}

// ErrNoConda: neither conda nor mamba is there.
var ErrNoConda = fmt.Errorf("%w: conda or mamba is needed on PATH (or MLFLOW_CONDA_HOME)", ErrUnavailable)

// Conda creates (or reuses) the conda environment of the conda.yaml at
// specPath with conda or mamba, named by the spec's hash, and returns
// conda's base folder and the environment's name.
func Conda(ctx context.Context, specPath string, log io.Writer) (base, name string, err error) {
	conda := ""
	for _, c := range []string{os.Getenv("MLFLOW_CONDA_HOME") + "/bin/conda", "mamba", "conda"} {
		if path, err := exec.LookPath(c); err == nil {
			conda = path
			break
		}
	}
	if conda == "" {
		return "", "", ErrNoConda
	}
	data, err := os.ReadFile(specPath)
	if err != nil {
		return "", "", fmt.Errorf("read conda env: %w", err)
	}
	sum := sha256.Sum256(data)
	name = "mlrun-" + hex.EncodeToString(sum[:])[:40]
	out, _ := exec.CommandContext(ctx, conda, "env", "list").Output()
	if !strings.Contains(string(out), name) {
		fmt.Fprintf(log, "mlrun: creating conda environment %s\n", name)
		cmd := exec.CommandContext(ctx, conda, "env", "create", "-n", name, "-f", specPath)
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Run(); err != nil {
			return "", "", fmt.Errorf("create conda environment %s: %w", name, err)
		}
	}
	return filepath.Dir(filepath.Dir(conda)), name, nil
}
