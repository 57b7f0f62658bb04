package xgboost_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/plugins/builtin/testdata"
	"github.com/mlrun/mlrun/plugins/builtin/xgboost"
	"github.com/mlrun/mlrun/plugins/flavor"
)

func TestFactsMatchTheLibrary(t *testing.T) {
	for name, want := range testdata.Facts(t) {
		if !strings.HasPrefix(name, "xgboost/") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			f, err := xgboost.Read(testdata.Path(name))
			if err != nil {
				t.Fatal(err)
			}
			if f.Objective != want["objective"] || float64(f.NumFeature) != want["num_feature"] || float64(f.NumClass) != want["num_class"] ||
				float64(f.NumTrees) != want["num_trees"] || f.Format != want["format"] {
				t.Fatalf("read %+v, library said %v", f, want)
			}
			if f.Format != "xgb" && f.Version != want["xgboost_version"] {
				t.Fatalf("version %q, want %v", f.Version, want["xgboost_version"])
			}
		})
	}
}

func TestReadsMLflowSavedXGBModel(t *testing.T) {
	f, err := xgboost.Read("../../../../shared/testdata/mlflow-2.17.2/models/xgboost/model.xgb")
	if err != nil {
		t.Fatal(err)
	}
	if f.Format != "xgb" || f.NumFeature <= 0 || !strings.Contains(f.Objective, ":") {
		t.Fatalf("%+v", f)
	}
}

func TestBadInput(t *testing.T) {
	for _, name := range []string{"xgboost/truncated.json", "sklearn/elasticnet_p4.pkl", "onnx/linear.onnx"} {
		_, err := xgboost.Read(testdata.Path(name))
		if !errors.Is(err, flavor.ErrInvalidModel) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v", name, err)
		}
	}
	b, _ := os.ReadFile(testdata.Path("xgboost/binary.ubj"))
	p := t.TempDir() + "/cut.ubj"
	os.WriteFile(p, b[:len(b)/2], 0o644)
	if _, err := xgboost.Read(p); !errors.Is(err, flavor.ErrInvalidModel) {
		t.Errorf("truncated UBJSON: %v", err)
	}
}

// FuzzUBJSON: whatever the file, Read and Load give a model or an
// ErrInvalidModel, and a loaded model predicts a row, as a Booster and
// as each scikit-learn wrapper that takes it, without a panic.
func FuzzUBJSON(f *testing.F) {
	for _, n := range []string{"xgboost/binary.ubj", "xgboost/binary.json", "xgboost/binary.xgb", "xgboost/sklearn/classifier_es.xgb", "xgboost/sklearn/rf_multiclass.xgb"} {
		b, _ := os.ReadFile(testdata.Path(n))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := t.TempDir() + "/m"
		os.WriteFile(p, data, 0o644)
		if _, err := xgboost.Read(p); err != nil && !errors.Is(err, flavor.ErrInvalidModel) {
			t.Fatalf("wrong error kind: %v", err)
		}
		m, err := xgboost.Load(p)
		if err != nil {
			if !errors.Is(err, flavor.ErrInvalidModel) {
				t.Fatalf("wrong error kind: %v", err)
			}
			return
		}
		if m.NumFeature > 1<<12 {
			return
		}
		for _, class := range []string{xgboost.BoosterClass, xgboost.ClassifierClass, xgboost.RegressorClass} {
			if e, err := xgboost.NewEstimator(m, class); err == nil {
				e.Predict(make([]float32, max(m.NumFeature, 1)))
			}
		}
	})
}
