package launch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"gopkg.in/yaml.v3"

	"github.com/mlrun/mlrun/project"
	"github.com/mlrun/mlrun/runner"
)

// Env managers.
const (
	EnvLocal      = "local"
	EnvVirtualenv = "virtualenv"
	EnvConda      = "conda"
)

// pickEnvManager applies the default: virtualenv for a project with a
// python_env, conda for one with a conda_env, local otherwise (MLflow
// would build a bare virtualenv even then; mlrun runs in place).
func pickEnvManager(p *project.Project, requested string) (string, error) {
	switch requested {
	case "":
		switch p.EnvType() {
		case "python":
			return EnvVirtualenv, nil
		case "conda":
			return EnvConda, nil
		}
		return EnvLocal, nil
	case EnvLocal, EnvVirtualenv, EnvConda:
		if requested == EnvConda && p.EnvType() == "python" {
			return "", fmt.Errorf("%w: python_env project cannot be executed using conda. Set --env-manager to 'virtualenv' or 'local' to execute this project.", runner.ErrInvalid)
		}
		return requested, nil
	}
	return "", fmt.Errorf("%w: unknown --env-manager %q: want local, virtualenv or conda", runner.ErrInvalid, requested)
}

// pythonEnvSpec is MLflow's python_env.yaml.
type pythonEnvSpec struct {
	Python            string   `yaml:"python"`
	BuildDependencies []string `yaml:"build_dependencies"`
	Dependencies      []string `yaml:"dependencies"`
}

// envRoot is where environments are cached.
func envRoot() (string, error) {
	if d := os.Getenv("MLRUN_ENV_ROOT"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache folder for environments: set MLRUN_ENV_ROOT (%w)", err)
	}
	return filepath.Join(d, "mlrun", "envs"), nil
}

// prepareEnv builds (or reuses) the step's environment and returns the
// command prefix that activates it ("" for local).
func prepareEnv(ctx context.Context, p *project.Project, manager string, log io.Writer) (string, error) {
	switch manager {
	case EnvVirtualenv:
		return prepareVirtualenv(ctx, p, log)
	case EnvConda:
		return prepareConda(ctx, p, log)
	}
	return "", nil
}

// prepareVirtualenv makes a venv from the project's python_env, cached by
// the hash of the spec (and of requirement files it names): a second run
// reuses it at once.
func prepareVirtualenv(ctx context.Context, p *project.Project, log io.Writer) (string, error) {
	var spec pythonEnvSpec
	h := sha256.New()
	if p.PythonEnv != "" {
		data, err := os.ReadFile(filepath.Join(p.Dir, p.PythonEnv))
		if err != nil {
			return "", fmt.Errorf("read python_env: %w", err)
		}
		if err := yaml.Unmarshal(data, &spec); err != nil {
			return "", fmt.Errorf("%w: python_env file %s is not valid YAML: %v", runner.ErrInvalid, p.PythonEnv, err)
		}
		h.Write(data)
		for _, d := range spec.Dependencies {
			if f, ok := strings.CutPrefix(strings.TrimSpace(d), "-r "); ok {
				b, _ := os.ReadFile(filepath.Join(p.Dir, strings.TrimSpace(f)))
				h.Write(b)
			}
		}
	}
	python, err := findPython(spec.Python)
	if err != nil {
		return "", err
	}
	h.Write([]byte(python))
	root, err := envRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, "mlrun-"+hex.EncodeToString(h.Sum(nil))[:20])
	activate := filepath.Join(dir, "bin", "activate")
	// One builder per environment; others wait and reuse it.
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("environment cache: %w", err)
	}
	lock := flock.New(dir + ".lock")
	if _, err := lock.TryLockContext(ctx, 100*time.Millisecond); err != nil {
		return "", fmt.Errorf("lock the environment cache: %w", err)
	}
	defer lock.Unlock()
	ready := "source " + project.Quote(activate) + " && "
	if _, err := os.Stat(filepath.Join(dir, ".mlrun-ready")); err == nil {
		return ready, nil
	}
	fmt.Fprintf(log, "mlrun: creating virtualenv %s\n", dir)
	os.RemoveAll(dir) // a half-built one from an interrupted run
	run := func(name string, args ...string) error {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = p.Dir
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s %s: %w", filepath.Base(name), strings.Join(args, " "), err)
		}
		return nil
	}
	if err := run(python, "-m", "venv", dir); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("%w: cannot create a virtualenv (is python3-venv installed?): %v; or run with --env-manager local", runner.ErrBackendUnavailable, err)
	}
	if deps := append(append([]string{}, spec.BuildDependencies...), spec.Dependencies...); len(deps) > 0 {
		args := []string{"install", "--disable-pip-version-check"}
		for _, d := range deps {
			args = append(args, strings.Fields(d)...)
		}
		if err := run(filepath.Join(dir, "bin", "pip"), args...); err != nil {
			os.RemoveAll(dir)
			return "", fmt.Errorf("install the python_env dependencies: %w (run with --env-manager local to use the current environment)", err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ".mlrun-ready"), nil, 0o644); err != nil {
		return "", err
	}
	return ready, nil
}

// findPython returns an interpreter for the requested version: pythonX.Y
// on PATH when the version names one, else python3.
func findPython(version string) (string, error) {
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
	return "", fmt.Errorf("%w: no python3 on PATH for --env-manager virtualenv; install python3 or run with --env-manager local", runner.ErrBackendUnavailable)
}

// prepareConda creates the project's conda environment with conda or
// mamba, cached by the spec's hash.
func prepareConda(ctx context.Context, p *project.Project, log io.Writer) (string, error) {
	conda := ""
	for _, c := range []string{os.Getenv("MLFLOW_CONDA_HOME") + "/bin/conda", "mamba", "conda"} {
		if path, err := exec.LookPath(c); err == nil {
			conda = path
			break
		}
	}
	if conda == "" {
		return "", fmt.Errorf("%w: --env-manager conda needs conda or mamba on PATH (or MLFLOW_CONDA_HOME); install one, or run with --env-manager local", runner.ErrBackendUnavailable)
	}
	if p.CondaEnv == "" {
		return "", fmt.Errorf("%w: the project has no conda_env file for --env-manager conda", runner.ErrInvalid)
	}
	data, err := os.ReadFile(filepath.Join(p.Dir, p.CondaEnv))
	if err != nil {
		return "", fmt.Errorf("read conda_env: %w", err)
	}
	sum := sha256.Sum256(data)
	name := "mlrun-" + hex.EncodeToString(sum[:])[:40]
	out, _ := exec.CommandContext(ctx, conda, "env", "list").Output()
	if !strings.Contains(string(out), name) {
		fmt.Fprintf(log, "mlrun: creating conda environment %s\n", name)
		cmd := exec.CommandContext(ctx, conda, "env", "create", "-n", name, "-f", filepath.Join(p.Dir, p.CondaEnv))
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("create conda environment %s: %w", name, err)
		}
	}
	base := filepath.Dir(filepath.Dir(conda))
	return fmt.Sprintf("source %s && conda activate %s 1>&2 && ", project.Quote(filepath.Join(base, "etc", "profile.d", "conda.sh")), name), nil
}
