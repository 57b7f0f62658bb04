// Package load is a set of load workloads for any MLflow-compatible
// tracking server (MLflow's REST API through store/rest): create-run,
// log-batch of 10 and 500 metrics, log-param, a log-batch of 10 params,
// search-runs returning 500 runs with their data, get-history of 5,000
// points. internal/loadgen drives them from the command line, server's
// BenchmarkServerLoad from go test.
package load

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/rest"
)

// Env is what Setup made on the server.
type Env struct {
	ExperimentID string // 500 runs with params, metrics and tags
	HistoryRunID string // a run with 5,000 points of "loss"
	// WriteExperimentID takes the runs the write workloads create, so
	// that the read workloads' experiment stays as it is.
	WriteExperimentID string
}

// Setup creates an experiment of 500 runs, a run with a 5,000-point
// history and an experiment for the write workloads through the API.
func Setup(ctx context.Context, c *rest.Store) (Env, error) {
	var env Env
	stamp := time.Now().UnixNano()
	id, err := c.CreateExperiment(ctx, fmt.Sprintf("load-%d", stamp), "", nil)
	if err != nil {
		return env, fmt.Errorf("create the experiment: %w", err)
	}
	env.ExperimentID = id
	if env.WriteExperimentID, err = c.CreateExperiment(ctx, fmt.Sprintf("load-writes-%d", stamp), "", nil); err != nil {
		return env, fmt.Errorf("create the experiment: %w", err)
	}
	for i := 0; i < 500; i++ {
		r, err := c.CreateRun(ctx, store.CreateRun{ExperimentID: id, StartTime: int64(i)})
		if err != nil {
			return env, err
		}
		err = c.LogBatch(ctx, r.Info.RunID, []store.Metric{{Key: "rmse", Value: float64(i), Timestamp: 1}, {Key: "r2", Value: 0.5, Timestamp: 1}},
			[]store.Param{{Key: "alpha", Value: fmt.Sprint(i)}, {Key: "l1", Value: "0.1"}}, []store.Tag{{Key: "team", Value: "ml"}})
		if err != nil {
			return env, err
		}
	}
	hist, err := c.CreateRun(ctx, store.CreateRun{ExperimentID: id})
	if err != nil {
		return env, err
	}
	env.HistoryRunID = hist.Info.RunID
	for i := 0; i < 5; i++ {
		ms := make([]store.Metric, 1000)
		for j := range ms {
			ms[j] = store.Metric{Key: "loss", Value: float64(j), Timestamp: int64(i*1000 + j), Step: int64(i*1000 + j)}
		}
		if err := c.LogBatch(ctx, hist.Info.RunID, ms, nil, nil); err != nil {
			return env, err
		}
	}
	return env, nil
}

// Workload is one kind of request; Op makes the i-th request of a client
// whose own run is run.
type Workload struct {
	Name string
	Op   func(ctx context.Context, c *rest.Store, env Env, run string, i int) error
}

// Metrics are n metric points of step i (ten keys).
func Metrics(i, n int) []store.Metric {
	ms := make([]store.Metric, n)
	for j := range ms {
		ms[j] = store.Metric{Key: fmt.Sprint("m", j%10), Value: float64(j), Timestamp: int64(i), Step: int64(i*n + j)}
	}
	return ms
}

// Workloads are the load workloads, in the order they are run.
var Workloads = []Workload{
	{"create-run", func(ctx context.Context, c *rest.Store, env Env, _ string, _ int) error {
		_, err := c.CreateRun(ctx, store.CreateRun{ExperimentID: env.WriteExperimentID})
		return err
	}},
	{"log-batch-10", func(ctx context.Context, c *rest.Store, _ Env, run string, i int) error {
		return c.LogBatch(ctx, run, Metrics(i, 10), nil, nil)
	}},
	{"log-batch-500", func(ctx context.Context, c *rest.Store, _ Env, run string, i int) error {
		return c.LogBatch(ctx, run, Metrics(i, 500), nil, nil)
	}},
	{"log-param", func(ctx context.Context, c *rest.Store, _ Env, run string, i int) error {
		return c.LogParam(ctx, run, store.Param{Key: fmt.Sprint("p", i), Value: "v"})
	}},
	{"log-param-10", func(ctx context.Context, c *rest.Store, _ Env, run string, i int) error {
		ps := make([]store.Param, 10)
		for j := range ps {
			ps[j] = store.Param{Key: fmt.Sprint("q", i, "_", j), Value: "v"}
		}
		return c.LogBatch(ctx, run, nil, ps, nil)
	}},
	{"search-runs-500", func(ctx context.Context, c *rest.Store, env Env, _ string, _ int) error {
		runs, _, err := c.SearchRuns(ctx, store.SearchRuns{ExperimentIDs: []string{env.ExperimentID}, MaxResults: 1000})
		if err == nil && len(runs) < 500 {
			err = fmt.Errorf("%d runs", len(runs))
		}
		return err
	}},
	{"get-history-5000", func(ctx context.Context, c *rest.Store, env Env, _ string, _ int) error {
		h, _, err := c.GetMetricHistory(ctx, env.HistoryRunID, "loss", 0, "")
		if err == nil && len(h) != 5000 {
			err = fmt.Errorf("%d points", len(h))
		}
		return err
	}},
}

// Result is how a workload went.
type Result struct {
	Requests, Errors int64
	Elapsed          time.Duration
	FirstError       error
}

// PerSecond is the requests per second that succeeded.
func (r Result) PerSecond() float64 { return float64(r.Requests-r.Errors) / r.Elapsed.Seconds() }

// Drive runs w with `clients` concurrent clients for d, each on its own
// run in experiment env.WriteExperimentID, clients spread over urls.
func Drive(ctx context.Context, urls []string, clients int, d time.Duration, env Env, w Workload) (Result, error) {
	cs := make([]*rest.Store, clients)
	runs := make([]string, clients)
	for i := range cs {
		c, err := rest.Open(urls[i%len(urls)], rest.Options{})
		if err != nil {
			return Result{}, err
		}
		r, err := c.CreateRun(ctx, store.CreateRun{ExperimentID: env.WriteExperimentID})
		if err != nil {
			return Result{}, err
		}
		cs[i], runs[i] = c, r.Info.RunID
	}
	var reqs, errs atomic.Int64
	var first atomic.Value
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range cs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for n := 0; time.Now().Before(deadline) && ctx.Err() == nil; n++ {
				reqs.Add(1)
				if err := w.Op(ctx, cs[i], env, runs[i], n); err != nil {
					errs.Add(1)
					first.CompareAndSwap(nil, err)
				}
			}
		}(i)
	}
	wg.Wait()
	res := Result{Requests: reqs.Load(), Errors: errs.Load(), Elapsed: time.Since(start)}
	if e, ok := first.Load().(error); ok {
		res.FirstError = e
	}
	return res, nil
}
