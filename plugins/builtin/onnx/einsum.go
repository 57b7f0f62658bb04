package onnx

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/advancedclimatesystems/gonnx/ops"
	"gorgonia.org/tensor"
)

func init() {
	extraOps["Einsum"] = einsum
	extraOps["LRN"] = lrn
	extraOps["MeanVarianceNormalization"] = meanVarianceNormalization
}

// einsum is Einsum: each operand's axes named by letters ("..." for the
// axes it has beyond them, broadcast), the output's by the equation's
// right side or, without one, the letters used once, in order; every
// combination of the letters visited, the products summed over those
// not in the output.
func einsum() ops.Operator {
	return &op{name: "Einsum", min: 1, max: 8, numeric: []int{0, 1, 2, 3, 4, 5, 6, 7}, init: func(o *op, a attrs) error {
		eq := strings.ReplaceAll(str(a, "equation", ""), " ", "")
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			lhs, rhs, explicit := strings.Cut(eq, "->")
			terms := strings.Split(lhs, ",")
			var ops []tensor.Tensor
			for _, t := range in {
				if t != nil {
					ops = append(ops, t)
				}
			}
			if len(terms) != len(ops) {
				return nil, fmt.Errorf("%s: equation %q for %d inputs", o, eq, len(ops))
			}
			dim := map[byte]int{}
			vals := make([][]float64, len(ops))
			labels := make([]string, len(ops))
			ellipsis := 0
			for k, t := range ops {
				if n := strings.Count(terms[k], "..."); n > 1 {
					return nil, fmt.Errorf("%s: equation %q", o, eq)
				} else if n == 1 {
					ellipsis = max(ellipsis, len(shapeOf(t))-(len(terms[k])-3))
				}
			}
			// "..." stands for up to ellipsis axes, named by the bytes
			// 0 to ellipsis-1 (no letter).
			expand := func(term string, rank int) (string, error) {
				if i := strings.Index(term, "..."); i >= 0 {
					n := rank - (len(term) - 3)
					if n < 0 {
						return "", fmt.Errorf("%s: %q for an input of rank %d", o, term, rank)
					}
					var e []byte
					for j := ellipsis - n; j < ellipsis; j++ {
						e = append(e, byte(j))
					}
					term = term[:i] + string(e) + term[i+3:]
				}
				return term, nil
			}
			for k, t := range ops {
				x, shape, err := floats(t)
				if err != nil {
					return nil, err
				}
				term, err := expand(terms[k], len(shape))
				if err != nil {
					return nil, err
				}
				if len(term) != len(shape) {
					return nil, fmt.Errorf("%s: %q for an input of shape %v", o, terms[k], shape)
				}
				for i := 0; i < len(term); i++ {
					c := term[i]
					if int(c) >= ellipsis && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
						return nil, fmt.Errorf("%s: equation %q", o, eq)
					}
					if d, ok := dim[c]; ok && d != shape[i] && d != 1 && shape[i] != 1 {
						return nil, fmt.Errorf("%s: %q is %d and %d", o, c, d, shape[i])
					}
					dim[c] = max(dim[c], shape[i])
				}
				vals[k], labels[k] = x, term
			}
			var out string
			if explicit {
				r := len(rhs)
				if strings.Contains(rhs, "...") {
					r = ellipsis + len(rhs) - 3
				}
				var err error
				if out, err = expand(rhs, r); err != nil {
					return nil, err
				}
			} else {
				for j := 0; j < ellipsis; j++ {
					out += string(byte(j))
				}
				for c := byte('A'); c <= 'z'; c++ {
					if n := strings.Count(lhs, string(c)); n == 1 {
						out += string(c)
					}
				}
			}
			var letters []byte // the output's, then the summed ones
			for i := 0; i < len(out); i++ {
				if _, ok := dim[out[i]]; !ok || strings.Count(out, out[i:i+1]) > 1 {
					return nil, fmt.Errorf("%s: output %q of equation %q", o, rhs, eq)
				}
				letters = append(letters, out[i])
			}
			for c := range dim {
				if !slices.Contains(letters, c) {
					letters = append(letters, c)
				}
			}
			slices.Sort(letters[len(out):])
			sizes := make([]int, len(letters))
			total := 1
			for i, c := range letters {
				sizes[i] = dim[c]
				if total *= max(sizes[i], 1); total > maxValues {
					return nil, fmt.Errorf("%s: more than %d products", o, maxValues)
				}
			}
			// Each operand's stride for each letter (0: not its, or broadcast).
			st := make([][]int, len(ops))
			for k := range ops {
				st[k] = make([]int, len(letters))
				s := shapeOf(ops[k])
				ss := strides(s)
				for i := 0; i < len(labels[k]); i++ {
					if s[i] != 1 {
						st[k][slices.Index(letters, labels[k][i])] += ss[i]
					}
				}
			}
			outShape := sizes[:len(out)]
			res := make([]float64, count(outShape))
			inner := count(sizes[len(out):])
			pos := make([]int, len(letters))
			for e := 0; e < total; e++ {
				p := 1.0
				for k := range ops {
					at := 0
					for i, q := range pos {
						at += q * st[k][i]
					}
					p *= vals[k][at]
				}
				res[e/max(inner, 1)] += p
				next(pos, sizes)
			}
			return []tensor.Tensor{newTensor(ops[0].Dtype(), outShape, res)}, nil
		}
		return a.only(o, "equation")
	}}
}

// lrn is LRN: each value divided by (bias + alpha/size · the sum of the
// squares of its neighbours across size channels)^beta.
func lrn() ops.Operator {
	return &op{name: "LRN", min: 1, max: 1, numeric: []int{0}, init: func(o *op, a attrs) error {
		alpha, beta, bias, size := a.f("alpha", 1e-4), a.f("beta", 0.75), a.f("bias", 1), int(a.i("size", 0))
		if size < 1 {
			return fmt.Errorf("%s: size %d", o, size)
		}
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			x, shape, err := floats(in[0])
			if err != nil {
				return nil, err
			}
			if len(shape) < 2 {
				return nil, fmt.Errorf("%s: input of shape %v has no channels", o, shape)
			}
			c, inner := shape[1], count(shape[2:])
			y := make([]float64, len(x))
			for e := range x {
				ch := e / inner % c
				base := e - ch*inner
				sum := 0.0
				for k := max(0, ch-(size-1)/2); k <= min(c-1, ch+size/2); k++ {
					v := x[base+k*inner]
					sum += v * v
				}
				y[e] = x[e] / math.Pow(bias+alpha/float64(size)*sum, beta)
			}
			return []tensor.Tensor{newTensor(in[0].Dtype(), shape, y)}, nil
		}
		return a.only(o, "alpha", "beta", "bias", "size")
	}}
}

// meanVarianceNormalization makes its input of mean 0 and variance 1
// over axes (0, 2, 3 by default): (x - mean) / sqrt(variance), as ONNX's
// function defines it (without an epsilon).
func meanVarianceNormalization() ops.Operator {
	return &op{name: "MeanVarianceNormalization", min: 1, max: 1, numeric: []int{0}, init: func(o *op, a attrs) error {
		axes, ok := a.ints("axes")
		if !ok {
			axes = []int{0, 2, 3}
		}
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			x, shape, err := floats(in[0])
			if err != nil {
				return nil, err
			}
			set, err := axesOf(o, axes, len(shape))
			if err != nil {
				return nil, err
			}
			mean, _ := reduceAxes(x, shape, set, true, reducers["ReduceMean"])
			sq := make([]float64, len(x))
			for i, v := range x {
				sq[i] = v * v
			}
			meanSq, kept := reduceAxes(sq, shape, set, true, reducers["ReduceMean"])
			_, idx, err := broadcast(shape, kept)
			if err != nil {
				return nil, err
			}
			y := make([]float64, len(x))
			for e, v := range x {
				m := mean[idx[1][e]]
				y[e] = (v - m) / math.Sqrt(meanSq[idx[1][e]]-m*m)
			}
			return []tensor.Tensor{newTensor(in[0].Dtype(), shape, y)}, nil
		}
		return a.only(o, "axes")
	}}
}
