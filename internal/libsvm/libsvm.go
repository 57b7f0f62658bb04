// Package libsvm holds libsvm's probability estimates, which scikit-learn's
// SVC and NuSVC use and ONNX's SVMClassifier defines the same way: Platt's
// sigmoid of a decision value, and the coupling of pairwise probabilities
// into class probabilities.
package libsvm

import "math"

// SigmoidPredict is libsvm's: Platt's 1/(1+exp(A·f+B)), computed on the
// side that does not cancel.
func SigmoidPredict(dec, a, b float64) float64 {
	fApB := dec*a + b
	if fApB >= 0 {
		return math.Exp(-fApB) / (1.0 + math.Exp(-fApB))
	}
	return 1.0 / (1 + math.Exp(fApB))
}

// MulticlassProbability is libsvm's multiclass_probability (method 2 of
// Wu, Lin and Weng): the class probabilities p minimising pᵀQp from the
// pairwise ones r, iterated until every (Qp)ₜ is within 0.005/k of pᵀQp,
// at most max(100, k) times, each step in libsvm's order.
func MulticlassProbability(k int, r [][]float64) []float64 {
	p := make([]float64, k)
	q := make([][]float64, k)
	qp := make([]float64, k)
	eps := 0.005 / float64(k)
	for t := range k {
		p[t] = 1.0 / float64(k)
		q[t] = make([]float64, k)
		q[t][t] = 0
		for j := 0; j < t; j++ {
			q[t][t] += r[j][t] * r[j][t]
			q[t][j] = q[j][t]
		}
		for j := t + 1; j < k; j++ {
			q[t][t] += r[j][t] * r[j][t]
			q[t][j] = -r[j][t] * r[t][j]
		}
	}
	for range max(100, k) {
		var pQp float64
		for t := range k {
			qp[t] = 0
			for j := range k {
				qp[t] += q[t][j] * p[j]
			}
			pQp += p[t] * qp[t]
		}
		var maxError float64
		for t := range k {
			if e := math.Abs(qp[t] - pQp); e > maxError {
				maxError = e
			}
		}
		if maxError < eps {
			break
		}
		for t := range k {
			diff := (-qp[t] + pQp) / q[t][t]
			p[t] += diff
			pQp = (pQp + diff*(diff*q[t][t]+2*qp[t])) / (1 + diff) / (1 + diff)
			for j := range k {
				qp[j] = (qp[j] + diff*q[t][j]) / (1 + diff)
				p[j] /= (1 + diff)
			}
		}
	}
	return p
}
