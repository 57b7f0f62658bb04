// Package load is a set of load workloads for any MLflow-compatible
// tracking server (MLflow's REST API through store/rest): create-run,
// log-batch of 10 and 500 metrics, log-param, a log-batch of 10 new
// params, the same 10 params logged again, a trace's spans sent one
// request each to /v1/traces as MLflow 3.4+'s client sends them,
// search-runs returning 500 runs with their data, get-history of 5,000
// points. internal/loadgen
// drives them from the command line, server's BenchmarkServerLoad from
// go test.
package load

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	commonv1 "go.opentelemetry.io/proto/otlp/common/v1"
	tracev1 "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/mlrun/mlrun/internal/spans"
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

// Setup creates, through the API, an experiment for the write workloads
// and, when reads, what the read workloads read: an experiment of 500
// runs and a run with a 5,000-point history.
func Setup(ctx context.Context, c *rest.Store, reads bool) (Env, error) {
	var env Env
	stamp := time.Now().UnixNano()
	var err error
	if env.WriteExperimentID, err = c.CreateExperiment(ctx, fmt.Sprintf("load-writes-%d", stamp), "", nil); err != nil {
		return env, fmt.Errorf("create the experiment: %w", err)
	}
	if !reads {
		return env, nil
	}
	id, err := c.CreateExperiment(ctx, fmt.Sprintf("load-%d", stamp), "", nil)
	if err != nil {
		return env, fmt.Errorf("create the experiment: %w", err)
	}
	env.ExperimentID = id
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
	hist, err := c.CreateRun(ctx, store.CreateRun{ExperimentID: env.WriteExperimentID})
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
// whose own run is run. Reads says it reads what Setup makes when asked
// for reads.
type Workload struct {
	Name  string
	Op    func(ctx context.Context, c *Client, env Env, run string, i int) error
	Reads bool
}

// Client is one load client: MLflow's REST API through store/rest for
// requests, and plain HTTP for the large read responses, which it checks
// by counting a field's occurrences rather than decoding them, so that
// the load it measures is the server's, not its own JSON decoding.
type Client struct {
	*rest.Store
	url  string
	http *http.Client
}

// NewClient returns a client of the server at url.
func NewClient(url string) (*Client, error) {
	st, err := rest.Open(url, rest.Options{})
	if err != nil {
		return nil, err
	}
	return &Client{Store: st, url: strings.TrimRight(url, "/"), http: &http.Client{Timeout: time.Minute}}, nil
}

// read makes a request of the API (a JSON body for POST) and returns its
// answer; an answer other than 200 is an error.
func (c *Client) read(ctx context.Context, method, path string, body any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %d %.200s", method, path, resp.StatusCode, b)
	}
	return b, nil
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
	{Name: "create-run", Op: func(ctx context.Context, c *Client, env Env, _ string, _ int) error {
		_, err := c.CreateRun(ctx, store.CreateRun{ExperimentID: env.WriteExperimentID})
		return err
	}},
	{Name: "log-batch-10", Op: func(ctx context.Context, c *Client, _ Env, run string, i int) error {
		return c.LogBatch(ctx, run, Metrics(i, 10), nil, nil)
	}},
	{Name: "log-batch-500", Op: func(ctx context.Context, c *Client, _ Env, run string, i int) error {
		return c.LogBatch(ctx, run, Metrics(i, 500), nil, nil)
	}},
	{Name: "log-param", Op: func(ctx context.Context, c *Client, _ Env, run string, i int) error {
		return c.LogParam(ctx, run, store.Param{Key: fmt.Sprint("p", i), Value: "v"})
	}},
	{Name: "log-param-10", Op: func(ctx context.Context, c *Client, _ Env, run string, i int) error {
		ps := make([]store.Param, 10)
		for j := range ps {
			ps[j] = store.Param{Key: fmt.Sprint("q", i, "_", j), Value: "v"}
		}
		return c.LogBatch(ctx, run, nil, ps, nil)
	}},
	// The same ten params logged again into the client's run (a client
	// retrying, a script run twice): MLflow accepts a param logged again
	// with its value, and nothing changes. After its first request, a
	// write that commits nothing: on SQLite no WAL frame and no flush.
	{Name: "log-param-10-again", Op: func(ctx context.Context, c *Client, _ Env, run string, _ int) error {
		ps := make([]store.Param, 10)
		for j := range ps {
			ps[j] = store.Param{Key: fmt.Sprint("again", j), Value: "v"}
		}
		return c.LogBatch(ctx, run, nil, ps, nil)
	}},
	{Name: "log-span", Op: func(ctx context.Context, c *Client, env Env, run string, i int) error {
		return c.logSpan(ctx, env.WriteExperimentID, run, i)
	}},
	{Name: "search-runs-500", Op: func(ctx context.Context, c *Client, env Env, _ string, _ int) error {
		b, err := c.read(ctx, http.MethodPost, "/api/2.0/mlflow/runs/search",
			map[string]any{"experiment_ids": []string{env.ExperimentID}, "max_results": 1000})
		// One run_uuid key a run (its info). The client checks the count
		// only, so that it spends its CPU on requests, not on answers:
		// the key without its opening quote is found about twice as fast.
		if n := bytes.Count(b, []byte(`run_uuid":`)); err == nil && n != 500 {
			err = fmt.Errorf("%d runs", n)
		}
		return err
	}, Reads: true},
	{Name: "get-history-5000", Op: func(ctx context.Context, c *Client, env Env, _ string, _ int) error {
		b, err := c.read(ctx, http.MethodGet, "/api/2.0/mlflow/metrics/get-history?run_id="+env.HistoryRunID+"&metric_key=loss", nil)
		// A point is an object of scalars, in the answer's object: one
		// '{' each, plus one. Counting one byte takes a 5,000-point
		// answer 11 µs; counting a key, 260-440 µs, 7 % of all the CPU
		// of a get-history benchmark (client and server on one machine).
		if n := bytes.Count(b, []byte("{")) - 1; err == nil && n != 5000 {
			err = fmt.Errorf("%d points", n)
		}
		return err
	}, Reads: true},
}

// Result is how a workload went.
type Result struct {
	Requests, Errors int64
	Elapsed          time.Duration
	FirstError       error
	// Latencies are how long each request that succeeded took, from
	// sending it to reading its whole answer, shortest first.
	Latencies Latencies
}

// PerSecond is the requests per second that succeeded.
func (r Result) PerSecond() float64 { return float64(r.Requests-r.Errors) / r.Elapsed.Seconds() }

// Latencies are request times, shortest first.
type Latencies []time.Duration

// Percentile is the time within which the fraction q (0 < q <= 1) of the
// requests were answered: the nearest-rank percentile, 0 of none.
func (l Latencies) Percentile(q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(len(l))))
	return l[min(max(rank, 1), len(l))-1]
}

// Drive runs w with `clients` concurrent clients for d, each on its own
// run in experiment env.WriteExperimentID, clients spread over urls.
func Drive(ctx context.Context, urls []string, clients int, d time.Duration, env Env, w Workload) (Result, error) {
	cs := make([]*Client, clients)
	runs := make([]string, clients)
	for i := range cs {
		c, err := NewClient(urls[i%len(urls)])
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
	lat := make([]Latencies, clients)
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range cs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for n := 0; time.Now().Before(deadline) && ctx.Err() == nil; n++ {
				reqs.Add(1)
				t := time.Now()
				if err := w.Op(ctx, cs[i], env, runs[i], n); err != nil {
					errs.Add(1)
					first.CompareAndSwap(nil, err)
					continue
				}
				lat[i] = append(lat[i], time.Since(t))
			}
		}(i)
	}
	wg.Wait()
	res := Result{Requests: reqs.Load(), Errors: errs.Load(), Elapsed: time.Since(start), Latencies: slices.Concat(lat...)}
	slices.Sort(res.Latencies)
	if e, ok := first.Load().(error); ok {
		res.FirstError = e
	}
	return res, nil
}

// SpansPerTrace is how many spans the log-span workload sends of each
// trace: the children first, one request each, the root last.
const SpansPerTrace = 100

// logSpan sends the i-th span of a client's log-span workload to
// /v1/traces, as MLflow 3.4+'s client sends a span when it ends (OTLP
// protobuf into the experiment its header names): the traces are the
// client's run id with a counter, each of SpansPerTrace spans, an LLM
// call's inputs, outputs and token usage on each, children first and
// the root last.
func (c *Client) logSpan(ctx context.Context, exp, run string, i int) error {
	tid, err := hex.DecodeString(fmt.Sprintf("%.24s%08x", run, i/SpansPerTrace))
	if err != nil || len(tid) != 16 {
		return fmt.Errorf("log-span needs a run id of 24 hex digits or more, got %q", run)
	}
	n := uint64(SpansPerTrace - i%SpansPerTrace) // SpansPerTrace … 2, then the root, 1
	id := func(x uint64) []byte { return binary.BigEndian.AppendUint64(nil, x) }
	start := uint64(time.Now().UnixNano())
	sp := &tracev1.Span{TraceId: tid, SpanId: id(n), Name: fmt.Sprint("llm-", n), StartTimeUnixNano: start - 2_000_000, EndTimeUnixNano: start,
		Status: &tracev1.Status{Code: tracev1.Status_STATUS_CODE_OK},
		Attributes: []*commonv1.KeyValue{attr("mlflow.traceRequestId", "tr-"+hex.EncodeToString(tid)), attr("mlflow.spanType", "LLM"),
			attr("mlflow.spanInputs", `{"messages": [{"role": "user", "content": "What is the capital of France? Answer in one word."}]}`),
			attr("mlflow.spanOutputs", `{"choices": [{"message": {"role": "assistant", "content": "Paris"}}]}`),
			attr("mlflow.chat.tokenUsage", `{"input_tokens": 14, "output_tokens": 1, "total_tokens": 15}`)}}
	if n > 1 {
		sp.ParentSpanId = id(1)
	}
	body, err := spans.EncodeExport(sp)
	if err != nil {
		return err
	}
	resp, err := c.Do(ctx, http.MethodPost, "/v1/traces", bytes.NewReader(body), http.Header{
		"Content-Type": {"application/x-protobuf"}, "X-Mlflow-Experiment-Id": {exp}})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST /v1/traces: %d %.200s", resp.StatusCode, b)
	}
	return nil
}

func attr(k, v string) *commonv1.KeyValue {
	return &commonv1.KeyValue{Key: k, Value: &commonv1.AnyValue{Value: &commonv1.AnyValue_StringValue{StringValue: v}}}
}
