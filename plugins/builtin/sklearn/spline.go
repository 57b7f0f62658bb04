package sklearn

import (
	"fmt"
	"math"
)

// bspline is a scipy BSpline of SplineTransformer: knots t, degree k,
// and whether it extrapolates ("periodic" maps x into its base period
// first). Each coefficient row is a unit vector (the identity, and for
// periodic splines its first rows again): evaluating it gives the basis
// functions' values, col[i] the column of basis i.
type bspline struct {
	t           []float64
	k           int
	extrapolate bool
	periodic    bool
	col         []int
}

// interval is scipy's find_interval: the l with t[l] <= x < t[l+1]
// (within [k, n-1], n = len(t) - k - 1), or -1 for NaN and, without
// extrapolation, for x outside [t[k], t[n]].
func (b *bspline) interval(x float64, extrapolate bool) int {
	n := len(b.t) - b.k - 1
	if math.IsNaN(x) || !extrapolate && (x < b.t[b.k] || x > b.t[n]) {
		return -1
	}
	l := b.k
	for x < b.t[l] && l != b.k {
		l--
	}
	l++
	for x >= b.t[l] && l != n {
		l++
	}
	return l - 1
}

// deBoor is scipy's _deBoor_D: the k+1 non-zero basis values (or their
// m-th derivatives) at x in interval ell, h[0] for basis ell-k.
func (b *bspline) deBoor(x float64, ell, m int) []float64 {
	k := b.k
	h := make([]float64, k+1)
	hh := make([]float64, k+1)
	h[0] = 1
	for j := 1; j <= k-m; j++ {
		copy(hh, h[:j])
		h[0] = 0
		for n := 1; n <= j; n++ {
			xb, xa := b.t[ell+n], b.t[ell+n-j]
			if xb == xa {
				h[n] = 0
				continue
			}
			w := hh[n-1] / (xb - xa)
			h[n-1] += float64(w * (xb - x))
			h[n] = w * (x - xa)
		}
	}
	for j := k - m + 1; j <= k; j++ {
		copy(hh, h[:j])
		h[0] = 0
		for n := 1; n <= j; n++ {
			xb, xa := b.t[ell+n], b.t[ell+n-j]
			if xb == xa {
				h[m] = 0 // (scipy's index, as it is)
				continue
			}
			w := float64(j) * hh[n-1] / (xb - xa)
			h[n-1] -= w
			h[n] = w
		}
	}
	return h
}

// eval writes the basis values (or derivatives, nu) at x into out (one
// per basis function): BSpline.__call__ with identity coefficients.
func (b *bspline) eval(x float64, nu int, out []float64) {
	extrapolate := b.extrapolate
	if b.periodic {
		x = b.periodic1(x)
		extrapolate = false
	}
	l := b.interval(x, extrapolate)
	if l < 0 {
		for i := range out {
			out[i] = math.NaN()
		}
		return
	}
	clear(out)
	for a, v := range b.deBoor(x, l, nu) {
		out[b.col[l+a-b.k]] += v
	}
}

// periodic1 maps x into [t[k], t[n]): t[k] + (x - t[k]) mod the period,
// numpy's remainder (the divisor's sign).
func (b *bspline) periodic1(x float64) float64 {
	n := len(b.t) - b.k - 1
	return b.t[b.k] + pyMod(x-b.t[b.k], b.t[n]-b.t[b.k])
}

// pyMod is numpy's remainder of floats: fmod with the divisor's sign.
func pyMod(a, d float64) float64 {
	m := math.Mod(a, d)
	if m != 0 && (d < 0) != (m < 0) {
		m += d
	} else if m == 0 {
		m = math.Copysign(0, d)
	}
	return m
}

// splineTransformer makes the stage of a fitted SplineTransformer: each
// feature's B-spline basis values, as its transform computes them, for
// every extrapolation (continue, error, periodic, constant, linear),
// with or without the last basis function (include_bias).
func splineTransformer(g *stage, s *state) (*stage, error) {
	g.allowNaN = false
	list_, ok := s.d.get("bsplines_").(*list)
	if !ok || len(list_.items) == 0 {
		return nil, fmt.Errorf("%w: SplineTransformer without bsplines_", ErrNotInGo)
	}
	degree := s.int("degree")
	extrapolation := s.str("extrapolation")
	includeBias := s.bool("include_bias", true)
	if s.err != nil {
		return nil, s.err
	}
	switch extrapolation {
	case "continue", "error", "periodic", "constant", "linear":
	default:
		return nil, fmt.Errorf("%w: SplineTransformer with extrapolation=%q", ErrNotInGo, extrapolation)
	}
	splines := make([]*bspline, len(list_.items))
	nSplines := -1
	for i, v := range list_.items {
		o, _ := v.(*object)
		var st *dict
		if o != nil {
			st, _ = o.state.(*dict)
		}
		if st == nil || o.class.name != "BSpline" {
			return nil, fmt.Errorf("%w: SplineTransformer's spline %d is %s", ErrNotInGo, i, describe(v))
		}
		bs := &state{d: st, class: "BSpline"}
		b := &bspline{t: bs.floats("t"), k: bs.int("k")}
		switch e := st.get("extrapolate").(type) {
		case bool:
			b.extrapolate = e
		case string:
			b.periodic = e == "periodic"
		}
		ca := bs.array("c")
		if bs.err != nil {
			return nil, bs.err
		}
		nb := len(b.t) - b.k - 1
		if b.k < 0 || nb < 1 || len(ca.shape) != 2 || ca.shape[0] != nb || nSplines >= 0 && ca.shape[1] != nSplines {
			return nil, fmt.Errorf("%w: SplineTransformer's spline %d has coefficients of shape %v", ErrNotInGo, i, ca.shape)
		}
		c, err := ca.floats()
		if err != nil {
			return nil, fmt.Errorf("%w: SplineTransformer's spline %d: %v", ErrNotInGo, i, err)
		}
		m := ca.shape[1]
		b.col = make([]int, nb)
		for r := range nb {
			ones := 0
			for q := range m {
				switch c[r*m+q] {
				case 1:
					b.col[r] = q
					ones++
				case 0:
				default:
					ones = 2
				}
			}
			if ones != 1 {
				return nil, fmt.Errorf("%w: SplineTransformer's spline %d is not a basis", ErrNotInGo, i)
			}
		}
		nb = m
		nSplines = nb
		splines[i] = b
	}
	if err := s.widths(g, make([]float64, len(splines))); err != nil {
		return nil, err
	}
	top := degree // the largest degree transform takes (linear raises 0 or 1 to 2)
	if extrapolation == "linear" {
		top = max(degree, 2)
	}
	for i, b := range splines {
		if degree < 0 || b.k != degree || len(b.t) < 2*top+2 {
			return nil, fmt.Errorf("%w: SplineTransformer's spline %d of degree %d and %d knots for degree %d", ErrNotInGo, i, b.k, len(b.t), degree)
		}
	}
	g.check = func(x *matrix) error {
		if extrapolation != "error" {
			return nil
		}
		for j, b := range splines {
			n := len(b.t) - b.k - 1
			for r := 0; r < x.rows; r++ {
				if v := x.v[r*x.cols+j]; v < b.t[b.k] || v > b.t[n] {
					return inputErr("X contains values beyond the limits of the knots.")
				}
			}
		}
		return nil
	}
	g.transform = func(x *matrix) {
		out := make([]float64, x.rows*len(splines)*nSplines)
		width := len(splines) * nSplines
		deg := degree // transform's degree, raised once for linear (scikit-learn keeps it raised)
		for i, b := range splines {
			col := func(r int) []float64 { return out[r*width+i*nSplines : r*width+(i+1)*nSplines] }
			switch extrapolation {
			case "continue", "error", "periodic":
				for r := 0; r < x.rows; r++ {
					v := x.v[r*x.cols+i]
					if extrapolation == "periodic" {
						v = b.periodic1(v)
					}
					b.eval(v, 0, col(r))
				}
				continue
			}
			xmin, xmax := b.t[deg], b.t[len(b.t)-deg-1]
			for r := 0; r < x.rows; r++ {
				if v := x.v[r*x.cols+i]; xmin <= v && v <= xmax {
					b.eval(v, 0, col(r))
				}
			}
			fmin, fmax := make([]float64, nSplines), make([]float64, nSplines)
			b.eval(xmin, 0, fmin)
			b.eval(xmax, 0, fmax)
			if extrapolation == "constant" {
				for r := 0; r < x.rows; r++ {
					v, c := x.v[r*x.cols+i], col(r)
					if v < xmin {
						copy(c[:deg], fmin[:deg])
					}
					if v > xmax {
						copy(c[nSplines-deg:], fmax[nSplines-deg:])
					}
				}
				continue
			}
			fpmin, fpmax := make([]float64, nSplines), make([]float64, nSplines)
			b.eval(xmin, 1, fpmin)
			b.eval(xmax, 1, fpmax)
			if deg <= 1 {
				deg++
			}
			for j := range deg {
				for r := 0; r < x.rows; r++ {
					v, c := x.v[r*x.cols+i], col(r)
					if v < xmin {
						c[j] = fmin[j] + float64((v-xmin)*fpmin[j])
					}
					if k := nSplines - 1 - j; v > xmax {
						c[k] = fmax[k] + float64((v-xmax)*fpmax[k])
					}
				}
			}
		}
		keep := width
		if !includeBias {
			keep = width - len(splines)
		}
		x.resize(keep, func(_, row []float64) {})
		for r := 0; r < x.rows; r++ {
			src, dst := out[r*width:(r+1)*width], x.row(r)
			q := 0
			for j, v := range src {
				if includeBias || (j+1)%nSplines != 0 {
					dst[q] = v
					q++
				}
			}
		}
	}
	return g, nil
}
