package onnx

import (
	"cmp"
	"fmt"
	"math"
	"reflect"
	"slices"

	"github.com/advancedclimatesystems/gonnx/ops"
	"gorgonia.org/tensor"
)

// Operators that move values rather than compute them (Expand, Tile,
// Split, GatherElements, Trilu: a transformer's causal mask), make them
// (Range, Size), or pick among them (TopK, Hardmax, CumSum), and a few
// element-wise ones (Mod, IsNaN, IsInf, Shrink), and
// InstanceNormalization; and Concat, in place of gonnx's.

func init() {
	for name, mk := range map[string]func() ops.Operator{
		"Expand": expand, "Tile": tile, "Split": split, "GatherElements": gatherElements, "Trilu": trilu,
		"Range": rangeOp, "Size": size, "TopK": topK, "Hardmax": hardmax, "CumSum": cumSum, "Mod": mod,
		"IsNaN": isNaN, "IsInf": isInf, "Shrink": unary("Shrink", shrink), "InstanceNormalization": instanceNorm,
		"Concat": concat,
	} {
		extraOps[name] = mk
	}
	unaryAttrs["Shrink"] = []string{"bias", "lambd"}
}

// shapeOf is t's shape; none for a scalar.
func shapeOf(t tensor.Tensor) []int {
	if t.Shape().IsScalar() {
		return nil
	}
	return append([]int(nil), t.Shape()...)
}

// intsOf reads an int64 or int32 input's values.
func intsOf(o *op, t tensor.Tensor, what string) ([]int, error) {
	if t.Dtype() != tensor.Int64 && t.Dtype() != tensor.Int32 {
		return nil, fmt.Errorf("%s: %s is %s, not int64", o, what, t.Dtype())
	}
	v, err := ops.AnyToIntSlice(ops.IfScalarToSlice(data(t)))
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %v", o, what, err)
	}
	return v, nil
}

// count is the number of values of a shape.
func count(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// maxValues bounds the values an operator makes from numbers in its
// inputs (Expand's shape, Tile's repeats, Range's bounds): 2^28.
const maxValues = 1 << 28

// expand broadcasts its input to a shape (both ways, as numpy).
func expand() ops.Operator {
	return &op{name: "Expand", min: 2, max: 2, init: func(o *op, a attrs) error {
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			to, err := intsOf(o, in[1], "shape")
			if err != nil {
				return nil, err
			}
			out, idx, err := broadcastBounded(shapeOf(in[0]), to)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", o, err)
			}
			t, err := take(in[0], idx[0], out)
			return []tensor.Tensor{t}, err
		}
		return a.only(o)
	}}
}

// broadcastBounded is broadcast of shapes whose result has at most
// maxValues values.
func broadcastBounded(shapes ...[]int) ([]int, [][]int, error) {
	size := 1
	for i := 0; ; i++ {
		d, any := 1, false
		for _, s := range shapes {
			if j := len(s) - 1 - i; j >= 0 {
				any = true
				if s[j] < 0 {
					return nil, nil, fmt.Errorf("a negative dimension in %v", shapes)
				}
				if s[j] != 1 {
					d = s[j]
				}
			}
		}
		if !any {
			break
		}
		if size *= d; size > maxValues {
			return nil, nil, fmt.Errorf("shapes %v make more than %d values", shapes, maxValues)
		}
	}
	return broadcast(shapes...)
}

func tile() ops.Operator {
	return &op{name: "Tile", min: 2, max: 2, init: func(o *op, a attrs) error {
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			shape := shapeOf(in[0])
			reps, err := intsOf(o, in[1], "repeats")
			if err != nil {
				return nil, err
			}
			if len(reps) != len(shape) {
				return nil, fmt.Errorf("%s: %d repeats for a tensor of rank %d", o, len(reps), len(shape))
			}
			out := make([]int, len(shape))
			size := 1
			for i, r := range reps {
				if r < 0 {
					return nil, fmt.Errorf("%s: repeats %v", o, reps)
				}
				out[i] = shape[i] * r
				if size *= out[i]; size > maxValues {
					return nil, fmt.Errorf("%s: repeats %v make more than %d values", o, reps, maxValues)
				}
			}
			src := make([]int, 0, size)
			pos := make([]int, len(out))
			for e := 0; e < size; e++ {
				at := 0
				for i, p := range pos {
					at = at*shape[i] + p%shape[i]
				}
				src = append(src, at)
				next(pos, out)
			}
			t, err := take(in[0], src, out)
			return []tensor.Tensor{t}, err
		}
		return a.only(o)
	}}
}

// split cuts its input along axis into the node's outputs: of the sizes
// its second input gives, else equal.
func split() ops.Operator {
	return &op{name: "Split", min: 1, max: 2, init: func(o *op, a attrs) error {
		axis := int(a.i("axis", 0))
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			shape := shapeOf(in[0])
			ax, err := axisOf(o, axis, len(shape))
			if err != nil {
				return nil, err
			}
			var sizes []int
			if in[1] != nil {
				if sizes, err = intsOf(o, in[1], "split"); err != nil {
					return nil, err
				}
			} else {
				if o.outputs == 0 || shape[ax]%o.outputs != 0 {
					return nil, fmt.Errorf("%s: an axis of %d into %d equal parts", o, shape[ax], o.outputs)
				}
				for range o.outputs {
					sizes = append(sizes, shape[ax]/o.outputs)
				}
			}
			total := 0
			for _, n := range sizes {
				if n < 0 {
					return nil, fmt.Errorf("%s: sizes %v", o, sizes)
				}
				total += n
			}
			if len(sizes) != o.outputs || total != shape[ax] {
				return nil, fmt.Errorf("%s: sizes %v for an axis of %d into %d outputs", o, sizes, shape[ax], o.outputs)
			}
			var outs []tensor.Tensor
			startAt := 0
			axes, step := make([]int, len(shape)), make([]int, len(shape))
			for i := range axes {
				axes[i], step[i] = i, 1
			}
			for _, n := range sizes {
				begin, out := make([]int, len(shape)), slices.Clone(shape)
				begin[ax], out[ax] = startAt, n
				t, err := take(in[0], gatherIndex(shape, out, begin, step, axes), out)
				if err != nil {
					return nil, err
				}
				outs = append(outs, t)
				startAt += n
			}
			return outs, nil
		}
		return a.only(o, "axis")
	}}
}

// gatherElements picks, along axis, the element each index names: the
// result has the indices' shape.
func gatherElements() ops.Operator {
	return &op{name: "GatherElements", min: 2, max: 2, init: func(o *op, a attrs) error {
		axis := int(a.i("axis", 0))
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			shape, ishape := shapeOf(in[0]), shapeOf(in[1])
			ax, err := axisOf(o, axis, len(shape))
			if err != nil {
				return nil, err
			}
			idx, err := intsOf(o, in[1], "indices")
			if err != nil {
				return nil, err
			}
			if len(ishape) != len(shape) {
				return nil, fmt.Errorf("%s: indices of shape %v for data of shape %v", o, ishape, shape)
			}
			for i := range shape {
				if i != ax && ishape[i] > shape[i] {
					return nil, fmt.Errorf("%s: indices of shape %v for data of shape %v", o, ishape, shape)
				}
			}
			src := make([]int, len(idx))
			pos := make([]int, len(ishape))
			for e, k := range idx {
				if k < -shape[ax] || k >= shape[ax] {
					return nil, fmt.Errorf("%s: index %d on an axis of %d", o, k, shape[ax])
				}
				if k < 0 {
					k += shape[ax]
				}
				at := 0
				for i, p := range pos {
					if i == ax {
						p = k
					}
					at = at*shape[i] + p
				}
				src[e] = at
				next(pos, ishape)
			}
			t, err := take(in[0], src, ishape)
			return []tensor.Tensor{t}, err
		}
		return a.only(o, "axis")
	}}
}

// trilu keeps the upper (or lower) triangle of the last two axes from
// the k-th diagonal, zeroing the rest.
func trilu() ops.Operator {
	return &op{name: "Trilu", min: 1, max: 2, init: func(o *op, a attrs) error {
		upper := a.i("upper", 1) != 0
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			shape := shapeOf(in[0])
			if len(shape) < 2 {
				return nil, fmt.Errorf("%s: input of shape %v is not a matrix", o, shape)
			}
			k := 0
			if in[1] != nil {
				ks, err := intsOf(o, in[1], "k")
				if err != nil || len(ks) != 1 {
					return nil, fmt.Errorf("%s: k of %d values", o, len(ks))
				}
				k = ks[0]
			}
			rows, cols := shape[len(shape)-2], shape[len(shape)-1]
			src := make([]int, count(shape))
			for e := range src {
				i, j := e/cols%rows, e%cols
				if upper && j-i >= k || !upper && j-i <= k {
					src[e] = e
				} else {
					src[e] = -1
				}
			}
			t, err := take(in[0], src, shape)
			return []tensor.Tensor{t}, err
		}
		return a.only(o, "upper")
	}}
}

// rangeOp is Range: start, start+delta, … before limit, of the inputs'
// type.
func rangeOp() ops.Operator {
	return &op{name: "Range", min: 3, max: 3, numeric: []int{0, 1, 2}, init: func(o *op, a attrs) error {
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			var v [3]float64
			for i := range v {
				x, ok, err := scalar(in[i])
				if err != nil || !ok {
					return nil, fmt.Errorf("%s: input %d is not one value", o, i)
				}
				v[i] = x
			}
			start, limit, delta := v[0], v[1], v[2]
			if delta == 0 {
				return nil, fmt.Errorf("%s: a delta of 0", o)
			}
			n := math.Max(math.Ceil((limit-start)/delta), 0)
			if n > maxValues || math.IsNaN(n) {
				return nil, fmt.Errorf("%s: from %v to %v by %v makes more than %d values", o, start, limit, delta, maxValues)
			}
			out := make([]float64, int(n))
			for i := range out {
				out[i] = start + float64(i)*delta
			}
			return []tensor.Tensor{newTensor(in[0].Dtype(), []int{len(out)}, out)}, nil
		}
		return a.only(o)
	}}
}

// size is the number of values of its input, an int64 scalar.
func size() ops.Operator {
	return &op{name: "Size", min: 1, max: 1, init: func(o *op, a attrs) error {
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			return []tensor.Tensor{tensor.New(tensor.FromScalar(int64(count(shapeOf(in[0])))))}, nil
		}
		return a.only(o)
	}}
}

// lanes calls f for each line of values along axis ax of shape: the
// row-major indices of its elements, in order.
func lanes(shape []int, ax int, f func(idx []int)) {
	outer, inner, n := 1, 1, shape[ax]
	for i, d := range shape {
		if i < ax {
			outer *= d
		} else if i > ax {
			inner *= d
		}
	}
	idx := make([]int, n)
	for p := 0; p < outer; p++ {
		for q := 0; q < inner; q++ {
			for k := range idx {
				idx[k] = (p*n+k)*inner + q
			}
			f(idx)
		}
	}
}

// topK gives the k largest (or smallest) values along axis and their
// int64 indices, the lower index first among equal values.
func topK() ops.Operator {
	return &op{name: "TopK", min: 2, max: 2, numeric: []int{0}, init: func(o *op, a attrs) error {
		axis, largest := int(a.i("axis", -1)), a.i("largest", 1) != 0
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			x, shape, ax, err := floatsAlong(o, in[0], axis)
			if err != nil {
				return nil, err
			}
			ks, err := intsOf(o, in[1], "K")
			if err != nil || len(ks) != 1 || ks[0] < 0 || ks[0] > shape[ax] {
				return nil, fmt.Errorf("%s: K %v for an axis of %d", o, ks, shape[ax])
			}
			k := ks[0]
			out := slices.Clone(shape)
			out[ax] = k
			vals, inds := make([]float64, count(out)), make([]int64, count(out))
			dst := make([]int, 0, count(out))
			lanes(out, ax, func(idx []int) { dst = append(dst, idx...) })
			at := 0
			order := make([]int, shape[ax])
			lanes(shape, ax, func(idx []int) {
				for i := range order {
					order[i] = i
				}
				slices.SortStableFunc(order, func(i, j int) int {
					vi, vj := x[idx[i]], x[idx[j]]
					if largest {
						return cmpNaNLast(vj, vi)
					}
					return cmpNaNLast(vi, vj)
				})
				for r := 0; r < k; r++ {
					vals[dst[at]], inds[dst[at]] = x[idx[order[r]]], int64(order[r])
					at++
				}
			})
			return []tensor.Tensor{newTensor(in[0].Dtype(), out, vals), tensor.New(tensor.WithShape(out...), tensor.WithBacking(inds))}, nil
		}
		return a.only(o, "axis", "largest", "sorted")
	}}
}

// cmpNaNLast orders a before b, NaN last.
func cmpNaNLast(a, b float64) int {
	switch an, bn := math.IsNaN(a), math.IsNaN(b); {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	}
	return cmp.Compare(a, b)
}

// hardmax is 1 at the first largest value along axis, 0 elsewhere.
func hardmax() ops.Operator {
	return &op{name: "Hardmax", min: 1, max: 1, numeric: []int{0}, init: func(o *op, a attrs) error {
		axis := int(a.i("axis", -1))
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			x, shape, ax, err := floatsAlong(o, in[0], axis)
			if err != nil {
				return nil, err
			}
			y := make([]float64, len(x))
			lanes(shape, ax, func(idx []int) {
				best := idx[0]
				for _, i := range idx[1:] {
					if x[i] > x[best] {
						best = i
					}
				}
				y[best] = 1
			})
			return []tensor.Tensor{newTensor(in[0].Dtype(), shape, y)}, nil
		}
		return a.only(o, "axis")
	}}
}

// cumSum sums along the axis (its second input), exclusive of each
// element or not, from the end or not.
func cumSum() ops.Operator {
	return &op{name: "CumSum", min: 2, max: 2, numeric: []int{0}, init: func(o *op, a attrs) error {
		exclusive, reverse := a.i("exclusive", 0) != 0, a.i("reverse", 0) != 0
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			x, shape, err := floats(in[0])
			if err != nil {
				return nil, err
			}
			axes, err := intsOf(o, in[1], "axis")
			if err != nil || len(axes) != 1 {
				return nil, fmt.Errorf("%s: axis of %d values", o, len(axes))
			}
			ax, err := axisOf(o, axes[0], len(shape))
			if err != nil {
				return nil, err
			}
			y := make([]float64, len(x))
			lanes(shape, ax, func(idx []int) {
				if reverse {
					idx = slices.Clone(idx)
					slices.Reverse(idx)
				}
				sum := 0.0
				for _, i := range idx {
					if exclusive {
						y[i] = sum
						sum += x[i]
					} else {
						sum += x[i]
						y[i] = sum
					}
				}
			})
			return []tensor.Tensor{newTensor(in[0].Dtype(), shape, y)}, nil
		}
		return a.only(o, "exclusive", "reverse")
	}}
}

// mod is the remainder of A by B, broadcast: with fmod, C's fmod (the
// dividend's sign); without, an integer's remainder of the divisor's
// sign, as Python's %.
func mod() ops.Operator {
	return &op{name: "Mod", min: 2, max: 2, numeric: []int{0, 1}, init: func(o *op, a attrs) error {
		fmod := a.i("fmod", 0) != 0
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			dt := in[0].Dtype()
			if dt != in[1].Dtype() {
				return nil, fmt.Errorf("%s: A is %s and B %s", o, dt, in[1].Dtype())
			}
			if !fmod && (dt == tensor.Float32 || dt == tensor.Float64) {
				return nil, fmt.Errorf("%s: float inputs need fmod=1", o)
			}
			return binary(o, in, func(a, b float64) (float64, error) {
				if !fmod && b == 0 {
					return 0, fmt.Errorf("an integer remainder by 0")
				}
				r := math.Mod(a, b)
				if !fmod && r != 0 && (r < 0) != (b < 0) {
					r += b
				}
				return r, nil
			})
		}
		return a.only(o, "fmod")
	}}
}

// boolOf maps a float input's values to a bool tensor.
func boolOf(o *op, t tensor.Tensor, f func(float64) bool) ([]tensor.Tensor, error) {
	x, shape, err := floats(t)
	if err != nil {
		return nil, err
	}
	b := make([]bool, len(x))
	for i, v := range x {
		b[i] = f(v)
	}
	if len(shape) == 0 {
		return []tensor.Tensor{tensor.New(tensor.FromScalar(b[0]))}, nil
	}
	return []tensor.Tensor{tensor.New(tensor.WithShape(shape...), tensor.WithBacking(b))}, nil
}

func isNaN() ops.Operator {
	return &op{name: "IsNaN", min: 1, max: 1, numeric: []int{0}, init: func(o *op, a attrs) error {
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) { return boolOf(o, in[0], math.IsNaN) }
		return a.only(o)
	}}
}

func isInf() ops.Operator {
	return &op{name: "IsInf", min: 1, max: 1, numeric: []int{0}, init: func(o *op, a attrs) error {
		neg, pos := a.i("detect_negative", 1) != 0, a.i("detect_positive", 1) != 0
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			return boolOf(o, in[0], func(v float64) bool { return neg && math.IsInf(v, -1) || pos && math.IsInf(v, 1) })
		}
		return a.only(o, "detect_negative", "detect_positive")
	}}
}

func shrink(a attrs) func(float64) float64 {
	bias, lambd := a.f("bias", 0), a.f("lambd", 0.5)
	return func(x float64) float64 {
		switch {
		case x < -lambd:
			return x + bias
		case x > lambd:
			return x - bias
		}
		return 0
	}
}

// instanceNorm normalises each (sample, channel) over its spatial
// values, then scales and shifts by channel.
func instanceNorm() ops.Operator {
	return &op{name: "InstanceNormalization", min: 3, max: 3, numeric: []int{0, 1, 2}, init: func(o *op, a attrs) error {
		eps := a.f("epsilon", 1e-5)
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			x, shape, err := spatialFloats(o, in[0])
			if err != nil {
				return nil, err
			}
			c, inner := shape[1], count(shape[2:])
			scale, _, err := floats(in[1])
			if err != nil {
				return nil, err
			}
			bias, _, err := floats(in[2])
			if err != nil {
				return nil, err
			}
			if len(scale) != c || len(bias) != c {
				return nil, fmt.Errorf("%s: %d scales and %d biases for %d channels", o, len(scale), len(bias), c)
			}
			for g := 0; g < shape[0]*c; g++ {
				row := x[g*inner : (g+1)*inner]
				normalize(row, eps)
				for j, v := range row {
					row[j] = v*scale[g%c] + bias[g%c]
				}
			}
			return []tensor.Tensor{newTensor(in[0].Dtype(), shape, x)}, nil
		}
		return a.only(o, "epsilon")
	}}
}

// concat joins its inputs along axis (gonnx's failed on an empty one, as
// an expanded LayerNormalization makes of a shape's empty prefix).
func concat() ops.Operator {
	return &op{name: "Concat", min: 1, max: math.MaxInt32, init: func(o *op, a attrs) error {
		if _, ok := a["axis"]; !ok {
			return fmt.Errorf("%s: no axis", o)
		}
		axis := int(a.i("axis", 0))
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			first := shapeOf(in[0])
			ax, err := axisOf(o, axis, len(first))
			if err != nil {
				return nil, err
			}
			out := slices.Clone(first)
			out[ax] = 0
			vals := make([]reflect.Value, len(in))
			for i, t := range in {
				if t == nil {
					return nil, fmt.Errorf("%s: input %d is missing", o, i)
				}
				s := shapeOf(t)
				if t.Dtype() != in[0].Dtype() || len(s) != len(first) {
					return nil, fmt.Errorf("%s: input %d of shape %v and type %s after one of %v and %s", o, i, s, t.Dtype(), first, in[0].Dtype())
				}
				for k := range s {
					if k != ax && s[k] != first[k] {
						return nil, fmt.Errorf("%s: input %d of shape %v after one of %v", o, i, s, first)
					}
				}
				out[ax] += s[ax]
				vals[i] = reflect.ValueOf(data(t))
			}
			outer := count(first[:ax])
			res := reflect.MakeSlice(vals[0].Type(), 0, count(out))
			for p := 0; p < outer; p++ {
				for i, t := range in {
					chunk := count(shapeOf(t)[ax:])
					res = reflect.AppendSlice(res, vals[i].Slice(p*chunk, (p+1)*chunk))
				}
			}
			return []tensor.Tensor{tensor.New(tensor.WithShape(out...), tensor.WithBacking(res.Interface()))}, nil
		}
		return a.only(o, "axis")
	}}
}
