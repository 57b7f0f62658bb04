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
		benchInvocations(b, runtime, srv.URL, tableBody)
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
			benchInvocations(b, model+"/"+runtime, srv.URL, tableBody)
		}
	}
}

// tableBody is a dataframe_split of rows of five random numbers, a to e.
func tableBody(rows int, r *rand.Rand) string {
	var data []string
	for i := 0; i < rows; i++ {
		data = append(data, fmt.Sprintf("[%g, %g, %g, %g, %g]", r.Float64(), r.Float64(), r.Float64(), r.Float64(), r.Float64()))
	}
	return `{"dataframe_split": {"columns": ["a", "b", "c", "d", "e"], "data": [` + strings.Join(data, ", ") + `]}}`
}

func benchInvocations(b *testing.B, runtime, url string, makeBody func(rows int, r *rand.Rand) string) {
	for _, rows := range []int{1, 1000} {
		b.Run(fmt.Sprintf("%s/rows=%d", runtime, rows), func(b *testing.B) {
			body := makeBody(rows, rand.New(rand.NewPCG(1, 2)))
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

// BenchmarkTextInvocations: /invocations of a text classifier fitted and
// pickled here by Debian's scikit-learn — a Pipeline of TfidfVectorizer
// (words and bigrams, about 20,000 terms) and LogisticRegression over 4
// classes — given `inputs` lists of 1 and 1,000 documents of 30 words,
// predicted in Go and by 2 Python workers running scikit-learn itself,
// as BenchmarkInvocations.
//
//	go test -run '^$' -bench TextInvocations -benchtime 200x ./serve/
func BenchmarkTextInvocations(b *testing.B) {
	py := systemPython(b)
	dir := b.TempDir()
	fit := `import pickle, sys, numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
rng = np.random.RandomState(0)
words = ["w%d" % i for i in range(3000)]
docs = [" ".join(rng.choice(words, 30)) for _ in range(4000)]
y = [int(d.split()[0][1:]) % 4 for d in docs]
m = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2), LogisticRegression(max_iter=300))
pickle.dump(m.fit(docs, y), open(sys.argv[1] + "/model.pkl", "wb"), protocol=5)
`
	if out, err := exec.Command(py, "-c", fit, dir).CombinedOutput(); err != nil {
		b.Fatalf("fit: %v %s", err, out)
	}
	os.WriteFile(filepath.Join(dir, "MLmodel"), []byte("flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n  sklearn:\n    pickled_model: model.pkl\n    serialization_format: cloudpickle\n"), 0o644)
	docs := func(rows int, r *rand.Rand) string {
		var out []string
		for range rows {
			var w []string
			for range 30 {
				w = append(w, fmt.Sprintf("w%d", r.IntN(3000)))
			}
			out = append(out, `"`+strings.Join(w, " ")+`"`)
		}
		return `{"inputs": [` + strings.Join(out, ", ") + `]}`
	}
	for _, runtime := range []string{"go", "python"} {
		m, err := serve.Load(dir, serve.LoadOptions{Python: py, Workers: 2, PreferPython: runtime == "python"})
		if err != nil {
			b.Fatal(err)
		}
		defer m.Close()
		if m.Runtime != runtime {
			b.Fatalf("runtime %s, want %s", m.Runtime, runtime)
		}
		srv := httptest.NewServer(serve.NewHandler(m, serve.Options{}))
		defer srv.Close()
		benchInvocations(b, runtime, srv.URL, docs)
	}
}
