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
	"github.com/mlrun/mlrun/store/sqlstore"
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

// watchWrites adds the counters mlrun_store_writes_total,
// mlrun_store_commits_total, mlrun_store_merged_writes_total,
// mlrun_store_unchanged_writes_total, mlrun_store_write_seconds_total,
// mlrun_store_commit_seconds_total, mlrun_store_write_queue_seconds_total
// and mlrun_store_write_resume_seconds_total
// when st counts its write transactions (the SQL stores): on SQLite,
// writes per commit is how much group commit saves, the rate of the
// write seconds how busy the one writer is, and the queue and resume
// seconds per write where else a write's time goes. On SQLite it adds
// mlrun_sqlite_wal_pages_total too: pages per commit, what the commits
// cost the disk.
func (m *Metrics) watchWrites(st store.Store) {
	wc, ok := st.(interface{ WriteStats() sqlstore.WriteStats })
	if !ok {
		return
	}
	for _, c := range []struct {
		name, help string
		value      func(sqlstore.WriteStats) float64
	}{
		{"mlrun_store_writes_total", "Write calls made to the tracking store that went to a write transaction.",
			func(s sqlstore.WriteStats) float64 { return float64(s.Writes) }},
		{"mlrun_store_unchanged_writes_total", "Write calls that a read answered, having nothing to write: params logged again with the values they have.",
			func(s sqlstore.WriteStats) float64 { return float64(s.Unchanged) }},
		{"mlrun_store_commits_total", "Transactions that committed the store's writes (fewer than the writes when they were committed in groups).",
			func(s sqlstore.WriteStats) float64 { return float64(s.Commits) }},
		{"mlrun_store_merged_writes_total", "Writes committed merged with others of their group commit: a few statements for them all.",
			func(s sqlstore.WriteStats) float64 { return float64(s.Merged) }},
		{"mlrun_store_write_seconds_total", "Time spent in the store's write transactions, from BEGIN to the end of COMMIT, summed: on SQLite, whose one writer runs one at a time, its rate is the share of time the writer is busy (near 1, writes queue).",
			func(s sqlstore.WriteStats) float64 { return s.TxTime.Seconds() }},
		{"mlrun_store_commit_seconds_total", "Of the write transactions' time, the time spent committing (SQLite: writing the changed pages to the WAL and syncing it).",
			func(s sqlstore.WriteStats) float64 { return s.CommitTime.Seconds() }},
		{"mlrun_store_write_queue_seconds_total", "Time write calls waited in the queue for a group commit to take them, summed over them: per write, how long writes wait for the writer.",
			func(s sqlstore.WriteStats) float64 { return s.QueueTime.Seconds() }},
		{"mlrun_store_write_resume_seconds_total", "Time from a group's commit to its write calls' requests running again, summed over the writes another goroutine answered (on SQLite, all): the wait for a CPU of requests whose answers are ready.",
			func(s sqlstore.WriteStats) float64 { return s.ResumeTime.Seconds() }},
	} {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: c.name, Help: c.help},
			func() float64 { return c.value(wc.WriteStats()) }))
	}
	if wp, ok := st.(interface{ WALPages() int64 }); ok {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "mlrun_sqlite_wal_pages_total",
			Help: "Pages the SQLite store's commits wrote to its WAL (each page a commit changed, once): per commit, what a group of writes costs the disk."},
			func() float64 { return float64(wp.WALPages()) }))
	}
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

// timedStore times every call of the tracking contract into
// mlrun_store_call_duration_seconds{op}. The server asserts capabilities
// (traces, logged models, …) on the store it was given, never on this.
type timedStore struct {
	store.Store
	h *prometheus.HistogramVec
}

func (m *Metrics) timeStore(st store.Store) store.Store {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "mlrun_store_call_duration_seconds",
		Help:    "Time a call of the tracking store took, by operation.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
	}, []string{"op"})
	m.reg.MustRegister(h)
	return timedStore{Store: st, h: h}
}

// timeStream records a store call that the server streams (a search page,
// a metric history) under op, from start to now: the store is called
// on the raw store then, past the timed one, and the time includes
// writing the response.
func (s *Server) timeStream(op string, start time.Time) {
	if t, ok := s.store.(timedStore); ok {
		t.since(op, start)
	}
}

func (t timedStore) since(op string, start time.Time) {
	t.h.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

func (t timedStore) CreateExperiment(ctx context.Context, name, loc string, tags []store.Tag) (string, error) {
	defer t.since("CreateExperiment", time.Now())
	return t.Store.CreateExperiment(ctx, name, loc, tags)
}

func (t timedStore) GetExperiment(ctx context.Context, id string) (*store.Experiment, error) {
	defer t.since("GetExperiment", time.Now())
	return t.Store.GetExperiment(ctx, id)
}

func (t timedStore) GetExperimentByName(ctx context.Context, name string) (*store.Experiment, error) {
	defer t.since("GetExperimentByName", time.Now())
	return t.Store.GetExperimentByName(ctx, name)
}

func (t timedStore) SearchExperiments(ctx context.Context, q store.SearchExperiments) ([]*store.Experiment, string, error) {
	defer t.since("SearchExperiments", time.Now())
	return t.Store.SearchExperiments(ctx, q)
}

func (t timedStore) RenameExperiment(ctx context.Context, id, name string) error {
	defer t.since("RenameExperiment", time.Now())
	return t.Store.RenameExperiment(ctx, id, name)
}

func (t timedStore) DeleteExperiment(ctx context.Context, id string) error {
	defer t.since("DeleteExperiment", time.Now())
	return t.Store.DeleteExperiment(ctx, id)
}

func (t timedStore) RestoreExperiment(ctx context.Context, id string) error {
	defer t.since("RestoreExperiment", time.Now())
	return t.Store.RestoreExperiment(ctx, id)
}

func (t timedStore) SetExperimentTag(ctx context.Context, id string, tag store.Tag) error {
	defer t.since("SetExperimentTag", time.Now())
	return t.Store.SetExperimentTag(ctx, id, tag)
}

func (t timedStore) DeleteExperimentTag(ctx context.Context, id, key string) error {
	defer t.since("DeleteExperimentTag", time.Now())
	return t.Store.DeleteExperimentTag(ctx, id, key)
}

func (t timedStore) CreateRun(ctx context.Context, req store.CreateRun) (*store.Run, error) {
	defer t.since("CreateRun", time.Now())
	return t.Store.CreateRun(ctx, req)
}

func (t timedStore) GetRun(ctx context.Context, id string) (*store.Run, error) {
	defer t.since("GetRun", time.Now())
	return t.Store.GetRun(ctx, id)
}

func (t timedStore) UpdateRun(ctx context.Context, id string, req store.UpdateRun) (*store.RunInfo, error) {
	defer t.since("UpdateRun", time.Now())
	return t.Store.UpdateRun(ctx, id, req)
}

func (t timedStore) DeleteRun(ctx context.Context, id string) error {
	defer t.since("DeleteRun", time.Now())
	return t.Store.DeleteRun(ctx, id)
}

func (t timedStore) RestoreRun(ctx context.Context, id string) error {
	defer t.since("RestoreRun", time.Now())
	return t.Store.RestoreRun(ctx, id)
}

func (t timedStore) SearchRuns(ctx context.Context, q store.SearchRuns) ([]*store.Run, string, error) {
	defer t.since("SearchRuns", time.Now())
	return t.Store.SearchRuns(ctx, q)
}

func (t timedStore) LogMetric(ctx context.Context, id string, m store.Metric) error {
	defer t.since("LogMetric", time.Now())
	return t.Store.LogMetric(ctx, id, m)
}

func (t timedStore) LogParam(ctx context.Context, id string, p store.Param) error {
	defer t.since("LogParam", time.Now())
	return t.Store.LogParam(ctx, id, p)
}

func (t timedStore) SetTag(ctx context.Context, id string, tag store.Tag) error {
	defer t.since("SetTag", time.Now())
	return t.Store.SetTag(ctx, id, tag)
}

func (t timedStore) DeleteTag(ctx context.Context, id, key string) error {
	defer t.since("DeleteTag", time.Now())
	return t.Store.DeleteTag(ctx, id, key)
}

func (t timedStore) LogBatch(ctx context.Context, id string, ms []store.Metric, ps []store.Param, tags []store.Tag) error {
	defer t.since("LogBatch", time.Now())
	return t.Store.LogBatch(ctx, id, ms, ps, tags)
}

func (t timedStore) LogInputs(ctx context.Context, id string, in []store.DatasetInput) error {
	defer t.since("LogInputs", time.Now())
	return t.Store.LogInputs(ctx, id, in)
}

func (t timedStore) LogModel(ctx context.Context, id, modelJSON string) error {
	defer t.since("LogModel", time.Now())
	return t.Store.LogModel(ctx, id, modelJSON)
}

func (t timedStore) GetMetricHistory(ctx context.Context, id, key string, max int, tok string) ([]store.Metric, string, error) {
	defer t.since("GetMetricHistory", time.Now())
	return t.Store.GetMetricHistory(ctx, id, key, max, tok)
}
