package onnx

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/advancedclimatesystems/gonnx"
	gonnxpb "github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advancedclimatesystems/gonnx/ops"
	"gorgonia.org/tensor"

	"github.com/mlrun/mlrun/plugins/flavor"
)

// Predictor is an ONNX model ready to run in Go, on
// github.com/advancedclimatesystems/gonnx: a pure-Go runtime (no cgo, no
// onnxruntime library) of opset 13, with the operators it implements and
// those ops.go, cnn.go and tensorops.go add (or put in place of its
// own), running models of other opsets whose nodes mean what they mean
// in opset 13 (asRuntimeOpset). A model it cannot run is refused at
// load, naming the operator or the opset.
type Predictor struct {
	m *gonnx.Model
	// Inputs are the model's inputs (its graph's, but the initializers),
	// in order.
	Inputs []Input
	// Input, Dtype and Shape are the first input's; Width its second
	// dimension when it has two (-1: free or not two).
	Input string
	Dtype string
	Shape []int
	Width int
	// Outputs are the model's outputs, in order.
	Outputs []string
	// zipped are the keys of the outputs a ZipMap made (unzipMaps).
	zipped map[string][]string
}

// Input is one of a model's inputs: its name; its element type as numpy
// names it (float32, float64, int64 or int32: token ids for an
// embedding); its dimensions (-1: free; none when the model does not
// say).
type Input struct {
	Name  string
	Dtype string
	Shape []int
}

// Feed is an input's values in row-major order, and their shape (the
// first axis the batch).
type Feed struct {
	Values []float64
	Shape  []int
}

// Output is one output tensor: its shape, and its values in row-major
// order; Int says its element type is an integer (ArgMax's int64, a
// classifier's labels), which JSON writes without a fraction.
type Output struct {
	Shape  []int
	Values []float64
	Int    bool
	// Strings, in place of Values, are a text output's values (a
	// classifier's text labels).
	Strings []string
	// Keys, for a ZipMap's output (a classifier's probabilities as a
	// list of maps, skl2onnx's default), are the maps' keys, the class
	// labels as text: each row of Values ([N, len(Keys)]) is one map.
	Keys []string
}

// LoadPredictor reads the ONNX file at path for prediction, with the
// external data files beside it that its tensors name.
func LoadPredictor(path string) (*Predictor, error) {
	b, err := flavor.ReadFile(path)
	if err != nil {
		return nil, err
	}
	mp, err := gonnx.ModelProtoFromBytes(b)
	if err != nil || mp.GetGraph() == nil {
		return nil, flavor.Invalid("%s is not an ONNX model: %v", path, err)
	}
	if err := InlineExternalData(mp, filepath.Dir(path)); err != nil {
		return nil, flavor.Invalid("%s: %v", path, err)
	}
	if err := asRuntimeOpset(mp); err != nil {
		return nil, flavor.Invalid("%s: %v", path, err)
	}
	zipped, err := unzipMaps(mp)
	if err != nil {
		return nil, flavor.Invalid("%s: %v", path, err)
	}
	m, err := newModel(mp)
	if errors.Is(err, ops.ErrUnsupportedOpsetVersion) {
		var opsets []string
		for _, o := range mp.GetOpsetImport() {
			opsets = append(opsets, fmt.Sprintf("%s %d", o.GetDomain(), o.GetVersion()))
		}
		return nil, flavor.Invalid("%s: opset %v: mlrun's Go ONNX runtime (gonnx) runs models of opsets up to %d", path, opsets, newestOpset)
	}
	if err != nil {
		return nil, flavor.Invalid("%s: %v", path, err)
	}
	m.GetOperator = withExtraOps(m.GetOperator)
	for _, n := range mp.Graph.GetNode() {
		if _, err := m.GetOperator(n.GetOpType()); err != nil {
			return nil, flavor.Invalid("%s: operator %s is not supported by mlrun's Go ONNX runtime (gonnx)", path, n.GetOpType())
		}
	}
	init := map[string]bool{}
	for _, t := range mp.Graph.GetInitializer() {
		init[t.GetName()] = true
	}
	p := &Predictor{m: m, Outputs: m.OutputNames(), Width: -1, zipped: zipped}
	static := true
	for _, in := range mp.Graph.GetInput() {
		if init[in.GetName()] {
			continue
		}
		i := Input{Name: in.GetName()}
		switch t := in.GetType().GetTensorType(); t.GetElemType() {
		case int32(gonnxpb.TensorProto_FLOAT):
			i.Dtype = "float32"
		case int32(gonnxpb.TensorProto_DOUBLE):
			i.Dtype = "float64"
		case int32(gonnxpb.TensorProto_INT64):
			i.Dtype = "int64"
		case int32(gonnxpb.TensorProto_INT32):
			i.Dtype = "int32"
		default:
			return nil, flavor.Invalid("%s: input %s is of element type %s; mlrun's Go ONNX runtime serves float, double, int64 and int32 inputs", path, i.Name, gonnxpb.TensorProto_DataType(t.GetElemType()))
		}
		dims := in.GetType().GetTensorType().GetShape().GetDim()
		static = static && len(dims) >= 1
		for k, d := range dims {
			i.Shape = append(i.Shape, -1)
			if d.GetDimParam() == "" && d.GetDimValue() > 0 {
				i.Shape[k] = int(d.GetDimValue())
			} else if k > 0 {
				static = false
			}
		}
		p.Inputs = append(p.Inputs, i)
	}
	if len(p.Inputs) == 0 {
		return nil, flavor.Invalid("%s: the model has no inputs", path)
	}
	p.Input, p.Dtype, p.Shape = p.Inputs[0].Name, p.Inputs[0].Dtype, p.Inputs[0].Shape
	if len(p.Shape) == 2 {
		p.Width = p.Shape[1]
	}
	if static {
		// Some nodes check their attributes only when they run (a Dropout
		// asked to train, a pooling window larger than its input): one
		// batch of zeros, now, makes such a model a load error, not every
		// request's.
		batch := 1
		if n := p.Shape[0]; n > 0 && n <= 1024 {
			batch = n
		}
		feeds := map[string]Feed{}
		for _, in := range p.Inputs {
			shape := slices.Clone(in.Shape)
			shape[0] = batch
			feeds[in.Name] = Feed{Values: make([]float64, count(shape)), Shape: shape}
		}
		if _, err := p.PredictInputs(feeds); err != nil {
			return nil, flavor.Invalid("%s: the model does not run in mlrun's Go ONNX runtime (gonnx): %v", path, err)
		}
	}
	return p, nil
}

// Predict runs the model on rows of cols values each (x row after row):
// its one input as a [rows, cols] tensor of its element type.
func (p *Predictor) Predict(x []float64, rows, cols int) (map[string]Output, error) {
	if rows > 0 && cols == 0 {
		return nil, fmt.Errorf("input %s has no columns", p.Input)
	}
	return p.PredictTensor(x, []int{rows, cols})
}

// PredictTensor runs a model of one input on x, its values in row-major
// order, as a tensor of shape (the first axis the batch: a [N, C, H, W]
// image batch, say) and of the input's element type.
func (p *Predictor) PredictTensor(x []float64, shape []int) (map[string]Output, error) {
	if len(p.Inputs) != 1 {
		return nil, fmt.Errorf("the model has %d inputs: %s", len(p.Inputs), p.inputNames())
	}
	return p.PredictInputs(map[string]Feed{p.Input: {Values: x, Shape: shape}})
}

// inputNames lists the inputs' names as Python lists them.
func (p *Predictor) inputNames() string {
	var names []string
	for _, in := range p.Inputs {
		names = append(names, "'"+in.Name+"'")
	}
	return "[" + strings.Join(names, ", ") + "]"
}

// PredictInputs runs the model on a feed for each of its inputs, each
// made a tensor of the input's element type. A batch of none gives each
// output empty, as onnxruntime's does, without running the graph
// (gonnx's kernels index their first element).
func (p *Predictor) PredictInputs(feeds map[string]Feed) (map[string]Output, error) {
	tensors := gonnx.Tensors{}
	empty := false
	for _, in := range p.Inputs {
		f, ok := feeds[in.Name]
		if !ok {
			return nil, fmt.Errorf("input %s is missing: the model's inputs are %s", in.Name, p.inputNames())
		}
		t, err := in.tensor(f)
		if err != nil {
			return nil, err
		}
		empty = empty || f.Shape[0] == 0
		tensors[in.Name] = t
	}
	if len(feeds) != len(p.Inputs) {
		return nil, fmt.Errorf("%d inputs given; the model's inputs are %s", len(feeds), p.inputNames())
	}
	if empty {
		out := map[string]Output{}
		for _, name := range p.Outputs {
			out[name] = Output{Shape: []int{0}}
		}
		return out, nil
	}
	res, err := p.run(tensors)
	if err != nil {
		return nil, err
	}
	out := map[string]Output{}
	for name, t := range res {
		if t == nil {
			return nil, fmt.Errorf("output %s: no node of the graph computes it", name)
		}
		o := Output{Shape: append([]int(nil), t.Shape()...)}
		switch d := data(t).(type) {
		case []float32:
			for _, v := range d {
				o.Values = append(o.Values, float64(v))
			}
		case []float64:
			o.Values = d
		case []int64:
			for _, v := range d {
				o.Values = append(o.Values, float64(v))
			}
			o.Int = true
		case []int32:
			for _, v := range d {
				o.Values = append(o.Values, float64(v))
			}
			o.Int = true
		case int64:
			o.Values, o.Int = []float64{float64(d)}, true
		case []string:
			o.Strings = d
		case float32:
			o.Values = []float64{float64(d)}
		case float64:
			o.Values = []float64{d}
		default:
			return nil, fmt.Errorf("output %s has values of type %T", name, d)
		}
		if keys, ok := p.zipped[name]; ok {
			if len(o.Shape) != 2 || o.Shape[1] != len(keys) {
				return nil, fmt.Errorf("output %s: a ZipMap of %d labels over values of shape %v", name, len(keys), o.Shape)
			}
			o.Keys = keys
		}
		out[name] = o
	}
	return out, nil
}

// unzipMaps replaces each ZipMap node that makes a graph output (skl2onnx
// ends a classifier so: its probabilities as a list of {label: value})
// by an Identity of its [N, classes] input, and returns the labels,
// as text, by output: Predict gives the output those keys, and the server
// writes each row as a map. A ZipMap elsewhere is refused.
func unzipMaps(mp *gonnxpb.ModelProto) (map[string][]string, error) {
	outputs := map[string]bool{}
	for _, o := range mp.GetGraph().GetOutput() {
		outputs[o.GetName()] = true
	}
	zipped := map[string][]string{}
	for _, n := range mp.GetGraph().GetNode() {
		if n.GetOpType() != "ZipMap" || n.GetDomain() != "ai.onnx.ml" {
			continue
		}
		if len(n.GetOutput()) != 1 || !outputs[n.GetOutput()[0]] || len(n.GetInput()) != 1 {
			return nil, fmt.Errorf("node %q: a ZipMap whose map is not a graph output", n.GetName())
		}
		var keys []string
		for _, a := range n.GetAttribute() {
			switch a.GetName() {
			case "classlabels_int64s":
				for _, v := range a.GetInts() {
					keys = append(keys, fmt.Sprint(v))
				}
			case "classlabels_strings":
				for _, v := range a.GetStrings() {
					keys = append(keys, string(v))
				}
			}
		}
		if len(keys) == 0 {
			return nil, fmt.Errorf("node %q: a ZipMap without class labels", n.GetName())
		}
		zipped[n.GetOutput()[0]] = keys
		n.OpType, n.Domain, n.Attribute = "Identity", "", nil
	}
	return zipped, nil
}

// tensor makes the feed a tensor of the input's element type, checking
// its shape against the input's.
func (in Input) tensor(f Feed) (tensor.Tensor, error) {
	x, shape := f.Values, f.Shape
	if len(shape) == 0 || count(shape) != len(x) {
		return nil, fmt.Errorf("input %s: %d values for shape %v", in.Name, len(x), shape)
	}
	if len(in.Shape) > 0 && len(shape) != len(in.Shape) {
		return nil, fmt.Errorf("input %s has %d dimensions; the model takes %d (shape %v)", in.Name, len(shape), len(in.Shape), in.Shape)
	}
	for i, d := range in.Shape {
		if i > 0 && d > 0 && shape[i] != d {
			return nil, fmt.Errorf("input %s of shape %v; the model takes %v", in.Name, shape, in.Shape)
		}
	}
	if shape[0] == 0 {
		return nil, nil
	}
	var backing any
	switch in.Dtype {
	case "float64":
		backing = slices.Clone(x)
	case "float32":
		backing = convert[float32](x)
	default:
		// As numpy's astype: the fraction dropped; but no NaN or infinity,
		// which have no integer (pandas refuses them so).
		for _, v := range x {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("input %s is %s: cannot convert non-finite values (NA or inf) to integer", in.Name, in.Dtype)
			}
		}
		if in.Dtype == "int64" {
			backing = convert[int64](x)
		} else {
			backing = convert[int32](x)
		}
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(backing)), nil
}

// newModel is gonnx.NewModel, whose panics on data it does not expect
// (the tensor library's sanity checks) are errors.
func newModel(mp *gonnxpb.ModelProto) (m *gonnx.Model, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("gonnx cannot read the graph: %v", r)
		}
	}()
	return gonnx.NewModel(mp)
}

// run runs the graph on t. gonnx checks shapes in some operators and
// panics in others' kernels (a tensor library's index out of range);
// such a panic is this input's error, not the server's end.
func (p *Predictor) run(in gonnx.Tensors) (res gonnx.Tensors, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("the graph failed on this input: %v", r)
		}
	}()
	return p.m.Run(in)
}
