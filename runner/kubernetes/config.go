package kubernetes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/mlrun/mlrun/runner"
)

// DefaultScheduleTimeout is how long a Job's pod may stay unscheduled or
// unstarted before the run fails.
const DefaultScheduleTimeout = 5 * time.Minute

// Config is --backend-config: MLflow's keys (kube-context, repository-uri,
// kube-job-template-path) and mlrun's.
type Config struct {
	KubeContext     string `json:"kube-context"`
	RepositoryURI   string `json:"repository-uri"`
	JobTemplatePath string `json:"kube-job-template-path"`

	Namespace       string                       `json:"namespace"`
	ImagePullPolicy corev1.PullPolicy            `json:"image-pull-policy"`
	ServiceAccount  string                       `json:"service-account"`
	Resources       *corev1.ResourceRequirements `json:"resources"`
	NodeSelector    map[string]string            `json:"node-selector"`
	TTLSeconds      *int32                       `json:"ttl-seconds"`
	// ScheduleTimeout: "90s", or a number of seconds.
	ScheduleTimeout duration `json:"schedule-timeout"`
}

type duration time.Duration

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		v, err := time.ParseDuration(s)
		if err != nil || v <= 0 {
			return fmt.Errorf("schedule-timeout %q is not a positive duration (like \"90s\")", s)
		}
		*d = duration(v)
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || f <= 0 {
		return fmt.Errorf("schedule-timeout %s is not a positive number of seconds", b)
	}
	*d = duration(f * float64(time.Second))
	return nil
}

// ParseConfig reads --backend-config: a path to a .json file, or JSON.
// Unknown keys and wrong types are runner.ErrInvalid.
func ParseConfig(cfg string) (Config, error) {
	var c Config
	if strings.TrimSpace(cfg) == "" {
		return c, nil
	}
	data := []byte(cfg)
	if strings.HasSuffix(cfg, ".json") {
		b, err := os.ReadFile(cfg)
		if err != nil {
			return c, fmt.Errorf("%w: --backend-config %s: %v", runner.ErrInvalid, cfg, err)
		}
		data = b
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("%w: kubernetes --backend-config: %v (keys: kube-context, repository-uri, kube-job-template-path, namespace, image-pull-policy, service-account, resources, node-selector, ttl-seconds, schedule-timeout)",
			runner.ErrInvalid, err)
	}
	switch c.ImagePullPolicy {
	case "", corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
	default:
		return c, fmt.Errorf("%w: image-pull-policy %q: want Always, IfNotPresent or Never", runner.ErrInvalid, c.ImagePullPolicy)
	}
	if c.TTLSeconds != nil && *c.TTLSeconds < 0 {
		return c, fmt.Errorf("%w: ttl-seconds %d is negative", runner.ErrInvalid, *c.TTLSeconds)
	}
	return c, nil
}

// defaultTemplate is the Job used without kube-job-template-path: one
// try, the pod never restarted.
const defaultTemplate = `apiVersion: batch/v1
kind: Job
metadata: {}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{}]
`

// LoadTemplate reads a Job template (YAML or JSON) as MLflow's
// kube-job-template-path names it; "" is mlrun's default template.
// MLflow's own example template is accepted as it is: its placeholder
// strings in the first container's env list are dropped (MLflow appends
// to that list).
func LoadTemplate(path string) (*batchv1.Job, error) {
	data := []byte(defaultTemplate)
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("%w: Could not find 'kube-job-template-path': %s (%v)", runner.ErrInvalid, path, err)
		}
		data = b
		path = " " + path
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%w: job template%s is not YAML: %v", runner.ErrInvalid, path, err)
	}
	var generic map[string]any
	if err := json.Unmarshal(js, &generic); err != nil || generic == nil {
		return nil, fmt.Errorf("%w: job template%s is not a YAML mapping", runner.ErrInvalid, path)
	}
	dropPlaceholderEnv(generic)
	js, _ = json.Marshal(generic)
	var j batchv1.Job
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("%w: job template%s: %v", runner.ErrInvalid, path, err)
	}
	if (j.Kind != "" && j.Kind != "Job") || (j.APIVersion != "" && j.APIVersion != "batch/v1") {
		return nil, fmt.Errorf("%w: job template%s is %s %s, want a batch/v1 Job", runner.ErrInvalid, path, j.APIVersion, j.Kind)
	}
	if len(j.Spec.Template.Spec.Containers) == 0 {
		j.Spec.Template.Spec.Containers = []corev1.Container{{}}
	}
	return &j, nil
}

// dropPlaceholderEnv removes the non-object entries of every container's
// env list (MLflow's template has `env: ["{appended with …}"]`).
func dropPlaceholderEnv(m map[string]any) {
	spec, _ := m["spec"].(map[string]any)
	tmpl, _ := spec["template"].(map[string]any)
	pod, _ := tmpl["spec"].(map[string]any)
	containers, _ := pod["containers"].([]any)
	for _, c := range containers {
		cm, _ := c.(map[string]any)
		env, ok := cm["env"].([]any)
		if !ok {
			continue
		}
		kept := []any{}
		for _, e := range env {
			if _, ok := e.(map[string]any); ok {
				kept = append(kept, e)
			}
		}
		cm["env"] = kept
	}
}
