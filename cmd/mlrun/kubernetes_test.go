package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/runner"
	"github.com/mlrun/mlrun/runner/kubernetes"
	"github.com/mlrun/mlrun/runner/runnertest"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/rest"
)

// TestKubernetesNeedsAServer: a run on a cluster with a local store is
// refused before anything starts, naming the server to start; no run is
// created. Docker and kubernetes flags are refused on the other backends.
func TestKubernetesNeedsAServer(t *testing.T) {
	t.Setenv("KUBE_MLFLOW_TRACKING_URI", "")
	dir := t.TempDir()
	proj := filepath.Join(dir, "proj")
	os.MkdirAll(proj, 0o755)
	os.WriteFile(filepath.Join(proj, "MLproject"), []byte("name: k\ndocker_env:\n  image: busybox\nentry_points:\n  main:\n    command: \"true\"\n"), 0o644)
	uri := "sqlite:///" + filepath.Join(dir, "m.db")
	mustRun(t, "db", "init", uri)
	out, err := mlrun(t, "run", proj, "-b", "kubernetes", "--tracking-uri", uri)
	if err == nil || !strings.Contains(err.Error(), "the kubernetes backend needs a tracking server the pods can reach") ||
		!strings.Contains(err.Error(), "start `mlrun server --backend-store-uri "+uri+" --host 0.0.0.0`") {
		t.Fatalf("%v\n%s", err, out)
	}
	for args, want := range map[string]string{
		"-b kubernetes --keep-container":    "--keep-container is a docker backend option, and this run is on kubernetes",
		"-b docker --skip-image-push":       "--skip-image-push is a kubernetes backend option, and this run is on docker",
		"-b local --skip-image-build":       "--skip-image-build is a kubernetes backend option, and this run is local",
		"--skip-image-build":                "--skip-image-build is a kubernetes backend option, and this run is on docker",
		"-b kubernetes -c {\"kube_ctx\":1}": `unknown field "kube_ctx"`,
		"-b cluster":                        `backend "cluster" is not supported: use local, docker or kubernetes`,
	} {
		_, err := mlrun(t, append(append([]string{"run", proj}, strings.Fields(args)...), "--tracking-uri", uri)...)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", args, err, want)
		}
	}
	st, err := openStore(context.Background(), uri, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if runs, _, _ := st.SearchRuns(context.Background(), store.SearchRuns{ExperimentIDs: []string{"0"}}); len(runs) != 0 {
		t.Fatalf("a refused run left %d runs", len(runs))
	}
}

// TestTuneOnKubernetes: `mlrun tune -b kubernetes --parallel 2` runs its
// trials as Jobs, two at a time, each a child run whose metric the pod
// logged into an mlrun server.
func TestTuneOnKubernetes(t *testing.T) {
	k := testutil.RequireKubernetes(t)
	base := testutil.RequireBaseImage(t)
	srv := testutil.StartServer(t, true)
	dir := t.TempDir()
	proj := filepath.Join(dir, "ktune")
	os.MkdirAll(proj, 0o755)
	os.WriteFile(filepath.Join(proj, "MLproject"), []byte(fmt.Sprintf(`name: ktune
docker_env:
  image: %s
entry_points:
  main:
    parameters:
      x: {type: float, default: 0}
    command: "sleep 2; mlrun log metric loss $(awk -v x={x} 'BEGIN {{ print (x - 1) * (x - 1) }}')"
`, base)), 0o644)
	cfg := hostNetworkConfig(t, "mlrun-test/ktune")

	tag := preload(t, k, cfg, proj, base, srv.URL)
	out, err := mlrun(t, "tune", proj, "-b", "kubernetes", "-c", cfg, "--skip-image-push", "--tracking-uri", srv.URL,
		"-S", "x=uniform(-3, 3)", "--metric", "loss", "--max-trials", "4", "--parallel", "2", "--seed", "3")
	if err != nil {
		t.Fatalf("mlrun tune: %v\n%s", err, out)
	}
	if !strings.Contains(out, "the cluster has image "+tag+"; not pushing") {
		t.Fatalf("the run did not find its image in the cluster:\n%s", out)
	}
	st, err := rest.Open(srv.URL, rest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	runs, _, err := st.SearchRuns(context.Background(), store.SearchRuns{ExperimentIDs: []string{"0"}, MaxResults: 100})
	if err != nil {
		t.Fatal(err)
	}
	var parent string
	var trials []*store.Run
	for _, r := range runs {
		if p, ok := r.Tag("mlflow.parentRunId"); ok {
			parent = p
			trials = append(trials, r)
		}
	}
	if len(trials) != 4 || parent == "" {
		t.Fatalf("%d trials of %d runs\n%s", len(trials), len(runs), out)
	}
	jobs := map[string]bool{}
	overlap := false
	for i, r := range trials {
		name, _ := r.Tag(kubernetes.TagJobName)
		if b, _ := r.Tag("mlflow.project.backend"); b != "kubernetes" || name == "" || r.Info.Status != store.StatusFinished {
			t.Fatalf("trial %s: backend %q, job %q, %s", r.Info.RunID, b, name, r.Info.Status)
		}
		if _, ok := metricOf(r, "loss"); !ok {
			t.Fatalf("trial %s has no loss", r.Info.RunID)
		}
		jobs[name] = true
		for _, o := range trials[i+1:] {
			if r.Info.EndTime != nil && o.Info.EndTime != nil && r.Info.StartTime < *o.Info.EndTime && o.Info.StartTime < *r.Info.EndTime {
				overlap = true
			}
		}
	}
	if len(jobs) != 4 || !overlap {
		t.Fatalf("jobs %v, trials overlapping: %v: want 4 Jobs, two at a time", jobs, overlap)
	}
}

// hostNetworkConfig is a --backend-config whose Job template puts pods on
// the node's network (they reach a tracking server on this machine's
// loopback: the test cluster's one node is this machine).
func hostNetworkConfig(t *testing.T, repo string) string {
	t.Helper()
	tmpl := filepath.Join(t.TempDir(), "job.yaml")
	os.WriteFile(tmpl, []byte("apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      hostNetwork: true\n      containers: [{}]\n"), 0o644)
	// A pod that cannot start fails its trial in 90 s, not the package's
	// whole time (the default schedule timeout is 5 minutes).
	return fmt.Sprintf(`{"repository-uri": %q, "kube-job-template-path": %q, "schedule-timeout": "90s"}`, repo, tmpl)
}

// preload builds the project's image as a run with cfg will (same
// content, same tag) and copies it into the cluster, which has no
// registry; it returns the tag once the node lists it.
func preload(t *testing.T, k *testutil.KubeCluster, cfg, proj, base, trackingURI string) string {
	t.Helper()
	pre, err := kubernetes.New(kubernetes.Options{Config: cfg, SkipImagePush: true, Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	tags, err := pre.Prepare(context.Background(), &runner.Job{ProjectName: filepath.Base(proj), Dir: proj, DockerEnv: &runner.DockerEnv{Image: base}, TrackingURI: trackingURI})
	if err != nil {
		t.Fatal(err)
	}
	tag := tags[kubernetes.TagImageName]
	k.LoadImage(t, tag)
	k.WaitListed(t, tag)
	return tag
}

// TestRunOnKubernetesCtrlC: Ctrl-C on `mlrun run -b kubernetes` (the real
// binary) deletes the Job with its pod, ends the run KILLED and exits 130.
func TestRunOnKubernetesCtrlC(t *testing.T) {
	k := testutil.RequireKubernetes(t)
	base := testutil.RequireBaseImage(t)
	srv := testutil.StartServer(t, true)
	proj := filepath.Join(t.TempDir(), "ksleep")
	os.MkdirAll(proj, 0o755)
	os.WriteFile(filepath.Join(proj, "MLproject"), []byte("name: ksleep\ndocker_env:\n  image: "+base+"\nentry_points:\n  main:\n    command: \"echo started; sleep 300\"\n"), 0o644)
	cfg := hostNetworkConfig(t, "mlrun-test/ksleep")
	preload(t, k, cfg, proj, base, srv.URL)
	var out runnertest.Buffer
	cmd := exec.Command(buildMlrun(t), "run", proj, "-b", "kubernetes", "-c", cfg, "--skip-image-push", "--tracking-uri", srv.URL)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	waitFor(t, 90*time.Second, "the pod's log did not say started", func() bool { return out.Contains("started") })
	interrupt(t, cmd, 90*time.Second, &out)
	st, err := rest.Open(srv.URL, rest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	runs, _, err := st.SearchRuns(context.Background(), store.SearchRuns{ExperimentIDs: []string{"0"}})
	if err != nil || len(runs) != 1 || runs[0].Info.Status != store.StatusKilled {
		t.Fatalf("runs %v %+v\n%s", err, runs, out.String())
	}
	sel := metav1.ListOptions{LabelSelector: kubernetes.Label + "=" + runs[0].Info.RunID}
	jobs, err := k.Client(t).BatchV1().Jobs("default").List(context.Background(), sel)
	pods, perr := k.Client(t).CoreV1().Pods("default").List(context.Background(), sel)
	if err != nil || perr != nil || len(jobs.Items) != 0 || len(pods.Items) != 0 {
		t.Fatalf("after Ctrl-C: %v %v, %d jobs and %d pods left", err, perr, len(jobs.Items), len(pods.Items))
	}
}
