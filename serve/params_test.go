package serve_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/internal/pylines"
	"github.com/mlrun/mlrun/serve"
)

// withParams adds a params schema (MLflow's ParamSpec JSON) to the
// signature of a model folder written by writeModelDir.
func withParams(t *testing.T, dir, params string) string {
	t.Helper()
	p := filepath.Join(dir, "MLmodel")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	mm := string(b)
	if !strings.Contains(mm, "signature:") {
		mm += "signature:\n  inputs: null\n  outputs: null\n"
	}
	mm += "  params: '" + params + "'\n"
	if err := os.WriteFile(p, []byte(mm), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const paramSchema = `[{"name": "temperature", "type": "double", "default": 0.5, "shape": null}, ` +
	`{"name": "top_k", "type": "long", "default": 5, "shape": null}, ` +
	`{"name": "stop", "type": "string", "default": ["a"], "shape": [-1]}, ` +
	`{"name": "day", "type": "datetime", "default": "2024-01-02", "shape": null}, ` +
	`{"name": "greedy", "type": "boolean", "default": false, "shape": null}]`

// TestParamsSchema: params are checked against the model's params schema
// as MLflow's _enforce_params_schema checks them (mlflow/models/utils.py,
// mlflow/types/schema.py ParamSpec): what fits is accepted (unknown keys
// dropped), what does not gets MLflow's INVALID_PARAMETER_VALUE message
// naming the spec; the input schema is checked first; a model without a
// params schema ignores params, even ones that are not an object.
func TestParamsSchema(t *testing.T) {
	row := `{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}`
	plain := start(t, modelDir(t, "reg.json", true), serve.Options{})
	url := start(t, withParams(t, modelDir(t, "reg.json", true), paramSchema), serve.Options{})
	_, _, want := post(t, plain, "application/json", `{"dataframe_records": [`+row+`]}`)
	if !strings.HasPrefix(want, `{"predictions": [`) {
		t.Fatalf("no prediction to compare with: %s", want)
	}
	for _, params := range []string{`[1]`, `"x"`, `{"anything": [1, {"b": 2}]}`} {
		if code, _, body := post(t, plain, "application/json", `{"dataframe_records": [`+row+`], "params": `+params+`}`); code != 200 || body != want {
			t.Errorf("no params schema, params %s: %d %s, want 200 %s", params, code, body, want)
		}
	}
	for _, params := range []string{`null`, `{}`, `{"temperature": 1, "top_k": 3, "stop": ["x", "y"], "day": "2024-05-06T07:08:09", "greedy": true, "unknown": [1]}`, `{"stop": [], "top_k": 12345678901234567890, "day": null}`} {
		if code, _, body := post(t, url, "application/json", `{"dataframe_records": [`+row+`], "params": `+params+`}`); code != 200 || body != want {
			t.Errorf("params %s: %d %s, want 200 %s", params, code, body, want)
		}
	}
	spec := map[string]string{
		"temperature": "'temperature': double (default: 0.5)",
		"top_k":       "'top_k': long (default: 5)",
		"stop":        "'stop': string (default: ['a']) (shape: (-1,))",
		"day":         "'day': datetime (default: 2024-01-02)",
		"greedy":      "'greedy': boolean (default: False)",
	}
	invalid := func(name, msg string) string {
		return fmt.Sprintf("('%s', %q)", name, msg) // Go's %q is Python's repr for these messages
	}
	const prefix = "Failed to predict data. \nError: "
	cases := []struct{ params, msg string }{
		{`[1]`, prefix + "Parameters must be a dictionary. Got type 'list'."},
		{`"x"`, prefix + "Parameters must be a dictionary. Got type 'str'."},
		{`{"top_k": "3"}`, prefix + "Invalid parameters found: {" + invalid("top_k", "Incompatible types for param "+spec["top_k"]+" with shape None. Can not safely convert str to DataType.long.") + "}"},
		{`{"top_k": 1.5}`, prefix + "Invalid parameters found: {" + invalid("top_k", "Incompatible types for param "+spec["top_k"]+" with shape None. Can not safely convert float to DataType.long.") + "}"},
		{`{"top_k": true}`, prefix + "Invalid parameters found: {" + invalid("top_k", "Incompatible types for param "+spec["top_k"]+" with shape None. Can not safely convert bool to DataType.long.") + "}"},
		{`{"greedy": 1}`, prefix + "Invalid parameters found: {" + invalid("greedy", "Incompatible types for param "+spec["greedy"]+" with shape None. Can not safely convert int to DataType.boolean.") + "}"},
		{`{"temperature": [1]}`, prefix + "Invalid parameters found: {" + invalid("temperature", "Value should be a scalar for param "+spec["temperature"]+" with shape None, got [1]") + "}"},
		{`{"temperature": {"v": 1}}`, prefix + "Invalid parameters found: {" + invalid("temperature", "Value should be a scalar for param "+spec["temperature"]+" with shape None, got {'v': 1}") + "}"},
		{`{"stop": "x"}`, prefix + "Invalid parameters found: {" + invalid("stop", "Value must be a 1D array with shape (-1,) for param "+spec["stop"]+", received str with ndim 0") + "}"},
		{`{"stop": [["x"]]}`, prefix + "Invalid parameters found: {" + invalid("stop", "Value must be a 1D array with shape (-1,) for param "+spec["stop"]+", received list with ndim 2") + "}"},
		{`{"stop": ["x", 1]}`, prefix + "Invalid parameters found: {" + invalid("stop", "Incompatible types for param "+spec["stop"]+" internal values. Can not safely convert int to DataType.string.") + "}"},
		{`{"day": "yesterday"}`, prefix + "Invalid parameters found: {" + invalid("day", "Failed to convert value yesterday from type str to DataType.datetime for param "+spec["day"]+" with shape None") + "}"},
		{`{"greedy": "no", "top_k": "3"}`, prefix + "Invalid parameters found: {" +
			invalid("top_k", "Incompatible types for param "+spec["top_k"]+" with shape None. Can not safely convert str to DataType.long.") + ", " +
			invalid("greedy", "Incompatible types for param "+spec["greedy"]+" with shape None. Can not safely convert str to DataType.boolean.") + "}"},
	}
	for _, tc := range cases {
		code, _, body := post(t, url, "application/json", `{"dataframe_records": [`+row+`], "params": `+tc.params+`}`)
		var e struct {
			ErrorCode string `json:"error_code"`
			Message   string `json:"message"`
		}
		json.Unmarshal([]byte(body), &e)
		if code != 400 || e.ErrorCode != "INVALID_PARAMETER_VALUE" || e.Message != tc.msg {
			t.Errorf("params %s: %d %s %q\nwant 400 INVALID_PARAMETER_VALUE %q", tc.params, code, e.ErrorCode, e.Message, tc.msg)
		}
	}
	// the input schema is enforced before the params
	code, _, body := post(t, url, "application/json", `{"dataframe_records": [{"a": 1}], "params": {"top_k": "x"}}`)
	if code != 400 || !strings.Contains(body, "Model is missing inputs") {
		t.Errorf("missing inputs and bad params: %d %s, want the missing inputs", code, body)
	}
}

// TestParamsSchemaRefusedAtLoad: a params schema MLflow cannot load (an
// unknown type, a default of another type, a shape other than (-1,))
// makes the model folder an error naming the param, not a server that
// fails each request.
func TestParamsSchemaRefusedAtLoad(t *testing.T) {
	for _, tc := range []struct{ params, want string }{
		{`[{"name": "k", "type": "binary", "default": null}]`, `param k has type "binary"`},
		{`[{"name": "k", "type": "long", "default": "x"}]`, "the default of param k: Incompatible types for param 'k': long (default: x) with shape None. Can not safely convert str to DataType.long."},
		{`[{"name": "k", "type": "long", "default": [1], "shape": [2]}]`, "param k has shape [2]"},
		{`[{"name": "k", "type": "long"}]`, "a ParamSpec needs keys name, type and default"},
		{`[{"name": "k", "type": "long", "default": 1}, {"name": "k", "type": "double", "default": 1}]`, "param k is declared twice"},
		{`{"name": "k"}`, "params: json: cannot unmarshal object"},
	} {
		_, err := serve.Load(withParams(t, modelDir(t, "reg.json", true), tc.params), serve.LoadOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("params %s: %v, want an error with %q", tc.params, err, tc.want)
		}
	}
}

// TestXGBoostPredictParams: an xgboost model whose params schema declares
// arguments of XGBoost's predict (output_margin, iteration_range) is
// served by a Python worker (Go does not take them: Why says so), which
// hands them to Booster.predict as mlflow.xgboost's pyfunc does: the
// answers are XGBoost's own with those arguments, and without params the
// schema's defaults, which are plain predictions.
func TestXGBoostPredictParams(t *testing.T) {
	py := systemPython(t)
	dir := withParams(t, modelDir(t, "softprob.json", false),
		`[{"name": "output_margin", "type": "boolean", "default": false, "shape": null}, {"name": "iteration_range", "type": "long", "default": [0, 0], "shape": [-1]}]`)
	m, err := serve.Load(dir, serve.LoadOptions{Python: py})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Runtime != "python" || !strings.Contains(m.Why, "output_margin, iteration_range") {
		t.Fatalf("runtime %s (%s), want python because of output_margin, iteration_range", m.Runtime, m.Why)
	}
	rows := `[[0.1, 0.2, 0.3, 0.4, 0.5], [0.9, null, 0.1, 0.5, 0.2]]`
	xgb := pylines.StartWith(t, py, `import sys, json, xgboost, numpy as np
b = xgboost.Booster(model_file=`+fmt.Sprintf("%q", filepath.Join(dir, "softprob.json"))+`)
for l in sys.stdin:
    kw = json.loads(l)
    x = np.array(`+strings.ReplaceAll(rows, "null", "np.nan")+`, dtype=float)
    print(json.dumps(b.predict(xgboost.DMatrix(x), **kw).tolist()), flush=True)
`, "apt-get install python3-xgboost", "xgboost")
	for _, tc := range []struct{ params, kwargs string }{
		{`{}`, `{}`},
		{`{"output_margin": true}`, `{"output_margin": true}`},
		{`{"iteration_range": [0, 1]}`, `{"iteration_range": [0, 1]}`},
		{`{"output_margin": true, "iteration_range": [0, 1]}`, `{"output_margin": true, "iteration_range": [0, 1]}`},
	} {
		out, err := m.Score(context.Background(), "json", []byte(`{"inputs": `+rows+`, "params": `+tc.params+`}`))
		if err != nil {
			t.Fatalf("params %s: %v", tc.params, err)
		}
		var got struct{ Predictions [][]float64 }
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		var want [][]float64
		if err := json.Unmarshal([]byte(xgb.Ask(t, tc.kwargs)), &want); err != nil {
			t.Fatal(err)
		}
		if len(got.Predictions) != len(want) {
			t.Fatalf("params %s: %v, XGBoost %v", tc.params, got.Predictions, want)
		}
		for r := range want {
			for k := range want[r] {
				if math.Abs(got.Predictions[r][k]-want[r][k]) > 1e-7 {
					t.Errorf("params %s row %d: %v, XGBoost %v", tc.params, r, got.Predictions[r], want[r])
				}
			}
		}
	}
	// a value the schema refuses never reaches the worker
	_, err = m.Score(context.Background(), "json", []byte(`{"inputs": `+rows+`, "params": {"output_margin": "yes"}}`))
	var se *serve.Error
	if !errors.As(err, &se) || se.Code != "INVALID_PARAMETER_VALUE" || !strings.Contains(se.Message, "Can not safely convert str to DataType.boolean.") {
		t.Errorf("output_margin \"yes\": %v, want INVALID_PARAMETER_VALUE", err)
	}
}
