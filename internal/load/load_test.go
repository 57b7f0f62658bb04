package load_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mlrun/mlrun/internal/load"
	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/store"
)

func TestPercentile(t *testing.T) {
	var l load.Latencies
	if got := l.Percentile(0.99); got != 0 {
		t.Fatalf("no requests: %v, want 0", got)
	}
	for i := 1; i <= 200; i++ {
		l = append(l, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 100 * time.Millisecond}, {0.99, 198 * time.Millisecond}, {1, 200 * time.Millisecond}, {0.001, time.Millisecond}, {0, time.Millisecond}} {
		if got := l.Percentile(c.q); got != c.want {
			t.Errorf("Percentile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	one := load.Latencies{7 * time.Millisecond}
	if got := one.Percentile(0.5); got != 7*time.Millisecond {
		t.Errorf("one request: %v", got)
	}
}

// TestDriveTimesEachRequest drives a real server: every request that
// succeeded has its time, shortest first, none longer than the run.
func TestDriveTimesEachRequest(t *testing.T) {
	srv, c := serve(t)
	ctx := context.Background()
	exp, err := c.CreateExperiment(ctx, "writes", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := load.Drive(ctx, []string{srv.URL}, 3, 200*time.Millisecond, load.Env{WriteExperimentID: exp}, load.Workloads[0])
	if err != nil || r.FirstError != nil {
		t.Fatalf("drive: %v %v", err, r.FirstError)
	}
	if r.Requests == 0 || int64(len(r.Latencies)) != r.Requests-r.Errors {
		t.Fatalf("%d requests, %d errors, %d times", r.Requests, r.Errors, len(r.Latencies))
	}
	if !slices.IsSorted(r.Latencies) || r.Latencies[0] <= 0 || r.Latencies[len(r.Latencies)-1] > r.Elapsed {
		t.Fatalf("times not sorted or out of range: first %v, last %v, elapsed %v", r.Latencies[0], r.Latencies[len(r.Latencies)-1], r.Elapsed)
	}
	if p50, p99 := r.Latencies.Percentile(0.5), r.Latencies.Percentile(0.99); p50 <= 0 || p99 < p50 {
		t.Fatalf("p50 %v, p99 %v", p50, p99)
	}
}

// TestReadWorkloadsCheckAnswers: against a real server set up by Setup,
// the read workloads find their 500 runs and 5,000 points; an answer
// with one run or one point more is an error naming the count.
func TestReadWorkloadsCheckAnswers(t *testing.T) {
	_, c := serve(t)
	ctx := context.Background()
	env, err := load.Setup(ctx, c.Store, true)
	if err != nil {
		t.Fatal(err)
	}
	reads := map[string]load.Workload{}
	for _, w := range load.Workloads {
		if w.Reads {
			reads[w.Name] = w
		}
	}
	if len(reads) != 2 {
		t.Fatalf("read workloads %v, want search-runs-500 and get-history-5000", reads)
	}
	for name, w := range reads {
		if err := w.Op(ctx, c, env, "", 0); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := c.CreateRun(ctx, store.CreateRun{ExperimentID: env.ExperimentID}); err != nil {
		t.Fatal(err)
	}
	if err := c.LogMetric(ctx, env.HistoryRunID, store.Metric{Key: "loss", Value: 1, Timestamp: 1, Step: 5000}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"search-runs-500": "501 runs", "get-history-5000": "5001 points"} {
		if err := reads[name].Op(ctx, c, env, "", 0); err == nil || err.Error() != want {
			t.Errorf("%s after one more: %v, want %q", name, err, want)
		}
	}
}

// TestLogParamsAgain: log-param-10-again logs the same ten params each
// time: the first request adds them, the next ones are accepted and
// change nothing.
func TestLogParamsAgain(t *testing.T) {
	_, c := serve(t)
	ctx := context.Background()
	again := workload(t, "log-param-10-again")
	r, err := c.CreateRun(ctx, store.CreateRun{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := again.Op(ctx, c, load.Env{}, r.Info.RunID, i); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	got, err := c.GetRun(ctx, r.Info.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Params) != 10 {
		t.Fatalf("%d params after three requests, want the same 10: %v", len(got.Params), got.Params)
	}
}

// workload is the load workload named name.
func workload(t *testing.T, name string) load.Workload {
	t.Helper()
	i := slices.IndexFunc(load.Workloads, func(w load.Workload) bool { return w.Name == name })
	if i < 0 {
		t.Fatalf("no workload %s", name)
	}
	return load.Workloads[i]
}

// serve starts a real server and returns it with a load client of it.
func serve(t *testing.T) (*testutil.Server, *load.Client) {
	t.Helper()
	srv := testutil.StartServer(t, false)
	c, err := load.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

// TestLogSpanWorkload: log-span sends a trace's spans one request each,
// children first and the root last, to a real server's /v1/traces, which
// needs no artifact store for them: after two traces' worth the server
// has both traces, complete (OK, their name from the root), each with
// SpansPerTrace spans in its tracking store and their token usage
// summed; a third trace is under way.
func TestLogSpanWorkload(t *testing.T) {
	srv, c := serve(t)
	ctx := context.Background()
	w := workload(t, "log-span")
	exp, err := srv.Store.CreateExperiment(ctx, "spans", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	run := "0123456789abcdef0123456789abcdef"
	for i := range 2*load.SpansPerTrace + 1 {
		if err := w.Op(ctx, c, load.Env{WriteExperimentID: exp}, run, i); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	ids := []string{"tr-0123456789abcdef0123456700000000", "tr-0123456789abcdef0123456700000001", "tr-0123456789abcdef0123456700000002"}
	kept, err := srv.Store.(store.TraceSpans).TraceSpans(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		info, err := srv.Store.GetTraceInfo(ctx, id)
		if err != nil {
			t.Fatalf("trace %s: %v", id, err)
		}
		usage := ""
		for _, m := range info.RequestMetadata {
			if m.Key == "mlflow.trace.tokenUsage" {
				usage = m.Value
			}
		}
		switch i {
		case 2: // one child so far
			if info.Status != "IN_PROGRESS" || len(kept[id]) != 1 {
				t.Errorf("trace %s under way: %s, %d spans", id, info.Status, len(kept[id]))
			}
		default:
			// The root carries usage of its own, so its children's are not
			// added (MLflow's rule): 15 tokens.
			if info.Status != "OK" || len(kept[id]) != load.SpansPerTrace || usage != `{"input_tokens": 14, "output_tokens": 1, "total_tokens": 15}` {
				t.Errorf("trace %s: %s, %d spans, usage %s", id, info.Status, len(kept[id]), usage)
			}
		}
	}
	if err := w.Op(ctx, c, load.Env{WriteExperimentID: exp}, "run-1", 0); err == nil || !strings.Contains(err.Error(), "24 hex digits") {
		t.Fatalf("a run id that is not hex: %v", err)
	}
}
