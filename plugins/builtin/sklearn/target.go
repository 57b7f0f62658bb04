package sklearn

import (
	"fmt"
	"math"
)

// transformedTarget makes the stage of a fitted
// TransformedTargetRegressor: its regressor's predictions (the regressor
// takes the input as it is and checks it itself) through its target
// transformer's inverse — a FunctionTransformer's inverse_func (a numpy
// ufunc of ufuncs, or none) or a fitted scaler's inverse_transform
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

// ufuncs are the numpy ufuncs a FunctionTransformer's func or
// inverse_func may name, by name.
var ufuncs = map[string]func(float64) float64{
	"exp": math.Exp, "expm1": math.Expm1, "log": math.Log, "log1p": math.Log1p, "sqrt": math.Sqrt,
	"square": func(v float64) float64 { return v * v }, "exp2": math.Exp2, "log2": math.Log2, "log10": math.Log10,
	"negative": func(v float64) float64 { return -v }, "reciprocal": func(v float64) float64 { return 1 / v },
	"absolute": math.Abs, "cbrt": math.Cbrt, "arcsinh": math.Asinh, "tanh": math.Tanh,
}

// ufunc reads a numpy ufunc a pickle names (nil: none, the identity).
func ufunc(v any) (func(float64) float64, error) {
	switch fn := v.(type) {
	case nil:
		return func(v float64) float64 { return v }, nil
	case *global:
		f, ok := ufuncs[fn.name]
		switch fn.module {
		case "numpy", "numpy.core._multiarray_umath", "numpy._core._multiarray_umath", "numpy.core.umath", "numpy._core.umath":
		default:
			ok = false
		}
		if !ok {
			return nil, fmt.Errorf("%w: the function %s", ErrNotInGo, fn)
		}
		return f, nil
	}
	return nil, fmt.Errorf("%w: a function %s", ErrNotInGo, describe(v))
}

// functionTransformer makes the stage of a FunctionTransformer whose
// func is a numpy ufunc (or none) without kw_args: each value through
// it; a DataFrame stays one, with its names (validate=False checks
// nothing), or (validate=True) it is checked as an array first.
func functionTransformer(g *stage, s *state) (*stage, error) {
	if s.d.get("kw_args") != nil {
		return nil, fmt.Errorf("%w: a FunctionTransformer with kw_args", ErrNotInGo)
	}
	if s.bool("accept_sparse", false) {
		return nil, fmt.Errorf("%w: a FunctionTransformer with accept_sparse", ErrNotInGo)
	}
	f, err := ufunc(s.d.get("func"))
	if err != nil {
		return nil, err
	}
	if s.bool("validate", false) {
		g.allowNaN = false
		g.transform = func(x *matrix) {
			for i, v := range x.v {
				x.v[i] = f(v)
			}
		}
		return g, nil
	}
	g.table = func(in *frame) (*frame, error) {
		x, err := in.numbers()
		if err != nil {
			return nil, err
		}
		for i, v := range x.v {
			x.v[i] = f(v)
		}
		out := frameOf(x)
		out.names = in.names
		return out, nil
	}
	return g, nil
}

// inverseOf is a fitted target transformer's inverse, value by value (j
// the output's column).
func inverseOf(t *state) (func(v float64, j int) float64, error) {
	switch t.class {
	case "FunctionTransformer":
		if t.d.get("inv_kw_args") != nil {
			return nil, fmt.Errorf("%w: a FunctionTransformer with inv_kw_args", ErrNotInGo)
		}
		f, err := ufunc(t.d.get("inverse_func"))
		if err != nil {
			return nil, fmt.Errorf("%w (a target's inverse_func)", err)
		}
		return func(v float64, _ int) float64 { return f(v) }, nil
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
