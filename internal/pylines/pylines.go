// Package pylines runs a Python script that answers each line it reads
// with one line, for tests that compare mlrun with Python's own libraries
// (json, repr, PyYAML) over many inputs without a process each.
package pylines

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Proc is a running script.
type Proc struct {
	in  io.WriteCloser
	out *bufio.Reader
}

// Start runs python3 -c script until tb ends. It fails tb, saying what to
// install, when python3 or one of modules cannot be imported.
func Start(tb testing.TB, script, install string, modules ...string) *Proc {
	tb.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		tb.Fatalf("python3 is needed to compare with Python: %s", install)
	}
	return StartWith(tb, py, script, install, modules...)
}

// StartWith is Start with the interpreter python (e.g. /usr/bin/python3,
// whose Debian packages a test compares with).
func StartWith(tb testing.TB, py, script, install string, modules ...string) *Proc {
	tb.Helper()
	var err error
	if len(modules) > 0 {
		err = exec.Command(py, "-c", "import "+strings.Join(modules, ", ")).Run()
	}
	if err != nil {
		tb.Fatalf("python3 with %s is needed to compare with Python: %s", strings.Join(append([]string{"its standard library"}, modules...), ", "), install)
	}
	cmd := exec.Command(py, "-c", script)
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { in.Close(); cmd.Wait() })
	return &Proc{in: in, out: bufio.NewReader(out)}
}

// Ask sends line (which must hold no newline) and returns the script's
// answer, without its newline.
func (p *Proc) Ask(tb testing.TB, line string) string {
	tb.Helper()
	if _, err := io.WriteString(p.in, line+"\n"); err != nil {
		tb.Fatal(err)
	}
	got, err := p.out.ReadString('\n')
	if err != nil {
		tb.Fatalf("the Python script ended: %v", err)
	}
	return strings.TrimSuffix(got, "\n")
}

// Debian returns /usr/bin/python3, the interpreter whose Debian packages
// (python3-pandas, python3-xgboost, …) tests compare with, once it can
// import modules. Without them the test fails under CI (.ci/run installs
// them) and is skipped elsewhere, saying what to install.
func Debian(tb testing.TB, install string, modules ...string) string {
	tb.Helper()
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import "+strings.Join(modules, ", ")).Run(); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("%s lacks %s under CI (.ci/run installs them): %v", py, strings.Join(modules, ", "), err)
		}
		tb.Skipf("%s lacks %s: %s", py, strings.Join(modules, ", "), install)
	}
	return py
}
