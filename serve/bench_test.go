package serve_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
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

// BenchmarkSklearnInvocations: /invocations of scikit-learn models fitted
// and pickled here by Debian's scikit-learn on 5 named features — a Pipeline of
// StandardScaler and LogisticRegression, and a RandomForestClassifier of
// 100 trees of depth 10 — predicted in Go and by 2 Python workers running
// scikit-learn itself (as MLflow serves them), as BenchmarkInvocations.
//
//	go test -run '^$' -bench SklearnInvocations -benchtime 2000x ./serve/
func BenchmarkSklearnInvocations(b *testing.B) {
	py := systemPython(b)
	dir := b.TempDir()
	fit := `import pickle, sys, numpy as np, pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
rng = np.random.RandomState(0)
X = pd.DataFrame(rng.rand(2000, 5), columns=list("abcde"))
y = (X.values @ [1, -2, 0.5, 3, 1] + rng.normal(size=2000) > 1.5).astype(int)
for name, m in [("logreg", make_pipeline(StandardScaler(), LogisticRegression())), ("forest", RandomForestClassifier(n_estimators=100, max_depth=10, random_state=0))]:
    pickle.dump(m.fit(X, y), open(sys.argv[1] + "/" + name + ".pkl", "wb"), protocol=5)
`
	if out, err := exec.Command(py, "-c", fit, dir).CombinedOutput(); err != nil {
		b.Fatalf("fit: %v %s", err, out)
	}
	for _, model := range []string{"logreg", "forest"} {
		mdir := filepath.Join(dir, model)
		os.MkdirAll(mdir, 0o755)
		os.Rename(filepath.Join(dir, model+".pkl"), filepath.Join(mdir, "model.pkl"))
		os.WriteFile(filepath.Join(mdir, "MLmodel"), []byte("flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n  sklearn:\n    pickled_model: model.pkl\n    serialization_format: cloudpickle\n"), 0o644)
		for _, runtime := range []string{"go", "python"} {
			m, err := serve.Load(mdir, serve.LoadOptions{Python: py, Workers: 2, PreferPython: runtime == "python"})
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			srv := httptest.NewServer(serve.NewHandler(m, serve.Options{}))
			defer srv.Close()
			benchInvocations(b, model+"/"+runtime, srv.URL)
		}
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
