package sklearn

import (
	"fmt"
	"math"
)

// Histogram gradient boosting (HistGradientBoostingRegressor and
// Classifier), as scikit-learn predicts it: the baseline, then every
// iteration's trees added, each walked on the input as float64 — a
// missing value going the side its node learned, a categorical feature
// (given as its integer code) left when its node's bitset has it — and
// the sum read through the loss's link.

// readHGBTree reads a fitted TreePredictor's nodes as a tree (a leaf's
// left child -1, its value the node's). A categorical split takes its
// bitset of categories going left from the predictor's
// raw_left_cat_bitsets and, from known, those of its feature fitted.
func readHGBTree(v any, nIn int, known map[int]*bitset) (*tree, error) {
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
	var lefts []bitset
	for i := range n {
		if leaf[i] {
			t.left[i] = -1
			continue
		}
		if t.left[i] <= i || t.left[i] >= n || t.right[i] <= i || t.right[i] >= n || t.feature[i] < 0 || t.feature[i] >= nIn {
			return nil, fmt.Errorf("a bad node %d", i)
		}
		if !categorical[i] {
			continue
		}
		if lefts == nil {
			if lefts = s.bitsets("raw_left_cat_bitsets"); s.err != nil {
				return nil, s.err
			}
			t.cat = make([]*catSplit, n)
		}
		idx := f.ints("bitset_idx")
		if s.err != nil {
			return nil, s.err
		}
		kn := known[t.feature[i]]
		if idx[i] < 0 || idx[i] >= len(lefts) || kn == nil {
			return nil, fmt.Errorf("a categorical split (node %d) without its categories", i)
		}
		t.cat[i] = &catSplit{left: &lefts[idx[i]], known: kn}
	}
	return t, nil
}

// bitset is scikit-learn's set of byte values (0–255), 32 a word.
type bitset [8]uint32

func (b *bitset) has(v uint8) bool { return b[v/32]>>(v%32)&1 == 1 }

// catSplit is a categorical node: the categories going left, and those
// its feature was fitted with (the rest go where missing values go).
type catSplit struct{ left, known *bitset }

// bitsets reads an array of bitsets (n × 8 words).
func (s *state) bitsets(k string) []bitset {
	a := s.array(k)
	words := s.floats(k)
	if s.err != nil {
		return nil
	}
	if len(a.shape) != 2 || a.shape[1] != 8 {
		s.fail("%s has the shape %v, not n × 8", k, a.shape)
		return nil
	}
	out := make([]bitset, a.shape[0])
	for i := range out {
		for w := range 8 {
			out[i][w] = uint32(words[i*8+w])
		}
	}
	return out
}

// knownCategories is _BinMapper.make_known_categories_bitsets: for each
// categorical feature, the set of the categories it was fitted with.
func knownCategories(g *stage, s *state) (map[int]*bitset, error) {
	c := s.d.get("is_categorical_")
	if c == nil {
		return nil, nil
	}
	a, err := readArray(c)
	if err != nil {
		return nil, fmt.Errorf("%w: %s's is_categorical_: %v", ErrNotInGo, g.class, err)
	}
	flags, _ := a.floats()
	var known map[int]*bitset
	for f, flag := range flags {
		if flag == 0 {
			continue
		}
		if known == nil {
			known = map[int]*bitset{}
		}
		known[f] = nil
	}
	if known == nil {
		return nil, nil
	}
	bm, _ := s.d.get("_bin_mapper").(*object)
	var st *dict
	if bm != nil {
		st, _ = bm.state.(*dict)
	}
	th, _ := st.get("bin_thresholds_").(*list)
	if st == nil || th == nil || len(th.items) != len(flags) {
		return nil, fmt.Errorf("%w: %s's categories (its _bin_mapper's bin_thresholds_)", ErrNotInGo, g.class)
	}
	for f := range known {
		a, err := readArray(th.items[f])
		if err != nil {
			return nil, fmt.Errorf("%w: %s's categories of feature %d: %v", ErrNotInGo, g.class, f, err)
		}
		cats, err := a.floats()
		if err != nil {
			return nil, fmt.Errorf("%w: %s's categories of feature %d: %v", ErrNotInGo, g.class, f, err)
		}
		b := &bitset{}
		for _, v := range cats {
			if v < 0 || v > 255 || v != math.Trunc(v) {
				return nil, fmt.Errorf("%w: %s's feature %d has the category %v", ErrNotInGo, g.class, f, v)
			}
			b[int(v)/32] |= 1 << (int(v) % 32)
		}
		known[f] = b
	}
	return known, nil
}

func histGradientBoosting(g *stage, s *state, predictFn string) (*stage, error) {
	g.allowNaN, g.allowInf = true, true // force_all_finite=False
	if g.nIn <= 0 {
		return nil, fmt.Errorf("%w: %s without n_features_in_", ErrNotInGo, g.class)
	}
	known, err := knownCategories(g, s)
	if err != nil {
		return nil, err
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
			t, err := readHGBTree(p, g.nIn, known)
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
