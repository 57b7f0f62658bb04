package onnx_test

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/plugins/builtin/onnx"
	"github.com/mlrun/mlrun/plugins/flavor"
)

// TestPredictorMatchesNumpy: the Go ONNX runtime's outputs for the
// fixture models (MatMul+Add; Gemm, Relu, Gemm, Sigmoid) equal what numpy
// computes for the same graphs in float32 (make_onnx_predictions.py), to
// 1e-6 relative.
func TestPredictorMatchesNumpy(t *testing.T) {
	b, err := os.ReadFile("../testdata/onnx/predictions.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Rows   [][]float64
		Models map[string]struct {
			Output string
			Values [][]float64
		}
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	var x []float64
	for _, r := range fx.Rows {
		x = append(x, r...)
	}
	for name, want := range fx.Models {
		p, err := onnx.LoadPredictor(filepath.Join("../testdata/onnx", name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p.Input != "x" || p.Float64 || p.Width != 4 {
			t.Fatalf("%s: input %s float64=%v width %d", name, p.Input, p.Float64, p.Width)
		}
		out, err := p.Predict(x, len(fx.Rows), 4)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := out[want.Output]
		if len(got.Shape) != 2 || got.Shape[0] != len(fx.Rows) || got.Shape[1] != len(want.Values[0]) {
			t.Fatalf("%s: shape %v", name, got.Shape)
		}
		worst := 0.0
		for i, row := range want.Values {
			for j, w := range row {
				g := got.Values[i*len(row)+j]
				rel := math.Abs(g-w) / math.Max(math.Abs(w), 1e-30)
				worst = max(worst, rel)
				if rel > 1e-6 {
					t.Errorf("%s [%d,%d]: %v, numpy %v", name, i, j, g, w)
				}
			}
		}
		t.Logf("%s: largest relative error %.2g", name, worst)
	}
}

// TestPredictorRefuses: an operator the runtime lacks and another opset
// are refused at load, naming them; a cut file too.
func TestPredictorRefuses(t *testing.T) {
	for file, want := range map[string]string{
		"erf.onnx":       "operator Erf is not supported",
		"opset15.onnx":   "runs opset-13 models",
		"truncated.onnx": "is not an ONNX model",
	} {
		_, err := onnx.LoadPredictor(filepath.Join("../testdata/onnx", file))
		if !errors.Is(err, flavor.ErrInvalidModel) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", file, err, want)
		}
	}
}
