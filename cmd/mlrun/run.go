package main

import (
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/project"
	"github.com/mlrun/mlrun/runner"
	"github.com/mlrun/mlrun/runner/docker"
	"github.com/mlrun/mlrun/runner/kubernetes"
	"github.com/mlrun/mlrun/runner/launch"
	"github.com/mlrun/mlrun/runner/local"
	"github.com/mlrun/mlrun/server"
	"github.com/mlrun/mlrun/store"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run an MLflow project (a folder or a git URI) as a tracked run",
		ArgsUsage: "URI",
		Flags: append(projectFlags(),
			&cli.StringFlag{Name: "run-name", Usage: "name of the run"},
			&cli.StringFlag{Name: "run-id", Usage: "reuse this active run instead of creating one"},
		),
		Action: runProject,
	}
}

// projectFlags are the flags of a command that runs a project (run, tune).
func projectFlags() []cli.Flag {
	return []cli.Flag{
		trackingFlag,
		&cli.StringFlag{Name: "entry-point", Aliases: []string{"e"}, Value: "main", Usage: "entry point name, or a .py/.sh file of the project"},
		&cli.StringFlag{Name: "version", Aliases: []string{"v"}, Usage: "git branch, tag or commit"},
		&cli.StringSliceFlag{Name: "param-list", Aliases: []string{"P"}, Usage: "a parameter NAME=VALUE (repeatable)"},
		&cli.StringSliceFlag{Name: "docker-args", Aliases: []string{"A"}, Usage: "docker run option NAME[=VALUE] (docker backend)"},
		&cli.StringFlag{Name: "experiment-name", EnvVars: []string{"MLFLOW_EXPERIMENT_NAME"}, Usage: "experiment to run in (created if missing)"},
		&cli.StringFlag{Name: "experiment-id", EnvVars: []string{"MLFLOW_EXPERIMENT_ID"}, Usage: "experiment id to run in"},
		&cli.StringFlag{Name: "backend", Aliases: []string{"b"}, Usage: "local, docker or kubernetes (default: docker for a project with docker_env, as MLflow; local otherwise)"},
		&cli.StringFlag{Name: "backend-config", Aliases: []string{"c"}, Usage: "backend options: a .json file or a JSON string"},
		&cli.StringFlag{Name: "env-manager", Usage: "local, virtualenv or conda (default: by the project's environment)"},
		&cli.StringFlag{Name: "storage-dir", EnvVars: []string{"MLFLOW_TMP_DIR"}, Usage: "where path parameters are downloaded"},
		&cli.BoolFlag{Name: "build-image", Usage: "docker: build <name>:<content hash> FROM the docker_env image with the project copied in"},
		&cli.BoolFlag{Name: "keep-container", Usage: "docker: keep the container after the run"},
		&cli.BoolFlag{Name: "skip-image-build", Usage: "kubernetes: run docker_env.image as it is (no project image is built)"},
		&cli.BoolFlag{Name: "skip-image-push", Usage: "kubernetes: use the built image without pushing it (the cluster must have it)"},
	}
}

// parseParams reads -P NAME=VALUE flags as mlflow run does.
func parseParams(list []string) ([]project.KV, error) {
	var out []project.KV
	seen := map[string]bool{}
	for _, p := range list {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return nil, fmt.Errorf("Invalid format for -P parameter: '%s'. Use -P name=value.", p)
		}
		if seen[k] {
			return nil, fmt.Errorf("Repeated parameter: '%s'", k)
		}
		seen[k] = true
		out = append(out, project.KV{Key: k, Value: v})
	}
	return out, nil
}

func runProject(c *cli.Context) error {
	if c.NArg() != 1 {
		return errors.New("run: want one project URI (a folder or a git URI)")
	}
	params, err := parseParams(c.StringSlice("param-list"))
	if err != nil {
		return err
	}
	uri := c.String("tracking-uri")
	if uri == "" {
		uri = DefaultTrackingURI
	}
	st, err := openStore(c.Context, uri, "")
	if err != nil {
		return err
	}
	defer st.Close()
	req, err := launchRequest(c, st, uri, params)
	if err != nil {
		return err
	}
	req.RunName, req.RunID = c.String("run-name"), c.String("run-id")
	// Runs an earlier mlrun on this host left RUNNING when it died are ended first.
	if ended, err := launch.Reap(c.Context, st); err == nil && len(ended) > 0 {
		fmt.Fprintf(c.App.ErrWriter, "mlrun: ended %d run(s) left RUNNING by an mlrun that exited: %s\n", len(ended), strings.Join(ended, ", "))
	}
	running := make(chan struct{})
	go func() {
		select {
		case <-c.Context.Done():
			fmt.Fprintln(c.App.ErrWriter, "mlrun: stopping the step (Ctrl-C again to kill it now)")
		case <-running:
		}
	}()
	out, err := launch.Execute(c.Context, req)
	close(running)
	if out == nil {
		return err // nothing started: no run was created
	}
	w := c.App.ErrWriter
	switch out.Status {
	case store.StatusFinished:
		fmt.Fprintf(w, "=== Run (ID '%s') succeeded ===\n", out.RunID)
	case store.StatusKilled:
		fmt.Fprintf(w, "=== Run (ID '%s') killed ===\n", out.RunID)
	default:
		fmt.Fprintf(w, "=== Run (ID '%s') failed ===\n", out.RunID)
	}
	fmt.Fprintln(w, viewHint(uri, out.ExperimentID, out.RunID))
	fmt.Fprintf(c.App.Writer, "run_id: %s\nexperiment_id: %s\nstatus: %s\nduration: %s\n", out.RunID, out.ExperimentID, out.Status, out.Duration.Round(1e6))
	if err != nil {
		return err
	}
	switch out.Status {
	case store.StatusFinished:
		return nil
	case store.StatusKilled:
		return cli.Exit("", 130)
	}
	code := out.ExitCode
	if code <= 0 || code > 255 {
		code = 1
	}
	return cli.Exit("", code)
}

// launchRequest is the launch.Request of the project command c (run,
// tune): the backend its flags choose, the store served to the step on
// loopback when it is a database.
func launchRequest(c *cli.Context, st store.Store, uri string, params []project.KV) (req launch.Request, _ error) {
	newDocker := func() (runner.Backend, error) {
		return docker.New(docker.Options{
			BuildImage: c.Bool("build-image"), KeepContainer: c.Bool("keep-container"),
			Args: c.StringSlice("docker-args"), Config: c.String("backend-config"), Out: c.App.ErrWriter,
		})
	}
	// refuse says which flag of another backend's was given to this one.
	refuse := func(flags []string, whose, this string) error {
		for _, f := range flags {
			if c.IsSet(f) {
				return fmt.Errorf("--%s is a %s backend option, and this run is %s", f, whose, this)
			}
		}
		return nil
	}
	dockerFlags := []string{"build-image", "keep-container", "docker-args"}
	kubeFlags := []string{"skip-image-build", "skip-image-push"}
	const localRun = "local (--backend local, --env-manager local, or a project without docker_env)"
	dockerOnly := func() error {
		if err := refuse(dockerFlags, "docker", localRun); err != nil {
			return err
		}
		return refuse(kubeFlags, "kubernetes", localRun)
	}
	var backend runner.Backend
	var choose func(bool) (runner.Backend, error)
	switch b := c.String("backend"); b {
	case "local":
		if err := dockerOnly(); err != nil {
			return req, err
		}
		backend = local.Backend{}
	case "docker":
		if err := refuse(kubeFlags, "kubernetes", "on docker"); err != nil {
			return req, err
		}
		var err error
		if backend, err = newDocker(); err != nil {
			return req, err
		}
	case "kubernetes":
		if err := refuse(dockerFlags[1:], "docker", "on kubernetes (its options are in --backend-config)"); err != nil {
			return req, err
		}
		var err error
		if backend, err = kubernetes.New(kubernetes.Options{
			Config: c.String("backend-config"), SkipImageBuild: c.Bool("skip-image-build"), SkipImagePush: c.Bool("skip-image-push"), Out: c.App.ErrWriter,
		}); err != nil {
			return req, err
		}
	case "":
		// As MLflow: a docker_env project runs in a container unless
		// --env-manager local asks for the host.
		choose = func(dockerEnv bool) (runner.Backend, error) {
			if dockerEnv && c.String("env-manager") != "local" {
				if err := refuse(kubeFlags, "kubernetes", "on docker (--backend kubernetes runs it on a cluster)"); err != nil {
					return nil, err
				}
				return newDocker()
			}
			if err := dockerOnly(); err != nil {
				return nil, err
			}
			return local.Backend{}, nil
		}
	default:
		return req, fmt.Errorf("backend %q is not supported: use local, docker or kubernetes", b)
	}
	req = launch.Request{
		URI: c.Args().First(), Version: c.String("version"), EntryPoint: c.String("entry-point"), Params: params,
		ExperimentName: c.String("experiment-name"), ExperimentID: c.String("experiment-id"),
		EnvManager: c.String("env-manager"), Backend: backend, ChooseBackend: choose,
		Store: st, TrackingURI: uri,
		Artifacts: func(u string) (artifact.Repository, error) { return artifactRepo(st, u) },
		Stdout:    c.App.Writer, Stderr: c.App.ErrWriter,
		KillNow: secondSignal,
	}
	if ls, ok := st.(store.Local); ok {
		req.Serve = func(l launch.Loopback) http.Handler { return server.ForRun(l.Store, l.Root, l.Roots, l.Token) }
		if !strings.Contains(ls.ArtifactRoot(), ":") {
			req.ArtifactRoot = ls.ArtifactRoot()
		}
	}
	return req, nil
}

// viewHint says where the run can be seen once it has ended. MLflow's
// client inside the step prints a "View run at" link to the loopback
// server, which is gone with the run; this one lasts: the tracking
// server's page, or the mlrun server command that serves a local store.
func viewHint(trackingURI, expID, runID string) string {
	page := "/#/experiments/" + expID + "/runs/" + runID
	if isHTTP(trackingURI) {
		return "=== View run at " + strings.TrimSuffix(project.Redact(trackingURI), "/") + page + " ==="
	}
	// A relative sqlite path is made absolute, so the command works from
	// any folder.
	if rel, ok := strings.CutPrefix(trackingURI, "sqlite:///"); ok && rel != "" && !strings.HasPrefix(rel, "/") && !strings.HasPrefix(rel, ":memory:") {
		if abs, err := filepath.Abs(rel); err == nil {
			trackingURI = "sqlite:///" + abs
		}
	}
	cmd := "mlrun server --backend-store-uri " + project.Redact(trackingURI)
	return "=== View run: " + cmd + ", then http://127.0.0.1:5000" + page + " ==="
}
