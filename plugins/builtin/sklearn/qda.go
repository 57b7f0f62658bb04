package sklearn

import (
	"fmt"
	"math"
)

// qda makes the stage of a fitted QuadraticDiscriminantAnalysis: each
// class's log posterior, -0.5 (||(x - mean) R S^-½||² + Σ log S) + log
// prior, as scikit-learn's _decision_function computes it; its
// probabilities the exponentials of the posteriors less their largest,
// normalized, and their logarithms.
func qda(g *stage, s *state, predictFn string) (*stage, error) {
	classes := s.classes()
	priors := s.floats("priors_")
	means, err := centers(g, s, "means_")
	if err != nil {
		return nil, err
	}
	k, n := len(classes), len(means[0])
	rot, _ := s.d.get("rotations_").(*list)
	scal, _ := s.d.get("scalings_").(*list)
	if len(priors) != k || len(means) != k || rot == nil || scal == nil || len(rot.items) != k || len(scal.items) != k {
		return nil, fmt.Errorf("%w: QuadraticDiscriminantAnalysis with %d classes, %d priors, %d means", ErrNotInGo, k, len(priors), len(means))
	}
	// w[i] is R * S**-0.5 (n × m, row-major), u[i] Σ log S.
	w := make([][]float64, k)
	u := make([]float64, k)
	m := make([]int, k)
	for i := range k {
		ra, err := readArray(rot.items[i])
		if err != nil {
			return nil, fmt.Errorf("%w: rotations_: %v", ErrNotInGo, err)
		}
		r, err := ra.floats()
		if err != nil {
			return nil, fmt.Errorf("%w: rotations_: %v", ErrNotInGo, err)
		}
		sa, err := readArray(scal.items[i])
		if err != nil {
			return nil, fmt.Errorf("%w: scalings_: %v", ErrNotInGo, err)
		}
		sc, err := sa.floats()
		if err != nil {
			return nil, fmt.Errorf("%w: scalings_: %v", ErrNotInGo, err)
		}
		m[i] = len(sc)
		if len(ra.shape) != 2 || ra.shape[0] != n || ra.shape[1] != m[i] {
			return nil, fmt.Errorf("%w: QuadraticDiscriminantAnalysis's rotation %d has the shape %v", ErrNotInGo, i, ra.shape)
		}
		w[i] = make([]float64, len(r))
		logs := make([]float64, m[i])
		for j, v := range sc {
			logs[j] = math.Log(v)
			p := math.Pow(v, -0.5)
			for row := range n {
				w[i][row*m[i]+j] = r[row*m[i]+j] * p
			}
		}
		u[i] = npSum(logs)
	}
	decision := func(x *matrix) [][]float64 {
		out := make([][]float64, x.rows)
		xm := make([]float64, n)
		for r := range out {
			row := x.row(r)
			d := make([]float64, k)
			for i := range k {
				for j, v := range row {
					xm[j] = v - means[i][j]
				}
				sq := make([]float64, m[i])
				for c := range m[i] {
					var dot float64
					for j, v := range xm {
						dot += float64(v * w[i][j*m[i]+c])
					}
					sq[c] = dot * dot
				}
				d[i] = -0.5*(npSum(sq)+u[i]) + math.Log(priors[i])
			}
			out[r] = d
		}
		return out
	}
	proba := func(x *matrix) [][]float64 {
		out := decision(x)
		for _, d := range out {
			top := d[0]
			for _, v := range d {
				top = math.Max(top, v)
			}
			for i, v := range d {
				d[i] = math.Exp(v - top)
			}
			sum := npSum(d)
			for i := range d {
				d[i] /= sum
			}
		}
		return out
	}
	label := func(x *matrix) []int {
		d := decision(x)
		out := make([]int, x.rows)
		for r := range out {
			out[r] = argmax(d[r])
		}
		return out
	}
	return classify(g, predictFn, classes, proba, label)
}
