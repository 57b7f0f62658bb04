package sklearn

import (
	"fmt"
	"math"
	"slices"
)

// Calibrated classifiers (CalibratedClassifierCV with the sigmoid
// method), as scikit-learn predicts them: for each calibrated
// classifier, its estimator's decision_function (a linear classifier's)
// or else predict_proba, each class's column through its calibrator,
// expit(-(a·f + b)); for two classes the first is 1 - the second, for
// more the row is normalised (uniform where all are 0); values a hair
// above 1 are 1; then the mean over the calibrated classifiers.

func calibrated(g *stage, s *state, predictFn string) (*stage, error) {
	ccs, ok := s.d.get("calibrated_classifiers_").(*list)
	if !ok || len(ccs.items) == 0 {
		return nil, fmt.Errorf("%w: %s without calibrated_classifiers_", ErrNotInGo, g.class)
	}
	classes := s.classes()
	if s.err != nil {
		return nil, s.err
	}
	k := len(classes)
	if predictFn != "predict" && predictFn != "predict_proba" { // it has no predict_log_proba
		return nil, fmt.Errorf("%w: %s.%s", ErrNotInGo, g.class, predictFn)
	}
	type member struct {
		p        *Predictor
		decision bool
		cols     []int                   // the class index of each prediction column
		cal      []func(float64) float64 // a column's calibrator
	}
	var members []member
	for i, c := range ccs.items {
		o, _ := c.(*object)
		var st *dict
		if o != nil {
			st, _ = o.state.(*dict)
		}
		if st == nil {
			return nil, fmt.Errorf("%w: %s's calibrated classifier %d is %s", ErrNotInGo, g.class, i, describe(c))
		}
		est, _ := st.get("estimator").(*object)
		method, last, err := responseMethod(est)
		if err != nil {
			return nil, fmt.Errorf("%w: %s's estimator %d: %v", ErrNotInGo, g.class, i, err)
		}
		m := member{p: &Predictor{}, decision: method == "decision_function"}
		if err := m.p.add(est, method); err != nil {
			return nil, fmt.Errorf("%w (in %s's calibrated classifier %d)", err, g.class, i)
		}
		// pos_class_indices: the estimator's classes (a Pipeline's, its
		// last step's) among the calibrated classifier's (for two, the one
		// column is the second class's)
		estState, _ := last.state.(*dict)
		ecs := &state{d: estState, class: last.class.name}
		own := ecs.classes()
		all, err := (&state{d: st, class: "_CalibratedClassifier"}).array("classes").values()
		if ecs.err != nil || err != nil || len(all) != k {
			return nil, fmt.Errorf("%w: %s's calibrated classifier %d has classes %v of %d", ErrNotInGo, g.class, i, all, k)
		}
		for _, c := range own {
			j := slices.IndexFunc(all, func(v any) bool { a, _ := catKey(v); b, _ := catKey(c); return a == b })
			if j < 0 {
				return nil, fmt.Errorf("%w: %s's estimator %d has a class %v not calibrated", ErrNotInGo, g.class, i, c)
			}
			m.cols = append(m.cols, j)
		}
		if k == 2 {
			m.cols = []int{1}
		}
		cals, _ := st.get("calibrators").(*list)
		if cals == nil || len(cals.items) != len(m.cols) {
			return nil, fmt.Errorf("%w: %s's calibrated classifier %d without one calibrator a column", ErrNotInGo, g.class, i)
		}
		for _, cal := range cals.items {
			co, _ := cal.(*object)
			var cst *dict
			if co != nil {
				cst, _ = co.state.(*dict)
			}
			if cst == nil {
				return nil, fmt.Errorf("%w: %s's calibrator is %s", ErrNotInGo, g.class, describe(cal))
			}
			f, err := calibrator(co.class.name, &state{d: cst, class: co.class.name})
			if err != nil {
				return nil, fmt.Errorf("%w (in %s)", err, g.class)
			}
			m.cal = append(m.cal, f)
		}
		members = append(members, m)
	}
	g.nIn = members[0].p.NumFeatures()
	proba := func(f *frame) ([][]float64, error) {
		mean := make([][]float64, f.rows)
		for r := range mean {
			mean[r] = make([]float64, k)
		}
		for i, m := range members {
			out, err := m.p.predict(f)
			if err != nil {
				return nil, err
			}
			var preds [][]float64 // one column per calibrator
			switch o := out.(type) {
			case []float64: // a binary decision function
				for _, v := range o {
					preds = append(preds, []float64{v})
				}
			case [][]float64:
				preds = o
				if !m.decision && k == 2 { // predict_proba: the second class's column
					preds = make([][]float64, len(o))
					for r, row := range o {
						preds[r] = row[1:]
					}
				}
			default:
				return nil, fmt.Errorf("%s's estimator %d answered %T", g.class, i, out)
			}
			for r, row := range preds {
				if len(row) != len(m.cols) {
					return nil, fmt.Errorf("%s's estimator %d answered %d columns for %d calibrators", g.class, i, len(row), len(m.cols))
				}
				p := make([]float64, k)
				for j, v := range row {
					p[m.cols[j]] = m.cal[j](v)
				}
				if k == 2 {
					p[0] = 1.0 - p[1]
				} else if den := npSum(p); den != 0 {
					for c := range p {
						p[c] /= den
					}
				} else {
					for c := range p {
						p[c] = 1 / float64(k)
					}
				}
				for c, v := range p {
					if v > 1 && v <= 1+1e-5 {
						v = 1
					}
					mean[r][c] += v
				}
			}
		}
		for _, row := range mean {
			for c := range row {
				row[c] /= float64(len(members))
			}
		}
		return mean, nil
	}
	g.answer = func(f *frame) (any, error) {
		p, err := proba(f)
		return probaOrLabels(p, err, predictFn, classes)
	}
	return g, nil
}

// responseMethod is calibration's _get_prediction_method for the
// estimators mlrun predicts: decision_function where the estimator has
// one (linear classifiers, Pipelines ending in one), else predict_proba
// (trees, forests, naive Bayes, neural networks, neighbours). Estimators
// whose decision_function Go does not compute are refused.
func responseMethod(est *object) (string, *object, error) {
	if est == nil {
		return "", nil, fmt.Errorf("no estimator")
	}
	last := est // the estimator, or the last step of a Pipeline
	if est.class.name == "Pipeline" {
		st, _ := est.state.(*dict)
		if st == nil {
			return "", nil, fmt.Errorf("a Pipeline without its state")
		}
		steps, err := pipelineSteps(st)
		if err != nil || len(steps) == 0 {
			return "", nil, fmt.Errorf("a Pipeline without steps")
		}
		if last, _ = steps[len(steps)-1].(*object); last == nil {
			return "", nil, fmt.Errorf("a Pipeline ending in %s", describe(steps[len(steps)-1]))
		}
	}
	if _, ok := last.state.(*dict); !ok {
		return "", nil, fmt.Errorf("%s has no state", last.class)
	}
	name := last.class.module + "." + last.class.name
	switch {
	case slices.Contains(linearClassifiers, name), name == "sklearn.svm._classes.SVC", name == "sklearn.svm._classes.NuSVC":
		return "decision_function", last, nil
	case name == "sklearn.multiclass.OneVsRestClassifier": // its estimators' decision_function, or predict_proba
		st, _ := last.state.(*dict)
		ests, _ := st.get("estimators_").(*list)
		if ests == nil || len(ests.items) == 0 {
			return "", nil, fmt.Errorf("a OneVsRestClassifier without estimators_")
		}
		m, _, err := responseMethod(func() *object { o, _ := ests.items[0].(*object); return o }())
		return m, last, err
	case treeModel(name) != "", name == "sklearn.naive_bayes.GaussianNB",
		name == "sklearn.neural_network._multilayer_perceptron.MLPClassifier",
		name == "sklearn.neighbors._classification.KNeighborsClassifier":
		return "predict_proba", last, nil
	}
	return "", nil, fmt.Errorf("%s (its decision_function is not computed in Go)", last.class)
}

// calibrator is a fitted calibrator's map of a prediction to a
// probability: the sigmoid's expit(-(a v + b)), or the isotonic
// regression's numpy interp through its thresholds, v clipped to the
// fitted range (out_of_bounds="clip", as calibration fits it).
func calibrator(class string, s *state) (func(float64) float64, error) {
	switch class {
	case "_SigmoidCalibration":
		a, ok1 := pyNumber(s.d.get("a_"))
		b, ok2 := pyNumber(s.d.get("b_"))
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%w: a sigmoid calibrator without a_ and b_", ErrNotInGo)
		}
		return func(v float64) float64 { return expit(-(a*v + b)) }, nil
	case "IsotonicRegression":
		xs, ys := s.floats("X_thresholds_"), s.floats("y_thresholds_")
		lo, ok1 := pyNumber(s.d.get("X_min_"))
		hi, ok2 := pyNumber(s.d.get("X_max_"))
		if s.err != nil || !ok1 || !ok2 || len(xs) != len(ys) || len(xs) == 0 || s.str("out_of_bounds") != "clip" {
			return nil, fmt.Errorf("%w: an isotonic calibrator without its thresholds and clip bounds", ErrNotInGo)
		}
		if len(ys) == 1 { // a constant
			return func(float64) float64 { return ys[0] }, nil
		}
		return func(v float64) float64 {
			if math.IsNaN(v) {
				return v
			}
			return interp(math.Min(math.Max(v, lo), hi), xs, ys)
		}, nil
	}
	return nil, fmt.Errorf("%w: a calibrator %s", ErrNotInGo, class)
}
