package sklearn

import (
	"fmt"
	"math"
)

// Gradient boosting (GradientBoostingRegressor and Classifier), as
// scikit-learn predicts it: the init estimator's raw prediction (a
// DummyRegressor's constant, a DummyClassifier's prior through the
// loss's link, or zero), then every stage's regression trees added,
// each leaf value times the learning rate; a classifier's raw
// prediction read through its loss (binomial or multinomial deviance).

func gradientBoosting(g *stage, s *state, predictFn string) (*stage, error) {
	g.float32 = true
	if g.nIn <= 0 {
		return nil, fmt.Errorf("%w: %s without n_features_in_", ErrNotInGo, g.class)
	}
	classifier := g.class == "GradientBoostingClassifier"
	ests := s.array("estimators_")
	lr, ok := pyNumber(s.d.get("learning_rate"))
	if s.err != nil {
		return nil, s.err
	}
	if !ok || len(ests.shape) != 2 || ests.objs == nil || ests.shape[0] == 0 || ests.shape[1] == 0 {
		return nil, fmt.Errorf("%w: %s's estimators_ is not a table of trees", ErrNotInGo, g.class)
	}
	stages, k := ests.shape[0], ests.shape[1]
	trees := make([]*tree, len(ests.objs))
	for i, e := range ests.objs {
		o, ok := e.(*object)
		st, _ := o.state.(*dict)
		if !ok || st == nil || o.class.module+"."+o.class.name != "sklearn.tree._classes.DecisionTreeRegressor" {
			return nil, fmt.Errorf("%w: %s's stage %d is %s", ErrNotInGo, g.class, i/k, describe(e))
		}
		t, err := readTree(st.get("tree_"), g.nIn)
		if err != nil {
			return nil, fmt.Errorf("%w: %s's stage %d: %v", ErrNotInGo, g.class, i/k, err)
		}
		if t.nOut != 1 || t.width != 1 {
			return nil, fmt.Errorf("%w: %s's stage %d has %d×%d values", ErrNotInGo, g.class, i/k, t.nOut, t.width)
		}
		trees[i] = t
	}
	init, err := boostingInit(g, s, classifier, k)
	if err != nil {
		return nil, err
	}
	// raw is the decision function: n rows of k values.
	raw := func(x *matrix) []float64 {
		out := make([]float64, x.rows*k)
		for r := 0; r < x.rows; r++ {
			copy(out[r*k:(r+1)*k], init)
		}
		for i := 0; i < stages; i++ {
			for j := 0; j < k; j++ {
				t := trees[i*k+j]
				for r := 0; r < x.rows; r++ {
					out[r*k+j] += float64(lr * t.at(t.leaf(x.row(r)), 0)[0]) // rounded, never fused (as the Cython)
				}
			}
		}
		return out
	}
	if !classifier {
		if predictFn != "predict" || k != 1 {
			return nil, fmt.Errorf("%w: %s.%s", ErrNotInGo, g.class, predictFn)
		}
		g.predict = func(x *matrix) any { return raw(x) }
		return g, nil
	}
	classes := s.classes()
	if s.err != nil {
		return nil, s.err
	}
	if k == 1 && len(classes) != 2 || k > 1 && len(classes) != k {
		return nil, fmt.Errorf("%w: %s has %d classes for %d trees a stage", ErrNotInGo, g.class, len(classes), k)
	}
	exponential := s.str("loss") == "exponential"
	proba := func(x *matrix) [][]float64 {
		rw := raw(x)
		out := make([][]float64, x.rows)
		for r := range out {
			d := rw[r*k : (r+1)*k]
			if k == 1 { // binomial: expit (of twice the raw prediction for the exponential loss)
				p := expit(d[0])
				if exponential {
					p = expit(2.0 * d[0])
				}
				out[r] = []float64{1 - p, p}
				continue
			}
			// multinomial: exp(raw - logsumexp(raw)), NaN as 0
			lse := logsumexp(d)
			p := make([]float64, k)
			for i, v := range d {
				if p[i] = math.Exp(v - lse); math.IsNaN(p[i]) {
					p[i] = 0
				}
			}
			out[r] = p
		}
		return out
	}
	var label func(*matrix) []int
	if exponential { // the sign of the raw prediction, 0 positive
		label = func(x *matrix) []int {
			rw := raw(x)
			out := make([]int, x.rows)
			for r := range out {
				out[r] = b2i(rw[r] >= 0)
			}
			return out
		}
	}
	return classify(g, predictFn, classes, proba, label)
}

// boostingInit is the init estimator's raw prediction, the same for every
// row: k values.
func boostingInit(g *stage, s *state, classifier bool, k int) ([]float64, error) {
	init := s.d.get("init_")
	if init == "zero" {
		return make([]float64, k), nil
	}
	o, ok := init.(*object)
	var st *dict
	if ok {
		st, _ = o.state.(*dict)
	}
	if st == nil {
		return nil, fmt.Errorf("%w: %s's init_ is %s", ErrNotInGo, g.class, describe(init))
	}
	is := &state{d: st, class: o.class.name}
	name := o.class.module + "." + o.class.name
	if !classifier {
		if name != "sklearn.dummy.DummyRegressor" || k != 1 {
			return nil, fmt.Errorf("%w: %s's init_ is %s", ErrNotInGo, g.class, name)
		}
		c := is.floats("constant_")
		if is.err != nil || len(c) != 1 {
			return nil, fmt.Errorf("%w: %s's init_ has no one constant_", ErrNotInGo, g.class)
		}
		return c, nil
	}
	loss := s.str("loss")
	if loss != "log_loss" && loss != "deviance" && !(loss == "exponential" && k == 1) {
		return nil, fmt.Errorf("%w: %s with loss %q", ErrNotInGo, g.class, loss)
	}
	if name != "sklearn.dummy.DummyClassifier" || is.str("strategy") != "prior" {
		return nil, fmt.Errorf("%w: %s's init_ is %s (strategy %q)", ErrNotInGo, g.class, name, is.str("strategy"))
	}
	prior := is.floats("class_prior_")
	if is.err != nil || k == 1 && len(prior) != 2 || k > 1 && len(prior) != k {
		return nil, fmt.Errorf("%w: %s's init_ has %d class priors", ErrNotInGo, g.class, len(prior))
	}
	const eps = 0x1p-23 // np.finfo(np.float32).eps
	clip := func(p float64) float64 { return math.Min(math.Max(p, eps), 1-eps) }
	if k == 1 { // log-odds of the positive class (half of them for the exponential loss)
		p := clip(prior[1])
		if loss == "exponential" {
			return []float64{0.5 * math.Log(p/(1-p))}, nil
		}
		return []float64{math.Log(p / (1 - p))}, nil
	}
	out := make([]float64, k)
	for i, p := range prior {
		out[i] = math.Log(clip(p))
	}
	return out, nil
}
