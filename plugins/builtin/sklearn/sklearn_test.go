package sklearn_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/plugins/builtin/sklearn"
	"github.com/mlrun/mlrun/plugins/builtin/testdata"
	"github.com/mlrun/mlrun/plugins/flavor"
)

// TestFactsMatchTheLibrary compares every fact read with what
// scikit-learn reported when it wrote the file.
func TestFactsMatchTheLibrary(t *testing.T) {
	facts := testdata.Facts(t)
	for name, want := range facts {
		if !strings.HasPrefix(name, "sklearn/") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			f, err := sklearn.Read(testdata.Path(name))
			if err != nil {
				t.Fatal(err)
			}
			if f.Estimator != want["estimator"] || f.SklearnVersion != want["sklearn_version"] || float64(f.NFeatures) != want["n_features_in"] {
				t.Fatalf("read %+v, library said %v", f, want)
			}
			if p, ok := want["protocol"]; ok && float64(f.Protocol) != p && !(p == 0.0 && f.Protocol == 0) {
				t.Fatalf("protocol %d, want %v", f.Protocol, p)
			}
			if steps, ok := want["steps"].([]any); ok && fmt.Sprint(f.Steps) != fmt.Sprint(steps) {
				t.Fatalf("steps %v, want %v", f.Steps, steps)
			}
			if j, _ := want["joblib"].(bool); j != f.Joblib {
				t.Fatalf("joblib %v", f.Joblib)
			}
		})
	}
}

// TestRefusesUnsafeAndBadPickles: code-running pickles are refused with the
// reason, and the test proves nothing ran.
func TestRefusesUnsafeAndBadPickles(t *testing.T) {
	const marker = "/tmp/mlrun-pickle-pwned"
	os.Remove(marker)
	for name, want := range map[string]string{
		"sklearn/evil_system.pkl":       "refusing",
		"sklearn/evil_in_estimator.pkl": "would load posix.system",
		"sklearn/not_sklearn.pkl":       "not of a scikit-learn estimator (its top-level object is a dict)",
		"sklearn/truncated.pkl":         "truncated pickle",
		"xgboost/binary.json":           "malformed pickle",
		"onnx/linear.onnx":              "pickle",
	} {
		_, err := sklearn.Read(testdata.Path(name))
		if !errors.Is(err, flavor.ErrInvalidModel) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v, want an invalid-model error with %q", name, err, want)
		}
	}
	if _, err := sklearn.Read(testdata.Path("sklearn/evil_system.pkl")); !strings.Contains(err.Error(), "posix.system") {
		t.Errorf("the reason does not name the call: %v", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a refused pickle ran its payload")
	}
	if _, err := sklearn.Read("/no/such/file.pkl"); !errors.Is(err, flavor.ErrNotFound) {
		t.Errorf("missing file: %v", err)
	}
	// scikit-learn's rebuilders are allowed only on a class that is: here
	// newObj(1) and __pyx_unpickle_X(posix.system).
	for _, p := range []struct{ pickle, want string }{
		{"\x80\x02csklearn.neighbors._kd_tree\nnewObj\nK\x01\x85R.", "without a class to rebuild"},
		{"\x80\x02csklearn._loss._loss\n__pyx_unpickle_X\ncposix\nsystem\n\x85R.", "would load posix.system"},
		{"\x80\x02csklearn._loss._loss\n__pyx_unpickle_X\ncbuiltins\nlen\n\x85R.", "would construct builtins.len, which is not on the safe list"},
	} {
		f := filepath.Join(t.TempDir(), "m.pkl")
		os.WriteFile(f, []byte(p.pickle), 0o644)
		if _, err := sklearn.Read(f); !errors.Is(err, flavor.ErrInvalidModel) || !strings.Contains(err.Error(), p.want) {
			t.Errorf("%q: %v, want %q", p.pickle, err, p.want)
		}
	}
}

func TestSaveWritesAnMLflowModel(t *testing.T) {
	dst := t.TempDir() + "/model"
	r, err := sklearn.Flavor{}.Save(context.Background(), &flavor.SaveRequest{Path: testdata.Path("sklearn/pipeline_p4.pkl"), DestDir: dst})
	if err != nil {
		t.Fatal(err)
	}
	mlmodel, _ := os.ReadFile(dst + "/MLmodel")
	for _, want := range []string{"loader_module: mlflow.sklearn", "pickled_model: model.pkl", "sklearn_version: 1.2.1", "serialization_format: cloudpickle", "predict_fn: predict"} {
		if !strings.Contains(string(mlmodel), want) {
			t.Errorf("MLmodel lacks %q:\n%s", want, mlmodel)
		}
	}
	// A feature count is no exact schema: no signature, as MLflow without an input example.
	if strings.Contains(string(mlmodel), "signature") {
		t.Errorf("MLmodel has an inferred signature:\n%s", mlmodel)
	}
	reqs, _ := os.ReadFile(dst + "/requirements.txt")
	if !strings.Contains(string(reqs), "scikit-learn==1.2.1") || !strings.HasPrefix(string(reqs), "mlflow==") {
		t.Errorf("requirements.txt %q", reqs)
	}
	for _, f := range []string{"model.pkl", "conda.yaml", "python_env.yaml"} {
		if _, err := os.Stat(dst + "/" + f); err != nil {
			t.Errorf("%s missing", f)
		}
	}
	if len(r.Files) != 5 {
		t.Errorf("files %v", r.Files)
	}
	if _, err := (sklearn.Flavor{}).Save(context.Background(), &flavor.SaveRequest{Path: testdata.Path("sklearn/pipeline_p4.pkl"), DestDir: dst}); err == nil {
		t.Error("saved into a non-empty folder")
	}
}

func FuzzPickle(f *testing.F) {
	for _, name := range []string{"sklearn/elasticnet_p0.pkl", "sklearn/elasticnet_p2.pkl", "sklearn/elasticnet_p4.pkl", "sklearn/pipeline_p4.pkl", "sklearn/tree.joblib", "sklearn/evil_system.pkl", "sklearn/elasticnet_p5.pkl", "sklearn/forest_p5.pkl", "sklearn/tree_reg_p2.pkl", "sklearn/column_transformer_p5.pkl", "sklearn/histgb_p5.pkl", "sklearn/svc_p4.pkl", "sklearn/gaussian_nb_p5.pkl", "sklearn/mlp_pca_p5.pkl", "sklearn/svc_proba_p5.pkl", "sklearn/histgb_cat_p5.pkl", "sklearn/knn_p5.pkl",
		"sklearn/text_tfidf_p5.pkl", "sklearn/text_hashing_p5.pkl", "sklearn/spline_bagging_p5.pkl", "sklearn/iforest_p5.pkl", "sklearn/calibrated_ovr_p5.pkl", "sklearn/ttr_quantile_p5.pkl"} {
		b, err := os.ReadFile(testdata.Path(name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := t.TempDir() + "/f.pkl"
		os.WriteFile(p, data, 0o644)
		_, err := sklearn.Read(p)
		if err != nil && !errors.Is(err, flavor.ErrInvalidModel) {
			t.Fatalf("error of the wrong kind: %v", err)
		}
		if err != nil {
			return
		}
		// What reads may be predicted in Go: a load is a predictor or
		// ErrNotInGo, and a prediction an answer or an InputError.
		for _, fn := range []string{"predict", "predict_proba", "predict_log_proba", "predict_joint_log_proba"} {
			pr, err := sklearn.LoadPredictor(p, fn)
			if err != nil {
				if !errors.Is(err, sklearn.ErrNotInGo) {
					t.Fatalf("%s: error of the wrong kind: %v", fn, err)
				}
				continue
			}
			n := min(max(pr.NumFeatures(), 1), 1000)
			row := make([]any, n)
			for i := range row {
				row[i] = 0.0
			}
			for _, x := range [][]any{row, {0.5}, append(row[:n-1:n-1], math.NaN()), append(row[:n-1:n-1], "x")} {
				if _, err := pr.Predict(nil, len(x), [][]any{x}); err != nil {
					if ie := (*sklearn.InputError)(nil); !errors.As(err, &ie) {
						t.Fatalf("%s: error of the wrong kind: %v", fn, err)
					}
				}
			}
			if pr.TakesDocuments() { // documents, and values that are none
				if _, err := pr.PredictVector([]any{"the cat", "ΣΑΣ", "", nil, 1.5}); err != nil {
					if ie := (*sklearn.InputError)(nil); !errors.As(err, &ie) {
						t.Fatalf("%s: error of the wrong kind: %v", fn, err)
					}
				}
				if _, err := pr.PredictVector([]any{"the cat sat", "stocks"}); err != nil {
					if ie := (*sklearn.InputError)(nil); !errors.As(err, &ie) {
						t.Fatalf("%s: error of the wrong kind: %v", fn, err)
					}
				}
			}
			// A frame as column_transformer_p5.pkl takes it.
			if _, err := pr.Predict([]string{"x", "city", "y"}, 3, [][]any{{0.5, "SF", 0.2}, {nil, nil, math.Inf(1)}}); err != nil {
				if ie := (*sklearn.InputError)(nil); !errors.As(err, &ie) {
					t.Fatalf("%s: error of the wrong kind: %v", fn, err)
				}
			}
		}
	})
}
