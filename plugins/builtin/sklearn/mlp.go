package sklearn

import (
	"fmt"
	"math"
)

// mlp makes the stage of a fitted MLPClassifier or MLPRegressor: the
// forward pass of scikit-learn's _forward_pass_fast — each layer
// activation @ coefs_[i] + intercepts_[i], the hidden activation
// between, the output activation last — then, for a classifier, its
// label binarizer read backwards.
func mlp(g *stage, s *state, predictFn string) (*stage, error) {
	cl, ok1 := s.d.get("coefs_").(*list)
	il, ok2 := s.d.get("intercepts_").(*list)
	if !ok1 || !ok2 || len(cl.items) == 0 || len(cl.items) != len(il.items) {
		return nil, fmt.Errorf("%w: %s without matching coefs_ and intercepts_", ErrNotInGo, g.class)
	}
	type layer struct {
		w          []float64 // in × out, row-major
		b          []float64
		in, outDim int
	}
	layers := make([]layer, len(cl.items))
	for i := range layers {
		wa, err := readArray(cl.items[i])
		if err != nil || len(wa.shape) != 2 {
			return nil, fmt.Errorf("%w: %s's coefs_[%d] is not a matrix", ErrNotInGo, g.class, i)
		}
		w, err := wa.floats()
		if err != nil {
			return nil, fmt.Errorf("%w: %s's coefs_[%d]: %v", ErrNotInGo, g.class, i, err)
		}
		ba, err := readArray(il.items[i])
		var b []float64
		if err == nil {
			b, err = ba.floats()
		}
		if err != nil || len(b) != wa.shape[1] || i > 0 && wa.shape[0] != layers[i-1].outDim {
			return nil, fmt.Errorf("%w: %s's layer %d does not fit its neighbours", ErrNotInGo, g.class, i)
		}
		layers[i] = layer{w: w, b: b, in: wa.shape[0], outDim: wa.shape[1]}
	}
	if err := s.widths(g, make([]float64, layers[0].in)); err != nil {
		return nil, err
	}
	hidden, err := activation(s.str("activation"))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNotInGo, g.class, err)
	}
	outAct := s.str("out_activation_")
	var output func([]float64)
	if outAct == "softmax" {
		output = func(v []float64) { softmax(v) }
	} else if output, err = activation(outAct); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNotInGo, g.class, err)
	}
	nOut := layers[len(layers)-1].outDim
	// forward is the output layer's activations for each row of x.
	forward := func(x *matrix) [][]float64 {
		out := make([][]float64, x.rows)
		for r := range out {
			a := x.row(r)
			for i, l := range layers {
				next := make([]float64, l.outDim)
				for c := range next {
					var sum float64
					for j, v := range a {
						sum += float64(v * l.w[j*l.outDim+c])
					}
					next[c] = sum + l.b[c]
				}
				if i < len(layers)-1 {
					hidden(next)
				} else {
					output(next)
				}
				a = next
			}
			out[r] = a
		}
		return out
	}
	if g.class == "MLPRegressor" {
		if predictFn != "predict" {
			return nil, fmt.Errorf("%w: %s.%s", ErrNotInGo, g.class, predictFn)
		}
		g.predict = func(x *matrix) any {
			y := forward(x)
			if nOut != 1 {
				return y
			}
			flat := make([]float64, len(y))
			for r, v := range y {
				flat[r] = v[0]
			}
			return flat
		}
		return g, nil
	}
	lb, _ := s.d.get("_label_binarizer").(*object)
	var lbs *dict
	if lb != nil {
		lbs, _ = lb.state.(*dict)
	}
	if lbs == nil {
		return nil, fmt.Errorf("%w: %s without its label binarizer", ErrNotInGo, g.class)
	}
	yType, _ := lbs.get("y_type_").(string)
	classes := s.classes()
	if s.err != nil {
		return nil, s.err
	}
	switch {
	case yType == "binary" && nOut == 1 && len(classes) == 2:
	case yType == "multiclass" && nOut == len(classes):
	default:
		return nil, fmt.Errorf("%w: %s with %s targets (%d outputs, %d classes)", ErrNotInGo, g.class, yType, nOut, len(classes))
	}
	proba := func(x *matrix) [][]float64 {
		y := forward(x)
		if nOut == 1 {
			for r, v := range y {
				y[r] = []float64{1 - v[0], v[0]}
			}
		}
		return y
	}
	label := func(x *matrix) []int {
		y := forward(x)
		out := make([]int, len(y))
		for r, v := range y {
			if nOut == 1 { // LabelBinarizer's threshold: (pos + neg) / 2
				out[r] = b2i(v[0] > 0.5)
			} else {
				out[r] = argmax(v)
			}
		}
		return out
	}
	return classify(g, predictFn, classes, proba, label)
}

// activation is scikit-learn's neural network activation, in place.
func activation(name string) (func([]float64), error) {
	switch name {
	case "identity":
		return func([]float64) {}, nil
	case "relu":
		return func(v []float64) {
			for i, x := range v {
				v[i] = math.Max(x, 0) // np.maximum: NaN stays
			}
		}, nil
	case "tanh":
		return func(v []float64) {
			for i, x := range v {
				v[i] = math.Tanh(x)
			}
		}, nil
	case "logistic":
		return func(v []float64) {
			for i, x := range v {
				v[i] = expit(x)
			}
		}, nil
	}
	return nil, fmt.Errorf("the activation %q", name)
}
