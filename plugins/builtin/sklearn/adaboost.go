package sklearn

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// AdaBoost (AdaBoostClassifier, SAMME.R or SAMME, and AdaBoostRegressor)
// over decision trees, as scikit-learn predicts it: the ensemble checks
// its input as float64, each tree casts it to float32; a classifier sums
// its trees' SAMME.R terms (or their weighted votes) over the weights'
// sum, a regressor answers the weighted median of its trees.

func adaBoost(g *stage, s *state, predictFn string) (*stage, error) {
	if g.nIn <= 0 {
		return nil, fmt.Errorf("%w: %s without n_features_in_", ErrNotInGo, g.class)
	}
	ests, ok := s.d.get("estimators_").(*list)
	weights := s.floats("estimator_weights_")
	if s.err != nil {
		return nil, s.err
	}
	if !ok || len(ests.items) == 0 || len(weights) < len(ests.items) {
		return nil, fmt.Errorf("%w: %s without its estimators and their weights", ErrNotInGo, g.class)
	}
	trees, err := estimatorTrees(g, ests)
	if err != nil {
		return nil, err
	}
	for i, t := range trees {
		if t.nOut != 1 { // missing values never reach the trees: the ensemble refuses them
			return nil, fmt.Errorf("%w: %s's estimator %d has %d outputs", ErrNotInGo, g.class, i, t.nOut)
		}
	}
	weightSum := npSum(weights)
	// Each tree's check_array(dtype=float32): the values are finite
	// float64 (the ensemble checked them), maybe not finite as float32.
	g.check = toFloat32
	if g.class == "AdaBoostRegressor" {
		if predictFn != "predict" {
			return nil, fmt.Errorf("%w: %s.%s", ErrNotInGo, g.class, predictFn)
		}
		for _, t := range trees {
			if t.width != 1 {
				return nil, fmt.Errorf("%w: %s with a tree of %d values", ErrNotInGo, g.class, t.width)
			}
		}
		g.predict = func(x *matrix) any {
			out := make([]float64, x.rows)
			pred := make([]float64, len(trees))
			order := make([]int, len(trees))
			for r := range out {
				row := x.row(r)
				for i, t := range trees {
					pred[i] = t.at(t.leaf(row), 0)[0]
					order[i] = i
				}
				out[r] = weightedMedian(pred, order, weights)
			}
			return out
		}
		return g, nil
	}
	classes := s.classes()
	samme := s.str("algorithm") == "SAMME"
	if s.err != nil {
		return nil, s.err
	}
	k := len(classes)
	if !samme && s.str("algorithm") != "SAMME.R" || k < 2 {
		return nil, fmt.Errorf("%w: %s with algorithm %q and %d classes", ErrNotInGo, g.class, s.str("algorithm"), k)
	}
	for _, t := range trees {
		if t.width != k {
			return nil, fmt.Errorf("%w: %s has a tree of %d classes for %d", ErrNotInGo, g.class, t.width, k)
		}
	}
	const eps = 2.220446049250313e-16 // np.finfo(float64).eps, the floor of a tree's probability
	decision := func(x *matrix) [][]float64 {
		pred := make([][]float64, x.rows)
		lp := make([]float64, k)
		for r := range pred {
			row := x.row(r)
			p := make([]float64, k)
			for i, t := range trees {
				v := t.at(t.leaf(row), 0)
				if samme { // (estimator.predict(X) == classes).T * w
					p[argmax(v)] += weights[i]
					continue
				}
				norm := npSum(v) // _samme_proba of the tree's predict_proba
				if norm == 0 {
					norm = 1
				}
				for c := range lp {
					lp[c] = math.Log(math.Max(v[c]/norm, eps))
				}
				mean := (1.0 / float64(k)) * npSum(lp)
				for c, l := range lp {
					p[c] += float64(k-1) * (l - mean)
				}
			}
			for c := range p {
				p[c] /= weightSum
			}
			pred[r] = p
		}
		return pred
	}
	label := func(x *matrix) []int {
		d := decision(x)
		out := make([]int, x.rows)
		for r, p := range d {
			if k == 2 {
				out[r] = b2i(-p[0]+p[1] > 0)
			} else {
				out[r] = argmax(p)
			}
		}
		return out
	}
	proba := func(x *matrix) [][]float64 { // _compute_proba_from_decision
		d := decision(x)
		for r, p := range d {
			if k == 2 {
				s := -p[0] + p[1]
				d[r] = softmax([]float64{-s / 2, s / 2})
				continue
			}
			for c := range p {
				p[c] /= float64(k - 1)
			}
			d[r] = softmax(p)
		}
		return d
	}
	return classify(g, predictFn, classes, proba, label)
}

// weightedMedian is AdaBoostRegressor's _get_median_predict for one row:
// the predictions sorted, their weights summed in that order, the first
// whose sum reaches half the total. Predictions that tie have one value,
// so the order argsort gives them does not change the answer.
func weightedMedian(pred []float64, order []int, weights []float64) float64 {
	sort.SliceStable(order, func(a, b int) bool { return pred[order[a]] < pred[order[b]] })
	cdf := make([]float64, len(order))
	var sum float64
	for i, j := range order {
		sum += weights[j]
		cdf[i] = sum
	}
	half := 0.5 * cdf[len(cdf)-1]
	i := slices.IndexFunc(cdf, func(c float64) bool { return c >= half })
	return pred[order[max(i, 0)]]
}
