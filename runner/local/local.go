package local

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"

	"github.com/mlrun/mlrun/runner"
)

// Backend runs steps with bash -c.
type Backend struct{}

var _ runner.Backend = Backend{}

// Name implements runner.Backend.
func (Backend) Name() string { return "local" }

// Start implements runner.Backend.
func (Backend) Start(ctx context.Context, job *runner.Job) (runner.Handle, error) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		return nil, fmt.Errorf("%w: bash not found on PATH", runner.ErrBackendUnavailable)
	}
	cmd, err := stepCommand(bash, job)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", runner.ErrBackendUnavailable, err)
	}
	cmd.Dir = job.Dir
	cmd.Stdout, cmd.Stderr = job.Stdout, job.Stderr
	// A background grandchild holding stdout open must not keep Wait
	// blocked after the step itself has ended.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start step: %w", err)
	}
	h := &handle{cmd: cmd, grace: job.Grace, killNow: job.KillNow, done: make(chan error, 1)}
	if h.grace == 0 {
		h.grace = runner.DefaultGrace
	}
	go func() { h.done <- cmd.Wait() }()
	return h, nil
}

type handle struct {
	cmd     *exec.Cmd
	grace   time.Duration
	killNow <-chan struct{}
	done    chan error
}

// Wait implements runner.Handle.
func (h *handle) Wait(ctx context.Context) (runner.Result, error) {
	pgid := h.cmd.Process.Pid
	select {
	case err := <-h.done:
		syscall.Kill(-pgid, syscall.SIGKILL) // no child is left behind
		return result(err, false)
	case <-ctx.Done():
	}
	syscall.Kill(-pgid, syscall.SIGTERM)
	t := time.NewTimer(h.grace)
	defer t.Stop()
	select {
	case err := <-h.done:
		syscall.Kill(-pgid, syscall.SIGKILL) // anything left in the group
		return result(err, true)
	case <-t.C:
	case <-h.killNow: // nil blocks: only a real second Ctrl-C ends the grace
	}
	// The supervisor kills every descendant, those that left the group
	// too; SIGKILL of the group is the backstop.
	syscall.Kill(pgid, killAllSignal)
	select {
	case err := <-h.done:
		syscall.Kill(-pgid, syscall.SIGKILL)
		return result(err, true)
	case <-time.After(time.Second):
	}
	syscall.Kill(-pgid, syscall.SIGKILL)
	return result(<-h.done, true)
}

func result(err error, killed bool) (runner.Result, error) {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return runner.Result{Killed: killed}, nil
	case errors.As(err, &ee):
		code := ee.ExitCode()
		if code < 0 { // killed by a signal
			code = 128 + int(ee.Sys().(syscall.WaitStatus).Signal())
		}
		return runner.Result{ExitCode: code, Killed: killed}, nil
	}
	return runner.Result{Killed: killed}, fmt.Errorf("wait for step: %w", err)
}
