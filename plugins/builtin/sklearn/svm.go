package sklearn

import (
	"fmt"
	"github.com/mlrun/mlrun/internal/libsvm"
	"math"
	"strings"
)

// Support vector machines (SVC, NuSVC, SVR, NuSVR, OneClassSVM) on dense
// input, as scikit-learn's libsvm predicts: each support vector's kernel
// value, the dual coefficients' sums less rho (rho being -_intercept_),
// and for classifiers the one-against-one votes, the first class with
// the most winning, or (probability=True) Platt's probabilities coupled
// across the pairs.

func svmStage(g *stage, s *state, predictFn string) (*stage, error) {
	proba := predictFn == "predict_proba" || predictFn == "predict_log_proba"
	svc := g.class == "SVC" || g.class == "NuSVC"
	if predictFn != "predict" && !((proba || predictFn == "decision_function") && svc) {
		return nil, fmt.Errorf("%w: %s.%s", ErrNotInGo, g.class, predictFn)
	}
	if s.bool("_sparse", false) {
		return nil, fmt.Errorf("%w: %s fitted on sparse input", ErrNotInGo, g.class)
	}
	if s.bool("break_ties", false) {
		return nil, fmt.Errorf("%w: %s with break_ties", ErrNotInGo, g.class)
	}
	kernel := s.str("kernel")
	switch kernel {
	case "linear", "poly", "rbf", "sigmoid":
	default:
		return nil, fmt.Errorf("%w: %s with the kernel %v", ErrNotInGo, g.class, s.d.get("kernel"))
	}
	gamma, ok1 := pyNumber(s.d.get("_gamma"))
	coef0, ok2 := pyNumber(s.d.get("coef0"))
	degree := s.int("degree")
	svA := s.array("support_vectors_")
	sv := s.floats("support_vectors_")
	dualA := s.array("_dual_coef_")
	dual := s.floats("_dual_coef_")
	icpt := s.floats("_intercept_")
	nsvKey := "_n_support"
	if !s.has(nsvKey) {
		nsvKey = "n_support_"
	}
	nsvF := s.floats(nsvKey)
	if s.err != nil {
		return nil, s.err
	}
	if !ok1 || !ok2 || len(svA.shape) != 2 || len(dualA.shape) != 2 {
		return nil, fmt.Errorf("%w: %s without its kernel's parameters or support vectors", ErrNotInGo, g.class)
	}
	l, n := svA.shape[0], svA.shape[1]
	if err := s.widths(g, make([]float64, n)); err != nil {
		return nil, err
	}
	if dualA.shape[1] != l {
		return nil, fmt.Errorf("%w: %s has %d dual coefficients a row for %d support vectors", ErrNotInGo, g.class, dualA.shape[1], l)
	}
	// k is the kernel of the input x and support vector i.
	k := func(x []float64, i int) float64 {
		y := sv[i*n : (i+1)*n]
		if kernel == "rbf" {
			var sum float64
			for j := range x {
				d := x[j] - y[j]
				sum += float64(d * d)
			}
			return math.Exp(-gamma * sum)
		}
		var dot float64
		for j := range x {
			dot += float64(x[j] * y[j])
		}
		switch kernel {
		case "poly":
			return powi(float64(gamma*dot)+coef0, degree)
		case "sigmoid":
			return math.Tanh(float64(gamma*dot) + coef0)
		}
		return dot
	}
	if g.class == "SVR" || g.class == "NuSVR" || g.class == "OneClassSVM" {
		if dualA.shape[0] != 1 || len(icpt) != 1 {
			return nil, fmt.Errorf("%w: %s with %d rows of dual coefficients", ErrNotInGo, g.class, dualA.shape[0])
		}
		decision := func(x []float64) float64 {
			var sum float64
			for i := range l {
				sum += float64(dual[i] * k(x, i))
			}
			return sum - -icpt[0]
		}
		if g.class == "OneClassSVM" {
			g.predict = func(x *matrix) any {
				out := make([]int64, x.rows)
				for r := range out {
					out[r] = -1
					if decision(x.row(r)) > 0 {
						out[r] = 1
					}
				}
				return out
			}
			return g, nil
		}
		g.predict = func(x *matrix) any {
			out := make([]float64, x.rows)
			for r := range out {
				out[r] = decision(x.row(r))
			}
			return out
		}
		return g, nil
	}
	classes := s.classes()
	if s.err != nil {
		return nil, s.err
	}
	nc := len(classes)
	if nc < 2 || len(nsvF) != nc || dualA.shape[0] != nc-1 || len(icpt) != nc*(nc-1)/2 {
		return nil, fmt.Errorf("%w: %s with %d classes, %d support counts, %d intercepts", ErrNotInGo, g.class, nc, len(nsvF), len(icpt))
	}
	start := make([]int, nc+1)
	for i, c := range nsvF {
		if c < 0 || c > float64(l) || c != math.Trunc(c) {
			return nil, fmt.Errorf("%w: %s has %v support vectors for a class", ErrNotInGo, g.class, c)
		}
		start[i+1] = start[i] + int(c)
	}
	if start[nc] != l {
		return nil, fmt.Errorf("%w: %s's support counts add to %d, not %d", ErrNotInGo, g.class, start[nc], l)
	}
	coef := func(row, i int) float64 { return dual[row*l+i] }
	// decisions sets dec to the one-against-one decision values of the
	// input row, pair by pair (i < j), as libsvm's predict_values.
	decisions := func(row []float64, kv, dec []float64) {
		for i := range kv {
			kv[i] = k(row, i)
		}
		p := 0
		for i := 0; i < nc; i++ {
			for j := i + 1; j < nc; j++ {
				var sum float64
				for q := start[i]; q < start[i+1]; q++ {
					sum += float64(coef(j-1, q) * kv[q])
				}
				for q := start[j]; q < start[j+1]; q++ {
					sum += float64(coef(i, q) * kv[q])
				}
				dec[p] = sum - -icpt[p]
				p++
			}
		}
	}
	if proba {
		return svmProba(g, s, predictFn, nc, l, decisions)
	}
	if predictFn == "decision_function" {
		return svmDecision(g, s.str("decision_function_shape") != "ovo", nc, l, decisions)
	}
	g.predict = func(x *matrix) any {
		out := make([]any, x.rows)
		kv := make([]float64, l)
		dec := make([]float64, len(icpt))
		vote := make([]int, nc)
		for r := range out {
			decisions(x.row(r), kv, dec)
			clear(vote)
			p := 0
			for i := 0; i < nc; i++ {
				for j := i + 1; j < nc; j++ {
					if dec[p] > 0 {
						vote[i]++
					} else {
						vote[j]++
					}
					p++
				}
			}
			best := 0
			for i := 1; i < nc; i++ {
				if vote[i] > vote[best] {
					best = i
				}
			}
			out[r] = classes[best]
		}
		return out
	}
	return g, nil
}

// svmProba is SVC's and NuSVC's predict_proba (and its log) for a model
// fitted with probability=True, as libsvm's predict_probability: each
// pair's decision value through Platt's sigmoid (probA, probB), clipped
// to [1e-7, 1-1e-7], then coupled into class probabilities by Wu, Lin
// and Weng's method 2 (for two classes too, as scikit-learn's libsvm
// does).
func svmProba(g *stage, s *state, predictFn string, nc, l int, decisions func(row, kv, dec []float64)) (*stage, error) {
	key := "_probA"
	if !s.has(key) {
		key = "probA_"
	}
	probA := s.floats(key)
	probB := s.floats(strings.Replace(key, "A", "B", 1))
	if s.err != nil {
		return nil, s.err
	}
	pairs := nc * (nc - 1) / 2
	if len(probA) == 0 || len(probB) == 0 {
		// scikit-learn's AttributeError when probability=False: no
		// predict_proba, which MLflow's pyfunc cannot load either
		return nil, fmt.Errorf("%w: %s.%s without probability=True", ErrNotInGo, g.class, predictFn)
	}
	if len(probA) != pairs || len(probB) != pairs {
		return nil, fmt.Errorf("%w: %s has %d Platt coefficients for %d pairs of classes", ErrNotInGo, g.class, len(probA), pairs)
	}
	logs := predictFn == "predict_log_proba"
	g.predict = func(x *matrix) any {
		out := make([][]float64, x.rows)
		kv := make([]float64, l)
		dec := make([]float64, pairs)
		r2 := make([][]float64, nc)
		for i := range r2 {
			r2[i] = make([]float64, nc)
		}
		for row := range out {
			decisions(x.row(row), kv, dec)
			const minProb = 1e-7
			p := 0
			for i := 0; i < nc; i++ {
				for j := i + 1; j < nc; j++ {
					r2[i][j] = min(max(libsvm.SigmoidPredict(dec[p], probA[p], probB[p]), minProb), 1-minProb)
					r2[j][i] = 1 - r2[i][j]
					p++
				}
			}
			pr := libsvm.MulticlassProbability(nc, r2)
			if logs { // np.log(self.predict_proba(X))
				for i, v := range pr {
					pr[i] = math.Log(v)
				}
			}
			out[row] = pr
		}
		return out
	}
	return g, nil
}

// powi is libsvm's integer power, by squaring.
func powi(base float64, times int) float64 {
	tmp, ret := base, 1.0
	for t := times; t > 0; t /= 2 {
		if t%2 == 1 {
			ret *= tmp
		}
		tmp = tmp * tmp
	}
	return ret
}

// svmDecision is SVC's and NuSVC's decision_function: for two classes
// libsvm's decision value negated (one a row); for more, the
// one-against-one values, or (decision_function_shape="ovr") each
// class's votes plus its summed confidences c scaled to c / (3 (|c| +
// 1)), as scikit-learn's _ovr_decision_function.
func svmDecision(g *stage, ovr bool, nc, l int, decisions func(row, kv, dec []float64)) (*stage, error) {
	pairs := nc * (nc - 1) / 2
	g.predict = func(x *matrix) any {
		kv := make([]float64, l)
		if nc == 2 {
			out := make([]float64, x.rows)
			dec := make([]float64, 1)
			for r := range out {
				decisions(x.row(r), kv, dec)
				out[r] = -dec[0]
			}
			return out
		}
		out := make([][]float64, x.rows)
		for r := range out {
			dec := make([]float64, pairs)
			decisions(x.row(r), kv, dec)
			if !ovr {
				out[r] = dec
				continue
			}
			votes, conf := make([]float64, nc), make([]float64, nc)
			p := 0
			for i := 0; i < nc; i++ {
				for j := i + 1; j < nc; j++ {
					conf[i] -= -dec[p]
					conf[j] += -dec[p]
					if dec[p] < 0 { // the prediction is j
						votes[j]++
					} else {
						votes[i]++
					}
					p++
				}
			}
			for i := range votes {
				votes[i] += conf[i] / (3 * (math.Abs(conf[i]) + 1))
			}
			out[r] = votes
		}
		return out
	}
	return g, nil
}
