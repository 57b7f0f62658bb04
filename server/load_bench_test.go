package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/mlrun/mlrun/internal/load"
	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/store/rest"
)

// BenchmarkServerLoad runs the load workloads (internal/load) through
// real HTTP with 20 concurrent clients: on one server over SQLite, one
// over PostgreSQL, and two servers sharing one PostgreSQL database
// (clients alternate). Each reports requests per second; an error fails
// it.
//
//	go test -run '^$' -bench ServerLoad -benchtime 3s ./server/
func BenchmarkServerLoad(b *testing.B) {
	setups := []struct {
		name  string
		start func(b *testing.B) []string
	}{
		{"sqlite", func(b *testing.B) []string { return []string{testutil.StartServer(b, false).URL} }},
		{"postgres-1", func(b *testing.B) []string { return []string{testutil.StartPostgresServer(b, false).URL} }},
		{"postgres-2", func(b *testing.B) []string {
			uri := testutil.Postgres(b)
			var urls []string
			for i := 0; i < 2; i++ {
				urls = append(urls, testutil.StartServerOn(b, openPostgres(b, uri), b.TempDir(), false).URL)
			}
			return urls
		}},
	}
	for _, setup := range setups {
		b.Run(setup.name, func(b *testing.B) {
			urls := setup.start(b)
			ctx := context.Background()
			c, err := rest.Open(urls[0], rest.Options{})
			if err != nil {
				b.Fatal(err)
			}
			env, err := load.Setup(ctx, c)
			if err != nil {
				b.Fatal(err)
			}
			for _, w := range load.Workloads {
				b.Run(w.Name, func(b *testing.B) {
					// b.N rounds of 200 ms each.
					var ok int64
					var elapsed time.Duration
					for i := 0; i < b.N; i++ {
						r, err := load.Drive(ctx, urls, 20, 200*time.Millisecond, env, w)
						if err != nil || r.FirstError != nil {
							b.Fatalf("%v %v", err, r.FirstError)
						}
						ok += r.Requests - r.Errors
						elapsed += r.Elapsed
					}
					b.ReportMetric(float64(ok)/elapsed.Seconds(), "req/s")
				})
			}
		})
	}
}
