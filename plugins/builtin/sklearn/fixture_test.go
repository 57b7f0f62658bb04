package sklearn_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/mlrun/mlrun/plugins/builtin/sklearn"
	"github.com/mlrun/mlrun/plugins/builtin/testdata"
	"github.com/mlrun/mlrun/plugins/flavor"
)

// TestReadsMLflowSavedModel reads the model.pkl that MLflow 2.17.2's
// sklearn.save_model wrote (cloudpickle of an ElasticNet, sklearn 1.2.1).
func TestReadsMLflowSavedModel(t *testing.T) {
	f, err := sklearn.Read(filepath.Join("..", "..", "..", "..", "shared", "testdata", "mlflow-2.17.2", "models", "sklearn", "model.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Estimator != "sklearn.linear_model._coordinate_descent.ElasticNet" || f.SklearnVersion != "1.2.1" || f.NFeatures != 4 {
		t.Fatalf("%+v", f)
	}
}

// TestFixturesPredictedInGo: the committed pickles of estimators Go
// predicts load whatever their protocol (0 writes array bytes as
// raw-unicode-escape text, 2 as latin-1 text, 4 as bytes, 5 as a
// buffer) and answer alike; the others are said to be not predicted in
// Go (a Python worker serves them), and a pickle that would run code is
// refused as invalid.
func TestFixturesPredictedInGo(t *testing.T) {
	row := []float64{0.3, -1.2, 2.5, 0.01}
	var first string
	for _, p := range []int{0, 2, 4, 5} {
		pr, err := sklearn.LoadPredictor(testdata.Path(fmt.Sprintf("sklearn/elasticnet_p%d.pkl", p)), "")
		if err != nil {
			t.Fatalf("protocol %d: %v", p, err)
		}
		out, err := pr.Predict(nil, 4, [][]any{{row[0], row[1], row[2], row[3]}})
		if err != nil || pr.NumFeatures() != 4 {
			t.Fatalf("protocol %d: %v %v", p, out, err)
		}
		if s := fmt.Sprint(out); first == "" {
			first = s
		} else if s != first {
			t.Errorf("protocol %d answered %s; protocol 0 %s", p, s, first)
		}
	}
	pr, err := sklearn.LoadPredictor(testdata.Path("sklearn/pipeline_p4.pkl"), "predict_proba")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := pr.Predict(nil, 4, [][]any{{row[0], row[1], row[2], row[3]}}); err != nil || len(out.([][]float64)[0]) != 2 {
		t.Fatalf("pipeline predict_proba: %v %v", out, err)
	}
	// make_fixtures.py: scikit-learn predicted [1] for this row.
	if ct, err := sklearn.LoadPredictor(testdata.Path("sklearn/column_transformer_p5.pkl"), "predict"); err != nil {
		t.Errorf("column transformer: %v", err)
	} else if out, err := ct.Predict([]string{"x", "city", "y"}, 3, [][]any{{0.5, "SF", 0.2}}); err != nil || fmt.Sprint(out) != "[1]" {
		t.Errorf("column transformer: %v %v, scikit-learn [1]", out, err)
	}
	if _, err := sklearn.LoadPredictor(testdata.Path("sklearn/histgb_p5.pkl"), "predict_proba"); err != nil {
		t.Errorf("HistGradientBoostingClassifier: %v", err)
	}
	for _, name := range []string{"tree.joblib", "knn_kdtree.joblib"} {
		if _, err := sklearn.LoadPredictor(testdata.Path("sklearn/"+name), "predict"); !errors.Is(err, sklearn.ErrNotInGo) {
			t.Errorf("%s: %v, want ErrNotInGo", name, err)
		}
	}
	if _, err := sklearn.LoadPredictor(testdata.Path("sklearn/evil_in_estimator.pkl"), "predict"); !errors.Is(err, flavor.ErrInvalidModel) {
		t.Errorf("evil: %v, want ErrInvalidModel", err)
	}
}

// TestInspectSaysWhereServed: inspect tells whether mlrun serves the
// model in Go, or why a Python worker would.
func TestInspectSaysWhereServed(t *testing.T) {
	for name, want := range map[string]string{
		"elasticnet_p4.pkl": "go",
		"forest_p5.pkl":     "go",
		"knn_kdtree.joblib": "python: KNeighborsClassifier: _y: joblib.numpy_pickle.NumpyArrayWrapper is not a numpy array", // joblib keeps arrays outside the pickle
	} {
		m, err := sklearn.Flavor{}.Inspect(context.Background(), &flavor.InspectRequest{Path: testdata.Path("sklearn/" + name)})
		if err != nil || m.Facts["served_in"] != want {
			t.Errorf("%s: %q %v, want %q", name, m.Facts["served_in"], err, want)
		}
	}
}

// TestPredictsConcurrently: a predictor serves concurrent requests (as
// serve calls it) with the answers it gives alone; run with -race, it
// also shows no state is shared between calls.
func TestPredictsConcurrently(t *testing.T) {
	row := []any{0.3, -1.2, 2.5, 0.01}
	for _, c := range []struct {
		file, fn string
		names    []string
		rows     [][]any
	}{
		{"column_transformer_p5.pkl", "predict_proba", []string{"x", "city", "y"}, [][]any{{0.5, "SF", 0.2}, {nil, "Paris", 0.9}}},
		{"forest_p5.pkl", "predict_proba", nil, [][]any{row}},
		{"svc_p4.pkl", "predict", nil, [][]any{row}},
		{"histgb_p5.pkl", "predict_proba", nil, [][]any{row}},
		{"gaussian_nb_p5.pkl", "predict_proba", nil, [][]any{row}},
		{"mlp_pca_p5.pkl", "predict_proba", nil, [][]any{row}},
		{"svc_proba_p5.pkl", "predict_log_proba", nil, [][]any{row}},
		{"knn_p5.pkl", "predict_proba", nil, [][]any{row, {0.5, 0.5, 0.5, 0.5}}},
		{"histgb_cat_p5.pkl", "predict_proba", nil, [][]any{{3.0, 0.5, 0.5, 0.5}, {9.0, 0.1, 0.2, 0.3}}},
		{"spline_bagging_p5.pkl", "predict_proba", nil, [][]any{row, {-3.0, 0.5, 9.0, 0.5}}},
		{"iforest_p5.pkl", "predict", nil, [][]any{row, {0.5, 0.5, 0.5, 0.5}}},
		{"calibrated_ovr_p5.pkl", "predict_proba", nil, [][]any{row}},
		{"ttr_quantile_p5.pkl", "predict", nil, [][]any{row, {0.1, 0.9, 0.4, 0.2}}},
		{"text_tfidf_p5.pkl", "predict_proba", []string{"the cat"}, [][]any{{"x"}}},
	} {
		p, err := sklearn.LoadPredictor(testdata.Path("sklearn/"+c.file), c.fn)
		if err != nil {
			t.Fatal(err)
		}
		want, err := p.Predict(c.names, len(c.rows[0]), c.rows)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 50 {
					got, err := p.Predict(c.names, len(c.rows[0]), c.rows)
					if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("%s: %v %v, alone %v", c.file, got, err, want)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
}
