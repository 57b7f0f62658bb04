package xgboost

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/mlrun/mlrun/plugins/flavor"
)

// Model is an XGBoost booster (gbtree or dart, from JSON or UBJSON)
// ready to predict in Go, as XGBoost's CPU predictor does: features and
// leaf values in float32, trees summed per output group in float32, then
// the objective's transform.
type Model struct {
	Objective  string
	NumFeature int
	// FeatureNames are the booster's feature names, when it has them.
	FeatureNames []string
	groups       int       // output groups: num_class, or 1
	base         []float32 // the base margin of each group
	trees        []tree
	group        []int     // the output group of each tree
	weight       []float32 // dart's per-tree weights; nil for gbtree
}

// tree is one regression tree in XGBoost's node arrays: node i is a leaf
// when left[i] is -1, with value cond[i]; else it sends x to left[i]
// when x[feat[i]] < cond[i], to the default side when x is missing (NaN).
type tree struct {
	left, right []int32
	feat        []int32
	cond        []float32
	defLeft     []bool
}

// objectives maps the objectives mlrun predicts to how a margin becomes a
// prediction and how base_score (stored as a prediction) becomes a
// margin.
var objectives = map[string]struct {
	transform string // identity, sigmoid, exp, softprob, softmax, hinge
	base      string // identity, logit, log
}{
	"reg:squarederror":     {"identity", "identity"},
	"reg:linear":           {"identity", "identity"},
	"reg:squaredlogerror":  {"identity", "identity"},
	"reg:pseudohubererror": {"identity", "identity"},
	"reg:absoluteerror":    {"identity", "identity"},
	"reg:logistic":         {"sigmoid", "logit"},
	"binary:logistic":      {"sigmoid", "logit"},
	"binary:logitraw":      {"identity", "logit"},
	"binary:hinge":         {"hinge", "identity"},
	"count:poisson":        {"exp", "log"},
	"reg:gamma":            {"exp", "log"},
	"reg:tweedie":          {"exp", "log"},
	"multi:softprob":       {"softprob", "identity"},
	"multi:softmax":        {"softmax", "identity"},
	"rank:pairwise":        {"identity", "identity"},
	"rank:ndcg":            {"identity", "identity"},
	"rank:map":             {"identity", "identity"},
}

// Load reads a booster in XGBoost's JSON or UBJSON format for
// prediction. Legacy binary files, gblinear boosters, categorical splits,
// vector leaves and objectives outside the list above are refused, each
// with a message naming what is not supported.
func Load(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", flavor.ErrNotFound, path)
	}
	if err != nil {
		return nil, flavor.Invalid("%s: %v", path, err)
	}
	var doc any
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	switch {
	case len(trimmed) > 1 && trimmed[0] == '{' && bytes.HasPrefix(bytes.TrimLeft(trimmed[1:], " \t\r\n"), []byte(`"`)):
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber() // split values parse straight to float32
		if err := dec.Decode(&doc); err != nil {
			return nil, flavor.Invalid("%s is not valid XGBoost JSON: %v", path, err)
		}
	case len(trimmed) > 0 && data[0] == '{':
		if doc, err = decodeUBJSON(data); err != nil {
			return nil, flavor.Invalid("%s is not valid XGBoost UBJSON: %v", path, err)
		}
	default:
		return nil, flavor.Invalid("%s is in XGBoost's legacy binary format, which mlrun cannot predict with yet: save it as JSON or UBJSON (booster.save_model(\"model.json\"))", path)
	}
	m, err := modelFromDoc(doc)
	if err != nil {
		return nil, flavor.Invalid("%s: %v", path, err)
	}
	return m, nil
}

func modelFromDoc(doc any) (*Model, error) {
	learner := field(doc, "learner")
	if learner == nil {
		return nil, errors.New("not an XGBoost model (no 'learner')")
	}
	m := &Model{}
	m.Objective, _ = field(learner, "objective", "name").(string)
	obj, ok := objectives[m.Objective]
	if !ok {
		return nil, fmt.Errorf("objective %q is not one mlrun predicts with", m.Objective)
	}
	nf, _ := num(field(learner, "learner_model_param", "num_feature"))
	nc, _ := num(field(learner, "learner_model_param", "num_class"))
	m.NumFeature, m.groups = int(nf), max(int(nc), 1)
	if names, ok := field(learner, "feature_names").([]any); ok {
		for _, n := range names {
			s, _ := n.(string)
			m.FeatureNames = append(m.FeatureNames, s)
		}
	}
	base, err := baseScores(field(learner, "learner_model_param", "base_score"))
	if err != nil {
		return nil, err
	}
	m.base = make([]float32, m.groups)
	for g := range m.base {
		b := base[min(g, len(base)-1)]
		switch obj.base {
		case "logit":
			b = float32(-math.Log(1/float64(b) - 1))
		case "log":
			b = float32(math.Log(float64(b)))
		}
		m.base[g] = b
	}
	booster, _ := field(learner, "gradient_booster", "name").(string)
	model := field(learner, "gradient_booster", "model")
	switch booster {
	case "gbtree":
	case "dart":
		model = field(learner, "gradient_booster", "gbtree", "model")
		for _, w := range asSlice(field(learner, "gradient_booster", "weight_drop")) {
			f, err := float(w)
			if err != nil {
				return nil, fmt.Errorf("dart weight_drop: %v", err)
			}
			m.weight = append(m.weight, f)
		}
	default:
		return nil, fmt.Errorf("booster %q is not one mlrun predicts with (gbtree and dart are)", booster)
	}
	trees := asSlice(field(model, "trees"))
	info := asSlice(field(model, "tree_info"))
	if len(info) != len(trees) || (m.weight != nil && len(m.weight) != len(trees)) {
		return nil, fmt.Errorf("%d trees but %d tree_info and %d weights", len(trees), len(info), len(m.weight))
	}
	for i, t := range trees {
		g, _ := num(info[i])
		if g < 0 || int(g) >= m.groups {
			return nil, fmt.Errorf("tree %d is for output group %d of %d", i, g, m.groups)
		}
		tr, err := treeFromDoc(t, m.NumFeature)
		if err != nil {
			return nil, fmt.Errorf("tree %d: %v", i, err)
		}
		m.trees = append(m.trees, tr)
		m.group = append(m.group, int(g))
	}
	return m, nil
}

// baseScores reads base_score: "5E-1", or (XGBoost 3) "[5E-1,5E-1]".
func baseScores(v any) ([]float32, error) {
	s, ok := v.(string)
	if !ok {
		return nil, errors.New("no base_score")
	}
	var out []float32
	for _, p := range strings.Split(strings.Trim(s, "[] "), ",") {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 32)
		if err != nil {
			return nil, fmt.Errorf("base_score %q: %v", s, err)
		}
		out = append(out, float32(f))
	}
	return out, nil
}

func treeFromDoc(t any, numFeature int) (tree, error) {
	var tr tree
	if cats := asSlice(field(t, "categories_nodes")); len(cats) > 0 {
		return tr, errors.New("categorical splits are not supported")
	}
	if n, _ := num(field(t, "tree_param", "size_leaf_vector")); n > 1 {
		return tr, errors.New("vector leaves (multi-output trees) are not supported")
	}
	left, right := asSlice(field(t, "left_children")), asSlice(field(t, "right_children"))
	feat, cond, defl := asSlice(field(t, "split_indices")), asSlice(field(t, "split_conditions")), asSlice(field(t, "default_left"))
	n := len(left)
	if n == 0 || len(right) != n || len(feat) != n || len(cond) != n || len(defl) != n {
		return tr, errors.New("node arrays of different lengths")
	}
	tr = tree{left: make([]int32, n), right: make([]int32, n), feat: make([]int32, n), cond: make([]float32, n), defLeft: make([]bool, n)}
	for i := 0; i < n; i++ {
		l, _ := num(left[i])
		r, _ := num(right[i])
		f, _ := num(feat[i])
		c, err := float(cond[i])
		if err != nil {
			return tr, err
		}
		d, _ := num(defl[i])
		if l != -1 && (l <= int64(i) || l >= int64(n) || r <= int64(i) || r >= int64(n) || f < 0 || f >= int64(max(numFeature, 1))) {
			return tr, fmt.Errorf("node %d: children %d, %d or feature %d out of range", i, l, r, f)
		}
		tr.left[i], tr.right[i], tr.feat[i], tr.cond[i], tr.defLeft[i] = int32(l), int32(r), int32(f), c, d != 0
	}
	return tr, nil
}

// asSlice returns an array of a decoded document: JSON's []any, or one of
// UBJSON's typed arrays.
func asSlice(v any) []any {
	switch a := v.(type) {
	case []any:
		return a
	case []float32:
		out := make([]any, len(a))
		for i, x := range a {
			out[i] = x
		}
		return out
	case []int32:
		out := make([]any, len(a))
		for i, x := range a {
			out[i] = int64(x)
		}
		return out
	case []int64:
		out := make([]any, len(a))
		for i, x := range a {
			out[i] = x
		}
		return out
	case []uint8:
		out := make([]any, len(a))
		for i, x := range a {
			out[i] = int64(x)
		}
		return out
	}
	return nil
}

// float reads a number of a decoded document as float32: a JSON number
// parsed straight to float32, or UBJSON's float32.
func float(v any) (float32, error) {
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 32)
		return float32(f), err
	case float32:
		return x, nil
	case float64:
		return float32(x), nil
	}
	if n, ok := num(v); ok {
		return float32(n), nil
	}
	return 0, fmt.Errorf("%v is not a number", v)
}

// Outputs is how many values Predict gives per row: num_class for
// multi:softprob, else 1.
func (m *Model) Outputs() int {
	if m.Objective == "multi:softprob" {
		return m.groups
	}
	return 1
}

// Predict predicts rows of NumFeature float32 features each (x holds
// them row after row; NaN is a missing value) into out, Outputs() values
// per row.
func (m *Model) Predict(x []float32, out []float32) {
	nf := max(m.NumFeature, 1)
	rows := len(x) / nf
	margin := make([]float32, m.groups)
	for r := 0; r < rows; r++ {
		row := x[r*nf : (r+1)*nf]
		copy(margin, m.base)
		for i := range m.trees {
			v := m.trees[i].leaf(row)
			if m.weight != nil {
				v *= m.weight[i]
			}
			margin[m.group[i]] += v
		}
		m.transform(margin, out[r*m.Outputs():(r+1)*m.Outputs()])
	}
}

func (t *tree) leaf(row []float32) float32 {
	i := int32(0)
	for t.left[i] != -1 {
		v := row[t.feat[i]]
		switch {
		case v != v: // NaN: missing
			if t.defLeft[i] {
				i = t.left[i]
			} else {
				i = t.right[i]
			}
		case v < t.cond[i]:
			i = t.left[i]
		default:
			i = t.right[i]
		}
	}
	return t.cond[i]
}

func (m *Model) transform(margin, out []float32) {
	switch objectives[m.Objective].transform {
	case "sigmoid":
		out[0] = float32(1 / (1 + math.Exp(-float64(margin[0]))))
	case "exp":
		out[0] = float32(math.Exp(float64(margin[0])))
	case "hinge":
		out[0] = 0
		if margin[0] > 0 {
			out[0] = 1
		}
	case "softprob":
		// XGBoost's Softmax: subtract the maximum, exp, divide by the sum.
		mx := margin[0]
		for _, v := range margin[1:] {
			mx = max(mx, v)
		}
		var sum float32
		for i, v := range margin {
			out[i] = float32(math.Exp(float64(v - mx)))
			sum += out[i]
		}
		for i := range out {
			out[i] /= sum
		}
	case "softmax":
		best := 0
		for i, v := range margin {
			if v > margin[best] {
				best = i
			}
		}
		out[0] = float32(best)
	default:
		out[0] = margin[0]
	}
}
