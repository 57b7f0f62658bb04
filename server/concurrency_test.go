package server_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/postgres"
	"github.com/mlrun/mlrun/store/rest"
)

// TestConcurrentClientsLoseNothing: 16 clients each log 1,000 batches
// through the server into one SQLite file, or through two servers into one
// PostgreSQL database; no request may fail (no "database is locked", no
// serialization failure) and every point must be there afterwards.
func TestConcurrentClientsLoseNothing(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		ts := newServer(t)
		concurrentClients(t, ts.store, ts.url)
	})
	t.Run("postgres-two-servers", func(t *testing.T) {
		a, b := twoPostgresServers(t)
		concurrentClients(t, a.Store, a.URL, b.URL)
	})
}

// twoPostgresServers starts two servers, each with its own connections,
// on one PostgreSQL database, as a team runs them behind a load balancer.
func twoPostgresServers(t *testing.T) (*testutil.Server, *testutil.Server) {
	uri := testutil.Postgres(t)
	var srvs [2]*testutil.Server
	for i := range srvs {
		srvs[i] = testutil.StartServerOn(t, openPostgres(t, uri), t.TempDir(), false)
	}
	return srvs[0], srvs[1]
}

// concurrentClients runs the 16 clients, client c on urls[c % len(urls)],
// and checks through st that nothing was lost.
func concurrentClients(t *testing.T, st store.Store, urls ...string) {
	ctx := context.Background()
	const clients, batches, perBatch = 16, 1000, 5
	runIDs := make([]string, clients)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			cl, err := rest.Open(urls[c%len(urls)], rest.Options{})
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
			h, _, err := st.GetMetricHistory(ctx, id, fmt.Sprint("m", i), 0, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(h) != batches {
				t.Fatalf("client %d metric m%d: %d points, want %d", c, i, len(h), batches)
			}
		}
		r, err := st.GetRun(ctx, id)
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

// TestConcurrentModelVersions: 32 clients create versions of one model at
// once through two servers on one PostgreSQL database; every version
// number from 1 to 32 is given exactly once.
func TestConcurrentModelVersions(t *testing.T) {
	a, b := twoPostgresServers(t)
	ctx := context.Background()
	if _, err := a.Store.CreateRegisteredModel(ctx, "shared", nil, ""); err != nil {
		t.Fatal(err)
	}
	const n = 32
	versions := make(chan string, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			url := a.URL
			if i%2 == 1 {
				url = b.URL
			}
			cl, err := rest.Open(url, rest.Options{})
			if err != nil {
				errs <- err
				return
			}
			v, err := cl.CreateModelVersion(ctx, registry.CreateVersion{Name: "shared", Source: fmt.Sprintf("s3://bucket/m/%d", i)})
			if err != nil {
				errs <- fmt.Errorf("client %d: %w", i, err)
				return
			}
			versions <- v.Version
		}(i)
	}
	wg.Wait()
	close(versions)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for v := range versions {
		if seen[v] {
			t.Fatalf("version %s was given twice", v)
		}
		seen[v] = true
	}
	for i := 1; i <= n; i++ {
		if !seen[fmt.Sprint(i)] {
			t.Fatalf("version %d is missing: %v", i, seen)
		}
	}
}

func openPostgres(tb testing.TB, uri string) testutil.FullStore {
	tb.Helper()
	st, err := postgres.Open(context.Background(), uri, postgres.Options{ArtifactRoot: "mlflow-artifacts:/"})
	if err != nil {
		tb.Fatal(err)
	}
	return st
}
