package server_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/rest"
)

// TestConcurrentClientsLoseNothing: 16 clients each log 1,000 batches
// through the server into one SQLite file; no request may fail (no
// "database is locked") and every point must be there afterwards.
func TestConcurrentClientsLoseNothing(t *testing.T) {
	ts := newServer(t)
	ctx := context.Background()
	const clients, batches, perBatch = 16, 1000, 5
	runIDs := make([]string, clients)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			cl, err := rest.Open(ts.url, rest.Options{})
			if err != nil {
				errs <- err
				return
			}
			r, err := cl.CreateRun(ctx, store.CreateRun{RunName: fmt.Sprint("client-", c)})
			if err != nil {
				errs <- err
				return
			}
			runIDs[c] = r.Info.RunID
			for b := 0; b < batches; b++ {
				ms := make([]store.Metric, perBatch)
				for i := range ms {
					ms[i] = store.Metric{Key: fmt.Sprint("m", i), Value: float64(b), Timestamp: int64(b), Step: int64(b)}
				}
				var ps []store.Param
				if b%100 == 0 {
					ps = []store.Param{{Key: fmt.Sprint("p", b), Value: "v"}}
				}
				if err := cl.LogBatch(ctx, r.Info.RunID, ms, ps, []store.Tag{{Key: "last", Value: fmt.Sprint(b)}}); err != nil {
					errs <- fmt.Errorf("client %d batch %d: %w", c, b, err)
					return
				}
			}
		}(c)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for c, id := range runIDs {
		for i := 0; i < perBatch; i++ {
			h, _, err := ts.store.GetMetricHistory(ctx, id, fmt.Sprint("m", i), 0, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(h) != batches {
				t.Fatalf("client %d metric m%d: %d points, want %d", c, i, len(h), batches)
			}
		}
		r, err := ts.store.GetRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Params) != batches/100 {
			t.Fatalf("client %d: %d params, want %d", c, len(r.Params), batches/100)
		}
		if v, _ := r.Tag("last"); v != fmt.Sprint(batches-1) {
			t.Fatalf("client %d: last tag %q", c, v)
		}
	}
}
