package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/plugins/builtin/testdata"
	"github.com/mlrun/mlrun/store"
)

func buildMlrun(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mlrun")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestRunSIGINT: Ctrl-C on `mlrun run` stops the step's whole process
// group, ends the run KILLED and exits 130.
func TestRunSIGINT(t *testing.T) {
	r := startRun(t, "spawn.sh", "sleep 300 &\necho $! > pids\necho started\nwait\n")
	r.cmd.Process.Signal(syscall.SIGINT)
	err := r.cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v\n%s", err, r.output())
	}
	b, _ := os.ReadFile(filepath.Join(r.proj, "pids"))
	for _, f := range strings.Fields(string(b)) {
		pid, _ := strconv.Atoi(f)
		if testutil.Alive(pid) {
			t.Fatalf("child %d survived", pid)
		}
	}
	r.wantKilled(t)
	if !strings.Contains(r.output(), "stopping the step (Ctrl-C again to kill it now)") {
		t.Fatalf("nothing said while stopping:\n%s", r.output())
	}
}

// TestRunSecondSIGINTKillsAtOnce: a step that ignores SIGTERM would get
// the whole 10 s grace; a second Ctrl-C kills it at once, and the run
// ends KILLED.
func TestRunSecondSIGINTKillsAtOnce(t *testing.T) {
	r := startRun(t, "stubborn.sh", "trap '' TERM INT\necho started\nwhile true; do sleep 0.1; done\n")
	r.cmd.Process.Signal(syscall.SIGINT)
	waitFor(t, 10*time.Second, "nothing said after the first Ctrl-C", func() bool { return strings.Contains(r.output(), "Ctrl-C again") })
	r.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- r.cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
			t.Fatalf("exit: %v\n%s", err, r.output())
		}
	case <-time.After(8 * time.Second): // the grace is 10 s: only the second Ctrl-C ends it sooner
		t.Fatalf("the second Ctrl-C did not kill the step at once:\n%s", r.output())
	}
	r.wantKilled(t)
}

// interrupt sends cmd SIGINT (Ctrl-C) and waits, up to limit, for it to
// exit with 130; out is what it printed.
func interrupt(t *testing.T, cmd *exec.Cmd, limit time.Duration, out fmt.Stringer) {
	t.Helper()
	cmd.Process.Signal(syscall.SIGINT)
	exited, err := testutil.WaitExit(cmd, limit)
	if !exited {
		t.Fatalf("%s did not end within %s of Ctrl-C:\n%s", strings.Join(cmd.Args, " "), limit, out)
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v\n%s", err, out)
	}
}

// realRun is `mlrun run` of the real binary on a one-script project.
type realRun struct {
	cmd      *exec.Cmd
	proj, db string
	logPath  string
}

func (r *realRun) output() string { b, _ := os.ReadFile(r.logPath); return string(b) }

// startRun builds mlrun and runs a project whose step is `bash script`
// (with body), and waits (30 s at most) for the step to print "started".
func startRun(t *testing.T, script, body string) *realRun {
	t.Helper()
	bin := buildMlrun(t)
	dir := t.TempDir()
	r := &realRun{proj: filepath.Join(dir, "proj"), db: filepath.Join(dir, "m.db"), logPath: filepath.Join(dir, "out.log")}
	os.MkdirAll(r.proj, 0o755)
	os.WriteFile(filepath.Join(r.proj, "MLproject"), []byte("name: s\nentry_points:\n  main:\n    command: \"bash "+script+"\"\n"), 0o644)
	os.WriteFile(filepath.Join(r.proj, script), []byte(body), 0o644)
	r.cmd = exec.Command(bin, "run", r.proj, "--tracking-uri", "sqlite:///"+r.db)
	r.cmd.Dir = dir
	logFile, err := os.Create(r.logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logFile.Close() })
	r.cmd.Stdout, r.cmd.Stderr = logFile, logFile
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.cmd.Process.Kill() })
	waitFor(t, 30*time.Second, "the step did not start", func() bool { return strings.Contains(r.output(), "started") })
	return r
}

// wantKilled checks the one run of the project ended KILLED.
func (r *realRun) wantKilled(t *testing.T) {
	t.Helper()
	st, err := openStore(context.Background(), "sqlite:///"+r.db, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, _, _ := st.SearchRuns(context.Background(), store.SearchRuns{ExperimentIDs: []string{"0"}})
	if len(runs) != 1 || runs[0].Info.Status != store.StatusKilled {
		t.Fatalf("runs: %+v\n%s", runs, r.output())
	}
}

func TestRunFlags(t *testing.T) {
	for _, args := range [][]string{
		{"run", "../../examples/wine", "-P", "alpha"},
		{"run", "../../examples/wine", "-P", "a=1", "-P", "a=2"},
		{"run", "../../examples/wine", "-b", "kubernetes"},
		{"run"},
	} {
		if _, err := mlrun(t, append(args, "--tracking-uri", "sqlite:///"+filepath.Join(t.TempDir(), "x.db"))...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	out, err := mlrun(t, "run", "../../examples/wine", "-P", "alpha")
	if err == nil || !strings.Contains(err.Error(), "Invalid format for -P parameter: 'alpha'. Use -P name=value.") {
		t.Fatalf("%v %s", err, out)
	}
}

// BenchmarkRunOverhead compares `mlrun run` of a trivial entry point
// (warm: the store exists) with running the same command directly.
func BenchmarkRunOverhead(b *testing.B) {
	bin := buildMlrun(b)
	dir := b.TempDir()
	proj := filepath.Join(dir, "proj")
	os.MkdirAll(proj, 0o755)
	os.WriteFile(filepath.Join(proj, "MLproject"), []byte("name: t\nentry_points:\n  main:\n    command: \"true\"\n"), 0o644)
	uri := "sqlite:///" + filepath.Join(dir, "m.db")
	run := func(name string, args ...string) {
		c := exec.Command(name, args...)
		c.Dir = dir
		if out, err := c.CombinedOutput(); err != nil {
			b.Fatalf("%v\n%s", err, out)
		}
	}
	run(bin, "run", proj, "--tracking-uri", uri) // warm up: creates the database
	b.Run("mlrun-run", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			run(bin, "run", proj, "--tracking-uri", uri)
		}
	})
	b.Run("direct", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			run("bash", "-c", "true")
		}
	})
}

// TestRunKilledMlrunIsReaped: when mlrun itself is killed (SIGKILL, no
// chance to clean up), the next mlrun run ends the orphaned run FAILED.
func TestRunKilledMlrunIsReaped(t *testing.T) {
	bin := buildMlrun(t)
	dir := t.TempDir()
	proj := filepath.Join(dir, "proj")
	os.MkdirAll(proj, 0o755)
	os.WriteFile(filepath.Join(proj, "MLproject"), []byte("name: s\nentry_points:\n  main:\n    command: \"echo started; exec sleep 300\"\n  quick:\n    command: \"true\"\n"), 0o644)
	uri := "sqlite:///" + filepath.Join(dir, "m.db")
	logPath := filepath.Join(dir, "out.log")
	logFile, _ := os.Create(logPath)
	defer logFile.Close()
	cmd := exec.Command(bin, "run", proj, "--tracking-uri", uri)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the step did not start", func() bool {
		b, _ := os.ReadFile(logPath)
		return strings.Contains(string(b), "started")
	})
	cmd.Process.Kill()
	cmd.Wait()
	second := exec.Command(bin, "run", proj, "-e", "quick", "--tracking-uri", uri)
	second.Dir = dir
	out, err := second.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ended 1 run(s) left RUNNING") {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	st, err := openStore(context.Background(), uri, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, _, _ := st.SearchRuns(context.Background(), store.SearchRuns{ExperimentIDs: []string{"0"}, Filter: "attributes.status = 'RUNNING'"})
	if len(runs) != 0 {
		t.Fatalf("runs still RUNNING: %d", len(runs))
	}
}

// TestDockerEnvRunsInDockerByDefault: a docker_env project with no
// --backend runs in a container, as with mlflow run; --backend local or
// --env-manager local runs it on the host on purpose; a docker option on
// a local run is an error before any run exists.
func TestDockerEnvRunsInDockerByDefault(t *testing.T) {
	proj := testutil.DockerExample(t) // examples/docker on the test base image
	dir := t.TempDir()
	shell, err := filepath.Abs(filepath.Join("..", "..", "examples", "shell"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir) // the default artifact root, ./mlruns, lands in the test's folder
	uri := "sqlite:///" + filepath.Join(dir, "m.db")
	mustRun(t, "db", "init", uri)
	out, err := mlrun(t, "run", proj, "-P", "alpha=0.3", "-P", "steps=2", "--tracking-uri", uri)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	st, err := openStore(context.Background(), uri, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, _, _ := st.SearchRuns(context.Background(), store.SearchRuns{ExperimentIDs: []string{"0"}})
	if len(runs) != 1 {
		t.Fatalf("%d runs", len(runs))
	}
	if b, _ := runs[0].Tag("mlflow.project.backend"); b != "docker" || runs[0].Info.Status != store.StatusFinished {
		t.Fatalf("backend %q, status %s\n%s", b, runs[0].Info.Status, out)
	}
	if g, _ := runs[0].Tag("greeting"); g != "hello from the container" {
		t.Fatalf("docker_env.environment not applied: greeting %q", g)
	}
	for _, args := range [][]string{
		{"run", proj, "--backend", "local", "--build-image"},
		{"run", proj, "--env-manager", "local", "-A", "memory=256m"},
		{"run", shell, "--keep-container"},
	} {
		_, err := mlrun(t, append(args, "--tracking-uri", uri)...)
		if err == nil || !strings.Contains(err.Error(), "is a docker backend option, and this run is local") {
			t.Errorf("mlrun %s: %v", strings.Join(args, " "), err)
		}
	}
	if runs, _, _ := st.SearchRuns(context.Background(), store.SearchRuns{ExperimentIDs: []string{"0"}}); len(runs) != 1 {
		t.Fatalf("a refused run left a run behind: %d runs", len(runs))
	}
}

// TestDockerStepLogsAModel: MLflow 3's log_model in a container step
// writes the model's files to the logged model's location, and an MLflow
// 2.x-3.3 client a trace's traces.json to the trace's, both in the
// experiment's folder, not the run's: mlrun mounts those too, so the
// files are on the host when the run ends (with the run's folder alone
// they were written into the container and lost with it). The step here
// is mlrun's own 'models log' in the image, which logs as MLflow 3's
// client does: the logged model through the run's tracking server, its
// files straight to the local path the server gives.
func TestDockerStepLogsAModel(t *testing.T) {
	base := testutil.RequireBaseImage(t)
	dir := t.TempDir()
	t.Chdir(dir) // the new database's artifact root, ./mlruns, lands in the test's folder
	proj := filepath.Join(dir, "proj")
	os.MkdirAll(proj, 0o755)
	onnx, err := os.ReadFile(testdata.Path("onnx/linear.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(proj, "linear.onnx"), onnx, 0o644)
	os.WriteFile(filepath.Join(proj, "MLproject"), []byte("name: dockermodel\ndocker_env:\n  image: "+base+
		"\nentry_points:\n  main:\n    command: \"mlrun models log linear.onnx --artifact-path net && sh trace.sh\"\n"), 0o644)
	// An MLflow 2.x-3.3 client's trace: started through the server, its
	// traces.json written to the artifact location the server gives.
	os.WriteFile(filepath.Join(proj, "trace.sh"), []byte(`set -eu
info=$(wget -qO- --header "Authorization: Bearer $MLFLOW_TRACKING_TOKEN" --header 'Content-Type: application/json' \
  --post-data '{"experiment_id": "0", "timestamp_ms": 1}' "$MLFLOW_TRACKING_URI/api/2.0/mlflow/traces")
loc=$(echo "$info" | sed 's/.*"key":"mlflow.artifactLocation","value":"\([^"]*\)".*/\1/')
mkdir -p "$loc"
echo '{"spans": []}' > "$loc/traces.json"
`), 0o644)
	uri := "sqlite:///" + filepath.Join(dir, "m.db")
	mustRun(t, "db", "init", uri)
	if out, err := mlrun(t, "run", proj, "--tracking-uri", uri); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	st, err := openStore(context.Background(), uri, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ms, _, err := st.(store.LoggedModels).SearchLoggedModels(context.Background(), store.SearchLoggedModels{ExperimentIDs: []string{"0"}})
	if err != nil || len(ms) != 1 || ms[0].Name != "net" || ms[0].Status != "LOGGED_MODEL_READY" {
		t.Fatalf("logged models: %+v %v", ms, err)
	}
	loc, err := artifact.ParseURI(ms[0].ArtifactURI)
	if err != nil || loc.Kind != artifact.Local {
		t.Fatalf("the model's location %s: %v", ms[0].ArtifactURI, err)
	}
	for _, f := range []string{"MLmodel", "model.onnx"} {
		if _, err := os.Stat(filepath.Join(loc.Path, f)); err != nil {
			t.Errorf("the model's %s is not on the host: %v", f, err)
		}
	}
	ts, _, err := st.(store.Traces).SearchTraces(context.Background(), store.SearchTraces{ExperimentIDs: []string{"0"}})
	if err != nil || len(ts) != 1 {
		t.Fatalf("traces: %d %v", len(ts), err)
	}
	tloc := tagValue(ts[0].Tags, "mlflow.artifactLocation")
	if b, err := os.ReadFile(filepath.Join(tloc, "traces.json")); err != nil || string(b) != "{\"spans\": []}\n" {
		t.Errorf("the trace's traces.json is not on the host (%s): %v %q", tloc, err, b)
	}
}

// TestRunPrintsALastingLink: the link MLflow's client prints inside the
// step points at the run's loopback server, gone with the run; mlrun
// ends with one that lasts.
func TestRunPrintsALastingLink(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	os.WriteFile("MLproject", []byte("name: t\nentry_points:\n  main:\n    command: \"true\"\n"), 0o644)
	out := mustRun(t, "run", ".", "--tracking-uri", "sqlite:///rel.db") // relative: the link makes it absolute
	st, err := openStore(context.Background(), "sqlite:///"+filepath.Join(dir, "rel.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, _, err := st.SearchRuns(context.Background(), store.SearchRuns{ExperimentIDs: []string{"0"}})
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs: %v %d", err, len(runs))
	}
	want := "=== View run: mlrun server --backend-store-uri sqlite:///" + filepath.Join(dir, "rel.db") +
		", then http://127.0.0.1:5000/#/experiments/0/runs/" + runs[0].Info.RunID + " ==="
	if !strings.Contains(out, want+"\n") {
		t.Fatalf("output lacks %q:\n%s", want, out)
	}
	for uri, want := range map[string]string{
		"https://alice:secret@mlflow.example.com/": "=== View run at https://alice@mlflow.example.com/#/experiments/3/runs/r1 ===",
		"postgresql://u:pw@db/mlflow":              "=== View run: mlrun server --backend-store-uri postgresql://u@db/mlflow, then http://127.0.0.1:5000/#/experiments/3/runs/r1 ===",
	} {
		if got := viewHint(uri, "3", "r1"); got != want {
			t.Errorf("viewHint(%s) = %q, want %q", uri, got, want)
		}
	}
}

// TestRunOnPostgres: `mlrun run` with a postgresql:// tracking URI (the
// real binary, a real PostgreSQL): the run, its parameter and the metric
// its step logs through the loopback server land in the database, and
// the run ends FINISHED.
func TestRunOnPostgres(t *testing.T) {
	uri := testutil.Postgres(t)
	bin := buildMlrun(t)
	proj := filepath.Join(t.TempDir(), "proj")
	os.MkdirAll(proj, 0o755)
	os.WriteFile(filepath.Join(proj, "MLproject"), []byte(`name: pg
entry_points:
  main:
    parameters:
      alpha: {type: float, default: 0.1}
    command: "mlrun log metric rmse 0.25 && echo alpha={alpha}"
`), 0o644)
	cmd := exec.Command(bin, "run", proj, "-P", "alpha=0.5", "--tracking-uri", uri)
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "alpha=0.5") {
		t.Fatalf("mlrun run on PostgreSQL: %v\n%s", err, out)
	}
	st, err := openStore(context.Background(), uri, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, _, err := st.SearchRuns(context.Background(), store.SearchRuns{ExperimentIDs: []string{"0"}, MaxResults: 10})
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs in the database: %d %v", len(runs), err)
	}
	r := runs[0]
	if r.Info.Status != store.StatusFinished || len(r.Params) != 1 || r.Params[0].Value != "0.5" || len(r.Metrics) != 1 || r.Metrics[0].Value != 0.25 {
		t.Fatalf("the run in PostgreSQL: %+v %+v %+v", r.Info, r.Params, r.Metrics)
	}
}
