package serve_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/serve"
)

// FuzzInvocations sends arbitrary bodies to /invocations of models served
// in Go (a signed and an unsigned XGBoost booster, an ONNX graph with a
// tensor signature and one without), in each content type: whatever the
// body, the answer is 200 with predictions, or MLflow's error JSON (or
// the 415 text) with a 4xx status; never a panic, never a 500.
var pyNumbers = regexp.MustCompile(`-?Infinity|NaN`)

func FuzzInvocations(f *testing.F) {
	row := `{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}`
	for _, seed := range []string{
		`{"dataframe_split": {"columns": ["a", "b", "c", "d", "e"], "data": [[1, 2, 3, 4, 5]]}}`,
		`{"dataframe_split": {"index": [0], "data": [[1, 2, 3, 4, 5]]}}`,
		`{"dataframe_records": [` + row + `]}`,
		`{"instances": [[1, 2, 3, 4, 5]]}`,
		`{"inputs": [[1, 2, 3, 4, 5]]}`,
		`{"inputs": {"a": [1], "b": [2], "c": [3], "d": [4], "e": [5]}}`,
		`{"inputs": [[1.5, 2, 3, 4]], "params": {"k": 1}}`,
		`{"instances": [{"a": [1, 2], "b": null}]}`,
		"a,b,c,d,e\n1,2,3,4,5\n",
		"a,b\n\"x\n",
		`{"inputs": [[1e400, -0, "NaN", true, null]]}`,
	} {
		for ct := range uint8(3) {
			f.Add(ct, []byte(seed))
		}
	}
	type model struct {
		name string
		h    http.Handler
	}
	var models []model
	for _, m := range []struct{ name, dir string }{
		{"xgboost signed", writeModelDir(f, "reg.json", true)},
		{"xgboost softprob", writeModelDir(f, "softprob.json", false)},
		{"onnx tensor", onnxDir(f, "mlp.onnx", `[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]`)},
		{"onnx unsigned", onnxDir(f, "linear.onnx", "")},
	} {
		loaded, err := serve.Load(m.dir, serve.LoadOptions{})
		if err != nil {
			f.Fatal(err)
		}
		models = append(models, model{m.name, serve.NewHandler(loaded, serve.Options{MaxBody: 1 << 16})})
	}
	cts := []string{"application/json", "text/csv", "application/json; charset=utf-8"}
	f.Fuzz(func(t *testing.T, ct uint8, body []byte) {
		for _, m := range models {
			req := httptest.NewRequest("POST", "/invocations", strings.NewReader(string(body)))
			req.Header.Set("Content-Type", cts[int(ct)%len(cts)])
			rec := httptest.NewRecorder()
			m.h.ServeHTTP(rec, req)
			got := rec.Body.Bytes()
			switch {
			case rec.Code == http.StatusOK:
				var out map[string]json.RawMessage // Python's json: NaN and Infinity are numbers
				if err := json.Unmarshal(pyNumbers.ReplaceAll(got, []byte("0")), &out); err != nil || len(out) == 0 {
					t.Fatalf("%s: 200 with a body that is not a JSON object (%v): %.300s", m.name, err, got)
				}
			case rec.Code >= 400 && rec.Code < 500:
				var e struct {
					Code    string `json:"error_code"`
					Message string `json:"message"`
				}
				if err := json.Unmarshal(got, &e); err != nil || e.Code == "" || e.Message == "" {
					t.Fatalf("%s: %d without MLflow's error JSON (%v): %.300s", m.name, rec.Code, err, got)
				}
			default:
				t.Fatalf("%s: %d for %q: %.300s", m.name, rec.Code, body, got)
			}
		}
	})
}
