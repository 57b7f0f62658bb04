//go:build !linux

package local

import (
	"fmt"
	"os/exec"
	"syscall"

	"github.com/mlrun/mlrun/runner"
)

// killAllSignal ends the step at once where there is no supervisor.
const killAllSignal = syscall.SIGKILL

// stepCommand returns bash -c in a process group of its own. Without
// Linux's subreaper and parent-death signal, a kill -9 of mlrun leaves
// the step running; the user is told so once.
func stepCommand(bash string, job *runner.Job) (*exec.Cmd, error) {
	fmt.Fprintln(job.Stderr, "mlrun: on this platform a kill -9 of mlrun does not stop the step (no subreaper or parent-death signal)")
	cmd := exec.Command(bash, "-c", job.Command)
	cmd.Env = job.Env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd, nil
}
