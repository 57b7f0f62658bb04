package server

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the Prometheus metrics of mlrun server --expose-prometheus,
// named as MLflow's exporter (prometheus_flask_exporter with the prefix
// "mlflow") names them, so dashboards built for mlflow server keep
// working; the route label is the route's pattern, not the raw path, so
// run ids do not each make a series.
type Metrics struct {
	reg      *prometheus.Registry
	duration *prometheus.HistogramVec
	total    *prometheus.CounterVec
}

// NewMetrics returns the metrics of one server, with Go's process and
// runtime collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mlflow_http_request_duration_seconds",
			Help: "Time the server took to answer a request, by method, route and status.",
		}, []string{"method", "route", "status"}),
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mlflow_http_request_total",
			Help: "Requests answered, by method and status.",
		}, []string{"method", "status"}),
	}
	m.reg.MustRegister(m.duration, m.total, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe records one answered request. /health and /version are left
// out, as MLflow's exporter leaves them out.
func (m *Metrics) observe(r *http.Request, route string, status int, d time.Duration) {
	if r.URL.Path == "/health" || r.URL.Path == "/version" {
		return
	}
	code := strconv.Itoa(status)
	m.duration.WithLabelValues(r.Method, route, code).Observe(d.Seconds())
	m.total.WithLabelValues(r.Method, code).Inc()
}

// handler serves the metrics in Prometheus' text format.
func (m *Metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// routeLabel names the route a request took: its mux pattern without the
// method, the artifact proxy's prefix, else "other" (the UI's pages and
// unknown paths), keeping the number of series bounded.
func routeLabel(r *http.Request) string {
	if r.Pattern != "" {
		_, path, _ := strings.Cut(r.Pattern, " ")
		return path
	}
	if p := r.URL.Path; strings.HasPrefix(p, artifactsPrefix) {
		return artifactsPrefix
	} else if strings.HasPrefix(p, mpuPrefix) {
		return mpuPrefix
	}
	return "other"
}
