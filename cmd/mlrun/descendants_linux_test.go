package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlrun/mlrun/internal/testutil"
)

// spawnProject writes a project whose step starts a grandchild in its
// process group and one that leaves it with setsid, writes their pids
// and then either waits or exits at once (entry point "quick").
func spawnProject(t *testing.T) (proj, pidFile string) {
	dir := t.TempDir()
	proj = filepath.Join(dir, "proj")
	os.MkdirAll(proj, 0o755)
	pidFile = filepath.Join(dir, "pids")
	os.WriteFile(filepath.Join(proj, "MLproject"), []byte("name: s\nentry_points:\n  main:\n    command: \"bash spawn.sh wait\"\n  quick:\n    command: \"bash spawn.sh\"\n"), 0o644)
	os.WriteFile(filepath.Join(proj, "spawn.sh"), []byte(
		"sleep 300 &\nin=$!\nsetsid sleep 301 &\nout=$!\n"+
			"echo \"$in $out\" > "+pidFile+".tmp && mv "+pidFile+".tmp "+pidFile+"\n"+
			"[ \"$1\" = wait ] && wait\nexit 0\n"), 0o644)
	return proj, pidFile
}

func readPids(t *testing.T, pidFile string) []int {
	t.Helper()
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("pid file %q", b)
		}
		pids = append(pids, pid)
	}
	if len(pids) != 2 {
		t.Fatalf("pid file %q", b)
	}
	return pids
}

// TestKill9LeavesNoDescendant: kill -9 of the real binary takes the
// step's whole tree with it, a grandchild that left the process group
// with setsid included (Pdeathsig alone reaches only the direct child),
// and leaves no file in the temporary folder (the step's log is
// unlinked as soon as it is made).
func TestKill9LeavesNoDescendant(t *testing.T) {
	bin := buildMlrun(t)
	proj, pidFile := spawnProject(t)
	cmd := exec.Command(bin, "run", proj, "--tracking-uri", "sqlite:///"+filepath.Join(t.TempDir(), "m.db"))
	cmd.Dir = t.TempDir()
	tmp := t.TempDir()
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the step did not start its children", func() bool { _, err := os.Stat(pidFile); return err == nil })
	pids := readPids(t, pidFile)
	for _, pid := range pids {
		if !testutil.Alive(pid) {
			t.Fatalf("grandchild %d is not running before the kill", pid)
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	waitFor(t, 10*time.Second, "a descendant of the step outlived kill -9 of mlrun", func() bool {
		return !testutil.Alive(pids[0]) && !testutil.Alive(pids[1])
	})
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("kill -9 of mlrun left %s in the temporary folder", e.Name())
	}
}

// TestStepEndLeavesNoDescendant: when the step exits, what it left
// behind, in its process group or not, is killed with it.
func TestStepEndLeavesNoDescendant(t *testing.T) {
	t.Chdir(t.TempDir()) // the new database's default artifact root, ./mlruns, lands in the test's folder
	proj, pidFile := spawnProject(t)
	mustRun(t, "run", proj, "-e", "quick", "--tracking-uri", "sqlite:///"+filepath.Join(t.TempDir(), "m.db"))
	pids := readPids(t, pidFile)
	waitFor(t, 5*time.Second, "a descendant of the step outlived it", func() bool {
		return !testutil.Alive(pids[0]) && !testutil.Alive(pids[1])
	})
}
