package docker_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/artifact/local"
	"github.com/mlrun/mlrun/artifact/proxied"
	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/project"
	"github.com/mlrun/mlrun/runner"
	"github.com/mlrun/mlrun/runner/docker"
	"github.com/mlrun/mlrun/runner/launch"
	"github.com/mlrun/mlrun/runner/runnertest"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/rest"
)

type env struct {
	st   store.Store
	root string
	out  bytes.Buffer
}

func sqliteEnv(t *testing.T) *env {
	t.Helper()
	st, root := testutil.SQLiteStore(t)
	return &env{st: st, root: root}
}

func (e *env) request(t *testing.T, uri string, opts docker.Options, params ...project.KV) launch.Request {
	t.Helper()
	opts.Out = &e.out
	b, err := docker.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	req := launch.Request{
		URI: uri, Params: params, Backend: b, Store: e.st,
		Artifacts: func(u string) (artifact.Repository, error) { return local.New(u), nil },
		Stdout:    &e.out, Stderr: &e.out, Grace: time.Second,
	}
	if _, remote := e.st.(*rest.Store); !remote {
		req.Serve, req.ArtifactRoot = testutil.ServeRun, e.root
	} else {
		req.TrackingURI = e.st.(*rest.Store).BaseURL()
		req.Artifacts = func(u string) (artifact.Repository, error) {
			return proxied.New(e.st.(*rest.Store).Client, strings.TrimPrefix(u, "mlflow-artifacts:/")), nil
		}
	}
	return req
}

// dockerProject writes a docker_env project using the test base image.
func dockerProject(t *testing.T, dockerEnv, command string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	mlp := fmt.Sprintf("name: dtest\ndocker_env:\n  image: %s\n%s\nentry_points:\n  main:\n    command: %q\n", testutil.RequireBaseImage(t), dockerEnv, command)
	os.WriteFile(filepath.Join(dir, "MLproject"), []byte(mlp), 0o644)
	for p, c := range files {
		os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644)
	}
	return dir
}

func checkExampleRun(t *testing.T, st store.Store, out *launch.Outcome, log string) *store.Run {
	t.Helper()
	if out.Status != store.StatusFinished {
		t.Fatalf("status %s\n%s", out.Status, log)
	}
	r, tags := testutil.RunTags(t, st, out.RunID)
	p := map[string]string{}
	for _, kv := range r.Params {
		p[kv.Key] = kv.Value
	}
	if p["alpha"] != "0.2" || p["container_user"] != "root" {
		t.Fatalf("params %v", p)
	}
	if tags["greeting"] != "hello from the container" || tags["mlflow.project.backend"] != "docker" || (tags["mlflow.docker.image.name"] != testutil.BaseImage && !strings.HasPrefix(tags["mlflow.docker.image.name"], "docker-example:")) ||
		!strings.HasPrefix(tags["mlflow.docker.image.id"], "sha256:") || tags["mlflow.project.env"] != "docker" {
		t.Fatalf("tags %v", tags)
	}
	h, _, err := st.GetMetricHistory(context.Background(), out.RunID, "loss", 0, "")
	if err != nil || len(h) != 3 {
		t.Fatalf("loss history %v %v", h, err)
	}
	return r
}

func TestExampleLogsIntoLocalSQLite(t *testing.T) {
	e := sqliteEnv(t)
	out, err := launch.Execute(context.Background(), e.request(t, testutil.DockerExample(t), docker.Options{}, project.KV{Key: "alpha", Value: "0.2"}, project.KV{Key: "steps", Value: "3"}))
	if err != nil {
		t.Fatalf("%v\n%s", err, e.out.String())
	}
	r := checkExampleRun(t, e.st, out, e.out.String())
	b, err := os.ReadFile(filepath.Join(r.Info.ArtifactURI, "result.txt"))
	if err != nil || !strings.Contains(string(b), "alpha=0.2") {
		t.Fatalf("artifact logged in the container did not land in the run: %v %q", err, b)
	}
	if b, _ := os.ReadFile(filepath.Join(r.Info.ArtifactURI, launch.StepLog)); !strings.Contains(string(b), "step 2 loss") {
		t.Fatalf("step log %q", b)
	}
}

func TestExampleLogsIntoServer(t *testing.T) {
	srv := testutil.StartServer(t, true)
	st, err := rest.Open(srv.URL, rest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{st: st}
	out, err := launch.Execute(context.Background(), e.request(t, testutil.DockerExample(t), docker.Options{BuildImage: true}, project.KV{Key: "alpha", Value: "0.2"}, project.KV{Key: "steps", Value: "3"}))
	if err != nil {
		t.Fatalf("%v\n%s", err, e.out.String())
	}
	r := checkExampleRun(t, st, out, e.out.String())
	_, tags := testutil.RunTags(t, st, out.RunID)
	if !strings.HasPrefix(tags["mlflow.docker.image.name"], "docker-example:") {
		t.Fatalf("--build-image tag %v", tags)
	}
	cli := testutil.RequireDocker(t)
	t.Cleanup(func() { cli.ImageRemove(context.Background(), tags["mlflow.docker.image.name"], imageRemoveOptions()) })
	rel := strings.TrimPrefix(r.Info.ArtifactURI, "mlflow-artifacts:/")
	b, err := os.ReadFile(filepath.Join(srv.Artifacts, rel, "result.txt"))
	if err != nil || !strings.Contains(string(b), "alpha=0.2") {
		t.Fatalf("artifact through the proxy: %v %q", err, b)
	}
}

func TestBuildImageIsCached(t *testing.T) {
	e := sqliteEnv(t)
	dir := dockerProject(t, "", "cat data.txt", map[string]string{"data.txt": "v1\n"})
	ctx := context.Background()
	run := func() (*launch.Outcome, map[string]string) {
		e.out.Reset()
		out, err := launch.Execute(ctx, e.request(t, dir, docker.Options{BuildImage: true}))
		if err != nil || out.Status != store.StatusFinished {
			t.Fatalf("%v %+v\n%s", err, out, e.out.String())
		}
		_, tags := testutil.RunTags(t, e.st, out.RunID)
		return out, tags
	}
	_, t1 := run()
	if !strings.Contains(e.out.String(), "building image dtest:") || !strings.Contains(e.out.String(), "v1") {
		t.Fatalf("first run did not build:\n%s", e.out.String())
	}
	cli := testutil.RequireDocker(t)
	t.Cleanup(func() { cli.ImageRemove(context.Background(), t1["mlflow.docker.image.name"], imageRemoveOptions()) })
	_, t2 := run()
	if strings.Contains(e.out.String(), "building image") || !strings.Contains(e.out.String(), "is up to date; not building") {
		t.Fatalf("second run rebuilt:\n%s", e.out.String())
	}
	if t1["mlflow.docker.image.id"] != t2["mlflow.docker.image.id"] || t1["mlflow.docker.image.name"] != t2["mlflow.docker.image.name"] {
		t.Fatalf("image changed: %v vs %v", t1, t2)
	}
	os.WriteFile(filepath.Join(dir, "data.txt"), []byte("v2\n"), 0o644)
	_, t3 := run()
	if !strings.Contains(e.out.String(), "building image") || !strings.Contains(e.out.String(), "v2") || t3["mlflow.docker.image.name"] == t1["mlflow.docker.image.name"] {
		t.Fatalf("changed content was not rebuilt:\n%s", e.out.String())
	}
	t.Cleanup(func() { cli.ImageRemove(context.Background(), t3["mlflow.docker.image.name"], imageRemoveOptions()) })
}

func TestEnvironmentAndVolumes(t *testing.T) {
	e := sqliteEnv(t)
	shared := t.TempDir()
	t.Setenv("MLRUN_TEST_HOSTVAR", "from-host")
	dir := dockerProject(t, fmt.Sprintf("  environment: [[\"A\", \"1\"], \"MLRUN_TEST_HOSTVAR\"]\n  volumes: [%q]", shared+":/data"), `env > /data/env.txt; wget -q -O - "$MLFLOW_TRACKING_URI/api/2.0/mlflow/runs/get?run_id=$MLFLOW_RUN_ID" 2> /data/noauth.txt; wget -q -O /data/auth.txt --header "Authorization: Bearer $MLFLOW_TRACKING_TOKEN" "$MLFLOW_TRACKING_URI/api/2.0/mlflow/runs/get?run_id=$MLFLOW_RUN_ID"; echo ok > /extra/x.txt`, nil)
	extra := t.TempDir()
	req := e.request(t, dir, docker.Options{Args: []string{"env=B=2", "volume=" + extra + ":/extra", "memory=256m", "user=0"}})
	out, err := launch.Execute(context.Background(), req)
	if err != nil || out.Status != store.StatusFinished {
		t.Fatalf("%v %+v\n%s", err, out, e.out.String())
	}
	b, _ := os.ReadFile(filepath.Join(shared, "env.txt"))
	for _, want := range []string{"A=1", "MLRUN_TEST_HOSTVAR=from-host", "B=2", "MLFLOW_RUN_ID=" + out.RunID, "MLFLOW_EXPERIMENT_ID=0", "MLFLOW_TRACKING_URI=http://", "MLFLOW_TRACKING_TOKEN="} {
		if !strings.Contains(string(b), want) {
			t.Errorf("container env lacks %s:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), "MLFLOW_TRACKING_URI=http://127.0.0.1") {
		t.Errorf("the container got a loopback tracking URI:\n%s", b)
	}
	if _, err := os.Stat(filepath.Join(extra, "x.txt")); err != nil {
		t.Errorf("-A volume not mounted: %v", err)
	}
	// Through the bridge forwarder, the run's server wants the run's token.
	if b, _ := os.ReadFile(filepath.Join(shared, "noauth.txt")); !strings.Contains(string(b), "401") {
		t.Errorf("a request without the token from the container: %q, want 401", b)
	}
	if b, _ := os.ReadFile(filepath.Join(shared, "auth.txt")); !strings.Contains(string(b), out.RunID) {
		t.Errorf("a request with the token from the container: %q", b)
	}
	// A host variable the project copies but that is unset: no run.
	os.Unsetenv("MLRUN_TEST_HOSTVAR")
	if _, err := launch.Execute(context.Background(), e.request(t, dir, docker.Options{})); err == nil || !strings.Contains(err.Error(), "MLRUN_TEST_HOSTVAR was not set") {
		t.Fatalf("unset host variable: %v", err)
	}
}

func TestExitCodeToStatus(t *testing.T) {
	e := sqliteEnv(t)
	out, err := launch.Execute(context.Background(), e.request(t, dockerProject(t, "", "echo failing; exit 7", nil), docker.Options{}))
	if err != nil || out.Status != store.StatusFailed || out.ExitCode != 7 {
		t.Fatalf("%v %+v", err, out)
	}
	r, _ := testutil.RunTags(t, e.st, out.RunID)
	if r.Info.Status != store.StatusFailed {
		t.Fatalf("run %s", r.Info.Status)
	}
}

func TestCancelKillsAndRemovesTheContainer(t *testing.T) {
	e := sqliteEnv(t)
	cli := testutil.RequireDocker(t)
	ctx, cancel := context.WithCancel(context.Background())
	req := e.request(t, dockerProject(t, "", "echo started; sleep 300", nil), docker.Options{})
	var w runnertest.Buffer
	req.Stdout = io.MultiWriter(&w)
	go func() {
		for i := 0; i < 400 && !w.Contains("started"); i++ {
			time.Sleep(25 * time.Millisecond)
		}
		cancel()
	}()
	out, err := launch.Execute(ctx, req)
	if err != nil || out.Status != store.StatusKilled {
		t.Fatalf("%v %+v\n%s", err, out, e.out.String())
	}
	r, _ := testutil.RunTags(t, e.st, out.RunID)
	if r.Info.Status != store.StatusKilled {
		t.Fatalf("run %s", r.Info.Status)
	}
	cs, err := docker.Containers(context.Background(), cli, out.RunID)
	if err != nil || len(cs) != 0 {
		t.Fatalf("containers left: %v %v", cs, err)
	}
}

func TestKeepContainer(t *testing.T) {
	e := sqliteEnv(t)
	cli := testutil.RequireDocker(t)
	out, err := launch.Execute(context.Background(), e.request(t, dockerProject(t, "", "true", nil), docker.Options{KeepContainer: true}))
	if err != nil || out.Status != store.StatusFinished {
		t.Fatalf("%v %+v", err, out)
	}
	cs, _ := docker.Containers(context.Background(), cli, out.RunID)
	if len(cs) != 1 {
		t.Fatalf("--keep-container: %d containers", len(cs))
	}
	cli.ContainerRemove(context.Background(), cs[0].ID, containerRemoveOptions())
}

func TestFailuresCreateNoRun(t *testing.T) {
	e := sqliteEnv(t)
	ctx := context.Background()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "MLproject"), []byte("name: m\ndocker_env:\n  image: mlrun-no-such-image:404\nentry_points:\n  main:\n    command: \"true\"\n"), 0o644)
	testutil.RequireDocker(t)
	_, err := launch.Execute(ctx, e.request(t, dir, docker.Options{}))
	if !errors.Is(err, runner.ErrBackendUnavailable) || !strings.Contains(err.Error(), "mlrun-no-such-image:404 is not on this machine and could not be pulled") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("missing image: %v", err)
	}
	noDocker := t.TempDir()
	os.WriteFile(filepath.Join(noDocker, "MLproject"), []byte("name: n\nentry_points:\n  main:\n    command: \"true\"\n"), 0o644)
	if _, err := launch.Execute(ctx, e.request(t, noDocker, docker.Options{})); !errors.Is(err, runner.ErrInvalid) {
		t.Fatalf("no docker_env: %v", err)
	}
	if _, err := docker.New(docker.Options{Args: []string{"bogus=1"}}); !errors.Is(err, runner.ErrInvalid) {
		t.Fatalf("bad -A: %v", err)
	}
	if _, err := docker.New(docker.Options{Config: `{"memory": "lots"}`}); !errors.Is(err, runner.ErrInvalid) {
		t.Fatalf("bad backend config: %v", err)
	}
	proj := dockerProject(t, "", "true", nil)
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	_, err = launch.Execute(ctx, e.request(t, proj, docker.Options{}))
	if !errors.Is(err, runner.ErrBackendUnavailable) || !strings.Contains(err.Error(), "cannot reach the Docker daemon") {
		t.Fatalf("no daemon: %v", err)
	}
	runs, _, _ := e.st.SearchRuns(ctx, store.SearchRuns{ExperimentIDs: []string{"0"}, ViewType: store.AllViews})
	if len(runs) != 0 {
		t.Fatalf("%d runs created by failures before start", len(runs))
	}
}

// BenchmarkCachedRun compares a run on a cached built image with a plain
// `docker run --rm` of the same image and command.
func BenchmarkCachedRun(b *testing.B) {
	testutil.RequireDocker(b)
	img := testutil.RequireBaseImage(b)
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "MLproject"), []byte("name: bench\ndocker_env:\n  image: "+img+"\nentry_points:\n  main:\n    command: \"true\"\n"), 0o644)
	st, _ := testutil.SQLiteStore(b)
	run := func() {
		be, _ := docker.New(docker.Options{BuildImage: true, Out: io.Discard})
		out, err := launch.Execute(context.Background(), launch.Request{URI: dir, Backend: be, Store: st, Serve: testutil.ServeRun, Stdout: io.Discard, Stderr: io.Discard})
		if err != nil || out.Status != store.StatusFinished {
			b.Fatalf("%v %+v", err, out)
		}
	}
	run() // builds the image once
	b.Run("mlrun-cached-image", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			run()
		}
	})
	b.Run("docker-run", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if out, err := exec.Command("docker", "run", "--rm", img, "sh", "-c", "true").CombinedOutput(); err != nil {
				b.Fatalf("%v %s", err, out)
			}
		}
	})
}

// TestConformance runs the backends' suite on the docker backend, with
// the test base image as the docker_env.
func TestConformance(t *testing.T) {
	image := testutil.RequireBaseImage(t)
	be, err := docker.New(docker.Options{Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	runnertest.Run(t, runnertest.Config{Backend: be, Job: func(j *runner.Job) { j.DockerEnv = &runner.DockerEnv{Image: image} }})
}
