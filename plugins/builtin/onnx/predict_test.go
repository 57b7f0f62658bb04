package onnx_test

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gonnxpb "github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"

	"github.com/mlrun/mlrun/plugins/builtin/onnx"
	"github.com/mlrun/mlrun/plugins/flavor"
)

// TestPredictorMatchesNumpy: the Go ONNX runtime's outputs for the
// fixture models (MatMul+Add; Gemm, Relu, Gemm, Sigmoid, at opset 13 and
// 17; Relu at opset 15; weights in an external file; skl2onnx's Scaler
// and LinearRegressor at opsets 17 and ai.onnx.ml 3) equal what numpy
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

// TestPredictorRefuses: an operator the runtime lacks, an opset before
// 13, an attribute added after 13 set to what opset 13 could not do, and
// nodes gonnx fails only when it runs them are refused at load, naming
// them; a cut file too.
func TestPredictorRefuses(t *testing.T) {
	for file, want := range map[string]string{
		"erf.onnx":       "operator Erf is not supported",
		"opset12.onnx":   "opset 12: mlrun's Go ONNX runtime (gonnx) runs models of opsets 13 to 17",
		"allowzero.onnx": "sets Reshape's attribute allowzero (added in opset 14), which mlrun's Go ONNX runtime (gonnx) does not implement",
		"truncated.onnx": "is not an ONNX model",
		// Refused at load by a batch of zeros, not at the first request.
		"transpose_noperm.onnx": "does not run in mlrun's Go ONNX runtime (gonnx): transpose operator attribute error",
		"slice_past_end.onnx":   "does not run in mlrun's Go ONNX runtime (gonnx): Unable to get slice details",
	} {
		_, err := onnx.LoadPredictor(filepath.Join("../testdata/onnx", file))
		if !errors.Is(err, flavor.ErrInvalidModel) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", file, err, want)
		}
	}
}

// TestPredictorRefusesOpsetsItHasNoSchemasFor: a model of an opset after
// the newest whose operator schemas mlrun's table was made from (17) is
// refused, though its operators may be the same: nothing vouches for them.
func TestPredictorRefusesOpsetsItHasNoSchemasFor(t *testing.T) {
	b, err := os.ReadFile("../testdata/onnx/mlp17.onnx")
	if err != nil {
		t.Fatal(err)
	}
	mp := &gonnxpb.ModelProto{}
	if err := proto.Unmarshal(b, mp); err != nil {
		t.Fatal(err)
	}
	mp.OpsetImport[0].Version = 18
	if b, err = proto.Marshal(mp); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "m.onnx")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = onnx.LoadPredictor(p)
	if !errors.Is(err, flavor.ErrInvalidModel) || !strings.Contains(err.Error(), "opset 18: mlrun's Go ONNX runtime (gonnx) runs models of opsets 13 to 17") {
		t.Fatalf("err = %v", err)
	}
}
