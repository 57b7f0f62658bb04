package sklearn

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// bagging makes the stage of a fitted BaggingClassifier or
// BaggingRegressor, as scikit-learn predicts them: the input validated
// loosely (missing and infinite values pass to the estimators, which
// check them themselves), each estimator given its own columns
// (estimators_features_) as an array; a regressor's answer the sum of
// theirs over their number; a classifier's probabilities the sum of
// theirs (put in the columns of the classes each one saw) or, for an
// estimator without predict_proba, one vote for its label, over their
// number; its label the class of the largest.
func bagging(g *stage, s *state, predictFn string) (*stage, error) {
	classifier := g.class == "BaggingClassifier"
	if predictFn == "predict_log_proba" && classifier {
		return baggingLogProba(g, s)
	}
	if predictFn != "predict" && !(classifier && predictFn == "predict_proba") {
		return nil, fmt.Errorf("%w: %s.%s", ErrNotInGo, g.class, predictFn)
	}
	if g.nIn <= 0 {
		return nil, fmt.Errorf("%w: %s without n_features_in_", ErrNotInGo, g.class)
	}
	g.allowNaN, g.allowInf = true, true // force_all_finite=False
	ests, ok := s.d.get("estimators_").(*list)
	feats, ok2 := s.d.get("estimators_features_").(*list)
	if !ok || !ok2 || len(ests.items) == 0 || len(feats.items) != len(ests.items) {
		return nil, fmt.Errorf("%w: %s without estimators_ and their features", ErrNotInGo, g.class)
	}
	type member struct {
		p        *Predictor
		features []int
		vote     bool  // no predict_proba: its label is a vote
		classes  []int // the classes it saw (indices into classes_)
	}
	var classes []any
	if classifier {
		classes = s.classes()
		if s.err != nil {
			return nil, s.err
		}
	}
	k := len(classes)
	members := make([]member, len(ests.items))
	for i, e := range ests.items {
		f, err := featureIndices(g, feats.items[i])
		if err != nil {
			return nil, err
		}
		m := member{p: &Predictor{}, features: f}
		if !classifier {
			err = m.p.add(e, "predict")
		} else if err = m.p.add(e, "predict_proba"); err != nil && withoutProba(e) {
			m.p, m.vote = &Predictor{}, true
			err = m.p.add(e, "predict")
		}
		if err != nil {
			return nil, fmt.Errorf("%w (in %s's estimator %d)", err, g.class, i)
		}
		if classifier {
			if m.classes, err = seenClasses(e, k); err != nil {
				return nil, fmt.Errorf("%w: %s's estimator %d: %v", ErrNotInGo, g.class, i, err)
			}
		}
		members[i] = m
	}
	// run is each member's answer to its columns of x.
	run := func(m member, x *matrix) (any, error) {
		sub := &matrix{rows: x.rows, cols: len(m.features), v: make([]float64, x.rows*len(m.features))}
		for r := 0; r < x.rows; r++ {
			row, out := x.row(r), sub.row(r)
			for j, c := range m.features {
				out[j] = row[c]
			}
		}
		return m.p.predict(frameOf(sub))
	}
	n := float64(len(members))
	if !classifier {
		return baggingAnswer(g, func(x *matrix) (any, error) {
			sum := make([]float64, x.rows)
			for i, m := range members {
				out, err := run(m, x)
				if err != nil {
					return nil, err
				}
				y, ok := out.([]float64)
				if !ok || len(y) != x.rows {
					return nil, fmt.Errorf("%s's estimator %d answered %T", g.class, i, out)
				}
				for r, v := range y {
					sum[r] += v
				}
			}
			for r := range sum {
				sum[r] /= n
			}
			return sum, nil
		}), nil
	}
	proba := func(x *matrix) ([][]float64, error) {
		acc := make([]float64, x.rows*k)
		for i, m := range members {
			out, err := run(m, x)
			if err != nil {
				return nil, err
			}
			if m.vote {
				labels, ok := out.([]any)
				if !ok || len(labels) != x.rows {
					return nil, fmt.Errorf("%s's estimator %d answered %T", g.class, i, out)
				}
				for r, l := range labels {
					c, ok := pyNumber(l)
					if !ok || c < 0 || int(c) >= k {
						return nil, fmt.Errorf("%s's estimator %d answered the label %v", g.class, i, l)
					}
					acc[r*k+int(c)]++
				}
				continue
			}
			p, ok := out.([][]float64)
			if !ok || len(p) != x.rows {
				return nil, fmt.Errorf("%s's estimator %d answered %T", g.class, i, out)
			}
			for r, row := range p {
				for j, c := range m.classes {
					acc[r*k+c] += row[j]
				}
			}
		}
		for i := range acc {
			acc[i] /= n
		}
		return rows(acc, k), nil
	}
	return baggingAnswer(g, func(x *matrix) (any, error) {
		p, err := proba(x)
		return probaOrLabels(p, err, predictFn, classes)
	}), nil
}

// baggingAnswer answers through the ensemble's own validation, then fn,
// whose members may refuse the values (their own validation).
func baggingAnswer(g *stage, fn func(x *matrix) (any, error)) *stage {
	g.answer = func(f *frame) (any, error) {
		x, err := g.validate(f)
		if err != nil {
			return nil, err
		}
		return fn(x)
	}
	return g
}

// withoutProba reports whether scikit-learn's estimator e has no
// predict_proba, so that a bagging ensemble counts its votes: the
// classifiers that never have one, SVC and NuSVC without
// probability=True, SGDClassifier with a loss other than log or
// modified Huber.
func withoutProba(e any) bool {
	o, ok := e.(*object)
	if !ok {
		return false
	}
	st, _ := o.state.(*dict)
	if st == nil {
		return false
	}
	switch o.class.name {
	case "Pipeline": // its last step's
		steps, err := pipelineSteps(st)
		return err == nil && withoutProba(steps[len(steps)-1])
	case "LinearSVC", "Perceptron", "RidgeClassifier", "RidgeClassifierCV", "PassiveAggressiveClassifier", "NearestCentroid":
		return true
	case "SVC", "NuSVC":
		p, _ := st.get("probability").(bool)
		return !p
	case "SGDClassifier":
		l, _ := st.get("loss").(string)
		return !slices.Contains([]string{"log_loss", "log", "modified_huber"}, l)
	}
	return false
}

// seenClasses is the classes a bagged classifier was fitted on: its
// classes_ (the ensemble's class indices), or its last step's for a
// Pipeline.
func seenClasses(e any, k int) ([]int, error) {
	o, ok := e.(*object)
	if !ok {
		return nil, errors.New("not a fitted estimator")
	}
	st, _ := o.state.(*dict)
	if st == nil {
		return nil, errors.New("no state")
	}
	if o.class.name == "Pipeline" && o.class.module == "sklearn.pipeline" {
		steps, err := pipelineSteps(st)
		if err != nil {
			return nil, err
		}
		return seenClasses(steps[len(steps)-1], k)
	}
	s := &state{d: st, class: o.class.name}
	vals := s.classes()
	if s.err != nil {
		return nil, s.err
	}
	out := make([]int, len(vals))
	for i, v := range vals {
		c, ok := pyNumber(v)
		if !ok || c < 0 || int(c) >= k || c != float64(int(c)) {
			return nil, fmt.Errorf("its class %s is not one of %d", describe(v), k)
		}
		out[i] = int(c)
	}
	return out, nil
}

// baggingLogProba is BaggingClassifier's predict_log_proba: for
// estimators with their own, the log of the mean of their probabilities
// as scikit-learn sums it — numpy's logaddexp of their log probabilities,
// estimator by estimator (-inf for classes one did not see), less the
// log of their number; else the log of predict_proba.
func baggingLogProba(g *stage, s *state) (*stage, error) {
	proba, err := bagging(&stage{class: g.class, nIn: g.nIn, names: g.names}, s, "predict_proba")
	if err != nil {
		return nil, err
	}
	ests, _ := s.d.get("estimators_").(*list)
	feats, _ := s.d.get("estimators_features_").(*list)
	classes := s.classes()
	k := len(classes)
	type member struct {
		p        *Predictor
		features []int
		classes  []int
	}
	members := make([]member, len(ests.items))
	for i, e := range ests.items {
		p := &Predictor{}
		if err := p.add(e, "predict_log_proba"); err != nil {
			// no predict_log_proba of its own: the log of predict_proba
			g.allowNaN, g.allowInf = proba.allowNaN, proba.allowInf
			g.answer = func(f *frame) (any, error) {
				out, err := proba.answer(f)
				if p, ok := out.([][]float64); ok {
					for _, row := range p {
						for j, v := range row {
							row[j] = math.Log(v)
						}
					}
				}
				return out, err
			}
			return g, nil
		}
		f, err := featureIndices(g, feats.items[i])
		if err != nil {
			return nil, err
		}
		c, err := seenClasses(e, k)
		if err != nil {
			return nil, fmt.Errorf("%w: %s's estimator %d: %v", ErrNotInGo, g.class, i, err)
		}
		members[i] = member{p, f, c}
	}
	logN := math.Log(float64(len(members)))
	g.allowNaN, g.allowInf = true, true
	return baggingAnswer(g, func(x *matrix) (any, error) {
		acc := make([]float64, x.rows*k)
		for i := range acc {
			acc[i] = math.Inf(-1)
		}
		for i, m := range members {
			sub := &matrix{rows: x.rows, cols: len(m.features), v: make([]float64, x.rows*len(m.features))}
			for r := 0; r < x.rows; r++ {
				for j, c := range m.features {
					sub.v[r*len(m.features)+j] = x.v[r*x.cols+c]
				}
			}
			out, err := m.p.predict(frameOf(sub))
			if err != nil {
				return nil, err
			}
			lp, ok := out.([][]float64)
			if !ok || len(lp) != x.rows {
				return nil, fmt.Errorf("%s's estimator %d answered %T", g.class, i, out)
			}
			for r, row := range lp {
				a := acc[r*k : (r+1)*k]
				seen := make([]bool, k)
				for j, c := range m.classes {
					a[c] = logaddexp(a[c], row[j])
					seen[c] = true
				}
				for c := range a {
					if !seen[c] {
						a[c] = logaddexp(a[c], math.Inf(-1))
					}
				}
			}
		}
		for i := range acc {
			acc[i] -= logN
		}
		return rows(acc, k), nil
	}), nil
}

// logaddexp is numpy's: log(e^x + e^y), x + log 2 when they are equal.
func logaddexp(x, y float64) float64 {
	if x == y {
		return x + math.Ln2
	}
	d := x - y
	switch {
	case d > 0:
		return x + math.Log1p(math.Exp(-d))
	case d <= 0:
		return y + math.Log1p(math.Exp(d))
	}
	return d // NaN
}
