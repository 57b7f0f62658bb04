package server_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/postgres"
	"github.com/mlrun/mlrun/store/rest"
)

// BenchmarkServerLoad runs the load workloads through real HTTP with 20
// concurrent clients: on one server over SQLite, one over PostgreSQL, and
// two servers sharing one PostgreSQL database (clients alternate). Each
// reports requests per second.
//
//	go test -run '^$' -bench ServerLoad -benchtime 3s ./server/
func BenchmarkServerLoad(b *testing.B) {
	setups := []struct {
		name  string
		start func(b *testing.B) (store.Store, []string)
	}{
		{"sqlite", func(b *testing.B) (store.Store, []string) {
			s := testutil.StartServer(b, false)
			return s.Store, []string{s.URL}
		}},
		{"postgres-1", func(b *testing.B) (store.Store, []string) {
			s := testutil.StartPostgresServer(b, false)
			return s.Store, []string{s.URL}
		}},
		{"postgres-2", func(b *testing.B) (store.Store, []string) {
			uri := testutil.Postgres(b)
			var st store.Store
			var urls []string
			for i := 0; i < 2; i++ {
				s := testutil.StartServerOn(b, openPostgres(b, uri), b.TempDir(), false)
				st = s.Store
				urls = append(urls, s.URL)
			}
			return st, urls
		}},
	}
	for _, setup := range setups {
		b.Run(setup.name, func(b *testing.B) {
			st, urls := setup.start(b)
			ctx := context.Background()
			var next atomic.Int64
			client := func() *rest.Store {
				c, err := rest.Open(urls[int(next.Add(1))%len(urls)], rest.Options{})
				if err != nil {
					b.Fatal(err)
				}
				return c
			}
			// Data the read workloads read: 500 runs with params, metrics
			// and tags, and one run with 5,000 metric points.
			exp, err := st.CreateExperiment(ctx, "load", "", nil)
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < 500; i++ {
				r, err := st.CreateRun(ctx, store.CreateRun{ExperimentID: exp, StartTime: int64(i)})
				if err != nil {
					b.Fatal(err)
				}
				st.LogBatch(ctx, r.Info.RunID, []store.Metric{{Key: "rmse", Value: float64(i), Timestamp: 1}, {Key: "r2", Value: 0.5, Timestamp: 1}},
					[]store.Param{{Key: "alpha", Value: fmt.Sprint(i)}, {Key: "l1", Value: "0.1"}}, []store.Tag{{Key: "team", Value: "ml"}})
			}
			hist, _ := st.CreateRun(ctx, store.CreateRun{ExperimentID: exp})
			for i := 0; i < 5; i++ {
				ms := make([]store.Metric, 1000)
				for j := range ms {
					ms[j] = store.Metric{Key: "loss", Value: float64(j), Timestamp: int64(i*1000 + j), Step: int64(i*1000 + j)}
				}
				st.LogBatch(ctx, hist.Info.RunID, ms, nil, nil)
			}
			workloads := []struct {
				name string
				op   func(c *rest.Store, run string, i int) error
			}{
				{"create-run", func(c *rest.Store, _ string, _ int) error {
					_, err := c.CreateRun(ctx, store.CreateRun{ExperimentID: exp})
					return err
				}},
				{"log-batch-10", func(c *rest.Store, run string, i int) error { return c.LogBatch(ctx, run, metrics(i, 10), nil, nil) }},
				{"log-batch-500", func(c *rest.Store, run string, i int) error { return c.LogBatch(ctx, run, metrics(i, 500), nil, nil) }},
				{"log-param", func(c *rest.Store, run string, i int) error {
					return c.LogParam(ctx, run, store.Param{Key: fmt.Sprint("p", i), Value: "v"})
				}},
				{"search-runs-500", func(c *rest.Store, _ string, _ int) error {
					runs, _, err := c.SearchRuns(ctx, store.SearchRuns{ExperimentIDs: []string{exp}, MaxResults: 1000})
					if err == nil && len(runs) < 500 {
						err = fmt.Errorf("%d runs", len(runs))
					}
					return err
				}},
				{"get-history-5000", func(c *rest.Store, _ string, _ int) error {
					h, _, err := c.GetMetricHistory(ctx, hist.Info.RunID, "loss", 0, "")
					if err == nil && len(h) != 5000 {
						err = fmt.Errorf("%d points", len(h))
					}
					return err
				}},
			}
			for _, w := range workloads {
				b.Run(w.name, func(b *testing.B) {
					b.SetParallelism(10) // 20 clients on 2 cores
					b.RunParallel(func(pb *testing.PB) {
						c := client()
						r, err := c.CreateRun(ctx, store.CreateRun{ExperimentID: "0"})
						if err != nil {
							b.Error(err)
							return
						}
						for i := 0; pb.Next(); i++ {
							if err := w.op(c, r.Info.RunID, i); err != nil {
								b.Error(err)
								return
							}
						}
					})
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
				})
			}
		})
	}
}

func metrics(step, n int) []store.Metric {
	ms := make([]store.Metric, n)
	for j := range ms {
		ms[j] = store.Metric{Key: fmt.Sprint("m", j%10), Value: float64(j), Timestamp: int64(step), Step: int64(step*n + j)}
	}
	return ms
}

func openPostgres(tb testing.TB, uri string) testutil.FullStore {
	tb.Helper()
	st, err := postgres.Open(context.Background(), uri, postgres.Options{ArtifactRoot: "mlflow-artifacts:/"})
	if err != nil {
		tb.Fatal(err)
	}
	return st
}
