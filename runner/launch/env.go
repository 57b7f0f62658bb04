package launch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"

	"github.com/mlrun/mlrun/internal/pyenv"
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

// prepareVirtualenv makes a venv from the project's python_env (pyenv:
// cached by the spec's hash, so a second run reuses it at once).
func prepareVirtualenv(ctx context.Context, p *project.Project, log io.Writer) (string, error) {
	spec := ""
	if p.PythonEnv != "" {
		spec = filepath.Join(p.Dir, p.PythonEnv)
	}
	dir, err := pyenv.Virtualenv(ctx, spec, log)
	switch {
	case errors.Is(err, pyenv.ErrInvalid):
		return "", fmt.Errorf("%w: %v", runner.ErrInvalid, err)
	case errors.Is(err, pyenv.ErrUnavailable):
		return "", fmt.Errorf("%w: %v; or run with --env-manager local", runner.ErrBackendUnavailable, err)
	case err != nil:
		return "", fmt.Errorf("%v (run with --env-manager local to use the current environment)", err)
	}
	return "source " + project.Quote(filepath.Join(dir, "bin", "activate")) + " && ", nil
}

// prepareConda creates the project's conda environment with conda or
// mamba (pyenv: named by the spec's hash).
func prepareConda(ctx context.Context, p *project.Project, log io.Writer) (string, error) {
	if p.CondaEnv == "" {
		if _, err := exec.LookPath("conda"); err != nil {
			if _, err := exec.LookPath("mamba"); err != nil {
				return "", fmt.Errorf("%w: --env-manager conda needs conda or mamba on PATH (or MLFLOW_CONDA_HOME); install one, or run with --env-manager local", runner.ErrBackendUnavailable)
			}
		}
		return "", fmt.Errorf("%w: the project has no conda_env file for --env-manager conda", runner.ErrInvalid)
	}
	base, name, err := pyenv.Conda(ctx, filepath.Join(p.Dir, p.CondaEnv), log)
	if errors.Is(err, pyenv.ErrNoConda) {
		return "", fmt.Errorf("%w: --env-manager conda needs conda or mamba on PATH (or MLFLOW_CONDA_HOME); install one, or run with --env-manager local", runner.ErrBackendUnavailable)
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("source %s && conda activate %s 1>&2 && ", project.Quote(filepath.Join(base, "etc", "profile.d", "conda.sh")), name), nil
}
