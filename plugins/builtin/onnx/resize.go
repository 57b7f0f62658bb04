package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/advancedclimatesystems/gonnx/ops"
	"gorgonia.org/tensor"
)

// Operators that change an image's size: ConvTranspose (a decoder's or a
// U-Net's learned upsampling), Resize and the older Upsample (nearest,
// linear and cubic interpolation), DepthToSpace and SpaceToDepth.

func init() {
	extraOps["ConvTranspose"] = convTranspose
	extraOps["Resize"] = resize
	extraOps["Upsample"] = upsample
	extraOps["DepthToSpace"] = depthToSpace(true)
	extraOps["SpaceToDepth"] = depthToSpace(false)
}

// convTranspose is ConvTranspose: each input value spread by the kernel
// over the output (stride apart, dilated), summed, less the padding,
// plus the bias; the output's size from output_shape, auto_pad or the
// pads and output_padding.
func convTranspose() ops.Operator {
	return &op{name: "ConvTranspose", min: 2, max: 3, numeric: []int{0, 1, 2}, init: func(o *op, a attrs) error {
		if err := a.only(o, "auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape", "pads", "strides"); err != nil {
			return err
		}
		group := int(a.i("group", 1))
		autoPad := "NOTSET"
		if at, ok := a["auto_pad"]; ok {
			autoPad = string(at.GetS())
		}
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			x, shape, err := spatialFloats(o, in[0])
			if err != nil {
				return nil, err
			}
			wt, ws, err := floats(in[1])
			if err != nil {
				return nil, err
			}
			n, c := shape[0], shape[1]
			if len(ws) != len(shape) || group < 1 || c%group != 0 || ws[0] != c {
				return nil, fmt.Errorf("%s: input of shape %v, weights of shape %v, group %d", o, shape, ws, group)
			}
			cg, mg := c/group, ws[1]
			m := mg * group
			var bias []float64
			if in[2] != nil {
				if bias, _, err = floats(in[2]); err != nil {
					return nil, err
				}
				if len(bias) != m {
					return nil, fmt.Errorf("%s: %d biases for %d output channels", o, len(bias), m)
				}
			}
			sp, k := shape[2:], ws[2:]
			d := len(sp)
			attr := func(name string, def int) ([]int, error) {
				v, ok := a.ints(name)
				if !ok {
					v = make([]int, d)
					for i := range v {
						v[i] = def
					}
				}
				if len(v) != d {
					return nil, fmt.Errorf("%s: %s %v for %d spatial axes", o, name, v, d)
				}
				return v, nil
			}
			strides, err := attr("strides", 1)
			if err != nil {
				return nil, err
			}
			dil, err := attr("dilations", 1)
			if err != nil {
				return nil, err
			}
			outPad, err := attr("output_padding", 0)
			if err != nil {
				return nil, err
			}
			if ks, ok := a.ints("kernel_shape"); ok && !slices.Equal(ks, k) {
				return nil, fmt.Errorf("%s: kernel_shape %v, weights of shape %v", o, ks, ws)
			}
			head, tail := make([]int, d), make([]int, d)
			if p, ok := a.ints("pads"); ok {
				if len(p) != 2*d {
					return nil, fmt.Errorf("%s: pads %v for %d spatial axes", o, p, d)
				}
				copy(head, p[:d])
				copy(tail, p[d:])
			}
			out := make([]int, d)
			full := make([]int, d) // the output before padding is cut
			for i := range sp {
				if strides[i] < 1 || dil[i] < 1 || head[i] < 0 || tail[i] < 0 || outPad[i] < 0 {
					return nil, fmt.Errorf("%s: strides %v, dilations %v, pads %v %v, output_padding %v", o, strides, dil, head, tail, outPad)
				}
				full[i] = strides[i]*(sp[i]-1) + outPad[i] + (k[i]-1)*dil[i] + 1
			}
			target, hasTarget := a.ints("output_shape")
			if !hasTarget && (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
				target, hasTarget = make([]int, d), true
				for i := range target {
					target[i] = sp[i] * strides[i]
				}
			}
			if hasTarget {
				if len(target) > d {
					target = target[len(target)-d:]
				}
				if len(target) != d {
					return nil, fmt.Errorf("%s: output_shape %v for %d spatial axes", o, target, d)
				}
				for i := range sp {
					// Negative when output_shape is larger: the output
					// extends past the input's reach (bias alone there).
					total := full[i] - target[i]
					half := floorDiv(total, 2)
					if autoPad == "SAME_UPPER" {
						head[i], tail[i] = half, total-half
					} else {
						head[i], tail[i] = total-half, half
					}
				}
			}
			size := 1
			for i := range sp {
				out[i] = full[i] - head[i] - tail[i]
				if out[i] <= 0 {
					return nil, fmt.Errorf("%s: pads %v %v leave no output of %v", o, head, tail, full)
				}
				if size *= out[i]; size > maxValues {
					return nil, fmt.Errorf("%s: an output of more than %d values", o, maxValues)
				}
			}
			inSize, kSize := count(sp), count(k)
			res := make([]float64, n*m*size)
			for b := 0; b < n; b++ {
				for oc := 0; oc < m; oc++ {
					if bias != nil {
						for e := 0; e < size; e++ {
							res[(b*m+oc)*size+e] = bias[oc]
						}
					}
				}
			}
			ipos, kpos := make([]int, d), make([]int, d)
			for e := 0; e < inSize; e++ {
				clear(kpos)
				for kk := 0; kk < kSize; kk++ {
					at, inside := 0, true
					for i := range sp {
						q := ipos[i]*strides[i] + kpos[i]*dil[i] - head[i]
						if q < 0 || q >= out[i] {
							inside = false
							break
						}
						at = at*out[i] + q
					}
					if inside {
						for b := 0; b < n; b++ {
							for ic := 0; ic < c; ic++ {
								v := x[(b*c+ic)*inSize+e]
								g := ic / cg
								for om := 0; om < mg; om++ {
									res[(b*m+g*mg+om)*size+at] += v * wt[(ic*mg+om)*kSize+kk]
								}
							}
						}
					}
					next(kpos, k)
				}
				next(ipos, sp)
			}
			return []tensor.Tensor{newTensor(in[0].Dtype(), append([]int{n, m}, out...), res)}, nil
		}
		return nil
	}}
}

// floorDiv is a/b rounded down, as Python's //.
func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// resizing is how Resize maps and interpolates along each axis.
type resizing struct {
	mode, coord, nearest  string
	cubicA, extrapolation float64
	excludeOutside        bool
}

// resize is Resize (opset 13): the output's size from scales or sizes;
// each output coordinate mapped back to the input by the coordinate
// transformation mode, then interpolated, one axis after another.
func resize() ops.Operator {
	return &op{name: "Resize", min: 1, max: 4, numeric: []int{0, 1, 2}, init: func(o *op, a attrs) error {
		if err := a.only(o, "coordinate_transformation_mode", "cubic_coeff_a", "exclude_outside", "extrapolation_value", "mode", "nearest_mode"); err != nil {
			return err
		}
		r := resizing{mode: str(a, "mode", "nearest"), coord: str(a, "coordinate_transformation_mode", "half_pixel"),
			nearest: str(a, "nearest_mode", "round_prefer_floor"), cubicA: a.f("cubic_coeff_a", -0.75),
			extrapolation: a.f("extrapolation_value", 0), excludeOutside: a.i("exclude_outside", 0) != 0}
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			var roi, scales []float64
			var sizes []int
			var err error
			if in[1] != nil && in[1].Shape().TotalSize() > 0 {
				if roi, _, err = floats(in[1]); err != nil {
					return nil, err
				}
			}
			if in[2] != nil && in[2].Shape().TotalSize() > 0 {
				if scales, _, err = floats(in[2]); err != nil {
					return nil, err
				}
			}
			if len(in) > 3 && in[3] != nil && in[3].Shape().TotalSize() > 0 {
				if sizes, err = intsOf(o, in[3], "sizes"); err != nil {
					return nil, err
				}
			}
			return r.apply(o, in[0], roi, scales, sizes)
		}
		return nil
	}}
}

// upsample is Upsample (opsets 7 to 9): Resize by scales, nearest or
// linear, its coordinates asymmetric.
func upsample() ops.Operator {
	return &op{name: "Upsample", min: 1, max: 2, numeric: []int{0, 1}, init: func(o *op, a attrs) error {
		r := resizing{mode: str(a, "mode", "nearest"), coord: "asymmetric", nearest: "floor", cubicA: -0.75}
		if r.mode == "bilinear" {
			r.mode = "linear"
		}
		scales, hasAttr := a.fs("scales")
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			s := scales
			if !hasAttr {
				if in[1] == nil {
					return nil, fmt.Errorf("%s: no scales", o)
				}
				var err error
				if s, _, err = floats(in[1]); err != nil {
					return nil, err
				}
			}
			return r.apply(o, in[0], nil, s, nil)
		}
		return a.only(o, "mode", "scales")
	}}
}

func str(a attrs, name, def string) string {
	if at, ok := a[name]; ok {
		return string(at.GetS())
	}
	return def
}

func (a attrs) fs(name string) ([]float64, bool) {
	at, ok := a[name]
	if !ok {
		return nil, false
	}
	r := make([]float64, len(at.GetFloats()))
	for i, v := range at.GetFloats() {
		r[i] = float64(v)
	}
	return r, true
}

func (r resizing) apply(o *op, t tensor.Tensor, roi, scales []float64, sizes []int) ([]tensor.Tensor, error) {
	x, shape, err := floats(t)
	if err != nil {
		return nil, err
	}
	rank := len(shape)
	if rank == 0 {
		return nil, fmt.Errorf("%s: a scalar input", o)
	}
	out := make([]int, rank)
	switch {
	case sizes != nil:
		if len(sizes) != rank || scales != nil {
			return nil, fmt.Errorf("%s: sizes %v (and scales %v) for a tensor of rank %d", o, sizes, scales, rank)
		}
		scales = make([]float64, rank)
		for i := range out {
			out[i] = sizes[i]
			scales[i] = float64(sizes[i]) / float64(shape[i])
		}
	case scales != nil:
		if len(scales) != rank {
			return nil, fmt.Errorf("%s: scales %v for a tensor of rank %d", o, scales, rank)
		}
		for i := range out {
			out[i] = int(math.Floor(float64(shape[i]) * scales[i]))
		}
	default:
		return nil, fmt.Errorf("%s: neither scales nor sizes", o)
	}
	size := 1
	for i, d := range out {
		if d < 1 || scales[i] <= 0 || math.IsNaN(scales[i]) || math.IsInf(scales[i], 0) {
			return nil, fmt.Errorf("%s: an output of shape %v (scales %v)", o, out, scales)
		}
		if size *= d; size > maxValues {
			return nil, fmt.Errorf("%s: an output of more than %d values", o, maxValues)
		}
	}
	if r.coord == "tf_crop_and_resize" && len(roi) != 2*rank {
		return nil, fmt.Errorf("%s: tf_crop_and_resize with roi %v for a tensor of rank %d", o, roi, rank)
	}
	// One axis at a time: each output index a weighted sum of input
	// indices along the axis (the extrapolation value where it maps
	// outside, for tf_crop_and_resize).
	cur := shape
	for ax := 0; ax < rank; ax++ {
		if out[ax] == cur[ax] && scales[ax] == 1 && r.coord != "tf_crop_and_resize" {
			continue
		}
		taps, err := r.taps(o, cur[ax], out[ax], scales[ax], roi, ax, rank)
		if err != nil {
			return nil, err
		}
		next := slices.Clone(cur)
		next[ax] = out[ax]
		y := make([]float64, count(next))
		outer, inner := count(cur[:ax]), count(cur[ax+1:])
		for p := 0; p < outer; p++ {
			for j, tp := range taps {
				for q := 0; q < inner; q++ {
					v := 0.0
					if tp.outside {
						v = r.extrapolation
					}
					for k, i := range tp.index {
						v += tp.weight[k] * x[(p*cur[ax]+i)*inner+q]
					}
					y[(p*out[ax]+j)*inner+q] = v
				}
			}
		}
		x, cur = y, next
	}
	return []tensor.Tensor{newTensor(t.Dtype(), cur, x)}, nil
}

// tap is what one output index along an axis reads: input indices and
// their weights, or nothing (outside: the extrapolation value).
type tap struct {
	index   []int
	weight  []float64
	outside bool
}

func (r resizing) taps(o *op, in, out int, scale float64, roi []float64, ax, rank int) ([]tap, error) {
	taps := make([]tap, out)
	for j := range taps {
		xo := float64(j)
		var xi float64
		switch r.coord {
		case "half_pixel":
			xi = (xo+0.5)/scale - 0.5
		case "pytorch_half_pixel":
			if out > 1 {
				xi = (xo+0.5)/scale - 0.5
			}
		case "align_corners":
			// The output's length as the scale makes it, not rounded
			// (ONNX's reference): with scales, 0.6 of 4 is 2.4, not 2.
			if length := float64(in) * scale; out > 1 {
				xi = xo * float64(in-1) / (length - 1)
			}
		case "asymmetric":
			xi = xo / scale
		case "tf_half_pixel_for_nn":
			xi = (xo + 0.5) / scale
		case "tf_crop_and_resize":
			start, end := roi[ax], roi[rank+ax]
			if out > 1 {
				xi = start*float64(in-1) + xo*(end-start)*float64(in-1)/float64(out-1)
			} else {
				xi = 0.5 * (start + end) * float64(in-1)
			}
			if xi < 0 || xi > float64(in-1) {
				taps[j] = tap{outside: true}
				continue
			}
		default:
			return nil, fmt.Errorf("%s: coordinate_transformation_mode %q", o, r.coord)
		}
		switch r.mode {
		case "nearest":
			var i float64
			switch r.nearest {
			case "round_prefer_floor":
				i = math.Ceil(xi - 0.5)
				if xi == math.Floor(xi)+0.5 {
					i = math.Floor(xi)
				}
			case "round_prefer_ceil":
				i = math.Floor(xi + 0.5)
			case "floor":
				i = math.Floor(xi)
			case "ceil":
				i = math.Ceil(xi)
			default:
				return nil, fmt.Errorf("%s: nearest_mode %q", o, r.nearest)
			}
			k := min(max(int(i), 0), in-1)
			taps[j] = tap{index: []int{k}, weight: []float64{1}}
		case "linear":
			xi = min(max(xi, 0), float64(in-1))
			lo := int(math.Floor(xi))
			hi := min(lo+1, in-1)
			f := xi - float64(lo)
			taps[j] = tap{index: []int{lo, hi}, weight: []float64{1 - f, f}}
		case "cubic":
			lo := int(math.Floor(xi))
			f := xi - float64(lo)
			w := cubicWeights(f, r.cubicA)
			t := tap{}
			sum := 0.0
			for k := -1; k <= 2; k++ {
				i := lo + k
				if r.excludeOutside && (i < 0 || i >= in) {
					continue
				}
				t.index = append(t.index, min(max(i, 0), in-1))
				t.weight = append(t.weight, w[k+1])
				sum += w[k+1]
			}
			if r.excludeOutside && sum != 0 {
				for k := range t.weight {
					t.weight[k] /= sum
				}
			}
			taps[j] = t
		default:
			return nil, fmt.Errorf("%s: mode %q", o, r.mode)
		}
	}
	return taps, nil
}

// cubicWeights are Keys' cubic convolution weights, with coefficient a,
// of the four neighbours at -1, 0, 1, 2 of a point f past the second.
func cubicWeights(f, a float64) [4]float64 {
	w := func(d float64) float64 {
		d = math.Abs(d)
		switch {
		case d <= 1:
			return ((a+2)*d-(a+3))*d*d + 1
		case d < 2:
			return ((a*d-5*a)*d+8*a)*d - 4*a
		}
		return 0
	}
	return [4]float64{w(1 + f), w(f), w(1 - f), w(2 - f)}
}

// depthToSpace moves channels into blocks of the spatial axes of an
// [N, C, H, W] input (DepthToSpace, DCR or CRD order), or back
// (SpaceToDepth).
func depthToSpace(toSpace bool) func() ops.Operator {
	name := "SpaceToDepth"
	if toSpace {
		name = "DepthToSpace"
	}
	return func() ops.Operator {
		return &op{name: name, min: 1, max: 1, init: func(o *op, a attrs) error {
			bs := int(a.i("blocksize", 0))
			crd := str(a, "mode", "DCR") == "CRD"
			o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
				s := shapeOf(in[0])
				if len(s) != 4 || bs < 1 {
					return nil, fmt.Errorf("%s: input of shape %v, blocksize %d", o, s, bs)
				}
				n, c, h, w := s[0], s[1], s[2], s[3]
				var out []int
				if toSpace {
					if c%(bs*bs) != 0 {
						return nil, fmt.Errorf("%s: %d channels in blocks of %d", o, c, bs*bs)
					}
					out = []int{n, c / (bs * bs), h * bs, w * bs}
				} else {
					if h%bs != 0 || w%bs != 0 {
						return nil, fmt.Errorf("%s: %dx%d in blocks of %d", o, h, w, bs)
					}
					out = []int{n, c * bs * bs, h / bs, w / bs}
				}
				// The channel of the deep tensor [n, cd, hs, ws] that holds
				// the spatial tensor's [n, cs, y, x].
				deepC := func(cs, by, bx int) int {
					if crd {
						return (cs*bs+by)*bs + bx
					}
					sc := c
					if toSpace {
						sc = c / (bs * bs)
					}
					return (by*bs+bx)*sc + cs
				}
				src := make([]int, 0, count(out))
				pos := make([]int, 4)
				for range count(out) {
					b := pos[0]
					if toSpace {
						cs, y, x := pos[1], pos[2], pos[3]
						src = append(src, ((b*c+deepC(cs, y%bs, x%bs))*h+y/bs)*w+x/bs)
					} else {
						cd, y, x := pos[1], pos[2], pos[3]
						// cd = (by*bs+bx)*c + cs in DCR.
						cs, blk := cd%c, cd/c
						by, bx := blk/bs, blk%bs
						src = append(src, ((b*c+cs)*h+y*bs+by)*w+x*bs+bx)
					}
					next(pos, out)
				}
				t, err := take(in[0], src, out)
				return []tensor.Tensor{t}, err
			}
			return a.only(o, "blocksize", "mode")
		}}
	}
}
