package sklearn

import (
	"fmt"
	"math"
)

// transformedTarget makes the stage of a fitted
// TransformedTargetRegressor: its regressor's predictions (the regressor
// takes the input as it is and checks it itself) through its target
// transformer's inverse — a FunctionTransformer's inverse_func (a numpy
// ufunc of inverseFuncs, or none) or a fitted scaler's inverse_transform
// — one-dimensional again when the target was fitted so.
func transformedTarget(g *stage, s *state, predictFn string) (*stage, error) {
	if predictFn != "predict" {
		return nil, fmt.Errorf("%w: %s.%s", ErrNotInGo, g.class, predictFn)
	}
	sub := &Predictor{}
	if err := sub.add(s.d.get("regressor_"), "predict"); err != nil {
		return nil, fmt.Errorf("%w (in %s's regressor)", err, g.class)
	}
	t := s.sub("transformer_")
	if s.err != nil {
		return nil, s.err
	}
	inverse, err := inverseOf(t)
	if err != nil {
		return nil, err
	}
	oneDim := s.int("_training_dim") == 1
	g.nIn = sub.NumFeatures()
	g.answer = func(f *frame) (any, error) {
		out, err := sub.predict(f)
		if err != nil {
			return nil, err
		}
		switch y := out.(type) {
		case []float64:
			for i, v := range y {
				y[i] = inverse(v, 0)
			}
			return y, nil
		case [][]float64:
			for _, row := range y {
				for j, v := range row {
					row[j] = inverse(v, j)
				}
			}
			if oneDim && len(y) > 0 && len(y[0]) == 1 {
				flat := make([]float64, len(y))
				for i, row := range y {
					flat[i] = row[0]
				}
				return flat, nil
			}
			return y, nil
		}
		return nil, fmt.Errorf("%s's regressor answered %T", g.class, out)
	}
	return g, s.err
}

// inverseFuncs are the numpy ufuncs a FunctionTransformer's inverse_func
// may name, by name.
var inverseFuncs = map[string]func(float64) float64{
	"exp": math.Exp, "expm1": math.Expm1, "log": math.Log, "log1p": math.Log1p, "sqrt": math.Sqrt,
	"square": func(v float64) float64 { return v * v }, "exp2": math.Exp2, "log2": math.Log2, "log10": math.Log10,
	"negative": func(v float64) float64 { return -v }, "reciprocal": func(v float64) float64 { return 1 / v },
}

// inverseOf is a fitted target transformer's inverse, value by value (j
// the output's column).
func inverseOf(t *state) (func(v float64, j int) float64, error) {
	switch t.class {
	case "FunctionTransformer":
		if t.d.get("inv_kw_args") != nil {
			return nil, fmt.Errorf("%w: a FunctionTransformer with inv_kw_args", ErrNotInGo)
		}
		switch fn := t.d.get("inverse_func").(type) {
		case nil:
			return func(v float64, _ int) float64 { return v }, nil
		case *global:
			f, ok := inverseFuncs[fn.name]
			switch fn.module {
			case "numpy", "numpy.core._multiarray_umath", "numpy._core._multiarray_umath", "numpy.core.umath", "numpy._core.umath":
			default:
				ok = false
			}
			if !ok {
				return nil, fmt.Errorf("%w: a target's inverse_func %s", ErrNotInGo, fn)
			}
			return func(v float64, _ int) float64 { return f(v) }, nil
		default:
			return nil, fmt.Errorf("%w: a target's inverse_func is %s", ErrNotInGo, describe(fn))
		}
	case "StandardScaler", "RobustScaler":
		centerKey, withCenter, withScale := "mean_", "with_mean", "with_std"
		if t.class == "RobustScaler" {
			centerKey, withCenter, withScale = "center_", "with_centering", "with_scaling"
		}
		var center, scale []float64
		if t.bool(withCenter, true) {
			center = t.floats(centerKey)
		}
		if t.bool(withScale, true) {
			scale = t.floats("scale_")
		}
		if t.err != nil {
			return nil, t.err
		}
		return func(v float64, j int) float64 { // X *= scale_; X += center_
			if scale != nil && j < len(scale) {
				v *= scale[j]
			}
			if center != nil && j < len(center) {
				v += center[j]
			}
			return v
		}, nil
	case "MinMaxScaler": // X -= min_; X /= scale_
		minimum, scale := t.floats("min_"), t.floats("scale_")
		if t.err != nil {
			return nil, t.err
		}
		return func(v float64, j int) float64 {
			if j < len(minimum) {
				v -= minimum[j]
				v /= scale[j]
			}
			return v
		}, nil
	case "MaxAbsScaler": // X *= scale_
		scale := t.floats("scale_")
		if t.err != nil {
			return nil, t.err
		}
		return func(v float64, j int) float64 {
			if j < len(scale) {
				v *= scale[j]
			}
			return v
		}, nil
	}
	return nil, fmt.Errorf("%w: a target transformer %s", ErrNotInGo, t.class)
}
