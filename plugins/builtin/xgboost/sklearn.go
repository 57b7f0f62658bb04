package xgboost

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/mlrun/mlrun/plugins/flavor"
)

// Model classes MLflow's xgboost flavor records as model_class: the
// booster itself, or the scikit-learn wrapper it was logged as.
const (
	BoosterClass    = "xgboost.core.Booster"
	ClassifierClass = "xgboost.sklearn.XGBClassifier"
	RegressorClass  = "xgboost.sklearn.XGBRegressor"
	RankerClass     = "xgboost.sklearn.XGBRanker"
)

// sklearnClasses are the model classes an Estimator predicts as, each
// with the _estimator_type it loads ("" for any); a classifier's predict
// gives class labels.
var sklearnClasses = map[string]string{
	"xgboost.sklearn.XGBModel":        "",
	RegressorClass:                    "regressor",
	RankerClass:                       "ranker",
	"xgboost.sklearn.XGBRFRegressor":  "regressor",
	ClassifierClass:                   "classifier",
	"xgboost.sklearn.XGBRFClassifier": "classifier",
}

// Estimator predicts as MLflow's xgboost pyfunc does for the model class
// the model was logged as (the flavor's model_class): MLflow loads that
// class and calls its predict. A Booster predicts with every tree. One of
// XGBoost's scikit-learn wrappers predicts as estimator.predict(frame)
// does after estimator.load_model(file): with the rounds up to the
// booster's best_iteration, its missing value as well as NaN missing, and
// for a classifier the class labels (argmax of the probabilities, or
// probability > 0.5) in place of the probabilities.
type Estimator struct {
	Model *Model
	Class string
	// missing is the wrapper's missing value other than NaN, if any.
	missing    float32
	hasMissing bool
	classifier bool
	nClasses   int
	// labels are a label encoder's classes (XGBoost before 1.6 saved
	// one): label i stands for labels[i].
	labels []any
}

// NewEstimator returns how MLflow predicts with m logged as class ("" is
// the Booster, MLflow's default). A class other than the Booster and
// XGBoost's scikit-learn wrappers is refused (flavor.ErrInvalidModel):
// MLflow would import and run it, mlrun cannot know what its predict does.
func NewEstimator(m *Model, class string) (*Estimator, error) {
	if class == "" {
		class = BoosterClass
	}
	e := &Estimator{Model: m, Class: class}
	if class == BoosterClass {
		return e, nil
	}
	kind, ok := sklearnClasses[class]
	if !ok {
		return nil, flavor.Invalid("model_class %q is not one mlrun predicts with in Go (%s and XGBoost's scikit-learn wrappers are)", class, BoosterClass)
	}
	e.classifier = kind == "classifier"
	meta, err := SklearnMeta(m.Attributes["scikit_learn"])
	if err != nil {
		return nil, flavor.Invalid("%v", err)
	}
	if meta != nil {
		if t, ok := meta["_estimator_type"].(string); ok && kind != "" && t != kind {
			return nil, flavor.Invalid("model_class %s cannot load this booster: XGBoost saved it from a %s", class, t)
		}
		if v, ok := meta["missing"].(float64); ok && !math.IsNaN(v) {
			e.missing, e.hasMissing = float32(v), true
		}
		if n, ok := meta["n_classes_"].(float64); ok {
			e.nClasses = int(n)
		}
		if le, ok := meta["_le"].(map[string]any); ok {
			e.labels, _ = le["classes_"].([]any)
		}
	}
	if e.nClasses == 0 {
		e.nClasses = max(m.groups, 2)
	}
	if best, ok := m.Attributes["best_iteration"]; ok {
		n, err := strconv.Atoi(best)
		if err != nil || n < 0 {
			return nil, flavor.Invalid("best_iteration %q is not a round", best)
		}
		e.Model = m.FirstRounds(n + 1)
	}
	return e, nil
}

// SklearnMeta reads what XGBoost's scikit-learn wrapper saved of itself
// in the booster's scikit_learn attribute: Python's JSON, whose NaN and
// Infinity become float64s here. Empty text gives a nil map.
func SklearnMeta(text string) (map[string]any, error) {
	if text == "" {
		return nil, nil
	}
	var meta map[string]any
	if err := json.Unmarshal(pythonConstants(text), &meta); err != nil {
		return nil, fmt.Errorf("the booster's scikit_learn attribute is not JSON: %v", err)
	}
	for k, v := range meta {
		if s, ok := v.(string); ok && strings.HasPrefix(s, constantMark) {
			f, _ := strconv.ParseFloat(strings.TrimPrefix(s, constantMark), 64)
			meta[k] = f
		}
	}
	return meta, nil
}

// constantMark marks a Python constant pythonConstants made a string (a
// private-use character, written in the JSON text as \ue000).
const constantMark = "\ue000py:"

// pythonConstants rewrites Python's bare NaN, Infinity and -Infinity
// outside strings as marked strings, so encoding/json reads the text.
func pythonConstants(text string) []byte {
	var out []byte
	inString := false
	for i := 0; i < len(text); i++ {
		c := text[i]
		if inString {
			out = append(out, c)
			switch c {
			case '\\':
				if i+1 < len(text) {
					i++
					out = append(out, text[i])
				}
			case '"':
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
		}
		replaced := false
		for _, k := range []string{"NaN", "Infinity", "-Infinity"} {
			if strings.HasPrefix(text[i:], k) {
				out = append(out, `"\ue000py:`+k+`"`...)
				i += len(k) - 1
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, c)
		}
	}
	return out
}

// Outputs is how many values Predict gives per row (see Predict).
func (e *Estimator) Outputs() int { return e.Model.Outputs() }

// Predict predicts rows of NumFeature float32 features each (x holds
// them row after row; NaN, and the wrapper's missing value, are missing).
// A Booster, regressor or ranker gives Outputs() float32s per row: a
// []float32 when that is one, else [][]float32, a row each. A classifier gives labels: []int64 (or the label
// encoder's classes, []any), or for multi:softprob with two classes the
// 0/1 matrix XGBClassifier gives, [][]float64.
func (e *Estimator) Predict(x []float32) any {
	if e.hasMissing {
		x = append([]float32(nil), x...)
		for i, v := range x {
			if v == e.missing {
				x[i] = float32(math.NaN())
			}
		}
	}
	k := e.Outputs()
	rows := len(x) / max(e.Model.NumFeature, 1)
	out := make([]float32, rows*k)
	e.Model.Predict(x, out)
	if !e.classifier {
		if k == 1 {
			return out
		}
		m := make([][]float32, rows)
		for r := range m {
			m[r] = out[r*k : (r+1)*k]
		}
		return m
	}
	switch {
	case k > 1 && e.nClasses != 2:
		idx := make([]int64, rows)
		for r := range idx {
			p := out[r*k : (r+1)*k]
			for i, v := range p {
				if v > p[idx[r]] {
					idx[r] = int64(i)
				}
			}
		}
		return e.label(idx)
	case k > 1:
		m := make([][]float64, rows)
		for r := range m {
			m[r] = make([]float64, k)
			for i, v := range out[r*k : (r+1)*k] {
				if v > 0.5 {
					m[r][i] = 1
				}
			}
		}
		return m
	case e.Model.Objective == "multi:softmax":
		idx := make([]int64, rows)
		for r, v := range out {
			idx[r] = int64(v)
		}
		return idx
	}
	idx := make([]int64, rows)
	for r, v := range out {
		if v > 0.5 {
			idx[r] = 1
		}
	}
	return e.label(idx)
}

// label maps class indexes through the label encoder, when there is one.
func (e *Estimator) label(idx []int64) any {
	if e.labels == nil {
		return idx
	}
	out := make([]any, len(idx))
	for i, j := range idx {
		if j >= 0 && int(j) < len(e.labels) {
			out[i] = e.labels[j]
		}
	}
	return out
}
