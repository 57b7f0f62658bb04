package server

import (
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/artifact/local"
	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/registry/webhook"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/ui"
)

// Version is what /version answers: the MLflow release whose API mlrun
// speaks. MLflow clients compare it when choosing features.
const Version = "3.6.0"

// DefaultBodyLimit caps request bodies on the JSON API (MLflow documents
// 1 MB for log-batch; this leaves room for large dataset schemas).
const DefaultBodyLimit = 16 << 20

// DefaultUploadLimit caps one proxied artifact upload (--max-upload-size).
const DefaultUploadLimit = 5 << 30

// DefaultStallTimeout is how long a request body or response may make no
// progress before the connection is ended.
const DefaultStallTimeout = 2 * time.Minute

// Options configure a Server.
type Options struct {
	// Artifacts is the proxied artifact destination, or nil when the
	// server does not serve artifacts (--no-serve-artifacts).
	Artifacts artifact.Repository
	// BodyLimit caps JSON request bodies; 0 means DefaultBodyLimit.
	// Artifact uploads are streamed and capped by UploadLimit.
	BodyLimit int64
	// UploadLimit caps one proxied artifact upload; 0 means
	// DefaultUploadLimit. A larger upload is refused whole (413).
	UploadLimit int64
	// StallTimeout ends a request whose body or response makes no progress
	// for that long (a stalled upload or download); 0 means
	// DefaultStallTimeout.
	StallTimeout time.Duration
	// Logger gets one line per request; nil means slog.Default().
	Logger *slog.Logger
	// ArtifactRoots are the local folders (absolute) the server may read
	// and write run artifacts in: the destination, a local default
	// artifact root, --allowed-artifact-roots. A run whose artifact URI is
	// a local path elsewhere gets 403 PERMISSION_DENIED.
	ArtifactRoots []string
	// S3Roots are the s3://bucket/prefix locations the server may read
	// and write run artifacts in (an S3 default artifact root, S3
	// --allowed-artifact-roots); it reaches them with MLflow's S3
	// environment (artifact/s3). A run stored elsewhere in S3 gets 403.
	S3Roots []string
	// Token, when set, is the one credential the server accepts: every
	// request but /health must carry "Authorization: Bearer <Token>"
	// (MLflow's clients send MLFLOW_TRACKING_TOKEN so). The loopback
	// server of a run uses it; others get 401.
	Token string
	// Auth, when set, turns on MLflow's basic-auth app: HTTP Basic on
	// every route but /health and /static, the permission table of
	// authRules, and the user and permission endpoints.
	Auth *AuthOptions
	// Registry is the model registry; nil means the tracking store's, when
	// it is one (SQLite keeps both in one database).
	Registry registry.Store
	// ArtifactsOnly serves the artifact proxy, /health and /version and
	// nothing else (mlflow server --artifacts-only): every other route
	// answers 503 in plain text, as MLflow's does, and the store may be
	// nil.
	ArtifactsOnly bool
	// Metrics, when set, counts and times every request and serves them
	// on GET /metrics (mlflow server --expose-prometheus).
	Metrics *Metrics
	// StaticPrefix (mlflow server --static-prefix, e.g. "/mlflow": a
	// leading "/", no trailing one) moves everything but the REST API
	// under it, as MLflow does: /ajax-api, the UI, /static, /health,
	// /version, /get-artifact and /model-versions/get-artifact answer only
	// below the prefix; /api/... (the artifact proxy too) and /metrics
	// stay where they are. A bare GET / redirects to the prefix, so the
	// links MLflow's clients print (http://host/#/experiments/…) still land.
	StaticPrefix string
	// Guard is MLflow's security middleware (Host validation, cross-site
	// writes refused, CORS and security headers: see Security), applied
	// before anything else; nil means none (a run's loopback server,
	// whose one credential a browser cannot forge).
	Guard *Guard
	// Webhooks delivers the registry's events to the webhooks its registry
	// keeps (registry.Webhooks); nil means none are delivered (the
	// webhook API still keeps them, and a test delivery is still sent).
	Webhooks *webhook.Deliverer
}

// Server is the tracking server's HTTP handler.
type Server struct {
	store     store.Store // timed when Options.Metrics is set
	raw       store.Store // the store as given: capabilities are asserted on it
	opts      Options
	mux       *http.ServeMux
	ui        *ui.Handler
	resolver  *artifact.Resolver
	patterns  []string // every pattern registered on mux
	authCache authCache
}

// New returns the handler serving st.
func New(st store.Store, opts Options) *Server {
	if opts.BodyLimit == 0 {
		opts.BodyLimit = DefaultBodyLimit
	}
	if opts.UploadLimit == 0 {
		opts.UploadLimit = DefaultUploadLimit
	}
	if opts.StallTimeout == 0 {
		opts.StallTimeout = DefaultStallTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Registry == nil {
		opts.Registry, _ = st.(registry.Store)
	}
	s := &Server{store: st, raw: st, opts: opts, mux: http.NewServeMux()}
	if opts.Metrics != nil && st != nil {
		s.store = opts.Metrics.timeStore(st)
	}
	s.resolver = s.newResolver()
	s.routes()
	return s
}

type endpoint struct {
	methods []string
	path    string // below /mlflow
	h       http.HandlerFunc
}

func (s *Server) routes() {
	eps := []endpoint{
		{[]string{"POST"}, "/experiments/create", s.createExperiment},
		{[]string{"GET"}, "/experiments/get", s.getExperiment},
		{[]string{"GET"}, "/experiments/get-by-name", s.getExperimentByName},
		{[]string{"POST", "GET"}, "/experiments/search", s.searchExperiments},
		{[]string{"GET"}, "/experiments/list", s.searchExperiments},
		{[]string{"POST"}, "/experiments/update", s.updateExperiment},
		{[]string{"POST"}, "/experiments/delete", s.deleteExperiment},
		{[]string{"POST"}, "/experiments/restore", s.restoreExperiment},
		{[]string{"POST"}, "/experiments/set-experiment-tag", s.setExperimentTag},
		{[]string{"POST"}, "/experiments/delete-experiment-tag", s.deleteExperimentTag},
		{[]string{"POST"}, "/runs/create", s.createRun},
		{[]string{"POST"}, "/runs/update", s.updateRun},
		{[]string{"POST"}, "/runs/delete", s.deleteRun},
		{[]string{"POST"}, "/runs/restore", s.restoreRun},
		{[]string{"GET"}, "/runs/get", s.getRun},
		{[]string{"POST", "GET"}, "/runs/search", s.searchRuns},
		{[]string{"POST"}, "/runs/log-metric", s.logMetric},
		{[]string{"POST"}, "/runs/log-parameter", s.logParam},
		{[]string{"POST"}, "/runs/set-tag", s.setTag},
		{[]string{"POST"}, "/runs/delete-tag", s.deleteTag},
		{[]string{"POST"}, "/runs/log-batch", s.logBatch},
		{[]string{"POST"}, "/runs/log-model", s.logModel},
		{[]string{"POST"}, "/runs/log-inputs", s.logInputs},
		{[]string{"GET"}, "/metrics/get-history", s.getMetricHistory},
		{[]string{"GET"}, "/metrics/get-history-bulk-interval", s.getMetricHistoryBulkInterval},
		{[]string{"GET"}, "/artifacts/list", s.listArtifacts},
	}
	for _, prefix := range []string{"/api/2.0/mlflow", "/ajax-api/2.0/mlflow", "/api/2.0/preview/mlflow"} {
		s.registryRoutes(prefix)
	}
	for _, prefix := range []string{"/api/2.0/mlflow", "/ajax-api/2.0/mlflow"} {
		for _, ep := range eps {
			h := s.limitBody(ep.h)
			for _, m := range ep.methods {
				s.route(m+" "+prefix+ep.path, h)
			}
		}
	}
	s.route("GET /ajax-api/2.0/mlflow/metrics/get-history-bulk", s.getMetricHistoryBulk)
	s.route("POST /ajax-api/2.0/mlflow/experiments/search-datasets", s.limitBody(s.searchDatasets))
	for _, prefix := range []string{"/api/2.0/mlflow", "/ajax-api/2.0/mlflow"} {
		s.loggedModelRoutes(prefix)
		s.traceRoutes(prefix)
		s.webhookRoutes(prefix)
	}
	for _, prefix := range []string{"/api/3.0/mlflow", "/ajax-api/3.0/mlflow"} {
		s.traceV3Routes(prefix)
		s.assessmentRoutes(prefix)
		s.scorerRoutes(prefix)
		s.datasetRoutes(prefix)
	}
	s.route("GET /health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("OK"))
	})
	s.route("GET /version", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte(Version))
	})
	if s.opts.Metrics != nil {
		if s.raw != nil {
			s.opts.Metrics.watchOpenRuns(s.raw)
			s.opts.Metrics.watchWrites(s.raw)
		}
		s.route("GET /metrics", s.opts.Metrics.handler().ServeHTTP)
	}
	s.route("GET /get-artifact", s.getRunArtifact)
	s.route("GET /model-versions/get-artifact", s.getVersionArtifact)
	s.route("GET /ajax-api/2.0/mlflow/get-trace-artifact", s.getTraceArtifact)
	frame := ""
	if s.opts.Guard != nil {
		frame = s.opts.Guard.uiFrame
	}
	s.ui = ui.New(ui.Options{Store: s.raw, Registry: s.opts.Registry, RunArtifacts: s.runRepo, Logger: s.opts.Logger, Prefix: s.opts.StaticPrefix, FrameOptions: frame,
		Allowed: func(r *http.Request, model bool, id string) bool {
			return s.canRead(r.Context(), target{model: model, id: id})
		}})
	s.mux.Handle("/", s.ui)
	if s.opts.Auth != nil {
		s.authRoutes()
	}
	s.route("POST /ajax-api/2.0/mlflow/upload-artifact", s.uploadRunArtifact)
	s.route("POST /v1/traces", s.otlpTraces)
}

// route registers a handler on the mux and remembers its pattern.
func (s *Server) route(pattern string, h http.HandlerFunc) {
	s.patterns = append(s.patterns, pattern)
	s.mux.HandleFunc(pattern, h)
}

// Routes lists every route the server serves, as routeKey names them:
// the mux's patterns (API prefix dropped), the artifact proxy's and the
// UI's (prefixed "UI ").
func (s *Server) Routes() []string {
	var out []string
	for _, p := range s.patterns {
		out = append(out, normalizePattern(p))
	}
	for _, m := range []string{"GET", "PUT", "DELETE"} {
		out = append(out, m+" "+artifactsPrefix+"/{path...}")
	}
	out = append(out, "GET "+artifactsPrefix, "POST "+mpuPrefix+"{path...}")
	for _, p := range s.ui.Patterns() {
		out = append(out, "UI "+p)
	}
	return out
}

func (s *Server) limitBody(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.BodyLimit)
		h(w, r)
	}
}

// HTTPServer returns the http.Server mlrun serves h with: headers must
// arrive within 30 s, an idle keep-alive connection is closed after two
// minutes. Bodies are not cut by a whole-request timeout: a Server ends a
// body or response that stalls (Options.StallTimeout) instead.
func HTTPServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 1 << 20}
}

// ForRun returns the handler of a run's loopback server (mlrun run): st,
// with artifacts proxied from root ("" for none), run artifacts read and
// written only under roots and root, only requests that carry token, and
// no request log.
func ForRun(st store.Store, root string, roots []string, token string) http.Handler {
	opts := Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), ArtifactRoots: roots, Token: token}
	if root != "" {
		opts.Artifacts = local.New(root)
		opts.ArtifactRoots = append(opts.ArtifactRoots, root)
	}
	return New(st, opts)
}

// dispatch sends a request to the artifact proxy or the mux.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.EscapedPath(); strings.HasPrefix(p, artifactsPrefix+"/") || p == artifactsPrefix || strings.HasPrefix(p, mpuPrefix) {
		s.serveArtifacts(w, r)
		return
	}
	if s.opts.ArtifactsOnly && r.URL.Path != "/health" && r.URL.Path != "/version" && r.URL.Path != "/metrics" {
		http.Error(w, "Endpoint: "+r.URL.Path+" disabled due to the mlflow server running in `--artifacts-only` mode. "+
			"To enable tracking server functionality, run `mlflow server` without `--artifacts-only`", http.StatusServiceUnavailable)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// tokenOK reports whether r carries the server's token (or asks for
// /health).
func (s *Server) tokenOK(r *http.Request) bool {
	if r.URL.Path == "/health" {
		return true
	}
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return strings.EqualFold(scheme, "Bearer") && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.opts.Token)) == 1
}

// ServeHTTP serves a request and logs one line for it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK, rc: http.NewResponseController(w), stall: s.opts.StallTimeout}
	r.Body = &stallReader{ReadCloser: r.Body, rc: sw.rc, stall: s.opts.StallTimeout}
	sw.rc.SetWriteDeadline(time.Now().Add(s.opts.StallTimeout))
	logged := r
	defer s.recoverPanic(sw, logged, start)
	if s.opts.Guard != nil {
		if ok, why := s.opts.Guard.admit(sw, r, s.opts.StaticPrefix); !ok {
			// Refused, or a CORS preflight answered.
			if why != "" {
				s.opts.Logger.Warn("request refused: "+why, "method", r.Method, "path", r.URL.Path, "host", r.Host, "origin", r.Header.Get("Origin"))
			}
			s.logRequest(logged, sw, start)
			return
		}
	}
	if s.opts.StaticPrefix != "" {
		var ok bool
		if r, ok = s.unprefix(sw, r); !ok {
			s.logRequest(logged, sw, start)
			return
		}
	}
	switch {
	case s.opts.Token != "" && !s.tokenOK(r):
		sw.Header().Set("WWW-Authenticate", `Bearer realm="mlrun"`)
		writeJSON(sw, http.StatusUnauthorized, wire.ErrorBody{ErrorCode: "UNAUTHENTICATED",
			Message: "this server accepts only its run's token: send it as 'Authorization: Bearer <MLFLOW_TRACKING_TOKEN>'"})
	case s.opts.Auth != nil:
		s.serveAuth(sw, r)
	default:
		s.dispatch(sw, r)
	}
	if s.opts.Metrics != nil {
		s.opts.Metrics.observe(r, routeLabel(r), sw.status, time.Since(start))
	}
	if r.URL.Path == "/health" {
		return
	}
	s.logRequest(logged, sw, start)
}

// recoverPanic, deferred by ServeHTTP, answers a request whose handler
// panicked (a bug): MLflow's INTERNAL_ERROR when nothing of the answer
// was sent, else the connection is cut so that the client cannot take
// part of an answer for the whole. The panic is logged as one record,
// its stack among its attributes.
func (s *Server) recoverPanic(sw *statusWriter, r *http.Request, start time.Time) {
	p := recover()
	if p == nil {
		return
	}
	if p == http.ErrAbortHandler {
		panic(p)
	}
	s.opts.Logger.Error("panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	if sw.wrote {
		panic(http.ErrAbortHandler)
	}
	writeJSON(sw, http.StatusInternalServerError, wire.ErrorBody{ErrorCode: codeInternal, Message: "internal error: see the server log"})
	if s.opts.Metrics != nil {
		s.opts.Metrics.observe(r, routeLabel(r), sw.status, time.Since(start))
	}
	s.logRequest(r, sw, start)
}

// logRequest writes a request's log line (its path as the client sent it).
func (s *Server) logRequest(r *http.Request, sw *statusWriter, start time.Time) {
	s.opts.Logger.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
		"bytes", sw.n, "ms", time.Since(start).Milliseconds())
}

// unprefix maps a request under --static-prefix to the route it names:
// the REST API (/api/...), /metrics and OTLP's /v1/traces as they are, a path below the
// prefix with the prefix cut, a bare GET / to a redirect to the prefix.
// Anything else (the UI or /ajax-api without the prefix, /api below it)
// is not served: 404, as MLflow's routes do not exist there. It returns
// false when it has answered.
func (s *Server) unprefix(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	p, path := s.opts.StaticPrefix, r.URL.Path
	if strings.HasPrefix(path, "/api/") || (path == "/metrics" && s.opts.Metrics != nil) || path == "/v1/traces" {
		return r, true
	}
	if path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		http.Redirect(w, r, p+"/", http.StatusFound)
		return nil, false
	}
	rest, ok := strings.CutPrefix(path, p)
	if !ok || (rest != "" && rest[0] != '/') || strings.HasPrefix(rest, "/api/") {
		http.NotFound(w, r)
		return nil, false
	}
	if rest == "" {
		rest = "/"
	}
	r2 := new(http.Request)
	*r2 = *r
	r2.URL = new(url.URL)
	*r2.URL = *r.URL
	r2.URL.Path = rest
	r2.URL.RawPath = ""
	if raw, ok := strings.CutPrefix(r.URL.RawPath, p); ok {
		r2.URL.RawPath = raw
	}
	return r2, true
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool // the status line was sent
	n      int64
	rc     *http.ResponseController
	stall  time.Duration
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	// Each write may take up to stall: a client that stops reading a
	// download does not hold the goroutine forever, a slow one still
	// gets the whole file. (Recorders in tests do not support it.)
	w.rc.SetWriteDeadline(time.Now().Add(w.stall))
	w.wrote = true
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// stallReader gives every read of a request body its own deadline, so an
// upload that stops sending ends after the stall timeout while a long,
// steady one is never cut.
type stallReader struct {
	io.ReadCloser
	rc    *http.ResponseController
	stall time.Duration
}

func (r *stallReader) Read(p []byte) (int, error) {
	r.rc.SetReadDeadline(time.Now().Add(r.stall))
	return r.ReadCloser.Read(p)
}
