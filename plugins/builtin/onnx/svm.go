package onnx

import (
	"fmt"
	"math"
	"strings"

	"github.com/advancedclimatesystems/gonnx/ops"
	"gorgonia.org/tensor"

	"github.com/mlrun/mlrun/internal/libsvm"
)

// SVMClassifier and SVMRegressor (scikit-learn's SVC, NuSVC, SVR, NuSVR
// and OneClassSVM through skl2onnx), as ONNX's reference implementation
// defines them: one-against-one votes over the support vectors, libsvm's
// pairwise coupling for probabilities (prob_a, prob_b), or a linear
// model without support vectors.

func init() {
	extraOps["SVMClassifier"] = svmClassifier
	extraOps["SVMRegressor"] = svmRegressor
}

// svmKernel is an SVM's kernel with its parameters (gamma, coef0,
// degree).
type svmKernel struct {
	kind          string
	gamma, coef0  float64
	degree        float64
	vectors, coef []float64
	rho           []float64
}

func readSVM(o *op, a attrs) (*svmKernel, error) {
	k := &svmKernel{kind: strings.ToLower(str(a, "kernel_type", "LINEAR"))}
	if p, ok := a.fs("kernel_params"); ok && len(p) > 0 {
		if len(p) != 3 {
			return nil, fmt.Errorf("%s: kernel_params %v", o, p)
		}
		k.gamma, k.coef0, k.degree = p[0], p[1], math.Trunc(p[2])
	}
	switch k.kind {
	case "linear", "poly", "rbf", "sigmoid":
	default:
		return nil, fmt.Errorf("%s: kernel_type %q", o, k.kind)
	}
	k.vectors, _ = a.fs("support_vectors")
	k.coef, _ = a.fs("coefficients")
	k.rho, _ = a.fs("rho")
	if len(k.rho) == 0 || len(k.coef) == 0 {
		return nil, fmt.Errorf("%s: no rho or no coefficients", o)
	}
	return k, nil
}

// dot is the kernel of two vectors.
func (k *svmKernel) dot(x, y []float64) float64 {
	if k.kind == "rbf" {
		s := 0.0
		for i := range x {
			d := x[i] - y[i]
			s += d * d
		}
		return math.Exp(-k.gamma * s)
	}
	s := 0.0
	for i := range x {
		s += x[i] * y[i]
	}
	switch k.kind {
	case "poly":
		return math.Pow(s*k.gamma+k.coef0, k.degree)
	case "sigmoid":
		return math.Tanh(s*k.gamma + k.coef0)
	}
	return s
}

func logistic(v float64) float64 {
	e := 1 / (1 + math.Exp(-math.Abs(v)))
	if v < 0 {
		return 1 - e
	}
	return e
}

func svmClassifier() ops.Operator {
	return &op{name: "SVMClassifier", min: 1, max: 1, numeric: []int{0}, init: func(o *op, a attrs) error {
		k, err := readSVM(o, a)
		if err != nil {
			return err
		}
		labels, err := classLabels(o, a)
		if err != nil {
			return err
		}
		pt := str(a, "post_transform", "NONE")
		post, err := postTransform(o, pt)
		if err != nil {
			return err
		}
		probA, _ := a.fs("prob_a")
		probB, _ := a.fs("prob_b")
		perClass, _ := a.ints("vectors_per_class")
		classes := max(labels.n(), 1)
		vectors := 0
		var start []int
		for _, c := range perClass {
			if c < 0 {
				return fmt.Errorf("%s: vectors_per_class %v", o, perClass)
			}
			start = append(start, vectors)
			vectors += c
		}
		svc := vectors > 0
		pairs := classes * (classes - 1) / 2
		switch {
		case svc && (len(perClass) != classes || len(k.coef) != (classes-1)*vectors || len(k.rho) != pairs || len(k.vectors)%vectors != 0):
			return fmt.Errorf("%s: %d classes, vectors_per_class %v, %d coefficients, %d rho, %d support vector values", o, classes, perClass, len(k.coef), len(k.rho), len(k.vectors))
		case svc && len(probA) > 0 && (len(probA) != pairs || len(probB) != pairs):
			return fmt.Errorf("%s: %d prob_a and %d prob_b for %d pairs of classes", o, len(probA), len(probB), pairs)
		case !svc && len(k.coef)%classes != 0:
			return fmt.Errorf("%s: %d coefficients for %d classes", o, len(k.coef), classes)
		case len(k.rho) == 1 && labels.n() != 2 && svc:
			return fmt.Errorf("%s: one rho for %d classes", o, labels.n())
		}
		allPositive := true
		for _, c := range k.coef {
			allPositive = allPositive && c >= 0
		}
		hasProba := svc && len(probA) > 0
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			x, n, width, err := matrix(o, in[0])
			if err != nil {
				return nil, err
			}
			if (svc && len(k.vectors) != vectors*width) || (!svc && len(k.coef) != classes*width) {
				return nil, fmt.Errorf("%s: support vectors or coefficients of another width than the input's %d", o, width)
			}
			var all []float64
			at := make([]int, n)
			for r := 0; r < n; r++ {
				row := x[r*width : (r+1)*width]
				var scores, votes []float64
				if svc {
					kern := make([]float64, vectors)
					for j := range kern {
						kern[j] = k.dot(row, k.vectors[j*width:(j+1)*width])
					}
					votes = make([]float64, classes)
					e := 0
					for i := 0; i < classes; i++ {
						for j := i + 1; j < classes; j++ {
							s := k.rho[e]
							for v := 0; v < perClass[i]; v++ {
								s += k.coef[(j-1)*vectors+start[i]+v] * kern[start[i]+v]
							}
							for v := 0; v < perClass[j]; v++ {
								s += k.coef[i*vectors+start[j]+v] * kern[start[j]+v]
							}
							scores = append(scores, s)
							if s > 0 {
								votes[i]++
							} else {
								votes[j]++
							}
							e++
						}
					}
				} else {
					for j := 0; j < classes; j++ {
						scores = append(scores, k.rho[0]+k.dot(row, k.coef[j*width:(j+1)*width]))
					}
				}
				if hasProba {
					pr := make([][]float64, classes)
					for i := range pr {
						pr[i] = make([]float64, classes)
					}
					e := 0
					for i := 0; i < classes; i++ {
						for j := i + 1; j < classes; j++ {
							v := libsvm.SigmoidPredict(scores[e], probA[e], probB[e])
							v = min(max(v, 1e-7), 1-1e-7)
							pr[i][j], pr[j][i] = v, 1-v
							e++
						}
					}
					scores = libsvm.MulticlassProbability(classes, pr)
				}
				best := scores
				if votes != nil {
					best = votes
				}
				maxClass := 0
				for i, v := range best {
					if v > best[maxClass] {
						maxClass = i
					}
				}
				maxWeight := best[maxClass]
				add := -1
				at[r] = maxClass
				if len(k.rho) == 1 {
					// Two classes, one score.
					if labels.n() == 2 {
						add = 2
						if !hasProba && allPositive && maxWeight >= 0.5 {
							at[r] = 1
						}
					} else if maxWeight > 0 {
						at[r] = min(1, labels.n()-1)
					} else {
						at[r] = 0
					}
				}
				if at[r] >= labels.n() {
					return nil, fmt.Errorf("%s: class %d of %d labels", o, at[r], labels.n())
				}
				switch {
				case len(scores) >= 2:
					post(scores)
				case pt == "PROBIT":
					post(scores)
				case add == 2 && pt == "LOGISTIC":
					scores = []float64{logistic(-scores[0]), logistic(scores[0])}
				case add == 2 && pt != "NONE":
					scores = []float64{-scores[0], scores[0]}
					post(scores)
				case add == 2:
					scores = []float64{-scores[0], scores[0]}
				}
				if len(all) > 0 && len(scores) != len(all)/r {
					return nil, fmt.Errorf("%s: rows of different numbers of scores", o)
				}
				all = append(all, scores...)
			}
			cols := 0
			if n > 0 {
				cols = len(all) / n
			}
			return []tensor.Tensor{labels.tensor(at), newTensor(scoresDtype(in[0]), []int{n, cols}, all)}, nil
		}
		return nil
	}}
}

func svmRegressor() ops.Operator {
	return &op{name: "SVMRegressor", min: 1, max: 1, numeric: []int{0}, init: func(o *op, a attrs) error {
		k, err := readSVM(o, a)
		if err != nil {
			return err
		}
		if p := str(a, "post_transform", "NONE"); p != "NONE" {
			return fmt.Errorf("%s: post_transform %q", o, p)
		}
		supports, oneClass := int(a.i("n_supports", 0)), a.i("one_class", 0) != 0
		if supports < 0 || (supports > 0 && (len(k.coef) != supports || len(k.vectors)%supports != 0)) {
			return fmt.Errorf("%s: n_supports %d, %d coefficients, %d support vector values", o, supports, len(k.coef), len(k.vectors))
		}
		o.apply = func(in []tensor.Tensor) ([]tensor.Tensor, error) {
			x, n, width, err := matrix(o, in[0])
			if err != nil {
				return nil, err
			}
			if (supports > 0 && len(k.vectors) != supports*width) || (supports == 0 && len(k.coef) != width) {
				return nil, fmt.Errorf("%s: support vectors or coefficients of another width than the input's %d", o, width)
			}
			res := make([]float64, n)
			for r := range res {
				row := x[r*width : (r+1)*width]
				s := 0.0
				if supports > 0 {
					for j := 0; j < supports; j++ {
						s += k.coef[j] * k.dot(row, k.vectors[j*width:(j+1)*width])
					}
				} else {
					s = (&svmKernel{kind: "linear"}).dot(row, k.coef)
				}
				s += k.rho[0]
				if oneClass {
					s = map[bool]float64{true: 1, false: -1}[s > 0]
				}
				res[r] = s
			}
			return []tensor.Tensor{newTensor(in[0].Dtype(), []int{n, 1}, res)}, nil
		}
		return nil
	}}
}
