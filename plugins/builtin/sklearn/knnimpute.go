package sklearn

import (
	"fmt"
	"math"
	"slices"
)

// knnImputer makes the stage of a fitted KNNImputer (nan_euclidean,
// missing values NaN): each missing value the mean (or the
// inverse-distance weighted mean) of its column among the
// n_neighbors nearest fitted rows that have it, the distance
// scikit-learn's nan_euclidean_distances (the squared euclidean distance
// expanded over the coordinates both rows have, scaled by all over
// those, its root); a row sharing no coordinate with any donor takes the
// column's fitted mean. Columns missing in every fitted row are dropped
// (or zero with keep_empty_features); add_indicator appends the
// missing-value columns, but (as scikit-learn's transform returns early)
// not when nothing is missing. Among donors at exactly equal distances the
// first fitted are taken, where numpy's argpartition may take others.
func knnImputer(g *stage, s *state) (*stage, error) {
	if m, _ := s.d.get("metric").(string); m != "nan_euclidean" {
		return nil, fmt.Errorf("%w: KNNImputer with the metric %s", ErrNotInGo, describe(s.d.get("metric")))
	}
	weights := s.str("weights")
	if weights != "uniform" && weights != "distance" {
		return nil, fmt.Errorf("%w: KNNImputer with weights %s", ErrNotInGo, describe(s.d.get("weights")))
	}
	k := s.int("n_neighbors")
	fa := s.array("_fit_X")
	fit := s.floats("_fit_X")
	keepEmpty := s.bool("keep_empty_features", false)
	indicator, err := imputerIndicator(s)
	if err != nil {
		return nil, err
	}
	if s.err != nil {
		return nil, s.err
	}
	if len(fa.shape) != 2 || fa.shape[0] == 0 || k < 1 {
		return nil, fmt.Errorf("%w: KNNImputer with _fit_X of shape %v and %d neighbours", ErrNotInGo, fa.shape, k)
	}
	nFit, nf := fa.shape[0], fa.shape[1]
	if err := s.widths(g, make([]float64, nf)); err != nil {
		return nil, err
	}
	// Each column's donors (fitted rows that have it), whether any
	// fitted row has it, and its fitted mean.
	donors := make([][]int, nf)
	mean := make([]float64, nf)
	for j := range nf {
		var vals []float64
		for r := range nFit {
			if v := fit[r*nf+j]; !math.IsNaN(v) {
				donors[j] = append(donors[j], r)
				vals = append(vals, v)
			}
		}
		if len(vals) > 0 {
			mean[j] = npSum(vals) / float64(len(vals))
		}
	}
	fitRow := func(r int) []float64 { return fit[r*nf : (r+1)*nf] }
	g.allowNaN = true
	g.table = func(f *frame) (*frame, error) {
		x, err := g.validate(f)
		if err != nil {
			return nil, err
		}
		ind := missingMask(x, indicator)
		if !slices.ContainsFunc(x.v, math.IsNaN) {
			ind = nil // scikit-learn 1.2 returns early, without the indicator, when nothing is missing
		}
		out := make([]float64, len(x.v))
		copy(out, x.v)
		dist := make([]float64, nFit)
		for r := 0; r < x.rows; r++ {
			row := x.row(r)
			if !slices.ContainsFunc(row, math.IsNaN) {
				continue
			}
			for q := range nFit {
				dist[q] = nanEuclidean(row, fitRow(q))
			}
			for j, v := range row {
				if !math.IsNaN(v) || len(donors[j]) == 0 {
					continue
				}
				out[r*nf+j] = imputeKNN(dist, donors[j], fit, nf, j, min(k, len(donors[j])), weights, mean[j])
			}
		}
		res := &frame{rows: x.rows}
		for j := range nf {
			if len(donors[j]) == 0 && !keepEmpty {
				continue
			}
			num := make([]float64, x.rows)
			for r := range num {
				num[r] = out[r*nf+j]
				if len(donors[j]) == 0 {
					num[r] = 0
				}
			}
			res.cols = append(res.cols, column{num: num})
		}
		res.cols = append(res.cols, ind...)
		return res, nil
	}
	return g, nil
}

// nanEuclidean is scikit-learn's nan_euclidean_distances of two rows:
// the squared euclidean distance of the rows with missing values as 0
// (||x||² - 2 x·y + ||y||², clipped at 0), less the squares of each where
// the other is missing, clipped at 0, over the coordinates both have,
// times all; its root. NaN when they share none.
func nanEuclidean(x, y []float64) float64 {
	var xx, yy, dot, xMissY, yMissX float64
	present := 0
	for j := range x {
		a, b := x[j], y[j]
		ma, mb := math.IsNaN(a), math.IsNaN(b)
		if ma {
			a = 0
		}
		if mb {
			b = 0
		}
		xx += float64(a * a)
		yy += float64(b * b)
		dot += float64(a * b)
		if mb {
			xMissY += float64(a * a)
		}
		if ma {
			yMissX += float64(b * b)
		}
		if !ma && !mb {
			present++
		}
	}
	d := max(float64(-2*dot)+xx+yy, 0)
	d = max(d-xMissY-yMissX, 0)
	if present == 0 {
		return math.NaN()
	}
	return math.Sqrt(d / float64(present) * float64(len(x)))
}

// imputeKNN is KNNImputer's value for column j of a row at distances
// dist from the fitted rows: its column mean when no donor is at a
// defined distance, else the (weighted) mean of the k nearest donors
// (NaN distances last).
func imputeKNN(dist []float64, donors []int, fit []float64, nf, j, k int, weights string, mean float64) float64 {
	defined := false
	for _, q := range donors {
		if !math.IsNaN(dist[q]) {
			defined = true
			break
		}
	}
	if !defined {
		return mean
	}
	order := slices.Clone(donors)
	key := func(q int) float64 {
		if math.IsNaN(dist[q]) {
			return math.Inf(1)
		}
		return dist[q]
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch ka, kb := key(a), key(b); {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		case math.IsNaN(dist[a]) != math.IsNaN(dist[b]): // an infinite distance before NaN
			if math.IsNaN(dist[a]) {
				return 1
			}
			return -1
		}
		return 0
	})
	nb := order[:k]
	vals := make([]float64, k)
	for i, q := range nb {
		vals[i] = fit[q*nf+j]
	}
	if weights == "uniform" {
		return npSum(vals) / float64(k)
	}
	w := make([]float64, k)
	zero := false
	for i, q := range nb {
		w[i] = 1 / dist[q]
		zero = zero || dist[q] == 0
	}
	for i, q := range nb {
		switch {
		case zero:
			w[i] = float64(b2i(dist[q] == 0))
		case math.IsNaN(w[i]):
			w[i] = 0
		}
	}
	prod := make([]float64, k)
	for i := range vals {
		prod[i] = vals[i] * w[i]
	}
	return npSum(prod) / npSum(w)
}
