package onnx

import (
	"fmt"
	"math"
	"reflect"
	"sync"

	"github.com/advancedclimatesystems/gonnx"
	gonnxpb "github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advancedclimatesystems/gonnx/ops"
	"gorgonia.org/tensor"
)

// This file adds to gonnx's opset-13 operators those that PyTorch's and
// Keras' exports of ordinary networks use and gonnx lacks (GELU's Erf,
// LayerNorm's ReduceMean/Pow/Sqrt or LayerNormalization,
// BatchNormalization, LeakyRelu, Clip, …), and replaces two of gonnx's
// whose gaps such exports meet: Slice (an end past the axis, as
// PyTorch writes x[:, -3:], a negative step) and Transpose (no perm).
// Each implements what ONNX defines for inference from opset 13 to the
// newest opset in opsets.go (make_onnx_opsets.py checks that no later
// version of them changed what they mean); arithmetic is float64, the
// result in the input's element type.

// withExtraOps returns get with mlrun's operators before gonnx's. gonnx
// inits every node's operator on every run; mlrun's read a node's
// attributes (a tree ensemble's thousands of nodes) on its first run
// only, keeping what they made in a cache of the model's.
func withExtraOps(get gonnx.OpGetter) gonnx.OpGetter {
	cache := &initCache{m: map[*gonnxpb.NodeProto]*op{}}
	return func(opType string) (ops.Operator, error) {
		if mk, ok := extraOps[opType]; ok {
			o := mk().(*op)
			o.cache = cache
			return o, nil
		}
		return get(opType)
	}
}

// initCache holds, by node, the operator an Init made (its apply reads
// only what Init read, so runs may share it).
type initCache struct {
	mu sync.Mutex
	m  map[*gonnxpb.NodeProto]*op
}

// extraOps makes a fresh operator for each node: gonnx inits one per node
// and run, so an operator's state is one node's.
var extraOps = map[string]func() ops.Operator{}

func init() {
	for name, f := range unaryOps {
		extraOps[name] = unary(name, f)
	}
	for name, r := range reducers {
		extraOps[name] = reduce(name, r)
	}
	for name, f := range variadicOps {
		extraOps[name] = variadic(name, f)
	}
	more := map[string]func() ops.Operator{
		"Identity":           passThrough("Identity", 1, 1),
		"Dropout":            dropout,
		"Clip":               clip,
		"Pow":                pow,
		"Where":              where,
		"ArgMax":             argExtreme("ArgMax", 1),
		"ArgMin":             argExtreme("ArgMin", -1),
		"LogSoftmax":         logSoftmax,
		"BatchNormalization": batchNorm,
		"LayerNormalization": layerNorm,
		"Slice":              slice,
		"Transpose":          transpose,
	}
	for name, mk := range more {
		extraOps[name] = mk
	}
}

// op is one node's operator: init reads the node's attributes and sets
// apply; min and max bound its inputs, and numeric lists the inputs that
// must be numbers (float, double, int32 or int64).
type op struct {
	name     string
	min, max int
	numeric  []int
	init     func(o *op, a attrs) error
	apply    func(in []tensor.Tensor) ([]tensor.Tensor, error)
	outputs  int // the node's outputs
	nodeName string
	cache    *initCache
}

func (o *op) String() string { return o.name + " operator" }

func (o *op) Init(n *gonnxpb.NodeProto) error {
	if o.cache != nil {
		o.cache.mu.Lock()
		done, ok := o.cache.m[n]
		o.cache.mu.Unlock()
		if ok {
			o.apply, o.outputs, o.nodeName = done.apply, done.outputs, done.nodeName
			return nil
		}
	}
	o.outputs, o.nodeName = len(n.GetOutput()), n.GetName()
	a := attrs{}
	for _, at := range n.GetAttribute() {
		a[at.GetName()] = at
	}
	if err := o.init(o, a); err != nil {
		return err
	}
	if o.cache != nil {
		o.cache.mu.Lock()
		o.cache.m[n] = o
		o.cache.mu.Unlock()
	}
	return nil
}

func (o *op) Apply(in []tensor.Tensor) ([]tensor.Tensor, error) { return o.apply(in) }
func (o *op) GetMinInputs() int                                 { return o.min }
func (o *op) GetMaxInputs() int                                 { return o.max }

// GetInputTypeConstraints is gonnx's interface; ValidateInputs below
// checks the types itself (variadic operators have no fixed count).
func (o *op) GetInputTypeConstraints() [][]tensor.Dtype { return nil }

func (o *op) ValidateInputs(in []tensor.Tensor) ([]tensor.Tensor, error) {
	if len(in) < o.min || len(in) > o.max {
		return nil, fmt.Errorf("%s: %d inputs, it takes %d to %d", o, len(in), o.min, o.max)
	}
	for i := 0; i < o.min; i++ {
		if in[i] == nil {
			return nil, fmt.Errorf("%s: input %d is required", o, i)
		}
	}
	for len(in) < o.max && o.max < 8 {
		in = append(in, nil)
	}
	for _, i := range o.numeric {
		if i < len(in) && in[i] != nil {
			switch in[i].Dtype() {
			case tensor.Float32, tensor.Float64, tensor.Int32, tensor.Int64:
			default:
				return nil, fmt.Errorf("%s: input %d is %s, not a number", o, i, in[i].Dtype())
			}
		}
	}
	return in, nil
}

// attrs are a node's attributes by name.
type attrs map[string]*gonnxpb.AttributeProto

func (a attrs) f(name string, def float64) float64 {
	if at, ok := a[name]; ok {
		return float64(at.GetF())
	}
	return def
}

func (a attrs) i(name string, def int64) int64 {
	if at, ok := a[name]; ok {
		return at.GetI()
	}
	return def
}

func (a attrs) ints(name string) ([]int, bool) {
	at, ok := a[name]
	if !ok {
		return nil, false
	}
	r := make([]int, len(at.GetInts()))
	for i, v := range at.GetInts() {
		r[i] = int(v)
	}
	return r, true
}

// only refuses attributes other than those named.
func (a attrs) only(o *op, names ...string) error {
next:
	for k := range a {
		for _, n := range names {
			if k == n {
				continue next
			}
		}
		return fmt.Errorf("%s: attribute %s is not supported", o, k)
	}
	return nil
}

// contiguous returns t's values in row-major order (a view is copied).
func contiguous(t tensor.Tensor) tensor.Tensor {
	if d, ok := t.(*tensor.Dense); ok && d.IsMaterializable() {
		return d.Materialize()
	}
	return t
}

// data is t's values in row-major order (a view is copied): a slice, or
// a scalar's value; an empty slice of its type for a tensor of no values,
// whose Data the tensor library cannot give.
func data(t tensor.Tensor) any {
	if t.Shape().TotalSize() == 0 && len(t.Shape()) > 0 {
		return reflect.MakeSlice(reflect.SliceOf(t.Dtype().Type), 0, 0).Interface()
	}
	return contiguous(t).Data()
}

// floats returns t's values as float64, and its shape.
func floats(t tensor.Tensor) ([]float64, []int, error) {
	t = contiguous(t)
	shape := append([]int(nil), t.Shape()...)
	if t.Shape().IsScalar() {
		shape = nil
	}
	switch d := data(t).(type) {
	case []float32:
		r := make([]float64, len(d))
		for i, v := range d {
			r[i] = float64(v)
		}
		return r, shape, nil
	case []float64:
		return append([]float64(nil), d...), shape, nil
	case []int64:
		r := make([]float64, len(d))
		for i, v := range d {
			r[i] = float64(v)
		}
		return r, shape, nil
	case []int32:
		r := make([]float64, len(d))
		for i, v := range d {
			r[i] = float64(v)
		}
		return r, shape, nil
	case float32:
		return []float64{float64(d)}, shape, nil
	case float64:
		return []float64{d}, shape, nil
	case int64:
		return []float64{float64(d)}, shape, nil
	case int32:
		return []float64{float64(d)}, shape, nil
	}
	return nil, nil, fmt.Errorf("values of type %s", t.Dtype())
}

// newTensor makes a tensor of dtype (float, double, int32 or int64: the
// values truncated, as C's conversion does) from values; no shape is a
// scalar.
func newTensor(dt tensor.Dtype, shape []int, v []float64) tensor.Tensor {
	var backing any
	switch dt {
	case tensor.Float32:
		backing = convert[float32](v)
	case tensor.Int64:
		backing = convert[int64](v)
	case tensor.Int32:
		backing = convert[int32](v)
	default:
		backing = v
	}
	if len(shape) == 0 {
		return tensor.New(tensor.FromScalar(reflect.ValueOf(backing).Index(0).Interface()))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(backing))
}

func convert[T float32 | int64 | int32](v []float64) []T {
	r := make([]T, len(v))
	for i, x := range v {
		r[i] = T(x)
	}
	return r
}

// unaryOps are element-wise functions of one float input, each made
// from the node's attributes (ONNX's defaults where absent).
var unaryOps = map[string]func(a attrs) func(float64) float64{
	"Erf":        func(attrs) func(float64) float64 { return math.Erf },
	"Sqrt":       func(attrs) func(float64) float64 { return math.Sqrt },
	"Exp":        func(attrs) func(float64) float64 { return math.Exp },
	"Log":        func(attrs) func(float64) float64 { return math.Log },
	"Neg":        func(attrs) func(float64) float64 { return func(x float64) float64 { return -x } },
	"Reciprocal": func(attrs) func(float64) float64 { return func(x float64) float64 { return 1 / x } },
	"Floor":      func(attrs) func(float64) float64 { return math.Floor },
	"Ceil":       func(attrs) func(float64) float64 { return math.Ceil },
	"Round":      func(attrs) func(float64) float64 { return math.RoundToEven },
	"Sign": func(attrs) func(float64) float64 {
		return func(x float64) float64 {
			switch {
			case x > 0:
				return 1
			case x < 0:
				return -1
			}
			return x // 0, or NaN
		}
	},
	"Softplus": func(attrs) func(float64) float64 {
		return func(x float64) float64 { return math.Log1p(math.Exp(x)) }
	},
	"Softsign": func(attrs) func(float64) float64 { return func(x float64) float64 { return x / (1 + math.Abs(x)) } },
	"Elu": func(a attrs) func(float64) float64 {
		alpha := a.f("alpha", 1)
		return func(x float64) float64 {
			if x < 0 {
				return alpha * (math.Exp(x) - 1)
			}
			return x
		}
	},
	"Celu": func(a attrs) func(float64) float64 {
		alpha := a.f("alpha", 1)
		return func(x float64) float64 { return math.Max(0, x) + math.Min(0, alpha*(math.Exp(x/alpha)-1)) }
	},
	"Selu": func(a attrs) func(float64) float64 {
		alpha, gamma := a.f("alpha", 1.67326319217681884765625), a.f("gamma", 1.05070102214813232421875)
		return func(x float64) float64 {
			if x <= 0 {
				return gamma * (alpha*math.Exp(x) - alpha)
			}
			return gamma * x
		}
	},
	"LeakyRelu": func(a attrs) func(float64) float64 {
		alpha := a.f("alpha", 0.01)
		return func(x float64) float64 {
			if x < 0 {
				return alpha * x
			}
			return x
		}
	},
	"ThresholdedRelu": func(a attrs) func(float64) float64 {
		alpha := a.f("alpha", 1)
		return func(x float64) float64 {
			if x > alpha {
				return x
			}
			return 0
		}
	},
	"HardSigmoid": func(a attrs) func(float64) float64 {
		alpha, beta := a.f("alpha", 0.2), a.f("beta", 0.5)
		return func(x float64) float64 { return math.Max(0, math.Min(1, alpha*x+beta)) }
	},
	"HardSwish": func(attrs) func(float64) float64 {
		return func(x float64) float64 { return x * math.Max(0, math.Min(1, x/6+0.5)) }
	},
}

// unaryAttrs are the attributes each unary operator takes.
var unaryAttrs = map[string][]string{
	"Elu": {"alpha"}, "Celu": {"alpha"}, "Selu": {"alpha", "gamma"}, "LeakyRelu": {"alpha"},
	"ThresholdedRelu": {"alpha"}, "HardSigmoid": {"alpha", "beta"},
}

func unary(name string, mk func(attrs) func(float64) float64) func() ops.Operator {
	return func() ops.Operator {
		return &op{name: name, min: 1, max: 1, numeric: []int{0}, init: func(o *op, a attrs) error {
			if err := a.only(o, unaryAttrs[name]...); err != nil {
				return err
			}
			f := mk(a)
			o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
				v, shape, err := floats(in[0])
				if err != nil {
					return nil, err
				}
				for i, x := range v {
					v[i] = f(x)
				}
				return []tensor.Tensor{newTensor(in[0].Dtype(), shape, v)}, nil
			}
			return nil
		}}
	}
}

// passThrough is an operator whose output is its first input.
func passThrough(name string, min, max int) func() ops.Operator {
	return func() ops.Operator {
		return &op{name: name, min: min, max: max, init: func(o *op, a attrs) error {
			o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) { return []tensor.Tensor{in[0]}, nil }
			return a.only(o)
		}}
	}
}

// dropout at inference is its input; the optional mask is all true. A
// training_mode input that is true is refused (it asks for randomness),
// but with a ratio of 0.
func dropout() ops.Operator {
	return &op{name: "Dropout", min: 1, max: 3, init: func(o *op, a attrs) error {
		if err := a.only(o, "seed"); err != nil {
			return err
		}
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			if len(in) > 2 && in[2] != nil {
				// Training drops values at random; but with a ratio of 0 it
				// drops none.
				ratio, hasRatio, err := scalar(in[1])
				if b, ok := data(in[2]).(bool); !ok || b && (err != nil || !hasRatio || ratio != 0) {
					return nil, fmt.Errorf("%s: training_mode is not false: mlrun runs models for inference", o)
				}
			}
			out := []tensor.Tensor{in[0]}
			if o.outputs > 1 {
				mask := make([]bool, in[0].Shape().TotalSize())
				for i := range mask {
					mask[i] = true
				}
				out = append(out, tensor.New(tensor.WithShape(in[0].Shape().Clone()...), tensor.WithBacking(mask)))
			}
			return out, nil
		}
		return nil
	}}
}

// scalar reads the one value of an optional input (nil: ok false).
func scalar(t tensor.Tensor) (float64, bool, error) {
	if t == nil {
		return 0, false, nil
	}
	v, _, err := floats(t)
	if err != nil {
		return 0, false, err
	}
	if len(v) != 1 {
		return 0, false, fmt.Errorf("%d values where one was expected", len(v))
	}
	return v[0], true, nil
}

func clip() ops.Operator {
	return &op{name: "Clip", min: 1, max: 3, numeric: []int{0, 1, 2}, init: func(o *op, a attrs) error {
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			lo, hasLo, err := scalar(in[1])
			if err != nil {
				return nil, fmt.Errorf("%s: min: %v", o, err)
			}
			hi, hasHi, err := scalar(in[2])
			if err != nil {
				return nil, fmt.Errorf("%s: max: %v", o, err)
			}
			v, shape, err := floats(in[0])
			if err != nil {
				return nil, err
			}
			for i, x := range v {
				if hasLo && x < lo {
					x = lo
				}
				if hasHi && x > hi {
					x = hi
				}
				v[i] = x
			}
			return []tensor.Tensor{newTensor(in[0].Dtype(), shape, v)}, nil
		}
		return a.only(o)
	}}
}

// broadcast gives numpy's (ONNX's multidirectional) broadcast of shapes,
// and for each shape the index into its values of every element of the
// result.
func broadcast(shapes ...[]int) ([]int, [][]int, error) {
	rank := 0
	for _, s := range shapes {
		rank = max(rank, len(s))
	}
	out := make([]int, rank)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		for i, d := range s {
			j := rank - len(s) + i
			switch {
			case d == out[j] || d == 1:
			case out[j] == 1:
				out[j] = d
			default:
				return nil, nil, fmt.Errorf("shapes %v cannot be broadcast together", shapes)
			}
		}
	}
	n := 1
	for _, d := range out {
		n *= d
	}
	idx := make([][]int, len(shapes))
	for k, s := range shapes {
		// strides of s over the result's axes; 0 where s broadcasts.
		strides := make([]int, rank)
		st := 1
		for i := len(s) - 1; i >= 0; i-- {
			if s[i] != 1 {
				strides[rank-len(s)+i] = st
			}
			st *= s[i]
		}
		idx[k] = make([]int, n)
		pos := make([]int, rank)
		at := 0
		for e := 0; e < n; e++ {
			idx[k][e] = at
			for ax := rank - 1; ax >= 0; ax-- {
				pos[ax]++
				at += strides[ax]
				if pos[ax] < out[ax] {
					break
				}
				at -= strides[ax] * pos[ax]
				pos[ax] = 0
			}
		}
	}
	return out, idx, nil
}

func pow() ops.Operator {
	return &op{name: "Pow", min: 2, max: 2, numeric: []int{0, 1}, init: func(o *op, a attrs) error {
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			return binary(o, in, func(a, b float64) (float64, error) { return math.Pow(a, b), nil })
		}
		return a.only(o)
	}}
}

// variadicOps fold their inputs, broadcast together: first the value of
// the first input, then each next; done (may be nil) finishes a value
// given the count of inputs.
var variadicOps = map[string]struct {
	fold func(acc, x float64) float64
	done func(acc float64, n int) float64
}{
	"Max":  {fold: func(a, x float64) float64 { return maxNaN(a, x) }},
	"Min":  {fold: func(a, x float64) float64 { return minNaN(a, x) }},
	"Sum":  {fold: func(a, x float64) float64 { return a + x }},
	"Mean": {fold: func(a, x float64) float64 { return a + x }, done: func(a float64, n int) float64 { return a / float64(n) }},
}

// maxNaN and minNaN propagate NaN, as numpy's maximum and ONNX runtimes do.
func maxNaN(a, x float64) float64 {
	if math.IsNaN(a) || math.IsNaN(x) {
		return math.NaN()
	}
	return math.Max(a, x)
}

func minNaN(a, x float64) float64 {
	if math.IsNaN(a) || math.IsNaN(x) {
		return math.NaN()
	}
	return math.Min(a, x)
}

func variadic(name string, f struct {
	fold func(acc, x float64) float64
	done func(acc float64, n int) float64
}) func() ops.Operator {
	return func() ops.Operator {
		return &op{name: name, min: 1, max: math.MaxInt32, numeric: []int{0}, init: func(o *op, a attrs) error {
			o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
				vals := make([][]float64, len(in))
				shapes := make([][]int, len(in))
				for i, t := range in {
					if t == nil || t.Dtype() != in[0].Dtype() {
						return nil, fmt.Errorf("%s: input %d is missing or of another type than the first", o, i)
					}
					var err error
					if vals[i], shapes[i], err = floats(t); err != nil {
						return nil, err
					}
				}
				shape, idx, err := broadcast(shapes...)
				if err != nil {
					return nil, fmt.Errorf("%s: %v", o, err)
				}
				v := make([]float64, len(idx[0]))
				for e := range v {
					acc := vals[0][idx[0][e]]
					for k := 1; k < len(in); k++ {
						acc = f.fold(acc, vals[k][idx[k][e]])
					}
					if f.done != nil {
						acc = f.done(acc, len(in))
					}
					v[e] = acc
				}
				return []tensor.Tensor{newTensor(in[0].Dtype(), shape, v)}, nil
			}
			return a.only(o)
		}}
	}
}

func where() ops.Operator {
	return &op{name: "Where", min: 3, max: 3, numeric: []int{1, 2}, init: func(o *op, a attrs) error {
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			c := contiguous(in[0])
			var cond []bool
			switch d := data(c).(type) {
			case []bool:
				cond = d
			case bool:
				cond = []bool{d}
			default:
				return nil, fmt.Errorf("%s: condition is %s, not bool", o, c.Dtype())
			}
			cs := append([]int(nil), c.Shape()...)
			if c.Shape().IsScalar() {
				cs = nil
			}
			x, xs, err := floats(in[1])
			if err != nil {
				return nil, err
			}
			y, ys, err := floats(in[2])
			if err != nil {
				return nil, err
			}
			if in[1].Dtype() != in[2].Dtype() {
				return nil, fmt.Errorf("%s: X is %s and Y %s", o, in[1].Dtype(), in[2].Dtype())
			}
			shape, idx, err := broadcast(cs, xs, ys)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", o, err)
			}
			v := make([]float64, len(idx[0]))
			for e := range v {
				if cond[idx[0][e]] {
					v[e] = x[idx[1][e]]
				} else {
					v[e] = y[idx[2][e]]
				}
			}
			return []tensor.Tensor{newTensor(in[1].Dtype(), shape, v)}, nil
		}
		return a.only(o)
	}}
}

// axesOf normalises axes (negative from the end) for a rank, refusing
// one out of range or given twice.
func axesOf(o *op, axes []int, rank int) (map[int]bool, error) {
	set := map[int]bool{}
	for _, ax := range axes {
		a := ax
		if a < 0 {
			a += rank
		}
		if a < 0 || a >= rank || set[a] {
			return nil, fmt.Errorf("%s: axis %d for a tensor of rank %d", o, ax, rank)
		}
		set[a] = true
	}
	return set, nil
}

// reduceAxes applies r over the axes of x (shape): each group's values
// in row-major order, then done with the group's count.
func reduceAxes(x []float64, shape []int, axes map[int]bool, keep bool, r reducer) ([]float64, []int) {
	var outShape, kept []int
	for i, d := range shape {
		if axes[i] {
			if keep {
				outShape = append(outShape, 1)
			}
			kept = append(kept, 1)
		} else {
			outShape = append(outShape, d)
			kept = append(kept, d)
		}
	}
	n := 1
	for _, d := range kept {
		n *= d
	}
	count := 1
	for i, d := range shape {
		if axes[i] {
			count *= d
		}
	}
	acc := make([]float64, n)
	for i := range acc {
		acc[i] = r.start
	}
	// The result index of each element: strides over the kept shape,
	// zero on reduced axes.
	strides := make([]int, len(shape))
	st := 1
	for i := len(shape) - 1; i >= 0; i-- {
		if !axes[i] {
			strides[i] = st
		}
		st *= kept[i]
	}
	pos := make([]int, len(shape))
	at := 0
	for e := range x {
		acc[at] = r.fold(acc[at], x[e])
		for ax := len(shape) - 1; ax >= 0; ax-- {
			pos[ax]++
			at += strides[ax]
			if pos[ax] < shape[ax] {
				break
			}
			at -= strides[ax] * pos[ax]
			pos[ax] = 0
		}
	}
	if r.done != nil {
		for i := range acc {
			acc[i] = r.done(acc[i], count)
		}
	}
	return acc, outShape
}

type reducer struct {
	start float64
	fold  func(acc, x float64) float64
	done  func(acc float64, n int) float64
	// axesInput: the axes are the second input (ReduceSum from opset
	// 13), not an attribute.
	axesInput bool
}

var reducers = map[string]reducer{
	"ReduceMean": {fold: func(a, x float64) float64 { return a + x }, done: func(a float64, n int) float64 { return a / float64(n) }},
	"ReduceSum":  {fold: func(a, x float64) float64 { return a + x }, axesInput: true},
	"ReduceMax":  {start: math.Inf(-1), fold: maxNaN},
	"ReduceMin":  {start: math.Inf(1), fold: minNaN},
	"ReduceProd": {start: 1, fold: func(a, x float64) float64 { return a * x }},
	"ReduceL1":   {fold: func(a, x float64) float64 { return a + math.Abs(x) }},
	"ReduceL2": {fold: func(a, x float64) float64 { return a + x*x },
		done: func(a float64, _ int) float64 { return math.Sqrt(a) }},
	"ReduceSumSquare": {fold: func(a, x float64) float64 { return a + x*x }},
	"ReduceLogSum": {fold: func(a, x float64) float64 { return a + x },
		done: func(a float64, _ int) float64 { return math.Log(a) }},
	// log(Σ exp x), as log-add-exp steps: no overflow for large x.
	"ReduceLogSumExp": {start: math.Inf(-1), fold: func(a, x float64) float64 {
		m := math.Max(a, x)
		if math.IsInf(m, -1) || math.IsNaN(m) {
			return a + x
		}
		return m + math.Log1p(math.Exp(-math.Abs(a-x)))
	}},
}

func reduce(name string, r reducer) func() ops.Operator {
	return func() ops.Operator {
		o := &op{name: name, min: 1, max: 1, numeric: []int{0}}
		if r.axesInput {
			o.max = 2
		}
		o.init = func(o *op, a attrs) error {
			keep := a.i("keepdims", 1) != 0
			noop := a.i("noop_with_empty_axes", 0) != 0
			attrAxes, _ := a.ints("axes")
			allowed := []string{"keepdims"}
			if r.axesInput {
				allowed = append(allowed, "noop_with_empty_axes")
			} else {
				allowed = append(allowed, "axes")
			}
			if err := a.only(o, allowed...); err != nil {
				return err
			}
			o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
				x, shape, err := floats(in[0])
				if err != nil {
					return nil, err
				}
				axes := attrAxes
				if r.axesInput && len(in) > 1 && in[1] != nil {
					if axes, err = ops.AnyToIntSlice(ops.IfScalarToSlice(data(in[1]))); err != nil {
						return nil, fmt.Errorf("%s: axes: %v", o, err)
					}
				}
				if len(axes) == 0 {
					if noop {
						return []tensor.Tensor{in[0]}, nil
					}
					for i := range shape {
						axes = append(axes, i)
					}
				}
				set, err := axesOf(o, axes, len(shape))
				if err != nil {
					return nil, err
				}
				v, outShape := reduceAxes(x, shape, set, keep, r)
				return []tensor.Tensor{newTensor(in[0].Dtype(), outShape, v)}, nil
			}
			return nil
		}
		return o
	}
}

// argExtreme is ArgMax (sign 1) or ArgMin (-1): int64 indices along one
// axis, the first of equal values unless select_last_index.
func argExtreme(name string, sign float64) func() ops.Operator {
	return func() ops.Operator {
		return &op{name: name, min: 1, max: 1, numeric: []int{0}, init: func(o *op, a attrs) error {
			axis, keep, last := int(a.i("axis", 0)), a.i("keepdims", 1) != 0, a.i("select_last_index", 0) != 0
			o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
				x, shape, ax, err := floatsAlong(o, in[0], axis)
				if err != nil {
					return nil, err
				}
				var res []int64
				lanes(shape, ax, func(idx []int) {
					best, bi := math.NaN(), 0
					for k, i := range idx {
						if v := sign * x[i]; k == 0 || v > best || (last && v == best) {
							best, bi = v, k
						}
					}
					res = append(res, int64(bi))
				})
				set := map[int]bool{ax: true}
				_, outShape := reduceAxes(nil, shape, set, keep, reducer{})
				if len(outShape) == 0 {
					return []tensor.Tensor{tensor.New(tensor.FromScalar(res[0]))}, nil
				}
				return []tensor.Tensor{tensor.New(tensor.WithShape(outShape...), tensor.WithBacking(res))}, nil
			}
			return a.only(o, "axis", "keepdims", "select_last_index")
		}}
	}
}

// axisOf normalises one axis (negative from the end) for a rank.
func axisOf(o *op, axis, rank int) (int, error) {
	if axis < -rank || axis >= rank {
		return 0, fmt.Errorf("%s: axis %d for a tensor of rank %d", o, axis, rank)
	}
	if axis < 0 {
		axis += rank
	}
	return axis, nil
}

// floatsAlong is floats of t with axis normalised for its rank.
func floatsAlong(o *op, t tensor.Tensor, axis int) ([]float64, []int, int, error) {
	x, shape, err := floats(t)
	if err != nil {
		return nil, nil, 0, err
	}
	ax, err := axisOf(o, axis, len(shape))
	return x, shape, ax, err
}

func logSoftmax() ops.Operator {
	return &op{name: "LogSoftmax", min: 1, max: 1, numeric: []int{0}, init: func(o *op, a attrs) error {
		axis := int(a.i("axis", -1))
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			x, shape, ax, err := floatsAlong(o, in[0], axis)
			if err != nil {
				return nil, err
			}
			lanes(shape, ax, func(idx []int) {
				m := math.Inf(-1)
				for _, i := range idx {
					m = math.Max(m, x[i])
				}
				s := 0.0
				for _, i := range idx {
					s += math.Exp(x[i] - m)
				}
				ls := math.Log(s)
				for _, i := range idx {
					x[i] -= m + ls
				}
			})
			return []tensor.Tensor{newTensor(in[0].Dtype(), shape, x)}, nil
		}
		return a.only(o, "axis")
	}}
}

// batchNorm is BatchNormalization at inference: each channel (axis 1)
// normalised by its running mean and variance, then scaled and shifted.
func batchNorm() ops.Operator {
	return &op{name: "BatchNormalization", min: 5, max: 5, numeric: []int{0, 1, 2, 3, 4}, init: func(o *op, a attrs) error {
		if a.i("training_mode", 0) != 0 {
			return fmt.Errorf("%s: training_mode is set: mlrun runs models for inference", o)
		}
		if o.outputs != 1 {
			return fmt.Errorf("%s: %d outputs: at inference BatchNormalization has one", o, o.outputs)
		}
		eps := a.f("epsilon", 1e-5)
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			x, shape, err := floats(in[0])
			if err != nil {
				return nil, err
			}
			if len(shape) < 2 {
				return nil, fmt.Errorf("%s: input of shape %v has no channel axis", o, shape)
			}
			c := shape[1]
			var p [4][]float64
			for i := range p {
				if p[i], _, err = floats(in[i+1]); err != nil {
					return nil, err
				}
				if len(p[i]) != c {
					return nil, fmt.Errorf("%s: input %d has %d values for %d channels", o, i+1, len(p[i]), c)
				}
			}
			scale, bias, mean, variance := p[0], p[1], p[2], p[3]
			inner := 1
			for _, d := range shape[2:] {
				inner *= d
			}
			for e := range x {
				ch := e / inner % c
				x[e] = (x[e]-mean[ch])/math.Sqrt(variance[ch]+eps)*scale[ch] + bias[ch]
			}
			return []tensor.Tensor{newTensor(in[0].Dtype(), shape, x)}, nil
		}
		return a.only(o, "epsilon", "momentum", "training_mode")
	}}
}

// layerNorm is LayerNormalization (opset 17): each group of the axes
// from axis on normalised by its mean and variance, then scaled and
// shifted; the optional Mean and InvStdDev outputs too.
func layerNorm() ops.Operator {
	return &op{name: "LayerNormalization", min: 2, max: 3, numeric: []int{0, 1, 2}, init: func(o *op, a attrs) error {
		axis, eps := int(a.i("axis", -1)), a.f("epsilon", 1e-5)
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			x, shape, ax, err := floatsAlong(o, in[0], axis)
			if err != nil {
				return nil, err
			}
			outer, inner := 1, 1
			for i, d := range shape {
				if i < ax {
					outer *= d
				} else {
					inner *= d
				}
			}
			// Scale and B broadcast to the normalised axes.
			affine := make([][]int, 2)
			vals := make([][]float64, 2)
			for k := 0; k < 2; k++ {
				if in[k+1] == nil {
					continue
				}
				var s []int
				if vals[k], s, err = floats(in[k+1]); err != nil {
					return nil, err
				}
				out, idx, err := broadcast(shape[ax:], s)
				if err != nil || len(out) != len(shape[ax:]) || len(idx[0]) != inner {
					return nil, fmt.Errorf("%s: input %d of shape %v does not fit the normalised shape %v", o, k+1, s, shape[ax:])
				}
				affine[k] = idx[1]
			}
			means, inv := make([]float64, outer), make([]float64, outer)
			for g := 0; g < outer; g++ {
				row := x[g*inner : (g+1)*inner]
				means[g], inv[g] = normalize(row, eps)
				for j, y := range row {
					if affine[0] != nil {
						y *= vals[0][affine[0][j]]
					}
					if affine[1] != nil {
						y += vals[1][affine[1][j]]
					}
					row[j] = y
				}
			}
			dt := in[0].Dtype()
			out := []tensor.Tensor{newTensor(dt, shape, x)}
			stat := append(append([]int(nil), shape[:ax]...), make([]int, len(shape)-ax)...)
			for i := ax; i < len(shape); i++ {
				stat[i] = 1
			}
			if o.outputs > 1 {
				out = append(out, newTensor(dt, stat, means))
			}
			if o.outputs > 2 {
				out = append(out, newTensor(dt, stat, inv))
			}
			return out, nil
		}
		if a.i("stash_type", 1) != 1 {
			return fmt.Errorf("%s: stash_type %d is not supported", o, a.i("stash_type", 1))
		}
		return a.only(o, "axis", "epsilon", "stash_type")
	}}
}

// normalize makes row's values of mean 0 and variance 1 (their variance
// plus eps: a division by its square root), returning the mean and that
// inverse standard deviation.
func normalize(row []float64, eps float64) (mean, inv float64) {
	for _, v := range row {
		mean += v
	}
	mean /= float64(len(row))
	va := 0.0
	for _, v := range row {
		va += (v - mean) * (v - mean)
	}
	inv = 1 / math.Sqrt(va/float64(len(row))+eps)
	for j, v := range row {
		row[j] = (v - mean) * inv
	}
	return mean, inv
}

// binary applies f to its two inputs' values, broadcast together; the
// result is of the first input's type.
func binary(o *op, in []tensor.Tensor, f func(a, b float64) (float64, error)) ([]tensor.Tensor, error) {
	x, xs, err := floats(in[0])
	if err != nil {
		return nil, err
	}
	y, ys, err := floats(in[1])
	if err != nil {
		return nil, err
	}
	shape, idx, err := broadcast(xs, ys)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", o, err)
	}
	v := make([]float64, len(idx[0]))
	for e := range v {
		if v[e], err = f(x[idx[0][e]], y[idx[1][e]]); err != nil {
			return nil, fmt.Errorf("%s: %v", o, err)
		}
	}
	return []tensor.Tensor{newTensor(in[0].Dtype(), shape, v)}, nil
}

// take returns a tensor of shape whose i-th value is t's value at src[i]
// (row-major; a negative src[i] gives a zero), for t of any element type
// gonnx's graphs carry.
func take(t tensor.Tensor, src []int, shape []int) (tensor.Tensor, error) {
	var backing any
	switch d := data(t).(type) {
	case []float32:
		backing = pick(d, src)
	case []float64:
		backing = pick(d, src)
	case []int64:
		backing = pick(d, src)
	case []int32:
		backing = pick(d, src)
	case []bool:
		backing = pick(d, src)
	case float32:
		backing = pick([]float32{d}, src)
	case float64:
		backing = pick([]float64{d}, src)
	case int64:
		backing = pick([]int64{d}, src)
	case int32:
		backing = pick([]int32{d}, src)
	case bool:
		backing = pick([]bool{d}, src)
	default:
		return nil, fmt.Errorf("values of type %s", t.Dtype())
	}
	if len(shape) == 0 {
		return tensor.New(tensor.FromScalar(reflect.ValueOf(backing).Index(0).Interface())), nil
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(backing)), nil
}

func pick[T any](d []T, src []int) []T {
	r := make([]T, len(src))
	for i, s := range src {
		if s >= 0 {
			r[i] = d[s]
		}
	}
	return r
}

// gatherIndex lists, for the tensor of shape out, the row-major index in
// a tensor of shape in of each element: element e at position pos[k] in
// each axis reads in's position start[k] + pos[k]*step[k] on axis
// axis[k] (for slicing axis[k] = k; for transposing, the permutation).
func gatherIndex(in, out, start, step, axis []int) []int {
	strides := make([]int, len(in))
	st := 1
	for i := len(in) - 1; i >= 0; i-- {
		strides[i] = st
		st *= in[i]
	}
	n := 1
	for _, d := range out {
		n *= d
	}
	src := make([]int, n)
	pos := make([]int, len(out))
	at := 0
	for k := range out {
		at += start[k] * strides[axis[k]]
	}
	for e := 0; e < n; e++ {
		src[e] = at
		for k := len(out) - 1; k >= 0; k-- {
			pos[k]++
			at += step[k] * strides[axis[k]]
			if pos[k] < out[k] {
				break
			}
			at -= step[k] * strides[axis[k]] * pos[k]
			pos[k] = 0
		}
	}
	return src
}

// slice is ONNX's Slice: starts and ends clamped to each axis (an end
// past it, INT64_MAX, means to its end), negative values from the end,
// negative steps backwards.
func slice() ops.Operator {
	return &op{name: "Slice", min: 3, max: 5, init: func(o *op, a attrs) error {
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			x := in[0]
			shape := x.Shape()
			ints := func(k int) ([]int, error) {
				if k >= len(in) || in[k] == nil {
					return nil, nil
				}
				if in[k].Dtype() != tensor.Int64 && in[k].Dtype() != tensor.Int32 {
					return nil, fmt.Errorf("%s: input %d is %s, not int64 or int32", o, k, in[k].Dtype())
				}
				return ops.AnyToIntSlice(ops.IfScalarToSlice(data(in[k])))
			}
			var p [4][]int
			for k := range p {
				var err error
				if p[k], err = ints(k + 1); err != nil {
					return nil, err
				}
			}
			starts, ends, axes, steps := p[0], p[1], p[2], p[3]
			if len(ends) != len(starts) || (axes != nil && len(axes) != len(starts)) || (steps != nil && len(steps) != len(starts)) {
				return nil, fmt.Errorf("%s: starts, ends, axes and steps of different lengths", o)
			}
			rank := len(shape)
			start, step, out, axis := make([]int, rank), make([]int, rank), append([]int(nil), shape...), make([]int, rank)
			for k := range axis {
				axis[k], step[k] = k, 1
			}
			seen := map[int]bool{}
			for i := range starts {
				ax := i
				if axes != nil {
					ax = axes[i]
				}
				if ax < 0 {
					ax += rank
				}
				if ax < 0 || ax >= rank || seen[ax] {
					return nil, fmt.Errorf("%s: axis %d for a tensor of rank %d", o, ax, rank)
				}
				seen[ax] = true
				st := 1
				if steps != nil {
					st = steps[i]
				}
				if st == 0 {
					return nil, fmt.Errorf("%s: a step of 0", o)
				}
				d := shape[ax]
				s, e := starts[i], ends[i]
				if s < 0 {
					s += d
				}
				if e < 0 {
					e += d
				}
				var n int
				if st > 0 {
					s, e = min(max(s, 0), d), min(max(e, 0), d)
					n = max(0, (e-s+st-1)/st)
				} else {
					s, e = min(max(s, 0), d-1), min(max(e, -1), d-1)
					n = max(0, (s-e-st-1)/(-st))
				}
				start[ax], step[ax], out[ax] = s, st, n
			}
			t, err := take(x, gatherIndex(shape, out, start, step, axis), out)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", o, err)
			}
			return []tensor.Tensor{t}, nil
		}
		return a.only(o)
	}}
}

// transpose is ONNX's Transpose: perm, or the axes reversed without it.
func transpose() ops.Operator {
	return &op{name: "Transpose", min: 1, max: 1, init: func(o *op, a attrs) error {
		perm, hasPerm := a.ints("perm")
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			shape := in[0].Shape()
			rank := len(shape)
			p := append([]int(nil), perm...)
			if !hasPerm {
				p = make([]int, rank)
				for i := range p {
					p[i] = rank - 1 - i
				}
			}
			set, err := axesOf(o, p, rank)
			if err != nil || len(set) != rank {
				return nil, fmt.Errorf("%s: perm %v for a tensor of rank %d", o, p, rank)
			}
			out, start, step := make([]int, rank), make([]int, rank), make([]int, rank)
			for k, ax := range p {
				if ax < 0 {
					p[k] = ax + rank
				}
				out[k], step[k] = shape[p[k]], 1
			}
			t, err := take(in[0], gatherIndex(shape, out, start, step, p), out)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", o, err)
			}
			return []tensor.Tensor{t}, nil
		}
		return a.only(o, "perm")
	}}
}
