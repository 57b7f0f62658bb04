package plugins

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mlrun/mlrun/plugins/flavor"
)

// Error kinds.
var (
	// ErrNotFound: no executable for that flavor.
	ErrNotFound = errors.New("flavor plugin not found")
	// ErrExited: the plugin died during a call.
	ErrExited = errors.New("flavor plugin exited")
	// ErrTimeout: a call took longer than the timeout; the plugin is killed.
	ErrTimeout = errors.New("flavor plugin timed out")
	// ErrChecksum: the binary does not match its pinned SHA-256.
	ErrChecksum = errors.New("flavor plugin checksum mismatch")
)

// Prefix is the executable name prefix of flavor plugins.
const Prefix = "mlrun-flavor-"

// DefaultTimeout bounds each call.
const DefaultTimeout = 60 * time.Second

// Options configure the host.
type Options struct {
	// Dirs are searched first, in order ($MLRUN_PLUGIN_PATH's folders when nil).
	Dirs []string
	// Builtin names the flavors mlrun serves itself; SelfCommand is the
	// command line that serves one (the name is appended).
	Builtin     []string
	SelfCommand []string
	// Pins maps a flavor name to the SHA-256 (hex) its binary must have
	// ($MLRUN_PLUGIN_SHA256 = "name=hex,…" when nil).
	Pins map[string]string
	// Timeout bounds each call; 0 means DefaultTimeout.
	Timeout time.Duration
	// Stderr gets the plugin's own stderr; nil discards it.
	Stderr io.Writer
}

// FromEnv fills the options read from the environment.
func (o Options) FromEnv() Options {
	if o.Dirs == nil {
		for _, d := range filepath.SplitList(os.Getenv("MLRUN_PLUGIN_PATH")) {
			if d != "" {
				o.Dirs = append(o.Dirs, d)
			}
		}
		if home, err := os.UserHomeDir(); err == nil {
			o.Dirs = append(o.Dirs, filepath.Join(home, ".mlrun", "plugins"))
		}
		if exe, err := os.Executable(); err == nil {
			o.Dirs = append(o.Dirs, filepath.Dir(exe))
		}
	}
	if o.Pins == nil {
		o.Pins = map[string]string{}
		for _, kv := range strings.Split(os.Getenv("MLRUN_PLUGIN_SHA256"), ",") {
			if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok {
				o.Pins[k] = strings.ToLower(v)
			}
		}
	}
	return o
}

// Found is a flavor available to run.
type Found struct {
	Name    string
	Path    string // the executable ("" for a built-in served by mlrun)
	Builtin bool
}

// Find returns the executable of a flavor: the first mlrun-flavor-<name>
// in the search folders, then on PATH, then the built-in.
func Find(name string, o Options) (Found, error) {
	exe := Prefix + name
	for _, d := range o.Dirs {
		p := filepath.Join(d, exe)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return Found{Name: name, Path: p}, nil
		}
	}
	if p, err := exec.LookPath(exe); err == nil {
		return Found{Name: name, Path: p}, nil
	}
	for _, b := range o.Builtin {
		if b == name && len(o.SelfCommand) > 0 {
			return Found{Name: name, Builtin: true}, nil
		}
	}
	return Found{}, fmt.Errorf("%w: no %s in %s or on PATH, and no built-in flavor %q", ErrNotFound, exe, strings.Join(o.Dirs, ", "), name)
}

// List returns every flavor available: executables and built-ins, by name.
func List(o Options) []Found {
	seen := map[string]Found{}
	dirs := append(append([]string{}, o.Dirs...), filepath.SplitList(os.Getenv("PATH"))...)
	for _, d := range dirs {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			if n, ok := strings.CutPrefix(e.Name(), Prefix); ok && n != "" {
				if _, dup := seen[n]; !dup {
					seen[n] = Found{Name: n, Path: filepath.Join(d, e.Name())}
				}
			}
		}
	}
	for _, b := range o.Builtin {
		if _, dup := seen[b]; !dup {
			seen[b] = Found{Name: b, Builtin: true}
		}
	}
	var out []Found
	for _, f := range seen {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Plugin is a started flavor. Its methods implement flavor.Flavor, each
// bounded by the timeout.
type Plugin struct {
	Name    string
	Path    string
	client  *plugin.Client
	impl    flavor.Flavor
	timeout time.Duration
}

var _ flavor.Flavor = (*Plugin)(nil)

// Open starts the flavor's process and checks it answers Describe with
// its own name.
func Open(ctx context.Context, name string, o Options) (*Plugin, error) {
	f, err := Find(name, o)
	if err != nil {
		return nil, err
	}
	return Start(ctx, f, o)
}

// Start starts a found flavor.
func Start(ctx context.Context, f Found, o Options) (*Plugin, error) {
	var cmd *exec.Cmd
	cfg := &plugin.ClientConfig{
		HandshakeConfig:  flavor.Handshake,
		Plugins:          flavor.PluginMap(nil),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           hclog.New(&hclog.LoggerOptions{Output: io.Discard, Level: hclog.Off}),
		StartTimeout:     20 * time.Second,
	}
	if o.Stderr != nil {
		cfg.Stderr = o.Stderr
	}
	if f.Builtin {
		cmd = exec.Command(o.SelfCommand[0], append(o.SelfCommand[1:], f.Name)...)
	} else {
		cmd = exec.Command(f.Path)
		if pin := o.Pins[f.Name]; pin != "" {
			sum, err := hex.DecodeString(pin)
			if err != nil || len(sum) != sha256.Size {
				return nil, fmt.Errorf("flavor %s: the pinned SHA-256 %q is not 64 hex digits", f.Name, pin)
			}
			cfg.SecureConfig = &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
		}
	}
	cfg.Cmd = cmd
	client := plugin.NewClient(cfg)
	rpc, err := client.Client()
	if err != nil {
		client.Kill()
		if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
			return nil, fmt.Errorf("%w: %s does not match its pinned SHA-256", ErrChecksum, f.Path)
		}
		return nil, fmt.Errorf("flavor %s: start %s: %v", f.Name, describePath(f), firstLine(err.Error()))
	}
	raw, err := rpc.Dispense(flavor.PluginName)
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("flavor %s: %v", f.Name, err)
	}
	p := &Plugin{Name: f.Name, Path: f.Path, client: client, impl: raw.(flavor.Flavor), timeout: o.Timeout}
	if p.timeout == 0 {
		p.timeout = DefaultTimeout
	}
	d, err := p.Describe(ctx)
	if err != nil {
		p.Close()
		return nil, err
	}
	if d.Name != f.Name {
		p.Close()
		return nil, fmt.Errorf("flavor %s: %s says it is flavor %q", f.Name, describePath(f), d.Name)
	}
	return p, nil
}

func describePath(f Found) string {
	if f.Builtin {
		return "the built-in flavor"
	}
	return f.Path
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// Close stops the plugin process.
func (p *Plugin) Close() {
	p.client.Kill()
}

// call runs fn with the timeout, turning a dead or hung plugin into an
// error that names the flavor and the call.
func call[T any](ctx context.Context, p *Plugin, name string, fn func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := fn(ctx)
		done <- result{v, err}
	}()
	var zero T
	select {
	case r := <-done:
		if r.err == nil {
			return r.v, nil
		}
		if p.client.Exited() || status.Code(r.err) == codes.Unavailable {
			p.client.Kill()
			return zero, fmt.Errorf("flavor %s: %s: %w: %v", p.Name, name, ErrExited, firstLine(status.Convert(r.err).Message()))
		}
		// gRPC sends the deadline to the plugin, whose side may end the call
		// a moment before this side's context does: both are the timeout.
		if ctx.Err() == context.DeadlineExceeded || status.Code(r.err) == codes.DeadlineExceeded {
			p.client.Kill()
			return zero, fmt.Errorf("flavor %s: %s: %w after %s", p.Name, name, ErrTimeout, p.timeout)
		}
		return zero, fmt.Errorf("flavor %s: %s: %w", p.Name, name, r.err)
	case <-ctx.Done():
		p.client.Kill()
		if ctx.Err() == context.DeadlineExceeded {
			return zero, fmt.Errorf("flavor %s: %s: %w after %s", p.Name, name, ErrTimeout, p.timeout)
		}
		return zero, fmt.Errorf("flavor %s: %s: %w", p.Name, name, ctx.Err())
	}
}

// Describe implements flavor.Flavor.
func (p *Plugin) Describe(ctx context.Context) (*flavor.Description, error) {
	return call(ctx, p, "Describe", func(ctx context.Context) (*flavor.Description, error) { return p.impl.Describe(ctx) })
}

// Inspect implements flavor.Flavor.
func (p *Plugin) Inspect(ctx context.Context, req *flavor.InspectRequest) (*flavor.Model, error) {
	return call(ctx, p, "Inspect", func(ctx context.Context) (*flavor.Model, error) { return p.impl.Inspect(ctx, req) })
}

// LoadPredictor implements flavor.Predictor: a Predict session on the
// plugin for the model folder, which lives until it is closed; loading it
// is bounded by the timeout (past it the plugin is stopped). A flavor
// without Predict gives flavor.ErrUnsupported.
func (p *Plugin) LoadPredictor(ctx context.Context, modelDir string) (flavor.Session, error) {
	pr, ok := p.impl.(flavor.Predictor)
	if !ok {
		return nil, fmt.Errorf("%w: flavor %s does not predict", flavor.ErrUnsupported, p.Name)
	}
	type result struct {
		s   flavor.Session
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := pr.LoadPredictor(context.WithoutCancel(ctx), modelDir)
		ch <- result{s, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("flavor %s: load %s: %w", p.Name, modelDir, r.err)
		}
		return r.s, nil
	case <-time.After(p.timeout):
		p.Close()
		return nil, fmt.Errorf("flavor %s: loading %s took longer than %s; the plugin was stopped", p.Name, modelDir, p.timeout)
	}
}

// Save implements flavor.Flavor.
func (p *Plugin) Save(ctx context.Context, req *flavor.SaveRequest) (*flavor.SaveResponse, error) {
	return call(ctx, p, "Save", func(ctx context.Context) (*flavor.SaveResponse, error) { return p.impl.Save(ctx, req) })
}
