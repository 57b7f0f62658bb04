package serve_test

import (
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/serve"
)

// TestServesTextModelsInGoAsPython: scikit-learn text classifiers
// (TfidfVectorizer and LogisticRegression; CountVectorizer, bigrams and
// stop words with MultinomialNB's probabilities), fitted here by Debian's
// scikit-learn, are served in Go and by a Python worker running
// scikit-learn, with the same answers: `inputs` as a list of documents
// (MLflow hands the model a one-dimensional array), a DataFrame (whose
// documents scikit-learn takes to be its column names: one answer), and a
// document that is not text (the same 400).
func TestServesTextModelsInGoAsPython(t *testing.T) {
	py := systemPython(t)
	dir := t.TempDir()
	fit := `import pickle, sys
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline
docs = ["the cat sat on the mat", "a dog ran in the park", "cats and dogs are pets", "stocks fell sharply today",
        "the market rallied", "investors sold shares", "my cat chased the dog", "bond yields rose again"] * 3
y = ["pets", "pets", "pets", "money", "money", "money", "pets", "money"] * 3
for name, m in [("tfidf", make_pipeline(TfidfVectorizer(), LogisticRegression())),
                ("counts", make_pipeline(CountVectorizer(ngram_range=(1, 2), stop_words="english"), MultinomialNB()))]:
    pickle.dump(m.fit(docs, y), open(sys.argv[1] + "/" + name + ".pkl", "wb"), protocol=5)
`
	if out, err := exec.Command(py, "-c", fit, dir).CombinedOutput(); err != nil {
		t.Fatalf("fit: %v %s", err, out)
	}
	for _, c := range []struct{ model, fn string }{{"tfidf", "predict"}, {"counts", "predict_proba"}} {
		mdir := filepath.Join(dir, c.model)
		if err := os.MkdirAll(mdir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(dir, c.model+".pkl"), filepath.Join(mdir, "model.pkl")); err != nil {
			t.Fatal(err)
		}
		mlmodel := "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n    predict_fn: " + c.fn + "\n  sklearn:\n    pickled_model: model.pkl\n    serialization_format: cloudpickle\n"
		if err := os.WriteFile(filepath.Join(mdir, "MLmodel"), []byte(mlmodel), 0o644); err != nil {
			t.Fatal(err)
		}
		bodies := []string{
			`{"inputs": ["my dog and my cat", "shares fell as yields rose", "", "Stocks, CATS & bonds!"]}`,
			`{"instances": ["a market of pets"]}`,
			`{"dataframe_split": {"columns": ["text"], "data": [["the cat"], ["the market"]]}}`,
			`{"inputs": ["the cat", null]}`,
		}
		answers := map[string][]string{}
		for _, runtime := range []string{"go", "python"} {
			m, err := serve.Load(mdir, serve.LoadOptions{Python: py, PreferPython: runtime == "python"})
			if err != nil {
				t.Fatal(err)
			}
			if m.Runtime != runtime {
				t.Fatalf("%s: runtime %s, want %s", c.model, m.Runtime, runtime)
			}
			if runtime == "go" && !strings.Contains(m.Hint, `{"inputs": ["a text", ...]}`) {
				t.Errorf("%s: hint %q", c.model, m.Hint)
			}
			srv := httptest.NewServer(serve.NewHandler(m, serve.Options{}))
			for _, body := range bodies {
				code, _, out := post(t, srv.URL, "application/json", body)
				answers[runtime] = append(answers[runtime], strings.TrimSpace(out))
				if body == bodies[3] && (code != 400 || !strings.Contains(out, "'NoneType' object has no attribute 'lower'")) {
					t.Errorf("%s %s: a None document: %d %s", c.model, runtime, code, out)
				}
				if body != bodies[3] && code != 200 {
					t.Errorf("%s %s: %s: %d %s", c.model, runtime, body, code, out)
				}
			}
			srv.Close()
			m.Close()
		}
		for i, body := range bodies {
			if g, p := answers["go"][i], answers["python"][i]; g != p {
				t.Errorf("%s %s:\n go:     %s\n python: %s", c.model, body, g, p)
			}
		}
		if !strings.Contains(answers["go"][0], `"pets"`) && c.fn == "predict" {
			t.Errorf("%s: %s", c.model, answers["go"][0])
		}
	}
}
