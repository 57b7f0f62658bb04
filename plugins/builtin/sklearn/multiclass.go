package sklearn

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Meta-estimators of several binary or single-output estimators:
// OneVsRestClassifier, MultiOutputRegressor, MultiOutputClassifier. Each
// estimator takes the input as it is and checks it itself.

// lastStep is a fitted estimator, or a Pipeline's last one.
func lastStep(e any) (*object, error) {
	o, ok := e.(*object)
	if !ok {
		return nil, fmt.Errorf("%w: an estimator is %s", ErrNotInGo, describe(e))
	}
	if o.class.module == "sklearn.pipeline" && o.class.name == "Pipeline" {
		st, _ := o.state.(*dict)
		if st == nil {
			return nil, fmt.Errorf("%w: a Pipeline without its state", ErrNotInGo)
		}
		steps, err := pipelineSteps(st)
		if err != nil || len(steps) == 0 {
			return nil, fmt.Errorf("%w: a Pipeline without steps", ErrNotInGo)
		}
		return lastStep(steps[len(steps)-1])
	}
	return o, nil
}

// probaOnly are the classifiers with predict_proba and no
// decision_function.
var probaOnly = []string{
	"sklearn.tree._classes.DecisionTreeClassifier", "sklearn.tree._classes.ExtraTreeClassifier",
	"sklearn.ensemble._forest.RandomForestClassifier", "sklearn.ensemble._forest.ExtraTreesClassifier",
	"sklearn.naive_bayes.GaussianNB", "sklearn.naive_bayes.MultinomialNB", "sklearn.naive_bayes.ComplementNB",
	"sklearn.naive_bayes.BernoulliNB", "sklearn.neighbors._classification.KNeighborsClassifier",
	"sklearn.neural_network._multilayer_perceptron.MLPClassifier",
	"sklearn.gaussian_process._gpc._BinaryGaussianProcessClassifierLaplace",
}

// binaryScore is one of OneVsRestClassifier's estimators as its
// _predict_binary scores it: a regressor's prediction, a classifier's
// decision_function, else its probability of the positive class.
type binaryScore struct {
	p        *Predictor
	proba    bool // the score is predict_proba's second column
	decision bool // a classifier with decision_function (threshold 0, else 0.5)
}

func newBinaryScore(e any, fn string) (*binaryScore, error) {
	last, err := lastStep(e)
	if err != nil {
		return nil, err
	}
	name := last.class.module + "." + last.class.name
	b := &binaryScore{p: &Predictor{}}
	switch {
	case fn == "decision_function":
		if !slices.Contains(linearClassifiers, name) && name != "sklearn.svm._classes.SVC" && name != "sklearn.svm._classes.NuSVC" {
			return nil, fmt.Errorf("%w: %s's decision_function in a OneVsRestClassifier", ErrNotInGo, last.class)
		}
		b.decision = true
	case fn == "predict_proba" || slices.Contains(probaOnly, name):
		b.proba = true
		fn = "predict_proba"
	case slices.Contains(linearClassifiers, name), name == "sklearn.svm._classes.SVC", name == "sklearn.svm._classes.NuSVC":
		b.decision = true
		fn = "decision_function"
	case slices.Contains(linearRegressors, name) || treeModel(name) != "" && strings.HasSuffix(last.class.name, "Regressor"):
		fn = "predict"
	default:
		return nil, fmt.Errorf("%w: %s in a OneVsRestClassifier", ErrNotInGo, last.class)
	}
	if err := b.p.add(e, fn); err != nil {
		return nil, err
	}
	return b, b.p.checkSparse()
}

// score answers one score a row.
func (b *binaryScore) score(f *frame) ([]float64, error) {
	out, err := b.p.predict(f)
	if err != nil {
		return nil, err
	}
	switch y := out.(type) {
	case []float64:
		return y, nil
	case [][]float64:
		if b.proba {
			s := make([]float64, len(y))
			for r, row := range y {
				if len(row) < 2 {
					return nil, fmt.Errorf("a binary estimator answered %d probabilities", len(row))
				}
				s[r] = row[1]
			}
			return s, nil
		}
	}
	return nil, fmt.Errorf("a binary estimator answered %T", out)
}

// oneVsRest makes the stage of a fitted OneVsRestClassifier of one
// class (binary: the class of a score above the threshold) or more
// (multiclass: the class of the largest score, the last of equals);
// predict_proba the positive probabilities, normalized. Multilabel ones
// are left to Python.
func oneVsRest(g *stage, s *state, predictFn string) (*stage, error) {
	if predictFn != "predict" && predictFn != "predict_proba" && predictFn != "decision_function" {
		return nil, fmt.Errorf("%w: %s.%s", ErrNotInGo, g.class, predictFn)
	}
	lb := s.sub("label_binarizer_")
	yType := lb.str("y_type_")
	classes := lb.classes()
	if lb.err != nil {
		return nil, lb.err
	}
	if yType != "multiclass" && yType != "binary" {
		return nil, fmt.Errorf("%w: a %s OneVsRestClassifier", ErrNotInGo, yType)
	}
	ests, ok := s.d.get("estimators_").(*list)
	if !ok || len(ests.items) == 0 || yType == "multiclass" && len(ests.items) != len(classes) {
		return nil, fmt.Errorf("%w: %s's estimators_ for %d classes", ErrNotInGo, g.class, len(classes))
	}
	members := make([]*binaryScore, len(ests.items))
	for i, e := range ests.items {
		b, err := newBinaryScore(e, predictFn)
		if err != nil {
			return nil, fmt.Errorf("%w (in %s's estimator %d)", err, g.class, i)
		}
		if predictFn == "decision_function" && !b.decision {
			return nil, fmt.Errorf("%w: %s.decision_function of an estimator without one", ErrNotInGo, g.class)
		}
		members[i] = b
	}
	g.nIn = members[0].p.NumFeatures()
	scores := func(f *frame) ([][]float64, error) {
		out := make([][]float64, len(members))
		for i, m := range members {
			y, err := m.score(f)
			if err != nil {
				return nil, err
			}
			out[i] = y
		}
		return out, nil
	}
	g.answer = func(f *frame) (any, error) {
		sc, err := scores(f)
		if err != nil {
			return nil, err
		}
		n := len(sc[0])
		if predictFn == "decision_function" { // a column an estimator (one estimator: its own)
			if len(sc) == 1 {
				return sc[0], nil
			}
			out := make([][]float64, n)
			for r := range out {
				out[r] = make([]float64, len(sc))
				for i := range sc {
					out[r][i] = sc[i][r]
				}
			}
			return out, nil
		}
		if predictFn == "predict_proba" {
			out := make([][]float64, n)
			for r := range out {
				row := make([]float64, len(sc))
				for i := range sc {
					row[i] = sc[i][r]
				}
				if len(row) == 1 {
					row = []float64{1 - row[0], row[0]}
				}
				sum := npSum(row)
				for i := range row {
					row[i] /= sum
				}
				out[r] = row
			}
			return out, nil
		}
		out := make([]any, n)
		for r := range out {
			if yType == "binary" {
				thresh := 0.5
				if members[0].decision {
					thresh = 0
				}
				out[r] = classes[b2i(sc[0][r] > thresh)]
				continue
			}
			best, top := 0, math.Inf(-1)
			for i := range sc {
				top = math.Max(top, sc[i][r]) // np.maximum (NaN wins)
				if top == sc[i][r] {
					best = i
				}
			}
			out[r] = classes[best]
		}
		return out, nil
	}
	return g, nil
}

// multiOutput makes the stage of a fitted MultiOutputRegressor or
// MultiOutputClassifier's predict: each estimator's answer a column.
func multiOutput(g *stage, s *state, predictFn string) (*stage, error) {
	if predictFn != "predict" {
		return nil, fmt.Errorf("%w: %s.%s", ErrNotInGo, g.class, predictFn)
	}
	ests, ok := s.d.get("estimators_").(*list)
	if !ok || len(ests.items) == 0 {
		return nil, fmt.Errorf("%w: %s without estimators_", ErrNotInGo, g.class)
	}
	subs := make([]*Predictor, len(ests.items))
	for i, e := range ests.items {
		subs[i] = &Predictor{}
		if err := subs[i].add(e, "predict"); err != nil {
			return nil, fmt.Errorf("%w (in %s's estimator %d)", err, g.class, i)
		}
		if err := subs[i].checkSparse(); err != nil {
			return nil, err
		}
	}
	g.nIn = subs[0].NumFeatures()
	g.answer = func(f *frame) (any, error) {
		cols := make([][]any, len(subs))
		for i, p := range subs {
			out, err := p.predict(f)
			if err != nil {
				return nil, err
			}
			switch y := out.(type) {
			case []float64:
				cols[i] = make([]any, len(y))
				for r, v := range y {
					cols[i][r] = v
				}
			case []any:
				cols[i] = y
			case []int64:
				cols[i] = make([]any, len(y))
				for r, v := range y {
					cols[i][r] = v
				}
			default:
				return nil, fmt.Errorf("%s's estimator %d answered %T", g.class, i, out)
			}
		}
		n := len(cols[0])
		if g.class == "MultiOutputRegressor" {
			out := make([][]float64, n)
			for r := range out {
				out[r] = make([]float64, len(cols))
				for i := range cols {
					out[r][i], _ = pyNumber(cols[i][r])
				}
			}
			return out, nil
		}
		out := make([][]any, n)
		for r := range out {
			out[r] = make([]any, len(cols))
			for i := range cols {
				out[r][i] = cols[i][r]
			}
		}
		return out, nil
	}
	return g, nil
}
