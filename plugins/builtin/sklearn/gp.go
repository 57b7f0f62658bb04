package sklearn

import (
	"fmt"
	"math"
)

// gpk is a Gaussian process kernel: k of two different rows, and diag
// its value at a row with itself (the kernel's diag, where a white
// kernel adds its noise).
type gpk struct {
	k    kernelFunc
	diag func(x []float64) float64
}

// gpKernelDiag reads a kernel as gpKernel does, with its diagonal.
func gpKernelDiag(v any, nIn int) (*gpk, error) {
	k, err := gpKernel(v, nIn)
	if err != nil {
		return nil, err
	}
	o := v.(*object)
	st := o.state.(*dict)
	switch o.class.name {
	case "Sum", "Product":
		a, err := gpKernelDiag(st.get("k1"), nIn)
		if err != nil {
			return nil, err
		}
		b, err := gpKernelDiag(st.get("k2"), nIn)
		if err != nil {
			return nil, err
		}
		if o.class.name == "Sum" {
			return &gpk{k, func(x []float64) float64 { return a.diag(x) + b.diag(x) }}, nil
		}
		return &gpk{k, func(x []float64) float64 { return a.diag(x) * b.diag(x) }}, nil
	case "Exponentiation":
		a, err := gpKernelDiag(st.get("kernel"), nIn)
		if err != nil {
			return nil, err
		}
		e, _ := pyNumber(st.get("exponent"))
		return &gpk{k, func(x []float64) float64 { return math.Pow(a.diag(x), e) }}, nil
	case "ConstantKernel":
		c, _ := pyNumber(st.get("constant_value"))
		return &gpk{k, func([]float64) float64 { return c }}, nil
	case "WhiteKernel":
		n, _ := pyNumber(st.get("noise_level"))
		return &gpk{k, func([]float64) float64 { return n }}, nil
	case "DotProduct":
		return &gpk{k, func(x []float64) float64 { return k(x, x) }}, nil
	}
	return &gpk{k, func([]float64) float64 { return 1 }}, nil // stationary, normalized
}

// gpKernel reads a fitted Gaussian process kernel (a tree of
// sklearn.gaussian_process.kernels objects) as a function of two rows,
// each computed as scikit-learn's __call__(X, Y) computes it for X not
// Y: scipy's cdist over the rows divided by the length scales, and
// numpy's elementwise arithmetic.
func gpKernel(v any, nIn int) (kernelFunc, error) {
	o, ok := v.(*object)
	var st *dict
	if ok {
		st, _ = o.state.(*dict)
	}
	if st == nil || o.class.module != "sklearn.gaussian_process.kernels" {
		return nil, fmt.Errorf("%w: a Gaussian process kernel %s", ErrNotInGo, describe(v))
	}
	s := &state{d: st, class: o.class.name}
	num := func(k string) (float64, error) {
		f, ok := pyNumber(st.get(k))
		if !ok {
			return 0, fmt.Errorf("%w: %s's %s is %s", ErrNotInGo, o.class.name, k, describe(st.get(k)))
		}
		return f, nil
	}
	// scale is the length scale of each feature (one for all when a
	// number).
	scale := func() ([]float64, error) {
		if f, ok := pyNumber(st.get("length_scale")); ok {
			l := make([]float64, nIn)
			for i := range l {
				l[i] = f
			}
			return l, nil
		}
		l := s.floats("length_scale")
		if s.err != nil || len(l) != nIn {
			return nil, fmt.Errorf("%w: %s's length_scale for %d features", ErrNotInGo, o.class.name, nIn)
		}
		return l, nil
	}
	sqDist := func(x, y, l []float64) float64 { // cdist(x / l, y / l, "sqeuclidean")
		var d float64
		for j := range x {
			t := x[j]/l[j] - y[j]/l[j]
			d += float64(t * t)
		}
		return d
	}
	switch o.class.name {
	case "Sum", "Product":
		k1, err := gpKernel(st.get("k1"), nIn)
		if err != nil {
			return nil, err
		}
		k2, err := gpKernel(st.get("k2"), nIn)
		if err != nil {
			return nil, err
		}
		if o.class.name == "Sum" {
			return func(x, y []float64) float64 { return k1(x, y) + k2(x, y) }, nil
		}
		return func(x, y []float64) float64 { return k1(x, y) * k2(x, y) }, nil
	case "Exponentiation":
		k, err := gpKernel(st.get("kernel"), nIn)
		if err != nil {
			return nil, err
		}
		e, err := num("exponent")
		if err != nil {
			return nil, err
		}
		return func(x, y []float64) float64 { return math.Pow(k(x, y), e) }, nil
	case "ConstantKernel":
		c, err := num("constant_value")
		return func(_, _ []float64) float64 { return c }, err
	case "WhiteKernel": // zero between different sets of points
		return func(_, _ []float64) float64 { return 0 }, nil
	case "RBF":
		l, err := scale()
		return func(x, y []float64) float64 { return math.Exp(-0.5 * sqDist(x, y, l)) }, err
	case "Matern":
		l, err := scale()
		if err != nil {
			return nil, err
		}
		nu, err := num("nu")
		if err != nil {
			return nil, err
		}
		if nu != 0.5 && nu != 1.5 && nu != 2.5 && !math.IsInf(nu, 1) {
			return nil, fmt.Errorf("%w: a Matern kernel of nu %v (Bessel functions)", ErrNotInGo, nu)
		}
		return func(x, y []float64) float64 {
			d := math.Sqrt(sqDist(x, y, l))
			switch nu {
			case 0.5:
				return math.Exp(-d)
			case 1.5:
				k := d * math.Sqrt(3)
				return (1.0 + k) * math.Exp(-k)
			case 2.5:
				k := d * math.Sqrt(5)
				return (1.0 + k + k*k/3.0) * math.Exp(-k)
			}
			return math.Exp(-(d * d) / 2.0)
		}, nil
	case "RationalQuadratic", "ExpSineSquared": // unscaled distances, one length scale
		second := map[string]string{"RationalQuadratic": "alpha", "ExpSineSquared": "periodicity"}[o.class.name]
		ls, err := num("length_scale")
		if err != nil {
			return nil, err
		}
		a, err := num(second)
		if err != nil {
			return nil, err
		}
		ones := make([]float64, nIn)
		for i := range ones {
			ones[i] = 1
		}
		if o.class.name == "RationalQuadratic" {
			return func(x, y []float64) float64 {
				return math.Pow(1+sqDist(x, y, ones)/(2*a*(ls*ls)), -a)
			}, nil
		}
		return func(x, y []float64) float64 { // a is the periodicity
			t := math.Sin(math.Pi/a*math.Sqrt(sqDist(x, y, ones))) / ls
			return math.Exp(-2 * (t * t))
		}, nil
	case "DotProduct":
		s0, err := num("sigma_0")
		return func(x, y []float64) float64 {
			var d float64
			for j := range x {
				d += float64(x[j] * y[j])
			}
			return d + s0*s0
		}, err
	}
	return nil, fmt.Errorf("%w: the Gaussian process kernel %s", ErrNotInGo, o.class.name)
}

// gaussianProcess makes the stage of a fitted GaussianProcessRegressor's
// predict (the posterior mean): the kernel of the input and X_train_,
// times alpha_, then undone the target's normalization.
func gaussianProcess(g *stage, s *state, predictFn string) (*stage, error) {
	if predictFn != "predict" {
		return nil, fmt.Errorf("%w: %s.%s", ErrNotInGo, g.class, predictFn)
	}
	kf, err := readKernelFit(g, s, "X_train_", "alpha_")
	if err != nil {
		return nil, err
	}
	mean := s.floatsOrScalar("_y_train_mean")
	std := s.floatsOrScalar("_y_train_std")
	if s.err != nil {
		return nil, s.err
	}
	if len(mean) != 1 && len(mean) != kf.targets || len(std) != 1 && len(std) != kf.targets {
		return nil, fmt.Errorf("%w: %s's target normalization for %d targets", ErrNotInGo, g.class, kf.targets)
	}
	k, err := gpKernel(s.d.get("kernel_"), kf.nf)
	if err != nil {
		return nil, err
	}
	at := func(v []float64, t int) float64 {
		if len(v) == 1 {
			return v[0]
		}
		return v[t]
	}
	kf.vector = kf.targets == 1 // a column of one target is squeezed
	g.predict = func(x *matrix) any {
		out := kf.sums(x, k)
		for i, v := range out {
			t := i % kf.targets
			out[i] = float64(at(std, t)*v) + at(mean, t)
		}
		return kf.answer(out)
	}
	return g, nil
}

// Williams and Barber's approximation of the logistic by erfs, as
// scikit-learn's Laplace classifier integrates it.
var gpcLambdas = []float64{0.41, 0.4, 0.37, 0.44, 0.39}
var gpcCoefs = []float64{-1854.8214151, 3516.89893646, 221.29346712, 128.12323805, -2010.49422654}

// gaussianProcessClassifier makes the stage of a fitted binary
// GaussianProcessClassifier (Laplace approximation): the latent mean
// f* = k(X_train_, x)·(y_train_ - pi_), its class by its sign; and
// predict_proba the logistic integrated over f*'s variance (k(x, x) less
// |v|², v solving L v = √W k) by scikit-learn's five erfs.
func gaussianProcessClassifier(g *stage, s *state, predictFn string) (*stage, error) {
	if predictFn != "predict" && predictFn != "predict_proba" {
		return nil, fmt.Errorf("%w: %s.%s", ErrNotInGo, g.class, predictFn)
	}
	classes := s.classes()
	be, ok := s.d.get("base_estimator_").(*object)
	if s.err != nil {
		return nil, s.err
	}
	if ok && be.class.name == "OneVsRestClassifier" && s.str("multi_class") == "one_vs_rest" {
		// The wrapper checks the input; its one-vs-rest of binary
		// classifiers answers the array.
		inner := &Predictor{}
		if err := inner.add(be, predictFn); err != nil {
			return nil, err
		}
		g.answer = func(f *frame) (any, error) {
			x, err := g.validate(f)
			if err != nil {
				return nil, err
			}
			return inner.predict(frameOf(x))
		}
		return g, nil
	}
	if !ok || be.class.name != "_BinaryGaussianProcessClassifierLaplace" || len(classes) != 2 {
		return nil, fmt.Errorf("%w: a GaussianProcessClassifier of %d classes (%s)", ErrNotInGo, len(classes), s.str("multi_class"))
	}
	st, _ := be.state.(*dict)
	if st == nil {
		return nil, fmt.Errorf("%w: %s without its binary classifier's state", ErrNotInGo, g.class)
	}
	return binaryGPC(g, &state{d: st, class: "GaussianProcessClassifier"}, classes, predictFn)
}

// binaryGPC is the Laplace binary classifier of its fitted state b.
func binaryGPC(g *stage, b *state, classes []any, predictFn string) (*stage, error) {
	xa := b.array("X_train_")
	train := b.floats("X_train_")
	yt, pi := b.floats("y_train_"), b.floats("pi_")
	wsr := b.floats("W_sr_")
	la := b.array("L_")
	L := b.floats("L_")
	if b.err != nil {
		return nil, b.err
	}
	if len(xa.shape) != 2 {
		return nil, fmt.Errorf("%w: %s's X_train_ of shape %v", ErrNotInGo, g.class, xa.shape)
	}
	n, nf := xa.shape[0], xa.shape[1]
	if len(yt) != n || len(pi) != n || len(wsr) != n || len(la.shape) != 2 || la.shape[0] != n || la.shape[1] != n {
		return nil, fmt.Errorf("%w: %s's fitted arrays disagree", ErrNotInGo, g.class)
	}
	if err := b.widths(g, make([]float64, nf)); err != nil {
		return nil, err
	}
	kern, err := gpKernelDiag(b.d.get("kernel_"), nf)
	if err != nil {
		return nil, err
	}
	resid := make([]float64, n)
	for i := range resid {
		resid[i] = yt[i] - pi[i]
	}
	latent := func(row, kv []float64) float64 {
		var f float64
		for i := range n {
			kv[i] = kern.k(train[i*nf:(i+1)*nf], row)
			f += float64(kv[i] * resid[i])
		}
		return f
	}
	label := func(x *matrix) []int {
		out := make([]int, x.rows)
		kv := make([]float64, n)
		for r := range out {
			out[r] = b2i(latent(x.row(r), kv) > 0)
		}
		return out
	}
	proba := func(x *matrix) [][]float64 {
		out := make([][]float64, x.rows)
		kv, v := make([]float64, n), make([]float64, n)
		for r := range out {
			row := x.row(r)
			f := latent(row, kv)
			for i := range n { // forward substitution: L v = √W k
				sum := wsr[i] * kv[i]
				for j := range i {
					sum -= float64(L[i*n+j] * v[j])
				}
				v[i] = sum / L[i*n+i]
			}
			var vv float64
			for _, t := range v {
				vv += float64(t * t)
			}
			variance := kern.diag(row) - vv
			alpha := 1 / (2 * variance)
			terms := make([]float64, len(gpcLambdas))
			for i, l := range gpcLambdas {
				integral := math.Sqrt(math.Pi/alpha) * math.Erf(l*f*math.Sqrt(alpha/(alpha+l*l))) / (2 * math.Sqrt(variance*2*math.Pi))
				terms[i] = gpcCoefs[i] * integral
			}
			p := npSum(terms) + 0.5*npSum(gpcCoefs)
			out[r] = []float64{1 - p, p}
		}
		return out
	}
	return classify(g, predictFn, classes, proba, label)
}
