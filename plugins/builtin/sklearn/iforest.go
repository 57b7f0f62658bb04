package sklearn

import (
	"fmt"
	"math"
)

// isolationForest makes the stage of a fitted IsolationForest: predict is
// 1 for an inlier and -1 for an outlier, one whose decision (the score
// less offset_) is negative. The score is scikit-learn's: -2^-(the mean
// path length over the trees / the average path length of max_samples_),
// a path's length being the nodes it visits plus the average path length
// of its leaf's training samples, less one; each tree given its own
// features (estimators_features_) when the forest drew fewer than all.
func isolationForest(g *stage, s *state, predictFn string) (*stage, error) {
	if predictFn != "predict" {
		return nil, fmt.Errorf("%w: %s.%s", ErrNotInGo, g.class, predictFn)
	}
	if g.nIn <= 0 {
		return nil, fmt.Errorf("%w: %s without n_features_in_", ErrNotInGo, g.class)
	}
	ests, ok := s.d.get("estimators_").(*list)
	feats, ok2 := s.d.get("estimators_features_").(*list)
	if !ok || !ok2 || len(ests.items) == 0 || len(feats.items) != len(ests.items) {
		return nil, fmt.Errorf("%w: %s without estimators_ and their features", ErrNotInGo, g.class)
	}
	offset, ok := pyNumber(s.d.get("offset_"))
	maxSamples, ok2 := pyNumber(s.d.get("max_samples_"))
	if !ok || !ok2 {
		return nil, fmt.Errorf("%w: %s without offset_ or max_samples_", ErrNotInGo, g.class)
	}
	subset := s.int("_max_features") != g.nIn
	if s.err != nil {
		return nil, s.err
	}
	type itree struct {
		t        *tree
		features []int
		length   []float64 // a leaf's path length term
	}
	trees := make([]itree, len(ests.items))
	for i, e := range ests.items {
		f, err := featureIndices(g, feats.items[i])
		if err != nil {
			return nil, fmt.Errorf("%w (estimators_features_ %d)", err, i)
		}
		it := itree{features: f}
		width := g.nIn
		if subset {
			width = len(f)
		}
		o, _ := e.(*object)
		var st *dict
		if o != nil {
			st, _ = o.state.(*dict)
		}
		if st == nil || o.class.name != "ExtraTreeRegressor" {
			return nil, fmt.Errorf("%w: %s's estimator %d is %s", ErrNotInGo, g.class, i, describe(e))
		}
		if it.t, err = readTree(st.get("tree_"), width); err != nil {
			return nil, fmt.Errorf("%w: %s's estimator %d: %v", ErrNotInGo, g.class, i, err)
		}
		n := len(it.t.left)
		if len(it.t.samples) != n {
			return nil, fmt.Errorf("%w: %s's tree %d without n_node_samples", ErrNotInGo, g.class, i)
		}
		depth := make([]int, n) // children come after their parents
		it.length = make([]float64, n)
		for j := range n {
			if l := it.t.left[j]; l != -1 {
				depth[l], depth[it.t.right[j]] = depth[j]+1, depth[j]+1
				continue
			}
			it.length[j] = float64(depth[j]+1) + averagePathLength(float64(it.t.samples[j])) - 1.0
		}
		trees[i] = it
	}
	denominator := float64(len(trees)) * averagePathLength(maxSamples)
	g.check = toFloat32 // the trees' own validation
	g.predict = func(x *matrix) any {
		out := make([]int64, x.rows)
		sub := make([]float64, g.nIn)
		for r := range out {
			row := x.row(r)
			var depths float64
			for _, it := range trees {
				in := row
				if subset {
					in = sub[:len(it.features)]
					for j, f := range it.features {
						in[j] = row[f]
					}
				}
				depths += it.length[it.t.leaf(in)]
			}
			ratio := 1.0 // np.divide(..., out=ones, where=denominator != 0)
			if denominator != 0 {
				ratio = depths / denominator
			}
			score := -math.Pow(2, -ratio)
			out[r] = 1
			if score-offset < 0 {
				out[r] = -1
			}
		}
		return out
	}
	return g, nil
}

// averagePathLength is the average path length of an unsuccessful search
// in a binary search tree of n keys, as scikit-learn's isolation forest
// computes it: 0 up to one, 1 for two, else 2 (ln(n - 1) + γ) - 2 (n -
// 1) / n.
func averagePathLength(n float64) float64 {
	switch {
	case n <= 1:
		return 0
	case n == 2:
		return 1
	}
	return 2.0*(math.Log(n-1.0)+0.5772156649015329) - 2.0*(n-1.0)/n
}

// featureIndices reads one of a bagging ensemble's estimators_features_:
// the indices of the input's columns its estimator was fitted on.
func featureIndices(g *stage, v any) ([]int, error) {
	a, err := readArray(v)
	var fv []float64
	if err == nil {
		fv, err = a.floats()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s's features: %v", ErrNotInGo, g.class, err)
	}
	out := make([]int, len(fv))
	for j, f := range fv {
		if f < 0 || f >= float64(g.nIn) || f != math.Trunc(f) {
			return nil, fmt.Errorf("%w: %s takes the feature %v of %d", ErrNotInGo, g.class, f, g.nIn)
		}
		out[j] = int(f)
	}
	return out, nil
}
