package onnx

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx"
	gonnxpb "github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"
	"gorgonia.org/tensor"
)

// onnxTestdata is where Debian's libonnx-testdata puts ONNX's own backend
// tests: a one-node (or small) model each, its inputs and the outputs
// ONNX's reference computed.
const onnxTestdata = "/usr/share/libonnx-testdata/data"

// knownFailures are the backend tests of operators the Go runtime has
// (gonnx's or ops.go's) that it does not pass, each with the reason.
// A case that starts passing must leave this list.
var knownFailures = map[string]string{
	"test_batchnorm_epsilon_training_mode":            "training: refused, mlrun runs models for inference",
	"test_batchnorm_example_training_mode":            "training: refused, mlrun runs models for inference",
	"test_training_dropout":                           "training: refused, its output is random",
	"test_training_dropout_default":                   "training: refused, its output is random",
	"test_training_dropout_default_mask":              "training: refused, its output is random",
	"test_training_dropout_mask":                      "training: refused, its output is random",
	"test_maxpool_with_argmax_2d_precomputed_pads":    "MaxPool's Indices output: refused at load",
	"test_maxpool_with_argmax_2d_precomputed_strides": "MaxPool's Indices output: refused at load",
	"test_constantofshape_int_shape_zero":             "gonnx: ConstantOfShape makes no empty tensor",
	"test_lstm_with_peepholes":                        "gonnx: LSTM takes no sequence_lens",
}

// TestONNXBackendTests runs ONNX's own conformance tests (onnx 1.12's
// backend node tests, and those converted from PyTorch's operators and
// modules) through the Go runtime: every case whose opset it runs and
// whose operators it has (gonnx's and ops.go's) must give ONNX's outputs,
// to the backend tests' own tolerance (1e-3 relative, 1e-7 absolute;
// integers and booleans exactly), or be in knownFailures with its
// reason. Cases of operators it lacks are counted, not run.
func TestONNXBackendTests(t *testing.T) {
	if _, err := os.Stat(onnxTestdata); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing under CI (.ci/run should install Debian's libonnx-testdata)", onnxTestdata)
		}
		t.Skipf("%s not found: install Debian's libonnx-testdata to run ONNX's conformance tests", onnxTestdata)
	}
	var ran, passed int
	skipped := map[string]int{}
	seen := map[string]bool{}
	for _, suite := range []string{"node", "pytorch-converted", "pytorch-operator"} {
		cases, err := os.ReadDir(filepath.Join(onnxTestdata, suite))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			name := c.Name()
			seen[name] = true
			skip, err := backendCase(filepath.Join(onnxTestdata, suite, name))
			if skip != "" {
				skipped[skip]++
				continue
			}
			ran++
			why, known := knownFailures[name]
			switch {
			case err == nil && known:
				t.Errorf("%s passes now: take it out of knownFailures (%s)", name, why)
			case err == nil:
				passed++
			case !known:
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	for name := range knownFailures {
		if !seen[name] {
			t.Errorf("knownFailures names %s, which is not a backend test", name)
		}
	}
	var reasons []string
	for r, n := range skipped {
		reasons = append(reasons, fmt.Sprintf("%d %s", n, r))
	}
	sort.Strings(reasons)
	t.Logf("ran %d backend tests: %d passed, %d known failures; not run: %s", ran, passed, ran-passed, strings.Join(reasons, ", "))
	if ran < 300 {
		t.Errorf("only %d backend tests ran", ran)
	}
}

// backendCase runs one backend test folder: skip says why it was not run
// (an opset or an operator the runtime does not have), err why it failed.
func backendCase(dir string) (skip string, err error) {
	b, err := os.ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return "without model.onnx", nil
	}
	mp := &gonnxpb.ModelProto{}
	if err := proto.Unmarshal(b, mp); err != nil || mp.GetGraph() == nil {
		return "", fmt.Errorf("model.onnx: %v", err)
	}
	for _, v := range slices.Concat(mp.GetGraph().GetInput(), mp.GetGraph().GetOutput()) {
		switch gonnxpb.TensorProto_DataType(v.GetType().GetTensorType().GetElemType()) {
		case gonnxpb.TensorProto_FLOAT, gonnxpb.TensorProto_DOUBLE, gonnxpb.TensorProto_INT64, gonnxpb.TensorProto_INT32, gonnxpb.TensorProto_BOOL:
		default:
			return "of element types or values other than float, double, int64, int32 and bool", nil
		}
	}
	if err := asRuntimeOpset(mp); err != nil {
		return "of other opsets or changed operators", nil
	}
	m, err := newModel(mp)
	if err != nil {
		return "gonnx cannot read", nil
	}
	m.GetOperator = withExtraOps(m.GetOperator)
	for _, n := range mp.GetGraph().GetNode() {
		if _, err := m.GetOperator(n.GetOpType()); err != nil {
			return "of operators it lacks", nil
		}
	}
	init := map[string]bool{}
	for _, t := range mp.GetGraph().GetInitializer() {
		init[t.GetName()] = true
	}
	sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	if len(sets) == 0 {
		return "without test data", nil
	}
	for _, set := range sets {
		inputs := gonnx.Tensors{}
		k := 0
		for _, in := range mp.GetGraph().GetInput() {
			if init[in.GetName()] {
				continue
			}
			t, err := readTensor(filepath.Join(set, fmt.Sprintf("input_%d.pb", k)))
			if err != nil {
				return "", err
			}
			inputs[in.GetName()] = t
			k++
		}
		out, err := runGraph(m, inputs)
		if err != nil {
			return "", err
		}
		for k, name := range m.OutputNames() {
			want, err := readTensor(filepath.Join(set, fmt.Sprintf("output_%d.pb", k)))
			if err != nil {
				return "", err
			}
			if err := sameTensor(out[name], want); err != nil {
				return "", fmt.Errorf("%s, output %s: %v", filepath.Base(set), name, err)
			}
		}
	}
	return "", nil
}

func readTensor(path string) (t tensor.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: %v", path, r)
		}
	}()
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	tp := &gonnxpb.TensorProto{}
	if err := proto.Unmarshal(b, tp); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if t, err = gonnxpb.TensorFromProto(tp); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return t, nil
}

// runGraph is Model.Run with a kernel's panic an error.
func runGraph(m *gonnx.Model, in gonnx.Tensors) (out gonnx.Tensors, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return m.Run(in)
}

// sameTensor compares got with want as ONNX's backend tests do.
func sameTensor(got, want tensor.Tensor) error {
	if got == nil {
		return fmt.Errorf("no output")
	}
	got = contiguous(got)
	gs, ws := []int(got.Shape()), []int(want.Shape())
	if !slices.Equal(gs, ws) && !(got.Shape().TotalSize() == 1 && want.Shape().TotalSize() == 1) {
		return fmt.Errorf("shape %v, want %v", gs, ws)
	}
	if got.Dtype() != want.Dtype() {
		return fmt.Errorf("type %s, want %s", got.Dtype(), want.Dtype())
	}
	gv, wv := reflect.ValueOf(data(got)), reflect.ValueOf(data(want))
	if gv.Kind() != reflect.Slice {
		gv = reflect.Append(reflect.MakeSlice(reflect.SliceOf(gv.Type()), 0, 1), gv)
	}
	if wv.Kind() != reflect.Slice {
		wv = reflect.Append(reflect.MakeSlice(reflect.SliceOf(wv.Type()), 0, 1), wv)
	}
	for i := 0; i < wv.Len(); i++ {
		g, w := gv.Index(i), wv.Index(i)
		switch w.Kind() {
		case reflect.Float32, reflect.Float64:
			a, b := g.Float(), w.Float()
			if math.IsNaN(a) && math.IsNaN(b) || a == b {
				continue
			}
			if math.Abs(a-b) > 1e-7+1e-3*math.Abs(b) {
				return fmt.Errorf("[%d] = %v, want %v", i, a, b)
			}
		default:
			if !g.Equal(w) {
				return fmt.Errorf("[%d] = %v, want %v", i, g, w)
			}
		}
	}
	return nil
}
