package launch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/project"
	"github.com/mlrun/mlrun/runner"
	"github.com/mlrun/mlrun/store"
)

// MLflow's automatic run tags (mlflow/utils/mlflow_tags.py).
const (
	TagUser          = "mlflow.user"
	TagSourceName    = "mlflow.source.name"
	TagSourceType    = "mlflow.source.type"
	TagGitCommit     = "mlflow.source.git.commit"
	TagGitBranch     = "mlflow.source.git.branch"
	TagGitRepoURL    = "mlflow.source.git.repoURL"
	TagLegacyRepoURL = "mlflow.gitRepoURL"
	TagLegacyBranch  = "mlflow.gitBranchName"
	TagEntryPoint    = "mlflow.project.entryPoint"
	TagBackend       = "mlflow.project.backend"
	TagEnv           = "mlflow.project.env"
	TagRunName       = "mlflow.runName"
	TagParentRunID   = "mlflow.parentRunId"
)

// StepLog is the run artifact holding the step's output.
const StepLog = "mlrun/step.log"

// Request is one `mlrun run`.
type Request struct {
	URI        string
	Version    string
	EntryPoint string // "" means main
	Params     []project.KV

	ExperimentName string
	ExperimentID   string
	RunName        string
	RunID          string // reuse this run instead of creating one
	// ParentRunID makes the new run a child of that run (MLflow's
	// mlflow.parentRunId tag: a tuning trial); Tags are more tags for it.
	ParentRunID string
	Tags        []store.Tag

	EnvManager string // "" picks by project (see pickEnvManager)
	Backend    runner.Backend

	// Store is where the run is tracked. TrackingURI is what a step is
	// told when the store is remote; with Serve the store is served on a
	// loopback port for the run's lifetime instead, its artifacts proxied
	// from ArtifactRoot.
	Store        store.Store
	TrackingURI  string
	ArtifactRoot string
	// Serve returns the handler of a run's loopback server (cmd gives
	// the tracking server's); nil tells the step TrackingURI.
	Serve func(Loopback) http.Handler
	// Artifacts returns the repository of a run's artifact URI (to keep
	// the step's log).
	Artifacts func(artifactURI string) (artifact.Repository, error)

	CacheDir  string // git clone cache ("" = default)
	CallerDir string // resolves relative -P paths ("" = working directory)
	Stdout    io.Writer
	Stderr    io.Writer
	Grace     time.Duration
	// KillNow, closed while a stopped step is in its grace period, kills
	// it at once (a second Ctrl-C).
	KillNow <-chan struct{}
	// ChooseBackend, used when Backend is nil, picks the backend once the
	// project is read: dockerEnv says it has a docker_env (MLflow runs
	// such a project in a container unless told otherwise).
	ChooseBackend func(dockerEnv bool) (runner.Backend, error)
}

// Outcome is how a run ended.
type Outcome struct {
	RunID        string
	ExperimentID string
	Status       store.RunStatus
	ExitCode     int
	Command      string
	Duration     time.Duration
	Commit       string
}

// Execute runs the request. Everything that can be checked (the project,
// the entry point, the parameters, the environment manager) is checked
// before the run is created; once it exists, the run always ends
// FINISHED, FAILED or KILLED. Cancelling ctx (Ctrl-C, SIGTERM) stops the
// step and ends the run KILLED.
func Execute(ctx context.Context, req Request) (*Outcome, error) {
	if req.Stdout == nil {
		req.Stdout = os.Stdout
	}
	if req.Stderr == nil {
		req.Stderr = os.Stderr
	}
	if req.EntryPoint == "" {
		req.EntryPoint = "main"
	}
	if req.Backend == nil && req.ChooseBackend == nil {
		return nil, fmt.Errorf("%w: no backend", runner.ErrInvalid)
	}
	if req.ExperimentName != "" && req.ExperimentID != "" {
		return nil, fmt.Errorf("%w: Specify only one of 'experiment-name' or 'experiment-id' options.", runner.ErrInvalid)
	}
	src, p, ep, rendered, err := load(ctx, req)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	if req.Backend == nil {
		if req.Backend, err = req.ChooseBackend(p.Docker != nil); err != nil {
			return nil, err
		}
	}
	manager, err := pickEnvManager(p, req.EnvManager)
	if err != nil {
		return nil, err
	}
	if p.Docker != nil || req.Backend.Name() == "docker" || req.Backend.Name() == "kubernetes" {
		manager = EnvLocal // the image is the environment; MLflow ignores the manager too
	}
	expID, err := ResolveExperiment(ctx, req)
	if err != nil {
		return nil, err
	}

	// Prepare the environment and the backend before the run exists: a
	// failed venv build or a missing image leaves no run behind.
	prefix, err := prepareEnv(ctx, p, manager, req.Stderr)
	if err != nil {
		return nil, err
	}
	job := &runner.Job{
		ProjectName: p.Name, Commit: src.Commit, DockerEnv: dockerEnv(p.Docker),
		Dir: src.Dir, Command: prefix + rendered.Command, Grace: req.Grace, KillNow: req.KillNow,
		TrackingURI: project.Redact(req.TrackingURI), LoopbackOnly: req.Serve != nil,
	}
	var backendTags map[string]string
	if pr, ok := req.Backend.(runner.Preparer); ok {
		if backendTags, err = pr.Prepare(ctx, job); err != nil {
			return nil, err
		}
	}

	run, err := startRun(ctx, req, expID, src, ep.Name, manager, backendTags)
	if err != nil {
		return nil, err
	}
	out := &Outcome{RunID: run.Info.RunID, ExperimentID: run.Info.ExperimentID, Command: rendered.Command, Commit: src.Commit}
	started := time.Now()
	status := store.StatusFailed
	// Whatever happens from here, the run ends.
	defer func() {
		out.Status = status
		out.Duration = time.Since(started)
		finish(req.Store, run.Info.RunID, status)
	}()

	if req.RunID == "" {
		if err := logParams(ctx, req.Store, run.Info.RunID, rendered.Params); err != nil {
			return out, fmt.Errorf("log params: %w", err)
		}
	}
	trackingURI, token := req.TrackingURI, ""
	if req.Serve != nil {
		// The run's experiment folder is a root too: an experiment may
		// keep its artifacts outside the store's default root.
		var roots []string
		if loc, err := artifact.ParseURI(run.Info.ArtifactURI); err == nil && loc.Kind == artifact.Local {
			roots = append(roots, filepath.Dir(filepath.Dir(loc.Path)))
		}
		if token, err = newToken(); err != nil {
			return out, err
		}
		url, stop, err := serveLoopback(req.Serve(Loopback{Store: req.Store, Root: req.ArtifactRoot, Roots: roots, Token: token}))
		if err != nil {
			return out, err
		}
		defer stop()
		trackingURI = url
	}

	logFile, err := os.CreateTemp("", "mlrun-step-*.log")
	if err != nil {
		return out, fmt.Errorf("step log: %w", err)
	}
	defer logFile.Close()
	// Unlinked at once: the step writes it, and keepLog reads it, through
	// the open file, so a mlrun killed with -9 leaves nothing behind.
	if os.Remove(logFile.Name()) != nil {
		defer os.Remove(logFile.Name())
	}
	job.RunID, job.ExperimentID = run.Info.RunID, run.Info.ExperimentID
	job.Env = stepEnv(trackingURI, token, run.Info.RunID, run.Info.ExperimentID)
	job.Stdout, job.Stderr = io.MultiWriter(req.Stdout, logFile), io.MultiWriter(req.Stderr, logFile)
	if loc, err := artifact.ParseURI(run.Info.ArtifactURI); err == nil && loc.Kind == artifact.Local {
		job.ArtifactDir = loc.Path
	}
	job.ExperimentDirs = experimentDirs(ctx, req.Store, run.Info.ExperimentID)
	fmt.Fprintf(req.Stderr, "=== Running command '%s' in run with ID '%s' ===\n", rendered.Command, run.Info.RunID)
	h, err := req.Backend.Start(ctx, job)
	if err != nil {
		if ctx.Err() != nil {
			status = store.StatusKilled // stopped while starting
		}
		return out, err
	}
	res, err := h.Wait(ctx)
	out.ExitCode = res.ExitCode
	for _, k := range sortedKeys(res.Tags) {
		if terr := req.Store.SetTag(context.WithoutCancel(ctx), run.Info.RunID, store.Tag{Key: k, Value: res.Tags[k]}); terr != nil {
			fmt.Fprintf(req.Stderr, "mlrun: could not set tag %s on run %s: %v\n", k, run.Info.RunID, terr)
		}
	}
	switch {
	case err != nil:
		status = store.StatusFailed
	case res.Killed:
		status = store.StatusKilled
	case res.ExitCode == 0:
		status = store.StatusFinished
	default:
		status = store.StatusFailed
	}
	keepLog(req, run.Info.ArtifactURI, logFile)
	if err != nil {
		return out, err
	}
	return out, nil
}

// load fetches req's project and renders its entry point with req's
// parameters: everything Execute checks before anything runs.
func load(ctx context.Context, req Request) (*project.Source, *project.Project, *project.EntryPoint, *project.Rendered, error) {
	if req.EntryPoint == "" {
		req.EntryPoint = "main"
	}
	src, err := project.Fetch(ctx, req.URI, project.FetchOptions{Version: req.Version, CacheDir: req.CacheDir, Progress: nil})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	p, err := project.Load(src.Dir)
	if err == nil {
		ropts := project.RenderOptions{CallerDir: req.CallerDir}
		var ep *project.EntryPoint
		if ep, err = p.EntryPoint(req.EntryPoint, ropts); err == nil {
			var r *project.Rendered
			if r, err = p.Render(ep, req.Params, ropts); err == nil {
				return src, p, ep, r, nil
			}
		}
	}
	src.Close()
	return nil, nil, nil, nil, err
}

// Check does what Execute does before a run exists (fetch the project,
// read it, render the entry point with req's parameters) and says what
// is wrong, without running anything.
func Check(ctx context.Context, req Request) error {
	src, _, _, _, err := load(ctx, req)
	if err == nil {
		src.Close()
	}
	return err
}

// ResolveExperiment applies MLflow's rules to req's experiment: an id
// must exist; a name is created if missing; neither is the Default
// experiment "0".
func ResolveExperiment(ctx context.Context, req Request) (string, error) {
	switch {
	case req.ExperimentID != "":
		e, err := req.Store.GetExperiment(ctx, req.ExperimentID)
		if err != nil {
			return "", err
		}
		return e.ID, nil
	case req.ExperimentName != "":
		e, err := req.Store.GetExperimentByName(ctx, req.ExperimentName)
		if err == nil {
			return e.ID, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return "", err
		}
		fmt.Fprintf(req.Stderr, "mlrun: experiment '%s' does not exist. Creating a new experiment\n", req.ExperimentName)
		id, err := req.Store.CreateExperiment(ctx, req.ExperimentName, "", nil)
		if errors.Is(err, store.ErrAlreadyExists) { // created meanwhile
			if e, err := req.Store.GetExperimentByName(ctx, req.ExperimentName); err == nil {
				return e.ID, nil
			}
		}
		return id, err
	}
	return "0", nil
}

// CurrentUser is the user a run is recorded for (mlflow.user, user_id),
// as MLflow's client takes it from the operating system.
func CurrentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}

// startRun creates the run with every automatic tag in the create call,
// or reuses --run-id.
func startRun(ctx context.Context, req Request, expID string, src *project.Source, entry, manager string, extra map[string]string) (*store.Run, error) {
	if req.RunID != "" {
		r, err := req.Store.GetRun(ctx, req.RunID)
		if err != nil {
			return nil, err
		}
		if r.Info.Status.Terminal() || r.Info.LifecycleStage != store.LifecycleActive {
			return nil, fmt.Errorf("%w: run %s is %s (%s); --run-id needs an active, unfinished run", runner.ErrInvalid, req.RunID, r.Info.Status, r.Info.LifecycleStage)
		}
		return r, nil
	}
	tags := []store.Tag{
		{Key: TagUser, Value: CurrentUser()},
		{Key: TagSourceName, Value: src.SourceName},
		{Key: TagSourceType, Value: "PROJECT"},
		{Key: TagEntryPoint, Value: entry},
		{Key: TagBackend, Value: req.Backend.Name()},
	}
	if src.Commit != "" {
		tags = append(tags, store.Tag{Key: TagGitCommit, Value: src.Commit})
	}
	if src.RepoURL != "" {
		tags = append(tags, store.Tag{Key: TagGitRepoURL, Value: src.RepoURL}, store.Tag{Key: TagLegacyRepoURL, Value: src.RepoURL})
	}
	if src.Branch != "" {
		tags = append(tags, store.Tag{Key: TagGitBranch, Value: src.Branch}, store.Tag{Key: TagLegacyBranch, Value: src.Branch})
	}
	if n := req.Backend.Name(); n == "docker" || n == "kubernetes" {
		tags = append(tags, store.Tag{Key: TagEnv, Value: "docker"})
	} else if manager != EnvLocal {
		tags = append(tags, store.Tag{Key: TagEnv, Value: manager})
	}
	tags = append(tags, RunnerTags()...)
	if req.ParentRunID != "" {
		tags = append(tags, store.Tag{Key: TagParentRunID, Value: req.ParentRunID})
	}
	tags = append(tags, req.Tags...)
	for _, k := range sortedKeys(extra) {
		tags = append(tags, store.Tag{Key: k, Value: extra[k]})
	}
	// The client sets start_time, as MLflow's does: a server (MLflow's)
	// does not fill it in.
	return req.Store.CreateRun(ctx, store.CreateRun{ExperimentID: expID, UserID: CurrentUser(), RunName: req.RunName, Tags: tags, StartTime: time.Now().UnixMilli()})
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// logParams logs the rendered params in batches of MLflow's size.
func logParams(ctx context.Context, st store.Store, runID string, params []project.KV) error {
	for len(params) > 0 {
		n := min(len(params), store.Limits.BatchParams)
		batch := make([]store.Param, n)
		for i, kv := range params[:n] {
			batch[i] = store.Param{Key: kv.Key, Value: kv.Value}
		}
		if err := st.LogBatch(ctx, runID, nil, batch, nil); err != nil {
			return err
		}
		params = params[n:]
	}
	return nil
}

// stepEnv is the step's environment: ours, with the run's coordinates,
// and mlrun's own folder first on PATH so a shell step can call
// `mlrun log`. With a token (the loopback server's), the step gets it as
// MLFLOW_TRACKING_TOKEN in place of any credentials of ours, which MLflow's
// clients would send first; without, our credentials pass as they are.
func stepEnv(trackingURI, token, runID, expID string) []string {
	var env []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "MLFLOW_TRACKING_URI", "MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "PATH":
			continue
		case "MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD":
			if token != "" {
				continue
			}
		}
		env = append(env, kv)
	}
	if token != "" {
		env = append(env, "MLFLOW_TRACKING_TOKEN="+token)
	}
	path := os.Getenv("PATH")
	if exe, err := os.Executable(); err == nil && filepath.Base(exe) == "mlrun" {
		path = filepath.Dir(exe) + string(os.PathListSeparator) + path
	}
	return append(env, "PATH="+path, "MLFLOW_TRACKING_URI="+trackingURI, "MLFLOW_RUN_ID="+runID, "MLFLOW_EXPERIMENT_ID="+expID)
}

// newToken returns a random token for a run's loopback server.
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("run token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Loopback is what a run's loopback server serves: Store, its artifacts
// proxied from Root ("" for none), run artifacts from local folders only
// under Roots and Root, and only requests that carry Token (as
// "Authorization: Bearer <Token>").
type Loopback struct {
	Store store.Store
	Root  string
	Roots []string
	Token string
}

// serveLoopback serves h on 127.0.0.1 until stop is called.
func serveLoopback(h http.Handler) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("serve the tracking store on loopback: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 1 << 20}
	go srv.Serve(ln)
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// finish ends the run unless the step already ended it itself. It uses
// its own context: it must run even when the caller's was cancelled.
func finish(st store.Store, runID string, status store.RunStatus) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if r, err := st.GetRun(ctx, runID); err == nil && r.Info.Status.Terminal() {
		return
	}
	end := time.Now().UnixMilli()
	if _, err := st.UpdateRun(ctx, runID, store.UpdateRun{Status: &status, EndTime: &end}); err != nil {
		fmt.Fprintf(os.Stderr, "mlrun: could not end run %s as %s: %v\n", runID, status, err)
	}
}

// experimentDirs are the local folders of an experiment where the
// tracking stores put its logged models' files (<experiment
// location>/models/<model_id>/artifacts) and its traces'
// (<experiment location>/traces/<trace_id>/artifacts); none when the
// experiment's artifacts are not local.
func experimentDirs(ctx context.Context, st store.Store, experimentID string) []string {
	exp, err := st.GetExperiment(ctx, experimentID)
	if err != nil {
		return nil
	}
	loc, err := artifact.ParseURI(exp.ArtifactLocation)
	if err != nil || loc.Kind != artifact.Local {
		return nil
	}
	return []string{filepath.Join(loc.Path, "models"), filepath.Join(loc.Path, "traces")}
}

// keepLog uploads the step's output as the run artifact StepLog.
func keepLog(req Request, artifactURI string, f *os.File) {
	if req.Artifacts == nil {
		return
	}
	repo, err := req.Artifacts(artifactURI)
	if err == nil {
		if _, err = f.Seek(0, io.SeekStart); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err = repo.Put(ctx, StepLog, f)
		}
	}
	if err != nil {
		fmt.Fprintf(req.Stderr, "mlrun: could not keep the step's log as an artifact: %v\n", err)
	}
}

// dockerEnv is the project's docker_env as the runner contract has it.
func dockerEnv(d *project.DockerEnv) *runner.DockerEnv {
	if d == nil {
		return nil
	}
	out := &runner.DockerEnv{Image: d.Image, Volumes: d.Volumes}
	for _, e := range d.Environment {
		out.Environment = append(out.Environment, runner.EnvVar{Name: e.Name, Value: e.Value, FromHost: e.FromHost})
	}
	return out
}
