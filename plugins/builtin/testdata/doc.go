// Package testdata holds the model fixtures of the built-in flavors, made
// by make_fixtures.py with the real libraries, and facts.json: what each
// library reported when it wrote each file. Facts reads it for tests.
//
// The ONNX runtime's fixtures have scripts of their own, each writing its
// models and the values they must give: make_onnx_predictions.py
// (hand-made graphs, numpy's values), make_torch_onnx.py (PyTorch's
// exporter and values; Debian's python3-torch), make_sklearn_onnx.py
// (scikit-learn's models as skl2onnx converts them, scikit-learn's
// values), make_onnx_opsets.py (the operator-version tables of
// ../onnx/opsets.go).
package testdata

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir is this folder.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// Path is the path of a fixture, e.g. "sklearn/elasticnet_p4.pkl".
func Path(name string) string { return filepath.Join(Dir(), filepath.FromSlash(name)) }

// Facts returns facts.json: fixture name → what its library reported.
func Facts(t testing.TB) map[string]map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Dir(), "facts.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
