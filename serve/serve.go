// Package serve is MLflow's model scoring protocol (what `mlflow models
// serve` answers): GET /ping, /health and /version, POST /invocations with
// dataframe_split, dataframe_records, instances or inputs JSON bodies, or
// CSV; answers {"predictions": …} as MLflow writes them; errors as MLflow's
// JSON with its status codes; the model's signature enforced. A Predictor
// computes the predictions; xgboost boosters are predicted in Go
// (NewXGBoost). `mlrun models serve` and `mlrun models predict` use it.
package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Predictor computes a model's predictions for a frame that passed the
// signature. The result is written as MLflow writes numpy, lists, dicts
// and scalars (Encode).
type Predictor interface {
	Predict(ctx context.Context, in *Frame, params map[string]any) (any, error)
}

// Error is a scoring error: MLflow's error code and message.
type Error struct {
	Code    string // BAD_REQUEST or INVALID_PARAMETER_VALUE
	Message string
}

func (e *Error) Error() string { return e.Message }

func badRequest(format string, args ...any) error {
	return &Error{"BAD_REQUEST", fmt.Sprintf(format, args...)}
}

func invalidParam(format string, args ...any) error {
	return &Error{"INVALID_PARAMETER_VALUE", fmt.Sprintf(format, args...)}
}

// Options configure a Handler.
type Options struct {
	// Version is what GET /version answers.
	Version string
	// MaxBody bounds a request body in bytes (0: 100 MiB, what MLflow's
	// container lets through its nginx).
	MaxBody int64
	// Metrics, when set, gets the Prometheus metrics and serves them on
	// GET /metrics.
	Metrics *prometheus.Registry
	// Timeout bounds a scoring request's prediction (0: none); past it
	// the answer is 504, as MLflow 3's server answers.
	Timeout time.Duration
}

// Handler serves a model over MLflow's scoring protocol.
type Handler struct {
	model    *Model
	opts     Options
	mux      *http.ServeMux
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewHandler returns the scoring protocol's handler of m.
func NewHandler(m *Model, opts Options) *Handler {
	if opts.MaxBody == 0 {
		opts.MaxBody = 100 << 20
	}
	h := &Handler{model: m, opts: opts, mux: http.NewServeMux()}
	ping := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("\n"))
	}
	h.mux.HandleFunc("GET /ping", ping)
	h.mux.HandleFunc("GET /health", ping)
	h.mux.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(opts.Version))
	})
	h.mux.HandleFunc("POST /invocations", h.invocations)
	if opts.Metrics != nil {
		h.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mlrun_serve_requests_total", Help: "Scoring requests answered, by path and status.",
		}, []string{"path", "status"})
		h.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mlrun_serve_request_duration_seconds", Help: "Time to answer a scoring request, by path.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"path"})
		opts.Metrics.MustRegister(h.requests, h.latency, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		h.mux.Handle("GET /metrics", promhttp.HandlerFor(opts.Metrics, promhttp.HandlerOpts{}))
	}
	return h
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.requests == nil || r.URL.Path == "/metrics" {
		h.mux.ServeHTTP(w, r)
		return
	}
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	h.mux.ServeHTTP(sw, r)
	path := r.URL.Path
	if path != "/invocations" && path != "/ping" && path != "/health" && path != "/version" {
		path = "other"
	}
	h.requests.WithLabelValues(path, strconv.Itoa(sw.status)).Inc()
	h.latency.WithLabelValues(path).Observe(time.Since(start).Seconds())
}

func (h *Handler) invocations(w http.ResponseWriter, r *http.Request) {
	ct := r.Header.Get("Content-Type")
	kind, err := contentKind(ct)
	if err != nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusUnsupportedMediaType)
		io.WriteString(w, err.Error())
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, badRequest("The request body is larger than the limit of %d bytes.", mbe.Limit))
			return
		}
		writeError(w, http.StatusBadRequest, badRequest("Could not read the request body: %v", err))
		return
	}
	ctx := r.Context()
	if h.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.opts.Timeout)
		defer cancel()
	}
	out, err := h.model.Score(ctx, kind, body)
	if errors.Is(err, context.DeadlineExceeded) || (err == nil && errors.Is(ctx.Err(), context.DeadlineExceeded)) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusGatewayTimeout)
		io.WriteString(w, "Request processing time exceeded limit")
		return
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(out)
}

// contentKind checks a Content-Type as MLflow's server does: json or csv,
// only a utf-8 charset parameter.
func contentKind(ct string) (string, error) {
	parts := strings.Split(ct, ";")
	kind := strings.TrimSpace(parts[0])
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		k = strings.TrimSpace(k)
		if k == "charset" {
			if !strings.EqualFold(strings.Trim(strings.TrimSpace(v), `"`), "utf-8") {
				return "", errors.New("The scoring server only supports UTF-8")
			}
			continue
		}
		if k != "" {
			return "", fmt.Errorf("Unrecognized content type parameters: %s. IMPORTANT: The MLflow Model scoring protocol has changed in MLflow version 2.0. If you are seeing this error, you are likely using an outdated scoring request format.", k)
		}
	}
	switch kind {
	case "application/json":
		return "json", nil
	case "text/csv":
		return "csv", nil
	}
	if _, _, err := mime.ParseMediaType(ct); ct == "" || err != nil {
		kind = ct
	}
	return "", fmt.Errorf("This predictor only supports the following content types: Types: ['text/csv', 'application/json']. Got '%s'.", kind)
}

// writeError writes MLflow's error JSON with status. An error that is not
// a scoring error (a bad request) is the server's own — a Python worker
// that died — and is answered 500 INTERNAL_ERROR.
func writeError(w http.ResponseWriter, status int, err error) {
	var se *Error
	if !errors.As(err, &se) {
		se, status = &Error{"INTERNAL_ERROR", "The model server failed to predict: " + err.Error()}, http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(struct {
		Code    string `json:"error_code"`
		Message string `json:"message"`
	}{se.Code, se.Message})
}
