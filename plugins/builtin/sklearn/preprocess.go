package sklearn

import (
	"fmt"
	"math"
	"slices"
)

// Transformers of numbers beyond the scalers: Normalizer, Binarizer,
// QuantileTransformer, PowerTransformer, KBinsDiscretizer.

// normalizer makes the stage of a Normalizer: each row divided by its
// l1, l2 or max norm (a norm under 10 machine epsilons left as 1, as
// scikit-learn's _handle_zeros_in_scale leaves it).
func normalizer(g *stage, s *state) (*stage, error) {
	g.allowNaN = false
	norm := s.str("norm")
	if norm != "l1" && norm != "l2" && norm != "max" {
		return nil, fmt.Errorf("%w: Normalizer with the norm %q", ErrNotInGo, norm)
	}
	g.transform = func(x *matrix) {
		for r := 0; r < x.rows; r++ {
			row := x.row(r)
			var n float64
			switch norm {
			case "l1":
				abs := make([]float64, len(row))
				for j, v := range row {
					abs[j] = math.Abs(v)
				}
				n = npSum(abs)
			case "l2":
				for _, v := range row {
					n += v * v
				}
				n = math.Sqrt(n)
			case "max":
				for _, v := range row {
					n = math.Max(n, math.Abs(v))
				}
			}
			if n < 10*0x1p-52 {
				n = 1
			}
			for j := range row {
				row[j] /= n
			}
		}
	}
	return g, s.err
}

// binarizer makes the stage of a Binarizer: 1 above its threshold, else 0.
func binarizer(g *stage, s *state) (*stage, error) {
	g.allowNaN = false
	t, ok := pyNumber(s.d.get("threshold"))
	if !ok {
		return nil, fmt.Errorf("%w: Binarizer's threshold is %s", ErrNotInGo, describe(s.d.get("threshold")))
	}
	g.transform = func(x *matrix) {
		for i, v := range x.v {
			x.v[i] = float64(b2i(v > t))
		}
	}
	return g, s.err
}

// quantileTransformer makes the stage of a QuantileTransformer: each
// feature mapped through its quantiles_ to references_ (the mean of
// numpy's interp forward and backward, so repeated quantiles map to
// their middle), the bounds exact, then for a normal output through the
// normal distribution's inverse, clipped where scikit-learn clips it.
// Missing values stay missing.
func quantileTransformer(g *stage, s *state) (*stage, error) {
	qa := s.array("quantiles_")
	q := s.floats("quantiles_")
	ref := s.floats("references_")
	normal := false
	switch d := s.str("output_distribution"); d {
	case "uniform":
	case "normal":
		normal = true
	default:
		s.fail("output_distribution is %q", d)
	}
	if s.err != nil {
		return nil, s.err
	}
	if len(qa.shape) != 2 || qa.shape[0] != len(ref) || len(ref) < 2 {
		return nil, fmt.Errorf("%w: QuantileTransformer's quantiles_ of shape %v for %d references", ErrNotInGo, qa.shape, len(ref))
	}
	n, nf := qa.shape[0], qa.shape[1]
	cols := make([][]float64, nf) // each feature's quantiles
	for j := range cols {
		cols[j] = make([]float64, n)
		for i := range n {
			cols[j][i] = q[i*nf+j]
		}
	}
	if err := s.widths(g, make([]float64, nf)); err != nil {
		return nil, err
	}
	negRef := make([]float64, n) // -references_[::-1]
	for i, v := range ref {
		negRef[n-1-i] = -v
	}
	const bound = 1e-7 // BOUNDS_THRESHOLD
	clipMin := normPPF(bound - 0x1p-52)
	clipMax := normPPF(1 - (bound - 0x1p-52))
	g.transform = func(x *matrix) {
		neg := make([]float64, n)
		for j, qs := range cols {
			for i, v := range qs {
				neg[n-1-i] = -v
			}
			lo, hi := qs[0], qs[n-1]
			for r := 0; r < x.rows; r++ {
				v := x.v[r*x.cols+j]
				if math.IsNaN(v) {
					continue
				}
				var out float64
				switch {
				case normal && v-bound < lo || !normal && v == lo:
					out = 0
				case normal && v+bound > hi || !normal && v == hi:
					out = 1
				default:
					out = 0.5 * (interp(v, qs, ref) - interp(-v, neg, negRef))
				}
				if normal {
					out = min(max(normPPF(out), clipMin), clipMax)
				}
				x.v[r*x.cols+j] = out
			}
		}
	}
	return g, nil
}

// interp is numpy's interp of one value: fp's first value left of xp,
// its last right of it and at xp's last, fp[j] at xp[j], else the line
// from the last xp[j] at or below v (computed from the other end when
// that gives NaN).
func interp(v float64, xp, fp []float64) float64 {
	n := len(xp)
	switch {
	case v < xp[0]:
		return fp[0]
	case v > xp[n-1]:
		return fp[n-1]
	}
	j := sortSearch(n, func(i int) bool { return xp[i] > v }) - 1
	if j == n-1 || xp[j] == v {
		return fp[j]
	}
	slope := (fp[j+1] - fp[j]) / (xp[j+1] - xp[j])
	out := slope*(v-xp[j]) + fp[j]
	if math.IsNaN(out) {
		out = slope*(v-xp[j+1]) + fp[j+1]
		if math.IsNaN(out) && fp[j] == fp[j+1] {
			out = fp[j]
		}
	}
	return out
}

// sortSearch is sort.Search: the first i in [0, n) where f holds, else n.
func sortSearch(n int, f func(int) bool) int {
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if !f(m) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// normPPF is the standard normal distribution's quantile function
// (scipy.stats.norm.ppf) to full precision: -√2 erfinv(1 - 2p) in the
// middle (1 - 2p exact there); in the tails, where Go's erfcinv loses
// digits computing 1 - 2p, Abramowitz and Stegun's 26.2.23 (within
// 4.5e-4) refined by Halley's method on the accurate erfc. The upper
// half by symmetry (1 - p is exact there).
func normPPF(p float64) float64 {
	switch {
	case math.IsNaN(p) || p < 0 || p > 1:
		return math.NaN()
	case p == 0:
		return math.Inf(-1)
	case p == 1:
		return math.Inf(1)
	case p == 0.5:
		return 0
	case p > 0.5:
		return -normPPF(1 - p)
	case p > 0.075:
		return -math.Sqrt2 * math.Erfinv(1-2*p)
	}
	t := math.Sqrt(-2 * math.Log(p))
	x := -(t - (2.515517+0.802853*t+0.010328*t*t)/(1+1.432788*t+0.189269*t*t+0.001308*t*t*t))
	for range 5 {
		e := 0.5*math.Erfc(-x/math.Sqrt2) - p
		u := e * math.Sqrt(2*math.Pi) * math.Exp(x*x/2)
		next := x - u/(1+x*u/2)
		if next == x || math.IsInf(next, 0) || math.IsNaN(next) {
			break
		}
		x = next
	}
	return x
}

// powerTransformer makes the stage of a PowerTransformer: each feature
// through Box-Cox (scipy's boxcox: log x for λ near 0, else expm1(λ log
// x)/λ; non-positive data refused) or Yeo-Johnson with its lambdas_,
// then standardized by its fitted StandardScaler.
func powerTransformer(g *stage, s *state) (*stage, error) {
	lambdas := s.floats("lambdas_")
	method := s.str("method")
	if method != "box-cox" && method != "yeo-johnson" {
		s.fail("method is %q", method)
	}
	var scaler *stage
	if s.bool("standardize", true) {
		sub := s.sub("_scaler")
		var err error
		if scaler, err = centerScale(sub.base(), sub, "with_mean", "mean_", "with_std", "scale_"); err != nil {
			return nil, err
		}
		if sub.err != nil {
			return nil, sub.err
		}
	}
	if err := s.widths(g, lambdas); err != nil {
		return nil, err
	}
	g.check = func(x *matrix) error {
		if method != "box-cox" {
			return nil
		}
		lowest, any := math.Inf(1), false
		for _, v := range x.v {
			if !math.IsNaN(v) {
				lowest, any = math.Min(lowest, v), true
			}
		}
		if any && lowest <= 0 {
			return inputErr("The Box-Cox transformation can only be applied to strictly positive data")
		}
		return nil
	}
	g.transform = func(x *matrix) {
		for r := 0; r < x.rows; r++ {
			row := x.row(r)
			for j, v := range row {
				l := lambdas[j]
				if method == "box-cox" {
					if math.Abs(l) < 1e-19 {
						row[j] = math.Log(v)
					} else {
						row[j] = math.Expm1(l*math.Log(v)) / l
					}
					continue
				}
				switch {
				case v >= 0 && math.Abs(l) < 0x1p-52:
					row[j] = math.Log1p(v)
				case v >= 0:
					row[j] = (math.Pow(v+1, l) - 1) / l
				case math.Abs(l-2) > 0x1p-52:
					row[j] = -(math.Pow(-v+1, 2-l) - 1) / (2 - l)
				default:
					row[j] = -math.Log1p(-v)
				}
			}
		}
		if scaler != nil {
			scaler.transform(x)
		}
	}
	return g, nil
}

// kBinsDiscretizer makes the stage of a KBinsDiscretizer that answers
// bin indices (encode="ordinal") or their one-hot columns
// ("onehot-dense"): a value's bin is numpy's searchsorted of its
// feature's inner edges, side="right". Its sparse "onehot" is left to
// Python.
func kBinsDiscretizer(g *stage, s *state) (*stage, error) {
	g.allowNaN = false
	enc := s.str("encode")
	if enc != "ordinal" && enc != "onehot-dense" {
		return nil, fmt.Errorf("%w: KBinsDiscretizer with encode=%q (a sparse matrix)", ErrNotInGo, enc)
	}
	ea, err := readArray(s.d.get("bin_edges_"))
	var objs []any
	if err == nil {
		objs = ea.objs // an object array of arrays
	}
	if err != nil || len(objs) == 0 {
		return nil, fmt.Errorf("%w: KBinsDiscretizer's bin_edges_: %v", ErrNotInGo, err)
	}
	edges := make([][]float64, len(objs))
	width := 0
	for j, o := range objs {
		a, err := readArray(o)
		var e []float64
		if err == nil {
			e, err = a.floats()
		}
		if err != nil || len(e) < 2 {
			return nil, fmt.Errorf("%w: KBinsDiscretizer's bin_edges_ %d: %v", ErrNotInGo, j, err)
		}
		edges[j] = e[1 : len(e)-1]
		width += len(e) - 1
	}
	if err := s.widths(g, make([]float64, len(edges))); err != nil {
		return nil, err
	}
	bin := func(j int, v float64) int {
		return sortSearch(len(edges[j]), func(i int) bool { return edges[j][i] > v })
	}
	if enc == "ordinal" {
		g.transform = func(x *matrix) {
			for r := 0; r < x.rows; r++ {
				row := x.row(r)
				for j, v := range row {
					row[j] = float64(bin(j, v))
				}
			}
		}
		return g, nil
	}
	g.transform = func(x *matrix) {
		x.resize(width, func(in, out []float64) {
			at := 0
			for j, v := range in {
				out[at+bin(j, v)] = 1
				at += len(edges[j]) + 1
			}
		})
	}
	return g, nil
}

// supportMask reads a selector's fitted support_ (RFE, RFECV).
func (s *state) supportMask() []bool {
	vals, err := s.array("support_").values()
	if err != nil {
		s.fail("support_: %v", err)
	}
	keep := make([]bool, len(vals))
	for i, v := range vals {
		b, ok := v.(bool)
		if !ok {
			s.fail("support_ holds %s", describe(v))
		}
		keep[i] = b
	}
	return keep
}

// percentileMask is SelectPercentile's support: the scores above their
// percentile (NaN as the lowest), and of those equal to it the first
// that bring the count to the percentile's share of the features.
func percentileMask(scores []float64, pct float64) []bool {
	n := len(scores)
	keep := make([]bool, n)
	switch pct {
	case 100:
		for i := range keep {
			keep[i] = true
		}
		return keep
	case 0:
		return keep
	}
	clean := make([]float64, n)
	for i, v := range scores {
		if math.IsNaN(v) {
			v = -math.MaxFloat64
		}
		clean[i] = v
	}
	sorted := slices.Clone(clean)
	slices.Sort(sorted)
	threshold := npPercentile(sorted, 100-pct)
	count := 0
	for i, v := range clean {
		if v > threshold {
			keep[i] = true
			count++
		}
	}
	var ties []int
	for i, v := range clean {
		if v == threshold {
			ties = append(ties, i)
		}
	}
	room := int(float64(n)*pct/100) - count
	if room < 0 { // Python's ties[:negative]
		room = max(len(ties)+room, 0)
	}
	for _, i := range ties[:min(room, len(ties))] {
		keep[i] = true
	}
	return keep
}

// npPercentile is numpy's percentile (linear) of sorted values: the
// value at q% of the way from the first to the last, interpolated as
// numpy's _lerp does (from the upper value when past half way).
func npPercentile(sorted []float64, q float64) float64 {
	pos := q / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(sorted)-1)
	t := pos - float64(lo)
	a, b := sorted[lo], sorted[hi]
	if t >= 0.5 {
		return b - (b-a)*(1-t)
	}
	return a + (b-a)*t
}
