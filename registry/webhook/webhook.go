// Package webhook delivers registry events to MLflow 3's webhooks: each a
// POST of {"entity", "action", "timestamp", "data"} with MLflow's headers
// (X-MLflow-Delivery-Id, X-MLflow-Timestamp and, for a webhook with a
// secret, X-MLflow-Signature: "v1," and the base64 HMAC-SHA256 of
// "<delivery id>.<timestamp>.<body>"), sent by a pool of workers after the
// change is committed, retried on 429 and 5xx. Only https URLs are taken
// unless MLFLOW_WEBHOOK_ALLOWED_SCHEMES says otherwise, and a connection
// to an address that is not public (loopback, private, link-local, cloud
// metadata...) is refused once the name is resolved, unless
// MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS: a webhook cannot make the server
// reach what only it can reach.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/store"
)

// Options are the deliverer's settings; zero values are MLflow's defaults.
type Options struct {
	// AllowedSchemes of webhook URLs; nil means https only.
	AllowedSchemes []string
	// AllowPrivate lets deliveries reach addresses that are not public.
	AllowPrivate bool
	// Timeout of one request (30 s).
	Timeout time.Duration
	// MaxRetries after a 429 or 5xx answer or a failed connection (3),
	// waiting Backoff (1 s) doubled each time, at most 60 s, or what
	// Retry-After asks.
	MaxRetries int
	Backoff    time.Duration
	// Workers send deliveries at once (10).
	Workers int
	Logger  *slog.Logger
}

// OptionsFromEnv reads MLflow's variables: MLFLOW_WEBHOOK_ALLOWED_SCHEMES
// (comma-separated), MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS,
// MLFLOW_WEBHOOK_REQUEST_TIMEOUT (seconds),
// MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES, MLFLOW_WEBHOOK_DELIVERY_MAX_WORKERS.
func OptionsFromEnv() (Options, error) {
	var o Options
	if v := os.Getenv("MLFLOW_WEBHOOK_ALLOWED_SCHEMES"); v != "" {
		for _, s := range strings.Split(v, ",") {
			if s = strings.ToLower(strings.TrimSpace(s)); s != "" {
				o.AllowedSchemes = append(o.AllowedSchemes, s)
			}
		}
	}
	if v := os.Getenv("MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return o, fmt.Errorf("MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS=%q: want true or false", v)
		}
		o.AllowPrivate = b
	}
	for name, to := range map[string]*int{"MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES": &o.MaxRetries, "MLFLOW_WEBHOOK_DELIVERY_MAX_WORKERS": &o.Workers} {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return o, fmt.Errorf("%s=%q: want a whole number", name, v)
			}
			*to = n
			if n == 0 && name == "MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES" {
				*to = -1 // none
			}
		}
	}
	if v := os.Getenv("MLFLOW_WEBHOOK_REQUEST_TIMEOUT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return o, fmt.Errorf("MLFLOW_WEBHOOK_REQUEST_TIMEOUT=%q: want seconds", v)
		}
		o.Timeout = time.Duration(n) * time.Second
	}
	return o, nil
}

// Deliverer sends webhook deliveries.
type Deliverer struct {
	opts   Options
	client *http.Client
	jobs   chan delivery
	wg     sync.WaitGroup
	close  sync.Once
	mu     sync.RWMutex // held to queue; Close takes it to close jobs
	closed bool
	// ctx ends the deliveries still being tried when Close has waited.
	ctx    context.Context
	cancel context.CancelFunc
}

type delivery struct {
	hook    *registry.Webhook
	event   registry.Event
	payload any
}

// New starts a deliverer's workers; Close stops them.
func New(opts Options) *Deliverer {
	if opts.AllowedSchemes == nil {
		opts.AllowedSchemes = []string{"https"}
	}
	if opts.Timeout == 0 {
		opts.Timeout = 30 * time.Second
	}
	switch {
	case opts.MaxRetries == 0:
		opts.MaxRetries = 3
	case opts.MaxRetries < 0:
		opts.MaxRetries = 0
	}
	if opts.Backoff == 0 {
		opts.Backoff = time.Second
	}
	if opts.Workers <= 0 {
		opts.Workers = 10
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	d := &Deliverer{opts: opts, jobs: make(chan delivery, 1000)}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	dialer := &net.Dialer{Timeout: opts.Timeout, Control: func(_, address string, _ syscall.RawConn) error {
		if opts.AllowPrivate {
			return nil
		}
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		ip, err := netip.ParseAddr(host)
		if err != nil || !Public(ip) {
			return fmt.Errorf("webhook connection to %s refused: not a public address (MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS allows it)", host)
		}
		return nil
	}}
	d.client = &http.Client{
		Timeout: opts.Timeout,
		// The address is checked when connecting (after name resolution,
		// so a name rebound between a check and the request cannot lead
		// elsewhere); no proxy stands between, and a redirect is an answer.
		Transport:     &http.Transport{DialContext: dialer.DialContext, Proxy: nil, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for range opts.Workers {
		d.wg.Go(func() {
			for j := range d.jobs {
				if _, err := d.send(d.ctx, j.hook, j.event, j.payload, true); err != nil {
					d.opts.Logger.Error("webhook delivery failed", "webhook_id", j.hook.ID, "url", j.hook.URL, "event", j.event.String(), "error", err)
				}
			}
		})
	}
	return d
}

// Close stops taking deliveries and waits up to 10 s for those queued to
// be sent; then the rest are abandoned (each logged).
func (d *Deliverer) Close() {
	d.close.Do(func() {
		d.mu.Lock()
		d.closed = true
		close(d.jobs)
		d.mu.Unlock()
		done := make(chan struct{})
		go func() { d.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			d.cancel()
			<-done
		}
		d.cancel()
	})
}

// Public reports whether ip is a globally routable address (Python's
// ipaddress is_global, as MLflow checks it).
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return false
	}
	for _, p := range special {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// special are the ranges IANA marks not globally reachable, beyond Go's
// private, loopback, link-local and multicast tests.
var special = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24",
		"203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "2002::/16", "fc00::/7"} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

// CheckURL checks a webhook URL with the deliverer's rules (Options.CheckURL).
func (d *Deliverer) CheckURL(raw string) error { return d.opts.CheckURL(raw) }

// CheckURL checks a webhook URL as it is stored: an allowed scheme, a
// host, no credentials, and, for an IP address, a public one (unless
// private ones are allowed). Names are checked when connecting.
func (o Options) CheckURL(raw string) error {
	schemes := o.AllowedSchemes
	if schemes == nil {
		schemes = []string{"https"}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return store.Invalidf("Invalid webhook URL '%s': %v", raw, err)
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case !slices.Contains(schemes, scheme):
		return store.Invalidf("Invalid webhook URL scheme '%s': allowed schemes are %s (MLFLOW_WEBHOOK_ALLOWED_SCHEMES)", u.Scheme, strings.Join(schemes, ", "))
	case scheme != "http" && scheme != "https":
		return store.Invalidf("Invalid webhook URL scheme '%s': webhooks are sent over http or https", u.Scheme)
	case u.Hostname() == "":
		return store.Invalidf("Invalid webhook URL '%s': it has no host", raw)
	case u.User != nil:
		return store.Invalidf("Invalid webhook URL: credentials in the URL are not kept; use a secret to sign deliveries")
	}
	if o.AllowPrivate {
		return nil
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil && !Public(ip) {
		return store.Invalidf("Invalid webhook URL '%s': %s is not a public address (MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS allows it)", raw, ip)
	}
	if strings.EqualFold(u.Hostname(), "localhost") {
		return store.Invalidf("Invalid webhook URL '%s': localhost is not a public address (MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS allows it)", raw)
	}
	return nil
}

// Deliver queues event, with its payload, for every active webhook
// subscribed to it; it returns at once. A full queue (1,000 waiting)
// drops the delivery with an error in the log.
func (d *Deliverer) Deliver(ctx context.Context, hooks registry.Webhooks, event registry.Event, payload any) {
	list, err := hooks.ActiveWebhooks(ctx, event)
	if err != nil {
		d.opts.Logger.Error("webhooks not delivered", "event", event.String(), "error", err)
		return
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	for _, h := range list {
		if d.closed {
			d.opts.Logger.Error("webhook delivery dropped: the server is stopping", "webhook_id", h.ID, "event", event.String())
			continue
		}
		select {
		case d.jobs <- delivery{h, event, payload}:
		default:
			d.opts.Logger.Error("webhook delivery dropped: 1,000 deliveries are waiting", "webhook_id", h.ID, "event", event.String())
		}
	}
}

// Result is what a test delivery found.
type Result struct {
	Success        bool
	ResponseStatus int
	ResponseBody   string
	Error          string
}

// Test sends event's example payload to w now (no retries) and reports
// the answer.
func (d *Deliverer) Test(ctx context.Context, w *registry.Webhook, event registry.Event) Result {
	resp, err := d.send(ctx, w, event, Example(event), false)
	if err != nil {
		return Result{Error: "Failed to test webhook: " + err.Error()}
	}
	return Result{Success: resp.status < 400, ResponseStatus: resp.status, ResponseBody: resp.body}
}

type answer struct {
	status int
	body   string
}

// send posts one delivery, retrying when retry is set.
func (d *Deliverer) send(ctx context.Context, w *registry.Webhook, event registry.Event, payload any, retry bool) (answer, error) {
	if err := d.CheckURL(w.URL); err != nil {
		return answer{}, err
	}
	body, err := json.Marshal(struct {
		Entity    string `json:"entity"`
		Action    string `json:"action"`
		Timestamp string `json:"timestamp"`
		Data      any    `json:"data"`
	}{event.Entity, event.Action, time.Now().UTC().Format("2006-01-02T15:04:05.000000-07:00"), payload})
	if err != nil {
		return answer{}, err
	}
	id := uuid.NewString()
	wait := d.opts.Backoff
	for attempt := 0; ; attempt++ {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
		if err != nil {
			return answer{}, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-MLflow-Delivery-Id", id)
		req.Header.Set("X-MLflow-Timestamp", ts)
		if w.Secret != "" {
			req.Header.Set("X-MLflow-Signature", Sign(w.Secret, id, ts, body))
		}
		resp, err := d.client.Do(req)
		var a answer
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			a = answer{resp.StatusCode, string(b)}
		}
		refused := err != nil && strings.Contains(err.Error(), "not a public address")
		again := retry && attempt < d.opts.MaxRetries && !refused && (err != nil || a.status == 429 || a.status >= 500)
		if !again {
			if err != nil {
				return answer{}, err
			}
			if a.status >= 400 && retry {
				return a, fmt.Errorf("answered %d", a.status)
			}
			return a, nil
		}
		pause := wait
		if resp != nil {
			if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && s >= 0 {
				pause = time.Duration(s) * time.Second
			}
		}
		select {
		case <-ctx.Done():
			return answer{}, ctx.Err()
		case <-time.After(min(pause, time.Minute)):
		}
		wait = min(2*wait, time.Minute)
	}
}

// Sign is MLflow's signature of a delivery: "v1," and the base64
// HMAC-SHA256, keyed by the secret, of "<delivery id>.<timestamp>.<body>".
func Sign(secret, deliveryID, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%s.%s.", deliveryID, timestamp)
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
