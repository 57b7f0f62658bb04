// Package npmi scores how two trace filters co-occur: normalized
// pointwise mutual information over the 2×2 table of their counts, as
// MLflow 3's CalculateTraceFilterCorrelation computes it (unsmoothed,
// with -1 when the filters never meet, and smoothed with a Jeffreys prior
// of 0.5 in every cell).
package npmi

import "math"

// Jeffreys is the smoothing added to each cell for the smoothed score.
const Jeffreys = 0.5

// Scores returns the unsmoothed and smoothed NPMI of two filters matched
// by n1 and n2 of total traces, joint of them by both; NaN where it is
// undefined (no traces, a filter matching none, inconsistent counts).
func Scores(joint, n1, n2, total int64) (npmi, smoothed float64) {
	if total <= 0 || n1 == 0 || n2 == 0 {
		return math.NaN(), math.NaN()
	}
	n11, n10, n01 := joint, n1-joint, n2-joint
	n00 := total - n1 - n2 + joint
	if min(n11, n10, n01, n00) < 0 {
		return math.NaN(), math.NaN()
	}
	if joint == 0 {
		npmi = -1
	} else {
		npmi = core(float64(n11), float64(n10), float64(n01), float64(n00), 0)
	}
	return npmi, core(float64(n11), float64(n10), float64(n01), float64(n00), Jeffreys)
}

// core is NPMI over a 2×2 table with additive smoothing s, in [-1, 1].
func core(n11, n10, n01, n00, s float64) float64 {
	a, b, c, d := n11+s, n10+s, n01+s, n00+s
	n := a + b + c + d
	m1, m2 := a+b, a+c
	if m1 <= 0 || m2 <= 0 || a <= 0 {
		return math.NaN()
	}
	if n10 == 0 && n01 == 0 && n00 == 0 {
		return 1 // always together
	}
	pmi := (math.Log(a) + math.Log(n)) - (math.Log(m1) + math.Log(m2))
	return max(-1, min(1, pmi/-(math.Log(a)-math.Log(n))))
}
