package xgboost_test

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/plugins/builtin/xgboost"
	"github.com/mlrun/mlrun/plugins/flavor"
)

// TestPredictMatchesXGBoost: for every objective and booster the Go
// predictor supports (JSON, UBJSON and legacy binary files, gbtree and
// dart, rows with
// missing values and one with all missing), the predictions equal the
// ones XGBoost 1.7.4 itself computed (testdata/make_predictions.py) to a
// relative error of 1e-6.
func TestPredictMatchesXGBoost(t *testing.T) {
	var facts struct {
		Rows   [][]*float64 `json:"rows"`
		Models map[string]struct {
			Objective   string `json:"objective"`
			Predictions []any  `json:"predictions"`
		} `json:"models"`
	}
	b, err := os.ReadFile("../testdata/xgboost/predictions.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &facts); err != nil {
		t.Fatal(err)
	}
	x := float32Rows(facts.Rows)
	if len(facts.Models) != 15 {
		t.Fatalf("%d models in predictions.json", len(facts.Models))
	}
	for name, want := range facts.Models {
		t.Run(name, func(t *testing.T) {
			m, err := xgboost.Load(filepath.Join("../testdata/xgboost", name))
			if err != nil {
				t.Fatal(err)
			}
			if m.Objective != want.Objective || m.NumFeature != 5 {
				t.Fatalf("objective %s, %d features", m.Objective, m.NumFeature)
			}
			out := make([]float32, len(facts.Rows)*m.Outputs())
			m.Predict(x, out)
			var flat []float64
			for _, p := range want.Predictions {
				switch p := p.(type) {
				case float64:
					flat = append(flat, p)
				case []any:
					for _, q := range p {
						flat = append(flat, q.(float64))
					}
				}
			}
			if len(flat) != len(out) {
				t.Fatalf("%d predictions, XGBoost made %d", len(out), len(flat))
			}
			worst := 0.0
			for i, w := range flat {
				got := float64(out[i])
				rel := 0.0
				if got != w {
					rel = math.Abs(got-w) / math.Max(math.Abs(w), 1e-30)
				}
				worst = max(worst, rel)
				if rel > 1e-6 {
					t.Errorf("prediction %d: %v, XGBoost %v", i, got, w)
				}
			}
			t.Logf("%d predictions, largest relative error %.2g", len(flat), worst)
		})
	}
}

// float32Rows flattens the fixture rows as XGBoost reads them: float32,
// null (a missing value) as NaN.
func float32Rows(rows [][]*float64) []float32 {
	var x []float32
	for _, r := range rows {
		for _, v := range r {
			f := float32(math.NaN())
			if v != nil {
				f = float32(*v)
			}
			x = append(x, f)
		}
	}
	return x
}

// TestLoadRefusesWhatItCannotPredict: each with a message naming why.
func TestLoadRefusesWhatItCannotPredict(t *testing.T) {
	for file, want := range map[string]string{
		"truncated.json": "not valid XGBoost JSON",
		"missing.json":   "",
	} {
		_, err := xgboost.Load(filepath.Join("../testdata/xgboost", file))
		switch {
		case want == "" && !errors.Is(err, flavor.ErrNotFound):
			t.Errorf("%s: %v, want not found", file, err)
		case want != "" && (!errors.Is(err, flavor.ErrInvalidModel) || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: %v, want an invalid-model error with %q", file, err, want)
		}
	}
}
