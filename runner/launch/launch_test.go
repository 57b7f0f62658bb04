package launch_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/artifact/local"
	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/project"
	"github.com/mlrun/mlrun/runner"
	"github.com/mlrun/mlrun/runner/launch"
	localbackend "github.com/mlrun/mlrun/runner/local"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/rest"
	"github.com/mlrun/mlrun/store/sqlite"
)

// env is a SQLite store in t.TempDir() with its artifact root beside it.
type env struct {
	st   *sqlite.Store
	root string
	out  bytes.Buffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, root := testutil.SQLiteStore(t)
	return &env{st: st, root: root}
}

func (e *env) request(uri string, params ...project.KV) launch.Request {
	return launch.Request{
		URI: uri, Params: params, Backend: localbackend.Backend{},
		Store: e.st, Serve: testutil.ServeRun, ArtifactRoot: e.root,
		Artifacts: func(u string) (artifact.Repository, error) { return local.New(u), nil },
		Stdout:    &e.out, Stderr: &e.out, Grace: 2 * time.Second,
	}
}

// mlrunOnPath builds the mlrun binary and puts it first on PATH, as a
// user's shell would have it.
func mlrunOnPath(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "mlrun"), "../../cmd/mlrun").CombinedOutput(); err != nil {
		t.Fatalf("build mlrun: %v\n%s", err, out)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

func params(r *store.Run) map[string]string {
	m := map[string]string{}
	for _, p := range r.Params {
		m[p.Key] = p.Value
	}
	return m
}

func readArtifact(t *testing.T, r *store.Run, p string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.Info.ArtifactURI, p))
	if err != nil {
		t.Fatalf("artifact %s: %v", p, err)
	}
	return string(b)
}

func TestWineExample(t *testing.T) {
	testutil.Require(t, "python3", "apt-get install python3")
	e := newEnv(t)
	ctx := context.Background()
	defer unchanged(t, "../../examples/wine")()
	req := e.request("../../examples/wine", project.KV{Key: "alpha", Value: "0.25"}, project.KV{Key: "epochs", Value: "20"})
	req.ExperimentName = "wine"
	out, err := launch.Execute(ctx, req)
	if err != nil {
		t.Fatalf("%v\n%s", err, e.out.String())
	}
	if out.Status != store.StatusFinished || out.ExitCode != 0 {
		t.Fatalf("outcome %+v\n%s", out, e.out.String())
	}
	r, err := e.st.GetRun(ctx, out.RunID)
	if err != nil {
		t.Fatal(err)
	}
	exp, _ := e.st.GetExperimentByName(ctx, "wine")
	if r.Info.Status != store.StatusFinished || r.Info.EndTime == nil || r.Info.ExperimentID != exp.ID {
		t.Fatalf("run info %+v", r.Info)
	}
	p := params(r)
	for k, v := range map[string]string{"alpha": "0.25", "l1_ratio": "0.1", "epochs": "20", "data": "data/wine.csv", "rows": "300", "features": "4"} {
		if p[k] != v {
			t.Errorf("param %s = %q, want %q", k, p[k], v)
		}
	}
	abs, _ := filepath.Abs("../../examples/wine")
	tags := map[string]string{}
	for _, tg := range r.Tags {
		tags[tg.Key] = tg.Value
	}
	for k, want := range map[string]string{"mlflow.source.type": "PROJECT", "mlflow.project.entryPoint": "main", "mlflow.project.backend": "local", "model": "elasticnet-gd"} {
		if tags[k] != want {
			t.Errorf("tag %s = %q, want %q", k, tags[k], want)
		}
	}
	// In a git checkout MLflow's form is file://<repo root>#<subdir>.
	if tags["mlflow.user"] == "" || tags["mlflow.runName"] == "" ||
		(tags["mlflow.source.name"] != abs && !strings.HasSuffix(tags["mlflow.source.name"], "#examples/wine")) {
		t.Errorf("tags %v", tags)
	}
	if _, has := tags["mlflow.project.env"]; has {
		t.Errorf("mlflow.project.env set for the local env manager: %v", tags)
	}
	if c := tags["mlflow.source.git.commit"]; c != "" && !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(c) {
		t.Errorf("git commit tag %q", c)
	}
	h, _, err := e.st.GetMetricHistory(ctx, r.Info.RunID, "rmse", 0, "")
	if err != nil || len(h) != 20 || h[19].Step != 19 || h[19].Value >= h[0].Value {
		t.Fatalf("rmse history: %d points %v", len(h), err)
	}
	if !strings.Contains(readArtifact(t, r, "model.json"), `"intercept"`) || !strings.Contains(readArtifact(t, r, launch.StepLog), "epoch  19 rmse") {
		t.Fatal("artifacts missing")
	}
}

func TestShellExampleLogsWithMlrunLog(t *testing.T) {
	mlrunOnPath(t)
	e := newEnv(t)
	ctx := context.Background()
	defer unchanged(t, "../../examples/shell")()
	out, err := launch.Execute(ctx, e.request("../../examples/shell", project.KV{Key: "steps", Value: "4"}))
	if err != nil || out.Status != store.StatusFinished {
		t.Fatalf("%v %+v\n%s", err, out, e.out.String())
	}
	r, _ := e.st.GetRun(ctx, out.RunID)
	p := params(r)
	if p["steps"] != "4" || p["greeting"] != "hello world" || !strings.HasPrefix(p["shell"], "5.") {
		t.Fatalf("params %v", p)
	}
	if v, _ := r.Tag("greeting"); v != "hello world" {
		t.Fatalf("greeting tag %q", v)
	}
	h, _, _ := e.st.GetMetricHistory(ctx, r.Info.RunID, "loss", 0, "")
	if len(h) != 4 || h[3].Step != 3 {
		t.Fatalf("loss history %v", h)
	}
	if !strings.Contains(readArtifact(t, r, "summary.txt"), "after 4 steps") {
		t.Fatal("summary.txt")
	}
}

// unchanged lists the files of an example project (Python's __pycache__
// aside) and returns a check that the run left them as they were: an
// example must not write into the folder a user runs it from.
func unchanged(t *testing.T, dir string) func() {
	t.Helper()
	list := func() map[string]string {
		files := map[string]string{}
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "__pycache__" {
				return filepath.SkipDir
			}
			if info, err := d.Info(); err == nil && !d.IsDir() {
				files[p] = fmt.Sprint(info.Size(), info.ModTime())
			}
			return nil
		})
		return files
	}
	before := list()
	return func() {
		t.Helper()
		if after := list(); !maps.Equal(before, after) {
			t.Errorf("the run changed %s: before %v, after %v", dir, before, after)
		}
	}
}

// tmpProject writes an MLproject with one main entry point.
func tmpProject(t *testing.T, command string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "MLproject"), []byte("name: tmp\nentry_points:\n  main:\n    command: "+strconv.Quote(command)+"\n"), 0o644)
	for p, c := range files {
		os.WriteFile(filepath.Join(dir, p), []byte(c), 0o755)
	}
	return dir
}

func TestFailingStepEndsFailed(t *testing.T) {
	e := newEnv(t)
	out, err := launch.Execute(context.Background(), e.request(tmpProject(t, "echo bad; exit 3", nil)))
	if err != nil || out.Status != store.StatusFailed || out.ExitCode != 3 {
		t.Fatalf("%v %+v", err, out)
	}
	r, _ := e.st.GetRun(context.Background(), out.RunID)
	if r.Info.Status != store.StatusFailed || r.Info.EndTime == nil {
		t.Fatalf("run %+v", r.Info)
	}
	if !strings.Contains(readArtifact(t, r, launch.StepLog), "bad") {
		t.Fatal("the failed step's log was not kept")
	}
}

// TestCancelEndsKilledWithNoChildLeft: the step starts a child and a
// grandchild that ignore nothing; cancelling stops the whole group.
func TestCancelEndsKilledWithNoChildLeft(t *testing.T) {
	e := newEnv(t)
	dir := tmpProject(t, "bash spawn.sh", map[string]string{"spawn.sh": "sleep 300 &\necho $! > pids\n(sleep 300; true) &\necho $! >> pids\ntrap '' TERM\nwait\n"})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for i := 0; i < 200; i++ {
			if b, _ := os.ReadFile(filepath.Join(dir, "pids")); strings.Count(string(b), "\n") == 2 {
				break
			}
			time.Sleep(25 * time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	out, err := launch.Execute(ctx, e.request(dir))
	if err != nil || out.Status != store.StatusKilled {
		t.Fatalf("%v %+v\n%s", err, out, e.out.String())
	}
	if time.Since(start) > 30*time.Second {
		t.Fatalf("stopping took %s", time.Since(start))
	}
	r, _ := e.st.GetRun(context.Background(), out.RunID)
	if r.Info.Status != store.StatusKilled || r.Info.EndTime == nil {
		t.Fatalf("run %+v", r.Info)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "pids"))
	for _, f := range strings.Fields(string(b)) {
		pid, _ := strconv.Atoi(f)
		if testutil.Alive(pid) {
			t.Fatalf("child %d is still alive", pid)
		}
	}
}

func TestInvalidRequestsCreateNoRun(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for name, tc := range map[string]struct {
		req  launch.Request
		kind error
	}{
		"missing param":  {e.request("../../project/testdata/docker"), project.ErrInvalidParameter},
		"bad type":       {e.request("../../examples/wine", project.KV{Key: "epochs", Value: "many"}), project.ErrInvalidParameter},
		"unknown entry":  {func() launch.Request { r := e.request("../../examples/wine"); r.EntryPoint = "nope"; return r }(), project.ErrInvalid},
		"no such folder": {e.request("./no/such/folder"), project.ErrInvalid},
		"unknown exp id": {func() launch.Request { r := e.request("../../examples/wine"); r.ExperimentID = "99"; return r }(), store.ErrNotFound},
		"both exp flags": {func() launch.Request {
			r := e.request("../../examples/wine")
			r.ExperimentID = "0"
			r.ExperimentName = "x"
			return r
		}(), runner.ErrInvalid},
		"bad env manager": {func() launch.Request { r := e.request("../../examples/wine"); r.EnvManager = "pixi"; return r }(), runner.ErrInvalid},
	} {
		out, err := launch.Execute(ctx, tc.req)
		if !errors.Is(err, tc.kind) || out != nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v %+v, want a one-line %q error and no run", name, err, out, tc.kind)
		}
	}
	runs, _, _ := e.st.SearchRuns(ctx, store.SearchRuns{ExperimentIDs: []string{"0"}, ViewType: store.AllViews})
	if len(runs) != 0 {
		t.Fatalf("%d runs were created by invalid requests", len(runs))
	}
	if _, err := launch.Execute(ctx, func() launch.Request { r := e.request("../../examples/wine"); r.EnvManager = "conda"; return r }()); !errors.Is(err, runner.ErrBackendUnavailable) && !strings.Contains(err.Error(), "conda") {
		t.Fatalf("conda: %v", err)
	}
}

func TestGitProjectRun(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	repo := testutil.NewGitRepo(t)
	repo.Commit("one", map[string]string{"proj/MLproject": "name: g\nentry_points:\n  main:\n    parameters:\n      x: {type: string, default: a}\n    command: \"echo {x} > out.txt && pwd\"\n"})
	repo.Branch("exp")
	c2 := repo.Commit("two", map[string]string{"proj/extra.txt": "x"})
	req := e.request("file://" + repo.Dir + "#proj")
	req.Version = "exp"
	req.CacheDir = t.TempDir()
	out, err := launch.Execute(ctx, req)
	if err != nil || out.Status != store.StatusFinished {
		t.Fatalf("%v %+v\n%s", err, out, e.out.String())
	}
	r, _ := e.st.GetRun(ctx, out.RunID)
	tags := map[string]string{}
	for _, tg := range r.Tags {
		tags[tg.Key] = tg.Value
	}
	if tags["mlflow.source.git.commit"] != c2 || tags["mlflow.source.git.branch"] != "exp" || tags["mlflow.source.name"] != "file://"+repo.Dir+"#proj" {
		t.Fatalf("tags %v", tags)
	}
}

func TestVirtualenvIsCachedByContent(t *testing.T) {
	testutil.Require(t, "python3", "apt-get install python3 python3-venv")
	t.Setenv("MLRUN_ENV_ROOT", t.TempDir())
	e := newEnv(t)
	dir := tmpProject(t, "python -c 'import sys; print(\"prefix=\" + sys.prefix)'", map[string]string{"python_env.yaml": "python: \"3\"\ndependencies: []\n"})
	os.WriteFile(filepath.Join(dir, "MLproject"), []byte("name: v\npython_env: python_env.yaml\nentry_points:\n  main:\n    command: \"python -c 'import sys; print(\\\"prefix=\\\" + sys.prefix)'\"\n"), 0o644)
	ctx := context.Background()
	out, err := launch.Execute(ctx, e.request(dir))
	if err != nil || out.Status != store.StatusFinished {
		t.Fatalf("%v %+v\n%s", err, out, e.out.String())
	}
	log := e.out.String()
	if !strings.Contains(log, "creating virtualenv") || !strings.Contains(log, "prefix="+os.Getenv("MLRUN_ENV_ROOT")) {
		t.Fatalf("first run did not build and use a venv:\n%s", log)
	}
	r, _ := e.st.GetRun(ctx, out.RunID)
	if v, _ := r.Tag("mlflow.project.env"); v != "virtualenv" {
		t.Fatalf("mlflow.project.env = %q", v)
	}
	e.out.Reset()
	if out, err := launch.Execute(ctx, e.request(dir)); err != nil || out.Status != store.StatusFinished {
		t.Fatalf("second run: %v", err)
	}
	if strings.Contains(e.out.String(), "creating virtualenv") || !strings.Contains(e.out.String(), "prefix="+os.Getenv("MLRUN_ENV_ROOT")) {
		t.Fatalf("second run rebuilt the venv:\n%s", e.out.String())
	}
}

func TestReuseRunID(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r, err := e.st.CreateRun(ctx, store.CreateRun{RunName: "pre-made"})
	if err != nil {
		t.Fatal(err)
	}
	req := e.request(tmpProject(t, "echo $MLFLOW_RUN_ID", nil))
	req.RunID = r.Info.RunID
	out, err := launch.Execute(ctx, req)
	if err != nil || out.RunID != r.Info.RunID || out.Status != store.StatusFinished || !strings.Contains(e.out.String(), r.Info.RunID) {
		t.Fatalf("%v %+v\n%s", err, out, e.out.String())
	}
	// A finished run cannot be reused.
	if _, err := launch.Execute(ctx, req); !errors.Is(err, runner.ErrInvalid) {
		t.Fatalf("a finished run was reused: %v, want ErrInvalid", err)
	}
}

// TestReapEndsRunsOfDeadRunners: a RUNNING run whose mlrun process is gone
// is ended FAILED by the next mlrun; one whose process lives is left alone.
func TestReapEndsRunsOfDeadRunners(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	host, _ := os.Hostname()
	dead := exec.Command("true")
	dead.Run()
	orphan, _ := e.st.CreateRun(ctx, store.CreateRun{Tags: []store.Tag{{Key: launch.TagRunnerHost, Value: host}, {Key: launch.TagRunnerPID, Value: strconv.Itoa(dead.Process.Pid)}}})
	livePID := strconv.Itoa(os.Getpid())
	live, _ := e.st.CreateRun(ctx, store.CreateRun{Tags: []store.Tag{{Key: launch.TagRunnerHost, Value: host}, {Key: launch.TagRunnerPID, Value: livePID}}})
	other, _ := e.st.CreateRun(ctx, store.CreateRun{Tags: []store.Tag{{Key: launch.TagRunnerHost, Value: "another-host"}, {Key: launch.TagRunnerPID, Value: "1"}}})
	// Same host name, another pid namespace (a container): not ours to judge.
	elsewhere, _ := e.st.CreateRun(ctx, store.CreateRun{Tags: []store.Tag{{Key: launch.TagRunnerHost, Value: host},
		{Key: launch.TagRunnerPID, Value: strconv.Itoa(dead.Process.Pid)}, {Key: launch.TagRunnerPIDNS, Value: "pid:[1]"}}})
	ended, err := launch.Reap(ctx, e.st)
	if err != nil || len(ended) != 1 || ended[0] != orphan.Info.RunID {
		t.Fatalf("reaped %v %v", ended, err)
	}
	for id, want := range map[string]store.RunStatus{orphan.Info.RunID: store.StatusFailed, live.Info.RunID: store.StatusRunning, other.Info.RunID: store.StatusRunning, elsewhere.Info.RunID: store.StatusRunning} {
		r, _ := e.st.GetRun(ctx, id)
		if r.Info.Status != want {
			t.Fatalf("run %s is %s, want %s", id, r.Info.Status, want)
		}
	}
	r, _ := e.st.GetRun(ctx, orphan.Info.RunID)
	if v, _ := r.Tag("mlrun.runner.note"); !strings.Contains(v, "exited without ending it") || r.Info.EndTime == nil {
		t.Fatalf("reaped run %+v note %q", r.Info, v)
	}
}

// TestLoopbackNeedsTheRunToken: the step gets the loopback server's token
// as MLFLOW_TRACKING_TOKEN (and none of the caller's credentials); a
// request without it, or with another, gets 401, one with it logs into
// the run, and `mlrun log` uses it on its own.
func TestLoopbackNeedsTheRunToken(t *testing.T) {
	testutil.Require(t, "python3", "apt-get install python3")
	mlrunOnPath(t)
	t.Setenv("MLFLOW_TRACKING_USERNAME", "someone")
	t.Setenv("MLFLOW_TRACKING_PASSWORD", "secret")
	e := newEnv(t)
	probe := `import os, urllib.request, urllib.error
base, run, tok = os.environ["MLFLOW_TRACKING_URI"], os.environ["MLFLOW_RUN_ID"], os.environ.get("MLFLOW_TRACKING_TOKEN", "")
print("creds", os.environ.get("MLFLOW_TRACKING_USERNAME"), os.environ.get("MLFLOW_TRACKING_PASSWORD"), len(tok))
for name, header in [("none", None), ("wrong", "Bearer " + "0" * 64), ("basic", "Basic c29tZW9uZTpzZWNyZXQ="), ("token", "Bearer " + tok)]:
    req = urllib.request.Request(base + "/api/2.0/mlflow/runs/get?run_id=" + run)
    if header:
        req.add_header("Authorization", header)
    try:
        code = urllib.request.urlopen(req).status
    except urllib.error.HTTPError as e:
        code = e.code
    print("status", name, code)
for path in ["/get-artifact?run_id=" + run + "&path=x", "/api/2.0/mlflow-artifacts/artifacts?path=", "/experiments"]:
    try:
        code = urllib.request.urlopen(base + path).status
    except urllib.error.HTTPError as e:
        code = e.code
    print("status", path.split("?")[0], code)
`
	dir := tmpProject(t, "python3 probe.py && mlrun log param via token", map[string]string{"probe.py": probe})
	out, err := launch.Execute(context.Background(), e.request(dir))
	if err != nil || out.Status != store.StatusFinished {
		t.Fatalf("%v %+v\n%s", err, out, e.out.String())
	}
	log := e.out.String()
	for _, want := range []string{"creds None None 64", "status none 401", "status wrong 401", "status basic 401", "status token 200",
		"status /get-artifact 401", "status /api/2.0/mlflow-artifacts/artifacts 401", "status /experiments 401"} {
		if !strings.Contains(log, want) {
			t.Errorf("step output lacks %q:\n%s", want, log)
		}
	}
	r, _ := e.st.GetRun(context.Background(), out.RunID)
	if params(r)["via"] != "token" {
		t.Fatalf("mlrun log with the token did not land: %v", params(r))
	}
}

// TestCreateRunSendsStartTime: against a tracking server, the run's
// create call carries start_time and user_id itself, as MLflow's client
// does (MLflow's server fills in neither; mlrun's did, which hid it).
func TestCreateRunSendsStartTime(t *testing.T) {
	proxyURL, check := testutil.CreateRunRecorder(t)
	st, err := rest.Open(proxyURL, rest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res, err := launch.Execute(context.Background(), launch.Request{
		URI: tmpProject(t, "true", nil), Backend: localbackend.Backend{}, Store: st, TrackingURI: proxyURL,
		Stdout: &out, Stderr: &out, Grace: 2 * time.Second,
	})
	if err != nil || res.Status != store.StatusFinished {
		t.Fatalf("%v %+v\n%s", err, res, out.String())
	}
	check(t)
}

// TestLocalGitFolderRecordsOrigin: a project in a local git checkout
// records its origin's URL as MLflow does (mlflow.source.git.repoURL and
// mlflow.gitRepoURL), a local path included, with the commit.
func TestLocalGitFolderRecordsOrigin(t *testing.T) {
	repo := testutil.NewGitRepo(t)
	commit := repo.Commit("one", map[string]string{"MLproject": "name: g\nentry_points:\n  main:\n    command: \"true\"\n"})
	for name, url := range map[string]string{"upstream": "https://example.invalid/other.git", "origin": "/srv/git/project.git"} {
		if _, err := repo.Repo.CreateRemote(&gitconfig.RemoteConfig{Name: name, URLs: []string{url}}); err != nil {
			t.Fatal(err)
		}
	}
	e := newEnv(t)
	out, err := launch.Execute(context.Background(), e.request(repo.Dir))
	if err != nil || out.Status != store.StatusFinished {
		t.Fatalf("%v %+v\n%s", err, out, e.out.String())
	}
	r, _ := e.st.GetRun(context.Background(), out.RunID)
	for k, want := range map[string]string{"mlflow.source.git.repoURL": "/srv/git/project.git", "mlflow.gitRepoURL": "/srv/git/project.git", "mlflow.source.git.commit": commit} {
		if v, _ := r.Tag(k); v != want {
			t.Errorf("tag %s = %q, want %q", k, v, want)
		}
	}
}

// TestKillNowEndsTheGrace: a step that ignores SIGTERM, stopped with an
// hour of grace, is killed as soon as KillNow closes (a second Ctrl-C).
func TestKillNowEndsTheGrace(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	kill := make(chan struct{})
	dir := tmpProject(t, "trap '' TERM; touch started; while true; do sleep 0.1; done", nil)
	req := e.request(dir)
	req.Grace, req.KillNow = time.Hour, kill
	done := make(chan *launch.Outcome, 1)
	go func() { out, _ := launch.Execute(ctx, req); done <- out }()
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(25 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "started")); err == nil {
			break
		}
		if time.Now().After(end) {
			t.Fatal("the step did not start within 30 s")
		}
	}
	cancel()
	time.Sleep(200 * time.Millisecond)
	close(kill)
	select {
	case out := <-done:
		if out == nil || out.Status != store.StatusKilled {
			t.Fatalf("outcome %+v", out)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("KillNow did not end the hour of grace")
	}
}
