package sklearn

import (
	"fmt"
	"math"
)

// Histogram gradient boosting (HistGradientBoostingRegressor and
// Classifier) on numeric features, as scikit-learn predicts it: the
// baseline, then every iteration's trees added, each walked on the input
// as float64 — a missing value going the side its node learned — and the
// sum read through the loss's link.

// readHGBTree reads a fitted TreePredictor's nodes as a tree (a leaf's
// left child -1, its value the node's).
func readHGBTree(v any, nIn int) (*tree, error) {
	o, ok := v.(*object)
	var st *dict
	if ok {
		st, _ = o.state.(*dict)
	}
	if st == nil || o.class.name != "TreePredictor" {
		return nil, fmt.Errorf("a predictor is %s", describe(v))
	}
	s := &state{d: st, class: "TreePredictor"}
	nodes := s.array("nodes")
	if s.err != nil {
		return nil, s.err
	}
	f := fields{nodes, s}
	t := &tree{value: f.floats("value"), threshold: f.floats("num_threshold"), feature: f.ints("feature_idx"),
		left: f.ints("left"), right: f.ints("right"), missingLeft: f.bools("missing_go_to_left"), nOut: 1, width: 1}
	leaf, categorical := f.bools("is_leaf"), f.bools("is_categorical")
	if s.err != nil {
		return nil, s.err
	}
	n := len(t.value)
	if n == 0 {
		return nil, fmt.Errorf("a predictor without nodes")
	}
	for i := range n {
		if leaf[i] {
			t.left[i] = -1
			continue
		}
		if categorical[i] {
			return nil, fmt.Errorf("a categorical split (node %d)", i)
		}
		if t.left[i] <= i || t.left[i] >= n || t.right[i] <= i || t.right[i] >= n || t.feature[i] < 0 || t.feature[i] >= nIn {
			return nil, fmt.Errorf("a bad node %d", i)
		}
	}
	return t, nil
}

func histGradientBoosting(g *stage, s *state, predictFn string) (*stage, error) {
	g.allowNaN, g.allowInf = true, true // force_all_finite=False
	if g.nIn <= 0 {
		return nil, fmt.Errorf("%w: %s without n_features_in_", ErrNotInGo, g.class)
	}
	if c := s.d.get("is_categorical_"); c != nil {
		a, err := readArray(c)
		if err != nil {
			return nil, fmt.Errorf("%w: %s's is_categorical_: %v", ErrNotInGo, g.class, err)
		}
		flags, _ := a.floats()
		for _, f := range flags {
			if f != 0 {
				return nil, fmt.Errorf("%w: %s with categorical features", ErrNotInGo, g.class)
			}
		}
	}
	if s.d.get("_preprocessor") != nil {
		return nil, fmt.Errorf("%w: %s with a preprocessor of categories", ErrNotInGo, g.class)
	}
	base := s.floats("_baseline_prediction")
	loss, _ := s.d.get("_loss").(*object)
	iters, ok := s.d.get("_predictors").(*list)
	if s.err != nil {
		return nil, s.err
	}
	if loss == nil || !ok || len(base) == 0 {
		return nil, fmt.Errorf("%w: %s without its loss, baseline or predictors", ErrNotInGo, g.class)
	}
	k := len(base)
	var trees [][]*tree
	for i, it := range iters.items {
		l, ok := it.(*list)
		if !ok || len(l.items) != k {
			return nil, fmt.Errorf("%w: %s's iteration %d has not %d predictors", ErrNotInGo, g.class, i, k)
		}
		row := make([]*tree, k)
		for j, p := range l.items {
			t, err := readHGBTree(p, g.nIn)
			if err != nil {
				return nil, fmt.Errorf("%w: %s's iteration %d: %v", ErrNotInGo, g.class, i, err)
			}
			row[j] = t
		}
		trees = append(trees, row)
	}
	raw := func(x *matrix) []float64 {
		out := make([]float64, x.rows*k)
		for r := 0; r < x.rows; r++ {
			copy(out[r*k:(r+1)*k], base)
		}
		for _, it := range trees {
			for j, t := range it {
				for r := 0; r < x.rows; r++ {
					out[r*k+j] += t.at(t.leaf(x.row(r)), 0)[0]
				}
			}
		}
		return out
	}
	if g.class == "HistGradientBoostingRegressor" {
		var inverse func(float64) float64
		switch loss.class.name {
		case "HalfSquaredError", "AbsoluteError", "PinballLoss":
		case "HalfPoissonLoss", "HalfGammaLoss":
			inverse = math.Exp
		default:
			return nil, fmt.Errorf("%w: %s with the loss %s", ErrNotInGo, g.class, loss.class.name)
		}
		if k != 1 || predictFn != "predict" {
			return nil, fmt.Errorf("%w: %s.%s", ErrNotInGo, g.class, predictFn)
		}
		g.predict = func(x *matrix) any {
			out := raw(x)
			if inverse != nil {
				for i, v := range out {
					out[i] = inverse(v)
				}
			}
			return out
		}
		return g, nil
	}
	classes := s.classes()
	if s.err != nil {
		return nil, s.err
	}
	switch {
	case loss.class.name == "HalfBinomialLoss" && k == 1 && len(classes) == 2:
	case loss.class.name == "HalfMultinomialLoss" && k > 1 && len(classes) == k:
	default:
		return nil, fmt.Errorf("%w: %s with the loss %s for %d classes", ErrNotInGo, g.class, loss.class.name, len(classes))
	}
	proba := func(x *matrix) [][]float64 {
		rw := raw(x)
		out := make([][]float64, x.rows)
		for r := range out {
			if k == 1 {
				p := expit(rw[r])
				out[r] = []float64{1 - p, p}
			} else {
				out[r] = softmax(rw[r*k : (r+1)*k])
			}
		}
		return out
	}
	if predictFn == "predict_log_proba" { // HistGradientBoostingClassifier has none
		return nil, fmt.Errorf("%w: %s.%s", ErrNotInGo, g.class, predictFn)
	}
	return classify(g, predictFn, classes, proba, nil)
}
