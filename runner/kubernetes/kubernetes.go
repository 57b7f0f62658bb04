package kubernetes

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/distribution/reference"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mlrun/mlrun/runner"
	"github.com/mlrun/mlrun/runner/docker"
)

// Label marks every Job (and its pods) mlrun creates; its value is the
// run id.
const Label = "mlrun.run_id"

// Run tags this backend sets.
const (
	TagJobName      = "mlflow.kubernetes.job.name"
	TagJobNamespace = "mlflow.kubernetes.job.namespace"
	TagImageURI     = "mlflow.docker.image.uri"
	TagImageName    = "mlflow.docker.image.name"
	TagImageID      = "mlflow.docker.image.id"
	// TagFailure is why the Job failed when the step's exit code does
	// not say it: OOMKilled, ImagePullBackOff, Unschedulable, DeadlineExceeded…
	TagFailure = "mlrun.kubernetes.failure"
)

// Options configure the backend for one `mlrun run` or `mlrun tune`.
type Options struct {
	Config string // --backend-config: a .json path or JSON
	// SkipImageBuild runs docker_env.image as it is; SkipImagePush uses
	// the built image without pushing it (the cluster must have it).
	SkipImageBuild bool
	SkipImagePush  bool
	// Out gets build output and notices (one write at a time); nil means
	// os.Stderr.
	Out io.Writer
}

// Backend runs each step as a Kubernetes Job.
type Backend struct {
	opts Options
	cfg  Config
	tmpl *batchv1.Job

	mu        sync.Mutex
	cs        kubernetes.Interface
	namespace string // the kubeconfig context's
	prepared  map[*runner.Job]prepared
	lastName  string
}

type prepared struct {
	name, namespace string
	image           string
	env             []string // docker_env's environment
}

var (
	_ runner.Backend  = (*Backend)(nil)
	_ runner.Preparer = (*Backend)(nil)
)

// New reads the configuration and the Job template; it does not contact
// the cluster yet.
func New(opts Options) (*Backend, error) {
	if opts.Out == nil {
		opts.Out = os.Stderr
	}
	opts.Out = &runner.LockedWriter{W: opts.Out} // concurrent steps (tune) share it
	cfg, err := ParseConfig(opts.Config)
	if err != nil {
		return nil, err
	}
	tmpl, err := LoadTemplate(cfg.JobTemplatePath)
	if err != nil {
		return nil, err
	}
	if cfg.ScheduleTimeout == 0 {
		cfg.ScheduleTimeout = duration(DefaultScheduleTimeout)
	}
	return &Backend{opts: opts, cfg: cfg, tmpl: tmpl, prepared: map[*runner.Job]prepared{}}, nil
}

// Name implements runner.Backend.
func (b *Backend) Name() string { return "kubernetes" }

// Client returns the cluster's client, loading the kubeconfig as kubectl
// does (KUBECONFIG, ~/.kube/config, else the in-cluster service account)
// with the configured kube-context, and checks the API server answers.
func (b *Backend) Client(ctx context.Context) (kubernetes.Interface, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cs != nil {
		return b.cs, nil
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: b.cfg.KubeContext})
	rc, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("%w: no Kubernetes cluster configured (KUBECONFIG, ~/.kube/config or in-cluster): %v", runner.ErrBackendUnavailable, firstLine(err.Error()))
	}
	ns, _, err := cc.Namespace()
	if err != nil || ns == "" {
		ns = "default"
	}
	rc = rest.CopyConfig(rc)
	rc.UserAgent = "mlrun"
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("%w: kubernetes client: %v", runner.ErrBackendUnavailable, err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := cs.Discovery().RESTClient().Get().AbsPath("/version").Do(pctx).Error(); err != nil {
		return nil, fmt.Errorf("%w: cannot reach the Kubernetes API server at %s: %v", runner.ErrBackendUnavailable, rc.Host, firstLine(err.Error()))
	}
	b.cs, b.namespace = cs, ns
	return cs, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// Prepare implements runner.Preparer: before the run exists it checks
// the step can reach the tracking store from a pod, reaches the cluster,
// and builds (and pushes) the project's image.
func (b *Backend) Prepare(ctx context.Context, job *runner.Job) (map[string]string, error) {
	if job.DockerEnv == nil {
		return nil, fmt.Errorf("%w: the kubernetes backend runs projects with a docker_env (the image the Job runs); this one has none", runner.ErrInvalid)
	}
	if err := b.checkTracking(job); err != nil {
		return nil, err
	}
	env, err := docker.HostEnv(job.DockerEnv.Environment)
	if err != nil {
		return nil, err
	}
	cs, err := b.Client(ctx)
	if err != nil {
		return nil, err
	}
	tags := map[string]string{}
	img := job.DockerEnv.Image
	if !b.opts.SkipImageBuild {
		if img, err = b.image(ctx, cs, job, tags); err != nil {
			return nil, err
		}
	}
	p := prepared{name: b.jobName(job.ProjectName), namespace: b.jobNamespace(), image: img, env: env}
	b.mu.Lock()
	b.prepared[job] = p
	b.mu.Unlock()
	tags[TagJobName] = p.name
	tags[TagJobNamespace] = p.namespace
	tags[TagImageURI] = img
	if _, ok := tags[TagImageName]; !ok {
		tags[TagImageName] = img
	}
	return tags, nil
}

// checkTracking refuses a run whose pods could not log: a store served on
// this machine's loopback, or a loopback tracking server without
// hostNetwork. KUBE_MLFLOW_TRACKING_URI (MLflow's) overrides the URI the
// pods get.
func (b *Backend) checkTracking(job *runner.Job) error {
	if os.Getenv("KUBE_MLFLOW_TRACKING_URI") != "" {
		return nil
	}
	if job.LoopbackOnly {
		return fmt.Errorf("%w: the kubernetes backend needs a tracking server the pods can reach, and this run's store (%s) is only served on this machine's loopback: "+
			"start `mlrun server --backend-store-uri %s --host 0.0.0.0` where the cluster can reach it (with --allowed-hosts '<its name>:*' unless the pods use a private address) and run with --tracking-uri http://<its address>:5000 (or set KUBE_MLFLOW_TRACKING_URI)",
			runner.ErrInvalid, job.TrackingURI, job.TrackingURI)
	}
	u, err := url.Parse(job.TrackingURI)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil
	}
	switch h := u.Hostname(); {
	case h == "localhost" || strings.HasPrefix(h, "127.") || h == "::1":
		if !b.tmpl.Spec.Template.Spec.HostNetwork {
			return fmt.Errorf("%w: tracking URI %s is this machine's loopback, which a pod cannot reach: use an address the cluster reaches (or set KUBE_MLFLOW_TRACKING_URI, or hostNetwork: true in the job template on a one-node cluster)",
				runner.ErrInvalid, job.TrackingURI)
		}
	}
	return nil
}

// image builds the project into repository-uri:<content hash> and pushes
// it unless the cluster has that tag already or SkipImagePush says not to.
func (b *Backend) image(ctx context.Context, cs kubernetes.Interface, job *runner.Job, tags map[string]string) (string, error) {
	repo := b.cfg.RepositoryURI
	if repo == "" {
		return "", fmt.Errorf("%w: 'repository-uri' attribute must be specified in backend_config (where the project's image is pushed), or run with --skip-image-build", runner.ErrInvalid)
	}
	if _, err := reference.ParseNormalizedNamed(repo); err != nil {
		return "", fmt.Errorf("%w: repository-uri %q is not an image repository: %v", runner.ErrInvalid, repo, err)
	}
	cli, err := docker.Connect(ctx)
	if err != nil {
		return "", err
	}
	defer cli.Close()
	base, err := docker.EnsureImage(ctx, cli, b.opts.Out, job.DockerEnv.Image)
	if err != nil {
		return "", err
	}
	tag, id, _, err := docker.BuildProjectImage(ctx, cli, b.opts.Out, job.Dir, repo, job.DockerEnv.Image, base.ID)
	if err != nil {
		return "", err
	}
	tags[TagImageName], tags[TagImageID] = tag, id
	// The cluster may have the tag, or, once pulled by digest, one of the
	// digests this image was pushed as.
	names := []string{tag}
	if info, err := cli.ImageInspect(ctx, tag); err == nil {
		names = append(names, info.RepoDigests...)
	}
	found, known := clusterHas(ctx, cs, names)
	switch {
	case found != "":
		fmt.Fprintf(b.opts.Out, "mlrun: the cluster has image %s; not pushing\n", found)
		if _, digest, ok := strings.Cut(found, "@"); ok {
			return tag + "@" + digest, nil
		}
		return tag, nil
	case b.opts.SkipImagePush:
		if known {
			fmt.Fprintf(b.opts.Out, "mlrun: no node of the cluster lists image %s; with --skip-image-push it must have it\n", tag)
		}
		return tag, nil
	}
	digest, err := docker.PushImage(ctx, cli, b.opts.Out, tag)
	if err != nil {
		return "", err
	}
	return tag + "@" + digest, nil
}

// clusterHas returns the first of names (image references) a node of the
// cluster lists; known is false when the nodes cannot be read (no
// permission).
func clusterHas(ctx context.Context, cs kubernetes.Interface, names []string) (found string, known bool) {
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", false
	}
	listed := map[string]bool{}
	for _, n := range nodes.Items {
		for _, img := range n.Status.Images {
			for _, name := range img.Names {
				listed[name] = true
			}
		}
	}
	for _, name := range names {
		named, err := reference.ParseNormalizedNamed(name)
		if err == nil && (listed[named.String()] || listed[name]) {
			return name, true
		}
	}
	return "", true
}

var notDNS = regexp.MustCompile(`[^a-z0-9-]+`)

// dnsLabel makes s a DNS-1123 label of at most n characters.
func dnsLabel(s string, n int) string {
	s = strings.Trim(notDNS.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > n {
		s = strings.TrimRight(s[:n], "-")
	}
	if s == "" {
		s = "mlflow-project"
	}
	return s
}

// jobName is MLflow's <project>-<timestamp to the microsecond>, made a
// valid name and unique within this process.
func (b *Backend) jobName(project string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := time.Now()
	for {
		name := dnsLabel(project, 36) + "-" + strings.Replace(t.Format("2006-01-02-15-04-05.000000"), ".", "-", 1)
		if name != b.lastName {
			b.lastName = name
			return name
		}
		t = t.Add(time.Microsecond)
	}
}

// jobNamespace: the config's namespace, else the template's, else the
// kubeconfig context's.
func (b *Backend) jobNamespace() string {
	switch {
	case b.cfg.Namespace != "":
		return b.cfg.Namespace
	case b.tmpl.Namespace != "":
		return b.tmpl.Namespace
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.namespace == "" {
		return "default"
	}
	return b.namespace
}

// Start implements runner.Backend: it creates the Job and follows it.
func (b *Backend) Start(ctx context.Context, job *runner.Job) (runner.Handle, error) {
	b.mu.Lock()
	p, ok := b.prepared[job]
	delete(b.prepared, job)
	b.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("kubernetes backend: Start before Prepare")
	}
	cs, err := b.Client(ctx)
	if err != nil {
		return nil, err
	}
	j := b.MakeJob(job, p.name, p.namespace, p.image, p.env)
	created, err := cs.BatchV1().Jobs(p.namespace).Create(context.WithoutCancel(ctx), j, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("%w: create job %s/%s: %v", runner.ErrInvalid, p.namespace, p.name, err)
	}
	fmt.Fprintf(b.opts.Out, "mlrun: created job %s/%s\n", p.namespace, p.name)
	h := newHandle(cs, created, job, time.Duration(b.cfg.ScheduleTimeout))
	return h, nil
}

// MakeJob is the Job of a step, made from the template as MLflow makes
// it: the name, the namespace, the first container's name, image,
// command and env (the step's MLFLOW_* variables appended, and
// docker_env's), then mlrun's: the command run by sh with its $ kept from
// Kubernetes' $(NAME) expansion, a run-id label, one try (backoffLimit 0
// unless the template says), restartPolicy Never, the step's grace as the
// pod's termination grace, a shared process namespace (so the step is not
// PID 1, which ignores signals it has no handler for), and the
// configuration's namespace, pull policy, service account, resources,
// node selector and TTL.
func (b *Backend) MakeJob(job *runner.Job, name, namespace, img string, env []string) *batchv1.Job {
	j := b.tmpl.DeepCopy()
	j.APIVersion, j.Kind = "batch/v1", "Job"
	j.Name, j.GenerateName, j.Namespace = name, "", namespace
	if j.Labels == nil {
		j.Labels = map[string]string{}
	}
	j.Labels[Label] = job.RunID
	spec := &j.Spec
	if spec.BackoffLimit == nil {
		zero := int32(0)
		spec.BackoffLimit = &zero
	}
	if b.cfg.TTLSeconds != nil {
		ttl := *b.cfg.TTLSeconds
		spec.TTLSecondsAfterFinished = &ttl
	}
	if spec.Template.Labels == nil {
		spec.Template.Labels = map[string]string{}
	}
	spec.Template.Labels[Label] = job.RunID
	pod := &spec.Template.Spec
	if pod.RestartPolicy == "" {
		pod.RestartPolicy = corev1.RestartPolicyNever
	}
	if pod.ShareProcessNamespace == nil {
		share := true
		pod.ShareProcessNamespace = &share
	}
	grace := job.Grace
	if grace <= 0 {
		grace = runner.DefaultGrace
	}
	if pod.TerminationGracePeriodSeconds == nil {
		secs := int64((grace + time.Second - 1) / time.Second)
		pod.TerminationGracePeriodSeconds = &secs
	}
	if b.cfg.ServiceAccount != "" {
		pod.ServiceAccountName = b.cfg.ServiceAccount
	}
	for k, v := range b.cfg.NodeSelector {
		if pod.NodeSelector == nil {
			pod.NodeSelector = map[string]string{}
		}
		pod.NodeSelector[k] = v
	}
	c := &pod.Containers[0]
	c.Name = dnsLabel(job.ProjectName, 63)
	c.Image = img
	// Kubernetes expands $(NAME) in a command and reads $$ as $: the
	// shell, not Kubernetes, is to see the step's command.
	c.Command = []string{"sh", "-c", strings.ReplaceAll(job.Command, "$", "$$")}
	c.Args = nil
	if b.cfg.ImagePullPolicy != "" {
		c.ImagePullPolicy = b.cfg.ImagePullPolicy
	}
	if b.cfg.Resources != nil {
		c.Resources = *b.cfg.Resources.DeepCopy()
	}
	kube := os.Getenv("KUBE_MLFLOW_TRACKING_URI")
	for _, kv := range job.Env {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "MLFLOW_") {
			continue
		}
		if k == "MLFLOW_TRACKING_URI" && kube != "" {
			v = kube
		}
		c.Env = append(c.Env, corev1.EnvVar{Name: k, Value: v})
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		c.Env = append(c.Env, corev1.EnvVar{Name: k, Value: v})
	}
	return j
}
