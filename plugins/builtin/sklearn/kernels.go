package sklearn

import (
	"fmt"
	"math"
)

// Kernel models: KernelRidge, Nystroem and RBFSampler, with scikit-learn's
// pairwise_kernels.

// kernelFunc is a pairwise kernel of two rows.
type kernelFunc func(x, y []float64) float64

// pairwiseKernel is scikit-learn's pairwise_kernels(metric) for one pair
// of rows: linear (x·y), rbf (exp(-γ d²), d² expanded as
// euclidean_distances expands it: ||x||² - 2 x·y + ||y||², clipped at 0),
// poly ((γ x·y + c0)^degree), sigmoid (tanh(γ x·y + c0)), laplacian
// (exp(-γ |x - y|₁)), cosine (x·y over the norms). gamma defaults to
// 1/n_features.
func pairwiseKernel(name string, gamma any, degree, coef0 float64, nIn int) (kernelFunc, error) {
	g, ok := pyNumber(gamma)
	if gamma == nil {
		g, ok = 1/float64(nIn), true
	}
	if !ok {
		return nil, fmt.Errorf("%w: a kernel's gamma is %s", ErrNotInGo, describe(gamma))
	}
	dot := func(x, y []float64) float64 {
		var s float64
		for j, v := range x {
			s += float64(v * y[j])
		}
		return s
	}
	switch name {
	case "linear":
		return dot, nil
	case "rbf":
		return func(x, y []float64) float64 {
			d := max(float64(-2*dot(x, y))+sqNorm(x)+sqNorm(y), 0)
			return math.Exp(d * -g)
		}, nil
	case "poly", "polynomial":
		return func(x, y []float64) float64 {
			return math.Pow(float64(dot(x, y)*g)+coef0, degree)
		}, nil
	case "sigmoid":
		return func(x, y []float64) float64 {
			return math.Tanh(float64(dot(x, y)*g) + coef0)
		}, nil
	case "laplacian":
		return func(x, y []float64) float64 {
			var s float64
			for j, v := range x {
				s += math.Abs(v - y[j])
			}
			return math.Exp(-g * s)
		}, nil
	case "cosine":
		return func(x, y []float64) float64 {
			nx, ny := math.Sqrt(sqNorm(x)), math.Sqrt(sqNorm(y))
			if nx == 0 {
				nx = 1
			}
			if ny == 0 {
				ny = 1
			}
			var s float64
			for j, v := range x {
				s += float64((v / nx) * (y[j] / ny))
			}
			return s
		}, nil
	}
	return nil, fmt.Errorf("%w: the kernel %q", ErrNotInGo, name)
}

// kernelOf reads an estimator's kernel, gamma, degree and coef0.
func kernelOf(g *stage, s *state, nIn int) (kernelFunc, error) {
	name, ok := s.d.get("kernel").(string)
	if !ok {
		return nil, fmt.Errorf("%w: %s with the kernel %s", ErrNotInGo, g.class, describe(s.d.get("kernel")))
	}
	if s.d.get("kernel_params") != nil {
		return nil, fmt.Errorf("%w: %s with kernel_params", ErrNotInGo, g.class)
	}
	degree, _ := pyNumber(s.d.get("degree"))
	coef0, _ := pyNumber(s.d.get("coef0"))
	return pairwiseKernel(name, s.d.get("gamma"), degree, coef0, nIn)
}

// kernelFit reads a kernel model's fitted points (fitKey) and their
// coefficients (coefKey: a value a point, or a row of targets).
type kernelFit struct {
	fit, coef      []float64
	n, nf, targets int
	vector         bool // one-dimensional coefficients: one answer a row
}

func readKernelFit(g *stage, s *state, fitKey, coefKey string) (*kernelFit, error) {
	fa := s.array(fitKey)
	kf := &kernelFit{fit: s.floats(fitKey), coef: s.floats(coefKey), targets: 1}
	ca := s.array(coefKey)
	if s.err != nil {
		return nil, s.err
	}
	if len(fa.shape) != 2 || len(ca.shape) == 0 || ca.shape[0] != fa.shape[0] || len(ca.shape) > 2 {
		return nil, fmt.Errorf("%w: %s with %s of shape %v, %s %v", ErrNotInGo, g.class, fitKey, fa.shape, coefKey, ca.shape)
	}
	kf.n, kf.nf, kf.vector = fa.shape[0], fa.shape[1], len(ca.shape) == 1
	if !kf.vector {
		kf.targets = ca.shape[1]
	}
	return kf, s.widths(g, make([]float64, kf.nf))
}

// sums is each row's kernel with the fitted points times their
// coefficients, a value a target, added point by point.
func (kf *kernelFit) sums(x *matrix, k kernelFunc) []float64 {
	out := make([]float64, x.rows*kf.targets)
	kv := make([]float64, kf.n)
	for r := 0; r < x.rows; r++ {
		row := x.row(r)
		for i := range kf.n {
			kv[i] = k(row, kf.fit[i*kf.nf:(i+1)*kf.nf])
		}
		for t := range kf.targets {
			var sum float64
			for i, v := range kv {
				sum += float64(v * kf.coef[i*kf.targets+t])
			}
			out[r*kf.targets+t] = sum
		}
	}
	return out
}

// answer is out as a vector or rows of targets, as the model's
// coefficients are shaped.
func (kf *kernelFit) answer(out []float64) any {
	if kf.vector {
		return out
	}
	return rows(out, kf.targets)
}

// kernelRidge makes the stage of a fitted KernelRidge: the kernel of the
// input and X_fit_, times dual_coef_.
func kernelRidge(g *stage, s *state, predictFn string) (*stage, error) {
	if predictFn != "predict" {
		return nil, fmt.Errorf("%w: %s.%s", ErrNotInGo, g.class, predictFn)
	}
	kf, err := readKernelFit(g, s, "X_fit_", "dual_coef_")
	if err != nil {
		return nil, err
	}
	k, err := kernelOf(g, s, kf.nf)
	if err != nil {
		return nil, err
	}
	g.predict = func(x *matrix) any { return kf.answer(kf.sums(x, k)) }
	return g, nil
}

// nystroem makes the stage of a fitted Nystroem: the kernel of the input
// and components_, times normalization_ transposed.
func nystroem(g *stage, s *state) (*stage, error) {
	g.allowNaN = false
	ca := s.array("components_")
	comp := s.floats("components_")
	na := s.array("normalization_")
	norm := s.floats("normalization_")
	if s.err != nil {
		return nil, s.err
	}
	if len(ca.shape) != 2 || len(na.shape) != 2 || na.shape[1] != ca.shape[0] {
		return nil, fmt.Errorf("%w: Nystroem with components_ %v and normalization_ %v", ErrNotInGo, ca.shape, na.shape)
	}
	m, nf, out := ca.shape[0], ca.shape[1], na.shape[0]
	if err := s.widths(g, make([]float64, nf)); err != nil {
		return nil, err
	}
	k, err := kernelOf(g, s, nf)
	if err != nil {
		return nil, err
	}
	g.transform = func(x *matrix) {
		kv := make([]float64, m)
		x.resize(out, func(in, o []float64) {
			for i := range m {
				kv[i] = k(in, comp[i*nf:(i+1)*nf])
			}
			for c := range out {
				var sum float64
				for i, v := range kv {
					sum += float64(v * norm[c*m+i])
				}
				o[c] = sum
			}
		})
	}
	return g, nil
}

// rbfSampler makes the stage of a fitted RBFSampler: cos(X @
// random_weights_ + random_offset_) · √2 / √n_components.
func rbfSampler(g *stage, s *state) (*stage, error) {
	g.allowNaN = false
	wa := s.array("random_weights_")
	w := s.floats("random_weights_")
	off := s.floats("random_offset_")
	nc, ok := pyNumber(s.d.get("n_components"))
	if s.err != nil {
		return nil, s.err
	}
	if !ok || len(wa.shape) != 2 || wa.shape[1] != len(off) {
		return nil, fmt.Errorf("%w: RBFSampler with random_weights_ %v", ErrNotInGo, wa.shape)
	}
	nf, out := wa.shape[0], wa.shape[1]
	if err := s.widths(g, make([]float64, nf)); err != nil {
		return nil, err
	}
	scale := math.Sqrt(2.0) / math.Sqrt(nc)
	g.transform = func(x *matrix) {
		x.resize(out, func(in, o []float64) {
			for c := range out {
				var sum float64
				for j, v := range in {
					sum += float64(v * w[j*out+c])
				}
				o[c] = math.Cos(sum+off[c]) * scale
			}
		})
	}
	return g, nil
}
