package tune

import (
	"math"
	"math/rand/v2"
	"sort"

	"github.com/mlrun/mlrun/tune/space"
)

// Anneal is Hyperopt's annealing (anneal.suggest): each dimension is
// drawn near its value in one of the best trials, picked at a geometric
// rank (mean AvgBestIdx, 0 the best; the same trial for every dimension
// that has a value in it), from the prior's kind of distribution narrowed
// by 1/(1 + T·ShrinkCoef), where T is how many trials drew the dimension:
// a uniform window of that fraction of the range, moved to fit in the
// bounds; a normal with that fraction of sigma; a categorical mixing the
// picked option (weight 1 − fraction) with the prior. A dimension no
// trial drew yet comes from the prior; failed trials count as infinitely
// bad.
type Anneal struct {
	AvgBestIdx float64 // default 2
	ShrinkCoef float64 // default 0.1
}

// Name implements Algorithm.
func (Anneal) Name() string { return "anneal" }

// Suggest implements Algorithm.
func (a Anneal) Suggest(s *space.Space, history []Trial, r *rand.Rand) space.Sample {
	if a.AvgBestIdx == 0 {
		a.AvgBestIdx = 2
	}
	if a.ShrinkCoef == 0 {
		a.ShrinkCoef = 0.1
	}
	var done []Trial
	for _, h := range history {
		if h.Status != Killed {
			done = append(done, h)
		}
	}
	sort.SliceStable(done, func(i, j int) bool { return done[i].Number < done[j].Number })
	out := space.Sample{Raw: map[string]float64{}}
	s.Propose(&annealer{a: a, r: r, trials: done}, &out)
	return out
}

// annealer proposes each dimension for Anneal.
type annealer struct {
	a      Anneal
	r      *rand.Rand
	trials []Trial
	chosen []int // trials picked so far for this point, by index
}

func (an *annealer) loss(i int) float64 {
	if an.trials[i].Status != OK {
		return math.Inf(1)
	}
	return an.trials[i].Value
}

// pick returns the value, in a good trial, of a dimension that trials
// (indexes) drew.
func (an *annealer) pick(label string, trials []int) float64 {
	for _, i := range an.chosen {
		if v, ok := an.trials[i].Sample.Raw[label]; ok {
			return v
		}
	}
	sort.SliceStable(trials, func(x, y int) bool { return an.loss(trials[x]) < an.loss(trials[y]) })
	k := 0 // a geometric draw with mean AvgBestIdx, minus one
	for an.r.Float64() >= 1/an.a.AvgBestIdx {
		k++
	}
	i := trials[min(k, len(trials)-1)]
	an.chosen = append(an.chosen, i)
	return an.trials[i].Sample.Raw[label]
}

// Propose implements space.Proposer.
func (an *annealer) Propose(label string, d *space.Dim) float64 {
	var have []int
	for i, t := range an.trials {
		if _, ok := t.Sample.Raw[label]; ok {
			have = append(have, i)
		}
	}
	if len(have) == 0 {
		return d.Prior(an.r)
	}
	val := an.pick(label, have)
	shrink := 1 / (1 + float64(len(have))*an.a.ShrinkCoef)
	q := func(x, step float64) float64 { return math.RoundToEven(x/step) * step }
	window := func(mid, low, high float64) float64 {
		half := 0.5 * (high - low) * shrink
		mid = math.Min(math.Max(mid, low+half), high-half)
		return mid - half + 2*half*an.r.Float64()
	}
	switch d.Kind {
	case space.Uniform:
		return window(val, d.A, d.B)
	case space.QUniform:
		return q(window(val, d.A, d.B), d.Q)
	case space.UniformInt:
		return q(window(val, float64(d.Lo), float64(d.Hi)), 1)
	case space.LogUniform:
		return math.Exp(window(math.Log(val), d.A, d.B))
	case space.QLogUniform:
		return q(math.Exp(window(math.Log(val), d.A, d.B)), d.Q)
	case space.Normal:
		return val + d.B*shrink*an.r.NormFloat64()
	case space.QNormal:
		return q(val+d.B*shrink*an.r.NormFloat64(), d.Q)
	case space.LogNormal:
		return math.Exp(math.Log(val) + d.B*shrink*an.r.NormFloat64())
	case space.QLogNormal:
		return q(math.Exp(math.Log(1e-16+val)+d.B*shrink*an.r.NormFloat64()), d.Q)
	case space.RandInt, space.Choice, space.PChoice:
		var prior []float64
		offset := 0.0
		if d.Kind == space.RandInt {
			offset = float64(d.Lo)
			for i := d.Lo; i < d.Hi; i++ {
				prior = append(prior, 1/float64(d.Hi-d.Lo))
			}
		} else {
			for _, o := range d.Options {
				if d.Kind == space.PChoice {
					prior = append(prior, o.P)
				} else {
					prior = append(prior, 1/float64(len(d.Options)))
				}
			}
		}
		p := make([]float64, len(prior))
		for i := range p {
			p[i] = shrink * prior[i]
		}
		if j := int(val - offset); j >= 0 && j < len(p) {
			p[j] += 1 - shrink
		}
		return float64(drawIndex(an.r, p)) + offset
	}
	return d.Prior(an.r)
}
