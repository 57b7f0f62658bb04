package onnx

import (
	"fmt"
	"maps"
	"math"
	"slices"

	gonnxpb "github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advancedclimatesystems/gonnx/ops"
	"gorgonia.org/tensor"
)

// The ai.onnx.ml operators that scikit-learn's models become in ONNX
// (skl2onnx): TreeEnsembleClassifier and TreeEnsembleRegressor (trees,
// forests, gradient boosting), LinearClassifier (logistic regression,
// linear SVMs), the SVMs of svm.go, Normalizer, Binarizer, Imputer,
// ArrayFeatureExtractor, OneHotEncoder (integer categories),
// FeatureVectorizer; each as ONNX's reference implementation defines it. Class labels must
// be integers (classlabels_int64s) or text (classlabels_strings).

func init() {
	for name, mk := range map[string]func() ops.Operator{
		"TreeEnsembleClassifier": treeEnsemble(true), "TreeEnsembleRegressor": treeEnsemble(false),
		"LinearClassifier": linearClassifier, "Normalizer": normalizer, "Binarizer": binarizer,
		"Imputer": imputer, "ArrayFeatureExtractor": arrayFeatureExtractor, "OneHotEncoder": oneHotEncoder,
		"FeatureVectorizer": featureVectorizer,
	} {
		extraOps[name] = mk
	}
}

func (a attrs) strs(name string) []string {
	at, ok := a[name]
	if !ok {
		return nil
	}
	r := make([]string, len(at.GetStrings()))
	for i, s := range at.GetStrings() {
		r[i] = string(s)
	}
	return r
}

// doubles reads a float list attribute, or its double-precision
// *_as_tensor twin (ai.onnx.ml 3) when the node has that.
func (a attrs) doubles(name string) ([]float64, error) {
	if at, ok := a[name+"_as_tensor"]; ok {
		t, err := gonnxpb.TensorFromProto(at.GetT())
		if err != nil {
			return nil, fmt.Errorf("%s_as_tensor: %v", name, err)
		}
		v, _, err := floats(t)
		return v, err
	}
	v, _ := a.fs(name)
	return v, nil
}

// classes are a classifier's labels: integers, or text.
type classes struct {
	ints []int64
	strs []string
}

func (c *classes) n() int { return max(len(c.ints), len(c.strs)) }

func (c *classes) String() string {
	if c.strs != nil {
		return fmt.Sprintf("%q", c.strs)
	}
	return fmt.Sprint(c.ints)
}

// tensor makes the labels of the rows: each the label at its index, or,
// at -1, the zero label (0, or empty text).
func (c *classes) tensor(at []int) tensor.Tensor {
	if c.strs != nil {
		out := make([]string, len(at))
		for r, i := range at {
			if i >= 0 {
				out[r] = c.strs[i]
			}
		}
		return tensor.New(tensor.WithShape(len(at)), tensor.WithBacking(out))
	}
	out := make([]int64, len(at))
	for r, i := range at {
		if i >= 0 {
			out[r] = c.ints[i]
		}
	}
	return tensor.New(tensor.WithShape(len(at)), tensor.WithBacking(out))
}

// classLabels are a classifier's labels: classlabels_int64s (or _ints),
// or classlabels_strings.
func classLabels(o *op, a attrs) (*classes, error) {
	if s := a.strs("classlabels_strings"); len(s) > 0 {
		return &classes{strs: s}, nil
	}
	at, ok := a["classlabels_int64s"]
	if !ok {
		at, ok = a["classlabels_ints"]
	}
	if !ok || len(at.GetInts()) == 0 {
		return nil, fmt.Errorf("%s: no class labels", o)
	}
	return &classes{ints: at.GetInts()}, nil
}

// postTransform applies a classifier's post_transform to a row of
// scores, in place.
func postTransform(o *op, name string) (func(row []float64), error) {
	switch name {
	case "", "NONE":
		return func([]float64) {}, nil
	case "LOGISTIC":
		return func(row []float64) {
			for i, v := range row {
				row[i] = 1 / (1 + math.Exp(-v))
			}
		}, nil
	case "SOFTMAX":
		return func(row []float64) { softmaxRow(row, false) }, nil
	case "SOFTMAX_ZERO":
		return func(row []float64) { softmaxRow(row, true) }, nil
	case "PROBIT":
		return func(row []float64) {
			for i, v := range row {
				row[i] = math.Sqrt2 * math.Erfinv(2*v-1)
			}
		}, nil
	}
	return nil, fmt.Errorf("%s: post_transform %q", o, name)
}

// softmaxRow is a row's softmax, in place; with zero (SOFTMAX_ZERO),
// values of (about) zero stay zero, and a row of them becomes halves.
func softmaxRow(row []float64, zero bool) {
	m := math.Inf(-1)
	for _, v := range row {
		m = math.Max(m, v)
	}
	s := 0.0
	for i, v := range row {
		if !zero || v > 1e-7 || v < -1e-7 {
			row[i] = math.Exp(v - m)
		} else {
			row[i] *= math.Exp(-m)
		}
		s += row[i]
	}
	for i := range row {
		if s == 0 {
			row[i] = 0.5
		} else {
			row[i] /= s
		}
	}
}

// matrix reads a [N, F] (or [F]: one row) float input.
func matrix(o *op, t tensor.Tensor) ([]float64, int, int, error) {
	x, shape, err := floats(t)
	if err != nil {
		return nil, 0, 0, err
	}
	switch len(shape) {
	case 1:
		return x, 1, shape[0], nil
	case 2:
		return x, shape[0], shape[1], nil
	}
	return nil, 0, 0, fmt.Errorf("%s: input of shape %v is not a matrix", o, shape)
}

// scoresDtype is the type of a classifier's scores: double for a double
// input, else float.
func scoresDtype(t tensor.Tensor) tensor.Dtype {
	if t.Dtype() == tensor.Float64 {
		return tensor.Float64
	}
	return tensor.Float32
}

// ensemble is a TreeEnsemble node's trees: nodes in the order given, the
// root of each tree, and what each leaf adds to which column.
type ensemble struct {
	modes            []string
	feature, yes, no []int
	values           []float64
	missingYes       []bool
	roots            []int
	leaf             map[int][]leafWeight
}

type leafWeight struct {
	column int
	weight float64
}

func readEnsemble(o *op, a attrs, prefix string) (*ensemble, error) {
	e := &ensemble{modes: a.strs("nodes_modes"), leaf: map[int][]leafWeight{}}
	tids, _ := a.ints("nodes_treeids")
	nids, _ := a.ints("nodes_nodeids")
	e.feature, _ = a.ints("nodes_featureids")
	yes, _ := a.ints("nodes_truenodeids")
	no, _ := a.ints("nodes_falsenodeids")
	miss, _ := a.ints("nodes_missing_value_tracks_true")
	var err error
	if e.values, err = a.doubles("nodes_values"); err != nil {
		return nil, fmt.Errorf("%s: %v", o, err)
	}
	n := len(tids)
	if n == 0 || len(nids) != n || len(e.modes) != n || len(e.feature) != n || len(yes) != n || len(no) != n || len(e.values) != n || (miss != nil && len(miss) != n) {
		return nil, fmt.Errorf("%s: the nodes' attributes are of different lengths", o)
	}
	type key struct{ tree, node int }
	index := map[key]int{}
	first := map[int]int{} // each tree's root: its first node
	for i := range tids {
		k := key{tids[i], nids[i]}
		if _, dup := index[k]; dup {
			return nil, fmt.Errorf("%s: node %d of tree %d twice", o, nids[i], tids[i])
		}
		index[k] = i
		if _, seen := first[tids[i]]; !seen {
			first[tids[i]] = i
		}
		if e.feature[i] < 0 {
			return nil, fmt.Errorf("%s: node %d reads feature %d", o, nids[i], e.feature[i])
		}
	}
	for _, t := range slices.Sorted(maps.Keys(first)) {
		e.roots = append(e.roots, first[t])
	}
	e.yes, e.no, e.missingYes = make([]int, n), make([]int, n), make([]bool, n)
	for i := range tids {
		e.missingYes[i] = miss != nil && miss[i] != 0
		if e.modes[i] == "LEAF" {
			continue
		}
		var ok1, ok2 bool
		e.yes[i], ok1 = index[key{tids[i], yes[i]}]
		e.no[i], ok2 = index[key{tids[i], no[i]}]
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%s: node %d of tree %d leads to a node the tree lacks", o, nids[i], tids[i])
		}
	}
	ltids, _ := a.ints(prefix + "_treeids")
	lnids, _ := a.ints(prefix + "_nodeids")
	lids, _ := a.ints(prefix + "_ids")
	weights, err := a.doubles(prefix + "_weights")
	if err != nil {
		return nil, fmt.Errorf("%s: %v", o, err)
	}
	if len(lnids) != len(ltids) || len(lids) != len(ltids) || len(weights) != len(ltids) {
		return nil, fmt.Errorf("%s: the %s attributes are of different lengths", o, prefix)
	}
	for j := range ltids {
		i, ok := index[key{ltids[j], lnids[j]}]
		if !ok || lids[j] < 0 {
			return nil, fmt.Errorf("%s: a weight for node %d of tree %d, which it lacks", o, lnids[j], ltids[j])
		}
		e.leaf[i] = append(e.leaf[i], leafWeight{lids[j], weights[j]})
	}
	// Each walk must end: a tree whose branches lead back up is refused.
	for _, r := range e.roots {
		seen := map[int]bool{}
		var walk func(i int) error
		walk = func(i int) error {
			if seen[i] {
				return fmt.Errorf("%s: tree %d has a cycle", o, tids[r])
			}
			seen[i] = true
			if e.modes[i] == "LEAF" {
				return nil
			}
			if err := walk(e.yes[i]); err != nil {
				return err
			}
			return walk(e.no[i])
		}
		if err := walk(r); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// leafOf walks tree root for a row to its leaf.
func (e *ensemble) leafOf(o *op, root int, row []float64) (int, error) {
	i := root
	for e.modes[i] != "LEAF" {
		f := e.feature[i]
		if f >= len(row) {
			return 0, fmt.Errorf("%s: a node reads feature %d of %d", o, f, len(row))
		}
		x, th := row[f], e.values[i]
		var yes bool
		if math.IsNaN(x) {
			yes = e.missingYes[i]
		} else {
			switch e.modes[i] {
			case "BRANCH_LEQ":
				yes = x <= th
			case "BRANCH_LT":
				yes = x < th
			case "BRANCH_GTE":
				yes = x >= th
			case "BRANCH_GT":
				yes = x > th
			case "BRANCH_EQ":
				yes = x == th
			case "BRANCH_NEQ":
				yes = x != th
			default:
				return 0, fmt.Errorf("%s: node mode %q", o, e.modes[i])
			}
		}
		if yes {
			i = e.yes[i]
		} else {
			i = e.no[i]
		}
	}
	return i, nil
}

// treeEnsemble is TreeEnsembleClassifier (labels and scores) or
// TreeEnsembleRegressor (predictions).
func treeEnsemble(classifier bool) func() ops.Operator {
	name, prefix := "TreeEnsembleRegressor", "target"
	if classifier {
		name, prefix = "TreeEnsembleClassifier", "class"
	}
	return func() ops.Operator {
		return &op{name: name, min: 1, max: 1, numeric: []int{0}, init: func(o *op, a attrs) error {
			e, err := readEnsemble(o, a, prefix)
			if err != nil {
				return err
			}
			post, err := postTransform(o, str(a, "post_transform", "NONE"))
			if err != nil {
				return err
			}
			base, err := a.doubles("base_values")
			if err != nil {
				return fmt.Errorf("%s: %v", o, err)
			}
			var labels *classes
			columns := int(a.i("n_targets", 1))
			if classifier {
				if labels, err = classLabels(o, a); err != nil {
					return err
				}
				columns = labels.n()
				if columns == 1 && (labels.strs != nil || labels.ints[0] != 1) {
					return fmt.Errorf("%s: one class label, %v: ONNX's reference runs only [1]", o, labels)
				}
			} else if p := str(a, "post_transform", "NONE"); p != "NONE" {
				return fmt.Errorf("%s: post_transform %q", o, p)
			}
			ids := map[int]bool{}
			for _, ws := range e.leaf {
				for _, w := range ws {
					if w.column >= columns {
						return fmt.Errorf("%s: a weight for column %d of %d", o, w.column, columns)
					}
					ids[w.column] = true
				}
			}
			// As ONNX's reference: a classifier whose weights all go to one
			// class is binary.
			binary := classifier && len(ids) == 1
			if len(base) == 1 && columns > 1 {
				// One base value for every column, as numpy broadcasts it.
				base = slices.Repeat(base, columns)
			}
			if base != nil && len(base) != columns {
				return fmt.Errorf("%s: %d base values for %d columns", o, len(base), columns)
			}
			agg := str(a, "aggregate_function", "SUM")
			if agg != "SUM" && agg != "AVERAGE" && agg != "MIN" && agg != "MAX" {
				return fmt.Errorf("%s: aggregate_function %q", o, agg)
			}
			o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
				x, n, width, err := matrix(o, in[0])
				if err != nil {
					return nil, err
				}
				cols := columns
				if binary && cols == 1 {
					cols = 2
				}
				res := make([]float64, n*cols)
				out := make([]int, n)
				for r := 0; r < n; r++ {
					row, score := x[r*width:(r+1)*width], res[r*cols:(r+1)*cols]
					if !classifier && (agg == "MIN" || agg == "MAX") {
						for j := range score {
							score[j] = map[string]float64{"MIN": math.MaxFloat32, "MAX": -math.MaxFloat32}[agg]
						}
					} else if classifier && base != nil {
						copy(score, base)
					}
					for _, root := range e.roots {
						leaf, err := e.leafOf(o, root, row)
						if err != nil {
							return nil, err
						}
						for _, w := range e.leaf[leaf] {
							switch agg {
							case "MIN":
								score[w.column] = math.Min(score[w.column], w.weight)
							case "MAX":
								score[w.column] = math.Max(score[w.column], w.weight)
							default:
								score[w.column] += w.weight
							}
						}
					}
					if !classifier {
						for j := range score {
							if agg == "AVERAGE" {
								score[j] /= float64(len(e.roots))
							}
							if base != nil {
								score[j] += base[j]
							}
						}
						continue
					}
					if binary {
						// One score, the second class's: the first is its
						// complement (or, for a transform, its negation).
						score[1] = score[0]
						if p := str(a, "post_transform", "NONE"); p == "NONE" || p == "PROBIT" {
							score[0] = 1 - score[1]
						} else {
							score[0] = -score[1]
						}
					}
					post(score)
					best := 0
					for j, v := range score {
						if v > score[best] {
							best = j
						}
					}
					out[r] = best
					if labels.n() == 1 && best == 0 {
						out[r] = -1 // the label [1]: 1 for the second column, else 0
					} else if labels.n() == 1 {
						out[r] = 0
					}
				}
				scores := newTensor(scoresDtype(in[0]), []int{n, cols}, res)
				if !classifier {
					return []tensor.Tensor{scores}, nil
				}
				return []tensor.Tensor{labels.tensor(out), scores}, nil
			}
			return nil
		}}
	}
}

// linearClassifier is LinearClassifier: scores x·coefficientsᵀ +
// intercepts (one score for two classes: the second's, the first's its
// negation), transformed; the label of the largest score, or with one
// score, the first label where it reaches the threshold.
func linearClassifier() ops.Operator {
	return &op{name: "LinearClassifier", min: 1, max: 1, numeric: []int{0}, init: func(o *op, a attrs) error {
		labels, err := classLabels(o, a)
		if err != nil {
			return err
		}
		coef, _ := a.fs("coefficients")
		icpt, _ := a.fs("intercepts")
		pt := str(a, "post_transform", "NONE")
		post, err := postTransform(o, pt)
		if err != nil {
			return err
		}
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			x, n, width, err := matrix(o, in[0])
			if err != nil {
				return nil, err
			}
			if width == 0 || len(coef)%width != 0 || len(coef) == 0 {
				return nil, fmt.Errorf("%s: %d coefficients for %d features", o, len(coef), width)
			}
			k := len(coef) / width
			if icpt != nil && len(icpt) != k {
				return nil, fmt.Errorf("%s: %d intercepts for %d classes", o, len(icpt), k)
			}
			cols := k
			if k == 1 && labels.n() == 2 {
				cols = 2
			}
			res := make([]float64, n*cols)
			out := make([]int, n)
			for r := 0; r < n; r++ {
				row, score := x[r*width:(r+1)*width], res[r*cols:(r+1)*cols]
				for c := 0; c < k; c++ {
					s := 0.0
					for f, v := range row {
						s += v * coef[c*width+f]
					}
					if icpt != nil {
						s += icpt[c]
					}
					score[c] = s
				}
				if cols == 2 && k == 1 {
					score[1], score[0] = score[0], -score[0]
				}
				post(score)
				if cols > 1 {
					best := 0
					for j, v := range score {
						if v > score[best] {
							best = j
						}
					}
					if best >= labels.n() {
						return nil, fmt.Errorf("%s: %d scores for %d labels", o, cols, labels.n())
					}
					out[r] = best
					continue
				}
				threshold := 0.5
				if pt == "NONE" {
					threshold = 0
				}
				out[r] = -1 // the zero label below the threshold
				if score[0] >= threshold {
					out[r] = 0
				}
			}
			return []tensor.Tensor{labels.tensor(out), newTensor(scoresDtype(in[0]), []int{n, cols}, res)}, nil
		}
		return nil
	}}
}

// normalizer scales each row (after dividing by its largest absolute
// value) to a maximum, L1 or L2 norm of 1; a row of zeros stays zeros.
func normalizer() ops.Operator {
	return &op{name: "Normalizer", min: 1, max: 1, numeric: []int{0}, init: func(o *op, a attrs) error {
		norm := str(a, "norm", "MAX")
		if norm != "MAX" && norm != "L1" && norm != "L2" {
			return fmt.Errorf("%s: norm %q", o, norm)
		}
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			x, n, width, err := matrix(o, in[0])
			if err != nil {
				return nil, err
			}
			for r := 0; r < n; r++ {
				row := x[r*width : (r+1)*width]
				div := func(d float64) {
					if d != 0 {
						for j := range row {
							row[j] /= d
						}
					}
				}
				m := 0.0
				for _, v := range row {
					m = math.Max(m, math.Abs(v))
				}
				div(m)
				s := 0.0
				for _, v := range row {
					if norm == "L1" {
						s += math.Abs(v)
					} else {
						s += v * v
					}
				}
				switch norm {
				case "L1":
					div(s)
				case "L2":
					div(math.Sqrt(s))
				}
			}
			return []tensor.Tensor{newTensor(tensor.Float32, shapeOf(in[0]), x)}, nil
		}
		return a.only(o, "norm")
	}}
}

// binarizer is 1 where a value is above the threshold, else 0.
func binarizer() ops.Operator {
	return &op{name: "Binarizer", min: 1, max: 1, numeric: []int{0}, init: func(o *op, a attrs) error {
		th := a.f("threshold", 0)
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			x, shape, err := floats(in[0])
			if err != nil {
				return nil, err
			}
			for i, v := range x {
				if v > th {
					x[i] = 1
				} else {
					x[i] = 0
				}
			}
			return []tensor.Tensor{newTensor(in[0].Dtype(), shape, x)}, nil
		}
		return a.only(o, "threshold")
	}}
}

// imputer replaces, column by column, the missing value (NaN, or
// replaced_value_float) by that column's imputed value (or the one
// value for every column).
func imputer() ops.Operator {
	return &op{name: "Imputer", min: 1, max: 1, numeric: []int{0}, init: func(o *op, a attrs) error {
		values, _ := a.fs("imputed_value_floats")
		replace := a.f("replaced_value_float", 0)
		if iv, ok := a.ints("imputed_value_int64s"); ok && len(values) == 0 {
			for _, v := range iv {
				values = append(values, float64(v))
			}
			replace = float64(a.i("replaced_value_int64", 0))
		}
		if len(values) == 0 {
			return fmt.Errorf("%s: no imputed values", o)
		}
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			x, shape, err := floats(in[0])
			if err != nil {
				return nil, err
			}
			if len(shape) != 2 || (len(values) != 1 && len(values) != shape[1]) {
				return nil, fmt.Errorf("%s: %d imputed values for an input of shape %v", o, len(values), shape)
			}
			for i, v := range x {
				if v == replace || math.IsNaN(replace) && math.IsNaN(v) {
					x[i] = values[min(i%shape[1], len(values)-1)]
				}
			}
			return []tensor.Tensor{newTensor(in[0].Dtype(), shape, x)}, nil
		}
		return a.only(o, "imputed_value_floats", "imputed_value_int64s", "replaced_value_float", "replaced_value_int64")
	}}
}

// arrayFeatureExtractor picks, along the last axis, the columns the
// indices name (a vector input as one row).
func arrayFeatureExtractor() ops.Operator {
	return &op{name: "ArrayFeatureExtractor", min: 2, max: 2, init: func(o *op, a attrs) error {
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			shape := shapeOf(in[0])
			idx, err := intsOf(o, in[1], "indices")
			if err != nil {
				return nil, err
			}
			if len(shape) == 0 {
				return nil, fmt.Errorf("%s: a scalar input", o)
			}
			last := shape[len(shape)-1]
			out := append(shapeOf(in[0])[:len(shape)-1], len(idx))
			if len(shape) == 1 {
				out = []int{1, len(idx)}
			}
			var src []int
			for p := 0; p < count(shape[:len(shape)-1]); p++ {
				for _, k := range idx {
					if k < 0 || k >= last {
						return nil, fmt.Errorf("%s: index %d of %d columns", o, k, last)
					}
					src = append(src, p*last+k)
				}
			}
			t, err := take(in[0], src, out)
			return []tensor.Tensor{t}, err
		}
		return a.only(o)
	}}
}

// oneHotEncoder is ai.onnx.ml's OneHotEncoder: a new last axis of the
// categories, 1 where a value is the category; a value of none is all
// zeros, or, without zeros, an error.
func oneHotEncoder() ops.Operator {
	return &op{name: "OneHotEncoder", min: 1, max: 1, numeric: []int{0}, init: func(o *op, a attrs) error {
		cats, ok := a.ints("cats_int64s")
		if !ok || len(cats) == 0 {
			if len(a.strs("cats_strings")) > 0 {
				return fmt.Errorf("%s: text categories (cats_strings) need text inputs, which mlrun's Go ONNX runtime does not take", o)
			}
			return fmt.Errorf("%s: no categories", o)
		}
		index := map[float64]int{}
		for i, c := range cats {
			if _, dup := index[float64(c)]; !dup {
				index[float64(c)] = i
			}
		}
		zeros := a.i("zeros", 1) != 0
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			x, shape, err := floats(in[0])
			if err != nil {
				return nil, err
			}
			if len(shape) < 1 || len(shape) > 2 {
				return nil, fmt.Errorf("%s: input of shape %v", o, shape)
			}
			y := make([]float64, len(x)*len(cats))
			for i, v := range x {
				j, ok := index[v]
				if !ok {
					if !zeros {
						return nil, fmt.Errorf("%s: %v is none of the categories %v", o, v, cats)
					}
					continue
				}
				y[i*len(cats)+j] = 1
			}
			return []tensor.Tensor{newTensor(tensor.Float32, append(shape, len(cats)), y)}, nil
		}
		return a.only(o, "cats_int64s", "cats_strings", "zeros")
	}}
}

// featureVectorizer joins its inputs' columns, each cut or padded with
// zeros to its inputdimensions (a vector is one column).
func featureVectorizer() ops.Operator {
	return &op{name: "FeatureVectorizer", min: 1, max: math.MaxInt32, numeric: []int{0}, init: func(o *op, a attrs) error {
		dims, _ := a.ints("inputdimensions")
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			if len(dims) != len(in) {
				return nil, fmt.Errorf("%s: %d inputdimensions for %d inputs", o, len(dims), len(in))
			}
			n, width := -1, 0
			cols := make([][]float64, len(in))
			widths := make([]int, len(in))
			for k, t := range in {
				if t == nil || dims[k] < 0 {
					return nil, fmt.Errorf("%s: input %d is missing or of a negative dimension", o, k)
				}
				x, shape, err := floats(t)
				if err != nil {
					return nil, err
				}
				rows, w := 0, 1
				switch len(shape) {
				case 1:
					rows = shape[0]
				case 2:
					rows, w = shape[0], shape[1]
				default:
					return nil, fmt.Errorf("%s: input %d of shape %v", o, k, shape)
				}
				if n >= 0 && rows != n {
					return nil, fmt.Errorf("%s: inputs of %d and %d rows", o, n, rows)
				}
				n, cols[k], widths[k] = rows, x, w
				width += dims[k]
			}
			y := make([]float64, 0, n*width)
			for r := 0; r < n; r++ {
				for k, x := range cols {
					for j := 0; j < dims[k]; j++ {
						v := 0.0
						if j < widths[k] {
							v = x[r*widths[k]+j]
						}
						y = append(y, v)
					}
				}
			}
			return []tensor.Tensor{newTensor(in[0].Dtype(), []int{n, width}, y)}, nil
		}
		return a.only(o, "inputdimensions")
	}}
}
