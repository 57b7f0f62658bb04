package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	stdnet "net"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/mlrun/mlrun/runner"
)

// CodeDir is where the project is in the container.
const CodeDir = "/mlflow/projects/code/"

// Label marks every container mlrun starts; its value is the run id.
const Label = "mlrun.run_id"

// Options configure the docker backend for one `mlrun run`.
type Options struct {
	BuildImage    bool     // build <name>:<hash> FROM the docker_env image with the project copied in
	KeepContainer bool     // do not remove the container after the run
	Args          []string // -A NAME[=VALUE]
	Config        string   // --backend-config: a .json path or JSON
	// Out gets build output and notices; nil means os.Stderr.
	Out io.Writer
}

// Backend runs steps in containers.
type Backend struct {
	opts Options
	run  runOptions

	mu       sync.Mutex
	cli      *client.Client
	prepared map[*runner.Job]prepared
}

type prepared struct {
	image   string // what the container runs (a tag or the base reference)
	imageID string
	built   bool // the image was built by this run (not found in the cache)
	hostEnv []string
}

var (
	_ runner.Backend  = (*Backend)(nil)
	_ runner.Preparer = (*Backend)(nil)
)

// New checks the options and returns a backend; it does not contact the
// daemon yet.
func New(opts Options) (*Backend, error) {
	if opts.Out == nil {
		opts.Out = os.Stderr
	}
	opts.Out = &runner.LockedWriter{W: opts.Out} // concurrent steps (tune) share it
	b := &Backend{opts: opts, prepared: map[*runner.Job]prepared{}}
	if err := b.run.parseArgs(opts.Args); err != nil {
		return nil, err
	}
	if err := b.run.parseConfig(opts.Config); err != nil {
		return nil, err
	}
	return b, nil
}

// Name implements runner.Backend.
func (b *Backend) Name() string { return "docker" }

// Client returns the Docker client, connecting on first use.
func (b *Backend) Client(ctx context.Context) (*client.Client, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cli != nil {
		return b.cli, nil
	}
	c, err := Connect(ctx)
	if err != nil {
		return nil, err
	}
	b.cli = c
	return c, nil
}

// Connect returns a client of the Docker daemon that answers (DOCKER_HOST
// and friends are honoured), with the API version negotiated; a daemon
// that cannot be reached is runner.ErrBackendUnavailable.
func Connect(ctx context.Context) (*client.Client, error) {
	c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("%w: docker client: %v", runner.ErrBackendUnavailable, err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := c.Ping(pctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("%w: cannot reach the Docker daemon at %s (start dockerd, or run with --backend local): %v",
			runner.ErrBackendUnavailable, c.DaemonHost(), firstLine(err.Error()))
	}
	c.NegotiateAPIVersion(ctx)
	return c, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// Prepare implements runner.Preparer: it reaches the daemon, checks the
// host variables docker_env copies, and finds, pulls or builds the image,
// all before the run is created.
func (b *Backend) Prepare(ctx context.Context, job *runner.Job) (map[string]string, error) {
	if job.DockerEnv == nil {
		return nil, fmt.Errorf("%w: the docker backend runs projects with a docker_env; this one has none (use --backend local)", runner.ErrInvalid)
	}
	hostEnv, err := HostEnv(job.DockerEnv.Environment)
	if err != nil {
		return nil, err
	}
	cli, err := b.Client(ctx)
	if err != nil {
		return nil, err
	}
	base := job.DockerEnv.Image
	baseInfo, err := EnsureImage(ctx, cli, b.opts.Out, base)
	if err != nil {
		return nil, err
	}
	p := prepared{image: base, imageID: baseInfo.ID, hostEnv: hostEnv}
	if b.opts.BuildImage {
		if job.ProjectName == "" {
			return nil, fmt.Errorf("%w: Project name in MLProject must be specified when using docker for image tagging.", runner.ErrInvalid)
		}
		p.image, p.imageID, p.built, err = BuildProjectImage(ctx, cli, b.opts.Out, job.Dir, RepoName(job.ProjectName), base, baseInfo.ID)
		if err != nil {
			return nil, err
		}
	}
	b.mu.Lock()
	b.prepared[job] = p
	b.mu.Unlock()
	return map[string]string{
		"mlflow.docker.image.name": p.image,
		"mlflow.docker.image.uri":  p.image,
		"mlflow.docker.image.id":   p.imageID,
	}, nil
}

// HostEnv is docker_env's environment as KEY=VALUE: the values it gives,
// and the host's values of the names it copies; a copied name the host
// does not set is runner.ErrInvalid (MLflow's message).
func HostEnv(env []runner.EnvVar) ([]string, error) {
	var missing, out []string
	for _, e := range env {
		switch v, ok := os.LookupEnv(e.Name); {
		case !e.FromHost:
			out = append(out, e.Name+"="+e.Value)
		case ok:
			out = append(out, e.Name+"="+v)
		default:
			missing = append(missing, e.Name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: This project expects the %s environment variables to be set on the machine running the project, but %s was not set.",
			runner.ErrInvalid, strings.Join(missing, ", "), strings.Join(missing, ", "))
	}
	return out, nil
}

// EnsureImage returns the local image ref, pulling it when it is missing
// (notices go to out).
func EnsureImage(ctx context.Context, cli *client.Client, out io.Writer, ref string) (image.InspectResponse, error) {
	info, err := cli.ImageInspect(ctx, ref)
	if err == nil {
		return info, nil
	}
	if !cerrdefs.IsNotFound(err) {
		return info, fmt.Errorf("inspect image %s: %w", ref, err)
	}
	fmt.Fprintf(out, "mlrun: image %s is not on this machine; pulling it\n", ref)
	rc, err := cli.ImagePull(ctx, ref, image.PullOptions{})
	if err == nil {
		err = drainJSON(rc, io.Discard)
		rc.Close()
	}
	if err != nil {
		return info, fmt.Errorf("%w: image %s is not on this machine and could not be pulled: %v", runner.ErrBackendUnavailable, ref, firstLine(err.Error()))
	}
	return cli.ImageInspect(ctx, ref)
}

// drainJSON reads a daemon's JSON message stream, copying "stream" text
// to w, and returns the first error message in it.
func drainJSON(r io.Reader, w io.Writer) error {
	dec := json.NewDecoder(r)
	for {
		var m struct {
			Stream string `json:"stream"`
			Error  string `json:"error"`
			Status string `json:"status"`
		}
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		if m.Error != "" {
			return errors.New(strings.TrimSpace(m.Error))
		}
		io.WriteString(w, m.Stream)
	}
}

// Start implements runner.Backend.
func (b *Backend) Start(ctx context.Context, job *runner.Job) (runner.Handle, error) {
	b.mu.Lock()
	p, ok := b.prepared[job]
	delete(b.prepared, job)
	b.mu.Unlock()
	if !ok {
		return nil, errors.New("docker backend: Start before Prepare")
	}
	cli, err := b.Client(ctx)
	if err != nil {
		return nil, err
	}
	cfg := &container.Config{
		Image:      p.image,
		Cmd:        []string{"sh", "-c", job.Command},
		WorkingDir: CodeDir,
		Labels:     map[string]string{Label: job.RunID},
	}
	// docker's init (tini) is PID 1, so the step is not: the kernel
	// drops signals to a PID 1 without a handler, which made a stopped
	// step sit out the whole grace and a step's own kill of itself a
	// no-op (runnertest's ExitCodes).
	init := true
	hc := &container.HostConfig{Init: &init}
	if !b.opts.BuildImage {
		hc.Binds = append(hc.Binds, job.Dir+":"+CodeDir)
	}
	hc.Binds = append(hc.Binds, job.DockerEnv.Volumes...)
	// The run's artifacts, and its experiment's logged models and traces
	// (MLflow's client writes their files there, not into the run's), at
	// the paths the step's client is given.
	for _, dir := range append([]string{job.ArtifactDir}, job.ExperimentDirs...) {
		if dir == "" {
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("artifact folder: %w", err)
		}
		hc.Binds = append(hc.Binds, dir+":"+dir)
	}
	b.run.apply(cfg, hc)

	// The step's MLFLOW_* variables, with a loopback tracking URI made
	// reachable from the container.
	var fwd *forwarder
	for _, kv := range job.Env {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "MLFLOW_") {
			continue
		}
		if k == "MLFLOW_TRACKING_URI" {
			v, fwd, err = b.reachable(ctx, cli, v)
			if err != nil {
				return nil, err
			}
		}
		cfg.Env = append(cfg.Env, k+"="+v)
	}
	cfg.Env = append(cfg.Env, p.hostEnv...)

	created, err := cli.ContainerCreate(ctx, cfg, hc, &network.NetworkingConfig{}, nil, "")
	if err != nil {
		fwd.Close()
		return nil, fmt.Errorf("create container: %w", err)
	}
	h := &handle{b: b, cli: cli, id: created.ID, fwd: fwd, grace: job.Grace, killNow: job.KillNow}
	if h.grace == 0 {
		h.grace = runner.DefaultGrace
	}
	att, err := cli.ContainerAttach(ctx, created.ID, container.AttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		h.cleanup()
		return nil, fmt.Errorf("attach to container: %w", err)
	}
	h.copied = make(chan struct{})
	go func() {
		stdcopy.StdCopy(job.Stdout, job.Stderr, att.Reader)
		att.Close()
		close(h.copied)
	}()
	h.waitC, h.errC = cli.ContainerWait(context.WithoutCancel(ctx), created.ID, container.WaitConditionNextExit)
	// Start is quick and must not be cut in half: a cancellation now is
	// handled by Wait, which stops the container.
	if err := cli.ContainerStart(context.WithoutCancel(ctx), created.ID, container.StartOptions{}); err != nil {
		h.cleanup()
		return nil, fmt.Errorf("start container: %w", err)
	}
	return h, nil
}

// reachable rewrites a tracking URI on the host's loopback to the bridge
// gateway, forwarding connections there to the loopback address.
func (b *Backend) reachable(ctx context.Context, cli *client.Client, uri string) (string, *forwarder, error) {
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return uri, nil, nil
	}
	switch u.Hostname() {
	case "127.0.0.1", "localhost", "::1":
	default:
		return uri, nil, nil
	}
	net := b.run.network
	if net == "host" {
		return uri, nil, nil // the container shares the host's loopback
	}
	if net == "" || net == "default" {
		net = "bridge"
	}
	gw, err := gateway(ctx, cli, net)
	if err != nil {
		return "", nil, fmt.Errorf("%w: cannot find the gateway of docker network %s to reach %s from the container: %v", runner.ErrBackendUnavailable, net, uri, err)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	f, err := forward(gw, "127.0.0.1:"+port)
	if err != nil {
		return "", nil, err
	}
	u.Host = f.Addr()
	return u.String(), f, nil
}

type handle struct {
	b       *Backend
	cli     *client.Client
	id      string
	fwd     *forwarder
	grace   time.Duration
	killNow <-chan struct{} // a second Ctrl-C ends the grace at once
	waitC   <-chan container.WaitResponse
	errC    <-chan error
	copied  chan struct{}
}

// Wait implements runner.Handle. A cancelled ctx stops the container
// (SIGTERM, SIGKILL after the grace period) and reports it killed.
func (h *handle) Wait(ctx context.Context) (runner.Result, error) {
	defer h.cleanup()
	var res runner.Result
	select {
	case w := <-h.waitC:
		res.ExitCode = int(w.StatusCode)
		if w.Error != nil {
			return res, fmt.Errorf("container: %s", w.Error.Message)
		}
	case err := <-h.errC:
		return res, fmt.Errorf("wait for container: %w", err)
	case <-ctx.Done():
		res.Killed = true
		sctx, cancel := context.WithTimeout(context.Background(), h.grace+30*time.Second)
		defer cancel()
		secs := int(h.grace.Seconds())
		stopped := make(chan error, 1)
		go func() { stopped <- h.cli.ContainerStop(sctx, h.id, container.StopOptions{Timeout: &secs}) }()
		var err error
		select {
		case err = <-stopped:
		case <-h.killNow: // a second Ctrl-C: no more grace
			err = h.cli.ContainerKill(sctx, h.id, "KILL")
		}
		if err != nil && !cerrdefs.IsNotFound(err) {
			return res, fmt.Errorf("stop container: %w", err)
		}
		select {
		case w := <-h.waitC:
			res.ExitCode = int(w.StatusCode)
		case <-sctx.Done():
		}
	}
	if h.copied != nil {
		select {
		case <-h.copied:
		case <-time.After(5 * time.Second):
		}
	}
	return res, nil
}

// cleanup removes the container (unless kept) and stops the forwarder.
func (h *handle) cleanup() {
	h.fwd.Close()
	if h.b.opts.KeepContainer || h.id == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h.cli.ContainerRemove(ctx, h.id, container.RemoveOptions{Force: true})
	h.id = ""
}

// Containers lists the containers mlrun started for a run (for tests and
// cleanup).
func Containers(ctx context.Context, cli *client.Client, runID string) ([]container.Summary, error) {
	return cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", Label+"="+runID))})
}

// gateway returns the host's address on a docker network: the IPAM
// gateway, or (older daemons leave it out for the default bridge) the
// first IPv4 address of the bridge interface.
func gateway(ctx context.Context, cli *client.Client, name string) (string, error) {
	info, err := cli.NetworkInspect(ctx, name, network.InspectOptions{})
	if err != nil {
		return "", err
	}
	for _, c := range info.IPAM.Config {
		if c.Gateway != "" {
			return c.Gateway, nil
		}
	}
	ifname := info.Options["com.docker.network.bridge.name"]
	if ifname == "" {
		ifname = "br-" + info.ID[:min(12, len(info.ID))]
	}
	iface, err := stdnet.InterfaceByName(ifname)
	if err != nil {
		return "", err
	}
	addrs, err := iface.Addrs()
	if err != nil {
		return "", err
	}
	for _, a := range addrs {
		if ipn, ok := a.(*stdnet.IPNet); ok && ipn.IP.To4() != nil {
			return ipn.IP.String(), nil
		}
	}
	return "", fmt.Errorf("interface %s has no IPv4 address", ifname)
}
