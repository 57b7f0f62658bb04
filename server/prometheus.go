package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mlrun/mlrun/store"
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

// openRunsTTL is how long a count of open runs is reused: a scrape every
// few seconds must not page through every experiment each time.
const openRunsTTL = 15 * time.Second

// watchOpenRuns adds the gauge mlrun_open_runs: the RUNNING runs of st in
// active experiments, counted at most every openRunsTTL.
func (m *Metrics) watchOpenRuns(st store.Store) {
	var mu sync.Mutex
	var last time.Time
	var n float64
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "mlrun_open_runs",
		Help: "RUNNING runs in active experiments (counted at most every 15 s); -1 if they could not be counted.",
	}, func() float64 {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(last) < openRunsTTL {
			return n
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := countOpenRuns(ctx, st)
		if err != nil {
			return -1
		}
		n, last = float64(c), time.Now()
		return n
	}))
}

// countOpenRuns pages through the active experiments and their RUNNING
// runs.
func countOpenRuns(ctx context.Context, st store.Store) (int, error) {
	var ids []string
	for tok := ""; ; {
		es, next, err := st.SearchExperiments(ctx, store.SearchExperiments{MaxResults: 1000, PageToken: tok})
		if err != nil {
			return 0, err
		}
		for _, e := range es {
			ids = append(ids, e.ID)
		}
		if tok = next; tok == "" {
			break
		}
	}
	n := 0
	for start := 0; start < len(ids); start += 100 {
		batch := ids[start:min(start+100, len(ids))]
		for tok := ""; ; {
			runs, next, err := st.SearchRuns(ctx, store.SearchRuns{ExperimentIDs: batch, MaxResults: 1000, PageToken: tok,
				Filter: "attributes.status = 'RUNNING'"})
			if err != nil {
				return 0, err
			}
			n += len(runs)
			if tok = next; tok == "" {
				break
			}
		}
	}
	return n, nil
}
