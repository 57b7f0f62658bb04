package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	dockerclient "github.com/docker/docker/client"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/urfave/cli/v2"

	"github.com/mlrun/mlrun/internal/pipreq"
	"github.com/mlrun/mlrun/internal/pyenv"
	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/serve"
	"github.com/mlrun/mlrun/serve/image"
	"github.com/mlrun/mlrun/server"
	"github.com/mlrun/mlrun/store"
)

// modelURIFlags are the flags serve and predict share with mlflow's.
func modelURIFlags(extra ...cli.Flag) []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "model-uri", Aliases: []string{"m"}, Required: true, Usage: "the model: models:/name/1, models:/name@alias, models:/name/Production, models:/<model_id>, runs:/<run_id>/<path>, or a local folder"},
		&cli.StringFlag{Name: "env-manager", Value: "virtualenv", Usage: "local, virtualenv or conda: the Python environment of a model served by a Python worker (virtualenv: built from the model's python_env.yaml; xgboost, ONNX and most scikit-learn models are served in Go and need none)"},
		&cli.BoolFlag{Name: "no-conda", Usage: "mlflow's alias of --env-manager local"},
		&cli.BoolFlag{Name: "install-mlflow", Usage: "ignored (mlflow's: install MLflow into the model's environment)"},
		&cli.BoolFlag{Name: "enable-mlserver", Usage: "mlflow's: serve with Seldon's MLServer; refused (mlrun serves MLflow's scoring protocol itself)"},
		&cli.StringFlag{Name: "runtime", Value: "auto", Usage: "auto: models Go predicts (xgboost, ONNX, the scikit-learn estimators the README lists) in Go, others by a Python worker; python: a Python worker whatever the model, with the model's own libraries, as MLflow; go: refuse a model Go does not predict"},
		&cli.StringFlag{Name: "python", Value: "python3", Usage: "with --env-manager local: the Python whose environment serves a model that needs Python (sklearn)"},
		trackingFlag, registryFlag,
	}, extra...)
}

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "serve a model over MLflow's scoring protocol (/invocations, /ping, /health, /version)",
		Flags: modelURIFlags(
			&cli.StringFlag{Name: "host", Aliases: []string{"h"}, Value: "127.0.0.1", Usage: "address to listen on"},
			&cli.IntFlag{Name: "port", Aliases: []string{"p"}, Value: 5000, Usage: "port to listen on"},
			&cli.IntFlag{Name: "timeout", Aliases: []string{"t"}, Value: 60, Usage: "seconds a request may take"},
			&cli.IntFlag{Name: "workers", Aliases: []string{"w"}, Value: 1, Usage: "Python workers for models served in Python (Go-served models use every core)"},
			&cli.Int64Flag{Name: "max-body", Value: 100 << 20, Usage: "largest request body, in bytes (larger ones get 413)"},
		),
		Action: func(c *cli.Context) error {
			return withModel(c, func(m *serve.Model) error {
				ln, err := net.Listen("tcp", net.JoinHostPort(c.String("host"), strconv.Itoa(c.Int("port"))))
				if err != nil {
					return err
				}
				log := slog.New(slog.NewTextHandler(os.Stderr, nil))
				log.Info("serving model", "model_uri", c.String("model-uri"), "flavor", m.Flavor, "runtime", m.Runtime)
				if m.Why != "" {
					log.Info("served by Python, not Go", "why", m.Why)
				}
				if m.Hint != "" {
					log.Info("input", "hint", m.Hint)
				}
				h := serve.NewHandler(m, serve.Options{Version: server.Version, MaxBody: c.Int64("max-body"), Metrics: prometheus.NewRegistry(),
					Timeout: time.Duration(c.Int("timeout")) * time.Second})
				return serveUntilDone(c.Context, ln, h, log)
			})
		},
	}
}

func predictCommand() *cli.Command {
	return &cli.Command{
		Name:  "predict",
		Usage: "predict with a model once, as `models serve` would answer /invocations",
		Flags: modelURIFlags(
			&cli.StringFlag{Name: "input-path", Aliases: []string{"i"}, Usage: "the input: a JSON body of the scoring protocol or a CSV file (default: standard input)"},
			&cli.StringFlag{Name: "output-path", Aliases: []string{"o"}, Usage: "where to write the predictions (default: standard output)"},
			&cli.StringFlag{Name: "content-type", Aliases: []string{"t"}, Value: "json", Usage: "json or csv"},
			&cli.StringSliceFlag{Name: "env", Usage: "an environment variable for the model's Python worker, KEY=VALUE (repeatable)"},
			&cli.StringFlag{Name: "pip-requirements-override", Aliases: []string{"r"}, Usage: "requirements in place of the model's own of the same packages, comma-separated (x==1.0,y>=2): the model's environment with them, built apart (virtualenv or conda)"},
		),
		Action: func(c *cli.Context) error {
			kind := c.String("content-type")
			if kind != "json" && kind != "csv" {
				return errors.New("Content type must be one of json or csv.")
			}
			if _, err := keyValues(c, "env"); err != nil {
				return err
			}
			if _, err := requirementsOverride(c); err != nil {
				return err
			}
			var in io.Reader = os.Stdin
			if p := c.String("input-path"); p != "" {
				f, err := os.Open(p)
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			body, err := io.ReadAll(in)
			if err != nil {
				return err
			}
			return withModel(c, func(m *serve.Model) error {
				out, err := m.Score(c.Context, kind, body)
				if err != nil {
					return err
				}
				if p := c.String("output-path"); p != "" {
					return os.WriteFile(p, append(out, '\n'), 0o644)
				}
				_, err = fmt.Fprintf(c.App.Writer, "%s\n", out)
				return err
			})
		},
	}
}

// generateDockerfileCommand is mlflow models generate-dockerfile: what
// build-docker sends the daemon, written into a folder to build elsewhere.
func generateDockerfileCommand() *cli.Command {
	return &cli.Command{
		Name:  "generate-dockerfile",
		Usage: "write the Dockerfile, mlrun and the model into a folder, from which `docker build` makes build-docker's image",
		Flags: imageFlags(&cli.StringFlag{Name: "output-directory", Aliases: []string{"d"}, Value: "mlflow-dockerfile", Usage: "a new (or empty) folder"}),
		Action: func(c *cli.Context) error {
			return withImageModel(c, func(dir, bin string, _ *serve.Model) error {
				out := c.String("output-directory")
				if err := image.WriteContext(out, dir, bin, image.Options{Base: c.String("base-image"), Python: c.String("base-python"), Runtime: c.String("runtime")}); err != nil {
					return err
				}
				fmt.Fprintf(c.App.ErrWriter, "Wrote the build context of %s into %s: docker build -t NAME %s\n", c.String("model-uri"), out, out)
				return nil
			})
		},
	}
}

// imageFlags are the flags of the commands that make a model's image:
// the model's, extra, and what the image is built of.
func imageFlags(extra ...cli.Flag) []cli.Flag {
	return modelURIFlags(append(extra,
		&cli.StringFlag{Name: "mlrun-binary", Usage: "the statically linked mlrun to put in the image (default: this one)"},
		&cli.StringFlag{Name: "base-image", Usage: "build FROM this image, which has Python and the model's requirements (needed for models served by Python: sklearn…)"},
		&cli.StringFlag{Name: "base-python", Usage: "the Python of --base-image that serves the model (default: python3 on its PATH)"},
		&cli.BoolFlag{Name: "install-java", Usage: "ignored (mlflow's: Java in the image; mlrun's image needs none)"},
		&cli.StringFlag{Name: "mlflow-home", Usage: "ignored (mlflow's: a local MLflow source tree for the image)"},
	)...)
}

// withImageModel runs fn with the model's folder, the static mlrun for
// its image and the model, once both are known to make an image.
func withImageModel(c *cli.Context, fn func(dir, bin string, m *serve.Model) error) error {
	bin, err := imageBinary(c)
	if err != nil {
		return err
	}
	return loadModel(c, true, func(dir string, m *serve.Model) error {
		if err := imageServable(c, m); err != nil {
			return err
		}
		return fn(dir, bin, m)
	})
}

// imageBinary is the static mlrun an image gets: --mlrun-binary, else
// this one.
func imageBinary(c *cli.Context) (string, error) {
	bin := c.String("mlrun-binary")
	if bin == "" {
		self, err := os.Executable()
		if err != nil {
			return "", err
		}
		bin = self
	}
	if err := image.CheckStatic(bin); err != nil {
		return "", fmt.Errorf("the image runs mlrun itself FROM scratch, so it needs a statically linked mlrun: %w; build one with CGO_ENABLED=1 go build -tags 'osusergo netgo sqlite_omit_load_extension' -ldflags '-s -w -extldflags -static' ./cmd/mlrun and pass it with --mlrun-binary", err)
	}
	return bin, nil
}

// imageServable says why a model cannot be served from an image, if so.
func imageServable(c *cli.Context, m *serve.Model) error {
	if m.Runtime == "python" && c.String("base-image") == "" {
		return fmt.Errorf("mlrun serves %s models with a Python worker, and an image FROM scratch has no Python: give --base-image, an image with Python and the model's requirements (its requirements.txt installed), e.g. one built FROM python:3.11-slim", m.Flavor)
	}
	if m.Runtime == "plugin" {
		return fmt.Errorf("the %s flavor is served by a plugin executable, which the image does not hold: only built-in flavors go into an image", m.Flavor)
	}
	return nil
}

func buildDockerCommand() *cli.Command {
	return &cli.Command{
		Name:  "build-docker",
		Usage: "build a Docker image that serves a model on port 8080 (mlrun alone, FROM scratch; or FROM --base-image for models that need Python)",
		Flags: imageFlags(&cli.StringFlag{Name: "name", Aliases: []string{"n"}, Value: "mlflow-pyfunc-servable", Usage: "the image's name (and tag)"}),
		Action: func(c *cli.Context) error {
			return withImageModel(c, func(dir, bin string, m *serve.Model) error {
				base := c.String("base-image")
				cli, err := dockerclient.NewClientWithOpts(dockerclient.FromEnv, dockerclient.WithAPIVersionNegotiation())
				if err != nil {
					return err
				}
				defer cli.Close()
				if err := image.Build(c.Context, cli, dir, bin, c.String("name"), image.Options{Base: base, Python: c.String("base-python"), Runtime: c.String("runtime")}, c.App.ErrWriter); err != nil {
					return err
				}
				how := "in Go"
				if m.Runtime == "python" {
					how = "by the Python of " + base
				}
				fmt.Fprintf(c.App.ErrWriter, "Built image %s serving %s (%s, %s) on port %d: docker run -p 5001:%d %s\n",
					c.String("name"), c.String("model-uri"), m.Flavor, how, image.Port, image.Port, c.String("name"))
				return nil
			})
		},
	}
}

// modelPython says which Python serves a model that needs one:
// --env-manager local, python3 (or --python) as it is; virtualenv, a
// virtualenv built from the model's python_env.yaml (cached as mlrun run
// caches a project's); conda, the conda environment of its conda.yaml.
//
// With --pip-requirements-override (models predict), the environment is
// the model's with those requirements in place of its own of the same
// packages, built and cached apart.
func modelPython(c *cli.Context) func(dir string) (string, error) {
	return func(dir string) (string, error) {
		overrides, err := requirementsOverride(c)
		if err != nil {
			return "", err
		}
		em := c.String("env-manager")
		if c.Bool("no-conda") {
			em = "local"
		}
		if len(overrides) > 0 {
			if em == "local" {
				return "", fmt.Errorf("%w: --pip-requirements-override needs --env-manager virtualenv or conda (the local environment is used as it is)", store.ErrInvalidArgument)
			}
			spec, cleanup, err := overriddenEnvSpec(dir, em, overrides)
			if err != nil {
				return "", err
			}
			defer cleanup()
			dir = filepath.Dir(spec)
		}
		switch {
		case em == "local":
			return c.String("python"), nil
		case em == "conda":
			spec := filepath.Join(dir, "conda.yaml")
			if _, err := os.Stat(spec); err != nil {
				return "", fmt.Errorf("the model has no conda.yaml for --env-manager conda (use --env-manager local): %w", err)
			}
			base, name, err := pyenv.Conda(c.Context, spec, c.App.ErrWriter)
			if err != nil {
				return "", err
			}
			return filepath.Join(base, "envs", name, "bin", "python"), nil
		}
		spec := filepath.Join(dir, "python_env.yaml")
		if _, err := os.Stat(spec); err != nil {
			return "", fmt.Errorf("the model has no python_env.yaml for --env-manager virtualenv (use --env-manager local): %w", err)
		}
		env, err := pyenv.Virtualenv(c.Context, spec, c.App.ErrWriter)
		if err != nil {
			return "", err
		}
		return filepath.Join(env, "bin", "python"), nil
	}
}

// withModel loads the model --model-uri names: a local folder as it is,
// anything else resolved through the registry and downloaded into a
// temporary folder, removed afterwards.
func withModel(c *cli.Context, fn func(*serve.Model) error) error {
	return withModelDir(c, func(_ string, m *serve.Model) error { return fn(m) })
}

// withModelDir is withModel, also handing out the model's local folder.
func withModelDir(c *cli.Context, fn func(string, *serve.Model) error) error {
	return loadModel(c, false, fn)
}

// loadModel is withModelDir; inspect reads the model without starting its
// Python workers (build-docker only needs to know how it is served).
func loadModel(c *cli.Context, inspect bool, fn func(string, *serve.Model) error) error {
	switch em := c.String("env-manager"); {
	case em != "local" && em != "virtualenv" && em != "conda":
		return fmt.Errorf("--env-manager %s: want local, virtualenv or conda", em)
	}
	if c.Bool("install-mlflow") {
		fmt.Fprintln(c.App.ErrWriter, "mlrun: --install-mlflow is mlflow's and means nothing here; ignored")
	}
	if c.Bool("enable-mlserver") {
		return fmt.Errorf("%w: --enable-mlserver: mlrun does not serve through Seldon's MLServer; without the flag it serves MLflow's scoring protocol (/invocations) itself", store.ErrUnsupported)
	}
	rt := c.String("runtime")
	if rt != "auto" && rt != "go" && rt != "python" {
		return fmt.Errorf("%w: --runtime %s: want auto, go or python", store.ErrInvalidArgument, rt)
	}
	// Requirements overrides only mean something to a Python worker.
	preferPython := rt == "python" || rt == "auto" && strings.TrimSpace(c.String("pip-requirements-override")) != ""
	load := func(dir string) (*serve.Model, error) {
		workers := 1
		if c.IsSet("workers") {
			workers = c.Int("workers")
		}
		po := pluginOptions()
		// With --runtime go, no Python is started: a model that would need
		// it is only inspected, and refused below.
		m, err := serve.Load(dir, serve.LoadOptions{PythonFor: modelPython(c), Workers: workers, Plugins: &po, NoWorkers: inspect || rt == "go", Env: c.StringSlice("env"), PreferPython: preferPython})
		if err == nil && rt == "python" && m.Runtime == "go" {
			m.Close()
			return nil, fmt.Errorf("%w: --runtime python: mlrun has no Python worker for %s models; they are served in Go (--runtime auto)", store.ErrUnsupported, m.Flavor)
		}
		if err == nil && rt == "go" && m.Runtime != "go" {
			m.Close()
			why := m.Why
			if why == "" {
				why = "mlrun predicts " + m.Flavor + " models with a " + m.Runtime
			}
			return nil, fmt.Errorf("%w: --runtime go: %s", store.ErrUnsupported, why)
		}
		return m, err
	}
	uri := c.String("model-uri")
	if st, err := os.Stat(uri); err == nil && st.IsDir() {
		m, err := load(uri)
		if err != nil {
			return err
		}
		defer m.Close()
		return fn(uri, m)
	}
	dir, err := os.MkdirTemp("", "mlrun-model-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	err = withRegistry(c, func(st store.Store, reg registry.Store) error {
		loc, err := registry.Resolve(c.Context, st, reg, uri, artifactsOf(st))
		if err != nil {
			return err
		}
		if _, err := downloadURI(c, st, loc, dir); err != nil {
			return fmt.Errorf("download %s (%s): %w", uri, loc, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	m, err := load(dir)
	if err != nil {
		return fmt.Errorf("%s: %w", uri, err)
	}
	defer m.Close()
	return fn(dir, m)
}

// prepareEnvCommand is mlflow models prepare-env: the Python environment
// serve and predict would build for the model (--env-manager), built now
// and cached, so that they start at once. A model served in Go needs
// none, and is said to.
func prepareEnvCommand() *cli.Command {
	return &cli.Command{
		Name:  "prepare-env",
		Usage: "build (and cache) the Python environment serve and predict would use for a model, as mlflow models prepare-env",
		Flags: modelURIFlags(),
		Action: func(c *cli.Context) error {
			return loadModel(c, true, func(dir string, m *serve.Model) error {
				switch m.Runtime {
				case "go":
					fmt.Fprintf(c.App.ErrWriter, "%s (%s) is served in Go: it needs no Python environment\n", c.String("model-uri"), m.Flavor)
					return nil
				case "plugin":
					fmt.Fprintf(c.App.ErrWriter, "%s (%s) is served by its flavor's plugin: it needs no Python environment\n", c.String("model-uri"), m.Flavor)
					return nil
				}
				python, err := modelPython(c)(dir)
				if err != nil {
					return fmt.Errorf("%s: the model's Python environment: %w", c.String("model-uri"), err)
				}
				fmt.Fprintf(c.App.ErrWriter, "The environment of %s is ready: %s\n", c.String("model-uri"), python)
				return nil
			})
		},
	}
}

// requirementsOverride reads --pip-requirements-override: requirements,
// comma-separated (MLflow's form), each checked.
func requirementsOverride(c *cli.Context) ([]pipreq.Requirement, error) {
	v := strings.TrimSpace(c.String("pip-requirements-override"))
	if v == "" {
		return nil, nil
	}
	reqs, err := pipreq.ParseList(pipreq.SplitList(v))
	if err != nil {
		return nil, fmt.Errorf("%w: --pip-requirements-override: %v", store.ErrInvalidArgument, err)
	}
	return reqs, nil
}
