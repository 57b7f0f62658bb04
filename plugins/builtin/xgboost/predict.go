package xgboost

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/mlrun/mlrun/plugins/flavor"
)

// Model is an XGBoost booster (gbtree or dart, from JSON, UBJSON or the
// legacy binary format)
// ready to predict in Go, as XGBoost's CPU predictor does: features and
// leaf values in float32, trees summed per output group in float32, then
// the objective's transform.
type Model struct {
	Objective  string
	NumFeature int
	// FeatureNames are the booster's feature names, when it has them.
	FeatureNames []string
	// Attributes are the booster's attributes (Booster.attributes()):
	// best_iteration after early stopping, and scikit_learn, what
	// XGBoost's scikit-learn wrapper saved of itself.
	Attributes map[string]string
	groups     int       // output groups: num_class, or 1
	base       []float32 // the base margin of each group
	trees      []tree
	group      []int     // the output group of each tree
	weight     []float32 // dart's per-tree weights; nil for gbtree
	// rounds[i] is the first tree of boosting round i; rounds[len-1] is
	// len(trees). A round holds num_parallel_tree trees per output group.
	rounds []int
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
	"binary:logitraw":      {"identity", "identity"}, // XGBoost: LogisticRaw::ProbToMargin(b) is b
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

// Load reads a booster in XGBoost's JSON, UBJSON or legacy binary format
// for prediction. gblinear boosters, categorical splits, vector leaves and
// objectives outside the list above are refused, each with a message
// naming what is not supported.
func Load(path string) (*Model, error) {
	data, format, err := readFile(path)
	if err != nil {
		return nil, err
	}
	var doc any
	switch format {
	case "json":
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber() // split values parse straight to float32
		if err := dec.Decode(&doc); err != nil {
			return nil, flavor.Invalid("%s is not valid XGBoost JSON: %v", path, err)
		}
	case "ubj":
		if doc, err = decodeUBJSON(data); err != nil {
			return nil, flavor.Invalid("%s is not valid XGBoost UBJSON: %v", path, err)
		}
	default:
		m, err := modelFromLegacy(data)
		if err != nil {
			return nil, flavor.Invalid("%s: XGBoost's legacy binary format: %v", path, err)
		}
		return m, nil
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
		m.base[g] = baseMargin(base[min(g, len(base)-1)], obj.base)
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
	if attrs, ok := field(learner, "attributes").(map[string]any); ok {
		m.Attributes = map[string]string{}
		for k, v := range attrs {
			if s, ok := v.(string); ok {
				m.Attributes[k] = s
			}
		}
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
	if ptr := asSlice(field(model, "iteration_indptr")); len(ptr) > 0 {
		// XGBoost 2 and later write where each round's trees start.
		for _, v := range ptr {
			n, _ := num(v)
			if n < 0 || int(n) > len(m.trees) || (len(m.rounds) > 0 && int(n) < m.rounds[len(m.rounds)-1]) {
				return nil, fmt.Errorf("iteration_indptr %v does not fit %d trees", ptr, len(m.trees))
			}
			m.rounds = append(m.rounds, int(n))
		}
		if m.rounds[0] != 0 || m.rounds[len(m.rounds)-1] != len(m.trees) {
			return nil, fmt.Errorf("iteration_indptr %v does not fit %d trees", ptr, len(m.trees))
		}
		return m, nil
	}
	parallel, _ := num(field(model, "gbtree_model_param", "num_parallel_tree"))
	if err := m.layerRounds(int(parallel)); err != nil {
		return nil, err
	}
	return m, nil
}

// layerRounds sets the rounds of a booster whose rounds all hold
// parallel trees (num_parallel_tree, at least 1) per output group.
func (m *Model) layerRounds(parallel int) error {
	layer := max(parallel, 1) * m.groups
	if len(m.trees)%layer != 0 {
		return fmt.Errorf("%d trees are not whole rounds of %d (num_parallel_tree %d, %d output groups)", len(m.trees), layer, max(parallel, 1), m.groups)
	}
	for i := 0; i <= len(m.trees); i += layer {
		m.rounds = append(m.rounds, i)
	}
	return nil
}

// Rounds is how many boosting rounds the booster holds.
func (m *Model) Rounds() int { return len(m.rounds) - 1 }

// FirstRounds is the booster cut to its first n rounds, as XGBoost
// predicts with iteration_range=(0, n); n outside 1..Rounds() keeps
// every round, as XGBoost's (0, 0) does.
func (m *Model) FirstRounds(n int) *Model {
	if n <= 0 || n >= m.Rounds() {
		return m
	}
	c := *m
	end := m.rounds[n]
	c.trees, c.group, c.rounds = m.trees[:end], m.group[:end], m.rounds[:n+1]
	if m.weight != nil {
		c.weight = m.weight[:end]
	}
	return &c
}

// modelFromLegacy reads XGBoost's legacy binary format (what MLflow 2.x
// logs by default, model_format xgb): "binf"; the learner's parameters
// (136 bytes: f32 base_score, u32 num_feature, i32 num_class, …); the
// objective and booster names (u64 length, bytes); the gbtree parameters
// (160 bytes: i32 num_trees, …, i32 size_leaf_vector at 28); each tree
// (148 bytes of parameters: i32 num_nodes at 4; nodes of 20 bytes: i32
// parent, left, right, u32 split index with the default-left flag in its
// top bit, f32 split condition or leaf value; statistics of 16 bytes);
// i32 tree_info per tree; for dart, the tree weights (u64 count, f32s).
// Everything little-endian.
func modelFromLegacy(data []byte) (*Model, error) {
	b := bytes.TrimPrefix(data, []byte("binf"))
	p := 0
	errTrunc := errors.New("truncated")
	take := func(n int) ([]byte, error) {
		if n < 0 || p+n > len(b) {
			return nil, errTrunc
		}
		p += n
		return b[p-n : p], nil
	}
	u32 := func(v []byte, off int) uint32 { return binary.LittleEndian.Uint32(v[off:]) }
	strMax := func(limit uint64) (string, error) {
		h, err := take(8)
		if err != nil {
			return "", err
		}
		n := binary.LittleEndian.Uint64(h)
		if n > limit {
			return "", errors.New("bad string length")
		}
		v, err := take(int(n))
		return string(v), err
	}
	str := func() (string, error) { return strMax(1024) }
	hdr, err := take(136)
	if err != nil {
		return nil, err
	}
	base := math.Float32frombits(u32(hdr, 0))
	m := &Model{NumFeature: int(u32(hdr, 4)), groups: max(int(int32(u32(hdr, 8))), 1)}
	if m.NumFeature <= 0 || m.NumFeature > 1<<24 || m.groups > 1<<16 {
		return nil, errors.New("its header does not parse")
	}
	if m.Objective, err = str(); err != nil {
		return nil, fmt.Errorf("objective: %v", err)
	}
	obj, ok := objectives[m.Objective]
	if !ok {
		return nil, fmt.Errorf("objective %q is not one mlrun predicts with", m.Objective)
	}
	booster, err := str()
	if err != nil {
		return nil, fmt.Errorf("booster: %v", err)
	}
	if booster != "gbtree" && booster != "dart" {
		return nil, fmt.Errorf("booster %q is not one mlrun predicts with (gbtree and dart are)", booster)
	}
	m.base = make([]float32, m.groups)
	for g := range m.base {
		m.base[g] = baseMargin(base, obj.base)
	}
	gp, err := take(160)
	if err != nil {
		return nil, err
	}
	numTrees, parallel := int(int32(u32(gp, 0))), int(int32(u32(gp, 4)))
	if numTrees < 0 || numTrees > 1<<24 || int32(u32(gp, 28)) > 1 {
		return nil, errors.New("its tree parameters do not parse (or it has vector leaves)")
	}
	for i := 0; i < numTrees; i++ {
		tp, err := take(148)
		if err != nil {
			return nil, fmt.Errorf("tree %d: %v", i, err)
		}
		n := int(int32(u32(tp, 4)))
		if n <= 0 || n > 1<<26 || int32(u32(tp, 20)) > 1 {
			return nil, fmt.Errorf("tree %d: %d nodes (or vector leaves)", i, n)
		}
		nodes, err := take(20 * n)
		if err != nil {
			return nil, fmt.Errorf("tree %d: %v", i, err)
		}
		if _, err := take(16 * n); err != nil { // statistics
			return nil, fmt.Errorf("tree %d: %v", i, err)
		}
		tr := tree{left: make([]int32, n), right: make([]int32, n), feat: make([]int32, n), cond: make([]float32, n), defLeft: make([]bool, n)}
		for j := 0; j < n; j++ {
			node := nodes[20*j:]
			l, r, si := int32(u32(node, 4)), int32(u32(node, 8)), u32(node, 12)
			f := int32(si & (1<<31 - 1))
			if l != -1 && (l <= int32(j) || l >= int32(n) || r <= int32(j) || r >= int32(n) || int(f) >= m.NumFeature) {
				return nil, fmt.Errorf("tree %d node %d: children %d, %d or feature %d out of range", i, j, l, r, f)
			}
			tr.left[j], tr.right[j], tr.feat[j], tr.defLeft[j] = l, r, f, si>>31 != 0
			tr.cond[j] = math.Float32frombits(u32(node, 16))
		}
		m.trees = append(m.trees, tr)
	}
	info, err := take(4 * numTrees)
	if err != nil {
		return nil, fmt.Errorf("tree_info: %v", err)
	}
	for i := 0; i < numTrees; i++ {
		g := int(int32(u32(info, 4*i)))
		if g < 0 || g >= m.groups {
			return nil, fmt.Errorf("tree %d is for output group %d of %d", i, g, m.groups)
		}
		m.group = append(m.group, g)
	}
	if booster == "dart" {
		h, err := take(8)
		if err != nil {
			return nil, fmt.Errorf("dart weights: %v", err)
		}
		n := binary.LittleEndian.Uint64(h)
		if n != uint64(numTrees) {
			return nil, fmt.Errorf("%d dart weights for %d trees", n, numTrees)
		}
		w, err := take(4 * numTrees)
		if err != nil {
			return nil, fmt.Errorf("dart weights: %v", err)
		}
		for i := 0; i < numTrees; i++ {
			m.weight = append(m.weight, math.Float32frombits(u32(w, 4*i)))
		}
	}
	if err := m.layerRounds(parallel); err != nil {
		return nil, err
	}
	// The attributes follow when the header says so (contain_extra_attrs):
	// u64 count, then (key, value) string pairs.
	if u32(hdr, 12) != 0 {
		h, err := take(8)
		if err != nil {
			return nil, fmt.Errorf("attributes: %v", err)
		}
		n := binary.LittleEndian.Uint64(h)
		if n > uint64(len(b)) {
			return nil, errors.New("attributes: bad count")
		}
		m.Attributes = map[string]string{}
		for i := uint64(0); i < n; i++ {
			k, err := str()
			if err != nil {
				return nil, fmt.Errorf("attribute %d: %v", i, err)
			}
			v, err := strMax(uint64(len(b)))
			if err != nil {
				return nil, fmt.Errorf("attribute %q: %v", k, err)
			}
			m.Attributes[k] = v
		}
	}
	return m, nil
}

// baseMargin turns base_score (a prediction) into the margin trees add
// to: the inverse of the objective's transform.
func baseMargin(b float32, how string) float32 {
	switch how {
	case "logit":
		return float32(-math.Log(1/float64(b) - 1))
	case "log":
		return float32(math.Log(float64(b)))
	}
	return b
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
