package sklearn

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/mlrun/mlrun/internal/format"
)

// The transformers of columns — ColumnTransformer, OneHotEncoder,
// SimpleImputer — as scikit-learn 1.2 transforms them: they take a frame
// (text and None included), not numbers.

// run passes f through transformer stages, each given what the previous
// one made.
func run(stages []*stage, f *frame) (*frame, error) {
	for _, g := range stages {
		if g.table != nil {
			var err error
			if f, err = g.table(f); err != nil {
				return nil, err
			}
			continue
		}
		x, err := g.validate(f)
		if err != nil {
			return nil, err
		}
		if g.check != nil {
			if err := g.check(x); err != nil {
				return nil, err
			}
		}
		g.transform(x)
		f = frameOf(x) // a transformer's output is an array
	}
	return f, nil
}

// transformers makes the stages of a fitted transformer, or of a
// Pipeline of them.
func transformers(v any) ([]*stage, error) {
	if v == "passthrough" || v == nil {
		return nil, nil
	}
	o, ok := v.(*object)
	if !ok {
		return nil, fmt.Errorf("%w: a transformer is %s", ErrNotInGo, describe(v))
	}
	st, ok := o.state.(*dict)
	if !ok {
		return nil, fmt.Errorf("%w: %s has no state", ErrNotInGo, o.class)
	}
	if o.class.module == "sklearn.pipeline" && o.class.name == "Pipeline" {
		steps, err := pipelineSteps(st)
		if err != nil {
			return nil, err
		}
		var out []*stage
		for _, e := range steps {
			ss, err := transformers(e)
			if err != nil {
				return nil, err
			}
			out = append(out, ss...)
		}
		return out, nil
	}
	s := &state{d: st, class: o.class.name}
	g, err := transformer(o.class, s)
	if err != nil {
		return nil, err
	}
	if s.err != nil {
		return nil, s.err
	}
	switch o.class.name { // what a text vectorizer's sparse matrix may go through
	case "Normalizer", "Binarizer", "MaxAbsScaler", "VarianceThreshold", "SelectKBest", "SelectPercentile", "SelectFromModel", "RFE", "RFECV", "TfidfTransformer":
		g.sparseIn, g.keepsSparse = true, true
	case "StandardScaler": // centering refuses it
		g.sparseIn, g.keepsSparse = !s.bool("with_mean", true), true
	case "TruncatedSVD": // a dense answer
		g.sparseIn = true
	}
	return []*stage{g}, nil
}

// pipelineSteps reads a Pipeline's estimators, passthrough steps left
// out.
func pipelineSteps(st *dict) ([]any, error) {
	steps, ok := st.get("steps").(*list)
	if !ok || len(steps.items) == 0 {
		return nil, fmt.Errorf("%w: a Pipeline without steps", ErrNotInGo)
	}
	var ests []any
	for _, it := range steps.items {
		t, ok := it.(*tuple)
		if !ok || len(t.items) != 2 {
			return nil, fmt.Errorf("%w: a Pipeline step is not a (name, estimator) pair", ErrNotInGo)
		}
		if t.items[1] == nil || t.items[1] == "passthrough" {
			continue
		}
		ests = append(ests, t.items[1])
	}
	return ests, nil
}

// subset is the frame of f's columns idx, their names kept.
func (f *frame) subset(idx []int) *frame {
	out := &frame{rows: f.rows, cols: make([]column, len(idx))}
	if f.names != nil {
		out.names = make([]string, len(idx))
	}
	for i, j := range idx {
		out.cols[i] = f.cols[j]
		if f.names != nil {
			out.names[i] = f.names[j]
		}
	}
	return out
}

// columnTransformer makes the stage of a fitted ColumnTransformer: each
// transformer given its columns (by name when it was fitted on a
// DataFrame and is given one, else by position), the outputs side by
// side, in order.
func columnTransformer(s *state) (*stage, error) {
	g := s.base()
	byIdx, ok := s.d.get("_transformer_to_input_indices").(*dict)
	trs, ok2 := s.d.get("transformers_").(*list)
	if !ok || !ok2 {
		return nil, fmt.Errorf("%w: a ColumnTransformer without its fitted transformers (before scikit-learn 1.2?)", ErrNotInGo)
	}
	type part struct {
		idx         []int
		stages      []*stage
		passthrough bool
		named       bool // the columns were given by name
		series      bool // one column given as a scalar: a text vectorizer's documents
	}
	var parts []part
	anySparse := false
	for _, it := range trs.items {
		t, ok := it.(*tuple)
		if !ok || len(t.items) != 3 {
			return nil, fmt.Errorf("%w: a ColumnTransformer's transformer is not (name, transformer, columns)", ErrNotInGo)
		}
		name, _ := t.items[0].(string)
		if t.items[1] == "drop" {
			continue
		}
		l, ok := byIdx.get(name).(*list)
		if !ok {
			return nil, fmt.Errorf("%w: ColumnTransformer: the columns of %q", ErrNotInGo, name)
		}
		var idx []int
		for _, v := range l.items {
			i, ok := v.(int64)
			if !ok || i < 0 || g.nIn > 0 && int(i) >= g.nIn || g.names != nil && int(i) >= len(g.names) {
				return nil, fmt.Errorf("%w: ColumnTransformer: a bad column of %q", ErrNotInGo, name)
			}
			idx = append(idx, int(i))
		}
		if len(idx) == 0 {
			continue // an empty selection is skipped
		}
		stages, err := transformers(t.items[1])
		if err != nil {
			return nil, err
		}
		sparse, width, err := sparseChain(stages)
		if err != nil {
			return nil, err
		}
		anySparse = anySparse || sparse
		g.width += width
		var named, series bool
		switch spec := t.items[2].(type) {
		case *list:
			named = len(spec.items) > 0
			for _, c := range spec.items {
				if _, ok := c.(string); !ok {
					named = false
				}
			}
		case string, int64: // a scalar selection gives a transformer one dimension: a text vectorizer its documents
			_, named = spec.(string)
			series = true
			if len(stages) == 0 || !stages[0].sparseOut || len(idx) != 1 {
				return nil, fmt.Errorf("%w: ColumnTransformer: %q takes a column as a scalar", ErrNotInGo, name)
			}
		default:
			return nil, fmt.Errorf("%w: ColumnTransformer: %q takes the columns %s", ErrNotInGo, name, describe(spec))
		}
		parts = append(parts, part{idx: idx, stages: stages, passthrough: t.items[1] == "passthrough", named: named, series: series})
	}
	if s.err != nil {
		return nil, s.err
	}
	// The output is sparse when a part's is and its density is under
	// sparse_threshold; Go takes it as sparse when it may be.
	if t, ok := pyNumber(s.d.get("sparse_threshold")); anySparse && (!ok || t > 0) {
		g.sparseOut = true
	}
	g.table = func(f *frame) (*frame, error) {
		byName := g.names != nil && f.names != nil
		if byName {
			var missing []string
			for _, p := range parts {
				if !p.passthrough {
					continue
				}
				for _, i := range p.idx {
					if !slices.Contains(f.names, g.names[i]) && !slices.Contains(missing, g.names[i]) {
						missing = append(missing, g.names[i])
					}
				}
			}
			if len(missing) > 0 {
				return nil, inputErr("columns are missing: %s", pySet(missing))
			}
		} else if err := g.checkWidth(len(f.cols)); err != nil {
			return nil, err
		}
		out := &frame{rows: f.rows}
		for _, p := range parts {
			idx := p.idx
			if byName {
				idx = make([]int, len(p.idx))
				var missing []any
				for k, i := range p.idx {
					if idx[k] = slices.Index(f.names, g.names[i]); idx[k] < 0 {
						missing = append(missing, g.names[i])
					}
				}
				switch { // pandas' KeyError
				case len(missing) > 0 && p.series: // df["text"]
					return nil, &InputError{"KeyError", pyRepr(missing[0])}
				case len(missing) == len(p.idx):
					return nil, &InputError{"KeyError", pyRepr("None of [Index(" + pyList(missing) + ", dtype='object')] are in the [columns]")}
				case len(missing) > 0:
					return nil, &InputError{"KeyError", pyRepr(pyList(missing) + " not in index")}
				}
			} else if p.named && f.names == nil {
				return nil, inputErr("Specifying the columns using strings is only supported for pandas DataFrames")
			}
			for _, i := range idx {
				if i >= len(f.cols) {
					return nil, inputErr("X has %d features, but ColumnTransformer is expecting %d features as input.", len(f.cols), g.nIn)
				}
			}
			in := f.subset(idx)
			if p.series {
				in.names, in.vector, in.series = nil, true, true
			}
			sub, err := run(p.stages, in)
			if err != nil {
				return nil, err
			}
			sub = sub.dense()
			out.cols = append(out.cols, sub.cols...)
		}
		return out, nil
	}
	return g, nil
}

// pyList writes values as Python writes a list of them.
func pyList(vals []any) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = pyRepr(v)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// pySet writes names as Python writes a set of them (its order is
// Python's hash order: here, the names' order).
func pySet(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = pyRepr(n)
	}
	return "{" + strings.Join(q, ", ") + "}"
}

// pyRepr is Python's repr of a cell value.
func pyRepr(v any) string { return format.PyRepr(v) }

// catKey is the key of a category value as Python's equality sees it:
// text by its text, numbers (and booleans: True == 1) by value, None,
// and NaN (a category of its own in scikit-learn's encoders).
func catKey(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "None", true
	case string:
		return "s" + v, true
	case float64:
		if math.IsNaN(v) {
			return "nan", true
		}
		if v == 0 {
			v = 0 // -0 == 0
		}
		return "f" + strconv.FormatFloat(v, 'g', -1, 64), true
	case int64:
		return catKey(float64(v))
	case bool:
		return catKey(map[bool]float64{false: 0, true: 1}[v])
	}
	return "", false
}

// category is what an encoder learned of one feature: the index of each
// category value, and with infrequent categories (OneHotEncoder's
// min_frequency, max_categories) the output index of each category, the
// infrequent ones sharing the last.
type category struct {
	index      map[string]int
	vals       []any
	numeric    bool  // the categories are numbers (how unknowns are written)
	group      []int // category index → output index; nil: the same
	infrequent int   // the output index of the infrequent ones, or -1
}

// width is the number of output columns of the feature, before a drop.
func (c category) width() int {
	if c.group != nil {
		return c.infrequent + 1
	}
	return len(c.vals)
}

// categories reads an encoder's categories_ and, when grouped is set, its
// infrequent categories (an encoder that has them and is not grouped is
// not predicted in Go).
func categories(g *stage, s *state, grouped bool) ([]category, error) {
	infrequent := s.bool("_infrequent_enabled", false)
	if infrequent && !grouped {
		return nil, fmt.Errorf("%w: %s with infrequent categories", ErrNotInGo, g.class)
	}
	cats, ok := s.d.get("categories_").(*list)
	if !ok || len(cats.items) == 0 {
		return nil, fmt.Errorf("%w: %s without categories_", ErrNotInGo, g.class)
	}
	out := make([]category, len(cats.items))
	for i, c := range cats.items {
		a, err := readArray(c)
		if err != nil {
			return nil, fmt.Errorf("%w: %s's categories_: %v", ErrNotInGo, g.class, err)
		}
		vals := a.objs
		if vals == nil {
			if vals, err = a.values(); err != nil {
				return nil, fmt.Errorf("%w: %s's categories_: %v", ErrNotInGo, g.class, err)
			}
		}
		out[i] = category{index: map[string]int{}, vals: vals, numeric: a.objs == nil && a.dt.kind != 'U', infrequent: -1}
		for k, v := range vals {
			key, ok := catKey(v)
			if !ok {
				return nil, fmt.Errorf("%w: %s: a category is %s", ErrNotInGo, g.class, describe(v))
			}
			out[i].index[key] = k
		}
	}
	if infrequent {
		maps, ok := s.d.get("_default_to_infrequent_mappings").(*list)
		if !ok || len(maps.items) != len(out) {
			return nil, fmt.Errorf("%w: %s's _default_to_infrequent_mappings", ErrNotInGo, g.class)
		}
		for i, m := range maps.items {
			if m == nil {
				continue
			}
			a, err := readArray(m)
			var idx []float64
			if err == nil {
				idx, err = a.floats()
			}
			if err != nil || len(idx) != len(out[i].vals) {
				return nil, fmt.Errorf("%w: %s's infrequent mapping of feature %d", ErrNotInGo, g.class, i)
			}
			out[i].group = make([]int, len(idx))
			for k, v := range idx {
				out[i].group[k] = int(v)
				out[i].infrequent = max(out[i].infrequent, int(v))
			}
			for _, v := range idx { // frequent ones 0..n-1 in order, infrequent ones n
				if v < 0 || int(v) > out[i].infrequent || v != math.Trunc(v) {
					return nil, fmt.Errorf("%w: %s's infrequent mapping of feature %d", ErrNotInGo, g.class, i)
				}
			}
		}
	}
	if g.nIn == 0 {
		g.nIn = len(out)
	}
	if g.nIn != len(out) {
		return nil, fmt.Errorf("%w: %s has categories for %d of %d features", ErrNotInGo, g.class, len(out), g.nIn)
	}
	return out, nil
}

// encode is an encoder's _transform: the frame checked, then each
// feature's values as their categories' indices, -1 for an unknown one
// (refused with scikit-learn's message when refuse is set).
func encode(g *stage, cats []category, f *frame, refuse bool) ([][]int, error) {
	if err := g.checkNames(f.names); err != nil {
		return nil, err
	}
	if err := g.checkWidth(len(f.cols)); err != nil {
		return nil, err
	}
	codes := make([][]int, len(cats))
	for i, c := range cats {
		codes[i] = make([]int, f.rows)
		var unknown []any
		seen := map[string]bool{}
		for r := range codes[i] {
			v := f.cols[i].value(r)
			key, ok := catKey(v)
			k, known := c.index[key]
			if !ok || !known {
				if !seen[key] {
					seen[key] = true
					unknown = append(unknown, v)
				}
				k = -1
			}
			codes[i][r] = k
		}
		if len(unknown) > 0 && refuse {
			return nil, inputErr("Found unknown categories %s in column %d during transform", unknownRepr(unknown, c.numeric), i)
		}
	}
	return codes, nil
}

// oneHotEncoder makes the stage of a fitted OneHotEncoder: a column of
// 0s and 1s for each category of each feature (the infrequent ones
// sharing one, the last), the dropped ones left out; an unknown value is
// refused or, with handle_unknown="ignore", all zeros, or with
// "infrequent_if_exist" infrequent where the feature has infrequent
// categories.
func oneHotEncoder(g *stage, s *state) (*stage, error) {
	ignore := s.str("handle_unknown") == "ignore" || s.str("handle_unknown") == "infrequent_if_exist"
	toInfrequent := s.str("handle_unknown") == "infrequent_if_exist"
	cats, err := categories(g, s, true)
	if err != nil {
		return nil, err
	}
	drop := make([]int, len(cats)) // the dropped output column of each feature, or -1
	for i := range drop {
		drop[i] = -1
	}
	dropKey := "drop_idx_" // an output index up to 1.2, a category index from 1.3 (which keeps the output's here)
	if s.has("_drop_idx_after_grouping") {
		dropKey = "_drop_idx_after_grouping"
	}
	if d := s.d.get(dropKey); d != nil {
		a, err := readArray(d)
		var drops []any
		if err == nil {
			if drops = a.objs; drops == nil {
				drops, err = a.values()
			}
		}
		if err != nil || len(drops) != len(cats) {
			return nil, fmt.Errorf("%w: OneHotEncoder's drop_idx_ is not one per feature", ErrNotInGo)
		}
		for i, v := range drops {
			if v == nil {
				continue
			}
			k, ok := v.(int64)
			if !ok || k < 0 || int(k) >= cats[i].width() {
				return nil, fmt.Errorf("%w: OneHotEncoder's drop_idx_ %v", ErrNotInGo, v)
			}
			drop[i] = int(k)
		}
	}
	g.table = func(f *frame) (*frame, error) {
		codes, err := encode(g, cats, f, !ignore)
		if err != nil {
			return nil, err
		}
		out := &frame{rows: f.rows}
		for i, c := range cats {
			width := c.width()
			if drop[i] >= 0 {
				width--
			}
			cols := make([]column, width)
			for j := range cols {
				cols[j].num = make([]float64, f.rows)
			}
			for r, k := range codes[i] {
				switch { // as _map_infrequent_categories: grouped, an unknown one infrequent if asked
				case k >= 0 && c.group != nil:
					k = c.group[k]
				case k < 0 && toInfrequent && c.infrequent >= 0:
					k = c.infrequent
				}
				switch {
				case k < 0 || k == drop[i]:
				case drop[i] >= 0 && k > drop[i]:
					cols[k-1].num[r] = 1
				default:
					cols[k].num[r] = 1
				}
			}
			out.cols = append(out.cols, cols...)
		}
		return out, nil
	}
	return g, nil
}

// ordinalEncoder makes the stage of a fitted OrdinalEncoder: each value
// its category's index (a missing category's, encoded_missing_value);
// an unknown one refused, or unknown_value with
// handle_unknown="use_encoded_value".
func ordinalEncoder(g *stage, s *state) (*stage, error) {
	cats, err := categories(g, s, false)
	if err != nil {
		return nil, err
	}
	useValue := s.str("handle_unknown") == "use_encoded_value"
	unknownValue, _ := pyNumber(s.d.get("unknown_value"))
	missingValue := nan
	if v, ok := pyNumber(s.d.get("encoded_missing_value")); ok {
		missingValue = v
	}
	missing := map[int]int{} // feature: its missing category
	if d, ok := s.d.get("_missing_indices").(*dict); ok {
		for i, k := range d.keys {
			f, ok1 := k.(int64)
			c, ok2 := d.vals[i].(int64)
			if !ok1 || !ok2 || f < 0 || int(f) >= len(cats) {
				return nil, fmt.Errorf("%w: OrdinalEncoder's _missing_indices", ErrNotInGo)
			}
			missing[int(f)] = int(c)
		}
	}
	if s.err != nil {
		return nil, s.err
	}
	g.table = func(f *frame) (*frame, error) {
		codes, err := encode(g, cats, f, !useValue)
		if err != nil {
			return nil, err
		}
		out := &frame{rows: f.rows, cols: make([]column, len(cats))}
		for i := range cats {
			num := make([]float64, f.rows)
			m, hasMissing := missing[i]
			for r, k := range codes[i] {
				switch {
				case k < 0:
					num[r] = unknownValue
				case hasMissing && k == m:
					num[r] = missingValue
				default:
					num[r] = float64(k)
				}
			}
			out.cols[i].num = num
		}
		return out, nil
	}
	return g, nil
}

// simpleImputer makes the stage of a fitted SimpleImputer (missing values
// NaN, no indicator): each NaN becomes its column's statistic; fitted on
// numbers, the columns without one are left out (unless the strategy is
// constant or keep_empty_features); fitted on objects, None is not
// missing (as scikit-learn sees it).
func simpleImputer(g *stage, s *state) (*stage, error) {
	indicator, err := imputerIndicator(s) // the columns whose missing values are flagged after the imputed ones
	if err != nil {
		return nil, err
	}
	dt, err := readDtype(s.d.get("_fit_dtype"))
	if err != nil {
		return nil, fmt.Errorf("%w: SimpleImputer's _fit_dtype: %v", ErrNotInGo, err)
	}
	stats := s.array("statistics_")
	if s.err != nil {
		return nil, s.err
	}
	strategy := s.str("strategy")
	keepAll := strategy == "constant" || s.bool("keep_empty_features", false)
	if g.nIn == 0 {
		g.nIn = stats.len()
	}
	if stats.len() != g.nIn {
		return nil, fmt.Errorf("%w: SimpleImputer has %d statistics for %d features", ErrNotInGo, stats.len(), g.nIn)
	}
	if dt.kind == 'O' {
		if indicator != nil {
			return nil, fmt.Errorf("%w: SimpleImputer of text with add_indicator", ErrNotInGo)
		}
		vals := stats.objs
		if vals == nil {
			if vals, err = stats.values(); err != nil {
				return nil, fmt.Errorf("%w: SimpleImputer's statistics_: %v", ErrNotInGo, err)
			}
		}
		g.table = func(f *frame) (*frame, error) {
			if err := g.checkNames(f.names); err != nil {
				return nil, err
			}
			if err := g.checkWidth(len(f.cols)); err != nil {
				return nil, err
			}
			out := &frame{rows: f.rows, cols: make([]column, len(f.cols))}
			for j, c := range f.cols {
				obj := make([]any, f.rows)
				for r := range obj {
					obj[r] = c.value(r)
					if x, ok := obj[r].(float64); ok && math.IsNaN(x) {
						obj[r] = vals[j]
					}
				}
				out.cols[j].obj = obj
			}
			return out, nil
		}
		return g, nil
	}
	if dt.kind != 'f' && dt.kind != 'i' && dt.kind != 'u' {
		return nil, fmt.Errorf("%w: SimpleImputer fitted on dtype kind %q", ErrNotInGo, dt.kind)
	}
	vals, err := stats.floats()
	if err != nil {
		return nil, fmt.Errorf("%w: SimpleImputer's statistics_: %v", ErrNotInGo, err)
	}
	g.allowNaN = true
	g.table = func(f *frame) (*frame, error) {
		x, err := g.validate(f)
		if err != nil {
			if ie, ok := err.(*InputError); ok && strings.HasPrefix(ie.Msg, "could not convert") {
				return nil, inputErr("Cannot use %s strategy with non-numeric data:\n%s", strategy, ie.Msg)
			}
			return nil, err
		}
		out := &frame{rows: x.rows}
		for j, stat := range vals {
			if math.IsNaN(stat) && !keepAll {
				continue
			}
			num := make([]float64, x.rows)
			for r := range num {
				if num[r] = x.v[r*x.cols+j]; math.IsNaN(num[r]) {
					num[r] = stat
				}
			}
			out.cols = append(out.cols, column{num: num})
		}
		out.cols = append(out.cols, missingMask(x, indicator)...)
		return out, nil
	}
	return g, nil
}

// imputerIndicator is an imputer's add_indicator columns (nil without
// it), refusing missing values other than NaN.
func imputerIndicator(s *state) ([]int, error) {
	if mv, ok := s.d.get("missing_values").(float64); !ok || !math.IsNaN(mv) {
		return nil, fmt.Errorf("%w: %s with missing_values other than NaN", ErrNotInGo, s.class)
	}
	if !s.bool("add_indicator", false) {
		return nil, nil
	}
	return missingFeatures(s.sub("indicator_"))
}

// missingFeatures reads a fitted MissingIndicator's features_ (the
// columns it flags), refusing the sparse output.
func missingFeatures(s *state) ([]int, error) {
	if sp, ok := s.d.get("sparse").(bool); ok && sp {
		return nil, fmt.Errorf("%w: a MissingIndicator with sparse=True", ErrNotInGo)
	}
	if mv, ok := s.d.get("missing_values").(float64); !ok || !math.IsNaN(mv) {
		return nil, fmt.Errorf("%w: a MissingIndicator of missing values other than NaN", ErrNotInGo)
	}
	fs := s.floats("features_")
	if s.err != nil {
		return nil, s.err
	}
	out := make([]int, len(fs))
	for i, f := range fs {
		out[i] = int(f)
	}
	return out, nil
}

// missingMask is the 0/1 columns of x's missing values in the columns
// features.
func missingMask(x *matrix, features []int) []column {
	cols := make([]column, len(features))
	for i, j := range features {
		num := make([]float64, x.rows)
		for r := range num {
			num[r] = float64(b2i(math.IsNaN(x.v[r*x.cols+j])))
		}
		cols[i].num = num
	}
	return cols
}

// missingIndicator makes the stage of a fitted MissingIndicator: its
// features' missing values as 0/1 columns; with error_on_new, missing
// values in a column that had none in fit are refused.
func missingIndicator(g *stage, s *state) (*stage, error) {
	features, err := missingFeatures(s)
	if err != nil {
		return nil, err
	}
	onlyMissing := s.str("features") == "missing-only"
	errorOnNew := s.bool("error_on_new", true)
	g.allowNaN = true
	g.table = func(f *frame) (*frame, error) {
		x, err := g.validate(f)
		if err != nil {
			return nil, err
		}
		if onlyMissing && errorOnNew {
			var fresh []string
			for j := range x.cols {
				if slices.Contains(features, j) {
					continue
				}
				for r := 0; r < x.rows; r++ {
					if math.IsNaN(x.v[r*x.cols+j]) {
						fresh = append(fresh, strconv.Itoa(j))
						break
					}
				}
			}
			if fresh != nil {
				return nil, inputErr("The features [%s] have missing values in transform but have no missing values in fit.", strings.Join(fresh, " "))
			}
		}
		return &frame{rows: x.rows, cols: missingMask(x, features)}, nil
	}
	return g, s.err
}

// unknownRepr writes unknown categories as scikit-learn's message does:
// a list, of text in Python's set order (here, as met) then None then
// NaN, or of numbers sorted as numpy sorts them (NaN last).
func unknownRepr(vals []any, numeric bool) string {
	if !numeric {
		missing := func(v any) int { // None after values, NaN last
			if v == nil {
				return 1
			}
			if f, ok := v.(float64); ok && math.IsNaN(f) {
				return 2
			}
			return 0
		}
		slices.SortStableFunc(vals, func(a, b any) int { return cmp.Compare(missing(a), missing(b)) })
	} else {
		slices.SortStableFunc(vals, func(a, b any) int {
			x, _ := pyNumber(a)
			y, _ := pyNumber(b)
			switch {
			case math.IsNaN(x) || math.IsNaN(y):
				return cmp.Compare(b2i(math.IsNaN(x)), b2i(math.IsNaN(y)))
			}
			return cmp.Compare(x, y)
		})
	}
	return pyList(vals)
}
