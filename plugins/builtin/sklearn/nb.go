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
	return naiveBayes(g, predictFn, classes, func(x *matrix) [][]float64 {
		out := make([][]float64, x.rows)
		for r := range out {
			out[r] = jll(x.row(r))
		}
		return out
	})
}

// naiveBayes answers predictFn from a naive Bayes classifier's joint
// log-likelihood, as scikit-learn's _BaseNB does: predict the class of
// the largest, predict_log_proba jll - logsumexp(jll) (not the log of
// predict_proba), predict_proba its exponential, predict_joint_log_proba
// jll itself.
func naiveBayes(g *stage, predictFn string, classes []any, jll func(x *matrix) [][]float64) (*stage, error) {
	logProba := func(x *matrix) [][]float64 {
		out := jll(x)
		for _, j := range out {
			lse := logsumexp(j)
			for i, v := range j {
				j[i] = v - lse
			}
		}
		return out
	}
	switch predictFn {
	case "predict":
		g.predict = func(x *matrix) any {
			out := make([]any, x.rows)
			for r, j := range jll(x) {
				out[r] = classes[argmax(j)]
			}
			return out
		}
	case "predict_joint_log_proba":
		g.predict = func(x *matrix) any { return jll(x) }
	case "predict_log_proba":
		g.predict = func(x *matrix) any { return logProba(x) }
	case "predict_proba":
		g.predict = func(x *matrix) any {
			out := logProba(x)
			for _, p := range out {
				for i, v := range p {
					p[i] = math.Exp(v)
				}
			}
			return out
		}
	default:
		return nil, fmt.Errorf("%w: %s.%s", ErrNotInGo, g.class, predictFn)
	}
	return g, nil
}

// discreteNB makes the stage of a fitted MultinomialNB, ComplementNB or
// BernoulliNB: a linear joint log-likelihood, X @ feature_log_prob_.T
// plus a term per class (MultinomialNB's log prior; ComplementNB's only
// for a single class; BernoulliNB's log prior and the sum of its
// log(1 - p), its weights the log-odds, its input first made 0 or 1 by
// the binarize threshold).
func discreteNB(g *stage, s *state, predictFn string) (*stage, error) {
	classes := s.classes()
	prior := s.floats("class_log_prior_")
	fa := s.array("feature_log_prob_")
	flp := s.floats("feature_log_prob_")
	if s.err != nil {
		return nil, s.err
	}
	k := len(classes)
	if k == 0 || len(prior) != k || len(fa.shape) != 2 || fa.shape[0] != k {
		return nil, fmt.Errorf("%w: %s with %d classes, %d priors, feature_log_prob_ of shape %v", ErrNotInGo, g.class, k, len(prior), fa.shape)
	}
	n := fa.shape[1]
	w := rows(flp, n)
	if err := s.widths(g, w[0]); err != nil {
		return nil, err
	}
	icpt := prior
	var threshold *float64
	switch g.class {
	case "ComplementNB":
		if k != 1 {
			icpt = []float64{0}
		}
	case "BernoulliNB":
		if t, ok := pyNumber(s.d.get("binarize")); ok {
			threshold = &t
		} else if s.d.get("binarize") != nil {
			return nil, fmt.Errorf("%w: BernoulliNB's binarize is %s", ErrNotInGo, describe(s.d.get("binarize")))
		}
		icpt = make([]float64, k)
		for i, row := range w {
			neg := make([]float64, n)
			logOdds := make([]float64, n)
			for j, v := range row {
				neg[j] = math.Log(1 - math.Exp(v))
				logOdds[j] = v - neg[j]
			}
			w[i] = logOdds
			icpt[i] = prior[i] + npSum(neg)
		}
	}
	// A sparse matrix is taken as it is where binarizing keeps its zeros.
	g.sparseAware = threshold == nil || *threshold >= 0
	return naiveBayes(g, predictFn, classes, func(x *matrix) [][]float64 {
		if threshold != nil && x.sp != nil {
			sp := &sparse{width: x.sp.width, idx: x.sp.idx, val: make([][]float64, len(x.sp.val))}
			for r, vals := range x.sp.val {
				sp.val[r] = make([]float64, len(vals))
				for q, v := range vals {
					sp.val[r][q] = float64(b2i(v > *threshold))
				}
			}
			x = &matrix{rows: x.rows, cols: x.cols, sp: sp}
		} else if threshold != nil {
			for i, v := range x.v {
				x.v[i] = float64(b2i(v > *threshold))
			}
		}
		return rows(scores(x, w, icpt), k)
	})
}

// categoricalNB makes the stage of a fitted CategoricalNB: the input
// cast to integers as numpy casts (toward zero; missing and infinite
// values refused first, a value past int64 its minimum), negative ones
// refused, and each feature's category's log probability (its
// feature_log_prob_ column; past the fitted categories numpy's
// IndexError) summed feature by feature, plus the class log prior.
func categoricalNB(g *stage, s *state, predictFn string) (*stage, error) {
	classes := s.classes()
	prior := s.floats("class_log_prior_")
	fl, ok := s.d.get("feature_log_prob_").(*list)
	if s.err != nil {
		return nil, s.err
	}
	k := len(classes)
	if !ok || k == 0 || len(prior) != k {
		return nil, fmt.Errorf("%w: CategoricalNB with %d classes, %d priors", ErrNotInGo, k, len(prior))
	}
	type feature struct {
		logp  []float64 // n_classes × n_categories
		ncats int
	}
	feats := make([]feature, len(fl.items))
	for i, v := range fl.items {
		a, err := readArray(v)
		var p []float64
		if err == nil {
			p, err = a.floats()
		}
		if err != nil || len(a.shape) != 2 || a.shape[0] != k {
			return nil, fmt.Errorf("%w: CategoricalNB's feature_log_prob_ %d: %v", ErrNotInGo, i, err)
		}
		feats[i] = feature{p, a.shape[1]}
	}
	if err := s.widths(g, make([]float64, len(feats))); err != nil {
		return nil, err
	}
	g.check = func(x *matrix) error { // dtype="int", then check_non_negative
		for i, v := range x.v {
			switch {
			case math.IsNaN(v):
				return inputErr("Input X contains NaN.\nCategoricalNB does not accept missing values encoded as NaN natively. For supervised learning, you might want to consider sklearn.ensemble.HistGradientBoostingClassifier and Regressor which accept missing values encoded as NaNs natively. Alternatively, it is possible to preprocess the data, for instance by using an imputer transformer in a pipeline or drop samples with missing values. See https://scikit-learn.org/stable/modules/impute.html You can find a list of all estimators that handle NaN values at the following page: https://scikit-learn.org/stable/modules/impute.html#estimators-that-handle-nan-values")
			case math.IsInf(v, 0):
				return inputErr("Input X contains infinity or a value too large for 'int'.")
			case v >= 0x1p63 || v < -0x1p63:
				v = -0x1p63 // numpy's cast of what int64 cannot hold
			}
			x.v[i] = math.Trunc(v)
		}
		for _, v := range x.v {
			if v < 0 {
				return inputErr("Negative values in data passed to CategoricalNB (input X)")
			}
		}
		for j, f := range feats { // feature_log_prob_[j][:, X[:, j]]
			for r := 0; r < x.rows; r++ {
				if c := x.v[r*x.cols+j]; c >= float64(f.ncats) {
					return &InputError{"IndexError", fmt.Sprintf("index %d is out of bounds for axis 1 with size %d", int64(c), f.ncats)}
				}
			}
		}
		return nil
	}
	g.allowNaN, g.allowInf = true, true // refused by check, with the int cast's messages
	return naiveBayes(g, predictFn, classes, func(x *matrix) [][]float64 {
		out := make([][]float64, x.rows)
		for r := range out {
			jll := make([]float64, k)
			for j, f := range feats {
				c := int(x.v[r*x.cols+j])
				for i := range jll {
					jll[i] += f.logp[i*f.ncats+c]
				}
			}
			for i := range jll {
				jll[i] += prior[i]
			}
			out[r] = jll
		}
		return out
	})
}
