// Package runnertest is the conformance suite of runner backends: every
// backend (runner/local, runner/docker, runner/kubernetes) runs it, so
// they agree on exit codes, the environment, output streaming (on one
// stream where the backend has only one), the working directory and
// stopping (KILLED, nothing left behind, a step that ignores SIGTERM
// killed after the grace).
package runnertest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mlrun/mlrun/runner"
)

// Config says how to run the suite on one backend.
type Config struct {
	Backend runner.Backend
	// Job adapts a job to the backend before it is prepared (the docker
	// backend needs a docker_env); nil leaves it as it is.
	Job func(*runner.Job)
	// HostPIDs says the step's processes are the host's (a pid the step
	// writes can be checked from here), as with the local backend.
	HostPIDs bool
	// MergedStreams says the backend delivers the step's stderr
	// interleaved into its stdout (Kubernetes keeps one log per
	// container).
	MergedStreams bool
	// Gone, when set, checks after a stopped step that nothing it ran is
	// left (containers, Jobs, pods).
	Gone func(t *testing.T, job *runner.Job)
}

// Run runs every check of the suite as a subtest.
func Run(t *testing.T, c Config) {
	t.Run("ExitCodes", func(t *testing.T) { exitCodes(t, c) })
	t.Run("Environment", func(t *testing.T) { environment(t, c) })
	t.Run("Streams", func(t *testing.T) { streams(t, c) })
	t.Run("WorkingDirectory", func(t *testing.T) { workingDirectory(t, c) })
	t.Run("CancelKills", func(t *testing.T) { cancelKills(t, c) })
	t.Run("IgnoredSIGTERM", func(t *testing.T) { ignoredSIGTERM(t, c) })
}

// Buffer is a step's output, safe to read while the step writes into it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Contains reports whether the output so far holds sub.
func (b *Buffer) Contains(sub string) bool { return strings.Contains(b.String(), sub) }

type step struct {
	job            *runner.Job
	stdout, stderr *Buffer
	handle         runner.Handle
}

// start prepares (for a runner.Preparer) and starts command in a fresh
// folder, and returns the running step.
func start(t *testing.T, c Config, command string, edit func(*runner.Job)) *step {
	t.Helper()
	s := &step{stdout: &Buffer{}, stderr: &Buffer{}}
	s.job = &runner.Job{RunID: "conformance" + strconv.FormatInt(time.Now().UnixNano(), 36), ExperimentID: "0", ProjectName: "conformance",
		Dir: t.TempDir(), Command: command, Env: []string{"PATH=" + os.Getenv("PATH"), "MLFLOW_RUN_ID=conformance-run"},
		Stdout: s.stdout, Stderr: s.stderr, Grace: 2 * time.Second}
	if c.Job != nil {
		c.Job(s.job)
	}
	if edit != nil {
		edit(s.job)
	}
	ctx := context.Background()
	if p, ok := c.Backend.(runner.Preparer); ok {
		if _, err := p.Prepare(ctx, s.job); err != nil {
			t.Fatalf("prepare: %v", err)
		}
	}
	h, err := c.Backend.Start(ctx, s.job)
	if err != nil {
		t.Fatalf("start %q: %v", command, err)
	}
	s.handle = h
	return s
}

// wait waits for the step with ctx, failing the test if it does not end
// within limit.
func (s *step) wait(t *testing.T, ctx context.Context, limit time.Duration) runner.Result {
	t.Helper()
	type out struct {
		r   runner.Result
		err error
	}
	done := make(chan out, 1)
	go func() { r, err := s.handle.Wait(ctx); done <- out{r, err} }()
	select {
	case o := <-done:
		if o.err != nil {
			t.Fatalf("wait: %v", o.err)
		}
		return o.r
	case <-time.After(limit):
		t.Fatalf("the step did not end within %s\nstdout: %s\nstderr: %s", limit, s.stdout, s.stderr)
	}
	return runner.Result{}
}

// waitFor polls cond, failing the test after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(limit); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("after %s: %s", limit, what)
		}
	}
}

func exitCodes(t *testing.T, c Config) {
	for command, want := range map[string]int{"true": 0, "exit 3": 3, "exit 255": 255, "kill -TERM $$": 128 + int(syscall.SIGTERM)} {
		s := start(t, c, command, nil)
		if r := s.wait(t, context.Background(), time.Minute); r.ExitCode != want || r.Killed {
			t.Errorf("%q: %+v, want exit code %d, not killed", command, r, want)
		}
	}
}

func environment(t *testing.T, c Config) {
	s := start(t, c, `echo "run=$MLFLOW_RUN_ID"`, nil)
	if r := s.wait(t, context.Background(), time.Minute); r.ExitCode != 0 || !strings.Contains(s.stdout.String(), "run=conformance-run") {
		t.Fatalf("%+v, stdout %q: the step did not get MLFLOW_RUN_ID", r, s.stdout)
	}
}

// streams: output reaches the writers while the step still runs. The
// step's pause is the window in which that must be seen: 8 s, as on a
// loaded 2-core machine a cluster's pod log can take more than 3 s to
// reach the runner; and the first output may take up to 2 minutes to come
// (a pod started while CI's other packages load both cores), so the test
// fails on streaming, not on a slow start.
func streams(t *testing.T, c Config) {
	s := start(t, c, "echo to-out; echo to-err >&2; sleep 8; echo later", nil)
	seen := func() bool {
		if c.MergedStreams {
			return s.stdout.Contains("to-out") && s.stdout.Contains("to-err")
		}
		return strings.Contains(s.stdout.String(), "to-out") && strings.Contains(s.stderr.String(), "to-err")
	}
	waitFor(t, 2*time.Minute, "no output at all from the step", seen)
	if c.MergedStreams && s.stdout.Contains("later") {
		t.Fatalf("the first output came with the step's last line (stdout %q): output is not streamed while the step runs", s.stdout)
	}
	s.wait(t, context.Background(), time.Minute)
	if c.MergedStreams {
		if out := s.stdout.String(); (out != "to-out\nto-err\nlater\n" && out != "to-err\nto-out\nlater\n") || s.stderr.String() != "" {
			t.Fatalf("stdout %q, stderr %q: want both streams interleaved on stdout, whole and in order", s.stdout, s.stderr)
		}
		return
	}
	if s.stdout.String() != "to-out\nlater\n" || s.stderr.String() != "to-err\n" {
		t.Fatalf("stdout %q, stderr %q: want each stream on its own", s.stdout, s.stderr)
	}
}

func workingDirectory(t *testing.T, c Config) {
	s := start(t, c, "cat marker.txt", func(j *runner.Job) {
		os.WriteFile(filepath.Join(j.Dir, "marker.txt"), []byte("in the project\n"), 0o644)
	})
	if r := s.wait(t, context.Background(), time.Minute); r.ExitCode != 0 || s.stdout.String() != "in the project\n" {
		t.Fatalf("%+v, stdout %q, stderr %q: the step does not run in the project folder", r, s.stdout, s.stderr)
	}
}

// cancelKills: cancelling Wait's context stops the step and everything it
// started; the result says Killed.
func cancelKills(t *testing.T, c Config) {
	s := start(t, c, "sleep 300 & echo $! > child.pid; echo ready; wait", nil)
	waitFor(t, 30*time.Second, "the step did not start", func() bool { return s.stdout.Contains("ready") })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if r := s.wait(t, ctx, time.Minute); !r.Killed {
		t.Fatalf("%+v: a cancelled step is not Killed", r)
	}
	if c.Gone != nil {
		c.Gone(t, s.job)
	}
	if !c.HostPIDs {
		return
	}
	b, err := os.ReadFile(filepath.Join(s.job.Dir, "child.pid"))
	pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || perr != nil {
		t.Fatalf("child.pid: %v %v", err, perr)
	}
	waitFor(t, 10*time.Second, "the step's child outlived the cancel", func() bool { return !alive(pid) })
}

// ignoredSIGTERM: a step that ignores SIGTERM is killed once the grace is
// over, and the result says Killed.
func ignoredSIGTERM(t *testing.T, c Config) {
	s := start(t, c, "trap '' TERM; echo ready; while :; do sleep 1; done", func(j *runner.Job) { j.Grace = 500 * time.Millisecond })
	waitFor(t, 30*time.Second, "the step did not start", func() bool { return s.stdout.Contains("ready") })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if r := s.wait(t, ctx, time.Minute); !r.Killed {
		t.Fatalf("%+v: a step that ignores SIGTERM is not Killed", r)
	}
	if c.Gone != nil {
		c.Gone(t, s.job)
	}
}

// alive reports whether pid is a live process (not a zombie).
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z'
}
