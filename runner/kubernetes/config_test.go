package kubernetes

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/mlrun/mlrun/runner"
)

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig(`{"kube-context": "prod", "repository-uri": "registry.example/team/proj", "namespace": "ml",
		"image-pull-policy": "Never", "service-account": "runner", "resources": {"limits": {"memory": "1Gi", "cpu": "500m"}},
		"node-selector": {"gpu": "a100"}, "ttl-seconds": 60, "schedule-timeout": "90s"}`)
	if err != nil {
		t.Fatal(err)
	}
	if c.KubeContext != "prod" || c.RepositoryURI != "registry.example/team/proj" || c.Namespace != "ml" || c.ImagePullPolicy != corev1.PullNever ||
		c.ServiceAccount != "runner" || c.Resources.Limits.Memory().String() != "1Gi" || c.Resources.Limits.Cpu().MilliValue() != 500 ||
		c.NodeSelector["gpu"] != "a100" || *c.TTLSeconds != 60 || time.Duration(c.ScheduleTimeout) != 90*time.Second {
		t.Fatalf("%+v", c)
	}
	if c, err := ParseConfig(`{"schedule-timeout": 2.5}`); err != nil || time.Duration(c.ScheduleTimeout) != 2500*time.Millisecond {
		t.Fatalf("seconds as a number: %+v %v", c, err)
	}
	path := filepath.Join(t.TempDir(), "kubernetes_config.json")
	os.WriteFile(path, []byte(`{"kube-job-template-path": "job.yaml"}`), 0o644)
	if c, err := ParseConfig(path); err != nil || c.JobTemplatePath != "job.yaml" {
		t.Fatalf("from a file: %+v %v", c, err)
	}
	for cfg, want := range map[string]string{
		`{"kube_context": "x"}`:                         `unknown field "kube_context"`,
		`{"image-pull-policy": "Sometimes"}`:            `image-pull-policy "Sometimes"`,
		`{"resources": {"limits": {"memory": "lots"}}}`: "quantities must match",
		`{"ttl-seconds": -1}`:                           "ttl-seconds -1 is negative",
		`{"schedule-timeout": "soon"}`:                  `schedule-timeout "soon" is not a positive duration`,
		`{"node-selector": ["a"]}`:                      "node-selector",
		`[1]`:                                           "cannot unmarshal array",
		`missing.json`:                                  "--backend-config missing.json",
	} {
		_, err := ParseConfig(cfg)
		if !errors.Is(err, runner.ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want ErrInvalid with %q", cfg, err, want)
		}
	}
}

func TestLoadTemplate(t *testing.T) {
	j, err := LoadTemplate(filepath.Join("testdata", "mlflow-job-template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c := j.Spec.Template.Spec.Containers[0]
	if j.Namespace != "mlflow" || *j.Spec.TTLSecondsAfterFinished != 100 || len(c.Env) != 0 || c.Resources.Limits.Memory().String() != "512Mi" {
		t.Fatalf("MLflow's template: %+v", j)
	}
	dir := t.TempDir()
	for body, want := range map[string]string{
		"apiVersion: v1\nkind: Pod\n":                          "is v1 Pod, want a batch/v1 Job",
		"spec:\n  template:\n    spec:\n      contaners: []\n": `unknown field "contaners"`,
		"spec: [": "is not YAML",
		"- a\n":   "is not a YAML mapping",
	} {
		p := filepath.Join(dir, "t.yaml")
		os.WriteFile(p, []byte(body), 0o644)
		if _, err := LoadTemplate(p); !errors.Is(err, runner.ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
	if _, err := LoadTemplate(filepath.Join(dir, "absent.yaml")); !errors.Is(err, runner.ErrInvalid) || !strings.Contains(err.Error(), "Could not find 'kube-job-template-path'") {
		t.Errorf("absent template: %v", err)
	}
}

// TestMakeJob: the Job is the template with MLflow's replacements and
// mlrun's settings, and the template itself is left as it was.
func TestMakeJob(t *testing.T) {
	t.Setenv("KUBE_MLFLOW_TRACKING_URI", "")
	b, err := New(Options{Config: `{"kube-job-template-path": "testdata/mlflow-job-template.yaml", "service-account": "runner",
		"node-selector": {"pool": "ml"}, "image-pull-policy": "IfNotPresent", "ttl-seconds": 30}`})
	if err != nil {
		t.Fatal(err)
	}
	job := &runner.Job{RunID: "abc123", ProjectName: "My_Project.v2", Command: "python train.py --alpha 0.5 && echo $(date) $$",
		Env: []string{"PATH=/bin", "MLFLOW_RUN_ID=abc123", "MLFLOW_TRACKING_URI=http://tracking:5000", "HOME=/root"}, Grace: 1500 * time.Millisecond}
	name := b.jobName(job.ProjectName)
	if !strings.HasPrefix(name, "my-project-v2-") || len(name) != len("my-project-v2-2006-01-02-15-04-05-000000") || strings.HasSuffix(name, "-000000") && strings.HasSuffix(b.jobName(job.ProjectName), "-000000") || b.jobName(job.ProjectName) == name {
		t.Fatalf("job names %q", name)
	}
	j := b.MakeJob(job, name, b.jobNamespace(), "registry/p:1", []string{"GREETING=hi"})
	c := j.Spec.Template.Spec.Containers[0]
	pod := j.Spec.Template.Spec
	if j.Name != name || j.Namespace != "mlflow" || j.Labels[Label] != "abc123" || j.Spec.Template.Labels[Label] != "abc123" ||
		*j.Spec.BackoffLimit != 0 || *j.Spec.TTLSecondsAfterFinished != 30 || pod.RestartPolicy != corev1.RestartPolicyNever ||
		!*pod.ShareProcessNamespace || *pod.TerminationGracePeriodSeconds != 2 || pod.ServiceAccountName != "runner" || pod.NodeSelector["pool"] != "ml" {
		t.Fatalf("job %+v", j)
	}
	if c.Name != "my-project-v2" || c.Image != "registry/p:1" || strings.Join(c.Command, "|") != "sh|-c|python train.py --alpha 0.5 && echo $$(date) $$$$" ||
		c.ImagePullPolicy != corev1.PullIfNotPresent || c.Resources.Requests.Memory().String() != "256Mi" {
		t.Fatalf("container %+v", c)
	}
	var env []string
	for _, e := range c.Env {
		env = append(env, e.Name+"="+e.Value)
	}
	if strings.Join(env, " ") != "MLFLOW_RUN_ID=abc123 MLFLOW_TRACKING_URI=http://tracking:5000 GREETING=hi" {
		t.Fatalf("env %v: want the step's MLFLOW_* variables, then docker_env's", env)
	}
	if b.tmpl.Name != "{replaced with MLflow Project name}" || len(b.tmpl.Spec.Template.Spec.Containers[0].Env) != 0 {
		t.Fatalf("the template was changed: %+v", b.tmpl)
	}
	t.Setenv("KUBE_MLFLOW_TRACKING_URI", "http://10.0.0.5:5000")
	j = b.MakeJob(job, name, "ml", "img", nil)
	if e := j.Spec.Template.Spec.Containers[0].Env[1]; e.Value != "http://10.0.0.5:5000" || j.Namespace != "ml" {
		t.Fatalf("KUBE_MLFLOW_TRACKING_URI does not override: %+v", e)
	}
}

// TestRefusedBeforeTheCluster: what cannot work is refused in Prepare,
// before the cluster is contacted and before the run exists.
func TestRefusedBeforeTheCluster(t *testing.T) {
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
	t.Setenv("KUBE_MLFLOW_TRACKING_URI", "")
	b, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	dockerEnv := &runner.DockerEnv{Image: "busybox"}
	for _, c := range []struct {
		job  runner.Job
		want string
	}{
		{runner.Job{}, "runs projects with a docker_env"},
		{runner.Job{DockerEnv: dockerEnv, TrackingURI: "sqlite:///m.db", LoopbackOnly: true},
			"needs a tracking server the pods can reach, and this run's store (sqlite:///m.db) is only served on this machine's loopback: start `mlrun server --backend-store-uri sqlite:///m.db --host 0.0.0.0`"},
		{runner.Job{DockerEnv: dockerEnv, TrackingURI: "http://127.0.0.1:5000"}, "tracking URI http://127.0.0.1:5000 is this machine's loopback, which a pod cannot reach"},
		{runner.Job{DockerEnv: &runner.DockerEnv{Image: "busybox", Environment: []runner.EnvVar{{Name: "MLRUN_UNSET_VARIABLE", FromHost: true}}}, TrackingURI: "http://tracking:5000"},
			"MLRUN_UNSET_VARIABLE was not set"},
	} {
		_, err := b.Prepare(t.Context(), &c.job)
		if !errors.Is(err, runner.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want ErrInvalid with %q", c.job, err, c.want)
		}
	}
	// With KUBE_MLFLOW_TRACKING_URI the pods get that URI: the next
	// check is the cluster, which is not there.
	t.Setenv("KUBE_MLFLOW_TRACKING_URI", "http://tracking:5000")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	_, err = b.Prepare(t.Context(), &runner.Job{DockerEnv: dockerEnv, TrackingURI: "sqlite:///m.db", LoopbackOnly: true})
	if !errors.Is(err, runner.ErrBackendUnavailable) || !strings.Contains(err.Error(), "no Kubernetes cluster configured") {
		t.Errorf("no cluster: %v", err)
	}
}

// TestLogCursor: a log stream opened again from the second it broke in
// repeats lines; they are copied once, timestamps stripped, lines with
// equal timestamps kept apart by count, an unstamped line kept as it is.
func TestLogCursor(t *testing.T) {
	var out strings.Builder
	var c logCursor
	first := "2026-12-05T22:10:51.100000000Z one\n2026-12-05T22:10:51.200000000Z two\n2026-12-05T22:10:51.200000000Z two again\n"
	if err := c.copy(&out, strings.NewReader(first)); err != nil {
		t.Fatal(err)
	}
	// Opened again from 22:10:51: everything of that second comes again.
	again := "2026-12-05T22:10:51.100000000Z one\n2026-12-05T22:10:51.200000000Z two\n2026-12-05T22:10:51.200000000Z two again\n" +
		"2026-12-05T22:10:51.200000000Z two, a third\n2026-12-05T22:10:52.000000000Z three\nno stamp\n2026-12-05T22:10:53.5Z last, no newline"
	if err := c.copy(&out, strings.NewReader(again)); err != nil {
		t.Fatal(err)
	}
	want := "one\ntwo\ntwo again\ntwo, a third\nthree\nno stamp\nlast, no newline"
	if out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}
}
