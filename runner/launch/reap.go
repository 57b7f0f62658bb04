package launch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/mlrun/mlrun/store"
)

// Tags that say which mlrun process drives a run, so that a run whose
// mlrun died (killed with SIGKILL, the machine rebooted) can be ended by
// the next one instead of staying RUNNING forever.
const (
	TagRunnerHost = "mlrun.runner.host"
	TagRunnerPID  = "mlrun.runner.pid"
	// TagRunnerPIDNS names the pid namespace the pid belongs to: a
	// container that shares the host name but not the pids cannot judge
	// whether the process lives, and leaves the run alone.
	TagRunnerPIDNS = "mlrun.runner.pidns"
)

// RunnerTags are the tags that name this process as the one driving a
// run (for Reap); any command that creates a run and ends it later sets
// them, so a run it leaves behind when killed is ended by the next mlrun.
func RunnerTags() []store.Tag {
	host, _ := os.Hostname()
	tags := []store.Tag{{Key: TagRunnerHost, Value: host}, {Key: TagRunnerPID, Value: strconv.Itoa(os.Getpid())}}
	if ns := pidNamespace(); ns != "" {
		tags = append(tags, store.Tag{Key: TagRunnerPIDNS, Value: ns})
	}
	return tags
}

// pidNamespace identifies this process's pid namespace (Linux), or "".
func pidNamespace() string {
	ns, _ := os.Readlink("/proc/self/ns/pid")
	return ns
}

// alive reports whether a process with that pid exists.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Reap ends the RUNNING runs that an mlrun on this host started and that
// no live process drives any more: they become FAILED, with tag
// mlrun.runner.note saying why. It returns the ids it ended.
func Reap(ctx context.Context, st store.Store) ([]string, error) {
	host, err := os.Hostname()
	if err != nil {
		return nil, err
	}
	var exps []string
	tok := ""
	for {
		es, next, err := st.SearchExperiments(ctx, store.SearchExperiments{MaxResults: 1000, PageToken: tok})
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			exps = append(exps, e.ID)
		}
		if tok = next; tok == "" {
			break
		}
	}
	var ended []string
	for start := 0; start < len(exps); start += 100 {
		ids := exps[start:min(start+100, len(exps))]
		runs, _, err := st.SearchRuns(ctx, store.SearchRuns{ExperimentIDs: ids, MaxResults: 1000,
			Filter: fmt.Sprintf("attributes.status = 'RUNNING' and tags.`%s` = '%s'", TagRunnerHost, escapeQuote(host))})
		if err != nil {
			return ended, err
		}
		ourNS := pidNamespace()
		for _, r := range runs {
			v, _ := r.Tag(TagRunnerPID)
			pid, _ := strconv.Atoi(v)
			if ns, has := r.Tag(TagRunnerPIDNS); alive(pid) || (has && ns != ourNS) {
				continue
			}
			failed, end := store.StatusFailed, time.Now().UnixMilli()
			if err := st.SetTag(ctx, r.Info.RunID, store.Tag{Key: "mlrun.runner.note", Value: fmt.Sprintf("ended by a later mlrun: the mlrun process (pid %d) that ran it had exited without ending it", pid)}); err != nil {
				return ended, err
			}
			if _, err := st.UpdateRun(ctx, r.Info.RunID, store.UpdateRun{Status: &failed, EndTime: &end}); err != nil {
				return ended, err
			}
			ended = append(ended, r.Info.RunID)
		}
	}
	return ended, nil
}

func escapeQuote(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '\'' {
			out = append(out, '\'')
		}
		out = append(out, r)
	}
	return string(out)
}
