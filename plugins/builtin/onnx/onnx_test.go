package onnx_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/plugins/builtin/onnx"
	"github.com/mlrun/mlrun/plugins/builtin/testdata"
	"github.com/mlrun/mlrun/plugins/flavor"
)

func TestFactsMatchTheLibrary(t *testing.T) {
	want := testdata.Facts(t)["onnx/linear.onnx"]
	f, err := onnx.Read(testdata.Path("onnx/linear.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if float64(f.IRVersion) != want["ir_version"] || f.ProducerName != want["producer_name"] || f.ProducerVersion != want["producer_version"] {
		t.Fatalf("%+v vs %v", f, want)
	}
	for d, v := range want["opsets"].(map[string]any) {
		if float64(f.Opsets[d]) != v {
			t.Fatalf("opset %s = %d, want %v", d, f.Opsets[d], v)
		}
	}
	check := func(got []onnx.Tensor, want any) {
		t.Helper()
		ws := want.([]any)
		if len(got) != len(ws) {
			t.Fatalf("%d tensors, want %d (initializers must not count as inputs)", len(got), len(ws))
		}
		for i, w := range ws {
			wm := w.(map[string]any)
			if got[i].Name != wm["name"] || got[i].DType != wm["dtype"] || fmt.Sprint(got[i].Shape) != strings.ReplaceAll(fmt.Sprint(wm["shape"]), ".0", "") {
				t.Fatalf("tensor %+v, want %v", got[i], wm)
			}
		}
	}
	check(f.Inputs, want["inputs"])
	check(f.Outputs, want["outputs"])
	m, err := onnx.Flavor{}.Inspect(context.Background(), &flavor.InspectRequest{Path: testdata.Path("onnx/linear.onnx")})
	if err != nil {
		t.Fatal(err)
	}
	if m.SignatureInputs != `[{"name": "x", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]` {
		t.Fatalf("signature %s", m.SignatureInputs)
	}
}

func TestBadInput(t *testing.T) {
	for _, name := range []string{"onnx/truncated.onnx", "sklearn/elasticnet_p4.pkl", "xgboost/binary.json"} {
		if _, err := onnx.Read(testdata.Path(name)); !errors.Is(err, flavor.ErrInvalidModel) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzONNX: whatever the file, Read and LoadPredictor give a model or an
// ErrInvalidModel, never a panic; beside the file lies a copy of the
// external-data fixture's data file, so that its tensors can point at it.
func FuzzONNX(f *testing.F) {
	for _, name := range []string{"onnx/linear.onnx", "onnx/mlp.onnx", "onnx/external/model.onnx", "onnx/sklearn17.onnx", "onnx/allowzero.onnx",
		"onnx/torch/gelu_layernorm_17.onnx", "onnx/torch/reductions_13.onnx", "onnx/sklearn/forest_multi_zipmap.onnx", "onnx/sklearn/pipeline.onnx", "onnx/torch/slicing_13.onnx", "onnx/torch/batchnorm_leaky_15.onnx", "onnx/torch/activations_16.onnx"} {
		b, _ := os.ReadFile(testdata.Path(name))
		f.Add(b)
	}
	ents, _ := os.ReadDir(testdata.Path("onnx/external"))
	var dataName string
	var data []byte
	for _, e := range ents {
		if e.Name() != "model.onnx" {
			dataName = e.Name()
			data, _ = os.ReadFile(testdata.Path("onnx/external/" + e.Name()))
		}
	}
	f.Fuzz(func(t *testing.T, model []byte) {
		dir := t.TempDir()
		p := dir + "/m.onnx"
		os.WriteFile(p, model, 0o644)
		os.WriteFile(dir+"/"+dataName, data, 0o644)
		if _, err := onnx.Read(p); err != nil && !errors.Is(err, flavor.ErrInvalidModel) {
			t.Fatalf("wrong error kind: %v", err)
		}
		if _, err := onnx.LoadPredictor(p); err != nil && !errors.Is(err, flavor.ErrInvalidModel) {
			t.Fatalf("wrong error kind: %v", err)
		}
	})
}
