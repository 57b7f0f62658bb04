package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mlrun/mlrun/internal/pylines"
	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/serve"
)

const testdata = "../plugins/builtin/testdata/xgboost"

// modelDir writes an MLflow model folder for a fixture booster (a path
// below testdata), logged as a Booster, with a
// signature of named double columns a..e when signed.
func modelDir(t *testing.T, booster string, signed bool) string {
	t.Helper()
	return writeModelDir(t, booster, signed)
}

func modelDirB(b *testing.B, booster string) string { return writeModelDir(b, booster, false) }

func writeModelDir(t testing.TB, booster string, signed bool) string {
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join(testdata, booster))
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Base(booster)
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
	mm := "flavors:\n  python_function:\n    data: " + name + "\n    loader_module: mlflow.xgboost\n  xgboost:\n    data: " + name + "\n    model_class: xgboost.core.Booster\n    model_format: json\n"
	if signed {
		var cols []string
		for _, c := range "abcde" {
			cols = append(cols, fmt.Sprintf(`{"type": "double", "name": "%c", "required": true}`, c))
		}
		mm += "signature:\n  inputs: '[" + strings.Join(cols, ", ") + "]'\n  outputs: null\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "MLmodel"), []byte(mm), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func start(t *testing.T, dir string, opts serve.Options) string {
	t.Helper()
	m, err := serve.Load(dir, serve.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(serve.NewHandler(m, opts))
	t.Cleanup(srv.Close)
	return srv.URL
}

func post(t *testing.T, url, ct, body string) (int, string, string) {
	t.Helper()
	resp, err := http.Post(url+"/invocations", ct, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// TestInvocationsEveryFormat: the same rows sent in each of MLflow's body
// formats (and CSV), to a booster with and without a signature, give
// XGBoost's own predictions, written as MLflow's server writes them
// ({"predictions": [...]} with Python's separators and float repr).
func TestInvocationsEveryFormat(t *testing.T) {
	fx := testutil.ReadXGBoostPredictions(t)
	wantBody := testutil.PredictionsBody(fx.Flat(t, "reg.json"))

	cols := []string{"a", "b", "c", "d", "e"}
	cell := func(v *float64) string {
		if v == nil {
			return "null"
		}
		return fmt.Sprint(*v)
	}
	var split, records, columns, positional, csv []string
	colVals := make([][]string, 5)
	for _, r := range fx.Rows {
		var cells, rec []string
		var csvCells []string
		for j, v := range r {
			cells = append(cells, cell(v))
			rec = append(rec, fmt.Sprintf(`"%s": %s`, cols[j], cell(v)))
			colVals[j] = append(colVals[j], cell(v))
			if v == nil {
				csvCells = append(csvCells, "")
			} else {
				csvCells = append(csvCells, fmt.Sprint(*v))
			}
		}
		split = append(split, "["+strings.Join(cells, ", ")+"]")
		positional = append(positional, "["+strings.Join(cells, ", ")+"]")
		records = append(records, "{"+strings.Join(rec, ", ")+"}")
		csv = append(csv, strings.Join(csvCells, ","))
	}
	for j, c := range cols {
		columns = append(columns, fmt.Sprintf(`"%s": [%s]`, c, strings.Join(colVals[j], ", ")))
	}
	bodies := map[string]string{
		"dataframe_split":   `{"dataframe_split": {"columns": ["a", "b", "c", "d", "e"], "index": [], "data": [` + strings.Join(split, ", ") + `]}}`,
		"dataframe_records": `{"dataframe_records": [` + strings.Join(records, ", ") + `]}`,
		"instances":         `{"instances": [` + strings.Join(records, ", ") + `], "params": {"ignored": 1}}`,
		"inputs-columns":    `{"inputs": {` + strings.Join(columns, ", ") + `}}`,
	}
	for _, signed := range []bool{false, true} {
		url := start(t, modelDir(t, "reg.json", signed), serve.Options{Version: "2.17.2"})
		for name, body := range bodies {
			code, ct, got := post(t, url, "application/json", body)
			if code != 200 || ct != "application/json" || got != wantBody {
				t.Errorf("signed=%v %s: %d %s\n%s\nwant %s", signed, name, code, ct, got, wantBody)
			}
		}
		code, _, got := post(t, url, "text/csv; charset=UTF-8", "a,b,c,d,e\n"+strings.Join(csv, "\n")+"\n")
		if code != 200 || got != wantBody {
			t.Errorf("signed=%v csv: %d %s", signed, code, got)
		}
		if !signed {
			// Unnamed rows go to the booster by position.
			code, _, got := post(t, url, "application/json", `{"inputs": [`+strings.Join(positional, ", ")+`]}`)
			if code != 200 || got != wantBody {
				t.Errorf("inputs as lists: %d %s", code, got)
			}
		}
	}
	// A signature puts columns in its order: reversed records score the same.
	url := start(t, modelDir(t, "reg.json", true), serve.Options{})
	code, _, got := post(t, url, "application/json", `{"dataframe_split": {"columns": ["e", "d", "c", "b", "a"], "data": [[5, 4, 3, 2, 1]]}}`)
	code2, _, got2 := post(t, url, "application/json", `{"dataframe_split": {"columns": ["a", "b", "c", "d", "e"], "data": [[1, 2, 3, 4, 5]]}}`)
	if code != 200 || code2 != 200 || got != got2 {
		t.Errorf("reordered columns: %s vs %s", got, got2)
	}
}

// TestInvocationsSoftprob: a multi-class booster answers a list of
// per-class probabilities per row, XGBoost's to 1e-6.
func TestInvocationsSoftprob(t *testing.T) {
	fx := testutil.ReadXGBoostPredictions(t)
	url := start(t, modelDir(t, "softprob.json", false), serve.Options{})
	code, _, body := post(t, url, "application/json", `{"inputs": `+fx.RowsJSON(len(fx.Rows), 5)+`}`)
	var got struct{ Predictions [][]float64 }
	if err := json.Unmarshal([]byte(body), &got); code != 200 || err != nil {
		t.Fatalf("%d %v %s", code, err, body)
	}
	var want [][]float64
	if err := json.Unmarshal(fx.Models["softprob.json"].Predictions, &want); err != nil {
		t.Fatal(err)
	}
	if len(got.Predictions) != len(want) {
		t.Fatalf("%d rows, want %d", len(got.Predictions), len(want))
	}
	for i, w := range want {
		for k, p := range w {
			if g := got.Predictions[i][k]; math.Abs(g-p) > 1e-6*p {
				t.Errorf("row %d class %d: %v, XGBoost %v", i, k, g, p)
			}
		}
	}
}

// TestInvocationsErrors: MLflow's status codes, error codes and messages
// for each kind of bad request.
func TestInvocationsErrors(t *testing.T) {
	url := start(t, modelDir(t, "reg.json", true), serve.Options{MaxBody: 4096})
	row := `{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}`
	cases := []struct {
		name, ct, body string
		status         int
		code, msg      string
	}{
		{"malformed JSON", "application/json", `{"inputs": [`, 400, "BAD_REQUEST", "Invalid input. Ensure that input is a valid JSON formatted string."},
		{"top-level list", "application/json", `[1, 2]`, 400, "BAD_REQUEST", "Received a list."},
		{"top-level string", "application/json", `"x"`, 400, "BAD_REQUEST", "Received unexpected input type '<class 'str'>'."},
		{"no format key", "application/json", `{"foo": 1}`, 400, "BAD_REQUEST", "Received dictionary with input fields: []."},
		{"two format keys", "application/json", `{"inputs": [], "instances": []}`, 400, "BAD_REQUEST", "Received dictionary with input fields: ['instances', 'inputs']."},
		{"split not an object", "application/json", `{"dataframe_split": []}`, 400, "BAD_REQUEST", "Dataframe split format must be a dictionary. Got list."},
		{"split without data", "application/json", `{"dataframe_split": {"columns": ["a"], "rows": []}}`, 400, "BAD_REQUEST", "must have 'data' field"},
		{"records not a list", "application/json", `{"dataframe_records": {"a": 1}}`, 400, "BAD_REQUEST", "records format must be a list of records. Got dictionary."},
		{"missing column", "application/json", `{"dataframe_records": [{"a": 1, "b": 2}]}`, 400, "INVALID_PARAMETER_VALUE", "Model is missing inputs ['c', 'd', 'e']."},
		{"not a number", "application/json", `{"dataframe_records": [{"a": "x", "b": 2, "c": 3, "d": 4, "e": 5}]}`, 400, "BAD_REQUEST", "Failed to convert column a to type 'float64'. Error: 'could not convert string to float: 'x''"},
		{"uneven columns", "application/json", `{"inputs": {"a": [1, 2], "b": [1]}}`, 400, "BAD_REQUEST", "The length of values for each input/column name are not the same"},
		{"empty csv", "text/csv", ``, 400, "BAD_REQUEST", "Failed to parse input as a Pandas DataFrame."},
		{"too large", "application/json", `{"inputs": [` + strings.Repeat("1, ", 2000) + `1]}`, 413, "BAD_REQUEST", "larger than the limit of 4096 bytes"},
	}
	for _, tc := range cases {
		code, ct, body := post(t, url, tc.ct, tc.body)
		var e struct{ ErrorCode, Message string }
		json.Unmarshal([]byte(body), &e)
		var raw map[string]any
		json.Unmarshal([]byte(body), &raw)
		if code != tc.status || ct != "application/json" || raw["error_code"] != tc.code || !strings.Contains(fmt.Sprint(raw["message"]), tc.msg) {
			t.Errorf("%s: %d %s %s\nwant %d %s %q", tc.name, code, ct, body, tc.status, tc.code, tc.msg)
		}
	}
	for _, tc := range []struct{ ct, msg string }{
		{"application/x-www-form-urlencoded", "This predictor only supports the following content types: Types: ['text/csv', 'application/json']. Got 'application/x-www-form-urlencoded'."},
		{"application/json; charset=latin-1", "The scoring server only supports UTF-8"},
		{"application/json; format=pandas-split", "Unrecognized content type parameters: format."},
	} {
		code, ct, body := post(t, url, tc.ct, `{"inputs": [`+row+`]}`)
		if code != 415 || ct != "text/plain; charset=utf-8" || !strings.HasPrefix(body, tc.msg) {
			t.Errorf("%s: %d %s %s", tc.ct, code, ct, body)
		}
	}
}

// TestEndpoints: /ping, /health and /version as MLflow answers them; a
// wrong method is 405, an unknown path 404; /metrics counts requests.
func TestEndpoints(t *testing.T) {
	reg := prometheus.NewRegistry()
	url := start(t, modelDir(t, "reg.json", false), serve.Options{Version: "2.17.2", Metrics: reg})
	get := func(path string) (int, string, string) {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	for path, want := range map[string]string{"/ping": "\n", "/health": "\n", "/version": "2.17.2"} {
		if code, ct, body := get(path); code != 200 || ct != "application/json" || body != want {
			t.Errorf("%s: %d %s %q", path, code, ct, body)
		}
	}
	if code, _, _ := get("/invocations"); code != 405 {
		t.Errorf("GET /invocations: %d", code)
	}
	if code, _, _ := get("/nope"); code != 404 {
		t.Errorf("GET /nope: %d", code)
	}
	post(t, url, "application/json", `{"inputs": [[1, 2, 3, 4, 5]]}`)
	post(t, url, "application/json", `{"inputs": [[1, 2]]}`)
	_, _, metrics := get("/metrics")
	for _, want := range []string{`mlrun_serve_requests_total{path="/invocations",status="200"} 1`, `mlrun_serve_requests_total{path="/invocations",status="400"} 1`,
		`mlrun_serve_requests_total{path="/invocations",status="405"} 1`, `mlrun_serve_request_duration_seconds_count{path="/invocations"} 3`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestLoadRefusals: a folder without MLmodel, a flavor mlrun does not
// serve, an sklearn model in a Python without scikit-learn, a cut
// booster — each a clear error.
func TestLoadRefusals(t *testing.T) {
	if _, err := serve.Load(t.TempDir(), serve.LoadOptions{}); err == nil || !strings.Contains(err.Error(), "is not an MLflow model folder") {
		t.Errorf("empty folder: %v", err)
	}
	h2o := t.TempDir()
	os.WriteFile(filepath.Join(h2o, "MLmodel"), []byte("flavors:\n  h2o:\n    data: model.h2o\n"), 0o644)
	if _, err := serve.Load(h2o, serve.LoadOptions{}); !errors.Is(err, serve.ErrNoPredictor) || !strings.Contains(err.Error(), "h2o") {
		t.Errorf("h2o: %v", err)
	}
	random := onnxDir(t, "random.onnx", "")
	if _, err := serve.Load(random, serve.LoadOptions{}); err == nil || !strings.Contains(err.Error(), "operator RandomNormalLike is not supported") {
		t.Errorf("onnx with RandomNormalLike: %v", err)
	}
	// An sklearn model whose Python lacks scikit-learn.
	sk := t.TempDir()
	copyDir(t, "../../shared/testdata/mlflow-2.17.2/models/sklearn", sk)
	bare := filepath.Join(t.TempDir(), "venv")
	if out, err := exec.Command(systemPython(t), "-m", "venv", "--without-pip", bare).CombinedOutput(); err != nil {
		t.Fatalf("venv: %v %s", err, out)
	}
	if _, err := serve.Load(sk, serve.LoadOptions{Python: filepath.Join(bare, "bin", "python3"), PreferPython: true}); err == nil || !strings.Contains(err.Error(), "could not load the model") || !strings.Contains(err.Error(), "No module named") {
		t.Errorf("sklearn without scikit-learn: %v", err)
	}
	// A legacy binary booster cut short.
	cut := modelDir(t, "reg.json", false)
	b, _ := os.ReadFile(filepath.Join(testdata, "reg.xgb"))
	os.WriteFile(filepath.Join(cut, "reg.json"), b[:len(b)/2], 0o644)
	if _, err := serve.Load(cut, serve.LoadOptions{}); err == nil || !strings.Contains(err.Error(), "legacy binary format: tree") || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated legacy booster: %v", err)
	}
}

// TestServesMLflowLoggedXGBoost: the booster MLflow 2.17.2 logged
// (model.xgb, its default legacy binary format; copied from
// shared/testdata) is served with the predictions XGBoost makes of it.
func TestServesMLflowLoggedXGBoost(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, "../../shared/testdata/mlflow-2.17.2/models/xgboost", dir)
	url := start(t, dir, serve.Options{})
	fx := testutil.ReadXGBoostPredictions(t)
	want := testutil.PredictionsBody(fx.MLflow.Predictions)
	code, _, body := post(t, url, "application/json", `{"inputs": `+fx.RowsJSON(len(fx.Rows), 4)+`}`)
	if code != 200 || body != want {
		t.Fatalf("%d %s\nwant %s", code, body, want)
	}
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// systemPython is Debian's python3 with numpy, scikit-learn, pandas and
// xgboost (.ci/run installs them); without them the test fails under CI
// and is skipped locally, saying what to install.
func systemPython(t testing.TB) string {
	t.Helper()
	return pylines.Debian(t, "apt-get install python3-sklearn python3-pandas python3-xgboost", "numpy", "sklearn", "pandas", "xgboost")
}

// TestServesSklearn: MLflow 2.17.2's own sklearn model (a cloudpickle'd
// ElasticNet with a tensor signature) is served in Go, and (PreferPython)
// by two Python workers, alike: concurrent requests get scikit-learn's
// own predictions, byte for byte; a wrong width is refused by the
// signature; an error inside the model is MLflow's generic 400 and the
// server (the worker) lives on.
func TestServesSklearn(t *testing.T) {
	py := systemPython(t)
	dir := t.TempDir()
	copyDir(t, "../../shared/testdata/mlflow-2.17.2/models/sklearn", dir)
	for _, runtime := range []string{"go", "python"} {
		t.Run(runtime, func(t *testing.T) {
			m, err := serve.Load(dir, serve.LoadOptions{Python: py, Workers: 2, PreferPython: runtime == "python"})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if m.Flavor != "sklearn" || m.Runtime != runtime {
				t.Fatalf("flavor %s runtime %s", m.Flavor, m.Runtime)
			}
			rel := 0.0 // Python's answers are scikit-learn's, byte for byte
			if runtime == "go" {
				rel = 1e-15 // Go sums a dot product in another order than BLAS
			}
			servesSklearn(t, m, rel)
		})
	}
}

func servesSklearn(t *testing.T, m *serve.Model, rel float64) {
	srv := httptest.NewServer(serve.NewHandler(m, serve.Options{}))
	defer srv.Close()
	fx := testutil.ReadSklearnPredictions(t)
	rows, _ := json.Marshal(fx.Rows)
	wantBody := testutil.PredictionsBody(fx.Predictions)
	var wg sync.WaitGroup
	errs := make(chan string, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, _, body := post(t, srv.URL, "application/json", `{"inputs": `+string(rows)+`}`); code != 200 || !testutil.MatchesPredictions(body, fx.Predictions, rel) {
				errs <- fmt.Sprintf("%d %s", code, body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("got %s, want %s", e, wantBody)
	}
	if code, _, body := post(t, srv.URL, "application/json", `{"inputs": [[1, 2, 3]]}`); code != 400 || !strings.Contains(body, "INVALID_PARAMETER_VALUE") || !strings.Contains(body, "Shape of input (1, 3) does not match expected shape (-1, 4)") {
		t.Errorf("wrong width: %d %s", code, body)
	}
	if code, _, body := post(t, srv.URL, "application/json", `{"inputs": [[1, 2, 3, "x"]]}`); code != 400 || !strings.Contains(body, `"error_code":"BAD_REQUEST"`) || !strings.Contains(body, "could not convert string to float") {
		t.Errorf("model error: %d %s", code, body)
	}
	if code, _, body := post(t, srv.URL, "application/json", `{"inputs": `+string(rows)+`}`); code != 200 || !testutil.MatchesPredictions(body, fx.Predictions, rel) {
		t.Errorf("after an error: %d %s", code, body)
	}
}

// TestPythonWorkerXGBoostAgreesWithGo: with PreferPython, a booster is
// served by xgboost itself in a worker; it answers what the Go predictor
// answers, to 1e-6.
func TestPythonWorkerXGBoostAgreesWithGo(t *testing.T) {
	py := systemPython(t)
	dir := modelDir(t, "softprob.json", false)
	goModel, err := serve.Load(dir, serve.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pyModel, err := serve.Load(dir, serve.LoadOptions{Python: py, PreferPython: true})
	if err != nil {
		t.Fatal(err)
	}
	defer pyModel.Close()
	body := []byte(`{"inputs": [[0.1, 0.2, 0.3, 0.4, 0.5], [0.9, null, 0.1, 0.5, 0.2]]}`)
	var got [2]struct{ Predictions [][]float64 }
	for i, m := range []*serve.Model{goModel, pyModel} {
		out, err := m.Score(context.Background(), "json", body)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(out, &got[i]); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
	}
	for r := range got[0].Predictions {
		for k, g := range got[0].Predictions[r] {
			if p := got[1].Predictions[r][k]; math.Abs(g-p) > 1e-6*math.Abs(p) {
				t.Errorf("row %d class %d: Go %v, xgboost %v", r, k, g, p)
			}
		}
	}
}

// TestServesXGBoostWrappersAsMLflow: a booster logged as one of XGBoost's
// scikit-learn wrappers (the flavor's model_class) is served as MLflow
// serves it, by the Go predictor and by a Python worker alike: a
// classifier answers class labels, early stopping's best_iteration
// bounds the rounds, a regressor's own missing value is missing. Each
// answer equals what XGBoost's wrapper predicts
// (testdata/make_sklearn_predictions.py).
func TestServesXGBoostWrappersAsMLflow(t *testing.T) {
	py := systemPython(t)
	b, err := os.ReadFile(filepath.Join(testdata, "sklearn", "predictions.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Columns []string
		Rows    [][]*float64
		Models  map[string]struct {
			ModelClass  string `json:"model_class"`
			Predictions []any
		}
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	split, _ := json.Marshal(map[string]any{"dataframe_split": map[string]any{"columns": fx.Columns, "data": fx.Rows}})
	bodies := map[string]string{}
	for _, name := range []string{"classifier_es.xgb", "multiclass_es.json", "softmax.json", "regressor_missing_es.ubj", "label_encoder.json", "rf_classifier.json"} {
		t.Run(name, func(t *testing.T) {
			want := fx.Models[name]
			dir := writeModelDir(t, filepath.Join("sklearn", name), false)
			mm, _ := os.ReadFile(filepath.Join(dir, "MLmodel"))
			mm = []byte(strings.Replace(string(mm), "model_class: xgboost.core.Booster", "model_class: "+want.ModelClass, 1))
			if err := os.WriteFile(filepath.Join(dir, "MLmodel"), mm, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, opts := range []serve.LoadOptions{{}, {Python: py, PreferPython: true}} {
				m, err := serve.Load(dir, opts)
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				out, err := m.Score(context.Background(), "json", split)
				if err != nil {
					t.Fatalf("%s: %v", m.Runtime, err)
				}
				var got struct{ Predictions []any }
				if err := json.Unmarshal(out, &got); err != nil {
					t.Fatalf("%s: %s: %v", m.Runtime, out, err)
				}
				if len(got.Predictions) != len(want.Predictions) {
					t.Fatalf("%s: %s", m.Runtime, out)
				}
				for i, w := range want.Predictions {
					g := got.Predictions[i]
					if wf, ok := w.(float64); ok && w != g {
						if gf, ok := g.(float64); !ok || math.Abs(gf-wf) > 1e-6*math.Abs(wf) {
							t.Errorf("%s: row %d: %v, XGBoost %v", m.Runtime, i, g, w)
						}
					} else if !ok && g != w {
						t.Errorf("%s: row %d: %v, XGBoost %v", m.Runtime, i, g, w)
					}
				}
				// Labels are written as MLflow's server writes them,
				// byte for byte: the Go predictor's as Python's.
				if _, isFloat := want.Predictions[0].(float64); !isFloat || strings.HasSuffix(name, "softmax.json") {
					if bodies[name] == "" {
						bodies[name] = string(out)
					} else if bodies[name] != string(out) {
						t.Errorf("go answered %s, python %s", bodies[name], out)
					}
				}
				if _, isLabel := want.Predictions[0].(string); isLabel && !strings.HasPrefix(string(out), `{"predictions": ["low", "low", `) {
					t.Errorf("%s: %s", m.Runtime, out)
				}
			}
		})
	}
}

// onnxDir writes a model folder for an ONNX fixture, with sig as its
// signature inputs when not "".
func onnxDir(t testing.TB, file, sig string) string {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("../plugins/builtin/testdata/onnx", file))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "model.onnx"), b, 0o644)
	if sub := filepath.Dir(file); sub != "." {
		// A folder as mlflow.onnx writes it: model.onnx and the files of
		// its external data.
		ents, _ := os.ReadDir(filepath.Join("../plugins/builtin/testdata/onnx", sub))
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join("../plugins/builtin/testdata/onnx", sub, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644)
		}
	}
	mm := "flavors:\n  onnx:\n    data: model.onnx\n    onnx_version: 1.12.0\n  python_function:\n    data: model.onnx\n    loader_module: mlflow.onnx\n"
	if sig != "" {
		mm += "signature:\n  inputs: '" + sig + "'\n"
	}
	os.WriteFile(filepath.Join(dir, "MLmodel"), []byte(mm), 0o644)
	return dir
}

// TestServesONNXInGo: ONNX models run in Go (one with its weights in an
// external data file, as mlflow.onnx saves them) answer as mlflow.onnx's
// pyfunc does — with a tensor signature, {output: nested lists}; a named
// DataFrame without one, records of each output — with the values numpy
// computes for the same graphs (make_onnx_predictions.py), to 1e-6.
func TestServesONNXInGo(t *testing.T) {
	b, err := os.ReadFile("../plugins/builtin/testdata/onnx/predictions.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Rows   [][]float64
		Models map[string]struct{ Values [][]float64 }
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	rows, _ := json.Marshal(fx.Rows)
	close := func(name string, got [][]float64) {
		t.Helper()
		want := fx.Models[name].Values
		if len(got) != len(want) {
			t.Fatalf("%s: %d rows, want %d", name, len(got), len(want))
		}
		for i := range want {
			for j, w := range want[i] {
				if g := got[i][j]; math.Abs(g-w) > 1e-6*math.Abs(w) {
					t.Errorf("%s [%d,%d]: %v, numpy %v", name, i, j, g, w)
				}
			}
		}
	}
	url := start(t, onnxDir(t, "mlp.onnx", `[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]`), serve.Options{})
	code, _, body := post(t, url, "application/json", `{"inputs": `+string(rows)+`}`)
	var tensorOut struct{ Predictions map[string][][]float64 }
	if err := json.Unmarshal([]byte(body), &tensorOut); code != 200 || err != nil || !strings.HasPrefix(body, `{"predictions": {"y": [[`) {
		t.Fatalf("mlp: %d %v %s", code, err, body)
	}
	close("mlp.onnx", tensorOut.Predictions["y"])
	// MLflow's onnx flavor keeps every tensor of 1 KiB or more in a file
	// beside model.onnx (save_as_external_data): the weights are read
	// from it (they were zeros).
	extURL := start(t, onnxDir(t, "external/model.onnx", `[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]`), serve.Options{})
	code, _, body = post(t, extURL, "application/json", `{"inputs": `+string(rows)+`}`)
	var extOut struct{ Predictions map[string][][]float64 }
	if err := json.Unmarshal([]byte(body), &extOut); code != 200 || err != nil {
		t.Fatalf("external: %d %v %s", code, err, body)
	}
	close("external/model.onnx", extOut.Predictions["y"])
	if code, _, body := post(t, url, "application/json", `{"inputs": [[1, 2, 3]]}`); code != 400 || !strings.Contains(body, "does not match expected shape (-1, 4)") {
		t.Errorf("mlp, 3 columns: %d %s", code, body)
	}

	url = start(t, onnxDir(t, "linear.onnx", ""), serve.Options{})
	var records []string
	for _, r := range fx.Rows {
		records = append(records, fmt.Sprintf(`{"a": %v, "b": %v, "c": %v, "d": %v}`, r[0], r[1], r[2], r[3]))
	}
	code, _, body = post(t, url, "application/json", `{"dataframe_records": [`+strings.Join(records, ", ")+`]}`)
	var recOut struct{ Predictions []map[string]float64 }
	if err := json.Unmarshal([]byte(body), &recOut); code != 200 || err != nil || !strings.HasPrefix(body, `{"predictions": [{"y": `) {
		t.Fatalf("linear: %d %v %s", code, err, body)
	}
	var got [][]float64
	for _, r := range recOut.Predictions {
		got = append(got, []float64{r["y"]})
	}
	close("linear.onnx", got)

	// No rows (a CSV of a header alone) is an empty frame, as onnxruntime
	// runs a batch of none; gonnx's kernels panicked on it.
	if code, _, body := post(t, url, "text/csv", "a,b,c,d\n"); code != 200 || body != `{"predictions": []}` {
		t.Errorf("linear, no rows: %d %s", code, body)
	}
	url = start(t, onnxDir(t, "mlp.onnx", `[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]`), serve.Options{})
	if code, _, body := post(t, url, "text/csv", "a,b,c,d\n"); code != 200 || body != `{"predictions": {"y": []}}` {
		t.Errorf("mlp, no rows: %d %s", code, body)
	}
	if code, _, body := post(t, url, "application/json", `{"inputs": []}`); code != 400 || !strings.Contains(body, "Shape of input (0,) does not match expected shape (-1, 4).") {
		t.Errorf("mlp, an empty list: %d %s", code, body)
	}
}

// torchFixtures reads make_torch_onnx.py's predictions: the rows, and
// each model's inputs and PyTorch's outputs.
type torchFixtures struct {
	Rows   [][]float64
	Models map[string]struct {
		Inputs  map[string]struct{ Values []float64 }
		Outputs map[string]struct{ Values []float64 }
	}
}

func readTorchFixtures(t *testing.T) torchFixtures {
	t.Helper()
	b, err := os.ReadFile("../plugins/builtin/testdata/onnx/torch/predictions.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx torchFixtures
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	return fx
}

// nearPyTorch checks served values against PyTorch's: 2e-6 relative or
// 1e-6 absolute (float32 rounding in another order).
func nearPyTorch(t *testing.T, name string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, PyTorch %d", name, len(got), len(want))
	}
	for i, g := range got {
		if w := want[i]; math.Abs(g-w) > 1e-6 && math.Abs(g-w) > 2e-6*math.Abs(w) {
			t.Errorf("%s [%d]: %v, PyTorch %v", name, i, g, w)
		}
	}
}

// TestServesPyTorchONNXInGo: networks exported by PyTorch's ONNX
// exporter (make_torch_onnx.py) are served in Go with PyTorch's values: a
// transformer block (GELU, LayerNormalization) to 2e-6, an embedding of
// token ids (an int64 input; a null among them refused), and a model of
// two outputs whose second is ArgMax's int64, written as integers, as
// MLflow writes numpy's int64 (a float output keeps its ".0").
func TestServesPyTorchONNXInGo(t *testing.T) {
	fx := readTorchFixtures(t)
	rows, _ := json.Marshal(fx.Rows)
	near := func(name string, got, want []float64) { t.Helper(); nearPyTorch(t, name, got, want) }
	sig := `[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 6]}}]`
	url := start(t, onnxDir(t, "torch/gelu_layernorm_17.onnx", sig), serve.Options{})
	code, _, body := post(t, url, "application/json", `{"inputs": `+string(rows)+`}`)
	var out struct{ Predictions map[string][][]float64 }
	if err := json.Unmarshal([]byte(body), &out); code != 200 || err != nil || len(out.Predictions["y"]) != len(fx.Rows) {
		t.Fatalf("gelu_layernorm_17: %d %v %s", code, err, body)
	}
	near("gelu_layernorm_17", slices.Concat(out.Predictions["y"]...), fx.Models["gelu_layernorm_17.onnx"].Outputs["y"].Values)

	// Token ids into an embedding: an int64 input, given as JSON's
	// integers.
	emb := fx.Models["embedding_14.onnx"]
	ids := make([][]int, 4)
	for i := range ids {
		for _, v := range emb.Inputs["x"].Values[i*5 : (i+1)*5] {
			ids[i] = append(ids[i], int(v))
		}
	}
	idsJSON, _ := json.Marshal(ids)
	url = start(t, onnxDir(t, "torch/embedding_14.onnx", ""), serve.Options{})
	code, _, body = post(t, url, "application/json", `{"inputs": `+string(idsJSON)+`}`)
	out.Predictions = nil
	if err := json.Unmarshal([]byte(body), &out); code != 200 || err != nil {
		t.Fatalf("embedding_14: %d %v %s", code, err, body)
	}
	near("embedding_14", slices.Concat(out.Predictions["y"]...), emb.Outputs["y"].Values)
	if code, _, body := post(t, url, "application/json", `{"inputs": [[1, 2, null, 4, 5]]}`); code != 400 || !strings.Contains(body, "input x is int64: cannot convert non-finite values (NA or inf) to integer") {
		t.Errorf("embedding_14 with a null: %d %s", code, body)
	}

	url = start(t, onnxDir(t, "torch/reductions_13.onnx", sig), serve.Options{})
	code, _, body = post(t, url, "application/json", `{"inputs": `+string(rows)+`}`)
	var best []string
	for _, v := range fx.Models["reductions_13.onnx"].Outputs["best"].Values {
		best = append(best, strconv.Itoa(int(v)))
	}
	if code != 200 || !strings.HasSuffix(body, `, "best": [`+strings.Join(best, ", ")+`]}}`) || !strings.HasPrefix(body, `{"predictions": {"y": [[`) {
		t.Fatalf("reductions_13: %d %s\nwant best %v", code, body, best)
	}
	// A float output's whole number keeps its fraction: a row of zeros
	// has the mean 0, written 0.0.
	zeros := `{"inputs": [[0, 0, 0, 0, 0, 0]]}`
	if code, _, body := post(t, url, "application/json", zeros); code != 200 || !strings.HasPrefix(body, `{"predictions": {"y": [[0.0, 0.0, `) || !strings.HasSuffix(body, `"best": [0]}}`) {
		t.Errorf("reductions_13, zeros: %d %s", code, body)
	}
}

// TestServesImagesToONNXInGo: a batch of images as nested lists (`inputs`
// of shape [3, 1, 13, 13], as numpy reads them) runs a PyTorch CNN in Go
// with PyTorch's values; a batch of another shape is refused by the
// tensor signature with MLflow's message, and lists of uneven lengths
// with numpy's.
func TestServesImagesToONNXInGo(t *testing.T) {
	m := readTorchFixtures(t).Models["image_cnn_17.onnx"]
	images := make([][][][]float64, 3)
	for i := range images {
		images[i] = [][][]float64{make([][]float64, 13)}
		for r := range 13 {
			images[i][0][r] = m.Inputs["x"].Values[(i*13+r)*13 : (i*13+r+1)*13]
		}
	}
	body, _ := json.Marshal(map[string]any{"inputs": images})
	sig := `[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 1, 13, 13]}}]`
	for _, s := range []string{sig, ""} {
		url := start(t, onnxDir(t, "torch/image_cnn_17.onnx", s), serve.Options{})
		code, _, resp := post(t, url, "application/json", string(body))
		var out struct{ Predictions map[string][][]float64 }
		if err := json.Unmarshal([]byte(resp), &out); code != 200 || err != nil {
			t.Fatalf("signature %q: %d %v %s", s, code, err, resp)
		}
		nearPyTorch(t, fmt.Sprintf("signature %q", s), slices.Concat(out.Predictions["y"]...), m.Outputs["y"].Values)
	}
	url := start(t, onnxDir(t, "torch/image_cnn_17.onnx", sig), serve.Options{})
	small, _ := json.Marshal(map[string]any{"inputs": [][][][]float64{{make([][]float64, 12)}}})
	small = bytes.ReplaceAll(small, []byte("null"), []byte("[0,0,0,0,0,0,0,0,0,0,0,0]"))
	if code, _, resp := post(t, url, "application/json", string(small)); code != 400 || !strings.Contains(resp, `"error_code":"INVALID_PARAMETER_VALUE"`) ||
		!strings.Contains(resp, "Shape of input (1, 1, 12, 12) does not match expected shape (-1, 1, 13, 13).") {
		t.Errorf("12x12 image: %d %s", code, resp)
	}
	if code, _, resp := post(t, url, "application/json", `{"inputs": [[[[1, 2], [3]]]]}`); code != 400 ||
		!strings.Contains(resp, "setting an array element with a sequence. The requested array has an inhomogeneous shape after 3 dimensions. The detected shape was (1, 1, 2) + inhomogeneous part.") {
		t.Errorf("uneven image: %d %s", code, resp)
	}
	// Without a signature, the model's own input shape refuses it.
	url = start(t, onnxDir(t, "torch/image_cnn_17.onnx", ""), serve.Options{})
	if code, _, resp := post(t, url, "application/json", string(small)); code != 400 || !strings.Contains(resp, "input x of shape [1 1 12 12]; the model takes [-1 1 13 13]") {
		t.Errorf("12x12 image, no signature: %d %s", code, resp)
	}
}

// TestServesONNXOfSeveralInputs: a model of several inputs is fed by
// name as mlflow.onnx's pyfunc feeds it — a dict's arrays as given (the
// answer a dict), a DataFrame's columns as 1-D arrays (the answer its
// records) — with PyTorch's values; an array is refused with MLflow's
// message, and a tensor signature of several named tensors checks each.
func TestServesONNXOfSeveralInputs(t *testing.T) {
	fx := readTorchFixtures(t)
	near := func(name string, got, want []float64) { t.Helper(); nearPyTorch(t, name, got, want) }
	rowsOf := func(v []float64, width int) [][]float64 {
		var r [][]float64
		for i := 0; i < len(v); i += width {
			r = append(r, v[i:i+width])
		}
		return r
	}
	two := fx.Models["two_inputs_13.onnx"]
	body, _ := json.Marshal(map[string]any{"inputs": map[string]any{"a": rowsOf(two.Inputs["a"].Values, 3), "b": rowsOf(two.Inputs["b"].Values, 2)}})
	url := start(t, onnxDir(t, "torch/two_inputs_13.onnx", ""), serve.Options{})
	code, _, resp := post(t, url, "application/json", string(body))
	var out struct{ Predictions map[string][][]float64 }
	if err := json.Unmarshal([]byte(resp), &out); code != 200 || err != nil || !strings.HasPrefix(resp, `{"predictions": {"y": [[`) {
		t.Fatalf("two inputs: %d %v %s", code, err, resp)
	}
	near("two inputs", slices.Concat(out.Predictions["y"]...), two.Outputs["y"].Values)
	if code, _, resp := post(t, url, "application/json", `{"inputs": [[1, 2, 3, 4, 5]]}`); code != 400 ||
		!strings.Contains(resp, "Unable to map numpy array input to the expected model input. Numpy arrays can only be used as input for MLflow ONNX models that have a single input. This model requires 2 inputs. Please pass in data as either a dictionary or a DataFrame with the following tensors: ['a', 'b'].") {
		t.Errorf("two inputs, an array: %d %s", code, resp)
	}
	sig := `[{"name": "a", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}, {"name": "b", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 2]}}]`
	url = start(t, onnxDir(t, "torch/two_inputs_13.onnx", sig), serve.Options{})
	code, _, resp = post(t, url, "application/json", string(body))
	out.Predictions = nil
	if err := json.Unmarshal([]byte(resp), &out); code != 200 || err != nil {
		t.Fatalf("two inputs, signed: %d %v %s", code, err, resp)
	}
	near("two inputs, signed", slices.Concat(out.Predictions["y"]...), two.Outputs["y"].Values)
	for in, want := range map[string]string{
		`{"inputs": {"a": [[1, 2, 3]]}}`:                   "Model is missing inputs ['b'].",
		`{"inputs": {"a": [[1, 2, 3]], "b": [[1, 2, 3]]}}`: "Shape of input (1, 3) does not match expected shape (-1, 2).",
		`{"inputs": [[1, 2, 3, 4, 5]]}`:                    "This model contains a tensor-based model signature with input names",
	} {
		if code, _, resp := post(t, url, "application/json", in); code != 400 || !strings.Contains(resp, `"error_code":"INVALID_PARAMETER_VALUE"`) || !strings.Contains(resp, want) {
			t.Errorf("two inputs, signed, %s: %d %s", in, code, resp)
		}
	}

	// A DataFrame's columns, each a 1-D input; a column the model does
	// not take is left out; the answer is the records of the output.
	cols := fx.Models["columns_13.onnx"]
	var data [][]float64
	for i := range 5 {
		data = append(data, []float64{cols.Inputs["c"].Values[i], 7, cols.Inputs["a"].Values[i], cols.Inputs["b"].Values[i]})
	}
	split, _ := json.Marshal(map[string]any{"dataframe_split": map[string]any{"columns": []string{"c", "d", "a", "b"}, "data": data}})
	url = start(t, onnxDir(t, "torch/columns_13.onnx", ""), serve.Options{})
	code, _, resp = post(t, url, "application/json", string(split))
	var recs struct{ Predictions []map[string]float64 }
	if err := json.Unmarshal([]byte(resp), &recs); code != 200 || err != nil || !strings.HasPrefix(resp, `{"predictions": [{"y": `) {
		t.Fatalf("columns: %d %v %s", code, err, resp)
	}
	var got []float64
	for _, r := range recs.Predictions {
		got = append(got, r["y"])
	}
	near("columns", got, cols.Outputs["y"].Values)
	if code, _, resp := post(t, url, "application/json", `{"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2]]}}`); code != 400 || !strings.Contains(resp, "Error: 'c'") {
		t.Errorf("columns without c: %d %s", code, resp)
	}
}

// TestServesScikitLearnONNXInGo: scikit-learn models converted as
// skl2onnx converts them are served in Go as mlflow.onnx serves them: a
// forest ending in ZipMap answers a DataFrame with records whose
// probabilities are maps keyed by the labels' text, and an array with a
// dict whose probabilities are a list of such maps; text labels are
// text, and key the maps; a pipeline imputes a null. Labels are scikit-learn's, probabilities to 1e-5.
func TestServesScikitLearnONNXInGo(t *testing.T) {
	b, err := os.ReadFile("../plugins/builtin/testdata/onnx/sklearn/predictions.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Rows    [][]float64
		RowsNaN [][]*float64 `json:"rows_nan"`
		Models  map[string]struct {
			Label       []any
			Probability [][]float64
		}
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	check := func(name string, labels []int, probs []map[string]float64) {
		t.Helper()
		want := fx.Models[name]
		if fmt.Sprint(labels) != fmt.Sprint(want.Label) || len(probs) != len(want.Probability) {
			t.Fatalf("%s: labels %v, scikit-learn %v; %d probabilities", name, labels, want.Label, len(probs))
		}
		for i, p := range probs {
			for j, key := range []string{"1", "2", "5"} {
				if g, ok := p[key]; !ok || math.Abs(g-want.Probability[i][j]) > 1e-5 {
					t.Errorf("%s [%d] %s: %v, scikit-learn %v", name, i, key, p, want.Probability[i])
				}
			}
		}
	}
	url := start(t, onnxDir(t, "sklearn/forest_multi_zipmap.onnx", ""), serve.Options{})
	split, _ := json.Marshal(map[string]any{"dataframe_split": map[string]any{"columns": []string{"a", "b", "c", "d"}, "data": fx.Rows}})
	code, _, resp := post(t, url, "application/json", string(split))
	var recs struct {
		Predictions []struct {
			Label       int                `json:"output_label"`
			Probability map[string]float64 `json:"output_probability"`
		}
	}
	if err := json.Unmarshal([]byte(resp), &recs); code != 200 || err != nil || !strings.HasPrefix(resp, `{"predictions": [{"output_label": `) || !strings.Contains(resp, `, "output_probability": {"1": `) {
		t.Fatalf("zipmap, a DataFrame: %d %v %s", code, err, resp)
	}
	var labels []int
	var probs []map[string]float64
	for _, r := range recs.Predictions {
		labels, probs = append(labels, r.Label), append(probs, r.Probability)
	}
	check("forest_multi_zipmap.onnx", labels, probs)

	rows, _ := json.Marshal(fx.Rows)
	code, _, resp = post(t, url, "application/json", `{"inputs": `+string(rows)+`}`)
	var dict struct {
		Predictions struct {
			Label       []int                `json:"output_label"`
			Probability []map[string]float64 `json:"output_probability"`
		}
	}
	if err := json.Unmarshal([]byte(resp), &dict); code != 200 || err != nil || !strings.HasPrefix(resp, `{"predictions": {"output_label": [`) {
		t.Fatalf("zipmap, an array: %d %v %s", code, err, resp)
	}
	check("forest_multi_zipmap.onnx", dict.Predictions.Label, dict.Predictions.Probability)

	// Text labels, and a ZipMap keyed by them.
	url = start(t, onnxDir(t, "sklearn/forest_text_zipmap.onnx", ""), serve.Options{})
	code, _, resp = post(t, url, "application/json", string(split))
	var text struct {
		Predictions []struct {
			Label       string             `json:"output_label"`
			Probability map[string]float64 `json:"output_probability"`
		}
	}
	if err := json.Unmarshal([]byte(resp), &text); code != 200 || err != nil || !strings.Contains(resp, `, "output_probability": {"setosa": `) {
		t.Fatalf("text labels: %d %v %s", code, err, resp)
	}
	want := fx.Models["forest_text_zipmap.onnx"]
	for i, r := range text.Predictions {
		if fmt.Sprint(r.Label) != fmt.Sprint(want.Label[i]) || math.Abs(r.Probability["virginica"]-want.Probability[i][2]) > 1e-5 {
			t.Errorf("text labels [%d]: %v, scikit-learn %v %v", i, r, want.Label[i], want.Probability[i])
		}
	}

	// A null is NaN, which the pipeline's Imputer replaces.
	var records []map[string]any
	for _, r := range fx.RowsNaN {
		rec := map[string]any{}
		for j, v := range r {
			rec[string(rune('a'+j))] = v
		}
		records = append(records, rec)
	}
	body, _ := json.Marshal(map[string]any{"dataframe_records": records})
	url = start(t, onnxDir(t, "sklearn/pipeline.onnx", ""), serve.Options{})
	code, _, resp = post(t, url, "application/json", string(body))
	// Labels of N values and probabilities of 3N make no frame (MLflow's
	// pandas fails on them): the answer is the dict of outputs.
	var pipe struct {
		Predictions struct {
			Label []int `json:"output_label"`
		}
	}
	if err := json.Unmarshal([]byte(resp), &pipe); code != 200 || err != nil {
		t.Fatalf("pipeline: %d %v %s", code, err, resp)
	}
	if fmt.Sprint(pipe.Predictions.Label) != fmt.Sprint(fx.Models["pipeline.onnx"].Label) {
		t.Errorf("pipeline: labels %v, scikit-learn %v", pipe.Predictions.Label, fx.Models["pipeline.onnx"].Label)
	}
}

// TestPythonWorkerReplacedAfterCrash: a worker killed with SIGKILL fails
// the request it was given with 500 INTERNAL_ERROR (not the client's
// fault), and is replaced: the next requests are answered.
func TestPythonWorkerReplacedAfterCrash(t *testing.T) {
	py := systemPython(t)
	dir := t.TempDir()
	copyDir(t, "../../shared/testdata/mlflow-2.17.2/models/sklearn", dir)
	m, err := serve.Load(dir, serve.LoadOptions{Python: py, PreferPython: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	srv := httptest.NewServer(serve.NewHandler(m, serve.Options{}))
	defer srv.Close()
	body := `{"inputs": [[0.1, 0.2, 0.3, 0.4]]}`
	code, _, want := post(t, srv.URL, "application/json", body)
	if code != 200 {
		t.Fatalf("%d %s", code, want)
	}
	// The worker: a child of this process whose command line names the
	// model folder.
	var pid int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), dir) {
			fmt.Sscan(e.Name(), &pid)
		}
	}
	if pid == 0 {
		t.Fatal("no worker process found")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	code, _, got := post(t, srv.URL, "application/json", body)
	if code != 500 || !strings.Contains(got, `"error_code":"INTERNAL_ERROR"`) || !strings.Contains(got, "Python worker failed") {
		t.Errorf("with the worker killed: %d %s", code, got)
	}
	for i := 0; i < 3; i++ {
		if code, _, got := post(t, srv.URL, "application/json", body); code != 200 || got != want {
			t.Errorf("after the crash: %d %s", code, got)
		}
	}
}

// TestServesSklearnLikePython: scikit-learn models served in Go and by a
// Python worker (scikit-learn itself) answer the same bodies byte for
// byte — a RandomForestClassifier with text labels (predict's labels,
// predict_proba's probabilities, the pyfunc's predict_fn), and a
// ColumnTransformer of numbers and categories before a
// LogisticRegression — from frames with and without names, text, null,
// unknown categories, columns out of order or missing, and the same
// refusals.
func TestServesSklearnLikePython(t *testing.T) {
	py := systemPython(t)
	sameAsPython(t, py, "forest_p5.pkl", []string{"predict", "predict_proba"}, []string{
		`{"dataframe_split": {"columns": ["a", "b", "c", "d"], "data": [[0.1, 0.9, 0.3, 0.2], [0.8, 0.1, 0.5, 0.9], [0.5, 0.5, 0.5, 0.5]]}}`,
		`{"inputs": [[0.1, 0.9, 0.3, 0.2], [0.8, 0.1, 0.5, 0.9]]}`,
		`{"dataframe_records": [{"a": 0.3, "b": 0.6, "c": 0.2, "d": 0.7}]}`,
		`{"inputs": [[0.1, 0.9, 0.3, null]]}`,
		`{"inputs": [[0.1, 0.9, 0.3]]}`,
		`{"dataframe_split": {"columns": [0, 1, 2, 3], "data": [[0.1, 0.9, 0.3, 0.2], [0.8, 0.1, 0.5, 0.9]]}}`,
		`{"dataframe_split": {"columns": [0, "b", 2.5, 3], "data": [[0.1, 0.9, 0.3, 0.2]]}}`,
	})
	// A model fitted on named columns, sent pandas' numeric labels (as
	// MLflow's serving example of a frame without names has them):
	// scikit-learn takes them as no names and predicts by position.
	named := filepath.Join(t.TempDir(), "named.pkl")
	gen := exec.Command(py, "-c", `import pickle, sys, numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
rng = np.random.RandomState(0)
X = pd.DataFrame(rng.rand(40, 4), columns=["a", "b", "c", "d"])
pickle.dump(LogisticRegression().fit(X, (X["a"] > X["b"]).astype(int)), open(sys.argv[1], "wb"))`, named)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	sameAsPython(t, py, named, []string{"predict_proba"}, []string{
		`{"dataframe_split": {"columns": ["a", "b", "c", "d"], "data": [[0.1, 0.9, 0.3, 0.2], [0.8, 0.1, 0.5, 0.9]]}}`,
		`{"dataframe_split": {"columns": [0, 1, 2, 3], "data": [[0.1, 0.9, 0.3, 0.2], [0.8, 0.1, 0.5, 0.9]]}}`,
		`{"dataframe_split": {"columns": [3, 2, 1, 0], "data": [[0.1, 0.9, 0.3, 0.2]]}}`,
		`{"dataframe_split": {"columns": ["a", "b", "c", 3], "data": [[0.1, 0.9, 0.3, 0.2]]}}`,
		`{"dataframe_split": {"columns": ["b", "a", "c", "d"], "data": [[0.1, 0.9, 0.3, 0.2]]}}`,
	})
	dir := t.TempDir() // and in Go, numeric labels are positions: the named columns' answer
	pkl, _ := os.ReadFile(named)
	os.WriteFile(filepath.Join(dir, "model.pkl"), pkl, 0o644)
	os.WriteFile(filepath.Join(dir, "MLmodel"), []byte("flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n  sklearn:\n    pickled_model: model.pkl\n"), 0o644)
	m, err := serve.Load(dir, serve.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	byName, err1 := m.Score(context.Background(), "json", []byte(`{"dataframe_split": {"columns": ["a", "b", "c", "d"], "data": [[0.1, 0.9, 0.3, 0.2], [0.8, 0.1, 0.5, 0.9]]}}`))
	byLabel, err2 := m.Score(context.Background(), "json", []byte(`{"dataframe_split": {"columns": [0, 1, 2, 3], "data": [[0.1, 0.9, 0.3, 0.2], [0.8, 0.1, 0.5, 0.9]]}}`))
	if err1 != nil || err2 != nil || string(byName) != string(byLabel) {
		t.Errorf("numeric labels: %s %v, named columns: %s %v", byLabel, err2, byName, err1)
	}
	sameAsPython(t, py, "column_transformer_p5.pkl", []string{"predict", "predict_proba"}, []string{
		`{"dataframe_records": [{"x": 0.5, "city": "SF", "y": 0.2}, {"x": null, "city": null, "y": 0.9}, {"x": 0.1, "city": "Paris", "y": 0.3}]}`,
		`{"dataframe_split": {"columns": ["y", "x", "city"], "data": [[0.2, 0.5, "SF"], [0.7, 0.3, "LA"]]}}`,
		`{"dataframe_split": {"columns": ["x", "y"], "data": [[0.2, 0.5]]}}`,
		`{"dataframe_records": [{"x": "0.5", "city": "NY", "y": 0.2}]}`,
		`{"dataframe_records": [{"x": "abc", "city": "NY", "y": 0.2}]}`,
	})
}

// sameAsPython serves the fixture pickle (a file of testdata/sklearn, or
// an absolute path), for each predict_fn, in Go
// and by a Python worker, and compares their answers to bodies.
func sameAsPython(t *testing.T, py, fixture string, fns, bodies []string) {
	t.Helper()
	if !filepath.IsAbs(fixture) {
		fixture = "../plugins/builtin/testdata/sklearn/" + fixture
	}
	pkl, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range fns {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "model.pkl"), pkl, 0o644)
		os.WriteFile(filepath.Join(dir, "MLmodel"), []byte("flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n    predict_fn: "+fn+"\n  sklearn:\n    pickled_model: model.pkl\n    serialization_format: pickle\n"), 0o644)
		var answers [2][]string
		for i, runtime := range []string{"go", "python"} {
			m, err := serve.Load(dir, serve.LoadOptions{Python: py, PreferPython: runtime == "python"})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if m.Runtime != runtime {
				t.Fatalf("%s: runtime %s", runtime, m.Runtime)
			}
			srv := httptest.NewServer(serve.NewHandler(m, serve.Options{}))
			defer srv.Close()
			for _, b := range bodies {
				code, _, body := post(t, srv.URL, "application/json", b)
				if code == 400 { // the same refusal; Python's carries a stack trace
					var e struct{ Message string }
					json.Unmarshal([]byte(body), &e)
					body = e.Message
				}
				answers[i] = append(answers[i], fmt.Sprint(code, " ", body))
			}
		}
		for j := range bodies {
			if !sameAnswer(answers[0][j], answers[1][j]) {
				t.Errorf("%s %s %s:\n go:     %s\n python: %s", fixture, fn, bodies[j], answers[0][j], answers[1][j])
			}
		}
		if !strings.HasPrefix(answers[0][0], `200 {"predictions": [`) {
			t.Errorf("%s %s: %s", fixture, fn, answers[0][0])
		}
	}
}

// sameAnswer compares two "status body" answers: the same status, and
// the same JSON but for numbers within 1e-12 of each other (relative: a
// dot product summed in another order than numpy's BLAS).
func sameAnswer(a, b string) bool {
	if a == b {
		return true
	}
	ca, ja, _ := strings.Cut(a, " ")
	cb, jb, _ := strings.Cut(b, " ")
	var va, vb any
	if ca != cb || json.Unmarshal([]byte(ja), &va) != nil || json.Unmarshal([]byte(jb), &vb) != nil {
		return false
	}
	var same func(x, y any) bool
	same = func(x, y any) bool {
		switch x := x.(type) {
		case map[string]any:
			ym, ok := y.(map[string]any)
			if !ok || len(x) != len(ym) {
				return false
			}
			for k, v := range x {
				if !same(v, ym[k]) {
					return false
				}
			}
			return true
		case []any:
			yl, ok := y.([]any)
			if !ok || len(x) != len(yl) {
				return false
			}
			for i := range x {
				if !same(x[i], yl[i]) {
					return false
				}
			}
			return true
		case float64:
			yf, ok := y.(float64)
			return ok && math.Abs(x-yf) <= 1e-12*math.Max(math.Abs(x), math.Abs(yf))
		}
		return x == y
	}
	return same(va, vb)
}
