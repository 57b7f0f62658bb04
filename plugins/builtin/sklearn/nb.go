package sklearn

import (
	"fmt"
	"math"
)

// gaussianNB makes the stage of a fitted GaussianNB: each class's joint
// log likelihood (its prior's log, less half the sums of log(2π var) and
// of the squared distances over var), as scikit-learn computes it; the
// probabilities normalized by scipy's logsumexp.
func gaussianNB(g *stage, s *state, predictFn string) (*stage, error) {
	classes := s.classes()
	prior := s.floats("class_prior_")
	theta, thetaA := s.floats("theta_"), s.array("theta_")
	vr := s.floats("var_")
	if s.err != nil {
		return nil, s.err
	}
	k := len(classes)
	if k == 0 || len(prior) != k || len(thetaA.shape) != 2 || thetaA.shape[0] != k || len(vr) != len(theta) {
		return nil, fmt.Errorf("%w: GaussianNB with %d classes, %d priors, theta_ of shape %v", ErrNotInGo, k, len(prior), thetaA.shape)
	}
	n := thetaA.shape[1]
	if err := s.widths(g, theta[:n]); err != nil {
		return nil, err
	}
	// The terms that do not depend on the input: log prior, and
	// -0.5 * sum(log(2π var)) per class.
	logPrior, norm := make([]float64, k), make([]float64, k)
	for i := range k {
		logPrior[i] = math.Log(prior[i])
		l := make([]float64, n)
		for j := range l {
			l[j] = math.Log(2.0 * math.Pi * vr[i*n+j])
		}
		norm[i] = -0.5 * npSum(l)
	}
	jll := func(x []float64) []float64 {
		out := make([]float64, k)
		d := make([]float64, n)
		for i := range k {
			for j, v := range x {
				diff := v - theta[i*n+j]
				d[j] = float64(diff*diff) / vr[i*n+j]
			}
			nij := norm[i]
			nij -= 0.5 * npSum(d)
			out[i] = logPrior[i] + nij
		}
		return out
	}
	label := func(x *matrix) []int {
		out := make([]int, x.rows)
		for r := range out {
			out[r] = argmax(jll(x.row(r)))
		}
		return out
	}
	proba := func(x *matrix) [][]float64 {
		out := make([][]float64, x.rows)
		for r := range out {
			j := jll(x.row(r))
			lse := logsumexp(j)
			for i, v := range j {
				j[i] = math.Exp(v - lse)
			}
			out[r] = j
		}
		return out
	}
	switch predictFn {
	case "predict_joint_log_proba": // the joint log-likelihood itself
		g.predict = func(x *matrix) any {
			out := make([][]float64, x.rows)
			for r := range out {
				out[r] = jll(x.row(r))
			}
			return out
		}
		return g, nil
	case "predict_log_proba": // jll - logsumexp(jll), not log(proba)
		g.predict = func(x *matrix) any {
			out := make([][]float64, x.rows)
			for r := range out {
				j := jll(x.row(r))
				lse := logsumexp(j)
				for i, v := range j {
					j[i] = v - lse
				}
				out[r] = j
			}
			return out
		}
		return g, nil
	}
	return classify(g, predictFn, classes, proba, label)
}
