package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/advancedclimatesystems/gonnx/ops"
	"gorgonia.org/tensor"
)

// Operators that address values by index: GatherND, ScatterND,
// ScatterElements (and the older Scatter), OneHot, EyeLike, NonZero; and
// CastLike.

func init() {
	for name, mk := range map[string]func() ops.Operator{
		"GatherND": gatherND, "ScatterND": scatterND, "ScatterElements": scatterElements("ScatterElements"),
		"Scatter": scatterElements("Scatter"), "OneHot": oneHot, "EyeLike": eyeLike, "NonZero": nonZero,
		"CastLike": castLike,
	} {
		extraOps[name] = mk
	}
}

// strides are the row-major strides of shape.
func strides(shape []int) []int {
	s := make([]int, len(shape))
	st := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = st
		st *= shape[i]
	}
	return s
}

// index normalises an index (negative from the end) on an axis of n,
// refusing one outside it.
func index(o *op, k, n int) (int, error) {
	if k < -n || k >= n {
		return 0, fmt.Errorf("%s: index %d on an axis of %d", o, k, n)
	}
	if k < 0 {
		k += n
	}
	return k, nil
}

// gatherND gathers slices of data, each named by the last axis of
// indices (after batch_dims axes both share).
func gatherND() ops.Operator {
	return &op{name: "GatherND", min: 2, max: 2, init: func(o *op, a attrs) error {
		b := int(a.i("batch_dims", 0))
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			ds, is := shapeOf(in[0]), shapeOf(in[1])
			idx, err := intsOf(o, in[1], "indices")
			if err != nil {
				return nil, err
			}
			if len(is) < 1 || b < 0 || b >= len(is) || b > len(ds) || !slices.Equal(is[:b], ds[:b]) {
				return nil, fmt.Errorf("%s: indices of shape %v, data of shape %v, batch_dims %d", o, is, ds, b)
			}
			m := is[len(is)-1]
			if b+m > len(ds) {
				return nil, fmt.Errorf("%s: indices of shape %v, data of shape %v, batch_dims %d", o, is, ds, b)
			}
			out := append(slices.Clone(is[:len(is)-1]), ds[b+m:]...)
			slab := count(ds[b+m:])
			st := strides(ds)
			batchSize := count(ds[b:])
			perBatch := count(is[b : len(is)-1])
			var src []int
			for t := 0; t < count(is[:len(is)-1]); t++ {
				at := t / max(perBatch, 1) * batchSize
				for j := 0; j < m; j++ {
					k, err := index(o, idx[t*m+j], ds[b+j])
					if err != nil {
						return nil, err
					}
					at += k * st[b+j]
				}
				for e := 0; e < slab; e++ {
					src = append(src, at+e)
				}
			}
			t, err := take(in[0], src, out)
			return []tensor.Tensor{t}, err
		}
		return a.only(o, "batch_dims")
	}}
}

// reduceInto is how a scatter puts an update on a value: none replaces
// it, add and mul combine.
func reduceInto(o *op, a attrs) (func(old, upd float64) float64, error) {
	switch r := str(a, "reduction", "none"); r {
	case "none":
		return func(_, u float64) float64 { return u }, nil
	case "add":
		return func(v, u float64) float64 { return v + u }, nil
	case "mul":
		return func(v, u float64) float64 { return v * u }, nil
	default:
		return nil, fmt.Errorf("%s: reduction %q", o, r)
	}
}

// scatterInputs reads a scatter's indices and updates, with their
// shapes.
func scatterInputs(o *op, in []tensor.Tensor) (idx, is []int, upd []float64, us []int, err error) {
	is = shapeOf(in[1])
	if idx, err = intsOf(o, in[1], "indices"); err != nil {
		return nil, nil, nil, nil, err
	}
	upd, us, err = floats(in[2])
	return idx, is, upd, us, err
}

// scatterND writes updates into a copy of data at the slices indices
// name.
func scatterND() ops.Operator {
	return &op{name: "ScatterND", min: 3, max: 3, numeric: []int{0, 2}, init: func(o *op, a attrs) error {
		put, err := reduceInto(o, a)
		if err != nil {
			return err
		}
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			x, ds, err := floats(in[0])
			if err != nil {
				return nil, err
			}
			idx, is, upd, us, err := scatterInputs(o, in)
			if err != nil {
				return nil, err
			}
			if len(is) < 1 || is[len(is)-1] > len(ds) {
				return nil, fmt.Errorf("%s: indices of shape %v for data of shape %v", o, is, ds)
			}
			m := is[len(is)-1]
			if want := append(slices.Clone(is[:len(is)-1]), ds[m:]...); !slices.Equal(us, want) {
				return nil, fmt.Errorf("%s: updates of shape %v, want %v", o, us, want)
			}
			st, slab := strides(ds), count(ds[m:])
			for t := 0; t < count(is[:len(is)-1]); t++ {
				at := 0
				for j := 0; j < m; j++ {
					k, err := index(o, idx[t*m+j], ds[j])
					if err != nil {
						return nil, err
					}
					at += k * st[j]
				}
				for e := 0; e < slab; e++ {
					x[at+e] = put(x[at+e], upd[t*slab+e])
				}
			}
			return []tensor.Tensor{newTensor(in[0].Dtype(), ds, x)}, nil
		}
		return a.only(o, "reduction")
	}}
}

// scatterElements writes each update into a copy of data at its own
// position with the axis's index replaced by the index's.
func scatterElements(name string) func() ops.Operator {
	return func() ops.Operator {
		return &op{name: name, min: 3, max: 3, numeric: []int{0, 2}, init: func(o *op, a attrs) error {
			put, err := reduceInto(o, a)
			if err != nil {
				return err
			}
			axis := int(a.i("axis", 0))
			o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
				x, ds, ax, err := floatsAlong(o, in[0], axis)
				if err != nil {
					return nil, err
				}
				idx, is, upd, us, err := scatterInputs(o, in)
				if err != nil {
					return nil, err
				}
				if !slices.Equal(is, us) || len(is) != len(ds) {
					return nil, fmt.Errorf("%s: indices of shape %v, updates of shape %v, data of shape %v", o, is, us, ds)
				}
				for i := range is {
					if i != ax && is[i] > ds[i] {
						return nil, fmt.Errorf("%s: indices of shape %v for data of shape %v", o, is, ds)
					}
				}
				st := strides(ds)
				pos := make([]int, len(is))
				for e, k := range idx {
					k, err := index(o, k, ds[ax])
					if err != nil {
						return nil, err
					}
					at := 0
					for i, p := range pos {
						if i == ax {
							p = k
						}
						at += p * st[i]
					}
					x[at] = put(x[at], upd[e])
					next(pos, is)
				}
				return []tensor.Tensor{newTensor(in[0].Dtype(), ds, x)}, nil
			}
			return a.only(o, "axis", "reduction")
		}}
	}
}

// oneHot puts, on a new axis of depth values, values[1] at each index
// and values[0] elsewhere.
func oneHot() ops.Operator {
	return &op{name: "OneHot", min: 3, max: 3, numeric: []int{0, 1, 2}, init: func(o *op, a attrs) error {
		axis := int(a.i("axis", -1))
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			idx, is, err := floats(in[0])
			if err != nil {
				return nil, err
			}
			depthF, ok, err := scalar(in[1])
			if err != nil || !ok || depthF < 1 || depthF > maxValues {
				return nil, fmt.Errorf("%s: depth is not one positive value", o)
			}
			depth := int(depthF)
			vals, _, err := floats(in[2])
			if err != nil || len(vals) != 2 {
				return nil, fmt.Errorf("%s: values are not two", o)
			}
			ax, err := axisOf(o, axis, len(is)+1)
			if err != nil {
				return nil, err
			}
			out := slices.Insert(slices.Clone(is), ax, depth)
			if count(out) > maxValues {
				return nil, fmt.Errorf("%s: an output of more than %d values", o, maxValues)
			}
			inner := count(is[ax:])
			y := make([]float64, count(out))
			for e := range y {
				outer, rest := e/(depth*inner), e%(depth*inner)
				k, q := rest/inner, rest%inner
				i := int(idx[outer*inner+q])
				if i < 0 {
					i += depth
				}
				y[e] = vals[0]
				if i == k {
					y[e] = vals[1]
				}
			}
			return []tensor.Tensor{newTensor(in[2].Dtype(), out, y)}, nil
		}
		return a.only(o, "axis")
	}}
}

// runtimeDtypes are the element types ONNX's TensorProto numbers that the Go
// runtime computes in.
var runtimeDtypes = map[int64]tensor.Dtype{1: tensor.Float32, 6: tensor.Int32, 7: tensor.Int64, 9: tensor.Bool, 11: tensor.Float64}

// eyeLike is a matrix of its input's shape with ones on the k-th
// diagonal, of the dtype attribute's type or the input's.
func eyeLike() ops.Operator {
	return &op{name: "EyeLike", min: 1, max: 1, init: func(o *op, a attrs) error {
		k := int(a.i("k", 0))
		dt, ok := tensor.Dtype{}, false
		if at, has := a["dtype"]; has {
			if dt, ok = runtimeDtypes[at.GetI()]; !ok {
				return fmt.Errorf("%s: dtype %d", o, at.GetI())
			}
		}
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			s := shapeOf(in[0])
			if len(s) != 2 {
				return nil, fmt.Errorf("%s: input of shape %v is not a matrix", o, s)
			}
			y := make([]float64, count(s))
			for i := 0; i < s[0]; i++ {
				if j := i + k; j >= 0 && j < s[1] {
					y[i*s[1]+j] = 1
				}
			}
			t := dt
			if !ok {
				t = in[0].Dtype()
			}
			return []tensor.Tensor{castTo(t, s, y)}, nil
		}
		return a.only(o, "dtype", "k")
	}}
}

// castTo is newTensor of any type the runtime computes in, bool too.
func castTo(dt tensor.Dtype, shape []int, v []float64) tensor.Tensor {
	if dt != tensor.Bool {
		return newTensor(dt, shape, v)
	}
	b := make([]bool, len(v))
	for i, x := range v {
		b[i] = x != 0
	}
	if len(shape) == 0 {
		return tensor.New(tensor.FromScalar(b[0]))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(b))
}

// nonZero lists the positions of the values that are not zero: an int64
// [rank, count] tensor, in row-major order.
func nonZero() ops.Operator {
	return &op{name: "NonZero", min: 1, max: 1, init: func(o *op, a attrs) error {
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			var x []float64
			var shape []int
			if b, ok := data(in[0]).([]bool); ok {
				shape = shapeOf(in[0])
				for _, v := range b {
					x = append(x, map[bool]float64{true: 1}[v])
				}
			} else {
				var err error
				if x, shape, err = floats(in[0]); err != nil {
					return nil, err
				}
			}
			rank := max(len(shape), 1)
			var at []int
			for e, v := range x {
				if v != 0 || math.IsNaN(v) {
					at = append(at, e)
				}
			}
			res := make([]int64, rank*len(at))
			st := strides(shape)
			for j, e := range at {
				for i := range shape {
					res[i*len(at)+j] = int64(e / st[i] % shape[i])
				}
			}
			return []tensor.Tensor{tensor.New(tensor.WithShape(rank, len(at)), tensor.WithBacking(res))}, nil
		}
		return a.only(o)
	}}
}

// castLike casts its input to its second input's element type.
func castLike() ops.Operator {
	return &op{name: "CastLike", min: 2, max: 2, init: func(o *op, a attrs) error {
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			dt := in[1].Dtype()
			switch dt {
			case tensor.Float32, tensor.Float64, tensor.Int32, tensor.Int64, tensor.Bool:
			default:
				return nil, fmt.Errorf("%s: to %s", o, dt)
			}
			if b, ok := data(in[0]).([]bool); ok {
				v := make([]float64, len(b))
				for i, x := range b {
					if x {
						v[i] = 1
					}
				}
				return []tensor.Tensor{castTo(dt, shapeOf(in[0]), v)}, nil
			}
			x, shape, err := floats(in[0])
			if err != nil {
				return nil, err
			}
			return []tensor.Tensor{castTo(dt, shape, x)}, nil
		}
		return a.only(o, "saturate")
	}}
}
