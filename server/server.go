package server

import (
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/ui"
)

// Version is what /version answers: the MLflow release whose API mlrun
// speaks. MLflow clients compare it when choosing features.
const Version = "2.17.2"

// DefaultBodyLimit caps request bodies on the JSON API (MLflow documents
// 1 MB for log-batch; this leaves room for large dataset schemas).
const DefaultBodyLimit = 16 << 20

// Options configure a Server.
type Options struct {
	// Artifacts is the proxied artifact destination, or nil when the
	// server does not serve artifacts (--no-serve-artifacts).
	Artifacts artifact.Repository
	// BodyLimit caps JSON request bodies; 0 means DefaultBodyLimit.
	// Artifact uploads are streamed and not capped.
	BodyLimit int64
	// Logger gets one line per request; nil means slog.Default().
	Logger *slog.Logger
	// ArtifactRoots are the local folders (absolute) the server may read
	// and write run artifacts in: the destination, a local default
	// artifact root, --allowed-artifact-roots. A run whose artifact URI is
	// a local path elsewhere gets 403 PERMISSION_DENIED.
	ArtifactRoots []string
	// Token, when set, is the one credential the server accepts: every
	// request but /health must carry "Authorization: Bearer <Token>"
	// (MLflow's clients send MLFLOW_TRACKING_TOKEN so). The loopback
	// server of a run uses it; others get 401.
	Token string
	// Registry is the model registry; nil means the tracking store's, when
	// it is one (SQLite keeps both in one database).
	Registry registry.Store
}

// Server is the tracking server's HTTP handler.
type Server struct {
	store    store.Store
	opts     Options
	mux      *http.ServeMux
	resolver *artifact.Resolver
}

// New returns the handler serving st.
func New(st store.Store, opts Options) *Server {
	if opts.BodyLimit == 0 {
		opts.BodyLimit = DefaultBodyLimit
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Registry == nil {
		opts.Registry, _ = st.(registry.Store)
	}
	s := &Server{store: st, opts: opts, mux: http.NewServeMux()}
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
				s.mux.HandleFunc(m+" "+prefix+ep.path, h)
			}
		}
	}
	s.mux.HandleFunc("GET /ajax-api/2.0/mlflow/metrics/get-history-bulk", s.getMetricHistoryBulk)
	s.mux.HandleFunc("POST /ajax-api/2.0/mlflow/experiments/search-datasets", s.limitBody(s.searchDatasets))
	for _, prefix := range []string{"/api/2.0/mlflow", "/ajax-api/2.0/mlflow"} {
		s.loggedModelRoutes(prefix)
	}
	s.mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("OK"))
	})
	s.mux.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte(Version))
	})
	s.mux.HandleFunc("GET /get-artifact", s.getRunArtifact)
	s.mux.Handle("/", ui.New(ui.Options{Store: s.store, Registry: s.opts.Registry, RunArtifacts: s.runRepo, Logger: s.opts.Logger}))
	s.mux.HandleFunc("POST /ajax-api/2.0/mlflow/upload-artifact", s.uploadRunArtifact)
}

func (s *Server) limitBody(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.BodyLimit)
		h(w, r)
	}
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
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	if s.opts.Token != "" && !s.tokenOK(r) {
		sw.Header().Set("WWW-Authenticate", `Bearer realm="mlrun"`)
		writeJSON(sw, http.StatusUnauthorized, wire.ErrorBody{ErrorCode: "UNAUTHENTICATED",
			Message: "this server accepts only its run's token: send it as 'Authorization: Bearer <MLFLOW_TRACKING_TOKEN>'"})
	} else if p := r.URL.EscapedPath(); strings.HasPrefix(p, artifactsPrefix+"/") || p == artifactsPrefix || strings.HasPrefix(p, mpuPrefix) {
		s.serveArtifacts(sw, r)
	} else {
		s.mux.ServeHTTP(sw, r)
	}
	path := r.URL.Path
	if strings.HasPrefix(path, "/health") {
		return
	}
	s.opts.Logger.Info("request", "method", r.Method, "path", path, "status", sw.status,
		"bytes", sw.n, "ms", time.Since(start).Milliseconds())
}

type statusWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
