package sklearn

import (
	"cmp"
	"fmt"
	"math"
	"strings"
)

// Linear models: regressors and classifiers whose decision is
// X @ coef_.T + intercept_.

// Linear models whose predict is X @ coef_.T + intercept_.
var linearRegressors = []string{
	"sklearn.linear_model._base.LinearRegression",
	"sklearn.linear_model._ridge.Ridge", "sklearn.linear_model._ridge.RidgeCV",
	"sklearn.linear_model._coordinate_descent.Lasso", "sklearn.linear_model._coordinate_descent.LassoCV",
	"sklearn.linear_model._coordinate_descent.ElasticNet", "sklearn.linear_model._coordinate_descent.ElasticNetCV",
	"sklearn.linear_model._coordinate_descent.MultiTaskLasso", "sklearn.linear_model._coordinate_descent.MultiTaskLassoCV",
	"sklearn.linear_model._coordinate_descent.MultiTaskElasticNet", "sklearn.linear_model._coordinate_descent.MultiTaskElasticNetCV",
	"sklearn.linear_model._bayes.BayesianRidge", "sklearn.linear_model._bayes.ARDRegression",
	"sklearn.linear_model._huber.HuberRegressor",
	"sklearn.linear_model._stochastic_gradient.SGDRegressor", "sklearn.linear_model._passive_aggressive.PassiveAggressiveRegressor",
	"sklearn.svm._classes.LinearSVR",
	"sklearn.linear_model._least_angle.Lars", "sklearn.linear_model._least_angle.LarsCV",
	"sklearn.linear_model._least_angle.LassoLars", "sklearn.linear_model._least_angle.LassoLarsCV", "sklearn.linear_model._least_angle.LassoLarsIC",
	"sklearn.linear_model._omp.OrthogonalMatchingPursuit", "sklearn.linear_model._omp.OrthogonalMatchingPursuitCV",
	"sklearn.linear_model._theil_sen.TheilSenRegressor", "sklearn.linear_model._quantile.QuantileRegressor",
}

// Generalized linear models, whose predict is the inverse link of
// X @ coef_ + intercept_.
var glms = []string{
	"sklearn.linear_model._glm.glm.PoissonRegressor", "sklearn.linear_model._glm.glm.GammaRegressor",
	"sklearn.linear_model._glm.glm.TweedieRegressor",
}

// Linear classifiers whose predict is classes_[argmax(X @ coef_.T + intercept_)].
var linearClassifiers = []string{
	"sklearn.linear_model._logistic.LogisticRegression", "sklearn.linear_model._logistic.LogisticRegressionCV",
	"sklearn.svm._classes.LinearSVC", "sklearn.linear_model._stochastic_gradient.SGDClassifier",
	"sklearn.linear_model._perceptron.Perceptron", "sklearn.discriminant_analysis.LinearDiscriminantAnalysis",
	"sklearn.linear_model._passive_aggressive.PassiveAggressiveClassifier",
	"sklearn.linear_model._ridge.RidgeClassifier", "sklearn.linear_model._ridge.RidgeClassifierCV",
}

// linear reads coef_ (k rows of n values) and intercept_ (k values, or
// one added to every row).
func linear(g *stage, s *state) (coef [][]float64, icpt []float64, vector bool, err error) {
	ca := s.array("coef_")
	c := s.floats("coef_")
	icpt = s.floatsOrScalar("intercept_")
	if s.err != nil {
		return nil, nil, false, s.err
	}
	switch len(ca.shape) {
	case 1:
		coef, vector = [][]float64{c}, true
	case 2:
		for k := 0; k < ca.shape[0]; k++ {
			coef = append(coef, c[k*ca.shape[1]:(k+1)*ca.shape[1]])
		}
	default:
		return nil, nil, false, fmt.Errorf("%w: %s's coef_ has %d dimensions", ErrNotInGo, g.class, len(ca.shape))
	}
	if len(coef) == 0 || len(icpt) != 1 && len(icpt) != len(coef) {
		return nil, nil, false, fmt.Errorf("%w: %s's coef_ and intercept_ disagree", ErrNotInGo, g.class)
	}
	if err := s.widths(g, coef[0]); err != nil {
		return nil, nil, false, err
	}
	return coef, icpt, vector, nil
}

// scores is X @ coef.T + intercept, a row of len(coef) per sample.
func scores(x *matrix, coef [][]float64, icpt []float64) []float64 {
	k := len(coef)
	out := make([]float64, x.rows*k)
	for r := 0; r < x.rows; r++ {
		for t, c := range coef {
			sum := x.dot(r, c)
			if len(icpt) == 1 {
				sum += icpt[0]
			} else {
				sum += icpt[t]
			}
			out[r*k+t] = sum
		}
	}
	return out
}

// dot is row r of x times w, each product rounded before the sum, never
// fused (as numpy); a sparse row's nonzero values in column order (as
// scipy's sparse dot).
func (x *matrix) dot(r int, w []float64) float64 {
	var sum float64
	if x.sp != nil {
		val := x.sp.val[r]
		for q, j := range x.sp.idx[r] {
			sum += float64(val[q] * w[j])
		}
		return sum
	}
	for j, v := range x.row(r) {
		sum += float64(v * w[j])
	}
	return sum
}

func linearRegressor(g *stage, s *state) (*stage, error) {
	coef, icpt, vector, err := linear(g, s)
	if err != nil {
		return nil, err
	}
	g.predict = func(x *matrix) any {
		out := scores(x, coef, icpt)
		if vector {
			return out
		}
		return rows(out, len(coef))
	}
	return g, nil
}

func linearClassifier(g *stage, s *state, predictFn string) (*stage, error) {
	coef, icpt, _, err := linear(g, s)
	if err != nil {
		return nil, err
	}
	var classes []any
	if g.class == "RidgeClassifier" || g.class == "RidgeClassifierCV" {
		// classes_ is a property: its label binarizer's classes.
		lb := s.sub("_label_binarizer")
		if t := lb.str("y_type_"); strings.HasPrefix(t, "multilabel") && lb.err == nil {
			return nil, fmt.Errorf("%w: a multilabel %s", ErrNotInGo, g.class)
		}
		classes = lb.classes()
		s.err = cmp.Or(s.err, lb.err)
	} else {
		classes = s.classes()
	}
	if s.err != nil {
		return nil, s.err
	}
	k := len(coef)
	if k == 1 && len(classes) != 2 || k > 1 && len(classes) != k {
		return nil, fmt.Errorf("%w: %s has %d classes for %d rows of coef_", ErrNotInGo, g.class, len(classes), k)
	}
	label := func(x *matrix) []int {
		sc := scores(x, coef, icpt)
		out := make([]int, x.rows)
		for r := range out {
			if k == 1 {
				out[r] = b2i(sc[r] > 0)
			} else {
				out[r] = argmax(sc[r*k : (r+1)*k])
			}
		}
		return out
	}
	if predictFn == "decision_function" { // the scores (one column for two classes: a vector)
		g.predict = func(x *matrix) any {
			sc := scores(x, coef, icpt)
			if k == 1 {
				return sc
			}
			return rows(sc, k)
		}
		return g, nil
	}
	if g.class == "LinearDiscriminantAnalysis" {
		return lda(g, predictFn, classes, coef, icpt, label)
	}
	var ovr bool
	switch g.class {
	case "LogisticRegression", "LogisticRegressionCV":
		mc := s.str("multi_class")
		ovr = mc == "ovr" || mc == "warn" || (mc == "auto" || mc == "deprecated" || mc == "") && (len(classes) <= 2 || s.str("solver") == "liblinear")
	case "SGDClassifier":
		switch s.str("loss") {
		case "log_loss", "log": // _predict_proba_lr: one-vs-rest logistic
			ovr = true
		case "modified_huber":
			return classify(g, predictFn, classes, modifiedHuber(coef, icpt), label)
		default:
			return classify(g, predictFn, classes, nil, label)
		}
	default:
		return classify(g, predictFn, classes, nil, label)
	}
	proba := func(x *matrix) [][]float64 {
		sc := scores(x, coef, icpt)
		out := make([][]float64, x.rows)
		for r := range out {
			d := sc[r*k : (r+1)*k]
			switch {
			case ovr && k == 1:
				p := expit(d[0])
				out[r] = []float64{1 - p, p}
			case ovr:
				p := make([]float64, k)
				for i, v := range d {
					p[i] = expit(v)
				}
				sum := npSum(p)
				for i := range p {
					p[i] /= sum
				}
				out[r] = p
			case k == 1:
				out[r] = softmax([]float64{-d[0], d[0]})
			default:
				out[r] = softmax(append([]float64(nil), d...))
			}
		}
		return out
	}
	return classify(g, predictFn, classes, proba, label)
}

// lda is LinearDiscriminantAnalysis' probabilities: expit of the score
// for two classes, the softmax of the scores for more; its
// predict_log_proba takes the log after lifting zeros to the smallest
// normal float.
func lda(g *stage, predictFn string, classes []any, coef [][]float64, icpt []float64, label func(*matrix) []int) (*stage, error) {
	k := len(coef)
	proba := func(x *matrix) [][]float64 {
		sc := scores(x, coef, icpt)
		out := make([][]float64, x.rows)
		for r := range out {
			d := sc[r*k : (r+1)*k]
			if k == 1 {
				p := expit(d[0])
				out[r] = []float64{1 - p, p}
				continue
			}
			out[r] = softmax(append([]float64(nil), d...))
		}
		return out
	}
	if predictFn == "predict_log_proba" {
		g.predict = func(x *matrix) any {
			p := proba(x)
			for _, row := range p {
				for i, v := range row {
					if v == 0 {
						v += 0x1p-1022 // np.finfo(float64).smallest_normal
					}
					row[i] = math.Log(v)
				}
			}
			return p
		}
		return g, nil
	}
	return classify(g, predictFn, classes, proba, label)
}

// modifiedHuber is SGDClassifier's probabilities for the modified Huber
// loss: (clip(score, -1, 1) + 1) / 2, [1 - p, p] for two classes, else
// normalized over the classes (evenly when all are zero).
func modifiedHuber(coef [][]float64, icpt []float64) func(*matrix) [][]float64 {
	k := len(coef)
	return func(x *matrix) [][]float64 {
		sc := scores(x, coef, icpt)
		out := make([][]float64, x.rows)
		for r := range out {
			d := sc[r*k : (r+1)*k]
			p := make([]float64, k)
			for i, v := range d {
				p[i] = (math.Min(math.Max(v, -1), 1) + 1) / 2
			}
			if k == 1 {
				out[r] = []float64{1 - p[0], p[0]}
				continue
			}
			sum := npSum(p)
			for i := range p {
				if sum == 0 {
					p[i] = 1 / float64(k)
				} else {
					p[i] /= sum
				}
			}
			out[r] = p
		}
		return out
	}
}

// glm makes the stage of a PoissonRegressor, GammaRegressor or
// TweedieRegressor: exp of the linear predictor for the log link, the
// predictor itself for the identity link (a Tweedie power of 0 or less
// with link="auto", or link="identity": the loss scikit-learn stored is
// then HalfTweedieLossIdentity).
func glm(g *stage, s *state) (*stage, error) {
	coef, icpt, _, err := linear(g, s)
	if err != nil {
		return nil, err
	}
	if len(coef) != 1 {
		return nil, fmt.Errorf("%w: %s with %d rows of coef_", ErrNotInGo, g.class, len(coef))
	}
	identity := false
	if loss, ok := s.d.get("_base_loss").(*object); ok {
		switch loss.class.name {
		case "HalfPoissonLoss", "HalfGammaLoss", "HalfTweedieLoss":
		case "HalfTweedieLossIdentity":
			identity = true
		default:
			return nil, fmt.Errorf("%w: %s with the loss %s", ErrNotInGo, g.class, loss.class.name)
		}
	} else if g.class == "TweedieRegressor" { // before scikit-learn kept the loss: the link
		power, _ := pyNumber(s.d.get("power"))
		link := s.str("link")
		identity = link == "identity" || link == "auto" && power <= 0
	}
	g.predict = func(x *matrix) any {
		out := scores(x, coef, icpt)
		if !identity {
			for i, v := range out {
				out[i] = math.Exp(v)
			}
		}
		return out
	}
	return g, s.err
}

// pls makes the stage of a fitted PLSRegression, PLSCanonical or CCA
// pickled by scikit-learn 1.2 (its _coef_, targets × features): the
// input centred and scaled as fitted, times the coefficients, plus the
// intercept (the targets' mean), a column a target. Other releases laid
// the coefficients out otherwise (1.1 transposed them, later ones scale
// them and answer one dimension for one target) and go to Python.
func pls(g *stage, s *state) (*stage, error) {
	if !s.has("_coef_") {
		return nil, fmt.Errorf("%w: %s pickled by scikit-learn %s (mlrun reads 1.2's coefficients)", ErrNotInGo, g.class, s.str("_sklearn_version"))
	}
	mean, std := s.floats("_x_mean"), s.floats("_x_std")
	a, c := s.array("_coef_"), s.floats("_coef_")
	var coef [][]float64
	if len(a.shape) == 2 {
		coef = rows(c, a.shape[1])
	}
	icpt := s.floatsOrScalar("intercept_")
	if s.err != nil {
		return nil, s.err
	}
	if len(coef) == 0 || len(icpt) != len(coef) && len(icpt) != 1 {
		return nil, fmt.Errorf("%w: %s's coefficients and intercept disagree", ErrNotInGo, g.class)
	}
	if err := s.widths(g, mean, std, coef[0]); err != nil {
		return nil, err
	}
	g.predict = func(x *matrix) any {
		for r := 0; r < x.rows; r++ {
			row := x.row(r)
			for j := range row {
				row[j] -= mean[j]
				row[j] /= std[j]
			}
		}
		return rows(scores(x, coef, icpt), len(coef))
	}
	return g, nil
}
