package sklearn

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// fromModelMask is SelectFromModel's support: its estimator's feature
// importances (|coef_|, its norm over the classes, or a tree's or
// forest's feature_importances_, computed as scikit-learn computes
// them), those at or above the threshold ("mean", "median", "1.25*mean",
// a number; by default 1e-5 for an l1-penalized or lasso estimator,
// else the mean), of the max_features largest when it has one.
func fromModelMask(s *state) ([]bool, error) {
	if g, _ := s.d.get("importance_getter").(string); g != "auto" {
		return nil, fmt.Errorf("%w: SelectFromModel with importance_getter=%s", ErrNotInGo, describe(s.d.get("importance_getter")))
	}
	o, ok := s.d.get("estimator_").(*object)
	if !ok {
		return nil, fmt.Errorf("%w: SelectFromModel without estimator_ (prefit?)", ErrNotInGo)
	}
	st, _ := o.state.(*dict)
	if st == nil {
		return nil, fmt.Errorf("%w: SelectFromModel's estimator has no state", ErrNotInGo)
	}
	e := &state{d: st, class: o.class.name}
	scores, err := importances(o.class.module+"."+o.class.name, e, s.d.get("norm_order"))
	if err != nil {
		return nil, err
	}
	threshold, err := selectThreshold(e, scores, s.d.get("threshold"))
	if err != nil {
		return nil, err
	}
	keep := make([]bool, len(scores))
	if mf := s.d.get("max_features"); mf != nil {
		n, ok := pyNumber(s.d.get("max_features_"))
		if !ok {
			n, ok = pyNumber(mf)
		}
		if !ok || n < 0 {
			return nil, fmt.Errorf("%w: SelectFromModel's max_features is %s", ErrNotInGo, describe(mf))
		}
		order := make([]int, len(scores)) // argsort(-scores, kind="mergesort"): stable
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(-scores[a], -scores[b]) })
		for _, i := range order[:min(int(n), len(order))] {
			keep[i] = true
		}
	} else {
		for i := range keep {
			keep[i] = true
		}
	}
	for i, v := range scores {
		if v < threshold {
			keep[i] = false
		}
	}
	return keep, nil
}

// importances are a fitted estimator's feature importances as
// SelectFromModel takes them.
func importances(name string, e *state, normOrder any) ([]float64, error) {
	if e.has("coef_") {
		a := e.array("coef_")
		c := e.floats("coef_")
		if e.err != nil {
			return nil, e.err
		}
		if len(a.shape) == 1 {
			out := make([]float64, len(c))
			for i, v := range c {
				out[i] = math.Abs(v)
			}
			return out, nil
		}
		if len(a.shape) != 2 {
			return nil, fmt.Errorf("%w: a coef_ of shape %v", ErrNotInGo, a.shape)
		}
		ord, ok := pyNumber(normOrder)
		if !ok {
			return nil, fmt.Errorf("%w: SelectFromModel with norm_order=%s", ErrNotInGo, describe(normOrder))
		}
		k, n := a.shape[0], a.shape[1]
		out := make([]float64, n)
		for j := range n { // np.linalg.norm(coef_, axis=0, ord): row by row
			for r := range k {
				v := math.Abs(c[r*n+j])
				switch {
				case ord == 1:
					out[j] += v
				case ord == 2:
					out[j] += float64(v * v)
				case math.IsInf(ord, 1):
					out[j] = math.Max(out[j], v)
				default:
					return nil, fmt.Errorf("%w: SelectFromModel with norm_order=%v", ErrNotInGo, ord)
				}
			}
			if ord == 2 {
				out[j] = math.Sqrt(out[j])
			}
		}
		return out, nil
	}
	switch treeModel(name) {
	case "tree":
		return treeImportances(e.d.get("tree_"), e.int("n_features_in_"))
	case "forest": // the mean of the trees' (those with a split), normalized
		ests, ok := e.d.get("estimators_").(*list)
		nIn := e.int("n_features_in_")
		if !ok || e.err != nil {
			return nil, fmt.Errorf("%w: a forest without estimators_", ErrNotInGo)
		}
		sum := make([]float64, nIn)
		count := 0
		for _, t := range ests.items {
			o, _ := t.(*object)
			st, _ := o.state.(*dict)
			if o == nil || st == nil {
				return nil, fmt.Errorf("%w: a forest's estimator is %s", ErrNotInGo, describe(t))
			}
			imp, err := treeImportances(st.get("tree_"), nIn)
			if err != nil {
				return nil, err
			}
			if imp == nil {
				continue
			}
			count++
			for j, v := range imp {
				sum[j] += v
			}
		}
		if count == 0 {
			return sum, nil
		}
		for j := range sum {
			sum[j] /= float64(count)
		}
		total := npSum(sum)
		for j := range sum {
			sum[j] /= total
		}
		return sum, nil
	}
	return nil, fmt.Errorf("%w: SelectFromModel over %s (no coef_ or feature_importances_ in Go)", ErrNotInGo, name)
}

// treeImportances is a Tree's compute_feature_importances: each split's
// weighted impurity decrease added to its feature, over the root's
// weight, normalized to sum 1; nil for a tree of one node.
func treeImportances(v any, nIn int) ([]float64, error) {
	o, ok := v.(*object)
	st, _ := func() (*dict, bool) {
		if !ok {
			return nil, false
		}
		d, ok := o.state.(*dict)
		return d, ok
	}()
	if st == nil {
		return nil, fmt.Errorf("%w: tree_ is %s", ErrNotInGo, describe(v))
	}
	s := &state{d: st, class: "Tree"}
	f := fields{s.array("nodes"), s}
	left, right, feature := f.ints("left_child"), f.ints("right_child"), f.ints("feature")
	imp, w := f.floats("impurity"), f.floats("weighted_n_node_samples")
	if s.err != nil {
		return nil, s.err
	}
	if len(left) <= 1 {
		return nil, nil
	}
	out := make([]float64, nIn)
	for i := range left {
		l, r := left[i], right[i]
		if l == -1 {
			continue
		}
		if l <= i || r <= i || l >= len(left) || r >= len(left) || feature[i] < 0 || feature[i] >= nIn {
			return nil, fmt.Errorf("%w: a Tree with a bad node %d", ErrNotInGo, i)
		}
		out[feature[i]] += float64(float64(w[i]*imp[i])-float64(w[l]*imp[l])) - float64(w[r]*imp[r])
	}
	for j := range out {
		out[j] /= w[0]
	}
	if total := npSum(out); total > 0 {
		for j := range out {
			out[j] /= total
		}
	}
	return out, nil
}

// selectThreshold is SelectFromModel's threshold over the scores.
func selectThreshold(e *state, scores []float64, t any) (float64, error) {
	if t == nil {
		l1 := false
		if p, ok := e.d.get("penalty").(string); ok && p == "l1" {
			l1 = true
		}
		if strings.Contains(e.class, "Lasso") {
			l1 = true
		}
		if strings.Contains(e.class, "ElasticNet") {
			for _, k := range []string{"l1_ratio_", "l1_ratio"} {
				if r, ok := pyNumber(e.d.get(k)); ok && e.has(k) && math.Abs(r-1) <= 1e-8+1e-5 {
					l1 = true
				}
			}
		}
		if l1 {
			return 1e-5, nil
		}
		t = "mean"
	}
	if v, ok := pyNumber(t); ok {
		return v, nil
	}
	str, ok := t.(string)
	if !ok {
		return 0, fmt.Errorf("%w: SelectFromModel's threshold is %s", ErrNotInGo, describe(t))
	}
	scale := 1.0
	if a, b, found := strings.Cut(str, "*"); found {
		v, err := strconv.ParseFloat(strings.TrimSpace(a), 64)
		if err != nil {
			return 0, fmt.Errorf("%w: SelectFromModel's threshold %q", ErrNotInGo, str)
		}
		scale, str = v, strings.TrimSpace(b)
	}
	var ref float64
	switch str {
	case "mean":
		ref = npSum(scores) / float64(len(scores))
	case "median":
		sorted := slices.Clone(scores)
		slices.Sort(sorted)
		n := len(sorted)
		if n%2 == 1 {
			ref = sorted[n/2]
		} else {
			ref = (sorted[n/2-1] + sorted[n/2]) / 2
		}
	default:
		return 0, fmt.Errorf("%w: SelectFromModel's threshold %q", ErrNotInGo, str)
	}
	return scale * ref, nil
}
