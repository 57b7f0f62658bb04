package kubernetes_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8s "k8s.io/client-go/kubernetes"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/artifact/proxied"
	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/project"
	"github.com/mlrun/mlrun/runner"
	"github.com/mlrun/mlrun/runner/kubernetes"
	"github.com/mlrun/mlrun/runner/launch"
	"github.com/mlrun/mlrun/runner/runnertest"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/rest"
)

// hostNetworkTemplate is a Job template whose pods share the node's
// network, so a step reaches a tracking server on this machine's
// loopback (the test cluster has one node: this machine).
const hostNetworkTemplate = `apiVersion: batch/v1
kind: Job
metadata: {}
spec:
  template:
    spec:
      hostNetwork: true
      containers: [{}]
`

// loading is the kubernetes backend with the image it prepared copied
// into the cluster (the test cluster has no registry: --skip-image-push).
type loading struct {
	*kubernetes.Backend
	k *testutil.KubeCluster
	t *testing.T
}

func (l loading) Prepare(ctx context.Context, job *runner.Job) (map[string]string, error) {
	tags, err := l.Backend.Prepare(ctx, job)
	if err == nil && tags[kubernetes.TagImageID] != "" { // built, not --skip-image-build
		l.k.LoadImage(l.t, tags[kubernetes.TagImageName])
	}
	return tags, err
}

// gone checks that nothing of a run is left in the cluster: no Job, no
// pod.
func gone(t *testing.T, cs k8s.Interface, runID string) {
	t.Helper()
	sel := metav1.ListOptions{LabelSelector: kubernetes.Label + "=" + runID}
	jobs, err := cs.BatchV1().Jobs("default").List(context.Background(), sel)
	if err != nil {
		t.Fatal(err)
	}
	pods, err := cs.CoreV1().Pods("default").List(context.Background(), sel)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs.Items) != 0 || len(pods.Items) != 0 {
		t.Fatalf("run %s left %d jobs and %d pods behind", runID, len(jobs.Items), len(pods.Items))
	}
}

// newBackend is the kubernetes backend with the config cfg (a JSON
// object's members, the hostNetwork template added) and its images loaded
// into the cluster.
func newBackend(t *testing.T, k *testutil.KubeCluster, out io.Writer, cfg string, opts kubernetes.Options) runner.Backend {
	t.Helper()
	tmpl := filepath.Join(t.TempDir(), "job.yaml")
	os.WriteFile(tmpl, []byte(hostNetworkTemplate), 0o644)
	if cfg != "" {
		cfg = ", " + cfg
	}
	// A pod that cannot start fails in 90 s (the default is 5 minutes);
	// a schedule-timeout in cfg comes later and wins.
	opts.Config, opts.Out = fmt.Sprintf(`{"kube-job-template-path": %q, "schedule-timeout": "90s"%s}`, tmpl, cfg), out
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	b, err := kubernetes.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return loading{Backend: b, k: k, t: t}
}

// TestConformance runs the backends' suite on the kubernetes backend: each
// step a Job in the test cluster, its image built FROM the test base
// image; a stopped step leaves no Job and no pod.
func TestConformance(t *testing.T) {
	k := testutil.RequireKubernetes(t)
	image := testutil.RequireBaseImage(t)
	cs := k.Client(t)
	be := newBackend(t, k, nil, `"repository-uri": "mlrun-test/conformance"`, kubernetes.Options{SkipImagePush: true})
	runnertest.Run(t, runnertest.Config{
		Backend:       be,
		Job:           func(j *runner.Job) { j.DockerEnv = &runner.DockerEnv{Image: image} },
		MergedStreams: true,
		Gone:          func(t *testing.T, j *runner.Job) { gone(t, cs, j.RunID) },
	})
}

type env struct {
	st  *rest.Store
	srv *testutil.Server
	out runnertest.Buffer
}

// serverEnv is an mlrun server on loopback (artifacts proxied) and its
// client.
func serverEnv(t *testing.T) *env {
	srv := testutil.StartServer(t, true)
	st, err := rest.Open(srv.URL, rest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &env{st: st, srv: srv}
}

func (e *env) request(uri string, be runner.Backend, params ...project.KV) launch.Request {
	return launch.Request{
		URI: uri, Params: params, Backend: be, Store: e.st, TrackingURI: e.st.BaseURL(),
		Artifacts: func(u string) (artifact.Repository, error) {
			return proxied.New(e.st.Client, strings.TrimPrefix(u, "mlflow-artifacts:/")), nil
		},
		Stdout: &e.out, Stderr: &e.out, Grace: time.Second,
	}
}

// TestExampleLogsFromThePod: examples/docker run as a Job logs its params,
// metrics, tags and an artifact from the pod into an mlrun server; the run
// has the backend's tags and the step's log.
func TestExampleLogsFromThePod(t *testing.T) {
	k := testutil.RequireKubernetes(t)
	e := serverEnv(t)
	be := newBackend(t, k, &e.out, `"repository-uri": "mlrun-test/docker-example", "ttl-seconds": 600`,
		kubernetes.Options{SkipImagePush: true})
	out, err := launch.Execute(context.Background(), e.request(testutil.DockerExample(t), be, project.KV{Key: "alpha", Value: "0.2"}, project.KV{Key: "steps", Value: "3"}))
	if err != nil {
		t.Fatalf("%v\n%s", err, e.out.String())
	}
	if out.Status != store.StatusFinished {
		t.Fatalf("status %s\n%s", out.Status, e.out.String())
	}
	r, tags := testutil.RunTags(t, e.st, out.RunID)
	params := map[string]string{}
	for _, p := range r.Params {
		params[p.Key] = p.Value
	}
	if params["alpha"] != "0.2" || params["container_user"] != "root" {
		t.Fatalf("params %v", params)
	}
	if tags["greeting"] != "hello from the container" || tags["mlflow.project.backend"] != "kubernetes" || tags["mlflow.project.env"] != "docker" ||
		!strings.HasPrefix(tags[kubernetes.TagJobName], "docker-example-") || tags[kubernetes.TagJobNamespace] != "default" ||
		!strings.HasPrefix(tags[kubernetes.TagImageURI], "mlrun-test/docker-example:") || !strings.HasPrefix(tags[kubernetes.TagImageID], "sha256:") {
		t.Fatalf("tags %v", tags)
	}
	h, _, err := e.st.GetMetricHistory(context.Background(), out.RunID, "loss", 0, "")
	if err != nil || len(h) != 3 {
		t.Fatalf("loss history %v %v", h, err)
	}
	rel := strings.TrimPrefix(r.Info.ArtifactURI, "mlflow-artifacts:/")
	if b, err := os.ReadFile(filepath.Join(e.srv.Artifacts, rel, "result.txt")); err != nil || !strings.Contains(string(b), "alpha=0.2") {
		t.Fatalf("artifact from the pod: %v %q", err, b)
	}
	if b, err := os.ReadFile(filepath.Join(e.srv.Artifacts, rel, launch.StepLog)); err != nil || !strings.Contains(string(b), "step 2 loss") {
		t.Fatalf("step log: %v %q", err, b)
	}
	j, err := k.Client(t).BatchV1().Jobs("default").Get(context.Background(), tags[kubernetes.TagJobName], metav1.GetOptions{})
	if err != nil || j.Labels[kubernetes.Label] != out.RunID || *j.Spec.TTLSecondsAfterFinished != 600 {
		t.Fatalf("the run's Job: %v %+v", err, j)
	}
}

// TestUnschedulable: a Job whose pod asks for more than the node has
// fails in bounded time with the scheduler's reason, in the error and in
// a tag, and its Job is deleted.
func TestUnschedulable(t *testing.T) {
	k := testutil.RequireKubernetes(t)
	e := serverEnv(t)
	proj := t.TempDir()
	os.WriteFile(filepath.Join(proj, "MLproject"), []byte("name: greedy\ndocker_env:\n  image: "+testutil.RequireBaseImage(t)+"\nentry_points:\n  main:\n    command: \"true\"\n"), 0o644)
	be := newBackend(t, k, &e.out, `"repository-uri": "mlrun-test/greedy", "resources": {"requests": {"cpu": "512"}}, "schedule-timeout": "3s"`,
		kubernetes.Options{SkipImagePush: true})
	start := time.Now()
	out, err := launch.Execute(context.Background(), e.request(proj, be))
	if !errors.Is(err, kubernetes.ErrNotStarted) || !strings.Contains(err.Error(), "could not be scheduled within 3s") || !strings.Contains(err.Error(), "Insufficient cpu") {
		t.Fatalf("%v\n%s", err, e.out.String())
	}
	if d := time.Since(start); d > 90*time.Second {
		t.Fatalf("took %s", d)
	}
	if out == nil || out.Status != store.StatusFailed {
		t.Fatalf("outcome %+v", out)
	}
	if _, tags := testutil.RunTags(t, e.st, out.RunID); tags[kubernetes.TagFailure] != "Unschedulable" {
		t.Fatalf("tags %v", tags)
	}
	cs := k.Client(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		jobs, err := cs.BatchV1().Jobs("default").List(context.Background(), metav1.ListOptions{LabelSelector: kubernetes.Label + "=" + out.RunID})
		if err == nil && len(jobs.Items) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the unschedulable Job is still there: %v %d", err, len(jobs.Items))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestImageNeverPulled: --skip-image-build runs docker_env.image as it
// is; one the cluster does not have, with pulls off, fails at once with
// the kubelet's reason.
func TestImageNeverPulled(t *testing.T) {
	k := testutil.RequireKubernetes(t)
	e := serverEnv(t)
	proj := t.TempDir()
	os.WriteFile(filepath.Join(proj, "MLproject"), []byte("name: absent\ndocker_env:\n  image: mlrun-test/not-in-the-cluster:1\nentry_points:\n  main:\n    command: \"true\"\n"), 0o644)
	be := newBackend(t, k, &e.out, `"image-pull-policy": "Never"`, kubernetes.Options{SkipImageBuild: true})
	out, err := launch.Execute(context.Background(), e.request(proj, be))
	if !errors.Is(err, kubernetes.ErrNotStarted) || !strings.Contains(err.Error(), "ErrImageNeverPull") {
		t.Fatalf("%v\n%s", err, e.out.String())
	}
	if _, tags := testutil.RunTags(t, e.st, out.RunID); tags[kubernetes.TagFailure] != "ErrImageNeverPull" || tags[kubernetes.TagImageURI] != "mlrun-test/not-in-the-cluster:1" {
		t.Fatalf("tags %v", tags)
	}
}

// TestOOMKilled: a step killed by its memory limit fails with OOMKilled
// in the error and in a tag.
func TestOOMKilled(t *testing.T) {
	k := testutil.RequireKubernetes(t)
	e := serverEnv(t)
	proj := t.TempDir()
	// tail holds its last line whole: 200 MB of zeros with no newline.
	os.WriteFile(filepath.Join(proj, "MLproject"), []byte("name: hungry\ndocker_env:\n  image: "+testutil.RequireBaseImage(t)+"\nentry_points:\n  main:\n    command: \"head -c 200000000 /dev/zero | tail -n 1 > /dev/null\"\n"), 0o644)
	be := newBackend(t, k, &e.out, `"repository-uri": "mlrun-test/hungry", "resources": {"limits": {"memory": "32Mi"}}`, kubernetes.Options{SkipImagePush: true})
	out, err := launch.Execute(context.Background(), e.request(proj, be))
	if err == nil || !strings.Contains(err.Error(), "OOMKilled") {
		t.Fatalf("%v\n%s", err, e.out.String())
	}
	if _, tags := testutil.RunTags(t, e.st, out.RunID); tags[kubernetes.TagFailure] != "OOMKilled" || out.Status != store.StatusFailed || out.ExitCode != 137 {
		t.Fatalf("tags %v, outcome %+v", tags, out)
	}
}

// TestPushedImage: with a registry, the project's image is pushed to
// repository-uri and the pod runs it by digest, pulled from there; once
// the cluster has it, the next run of the same content pushes nothing.
func TestPushedImage(t *testing.T) {
	k := testutil.RequireKubernetes(t)
	base := testutil.RequireBaseImage(t)
	reg := testutil.StartRegistry(t, "", "")
	k.TrustRegistry(t, reg)
	e := serverEnv(t)
	proj := t.TempDir()
	os.WriteFile(filepath.Join(proj, "MLproject"), []byte("name: pushed\ndocker_env:\n  image: "+base+"\nentry_points:\n  main:\n    command: \"mlrun log param pulled yes\"\n"), 0o644)
	tmpl := filepath.Join(t.TempDir(), "job.yaml")
	os.WriteFile(tmpl, []byte(hostNetworkTemplate), 0o644)
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no credentials: the registry asks for none
	run := func() (*store.Run, map[string]string, string) {
		t.Helper()
		var out runnertest.Buffer
		b, err := kubernetes.New(kubernetes.Options{Config: fmt.Sprintf(`{"repository-uri": "%s/mlrun-test/pushed", "kube-job-template-path": %q, "schedule-timeout": "90s"}`, reg, tmpl), Out: &out})
		if err != nil {
			t.Fatal(err)
		}
		o, err := launch.Execute(context.Background(), e.request(proj, b))
		if err != nil || o.Status != store.StatusFinished {
			t.Fatalf("%v %+v\n%s\n%s", err, o, out.String(), e.out.String())
		}
		r, tags := testutil.RunTags(t, e.st, o.RunID)
		return r, tags, out.String()
	}
	r, tags, out := run()
	if !strings.Contains(out, "mlrun: pushing image "+reg+"/mlrun-test/pushed:") {
		t.Fatalf("not pushed:\n%s", out)
	}
	uri := tags[kubernetes.TagImageURI]
	if !strings.HasPrefix(uri, reg+"/mlrun-test/pushed:") || !strings.Contains(uri, "@sha256:") || len(r.Params) != 1 || r.Params[0].Value != "yes" {
		t.Fatalf("image %q, params %+v", uri, r.Params)
	}
	// The kubelet reports the pulled image in the node's status.
	k.WaitListed(t, uri[strings.Index(uri, "@"):])
	_, tags, out = run()
	if strings.Contains(out, "pushing image") || !strings.Contains(out, "the cluster has image") || tags[kubernetes.TagImageURI] != uri {
		t.Fatalf("second run: image %q (first %q)\n%s", tags[kubernetes.TagImageURI], uri, out)
	}
}

// TestKubeContext: the kubeconfig is read as kubectl reads it (KUBECONFIG)
// and kube-context picks one of its contexts; an unreachable cluster is
// ErrBackendUnavailable before the run exists.
func TestKubeContext(t *testing.T) {
	k := testutil.RequireKubernetes(t)
	b, err := os.ReadFile(k.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	// A second cluster, the current context, that answers nothing.
	cfg := strings.Replace(string(b), "clusters:\n", "clusters:\n- name: gone\n  cluster: {server: \"https://127.0.0.1:1\"}\n", 1)
	cfg = strings.Replace(cfg, "contexts:\n", "contexts:\n- name: gone\n  context: {cluster: gone, user: admin}\n", 1)
	cfg = strings.Replace(cfg, "current-context: mlrun-test", "current-context: gone", 1)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	os.WriteFile(path, []byte(cfg), 0o600)
	t.Setenv("KUBECONFIG", path)
	t.Setenv("KUBE_MLFLOW_TRACKING_URI", "")
	job := func() *runner.Job {
		return &runner.Job{ProjectName: "ctx", Dir: t.TempDir(), DockerEnv: &runner.DockerEnv{Image: "mlrun-test/unused:1"}, TrackingURI: "http://tracking:5000"}
	}
	b1, err := kubernetes.New(kubernetes.Options{SkipImageBuild: true, Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b1.Prepare(context.Background(), job()); !errors.Is(err, runner.ErrBackendUnavailable) || !strings.Contains(err.Error(), "cannot reach the Kubernetes API server at https://127.0.0.1:1") {
		t.Fatalf("the current context: %v", err)
	}
	b2, err := kubernetes.New(kubernetes.Options{Config: `{"kube-context": "mlrun-test"}`, SkipImageBuild: true, Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if tags, err := b2.Prepare(context.Background(), job()); err != nil || tags[kubernetes.TagJobNamespace] != "default" {
		t.Fatalf("kube-context mlrun-test: %v %v", tags, err)
	}
}
