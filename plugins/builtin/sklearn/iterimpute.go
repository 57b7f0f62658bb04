package sklearn

import (
	"fmt"
	"math"
)

// iterativeImputer makes the stage of a fitted IterativeImputer (missing
// values NaN, without sample_posterior or keep_empty_features): its
// initial imputer's answer (columns missing in every fitted row
// dropped), then, triplet by triplet of imputation_sequence_, each
// missing value of the triplet's feature predicted by its estimator from
// the neighbour features' current values, clipped to the feature's
// bounds; nothing more when nothing is missing. add_indicator appends
// the missing-value columns.
func iterativeImputer(g *stage, s *state) (*stage, error) {
	if s.bool("sample_posterior", false) {
		return nil, fmt.Errorf("%w: IterativeImputer with sample_posterior (random draws)", ErrNotInGo)
	}
	if s.bool("keep_empty_features", false) {
		return nil, fmt.Errorf("%w: IterativeImputer with keep_empty_features", ErrNotInGo)
	}
	initial, err := transformers(s.d.get("initial_imputer_"))
	if err != nil {
		return nil, err
	}
	stats := s.sub("initial_imputer_").floats("statistics_")
	indicator, err := imputerIndicator(s)
	if err != nil {
		return nil, err
	}
	lo, hi := s.floatsOrScalar("_min_value"), s.floatsOrScalar("_max_value")
	nIter := s.int("n_iter_")
	seq, ok := s.d.get("imputation_sequence_").(*list)
	if s.err != nil {
		return nil, s.err
	}
	if !ok {
		return nil, fmt.Errorf("%w: IterativeImputer without imputation_sequence_", ErrNotInGo)
	}
	valid := 0
	for _, v := range stats {
		if !math.IsNaN(v) {
			valid++
		}
	}
	bound := func(b []float64, j int) float64 {
		if len(b) == 1 {
			return b[0]
		}
		return b[j]
	}
	type step struct {
		feat      int
		neighbors []int
		p         *Predictor
	}
	steps := make([]step, len(seq.items))
	for i, v := range seq.items {
		o, _ := v.(*object)
		var args *tuple
		if o != nil {
			args, _ = o.args.(*tuple)
		}
		if args == nil || len(args.items) != 3 {
			return nil, fmt.Errorf("%w: IterativeImputer's step %d is %s", ErrNotInGo, i, describe(v))
		}
		feat, ok := args.items[0].(int64)
		if !ok {
			f, ok2 := pyNumber(args.items[0])
			feat, ok = int64(f), ok2
		}
		na, err := readArray(args.items[1])
		var nv []float64
		if err == nil {
			nv, err = na.floats()
		}
		if !ok || err != nil || feat < 0 || int(feat) >= valid {
			return nil, fmt.Errorf("%w: IterativeImputer's step %d", ErrNotInGo, i)
		}
		st := step{feat: int(feat), p: &Predictor{}}
		for _, n := range nv {
			if n < 0 || int(n) >= valid {
				return nil, fmt.Errorf("%w: IterativeImputer's step %d takes the feature %v", ErrNotInGo, i, n)
			}
			st.neighbors = append(st.neighbors, int(n))
		}
		if err := st.p.add(args.items[2], "predict"); err != nil {
			return nil, fmt.Errorf("%w (in IterativeImputer's step %d)", err, i)
		}
		if len(lo) != 1 && len(lo) <= st.feat || len(hi) != 1 && len(hi) <= st.feat {
			return nil, fmt.Errorf("%w: IterativeImputer's bounds for feature %d", ErrNotInGo, st.feat)
		}
		steps[i] = st
	}
	g.allowNaN = true
	g.table = func(f *frame) (*frame, error) {
		x, err := g.validate(f)
		if err != nil {
			return nil, err
		}
		ind := missingMask(x, indicator)
		filled, err := run(initial, frameOf(x))
		if err != nil {
			return nil, err
		}
		fx, err := filled.numbers()
		if err != nil {
			return nil, err
		}
		if fx.cols != valid {
			return nil, fmt.Errorf("IterativeImputer's initial imputer answered %d columns for %d", fx.cols, valid)
		}
		// missing: the input's missing values, in the kept columns.
		missing := make([]bool, x.rows*valid)
		all := true
		for r := 0; r < x.rows; r++ {
			c := 0
			for j, st := range stats {
				if math.IsNaN(st) {
					continue
				}
				missing[r*valid+c] = math.IsNaN(x.v[r*x.cols+j])
				all = all && missing[r*valid+c]
				c++
			}
		}
		if nIter > 0 && !all {
			for _, st := range steps {
				var rowsMissing []int
				for r := 0; r < x.rows; r++ {
					if missing[r*valid+st.feat] {
						rowsMissing = append(rowsMissing, r)
					}
				}
				if len(rowsMissing) == 0 {
					continue
				}
				test := &matrix{rows: len(rowsMissing), cols: len(st.neighbors), v: make([]float64, len(rowsMissing)*len(st.neighbors))}
				for i, r := range rowsMissing {
					for j, n := range st.neighbors {
						test.v[i*test.cols+j] = fx.v[r*valid+n]
					}
				}
				out, err := st.p.predict(frameOf(test))
				if err != nil {
					return nil, err
				}
				y, ok := out.([]float64)
				if !ok || len(y) != len(rowsMissing) {
					return nil, fmt.Errorf("IterativeImputer's estimator answered %T", out)
				}
				for i, r := range rowsMissing { // np.clip
					fx.v[r*valid+st.feat] = math.Min(math.Max(y[i], bound(lo, st.feat)), bound(hi, st.feat))
				}
			}
		}
		res := frameOf(fx)
		res.cols = append(res.cols, ind...)
		return res, nil
	}
	return g, nil
}
