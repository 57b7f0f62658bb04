package sklearn

import (
	"fmt"
	"math"
)

// Stacking ensembles (StackingClassifier, StackingRegressor), as
// scikit-learn predicts them: each fitted estimator answers the input by
// its stack method (predict_proba, its first column left out for two
// classes, decision_function or predict), side by side and followed by the input itself
// with passthrough, and the final estimator predicts from that; a
// classifier's final answer is an encoded class, decoded by its classes.

func stacking(g *stage, s *state, predictFn string) (*stage, error) {
	ests, ok := s.d.get("estimators_").(*list)
	methods, ok2 := s.d.get("stack_method_").(*list)
	final := s.d.get("final_estimator_")
	if !ok || !ok2 || final == nil {
		return nil, fmt.Errorf("%w: %s without estimators_, stack_method_ or final_estimator_", ErrNotInGo, g.class)
	}
	classifier := g.class == "StackingClassifier"
	var classes []any
	if classifier {
		classes = s.classes()
		if s.err != nil {
			return nil, s.err
		}
	}
	switch {
	case predictFn == "predict":
	case predictFn == "predict_proba" && classifier:
	default: // StackingClassifier has no predict_log_proba
		return nil, fmt.Errorf("%w: %s.%s", ErrNotInGo, g.class, predictFn)
	}
	type layer struct {
		p     *Predictor
		proba bool
	}
	var layers []layer
	for i, e := range ests.items {
		if e == "drop" {
			continue
		}
		m, _ := methods.items[min(i, len(methods.items)-1)].(string)
		if len(methods.items) != len(ests.items) || m != "predict_proba" && m != "predict" && m != "decision_function" {
			return nil, fmt.Errorf("%w: %s's estimator %d stacks its %v", ErrNotInGo, g.class, i, methods.items[min(i, len(methods.items)-1)])
		}
		p := &Predictor{}
		if err := p.add(e, m); err != nil {
			return nil, fmt.Errorf("%w (in %s's estimator %d)", err, g.class, i)
		}
		layers = append(layers, layer{p, m == "predict_proba"})
	}
	if len(layers) == 0 {
		return nil, fmt.Errorf("%w: %s with every estimator dropped", ErrNotInGo, g.class)
	}
	fin := &Predictor{}
	if err := fin.add(final, predictFn); err != nil {
		return nil, fmt.Errorf("%w (in %s's final estimator)", err, g.class)
	}
	passthrough := s.bool("passthrough", false)
	g.nIn = layers[0].p.NumFeatures()
	g.answer = func(f *frame) (any, error) {
		var cols [][]float64 // the meta features, column by column
		for i, l := range layers {
			out, err := l.p.predict(f)
			if err != nil {
				return nil, err
			}
			switch o := out.(type) {
			case []float64:
				cols = append(cols, o)
			case []any: // labels (the encoded classes) as numbers
				c := make([]float64, len(o))
				for r, v := range o {
					n, ok := pyNumber(v)
					if !ok {
						return nil, fmt.Errorf("%s's estimator %d answered the label %s", g.class, i, describe(v))
					}
					c[r] = n
				}
				cols = append(cols, c)
			case [][]float64:
				first := 0
				if l.proba && len(classes) == 2 {
					first = 1 // both columns are collinear: the first is left out
				}
				k := 0
				if len(o) > 0 {
					k = len(o[0])
				}
				for j := first; j < k; j++ {
					c := make([]float64, len(o))
					for r := range o {
						c[r] = o[r][j]
					}
					cols = append(cols, c)
				}
			default:
				return nil, fmt.Errorf("%s's estimator %d answered %T", g.class, i, out)
			}
		}
		width := len(cols)
		var x *matrix
		if passthrough {
			var err error
			if x, err = f.numbers(); err != nil {
				return nil, err
			}
			width += x.cols
		}
		meta := &matrix{rows: f.rows, cols: width, v: make([]float64, f.rows*width)}
		for r := 0; r < f.rows; r++ {
			row := meta.row(r)
			for j, c := range cols {
				row[j] = c[r]
			}
			if x != nil {
				copy(row[len(cols):], x.row(r))
			}
		}
		out, err := fin.predict(frameOf(meta))
		if err != nil || !classifier || predictFn != "predict" {
			return out, err
		}
		labels, ok := out.([]any) // encoded classes, decoded
		if !ok {
			return nil, fmt.Errorf("%s's final estimator answered %T", g.class, out)
		}
		for r, v := range labels {
			n, ok := pyNumber(v)
			if !ok || n < 0 || int(n) >= len(classes) || n != math.Trunc(n) {
				return nil, fmt.Errorf("%s's final estimator answered the class %s", g.class, describe(v))
			}
			labels[r] = classes[int(n)]
		}
		return labels, nil
	}
	return g, nil
}
