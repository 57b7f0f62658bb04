package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/advancedclimatesystems/gonnx/ops"
	"gorgonia.org/tensor"
)

// A convolutional network's operators over 1 to 3 spatial axes of an
// [N, C, …] input: Conv (gonnx's reshaped its bias in place, so a model
// ran once, and took no groups), the pools (MaxPool, AveragePool,
// GlobalAveragePool, GlobalMaxPool), and Pad, which PyTorch's exporter
// puts before an AveragePool.

func init() {
	extraOps["Conv"] = conv
	extraOps["MaxPool"] = pooling("MaxPool")
	extraOps["AveragePool"] = pooling("AveragePool")
	extraOps["GlobalAveragePool"] = globalPool("GlobalAveragePool", reducers["ReduceMean"])
	extraOps["GlobalMaxPool"] = globalPool("GlobalMaxPool", reducers["ReduceMax"])
	extraOps["Pad"] = pad
}

// window is a pooling node's geometry along each spatial axis.
type window struct {
	kernel, strides, dilations, padHead, padTail, out []int
}

// geometry works out the window of a pooling node for the spatial dims
// in: ONNX's auto_pad (NOTSET with explicit pads, VALID, SAME_UPPER,
// SAME_LOWER) and ceil_mode, where a last window that would start in the
// tail padding is dropped, as PyTorch and onnxruntime drop it.
// A Conv's kernel, when the node does not give kernel_shape, is its
// weights' (kernel).
func geometry(o *op, a attrs, in, kernel []int) (*window, error) {
	n := len(in)
	k, ok := a.ints("kernel_shape")
	if !ok && kernel != nil {
		k, ok = kernel, true
	}
	if !ok || len(k) != n || (kernel != nil && !slices.Equal(k, kernel)) {
		return nil, fmt.Errorf("%s: kernel_shape %v for %d spatial axes", o, k, n)
	}
	w := &window{kernel: k, strides: ones(n), dilations: ones(n), padHead: make([]int, n), padTail: make([]int, n), out: make([]int, n)}
	if s, ok := a.ints("strides"); ok {
		w.strides = s
	}
	if d, ok := a.ints("dilations"); ok {
		w.dilations = d
	}
	if len(w.strides) != n || len(w.dilations) != n {
		return nil, fmt.Errorf("%s: strides %v and dilations %v for %d spatial axes", o, w.strides, w.dilations, n)
	}
	autoPad := "NOTSET"
	if at, ok := a["auto_pad"]; ok {
		autoPad = string(at.GetS())
	}
	if p, ok := a.ints("pads"); ok {
		if len(p) != 2*n || autoPad != "NOTSET" {
			return nil, fmt.Errorf("%s: pads %v for %d spatial axes with auto_pad %s", o, p, n, autoPad)
		}
		copy(w.padHead, p[:n])
		copy(w.padTail, p[n:])
	}
	ceil := a.i("ceil_mode", 0) != 0
	for i := range in {
		if k[i] < 1 || w.strides[i] < 1 || w.dilations[i] < 1 || w.padHead[i] < 0 || w.padTail[i] < 0 {
			return nil, fmt.Errorf("%s: kernel %v, strides %v, dilations %v, pads %v %v", o, k, w.strides, w.dilations, w.padHead, w.padTail)
		}
		span := (k[i]-1)*w.dilations[i] + 1
		switch autoPad {
		case "NOTSET":
			room := in[i] + w.padHead[i] + w.padTail[i] - span
			if room < 0 {
				return nil, fmt.Errorf("%s: a kernel spanning %d on an axis of %d (padded %d)", o, span, in[i], in[i]+w.padHead[i]+w.padTail[i])
			}
			w.out[i] = room/w.strides[i] + 1
			if ceil && room%w.strides[i] != 0 {
				w.out[i]++
				if (w.out[i]-1)*w.strides[i] >= in[i]+w.padHead[i] {
					w.out[i]--
				}
			}
		case "VALID":
			if in[i] < span {
				return nil, fmt.Errorf("%s: a kernel spanning %d on an axis of %d", o, span, in[i])
			}
			w.out[i] = (in[i]-span)/w.strides[i] + 1
		case "SAME_UPPER", "SAME_LOWER":
			w.out[i] = (in[i] + w.strides[i] - 1) / w.strides[i]
			total := max(0, (w.out[i]-1)*w.strides[i]+span-in[i])
			w.padHead[i] = total / 2
			if autoPad == "SAME_LOWER" {
				w.padHead[i] = (total + 1) / 2
			}
			w.padTail[i] = total - w.padHead[i]
		default:
			return nil, fmt.Errorf("%s: auto_pad %q", o, autoPad)
		}
	}
	return w, nil
}

func ones(n int) []int {
	r := make([]int, n)
	for i := range r {
		r[i] = 1
	}
	return r
}

// pooling is MaxPool (padding never chosen) or AveragePool (the mean of
// the window's input values, or with count_include_pad of the window
// within the padded input, padding counting as zeros).
func pooling(name string) func() ops.Operator {
	return func() ops.Operator {
		return &op{name: name, min: 1, max: 1, numeric: []int{0}, init: func(o *op, a attrs) error {
			isMax := name == "MaxPool"
			allowed := []string{"auto_pad", "ceil_mode", "kernel_shape", "pads", "strides"}
			if isMax {
				if a.i("storage_order", 0) != 0 || o.outputs > 1 {
					return fmt.Errorf("%s: the Indices output and storage_order are not supported", o)
				}
				allowed = append(allowed, "dilations", "storage_order")
			} else {
				allowed = append(allowed, "count_include_pad")
			}
			if err := a.only(o, allowed...); err != nil {
				return err
			}
			includePad := a.i("count_include_pad", 0) != 0
			o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
				x, shape, err := spatialFloats(o, in[0])
				if err != nil {
					return nil, err
				}
				sp := shape[2:]
				w, err := geometry(o, a, sp, nil)
				if err != nil {
					return nil, err
				}
				inSize, outSize := 1, 1
				for i := range sp {
					inSize *= sp[i]
					outSize *= w.out[i]
				}
				planes := shape[0] * shape[1]
				res := make([]float64, 0, planes*outSize)
				pos, kpos := make([]int, len(sp)), make([]int, len(sp))
				for p := 0; p < planes; p++ {
					plane := x[p*inSize : (p+1)*inSize]
					clear(pos)
					for e := 0; e < outSize; e++ {
						acc, count := math.Inf(-1), 0
						if !isMax {
							acc = 0
						}
						clear(kpos)
						for {
							at, inside, padded := 0, true, true
							for i := range sp {
								c := pos[i]*w.strides[i] - w.padHead[i] + kpos[i]*w.dilations[i]
								if c < 0 || c >= sp[i] {
									inside = false
									if c >= sp[i]+w.padTail[i] {
										padded = false
									}
								}
								at = at*sp[i] + c
							}
							switch {
							case inside && isMax:
								acc = maxNaN(acc, plane[at])
							case inside:
								acc += plane[at]
								count++
							case padded && includePad:
								count++
							}
							if !next(kpos, w.kernel) {
								break
							}
						}
						if !isMax {
							acc /= float64(max(count, 1))
						}
						res = append(res, acc)
						next(pos, w.out)
					}
				}
				outShape := append([]int{shape[0], shape[1]}, w.out...)
				return []tensor.Tensor{newTensor(in[0].Dtype(), outShape, res)}, nil
			}
			return nil
		}}
	}
}

// spatialFloats is floats of an [N, C, …] input with 1 to 3 spatial
// axes.
func spatialFloats(o *op, t tensor.Tensor) ([]float64, []int, error) {
	x, shape, err := floats(t)
	if err != nil {
		return nil, nil, err
	}
	if len(shape) < 3 || len(shape) > 5 {
		return nil, nil, fmt.Errorf("%s: input of shape %v: it takes 1 to 3 spatial axes of [N, C, …]", o, shape)
	}
	return x, shape, nil
}

// next advances a row-major position within dims; false once it wraps.
func next(pos, dims []int) bool {
	for i := len(pos) - 1; i >= 0; i-- {
		pos[i]++
		if pos[i] < dims[i] {
			return true
		}
		pos[i] = 0
	}
	return false
}

// globalPool reduces every spatial axis of an [N, C, …] input, keeping
// them as 1s.
func globalPool(name string, r reducer) func() ops.Operator {
	return func() ops.Operator {
		return &op{name: name, min: 1, max: 1, numeric: []int{0}, init: func(o *op, a attrs) error {
			o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
				x, shape, err := spatialFloats(o, in[0])
				if err != nil {
					return nil, err
				}
				axes := map[int]bool{}
				for i := 2; i < len(shape); i++ {
					axes[i] = true
				}
				v, outShape := reduceAxes(x, shape, axes, true, r)
				return []tensor.Tensor{newTensor(in[0].Dtype(), outShape, v)}, nil
			}
			return a.only(o)
		}}
	}
}

// pad is Pad (opset 13): pads (begins, then ends; negative ones crop)
// of a constant (the third input, else 0), of the edge value, or
// reflected without repeating the edge.
func pad() ops.Operator {
	return &op{name: "Pad", min: 2, max: 3, numeric: []int{0, 2}, init: func(o *op, a attrs) error {
		mode := "constant"
		if at, ok := a["mode"]; ok {
			mode = string(at.GetS())
		}
		if mode != "constant" && mode != "edge" && mode != "reflect" {
			return fmt.Errorf("%s: mode %q", o, mode)
		}
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			x, shape, err := floats(in[0])
			if err != nil {
				return nil, err
			}
			if in[1].Dtype() != tensor.Int64 {
				return nil, fmt.Errorf("%s: pads are %s, not int64", o, in[1].Dtype())
			}
			pads, err := ops.AnyToIntSlice(ops.IfScalarToSlice(data(in[1])))
			if err != nil || len(pads) != 2*len(shape) {
				return nil, fmt.Errorf("%s: %d pads for a tensor of rank %d", o, len(pads), len(shape))
			}
			fill := 0.0
			if v, ok, err := scalar(in[2]); err != nil {
				return nil, fmt.Errorf("%s: constant_value: %v", o, err)
			} else if ok {
				fill = v
			}
			rank := len(shape)
			out := make([]int, rank)
			size := 1
			for i, d := range shape {
				out[i] = d + pads[i] + pads[rank+i]
				if out[i] <= 0 || (mode != "constant" && d == 0) {
					return nil, fmt.Errorf("%s: pads %v leave nothing of shape %v", o, pads, shape)
				}
				if mode == "reflect" && (pads[i] >= d || pads[rank+i] >= d) {
					return nil, fmt.Errorf("%s: reflect pads %v larger than shape %v", o, pads, shape)
				}
				size *= out[i]
			}
			res := make([]float64, size)
			pos := make([]int, rank)
			for e := range res {
				at, inside := 0, true
				for i, d := range shape {
					c := pos[i] - pads[i]
					if c < 0 || c >= d {
						switch mode {
						case "constant":
							inside = false
						case "edge":
							c = min(max(c, 0), d-1)
						case "reflect":
							if c < 0 {
								c = -c
							} else {
								c = 2*(d-1) - c
							}
						}
					}
					at = at*d + c
				}
				if inside {
					res[e] = x[at]
				} else {
					res[e] = fill
				}
				next(pos, out)
			}
			return []tensor.Tensor{newTensor(in[0].Dtype(), out, res)}, nil
		}
		return a.only(o, "mode")
	}}
}

// conv is Conv: each output channel m the sum, over the input channels
// of its group and the kernel's positions, of weights times the input
// (padding as zeros), plus its bias.
func conv() ops.Operator {
	return &op{name: "Conv", min: 2, max: 3, numeric: []int{0, 1, 2}, init: func(o *op, a attrs) error {
		if err := a.only(o, "auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"); err != nil {
			return err
		}
		group := int(a.i("group", 1))
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			x, shape, err := floats(in[0])
			if err != nil {
				return nil, err
			}
			wt, ws, err := floats(in[1])
			if err != nil {
				return nil, err
			}
			if len(shape) < 3 || len(shape) > 5 || len(ws) != len(shape) {
				return nil, fmt.Errorf("%s: input of shape %v, weights of shape %v: it convolves 1 to 3 spatial axes of [N, C, …]", o, shape, ws)
			}
			n, c, m := shape[0], shape[1], ws[0]
			if group < 1 || c%group != 0 || m%group != 0 || ws[1] != c/group {
				return nil, fmt.Errorf("%s: %d input channels, weights of shape %v, group %d", o, c, ws, group)
			}
			var bias []float64
			if in[2] != nil {
				if bias, _, err = floats(in[2]); err != nil {
					return nil, err
				}
				if len(bias) != m {
					return nil, fmt.Errorf("%s: %d biases for %d output channels", o, len(bias), m)
				}
			}
			sp := shape[2:]
			w, err := geometry(o, a, sp, ws[2:])
			if err != nil {
				return nil, err
			}
			inSize, outSize, kSize := 1, 1, 1
			for i := range sp {
				inSize *= sp[i]
				outSize *= w.out[i]
				kSize *= w.kernel[i]
			}
			cg, mg := c/group, m/group
			// For each kernel position, the input offset each output
			// position reads (-1 in the padding): then each weight runs
			// over all the output positions at once, in the same order of
			// sums as one output at a time.
			offs := make([]int, kSize*outSize)
			pos, kpos := make([]int, len(sp)), make([]int, len(sp))
			for e := 0; e < outSize; e++ {
				clear(kpos)
				for k := 0; k < kSize; k++ {
					off := 0
					for i := range sp {
						p := pos[i]*w.strides[i] - w.padHead[i] + kpos[i]*w.dilations[i]
						if p < 0 || p >= sp[i] {
							off = -1
							break
						}
						off = off*sp[i] + p
					}
					offs[k*outSize+e] = off
					next(kpos, w.kernel)
				}
				next(pos, w.out)
			}
			res := make([]float64, n*m*outSize)
			for b := 0; b < n; b++ {
				for oc := 0; oc < m; oc++ {
					g := oc / mg
					acc := res[(b*m+oc)*outSize : (b*m+oc+1)*outSize]
					if bias != nil {
						for e := range acc {
							acc[e] = bias[oc]
						}
					}
					for ic := 0; ic < cg; ic++ {
						plane := x[(b*c+g*cg+ic)*inSize : (b*c+g*cg+ic+1)*inSize]
						kern := wt[(oc*cg+ic)*kSize : (oc*cg+ic+1)*kSize]
						for k, wk := range kern {
							for e, off := range offs[k*outSize : (k+1)*outSize] {
								if off >= 0 {
									acc[e] += wk * plane[off]
								}
							}
						}
					}
				}
			}
			outShape := append([]int{n, m}, w.out...)
			return []tensor.Tensor{newTensor(in[0].Dtype(), outShape, res)}, nil
		}
		return nil
	}}
}
