package sklearn

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Decision trees and the forests of them, as scikit-learn's Tree.predict
// walks them: the input cast to float32, a sample going left when its
// feature is <= the node's threshold, and (models of scikit-learn 1.3 and
// later, whose nodes record it) a missing value going the side the node
// learned.

// treeModel names the kind of a tree model class: "tree", "forest", or "".
func treeModel(name string) string {
	switch name {
	case "sklearn.tree._classes.DecisionTreeClassifier", "sklearn.tree._classes.DecisionTreeRegressor",
		"sklearn.tree._classes.ExtraTreeClassifier", "sklearn.tree._classes.ExtraTreeRegressor":
		return "tree"
	case "sklearn.ensemble._forest.RandomForestClassifier", "sklearn.ensemble._forest.RandomForestRegressor",
		"sklearn.ensemble._forest.ExtraTreesClassifier", "sklearn.ensemble._forest.ExtraTreesRegressor":
		return "forest"
	}
	return ""
}

// tree is a fitted sklearn.tree._tree.Tree.
type tree struct {
	left, right, feature []int
	threshold            []float64
	missingLeft          []bool      // nil before scikit-learn 1.3 (always set for histogram boosting)
	cat                  []*catSplit // histogram boosting's categorical nodes (nil: none)
	value                []float64
	nOut, width          int   // value is node_count × nOut × width
	samples              []int // n_node_samples: the training samples that reached each node
}

func readTree(v any, nIn int) (*tree, error) {
	o, ok := v.(*object)
	if !ok || o.class.module != "sklearn.tree._tree" || o.class.name != "Tree" {
		return nil, fmt.Errorf("tree_ is %s", describe(v))
	}
	st, ok := o.state.(*dict)
	if !ok {
		return nil, fmt.Errorf("a Tree without its state")
	}
	s := &state{d: st, class: "Tree"}
	nodes := s.array("nodes")
	values := s.array("values")
	if s.err != nil {
		return nil, s.err
	}
	f := fields{nodes, s}
	t := &tree{left: f.ints("left_child"), right: f.ints("right_child"), feature: f.ints("feature"), threshold: f.floats("threshold"), samples: f.ints("n_node_samples")}
	if _, ok := nodes.dt.fields["missing_go_to_left"]; ok {
		t.missingLeft = f.bools("missing_go_to_left")
	}
	var err error
	if t.value, err = values.floats(); err != nil {
		return nil, fmt.Errorf("values: %w", err)
	}
	if s.err != nil {
		return nil, s.err
	}
	n := len(t.left)
	if len(values.shape) != 3 || values.shape[0] != n || n == 0 {
		return nil, fmt.Errorf("a Tree whose values do not match its %d nodes", n)
	}
	t.nOut, t.width = values.shape[1], values.shape[2]
	// Every walk must end at a leaf: children after their parent (as
	// scikit-learn builds them), features inside the input.
	for i := range n {
		if t.left[i] == -1 {
			continue
		}
		if t.left[i] <= i || t.left[i] >= n || t.right[i] <= i || t.right[i] >= n || t.feature[i] < 0 || t.feature[i] >= nIn {
			return nil, fmt.Errorf("a Tree with a bad node %d", i)
		}
	}
	return t, nil
}

// leaf is the leaf row x (float32 values, as float64) reaches.
func (t *tree) leaf(x []float64) int {
	i := 0
	for t.left[i] != -1 {
		v := x[t.feature[i]]
		switch {
		case math.IsNaN(v) && t.missingLeft != nil:
			if t.missingLeft[i] {
				i = t.left[i]
			} else {
				i = t.right[i]
			}
		case t.cat != nil && t.cat[i] != nil:
			i = t.category(i, v)
		case v <= t.threshold[i]:
			i = t.left[i]
		default:
			i = t.right[i]
		}
	}
	return i
}

// category is the child of categorical node i for the value v (not NaN),
// as scikit-learn's predictor goes: a negative value where missing values
// go; else v as the byte C makes of it, left if the node's categories
// have it, right if its feature was fitted with it, else where missing
// values go.
func (t *tree) category(i int, v float64) int {
	c := t.cat[i]
	if v >= 0 {
		b := cByte(v)
		if c.left.has(b) {
			return t.left[i]
		}
		if c.known.has(b) {
			return t.right[i]
		}
	}
	if t.missingLeft[i] {
		return t.left[i]
	}
	return t.right[i]
}

// cByte is C's (unsigned char) of a double as x86-64 computes it: the
// value truncated to a 32-bit integer (0x80000000 when it does not fit),
// its low byte.
func cByte(v float64) uint8 {
	if v >= 1<<31 || v < -(1<<31) {
		return 0
	}
	return uint8(int32(v))
}

// at is the leaf's values for output o.
func (t *tree) at(leaf, o int) []float64 {
	k := (leaf*t.nOut + o) * t.width
	return t.value[k : k+t.width]
}

// version reads a "1.4.2" version's major and minor numbers.
func version(v string) (int, int) {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return 0, 0
	}
	major, _ := strconv.Atoi(parts[0])
	minor, _ := strconv.Atoi(strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	return major, minor
}

// treeStage makes the stage of a tree or forest model.
func treeStage(g *stage, s *state, kind, predictFn string) (*stage, error) {
	g.float32 = true
	if g.nIn <= 0 {
		return nil, fmt.Errorf("%w: %s without n_features_in_ (pickled before scikit-learn 1.0)", ErrNotInGo, g.class)
	}
	classifier := strings.HasSuffix(g.class, "Classifier")
	if s.int("n_outputs_") != 1 {
		return nil, fmt.Errorf("%w: %s with several outputs", ErrNotInGo, g.class)
	}
	var trees []*tree
	if kind == "tree" {
		t, err := readTree(s.d.get("tree_"), g.nIn)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrNotInGo, g.class, err)
		}
		trees = append(trees, t)
	} else {
		ests, ok := s.d.get("estimators_").(*list)
		if !ok || len(ests.items) == 0 {
			return nil, fmt.Errorf("%w: %s without estimators_", ErrNotInGo, g.class)
		}
		var err error
		if trees, err = estimatorTrees(g, ests); err != nil {
			return nil, err
		}
	}
	for _, t := range trees {
		if t.nOut != 1 || !classifier && t.width != 1 {
			return nil, fmt.Errorf("%w: %s with a tree of %d×%d values", ErrNotInGo, g.class, t.nOut, t.width)
		}
	}
	g.allowNaN = treeAllowsNaN(g, s, kind, trees)
	if s.err != nil {
		return nil, s.err
	}
	if !classifier {
		if predictFn != "predict" {
			return nil, fmt.Errorf("%w: %s.%s", ErrNotInGo, g.class, predictFn)
		}
		g.predict = func(x *matrix) any {
			out := make([]float64, x.rows)
			for r := range out {
				row := x.row(r)
				if len(trees) == 1 {
					out[r] = trees[0].at(trees[0].leaf(row), 0)[0]
					continue
				}
				var sum float64 // y_hat += e.predict(X), tree by tree
				for _, t := range trees {
					sum += t.at(t.leaf(row), 0)[0]
				}
				out[r] = sum / float64(len(trees))
			}
			return out
		}
		return g, nil
	}
	classes := s.classes()
	nc := s.int("n_classes_")
	if s.err != nil {
		return nil, s.err
	}
	if nc != len(classes) || nc == 0 {
		return nil, fmt.Errorf("%w: %s has %d classes_ for n_classes_ %d", ErrNotInGo, g.class, len(classes), nc)
	}
	for _, t := range trees {
		if t.width < nc {
			return nil, fmt.Errorf("%w: %s has a tree of %d classes for %d", ErrNotInGo, g.class, t.width, nc)
		}
	}
	// proba is predict_proba: each row a tree's leaf values normalized by
	// their sum; a forest's mean of its trees' rows, summed tree by tree
	// (one tree at a time over all rows: the same sums, fewer cache misses).
	proba := func(x *matrix) [][]float64 {
		acc := make([]float64, x.rows*nc)
		for _, t := range trees {
			for r := 0; r < x.rows; r++ {
				v := t.at(t.leaf(x.row(r)), 0)[:nc]
				norm := npSum(v)
				if norm == 0 {
					norm = 1
				}
				a := acc[r*nc : (r+1)*nc]
				for i, p := range v {
					a[i] += p / norm
				}
			}
		}
		if len(trees) > 1 {
			for i := range acc {
				acc[i] /= float64(len(trees))
			}
		}
		return rows(acc, nc)
	}
	var label func(*matrix) []int
	if len(trees) == 1 { // argmax of the leaf's raw values
		label = func(x *matrix) []int {
			out := make([]int, x.rows)
			for r := range out {
				out[r] = argmax(trees[0].at(trees[0].leaf(x.row(r)), 0)[:nc])
			}
			return out
		}
	}
	return classify(g, predictFn, classes, proba, label)
}

// estimatorTrees reads an ensemble's estimators_, each a decision or
// extra tree, as their trees.
func estimatorTrees(g *stage, ests *list) ([]*tree, error) {
	trees := make([]*tree, len(ests.items))
	for i, e := range ests.items {
		o, ok := e.(*object)
		var st *dict
		if ok {
			st, _ = o.state.(*dict)
		}
		if st == nil || treeModel(o.class.module+"."+o.class.name) != "tree" {
			return nil, fmt.Errorf("%w: %s's estimator %d is %s", ErrNotInGo, g.class, i, describe(e))
		}
		t, err := readTree(st.get("tree_"), g.nIn)
		if err != nil {
			return nil, fmt.Errorf("%w: %s's estimator %d: %v", ErrNotInGo, g.class, i, err)
		}
		trees[i] = t
	}
	return trees, nil
}

// treeAllowsNaN says whether the model's predict takes missing values, as
// scikit-learn's own tags say (its _support_missing_values): decision
// trees of 1.3 and later with the best splitter, random forests of 1.4
// and later, for the criteria that learn a side for them, and no
// monotonic constraints. Extra trees (which take them from 1.6) are
// refused them here.
func treeAllowsNaN(g *stage, s *state, kind string, trees []*tree) bool {
	for _, t := range trees {
		if t.missingLeft == nil {
			return false
		}
	}
	major, minor := version(s.str("_sklearn_version"))
	if s.d.get("monotonic_cst") != nil || strings.HasPrefix(g.class, "Extra") {
		return false
	}
	switch kind {
	case "tree":
		if major == 1 && minor < 3 || s.str("splitter") != "best" {
			return false
		}
	case "forest":
		if major == 1 && minor < 4 {
			return false
		}
	}
	if strings.HasSuffix(g.class, "Regressor") {
		switch s.str("criterion") {
		case "squared_error", "friedman_mse", "poisson":
		default:
			return false
		}
	}
	return major >= 1
}

// npSum is numpy's sum of a row (add.reduce): the first value, plus the
// pairwise sum of the rest, eight accumulators at a time.
func npSum(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	return v[0] + pairwise(v[1:])
}

func pairwise(a []float64) float64 {
	n := len(a)
	switch {
	case n < 8:
		res := 0.0
		for _, x := range a {
			res += x
		}
		return res
	case n <= 128:
		var r [8]float64
		copy(r[:], a[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for j := range r {
				r[j] += a[i+j]
			}
		}
		res := (r[0] + r[1] + (r[2] + r[3])) + (r[4] + r[5] + (r[6] + r[7]))
		for ; i < n; i++ {
			res += a[i]
		}
		return res
	}
	n2 := n / 2
	n2 -= n2 % 8
	return pairwise(a[:n2]) + pairwise(a[n2:])
}

// toFloat32 is an ensemble's trees' own check_array(dtype=float32) of
// what the ensemble validated as float64: finite values, maybe not
// finite as float32.
func toFloat32(x *matrix) error {
	for i, v := range x.v {
		f := float64(float32(v))
		if math.IsInf(f, 0) {
			return inputErr("Input X contains infinity or a value too large for dtype('float32').")
		}
		x.v[i] = f
	}
	return nil
}
