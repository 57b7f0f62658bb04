package serve_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlrun/mlrun/serve"
)

// BenchmarkInvocations: /invocations of the fixture booster dart.json (10
// trees, binary:logistic) through real HTTP on loopback, 8 concurrent
// clients, payloads of 1 and 1,000 rows (dataframe_split), predicted in
// Go and by 2 Python workers running xgboost itself; reports requests
// per second and the 99th percentile latency.
//
//	go test -run '^$' -bench Invocations -benchtime 2000x ./serve/
func BenchmarkInvocations(b *testing.B) {
	for _, runtime := range []string{"go", "python"} {
		opts := serve.LoadOptions{}
		if runtime == "python" {
			opts = serve.LoadOptions{Python: systemPython(b), Workers: 2, PreferPython: true}
		}
		m, err := serve.Load(modelDirB(b, "dart.json"), opts)
		if err != nil {
			b.Fatal(err)
		}
		defer m.Close()
		srv := httptest.NewServer(serve.NewHandler(m, serve.Options{}))
		defer srv.Close()
		benchInvocations(b, runtime, srv.URL)
	}
}

func benchInvocations(b *testing.B, runtime, url string) {
	for _, rows := range []int{1, 1000} {
		b.Run(fmt.Sprintf("%s/rows=%d", runtime, rows), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			var data []string
			for i := 0; i < rows; i++ {
				data = append(data, fmt.Sprintf("[%g, %g, %g, %g, %g]", r.Float64(), r.Float64(), r.Float64(), r.Float64(), r.Float64()))
			}
			body := `{"dataframe_split": {"columns": ["a", "b", "c", "d", "e"], "data": [` + strings.Join(data, ", ") + `]}}`
			const clients = 8
			lat := make([]time.Duration, b.N)
			var next sync.Mutex
			i := 0
			var wg sync.WaitGroup
			start := time.Now()
			for c := 0; c < clients; c++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						next.Lock()
						n := i
						i++
						next.Unlock()
						if n >= b.N {
							return
						}
						t0 := time.Now()
						resp, err := http.Post(url+"/invocations", "application/json", strings.NewReader(body))
						if err != nil {
							b.Error(err)
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != 200 {
							b.Errorf("status %d", resp.StatusCode)
							return
						}
						lat[n] = time.Since(t0)
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			slices.Sort(lat)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
