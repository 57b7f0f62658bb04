package sklearn

import (
	"fmt"
	"math"
)

// Voting ensembles (VotingClassifier, VotingRegressor), as scikit-learn
// predicts them: each fitted estimator (a model or a Pipeline of its
// own) takes the input as it is and checks it itself; a hard vote is the
// weighted count of their labels (np.bincount, the smallest of the most),
// a soft vote the weighted mean of their probabilities (np.average over
// the estimators, added one after the other), a regressor's answer the
// weighted mean of theirs (numpy's sum along the row).

func voting(g *stage, s *state, predictFn string) (*stage, error) {
	ests, ok := s.d.get("estimators_").(*list)
	if !ok || len(ests.items) == 0 {
		return nil, fmt.Errorf("%w: %s without estimators_", ErrNotInGo, g.class)
	}
	weights, err := votingWeights(g, s, len(ests.items))
	if err != nil {
		return nil, err
	}
	classifier := g.class == "VotingClassifier"
	soft := s.str("voting") == "soft"
	switch {
	case predictFn == "predict":
	case predictFn == "predict_proba" && classifier && soft:
	default: // hard voting has no predict_proba, no voting has predict_log_proba
		return nil, fmt.Errorf("%w: %s.%s (voting=%q)", ErrNotInGo, g.class, predictFn, s.str("voting"))
	}
	subFn := "predict"
	if classifier && soft {
		subFn = "predict_proba"
	}
	subs := make([]*Predictor, len(ests.items))
	for i, e := range ests.items {
		subs[i] = &Predictor{}
		if err := subs[i].add(e, subFn); err != nil {
			return nil, fmt.Errorf("%w (in %s's estimator %d)", err, g.class, i)
		}
	}
	g.nIn = subs[0].NumFeatures()
	if !classifier {
		g.answer = func(f *frame) (any, error) {
			preds := make([][]float64, len(subs))
			for i, p := range subs {
				out, err := p.predict(f)
				if err != nil {
					return nil, err
				}
				if preds[i], ok = out.([]float64); !ok {
					return nil, fmt.Errorf("%s's estimator %d answered %T", g.class, i, out)
				}
			}
			out := make([]float64, f.rows)
			row := make([]float64, len(subs))
			for r := range out {
				for i := range subs {
					row[i] = preds[i][r]
				}
				if weights == nil { // np.average(..., axis=1): the row's sum over its length
					out[r] = npSum(row) / float64(len(row))
					continue
				}
				for i := range row {
					row[i] *= weights[i]
				}
				out[r] = npSum(row) / npSum(weights)
			}
			return out, nil
		}
		return g, nil
	}
	classes := s.classes()
	if s.err != nil {
		return nil, s.err
	}
	k := len(classes)
	g.answer = func(f *frame) (any, error) {
		votes := make([][]float64, f.rows)
		for r := range votes {
			votes[r] = make([]float64, k)
		}
		wsum := 0.0 // the weights' sum, as np.average's scl adds them
		for i, p := range subs {
			out, err := p.predict(f)
			if err != nil {
				return nil, err
			}
			w := 1.0
			if weights != nil {
				w = weights[i]
			}
			wsum += w
			if soft { // this estimator's probabilities, weighted, added to the others'
				proba, ok := out.([][]float64)
				if !ok || len(proba) != f.rows {
					return nil, fmt.Errorf("%s's estimator %d answered %T", g.class, i, out)
				}
				for r, pr := range proba {
					if len(pr) != k {
						return nil, fmt.Errorf("%s's estimator %d answered %d classes of %d", g.class, i, len(pr), k)
					}
					for c, v := range pr {
						if weights != nil {
							v *= w
						}
						if i == 0 {
							votes[r][c] = v
						} else {
							votes[r][c] += v
						}
					}
				}
				continue
			}
			labels, ok := out.([]any) // the estimator's classes are the encoded 0..k-1
			if !ok || len(labels) != f.rows {
				return nil, fmt.Errorf("%s's estimator %d answered %T", g.class, i, out)
			}
			for r, l := range labels {
				c, ok := pyNumber(l)
				if !ok || c < 0 || int(c) >= k || c != math.Trunc(c) {
					return nil, fmt.Errorf("%s's estimator %d answered the class %v", g.class, i, l)
				}
				votes[r][int(c)] += w // np.bincount(x, weights)
			}
		}
		if soft {
			for _, v := range votes {
				for c := range v {
					if weights == nil {
						v[c] /= float64(len(subs))
					} else {
						v[c] /= wsum
					}
				}
			}
			if predictFn == "predict_proba" {
				return votes, nil
			}
		}
		out := make([]any, f.rows)
		for r, v := range votes {
			out[r] = classes[argmax(v)]
		}
		return out, nil
	}
	return g, nil
}

// votingWeights reads _weights_not_none: the weights of the estimators
// not dropped, or nil for none.
func votingWeights(g *stage, s *state, n int) ([]float64, error) {
	w := s.d.get("weights")
	if w == nil {
		return nil, nil
	}
	var vals []any
	switch w := w.(type) {
	case *list:
		vals = w.items
	case *tuple:
		vals = w.items
	default:
		a, err := readArray(w)
		if err != nil {
			return nil, fmt.Errorf("%w: %s's weights: %v", ErrNotInGo, g.class, err)
		}
		if vals, err = a.values(); err != nil {
			return nil, fmt.Errorf("%w: %s's weights: %v", ErrNotInGo, g.class, err)
		}
	}
	named, _ := s.d.get("estimators").(*list)
	var out []float64
	for i, v := range vals {
		if named != nil && i < len(named.items) {
			if pair, ok := named.items[i].(*tuple); ok && len(pair.items) == 2 && pair.items[1] == "drop" {
				continue
			}
		}
		f, ok := pyNumber(v)
		if !ok {
			return nil, fmt.Errorf("%w: %s's weight %s", ErrNotInGo, g.class, describe(v))
		}
		out = append(out, f)
	}
	if len(out) != n {
		return nil, fmt.Errorf("%w: %s has %d weights for %d estimators", ErrNotInGo, g.class, len(out), n)
	}
	return out, nil
}
