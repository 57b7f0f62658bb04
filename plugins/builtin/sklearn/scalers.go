package sklearn

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// The transformers of numbers (the scalers), and the routing of every
// transformer to its stage.

// transformer makes the stage of a fitted transformer.
func transformer(class *global, s *state) (*stage, error) {
	g := s.base()
	g.allowNaN = true // the scalers pass NaN through
	switch class.module + "." + class.name {
	case "sklearn.preprocessing._data.StandardScaler":
		return centerScale(g, s, "with_mean", "mean_", "with_std", "scale_")
	case "sklearn.preprocessing._data.RobustScaler":
		return centerScale(g, s, "with_centering", "center_", "with_scaling", "scale_")
	case "sklearn.preprocessing._data.MaxAbsScaler":
		return centerScale(g, s, "", "", "", "scale_")
	case "sklearn.preprocessing._data.MinMaxScaler":
		scale, min := s.floats("scale_"), s.floats("min_")
		clip := s.bool("clip", false)
		var lo, hi float64
		if clip {
			fr, ok := s.d.get("feature_range").(*tuple)
			if !ok || len(fr.items) != 2 {
				s.fail("feature_range is not a pair")
			} else {
				lo, _ = pyNumber(fr.items[0])
				hi, _ = pyNumber(fr.items[1])
			}
		}
		g.transform = func(x *matrix) {
			for r := 0; r < x.rows; r++ {
				row := x.row(r)
				for j := range row {
					row[j] *= scale[j]
					row[j] += min[j]
					if clip { // np.clip: NaN stays NaN
						row[j] = math.Min(math.Max(row[j], lo), hi)
					}
				}
			}
		}
		return g, s.widths(g, scale, min)
	case "sklearn.decomposition._pca.PCA", "sklearn.decomposition._truncated_svd.TruncatedSVD":
		return projection(g, s)
	case "sklearn.preprocessing._polynomial.PolynomialFeatures":
		return polynomial(g, s)
	case "sklearn.preprocessing._polynomial.SplineTransformer":
		return splineTransformer(g, s)
	case "sklearn.feature_selection._variance_threshold.VarianceThreshold", "sklearn.feature_selection._univariate_selection.SelectKBest",
		"sklearn.feature_selection._univariate_selection.SelectPercentile", "sklearn.feature_selection._rfe.RFE", "sklearn.feature_selection._rfe.RFECV",
		"sklearn.feature_selection._from_model.SelectFromModel":
		return selector(g, s)
	case "sklearn.kernel_approximation.Nystroem":
		return nystroem(g, s)
	case "sklearn.kernel_approximation.RBFSampler":
		return rbfSampler(g, s)
	case "sklearn.preprocessing._data.Normalizer":
		return normalizer(g, s)
	case "sklearn.preprocessing._data.Binarizer":
		return binarizer(g, s)
	case "sklearn.preprocessing._data.QuantileTransformer":
		return quantileTransformer(g, s)
	case "sklearn.preprocessing._data.PowerTransformer":
		return powerTransformer(g, s)
	case "sklearn.preprocessing._discretization.KBinsDiscretizer":
		return kBinsDiscretizer(g, s)
	case "sklearn.preprocessing._encoders.OneHotEncoder":
		return oneHotEncoder(g, s)
	case "sklearn.preprocessing._encoders.OrdinalEncoder":
		return ordinalEncoder(g, s)
	case "sklearn.impute._base.SimpleImputer":
		return simpleImputer(g, s)
	case "sklearn.impute._iterative.IterativeImputer":
		return iterativeImputer(g, s)
	case "sklearn.impute._knn.KNNImputer":
		return knnImputer(g, s)
	case "sklearn.impute._base.MissingIndicator":
		return missingIndicator(g, s)
	case "sklearn.compose._column_transformer.ColumnTransformer":
		return columnTransformer(s)
	case "sklearn.feature_extraction.text.CountVectorizer", "sklearn.feature_extraction.text.TfidfVectorizer":
		return vectorizer(g, s)
	case "sklearn.feature_extraction.text.HashingVectorizer":
		return hashingVectorizer(g, s)
	case "sklearn.preprocessing._function_transformer.FunctionTransformer":
		return functionTransformer(g, s)
	case "sklearn.feature_extraction.text.TfidfTransformer":
		return tfidfTransformer(g, s)
	}
	return nil, fmt.Errorf("%w: the step %s (a transformer mlrun does not run in Go)", ErrNotInGo, class)
}

// widths checks that per-feature arrays (nil ones aside) have one value
// per input feature.
func (s *state) widths(g *stage, arrays ...[]float64) error {
	if s.err != nil {
		return s.err
	}
	for _, a := range arrays {
		if a == nil {
			continue
		}
		if g.nIn == 0 {
			g.nIn = len(a)
		}
		if len(a) != g.nIn {
			return fmt.Errorf("%w: %s has %d values for %d features", ErrNotInGo, g.class, len(a), g.nIn)
		}
	}
	return nil
}

// centerScale makes the stage of a scaler that subtracts a center and
// divides by a scale, each when its flag (the key of a boolean
// parameter, default true; "" for always) says so: StandardScaler,
// RobustScaler, MaxAbsScaler.
func centerScale(g *stage, s *state, withCenter, centerKey, withScale, scaleKey string) (*stage, error) {
	var center, scale []float64
	if centerKey != "" && s.bool(withCenter, true) {
		center = s.floats(centerKey)
	}
	if withScale == "" || s.bool(withScale, true) {
		scale = s.floats(scaleKey)
	}
	g.transform = func(x *matrix) {
		for r := 0; r < x.rows; r++ {
			row := x.row(r)
			for j := range row {
				if center != nil {
					row[j] -= center[j]
				}
				if scale != nil {
					row[j] /= scale[j]
				}
			}
		}
	}
	return g, s.widths(g, center, scale)
}

// resize gives x a new width: a transformer that changes the number of
// columns writes its rows here.
func (x *matrix) resize(cols int, row func(in, out []float64)) {
	v := make([]float64, x.rows*cols)
	for r := 0; r < x.rows; r++ {
		row(x.row(r), v[r*cols:(r+1)*cols])
	}
	x.cols, x.v = cols, v
}

// projection makes the stage of a PCA ((X - mean_) @ components_.T,
// divided by sqrt(explained_variance_) when whitened) or a TruncatedSVD
// (X @ components_.T).
func projection(g *stage, s *state) (*stage, error) {
	g.allowNaN = false
	ca := s.array("components_")
	comp := s.floats("components_")
	var mean, scale []float64
	if s.has("mean_") && s.d.get("mean_") != nil {
		mean = s.floats("mean_")
	}
	if s.bool("whiten", false) {
		ev := s.floats("explained_variance_")
		scale = make([]float64, len(ev))
		for i, v := range ev {
			scale[i] = math.Sqrt(v)
		}
	}
	if s.err != nil {
		return nil, s.err
	}
	if len(ca.shape) != 2 || scale != nil && len(scale) != ca.shape[0] {
		return nil, fmt.Errorf("%w: %s's components_ is not a matrix of its components", ErrNotInGo, g.class)
	}
	k, n := ca.shape[0], ca.shape[1]
	if err := s.widths(g, mean, make([]float64, n)); err != nil {
		return nil, err
	}
	g.transform = func(x *matrix) {
		centered := make([]float64, n)
		x.resize(k, func(in, out []float64) {
			copy(centered, in)
			for j := range centered {
				if mean != nil {
					centered[j] -= mean[j]
				}
			}
			for c := range out {
				var sum float64
				for j, v := range centered {
					sum += float64(v * comp[c*n+j])
				}
				out[c] = sum
				if scale != nil {
					out[c] /= scale[c]
				}
			}
		})
	}
	return g, nil
}

// polynomial makes the stage of a PolynomialFeatures as scikit-learn's
// dense transform builds its columns: the bias, the features, then each
// degree's terms as the previous degree's times one feature.
func polynomial(g *stage, s *state) (*stage, error) {
	g.allowNaN = false
	bias := s.bool("include_bias", true)
	only := s.bool("interaction_only", false)
	minDeg, maxDeg := s.int("_min_degree"), s.int("_max_degree")
	full, nOut := s.int("_n_out_full"), s.int("n_output_features_")
	if s.err != nil {
		return nil, s.err
	}
	n := g.nIn
	if n <= 0 || maxDeg < 1 || minDeg < 0 || minDeg > maxDeg || nOut > full || full > 1<<20 {
		return nil, fmt.Errorf("%w: PolynomialFeatures of degrees %d–%d on %d features", ErrNotInGo, minDeg, maxDeg, n)
	}
	// terms is a row's full output, in scikit-learn's order.
	terms := func(x, xp []float64) error {
		col := 0
		if bias {
			xp[0], col = 1, 1
		}
		copy(xp[col:col+n], x)
		index := make([]int, 0, n+1)
		for j := range n {
			index = append(index, col+j)
		}
		col += n
		index = append(index, col)
		for d := 2; d <= maxDeg; d++ {
			next := make([]int, 0, n+1)
			end := index[len(index)-1]
			for f := range n {
				start := index[f]
				next = append(next, col)
				if only {
					start += index[f+1] - index[f]
				}
				nextCol := col + end - start
				if nextCol <= col {
					break
				}
				if nextCol > len(xp) {
					return fmt.Errorf("more terms than _n_out_full")
				}
				for i := 0; i < end-start; i++ {
					xp[col+i] = xp[start+i] * x[f]
				}
				col = nextCol
			}
			next = append(next, col)
			index = next
		}
		if col != len(xp) {
			return fmt.Errorf("%d terms, not _n_out_full's %d", col, len(xp))
		}
		return nil
	}
	if err := terms(make([]float64, n), make([]float64, full)); err != nil {
		return nil, fmt.Errorf("%w: PolynomialFeatures: %v", ErrNotInGo, err)
	}
	g.transform = func(x *matrix) {
		xp := make([]float64, full)
		x.resize(nOut, func(in, out []float64) {
			terms(in, xp)
			switch {
			case minDeg <= 1:
				copy(out, xp)
			case bias: // the bias, then the last terms
				out[0] = 1
				copy(out[1:], xp[full-nOut+1:])
			default:
				copy(out, xp[full-nOut:])
			}
		})
	}
	return g, nil
}

// selector makes the stage of a feature selector: VarianceThreshold
// (the features whose variance is above the threshold; NaN passes) or
// SelectKBest (the k best scores, NaN the worst, ties kept as a stable
// sort leaves them).
func selector(g *stage, s *state) (*stage, error) {
	var keep []bool
	switch g.class {
	case "RFE", "RFECV": // support_ as fitted; missing values where the estimator takes them
		keep = s.supportMask()
		g.allowNaN = false
		if e, ok := s.d.get("estimator_").(*object); ok && e.class.module == "sklearn.ensemble._hist_gradient_boosting.gradient_boosting" {
			g.allowNaN = true
		}
	case "SelectFromModel":
		var err error
		if keep, err = fromModelMask(s); err != nil {
			return nil, err
		}
		g.allowNaN = false
	case "SelectPercentile":
		g.allowNaN = false
		pct, ok := pyNumber(s.d.get("percentile"))
		if !ok {
			s.fail("percentile is %s", describe(s.d.get("percentile")))
		}
		keep = percentileMask(s.floats("scores_"), pct)
	case "VarianceThreshold":
		g.allowNaN, g.allowInf = true, true // force_all_finite=False
		vars := s.floats("variances_")
		thr, _ := pyNumber(s.d.get("threshold"))
		for _, v := range vars {
			keep = append(keep, v > thr)
		}
	default:
		g.allowNaN = false
		scores := s.floats("scores_")
		keep = make([]bool, len(scores))
		switch k := s.d.get("k").(type) {
		case string:
			if k != "all" {
				s.fail("k is %q", k)
			}
			for i := range keep {
				keep[i] = true
			}
		case int64:
			if k < 0 || int(k) > len(scores) {
				s.fail("k is %d for %d features", k, len(scores))
				break
			}
			order := make([]int, len(scores))
			for i := range order {
				order[i] = i
			}
			clean := func(v float64) float64 {
				if math.IsNaN(v) {
					return -math.MaxFloat64
				}
				return v
			}
			slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(clean(scores[a]), clean(scores[b])) })
			for _, i := range order[len(order)-int(k):] {
				keep[i] = true
			}
		default:
			s.fail("k is %s", describe(k))
		}
	}
	if s.err != nil {
		return nil, s.err
	}
	var idx []int
	for i, k := range keep {
		if k {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil, fmt.Errorf("%w: %s keeps no feature", ErrNotInGo, g.class)
	}
	if err := s.widths(g, make([]float64, len(keep))); err != nil {
		return nil, err
	}
	g.transform = func(x *matrix) {
		x.resize(len(idx), func(in, out []float64) {
			for c, i := range idx {
				out[c] = in[i]
			}
		})
	}
	return g, nil
}
