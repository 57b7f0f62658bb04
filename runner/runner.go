package runner

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"
)

// Error kinds.
var (
	// ErrBackendUnavailable: the backend cannot run anything here (no
	// Docker daemon, a missing tool).
	ErrBackendUnavailable = errors.New("backend unavailable")
	// ErrInvalid: the request is wrong (unknown backend, bad option).
	ErrInvalid = errors.New("invalid run request")
)

// Job is a prepared step: what to run, where, with what environment.
type Job struct {
	RunID        string
	ExperimentID string
	ProjectName  string
	Commit       string     // the project's git commit, if any
	DockerEnv    *DockerEnv // the MLproject's docker_env, if any
	Dir          string     // the project folder; the step's working directory
	Command      string     // a shell command line, run with bash -c
	Env          []string   // the step's whole environment, KEY=VALUE
	// TrackingURI is the store the run is tracked in, as the user gave
	// it (credentials redacted), set before Prepare. LoopbackOnly says the
	// step reaches it through the server mlrun starts for the run on this
	// machine's loopback (a database store), which only a step on this
	// machine can reach.
	TrackingURI  string
	LoopbackOnly bool
	// ArtifactDir is the run's artifact folder when it is local ("" if
	// the artifacts live elsewhere), for backends that must mount it.
	// ExperimentDirs, likewise, are the local folders of the run's
	// experiment where MLflow's client in the step writes files beside
	// the run's: its logged models' (<experiment location>/models, MLflow
	// 3's log_model) and its traces' (<experiment location>/traces, the
	// traces.json of MLflow 2.x-3.3 clients).
	ArtifactDir    string
	ExperimentDirs []string
	Stdout         io.Writer
	Stderr         io.Writer
	// Grace is how long a stopped step gets between SIGTERM and SIGKILL.
	Grace time.Duration
	// KillNow, when closed during the grace period, kills the step at
	// once (a second Ctrl-C). nil never ends the grace early.
	KillNow <-chan struct{}
}

// DockerEnv is an MLproject's docker_env block, as a backend needs it.
type DockerEnv struct {
	Image       string
	Volumes     []string
	Environment []EnvVar
}

// EnvVar is one docker_env environment entry: Name=Value, or, with
// FromHost, the host's value of Name.
type EnvVar struct {
	Name     string
	Value    string
	FromHost bool
}

// Result is how a step ended.
type Result struct {
	ExitCode int
	Killed   bool // stopped because its context was cancelled
	// Tags are set on the run when it ends (why a step failed, where it
	// ran); nil for none.
	Tags map[string]string
}

// Backend runs jobs. Implementations are safe for concurrent use.
//
// Lifecycle: Start begins the step and returns at once; Handle.Wait
// blocks until it ends. Cancelling Wait's context stops the step: SIGTERM
// (or the backend's equivalent) to everything it started, then SIGKILL
// after Job.Grace; Wait then returns with Result.Killed set.
type Backend interface {
	Name() string
	Start(ctx context.Context, job *Job) (Handle, error)
}

// Preparer is a Backend that has work to do before the run exists:
// checking it can run at all, finding or building an image. Execute calls
// Prepare before it creates the run (RunID and Env are not set yet), so a
// backend that cannot start leaves no run behind. The tags returned are
// set on the run when it is created.
type Preparer interface {
	Prepare(ctx context.Context, job *Job) (tags map[string]string, err error)
}

// Handle is a started step.
type Handle interface {
	Wait(ctx context.Context) (Result, error)
}

// DefaultGrace is the default time between SIGTERM and SIGKILL.
const DefaultGrace = 10 * time.Second

// LockedWriter serializes writes to W, for output (build logs, notices)
// that a backend's concurrent steps share.
type LockedWriter struct {
	mu sync.Mutex
	W  io.Writer
}

func (l *LockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.W.Write(p)
}
