package testutil

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/internal/format"
)

// XGBoostPredictions is plugins/builtin/testdata/xgboost/predictions.json:
// the test rows and XGBoost's own predictions of them, for each fixture
// booster and for the booster MLflow 2.17.2 logged (first four columns).
type XGBoostPredictions struct {
	Rows   [][]*float64 `json:"rows"`
	Models map[string]struct {
		Predictions json.RawMessage `json:"predictions"`
	} `json:"models"`
	MLflow struct {
		Predictions []float64 `json:"predictions"`
	} `json:"mlflow_2_17_2_model_xgb"`
}

// XGBoostFixtures is the folder of the xgboost fixtures, absolute.
func XGBoostFixtures() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "plugins", "builtin", "testdata", "xgboost")
}

// ReadXGBoostPredictions reads the fixtures' predictions.
func ReadXGBoostPredictions(t testing.TB) *XGBoostPredictions {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(XGBoostFixtures(), "predictions.json"))
	if err != nil {
		t.Fatal(err)
	}
	var x XGBoostPredictions
	if err := json.Unmarshal(b, &x); err != nil {
		t.Fatal(err)
	}
	return &x
}

// RowsJSON writes the first n rows, their first cols values each, as a
// JSON list of lists (null for a missing value).
func (x *XGBoostPredictions) RowsJSON(n, cols int) string {
	var rows []string
	for _, r := range x.Rows[:n] {
		var cells []string
		for _, v := range r[:cols] {
			if v == nil {
				cells = append(cells, "null")
			} else {
				cells = append(cells, fmt.Sprint(*v))
			}
		}
		rows = append(rows, "["+strings.Join(cells, ", ")+"]")
	}
	return "[" + strings.Join(rows, ", ") + "]"
}

// Flat returns a one-output booster's predictions.
func (x *XGBoostPredictions) Flat(t testing.TB, model string) []float64 {
	t.Helper()
	var p []float64
	if err := json.Unmarshal(x.Models[model].Predictions, &p); err != nil {
		t.Fatalf("%s: %v", model, err)
	}
	return p
}

// PredictionsBody is what MLflow's scoring server answers for these
// one-dimensional predictions: {"predictions": [...]} with Python's
// separators and float repr.
func PredictionsBody(preds []float64) string {
	s := make([]string, len(preds))
	for i, p := range preds {
		s[i] = format.PyFloat(p)
	}
	return `{"predictions": [` + strings.Join(s, ", ") + `]}`
}

// SklearnPredictions are scikit-learn's own predictions of MLflow
// 2.17.2's logged ElasticNet (serve/testdata/sklearn_predictions.json).
type SklearnPredictions struct {
	Rows        [][]float64
	Predictions []float64
}

// ReadSklearnPredictions reads them.
func ReadSklearnPredictions(t testing.TB) *SklearnPredictions {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "serve", "testdata", "sklearn_predictions.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s SklearnPredictions
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

// MatchesPredictions reports whether body is {"predictions": preds}:
// written byte for byte as Python writes them when rel is 0, else each
// number within rel of preds' (relative), as a predictor that sums in
// another order than numpy's BLAS answers.
func MatchesPredictions(body string, preds []float64, rel float64) bool {
	if rel == 0 {
		return body == PredictionsBody(preds)
	}
	var got struct{ Predictions []float64 }
	if json.Unmarshal([]byte(body), &got) != nil || len(got.Predictions) != len(preds) {
		return false
	}
	for i, p := range preds {
		if math.Abs(got.Predictions[i]-p) > rel*math.Abs(p) {
			return false
		}
	}
	return true
}
