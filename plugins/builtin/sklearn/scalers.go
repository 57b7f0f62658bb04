package sklearn

import (
	"fmt"
	"math"
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
	case "sklearn.preprocessing._encoders.OneHotEncoder":
		return oneHotEncoder(g, s)
	case "sklearn.preprocessing._encoders.OrdinalEncoder":
		return ordinalEncoder(g, s)
	case "sklearn.impute._base.SimpleImputer":
		return simpleImputer(g, s)
	case "sklearn.compose._column_transformer.ColumnTransformer":
		return columnTransformer(s)
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
