package local

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mlrun/mlrun/runner"
)

// supervisorEnv, set to mlrun's pid, makes a binary that links this
// package act as the step's supervisor (see init) instead of itself.
const supervisorEnv = "MLRUN_STEP_SUPERVISOR"

// killAllSignal asks the supervisor to kill every descendant and exit.
// It is also the supervisor's parent-death signal, so a kill -9 of mlrun
// has the same effect.
const killAllSignal = syscall.SIGUSR2

// init turns the process into the step supervisor when mlrun started it
// as one: the binary re-executes itself (as docker's reexec does), so
// mlrun stays one file and tests need no helper binary.
func init() {
	if parent := os.Getenv(supervisorEnv); parent != "" {
		os.Exit(supervise(parent, os.Args[1:]))
	}
}

// stepCommand returns the command that runs the job: this binary as a
// supervisor of bash -c, in a process group of its own.
func stepCommand(bash string, job *runner.Job) (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find mlrun's own binary to supervise the step: %w", err)
	}
	cmd := exec.Command(self, bash, "-c", job.Command)
	cmd.Env = append(withoutSupervisorEnv(job.Env), supervisorEnv+"="+strconv.Itoa(os.Getpid()))
	// Its own process group (so stopping it stops everything it started);
	// told by killAllSignal when mlrun dies without stopping it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: killAllSignal}
	return cmd, nil
}

func withoutSupervisorEnv(env []string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, supervisorEnv+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// supervise runs args (bash -c COMMAND) as a child subreaper: every
// descendant that is orphaned, even one that left the process group with
// setsid, becomes its child. When bash ends, or on killAllSignal (sent by
// mlrun, or by the kernel when mlrun dies), it kills every descendant and
// exits with bash's status. SIGTERM and SIGINT reach the step through the
// process group; the supervisor outlives them to clean up.
func supervise(parent string, args []string) int {
	if strconv.Itoa(os.Getppid()) != parent {
		return 1 // mlrun died before the parent-death signal was armed
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintf(os.Stderr, "mlrun: cannot make the step supervisor a subreaper (%v): descendants that leave the step's process group may outlive it\n", err)
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, killAllSignal)
	if len(args) == 0 {
		return 2
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = withoutSupervisorEnv(os.Environ())
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "mlrun: start step: %v\n", err)
		return 127
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case err := <-done:
			killDescendants()
			return exitStatus(err)
		case s := <-sigs:
			if s == killAllSignal {
				killDescendants()
				return 128 + int(syscall.SIGKILL)
			}
		}
	}
}

func exitStatus(err error) int {
	var ee *exec.ExitError
	if err == nil {
		return 0
	}
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return 1
}

// killDescendants kills every descendant, reaping them, until none is
// left: the step's process group, and every child of this process (the
// children of a killed process are reparented here, this process being a
// subreaper, and are killed in the next round, even if they left the
// group with setsid).
func killDescendants() {
	self := os.Getpid()
	for range 1000 {
		pids := descendants(self)
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
		if len(pids) == 0 {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// descendants lists, from /proc, the live processes whose parent or
// process group is self (zombies already reaped elsewhere are skipped).
func descendants(self int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// "pid (comm) state ppid pgrp ...": comm may hold spaces and ')'.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		f := strings.Fields(s[i+1:])
		if i < 0 || len(f) < 3 {
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(s[:strings.IndexByte(s, ' ')]))
		ppid, _ := strconv.Atoi(f[1])
		pgrp, _ := strconv.Atoi(f[2])
		if pid != self && pid > 0 && (ppid == self || (pgrp == self && f[0] != "Z")) {
			out = append(out, pid)
		}
	}
	return out
}
