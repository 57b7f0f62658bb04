package xgboost_test

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/plugins/builtin/xgboost"
	"github.com/mlrun/mlrun/plugins/flavor"
)

// sklearnFacts is testdata/xgboost/sklearn/predictions.json: boosters
// saved by XGBoost 1.7.4's scikit-learn wrappers and what
// model_class().load_model(file).predict(frame) gives for each
// (testdata/make_sklearn_predictions.py).
type sklearnFacts struct {
	Columns []string     `json:"columns"`
	Rows    [][]*float64 `json:"rows"`
	Models  map[string]struct {
		ModelClass    string  `json:"model_class"`
		SavedFrom     string  `json:"saved_from"`
		BestIteration *string `json:"best_iteration"`
		Rounds        int     `json:"rounds"`
		Predictions   any     `json:"predictions"`
	} `json:"models"`
	Refused struct {
		File       string `json:"file"`
		ModelClass string `json:"model_class"`
		Error      string `json:"error"`
	} `json:"refused"`
}

const sklearnDir = "../testdata/xgboost/sklearn"

func readSklearnFacts(t *testing.T) (*sklearnFacts, []float32) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sklearnDir, "predictions.json"))
	if err != nil {
		t.Fatal(err)
	}
	var facts sklearnFacts
	if err := json.Unmarshal(b, &facts); err != nil {
		t.Fatal(err)
	}
	return &facts, float32Rows(facts.Rows)
}

// TestSklearnWrappersPredictAsMLflow: a booster logged as one of
// XGBoost's scikit-learn wrappers predicts what MLflow's pyfunc gets from
// that wrapper: class labels for classifiers (binary, multi-class,
// multi:softmax, random forests, a label encoder's classes), the rounds
// up to best_iteration after early stopping (not every tree), and the
// regressor's own missing value (-1) as missing; from JSON, UBJSON and
// the legacy binary format, whose attributes are read after the trees.
func TestSklearnWrappersPredictAsMLflow(t *testing.T) {
	facts, x := readSklearnFacts(t)
	if len(facts.Models) != 13 {
		t.Fatalf("%d models in predictions.json", len(facts.Models))
	}
	for name, want := range facts.Models {
		t.Run(name, func(t *testing.T) {
			m, err := xgboost.Load(filepath.Join(sklearnDir, name))
			if err != nil {
				t.Fatal(err)
			}
			if m.Rounds() != want.Rounds {
				t.Fatalf("%d rounds, XGBoost counts %d", m.Rounds(), want.Rounds)
			}
			f, err := xgboost.Read(filepath.Join(sklearnDir, name))
			if err != nil {
				t.Fatal(err)
			}
			// What mlrun models log records; XGBoost's RF wrappers save
			// themselves as the classifier or regressor they extend.
			wantClass := strings.Replace(want.ModelClass, ".XGBRF", ".XGB", 1)
			if f.ModelClass != wantClass {
				t.Errorf("model_class read as %s, want %s", f.ModelClass, wantClass)
			}
			e, err := xgboost.NewEstimator(m, want.ModelClass)
			if err != nil {
				t.Fatal(err)
			}
			got := e.Predict(x)
			compareXGBoost(t, got, want.Predictions)
		})
	}
}

// compareXGBoost compares predictions with XGBoost's as JSON decoded
// them: labels exactly, numbers within 1e-6 relative.
func compareXGBoost(t *testing.T, got, want any) {
	t.Helper()
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var g any
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	gs, ok1 := g.([]any)
	ws, ok2 := want.([]any)
	if !ok1 || !ok2 || len(gs) != len(ws) {
		t.Fatalf("predictions %s, XGBoost's %v", b, want)
	}
	for i := range ws {
		gf, isNum := gs[i].(float64)
		wf, wantNum := ws[i].(float64)
		switch {
		case isNum && wantNum:
			if gf != wf && math.Abs(gf-wf)/math.Max(math.Abs(wf), 1e-30) > 1e-6 {
				t.Errorf("prediction %d: %v, XGBoost %v", i, gf, wf)
			}
		case !reflect.DeepEqual(gs[i], ws[i]):
			t.Errorf("prediction %d: %v, XGBoost %v", i, gs[i], ws[i])
		}
	}
}

// TestEstimatorRefusesWhatMLflowCannotLoad: a classifier's booster logged
// as a regressor fails as XGBoost's load_model fails, and a model class
// outside XGBoost's is refused by name.
func TestEstimatorRefusesWhatMLflowCannotLoad(t *testing.T) {
	facts, _ := readSklearnFacts(t)
	m, err := xgboost.Load(filepath.Join(sklearnDir, facts.Refused.File))
	if err != nil {
		t.Fatal(err)
	}
	if facts.Refused.Error == "" {
		t.Fatal("XGBoost loaded the classifier as a regressor")
	}
	_, err = xgboost.NewEstimator(m, facts.Refused.ModelClass)
	if !errors.Is(err, flavor.ErrInvalidModel) || !strings.Contains(err.Error(), "saved it from a classifier") {
		t.Fatalf("err = %v; XGBoost says %q", err, facts.Refused.Error)
	}
	_, err = xgboost.NewEstimator(m, "mypackage.MyBooster")
	if !errors.Is(err, flavor.ErrInvalidModel) || !strings.Contains(err.Error(), `model_class "mypackage.MyBooster" is not one mlrun predicts with`) {
		t.Fatalf("err = %v", err)
	}
}

// TestSklearnMetaReadsPythonsJSON: the wrapper's attribute is Python's
// JSON ("missing": NaN), which encoding/json alone refuses.
func TestSklearnMetaReadsPythonsJSON(t *testing.T) {
	m, err := xgboost.SklearnMeta(`{"missing": NaN, "a": Infinity, "b": -Infinity, "s": "NaN \" Infinity", "_estimator_type": "classifier", "n": -1.5}`)
	if err != nil {
		t.Fatal(err)
	}
	if v := m["missing"].(float64); !math.IsNaN(v) {
		t.Errorf("missing = %v", v)
	}
	if m["a"] != math.Inf(1) || m["b"] != math.Inf(-1) || m["s"] != `NaN " Infinity` || m["n"] != -1.5 || m["_estimator_type"] != "classifier" {
		t.Errorf("meta = %v", m)
	}
	if _, err := xgboost.SklearnMeta(`{"missing": nan}`); err == nil {
		t.Error("lower-case nan read")
	}
}
