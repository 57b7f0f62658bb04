package sklearn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// ErrNotInGo marks a model Go does not predict: an estimator, a setting
// or a predict function outside what this package implements. The model
// is still a valid one (a Python worker serves it).
var ErrNotInGo = errors.New("not predicted in Go")

// InputError is the exception scikit-learn raises for an input the model
// refuses: its Python type (ValueError, or pandas' KeyError) and message.
type InputError struct{ Type, Msg string }

func (e *InputError) Error() string { return e.Type + ": " + e.Msg }

func inputErr(format string, args ...any) error {
	return &InputError{"ValueError", fmt.Sprintf(format, args...)}
}

// Predictor predicts a pickled scikit-learn model in Go, as the
// estimator's own predict (or predict_proba) does, reading the fitted
// state from the pickle without running it.
type Predictor struct {
	stages []*stage // the transformers
	final  *stage   // the estimator that predicts
	// chunk, when set, is the most rows predicted at once: a text
	// vectorizer's dense rows are wide.
	chunk int
}

// stage is one fitted estimator: how it validates its input, as
// scikit-learn's _validate_data does, and what it computes.
type stage struct {
	class    string   // the class name, for messages
	nIn      int      // n_features_in_; 0 when the model does not say
	names    []string // feature_names_in_, nil when fitted without names
	allowNaN bool
	allowInf bool // force_all_finite=False: infinities too
	float32  bool // the input is cast to float32 first (trees)
	// transform changes x in place (transformers of numbers); table
	// transforms a frame, checking it itself (transformers of columns:
	// ColumnTransformer, the encoders, SimpleImputer); predict answers
	// (final estimators): []float64, [][]float64 or []any.
	transform func(x *matrix)
	table     func(f *frame) (*frame, error)
	predict   func(x *matrix) any
	// check, when set, is a further validation of what validate passed:
	// a final estimator's inner estimators' own (AdaBoost's trees'
	// float32), a transformer's of its values (Box-Cox's positive data).
	check func(x *matrix) error
	// answer, when set, answers the frame itself, in place of validate
	// and predict: an ensemble whose estimators each take the input as
	// it is (VotingClassifier).
	answer func(f *frame) (any, error)
	// A text vectorizer answers a sparse matrix (sparseOut), width
	// columns wide; Go holds it dense, so only the stages that treat a
	// sparse matrix as its dense equal may follow (sparseIn), those that
	// keep it sparse (keepsSparse) under the same rule.
	sparseOut, sparseIn, keepsSparse bool
	width                            int
	// sparseAware stages compute on a sparse matrix as it is (x.sp):
	// linear models and naive Bayes through scores, TfidfTransformer.
	sparseAware bool
}

// matrix is a row-major float64 matrix, or (sp set, v nil) a sparse one
// for the stages that take it (sparseAware).
type matrix struct {
	rows, cols int
	v          []float64
	sp         *sparse
}

func (m *matrix) row(r int) []float64 { return m.v[r*m.cols : (r+1)*m.cols] }

// LoadPredictor reads the pickle at path (as Read does, refusing what Read
// refuses) and makes its predictor for predictFn ("predict", or
// "predict_proba" for a classifier that has one). A model outside what Go
// predicts is an ErrNotInGo error naming why.
func LoadPredictor(path, predictFn string) (*Predictor, error) {
	_, res, err := read(path)
	if err != nil {
		return nil, err
	}
	if predictFn == "" {
		predictFn = "predict"
	}
	p := &Predictor{}
	if err := p.add(res.top, predictFn); err != nil {
		return nil, err
	}
	if err := p.checkSparse(); err != nil {
		return nil, err
	}
	return p, nil
}

// checkSparse refuses a model whose text vectorizer's sparse matrix
// reaches a stage that would refuse it or treat it otherwise than its
// dense equal (StandardScaler centering, PCA, GaussianNB, …), and sets
// the chunk of rows that keeps the dense rows near 64 MiB.
func (p *Predictor) checkSparse() error {
	_, width, err := sparseChain(append(slices.Clone(p.stages), p.final))
	if width > 0 {
		p.chunk = max(1, (8<<20)/width)
	}
	return err
}

// sparseChain follows a sparse matrix through stages: whether it leaves
// them sparse, and the widest a vectorizer makes it.
func sparseChain(stages []*stage) (sparse bool, width int, err error) {
	for _, g := range stages {
		if sparse && !g.sparseIn {
			return false, 0, fmt.Errorf("%w: %s after a text vectorizer (a sparse matrix)", ErrNotInGo, g.class)
		}
		sparse = g.sparseOut || sparse && g.keepsSparse
		width = max(width, g.width)
	}
	return sparse, width, nil
}

// add makes the stages of the model v: a Pipeline's transformers, then
// its final estimator (a search's best estimator for the search).
func (p *Predictor) add(v any, predictFn string) error {
	o, ok := v.(*object)
	if !ok {
		return fmt.Errorf("%w: the model is %s", ErrNotInGo, describe(v))
	}
	st, ok := o.state.(*dict)
	if !ok {
		return fmt.Errorf("%w: %s has no state", ErrNotInGo, o.class)
	}
	if o.class.name == "Pipeline" && o.class.module == "sklearn.pipeline" {
		ests, err := pipelineSteps(st)
		if err != nil {
			return err
		}
		if len(ests) == 0 {
			return fmt.Errorf("%w: a Pipeline of passthrough steps", ErrNotInGo)
		}
		for _, e := range ests[:len(ests)-1] {
			ss, err := transformers(e)
			if err != nil {
				return err
			}
			p.stages = append(p.stages, ss...)
		}
		return p.add(ests[len(ests)-1], predictFn)
	}
	if o.class.module == "sklearn.feature_selection._rfe" && (o.class.name == "RFE" || o.class.name == "RFECV") {
		// estimator_'s predict of the selected features
		ss, err := transformers(o)
		if err != nil {
			return err
		}
		p.stages = append(p.stages, ss...)
		return p.add(st.get("estimator_"), predictFn)
	}
	if searchCV(o.class) { // predict and its kin call best_estimator_'s
		best := st.get("best_estimator_")
		if best == nil {
			return fmt.Errorf("%w: %s without best_estimator_ (refit=False)", ErrNotInGo, o.class.name)
		}
		return p.add(best, predictFn)
	}
	s := &state{d: st, class: o.class.name}
	g, err := finalStage(o.class, s, predictFn)
	if err != nil {
		return err
	}
	if s.err != nil {
		return s.err
	}
	name := o.class.module + "." + o.class.name
	g.sparseIn = takesSparse(name)
	g.sparseAware = g.sparseAware || slices.Contains(linearRegressors, name) || slices.Contains(linearClassifiers, name) || slices.Contains(glms, name)
	p.final = g
	return nil
}

// takesSparse says whether scikit-learn's estimator name predicts a
// sparse matrix as it predicts its dense equal (a text vectorizer's
// output): the linear models, the discrete naive Bayes, neural
// networks, trees and forests, k-means.
func takesSparse(name string) bool {
	switch {
	case slices.Contains(linearRegressors, name), slices.Contains(linearClassifiers, name), slices.Contains(glms, name), treeModel(name) != "":
		return true
	}
	switch name {
	case "sklearn.naive_bayes.MultinomialNB", "sklearn.naive_bayes.ComplementNB", "sklearn.naive_bayes.BernoulliNB",
		"sklearn.neural_network._multilayer_perceptron.MLPClassifier", "sklearn.neural_network._multilayer_perceptron.MLPRegressor",
		"sklearn.cluster._kmeans.KMeans", "sklearn.cluster._kmeans.MiniBatchKMeans":
		return true
	}
	return false
}

// searchCV reports whether class is one of scikit-learn's searches of
// hyperparameters, whose predict is their refitted best estimator's.
func searchCV(class *global) bool {
	switch class.module + "." + class.name {
	case "sklearn.model_selection._search.GridSearchCV", "sklearn.model_selection._search.RandomizedSearchCV",
		"sklearn.model_selection._search_successive_halving.HalvingGridSearchCV",
		"sklearn.model_selection._search_successive_halving.HalvingRandomSearchCV":
		return true
	}
	return false
}

// state reads a fitted estimator's attributes; the first problem is kept
// in err (an ErrNotInGo), and later reads return zero values.
type state struct {
	d     *dict
	class string
	err   error
}

func (s *state) fail(format string, args ...any) {
	if s.err == nil {
		s.err = fmt.Errorf("%w: %s: %s", ErrNotInGo, s.class, fmt.Sprintf(format, args...))
	}
}

func (s *state) has(k string) bool {
	for _, key := range s.d.keys {
		if key == k {
			return true
		}
	}
	return false
}

func (s *state) array(k string) *array {
	a, err := readArray(s.d.get(k))
	if err != nil {
		s.fail("%s: %v", k, err)
		return &array{shape: []int{0}, dt: &dtype{kind: 'f', size: 8, order: binary.LittleEndian}} // empty: reads find nothing
	}
	return a
}

// fields reads the fields of a structured array (a tree's nodes): as
// float64s, ints or booleans; a missing field fails s.
type fields struct {
	a *array
	s *state
}

func (f fields) floats(name string) []float64 {
	c, err := f.a.column(name)
	if err != nil {
		f.s.fail("%v", err)
	}
	return c
}

func (f fields) ints(name string) []int {
	c := f.floats(name)
	out := make([]int, len(c))
	for i, x := range c {
		out[i] = int(x)
	}
	return out
}

func (f fields) bools(name string) []bool {
	c := f.floats(name)
	out := make([]bool, len(c))
	for i, x := range c {
		out[i] = x != 0
	}
	return out
}

func (s *state) floats(k string) []float64 {
	f, err := s.array(k).floats()
	if err != nil {
		s.fail("%s: %v", k, err)
	}
	return f
}

// floatsOrScalar reads an array, or a number as one value.
func (s *state) floatsOrScalar(k string) []float64 {
	if f, ok := pyNumber(s.d.get(k)); ok {
		return []float64{f}
	}
	return s.floats(k)
}

func (s *state) bool(k string, def bool) bool {
	switch v := s.d.get(k).(type) {
	case bool:
		return v
	case nil:
		return def
	}
	s.fail("%s is not a boolean", k)
	return def
}

func (s *state) int(k string) int {
	if v, ok := s.d.get(k).(int64); ok {
		return int(v)
	}
	if f, ok := pyNumber(s.d.get(k)); ok && f == math.Trunc(f) {
		return int(f)
	}
	s.fail("%s is not an integer", k)
	return 0
}

func (s *state) str(k string) string {
	v, _ := s.d.get(k).(string)
	return v
}

// base reads what every fitted estimator has: its input width and
// feature names.
func (s *state) base() *stage {
	g := &stage{class: s.class}
	if s.has("n_features_in_") {
		g.nIn = s.int("n_features_in_")
	}
	if s.has("feature_names_in_") {
		vals, err := s.array("feature_names_in_").values()
		if err != nil {
			s.fail("feature_names_in_: %v", err)
		}
		for _, v := range vals {
			name, ok := v.(string)
			if !ok {
				s.fail("feature_names_in_ holds %s", describe(v))
			}
			g.names = append(g.names, name)
		}
	}
	return g
}

// finalStage makes the stage of the final estimator, for predictFn.
func finalStage(class *global, s *state, predictFn string) (*stage, error) {
	name := class.module + "." + class.name
	g := s.base()
	switch {
	case slices.Contains(linearRegressors, name):
		if predictFn != "predict" {
			break
		}
		return linearRegressor(g, s)
	case slices.Contains(glms, name):
		if predictFn != "predict" {
			break
		}
		return glm(g, s)
	case slices.Contains(linearClassifiers, name):
		return linearClassifier(g, s, predictFn)
	case slices.Contains([]string{"SVC", "NuSVC", "SVR", "NuSVR", "OneClassSVM"}, class.name) && class.module == "sklearn.svm._classes":
		return svmStage(g, s, predictFn)
	case name == "sklearn.neural_network._multilayer_perceptron.MLPClassifier" ||
		name == "sklearn.neural_network._multilayer_perceptron.MLPRegressor":
		return mlp(g, s, predictFn)
	case name == "sklearn.naive_bayes.GaussianNB":
		return gaussianNB(g, s, predictFn)
	case name == "sklearn.naive_bayes.MultinomialNB" || name == "sklearn.naive_bayes.ComplementNB" || name == "sklearn.naive_bayes.BernoulliNB":
		return discreteNB(g, s, predictFn)
	case name == "sklearn.naive_bayes.CategoricalNB":
		return categoricalNB(g, s, predictFn)
	case name == "sklearn.ensemble._gb.GradientBoostingRegressor" || name == "sklearn.ensemble._gb.GradientBoostingClassifier":
		return gradientBoosting(g, s, predictFn)
	case name == "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor" ||
		name == "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier":
		return histGradientBoosting(g, s, predictFn)
	case name == "sklearn.neighbors._classification.KNeighborsClassifier" || name == "sklearn.neighbors._regression.KNeighborsRegressor":
		return kNeighbors(g, s, predictFn)
	case name == "sklearn.ensemble._voting.VotingClassifier" || name == "sklearn.ensemble._voting.VotingRegressor":
		return voting(g, s, predictFn)
	case name == "sklearn.ensemble._stacking.StackingClassifier" || name == "sklearn.ensemble._stacking.StackingRegressor":
		return stacking(g, s, predictFn)
	case name == "sklearn.calibration.CalibratedClassifierCV":
		return calibrated(g, s, predictFn)
	case name == "sklearn.ensemble._weight_boosting.AdaBoostClassifier" || name == "sklearn.ensemble._weight_boosting.AdaBoostRegressor":
		return adaBoost(g, s, predictFn)
	case name == "sklearn.cluster._kmeans.KMeans" || name == "sklearn.cluster._kmeans.MiniBatchKMeans":
		return kMeans(g, s, predictFn)
	case name == "sklearn.gaussian_process._gpc.GaussianProcessClassifier":
		return gaussianProcessClassifier(g, s, predictFn)
	case name == "sklearn.gaussian_process._gpc._BinaryGaussianProcessClassifierLaplace": // one of a one-vs-rest
		classes := s.classes()
		if s.err != nil {
			return nil, s.err
		}
		if g.nIn == 0 {
			if a := s.array("X_train_"); len(a.shape) == 2 {
				g.nIn = a.shape[1]
			}
		}
		return binaryGPC(g, s, classes, predictFn)
	case name == "sklearn.gaussian_process._gpr.GaussianProcessRegressor":
		return gaussianProcess(g, s, predictFn)
	case name == "sklearn.cross_decomposition._pls.PLSRegression" || name == "sklearn.cross_decomposition._pls.PLSCanonical" || name == "sklearn.cross_decomposition._pls.CCA":
		if predictFn != "predict" {
			break
		}
		return pls(g, s)
	case name == "sklearn.kernel_ridge.KernelRidge":
		return kernelRidge(g, s, predictFn)
	case name == "sklearn.neighbors._lof.LocalOutlierFactor":
		return localOutlierFactor(g, s, predictFn)
	case name == "sklearn.neighbors._nearest_centroid.NearestCentroid":
		return nearestCentroid(g, s, predictFn)
	case name == "sklearn.discriminant_analysis.QuadraticDiscriminantAnalysis":
		return qda(g, s, predictFn)
	case name == "sklearn.ensemble._bagging.BaggingClassifier" || name == "sklearn.ensemble._bagging.BaggingRegressor":
		return bagging(g, s, predictFn)
	case name == "sklearn.multiclass.OneVsRestClassifier":
		return oneVsRest(g, s, predictFn)
	case name == "sklearn.multioutput.MultiOutputRegressor" || name == "sklearn.multioutput.MultiOutputClassifier":
		return multiOutput(g, s, predictFn)
	case name == "sklearn.compose._target.TransformedTargetRegressor":
		return transformedTarget(g, s, predictFn)
	case name == "sklearn.ensemble._iforest.IsolationForest":
		return isolationForest(g, s, predictFn)
	default:
		if t := treeModel(name); t != "" {
			return treeStage(g, s, t, predictFn)
		}
		return nil, fmt.Errorf("%w: %s (an estimator mlrun does not run in Go)", ErrNotInGo, class)
	}
	return nil, fmt.Errorf("%w: %s.%s", ErrNotInGo, class, predictFn)
}

// rows splits a flat row-major slice into rows of k.
func rows(v []float64, k int) [][]float64 {
	out := make([][]float64, len(v)/k)
	for r := range out {
		out[r] = v[r*k : (r+1)*k]
	}
	return out
}

// sub is the state of the fitted object held at k (a label binarizer,
// a wrapped estimator); a missing one fails s.
func (s *state) sub(k string) *state {
	o, ok := s.d.get(k).(*object)
	if ok {
		if d, ok := o.state.(*dict); ok {
			return &state{d: d, class: o.class.name}
		}
	}
	s.fail("%s is %s, not a fitted object", k, describe(s.d.get(k)))
	return &state{d: &dict{}, class: k, err: s.err}
}

// classes reads classes_ as the labels predict answers.
func (s *state) classes() []any {
	vals, err := s.array("classes_").values()
	if err != nil {
		s.fail("classes_: %v", err)
	}
	return vals
}

// classify sets a classifier's answer for predictFn: "predict_proba"
// its class probabilities (when it has them), "predict_log_proba" their
// logarithms, "predict" the class of the
// largest (or of the indices label gives, when the estimator decides
// otherwise).
func classify(g *stage, predictFn string, classes []any, proba func(*matrix) [][]float64, label func(*matrix) []int) (*stage, error) {
	switch predictFn {
	case "predict":
		g.predict = func(x *matrix) any {
			out := make([]any, x.rows)
			if label != nil {
				for r, i := range label(x) {
					out[r] = classes[i]
				}
				return out
			}
			for r, p := range proba(x) {
				out[r] = classes[argmax(p)]
			}
			return out
		}
	case "predict_proba":
		if proba == nil {
			return nil, fmt.Errorf("%w: %s.%s", ErrNotInGo, g.class, predictFn)
		}
		g.predict = func(x *matrix) any { return proba(x) }
	case "predict_log_proba": // np.log(self.predict_proba(X)), as every classifier here has it
		if proba == nil {
			return nil, fmt.Errorf("%w: %s.%s", ErrNotInGo, g.class, predictFn)
		}
		g.predict = func(x *matrix) any {
			p := proba(x)
			for _, row := range p {
				for i, v := range row {
					row[i] = math.Log(v)
				}
			}
			return p
		}
	default:
		return nil, fmt.Errorf("%w: %s.%s", ErrNotInGo, g.class, predictFn)
	}
	return g, nil
}

// probaOrLabels answers an ensemble's probabilities p for
// predict_proba, else the class of each row's largest.
func probaOrLabels(p [][]float64, err error, predictFn string, classes []any) (any, error) {
	if err != nil || predictFn == "predict_proba" {
		return p, err
	}
	out := make([]any, len(p))
	for r, row := range p {
		out[r] = classes[argmax(row)]
	}
	return out, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// argmax is numpy's: the first of the largest (a NaN wins).
func argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if math.IsNaN(x) {
			return i
		}
		if x > v[best] {
			best = i
		}
	}
	return best
}

// expit is scipy's logistic sigmoid.
func expit(x float64) float64 {
	if x < 0 {
		e := math.Exp(x)
		return e / (1 + e)
	}
	return 1 / (1 + math.Exp(-x))
}

// logsumexp is scipy's: log(sum(exp(v - max))) + max, the max taken as
// 0 when it is not finite, the sum numpy's.
func logsumexp(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = math.Max(m, x)
	}
	if math.IsInf(m, 0) || math.IsNaN(m) {
		m = 0
	}
	e := make([]float64, len(v))
	for i, x := range v {
		e[i] = math.Exp(x - m)
	}
	return math.Log(npSum(e)) + m
}

// softmax is scikit-learn's utils.extmath.softmax, in place: subtract the
// row's max, exponentiate, divide by the row's sum (numpy's).
func softmax(d []float64) []float64 {
	m := d[0]
	for _, v := range d {
		m = math.Max(m, v)
	}
	for i := range d {
		d[i] = math.Exp(d[i] - m)
	}
	sum := npSum(d)
	for i := range d {
		d[i] /= sum
	}
	return d
}

var nan = math.NaN()

// Predict answers rows as the model's predict does: names are the
// columns' names when the input is a DataFrame (nil for an array), width
// its number of columns, each cell a float64, string, bool or nil
// (missing). A refusal is an *InputError with scikit-learn's message.
func (p *Predictor) Predict(names []string, width int, rows [][]any) (any, error) {
	return p.predict(newFrame(names, width, rows))
}

// PredictVector answers a one-dimensional input (an `inputs` list of
// values) as the model's predict does: a text vectorizer's documents.
func (p *Predictor) PredictVector(values []any) (any, error) {
	rows := make([][]any, len(values))
	for i, v := range values {
		rows[i] = []any{v}
	}
	f := newFrame(nil, 1, rows)
	f.vector = true
	return p.predict(f)
}

// TakesDocuments says whether the model starts with a text vectorizer,
// whose input is a list of documents (see PredictVector).
func (p *Predictor) TakesDocuments() bool {
	return len(p.stages) > 0 && p.stages[0].sparseOut && p.stages[0].table != nil && p.stages[0].class != "ColumnTransformer"
}

func (p *Predictor) predict(f *frame) (any, error) {
	// (A DataFrame's documents are its column names: its rows are none.)
	if p.chunk > 0 && f.rows > p.chunk && !(f.names != nil && p.TakesDocuments()) {
		return p.inChunks(f)
	}
	return p.predictAll(f)
}

// predictAll predicts all of f's rows at once.
func (p *Predictor) predictAll(f *frame) (any, error) {
	f, err := run(p.stages, f)
	if err != nil {
		return nil, err
	}
	if p.final.answer != nil {
		return p.final.answer(f)
	}
	x, err := p.final.validate(f)
	if err != nil {
		return nil, err
	}
	if p.final.check != nil {
		if err := p.final.check(x); err != nil {
			return nil, err
		}
	}
	return p.final.predict(x), nil
}

// validate checks f as scikit-learn's _validate_data(X, reset=False)
// does, and makes it the numbers the estimator computes with: feature
// names, the cast to float64 (float32 for trees), finite values, the
// number of samples and of features.
func (g *stage) validate(f *frame) (*matrix, error) {
	if f.sp != nil && g.sparseAware { // a vectorizer's counts: no names, nothing missing
		if f.rows == 0 {
			return nil, inputErr("Found array with 0 sample(s) (shape=(0, %d)) while a minimum of 1 is required by %s.", f.sp.width, g.class)
		}
		return &matrix{rows: f.rows, cols: f.sp.width, sp: f.sp}, g.checkWidth(f.sp.width)
	}
	if err := g.checkNames(f.names); err != nil {
		return nil, err
	}
	x, err := f.numbers()
	if err != nil {
		return nil, err
	}
	hasNaN, inf := false, false
	for i, v := range x.v {
		if g.float32 {
			v = float64(float32(v))
			x.v[i] = v
		}
		hasNaN = hasNaN || math.IsNaN(v)
		inf = inf || math.IsInf(v, 0)
	}
	if hasNaN && !g.allowNaN {
		return nil, inputErr("Input X contains NaN.\n%s does not accept missing values encoded as NaN natively. For supervised learning, you might want to consider sklearn.ensemble.HistGradientBoostingClassifier and Regressor which accept missing values encoded as NaNs natively. Alternatively, it is possible to preprocess the data, for instance by using an imputer transformer in a pipeline or drop samples with missing values. See https://scikit-learn.org/stable/modules/impute.html You can find a list of all estimators that handle NaN values at the following page: https://scikit-learn.org/stable/modules/impute.html#estimators-that-handle-nan-values", g.class)
	}
	if inf && !g.allowInf {
		t := "float64"
		if g.float32 {
			t = "float32"
		}
		return nil, inputErr("Input X contains infinity or a value too large for dtype('%s').", t)
	}
	if x.rows == 0 {
		return nil, inputErr("Found array with 0 sample(s) (shape=(0, %d)) while a minimum of 1 is required by %s.", x.cols, g.class)
	}
	return x, g.checkWidth(x.cols)
}

// checkNames is scikit-learn's _check_feature_names: a DataFrame's
// names must be the fitted ones, in order.
func (g *stage) checkNames(names []string) error {
	if g.names != nil && names != nil && !slices.Equal(g.names, names) {
		return inputErr("%s", namesMessage(g.names, names))
	}
	return nil
}

// checkWidth is scikit-learn's _check_n_features.
func (g *stage) checkWidth(n int) error {
	if g.nIn > 0 && n != g.nIn {
		return inputErr("X has %d features, but %s is expecting %d features as input.", n, g.class, g.nIn)
	}
	return nil
}

// namesMessage is scikit-learn's message for feature names unlike the
// fitted ones.
func namesMessage(fitted, got []string) string {
	var b strings.Builder
	b.WriteString("The feature names should match those that were passed during fit.\n")
	unexpected, missing := minus(got, fitted), minus(fitted, got)
	list := func(names []string) {
		for i, n := range names {
			if i >= 5 {
				b.WriteString("- ...\n")
				break
			}
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	if len(unexpected) > 0 {
		b.WriteString("Feature names unseen at fit time:\n")
		list(unexpected)
	}
	if len(missing) > 0 {
		b.WriteString("Feature names seen at fit time, yet now missing:\n")
		list(missing)
	}
	if len(unexpected) == 0 && len(missing) == 0 {
		b.WriteString("Feature names must be in the same order as they were in fit.\n")
	}
	return b.String()
}

// minus is the sorted set of a's names not in b.
func minus(a, b []string) []string {
	var out []string
	for _, n := range a {
		if !slices.Contains(b, n) && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// NumFeatures is the number of input columns the model takes (0 when
// its first estimator does not say).
func (p *Predictor) NumFeatures() int {
	if len(p.stages) > 0 {
		return p.stages[0].nIn
	}
	return p.final.nIn
}

// inChunks predicts f's rows p.chunk at a time and joins the answers: a
// text vectorizer's rows are as wide as its vocabulary. A refusal is the
// first chunk's (scikit-learn's message for the whole input may name
// more values).
func (p *Predictor) inChunks(f *frame) (any, error) {
	var parts []any
	for lo := 0; lo < f.rows; lo += p.chunk {
		hi := min(lo+p.chunk, f.rows)
		sub := &frame{names: f.names, rows: hi - lo, cols: make([]column, len(f.cols)), vector: f.vector, series: f.series}
		for j, c := range f.cols {
			if c.num != nil {
				sub.cols[j].num = c.num[lo:hi]
			} else {
				sub.cols[j].obj = c.obj[lo:hi]
			}
		}
		out, err := p.predictAll(sub)
		if err != nil {
			return nil, err
		}
		parts = append(parts, out)
	}
	switch parts[0].(type) {
	case []any:
		return joinParts[any](parts), nil
	case []float64:
		return joinParts[float64](parts), nil
	case [][]float64:
		return joinParts[[]float64](parts), nil
	case []int64:
		return joinParts[int64](parts), nil
	}
	return nil, fmt.Errorf("%w: answers of %T in chunks", ErrNotInGo, parts[0])
}

func joinParts[T any](parts []any) []T {
	var out []T
	for _, p := range parts {
		out = append(out, p.([]T)...)
	}
	return out
}
