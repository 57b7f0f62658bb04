package onnx_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	gonnxpb "github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"

	"github.com/mlrun/mlrun/plugins/builtin/onnx"
	"github.com/mlrun/mlrun/plugins/flavor"
)

// TestPredictorMatchesNumpy: the Go ONNX runtime's outputs for the
// fixture models (MatMul+Add; Gemm, Relu, Gemm, Sigmoid, at opset 13 and
// 17; Relu at opset 15; weights in an external file; skl2onnx's Scaler
// and LinearRegressor at opsets 17 and ai.onnx.ml 3; a Transpose without
// perm and a Slice past the end, which gonnx could not run) equal what
// numpy computes for the same graphs in float32
// (make_onnx_predictions.py), to 1e-6 relative.
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
		if p.Input != "x" || p.Dtype != "float32" || p.Width != 4 {
			t.Fatalf("%s: input %s %s width %d", name, p.Input, p.Dtype, p.Width)
		}
		out, err := p.Predict(x, len(fx.Rows), 4)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := out[want.Output]
		if len(got.Shape) != 2 || got.Shape[0] != len(want.Values) || got.Shape[1] != len(want.Values[0]) {
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

// TestPredictorRefuses: an operator the runtime lacks, an operator of an
// opset before 13 that meant something else then, an attribute added after 13 set to what opset 13 could not do, an
// operator of another domain or of a later opset than the model's, and a
// node asking for training (refused when the batch of zeros runs at
// load) are refused at load, naming them; a cut file too.
func TestPredictorRefuses(t *testing.T) {
	for file, want := range map[string]string{
		"random.onnx":           "operator RandomNormalLike is not supported",
		"softmax11.onnx":        "opset 11: operator Softmax of opset 11 is not opset 13's, which mlrun's Go ONNX runtime (gonnx) runs (it does from opset 13)",
		"allowzero.onnx":        "sets Reshape's attribute allowzero (added in opset 14), which mlrun's Go ONNX runtime (gonnx) does not implement",
		"truncated.onnx":        "is not an ONNX model",
		"contrib.onnx":          "operator FusedMatMul of domain com.microsoft is not supported by mlrun's Go ONNX runtime (gonnx)",
		"layernorm16.onnx":      "opset 16: operator LayerNormalization is defined from opset 17 on",
		"dropout_training.onnx": "does not run in mlrun's Go ONNX runtime (gonnx): Dropout operator: training_mode is not false",
	} {
		_, err := onnx.LoadPredictor(filepath.Join("../testdata/onnx", file))
		if !errors.Is(err, flavor.ErrInvalidModel) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", file, err, want)
		}
	}
}

// TestPredictorMatchesPyTorch: networks exported by PyTorch's own ONNX
// exporter (make_torch_onnx.py) at opsets 13 to 17 — GELU, LayerNorm
// taken apart or as LayerNormalization, BatchNorm1d with running
// statistics, LeakyReLU and Dropout, twenty element-wise functions,
// slices past the end, with steps and backwards, transposes, reductions,
// Where and an int64 ArgMax output; an image classifier over a [N, 1,
// 13, 13] batch, grouped, depthwise and dilated convolutions, and a 1-D
// convolution over the row, with max and average pools, padded, dilated,
// ceil_mode, an encoder-decoder (ConvTranspose, Resize, PixelShuffle),
// an embedding of int64 token ids, two layers of
// nn.TransformerEncoder with a causal mask (Trilu), models of two and of
// three (1-D) inputs — give, in Go, what PyTorch computes
// for the same input: to 2e-6 relative or 1e-6 absolute (float32
// rounding in a different order), the ArgMax exactly.
func TestPredictorMatchesPyTorch(t *testing.T) {
	b, err := os.ReadFile("../testdata/onnx/torch/predictions.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Models map[string]struct {
			Inputs  map[string]onnx.Feed
			Outputs map[string]struct {
				Shape  []int
				Values []float64
			}
		}
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	if len(fx.Models) != 20 {
		t.Fatalf("%d models in predictions.json", len(fx.Models))
	}
	for name, m := range fx.Models {
		p, err := onnx.LoadPredictor(filepath.Join("../testdata/onnx/torch", name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		out, err := p.PredictInputs(m.Inputs)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for o, want := range m.Outputs {
			got := out[o]
			if !slices.Equal(got.Shape, want.Shape) {
				t.Errorf("%s %s: shape %v, PyTorch %v", name, o, got.Shape, want.Shape)
				continue
			}
			worst := 0.0
			for i, w := range want.Values {
				g := got.Values[i]
				d := math.Abs(g - w)
				worst = max(worst, d/math.Max(math.Abs(w), 1e-30))
				if d > 1e-6 && d > 2e-6*math.Abs(w) || o == "best" && g != w {
					t.Errorf("%s %s [%d]: %v, PyTorch %v", name, o, i, g, w)
				}
			}
			t.Logf("%s %s: largest relative error %.2g", name, o, worst)
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
	if !errors.Is(err, flavor.ErrInvalidModel) || !strings.Contains(err.Error(), "opset 18: mlrun's Go ONNX runtime (gonnx) runs models of opsets up to 17") {
		t.Fatalf("err = %v", err)
	}
}

// TestPredictsConcurrently: one loaded model answers 8 goroutines at
// once with the same values as alone (run with -race: the graph's
// weights are shared between runs, and no operator may change them; the
// operators mlrun adds share what their first Init read).
func TestPredictsConcurrently(t *testing.T) {
	for _, name := range []string{"torch/gelu_layernorm_17.onnx", "torch/image_cnn_17.onnx", "torch/reductions_13.onnx", "mlp.onnx", "sklearn/forest_multi_zipmap.onnx", "sklearn/svc_multi_proba.onnx"} {
		p, err := onnx.LoadPredictor(filepath.Join("../testdata/onnx", name))
		if err != nil {
			t.Fatal(err)
		}
		shape := slices.Clone(p.Shape)
		shape[0] = 2
		n := 1
		for _, d := range shape {
			n *= d
		}
		x := make([]float64, n)
		for i := range x {
			x[i] = math.Sin(float64(i))
		}
		want, err := p.PredictTensor(x, shape)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Go(func() {
				for range 20 {
					got, err := p.PredictTensor(x, shape)
					if err != nil {
						errs <- err
						return
					}
					for o, w := range want {
						if !slices.Equal(got[o].Values, w.Values) {
							errs <- fmt.Errorf("%s %s: %v, alone %v", name, o, got[o].Values, w.Values)
							return
						}
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
}

// TestPredictorMatchesScikitLearn: scikit-learn models as skl2onnx
// converts them (make_sklearn_onnx.py: logistic regressions of two and
// three classes, a pipeline of SimpleImputer, StandardScaler and
// LogisticRegression given NaNs, random forests and gradient boosting of
// classes and values, SVMs (libsvm's probabilities, one-against-one
// decisions, a regressor), a ColumnTransformer's selection, a
// OneHotEncoder given unknown categories, forests ending
// in ZipMap, skl2onnx's default, text class labels) give, in Go,
// scikit-learn's labels exactly and its probabilities and values to 1e-5
// (the ONNX models hold float32 weights).
func TestPredictorMatchesScikitLearn(t *testing.T) {
	b, err := os.ReadFile("../testdata/onnx/sklearn/predictions.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Rows    [][]float64
		RowsNaN [][]*float64 `json:"rows_nan"`
		RowsCat [][]float64  `json:"rows_cat"`
		Models  map[string]struct {
			Rows        string
			Label       []any
			Probability [][]float64
			Variable    []float64
		}
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	if len(fx.Models) != 17 {
		t.Fatalf("%d models", len(fx.Models))
	}
	for name, m := range fx.Models {
		p, err := onnx.LoadPredictor(filepath.Join("../testdata/onnx/sklearn", name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var x []float64
		rows := len(fx.Rows)
		if m.Rows == "rows_nan" {
			for _, r := range fx.RowsNaN {
				for _, v := range r {
					if v == nil {
						x = append(x, math.NaN())
					} else {
						x = append(x, *v)
					}
				}
			}
		} else if m.Rows == "rows_cat" {
			x = slices.Concat(fx.RowsCat...)
		} else {
			x = slices.Concat(fx.Rows...)
		}
		out, err := p.Predict(x, rows, 4)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		close := func(what string, got, want []float64) {
			t.Helper()
			if len(got) != len(want) {
				t.Errorf("%s %s: %d values, scikit-learn %d", name, what, len(got), len(want))
				return
			}
			for i, g := range got {
				if math.Abs(g-want[i]) > 1e-5*max(1, math.Abs(want[i])) {
					t.Errorf("%s %s [%d]: %v, scikit-learn %v", name, what, i, g, want[i])
				}
			}
		}
		if m.Variable != nil {
			close("variable", out["variable"].Values, m.Variable)
			continue
		}
		keys := map[string][]string{"forest_multi_zipmap.onnx": {"1", "2", "5"}, "forest_text_zipmap.onnx": {"setosa", "versicolor", "virginica"}}[name]
		if !slices.Equal(out["output_probability"].Keys, keys) {
			t.Errorf("%s: the probabilities' keys are %v", name, out["output_probability"].Keys)
		}
		got := out["output_label"]
		var labels []any
		for _, v := range got.Values {
			labels = append(labels, v) // JSON's numbers are float64
		}
		for _, v := range got.Strings {
			labels = append(labels, v)
		}
		if !slices.Equal(labels, m.Label) || (got.Strings == nil) != got.Int {
			t.Errorf("%s: labels %v (int %v), scikit-learn %v", name, labels, got.Int, m.Label)
		}
		close("probability", out["output_probability"].Values, slices.Concat(m.Probability...))
	}
}

// BenchmarkPredict runs fixtures of make_torch_onnx.py and
// make_sklearn_onnx.py on their own inputs: a CNN over 3 images of
// 13×13, two transformer layers over 7 rows of 6 tokens, a forest and an
// SVC over 9 rows.
func BenchmarkPredict(b *testing.B) {
	tb, err := os.ReadFile("../testdata/onnx/torch/predictions.json")
	if err != nil {
		b.Fatal(err)
	}
	var torch struct {
		Models map[string]struct{ Inputs map[string]onnx.Feed }
	}
	if err := json.Unmarshal(tb, &torch); err != nil {
		b.Fatal(err)
	}
	sb, err := os.ReadFile("../testdata/onnx/sklearn/predictions.json")
	if err != nil {
		b.Fatal(err)
	}
	var sk struct{ Rows [][]float64 }
	if err := json.Unmarshal(sb, &sk); err != nil {
		b.Fatal(err)
	}
	rows := onnx.Feed{Values: slices.Concat(sk.Rows...), Shape: []int{len(sk.Rows), 4}}
	for _, c := range []struct {
		file string
		in   map[string]onnx.Feed
	}{
		{"torch/image_cnn_17.onnx", torch.Models["image_cnn_17.onnx"].Inputs},
		{"torch/transformer_17.onnx", torch.Models["transformer_17.onnx"].Inputs},
		{"sklearn/forest_multi_zipmap.onnx", map[string]onnx.Feed{"float_input": rows}},
		{"sklearn/svc_multi_proba.onnx", map[string]onnx.Feed{"float_input": rows}},
	} {
		p, err := onnx.LoadPredictor(filepath.Join("../testdata/onnx", c.file))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strings.TrimSuffix(filepath.Base(c.file), ".onnx"), func(b *testing.B) {
			for b.Loop() {
				if _, err := p.PredictInputs(c.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
