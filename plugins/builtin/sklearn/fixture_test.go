package sklearn_test

import (
	"path/filepath"
	"testing"

	"github.com/mlrun/mlrun/plugins/builtin/sklearn"
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
