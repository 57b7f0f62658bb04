package serve

import (
	"context"

	"github.com/mlrun/mlrun/plugins/builtin/sklearn"
)

// sklearnPredictor predicts a scikit-learn model in Go, as mlflow.sklearn's
// pyfunc does: the estimator's predict_fn on the DataFrame, whose string
// column names are the feature names scikit-learn checks.
type sklearnPredictor struct{ p *sklearn.Predictor }

func (s *sklearnPredictor) Predict(_ context.Context, f *Frame, _ map[string]any) (any, error) {
	out, err := s.p.Predict(f.Columns, f.Width(), f.Rows)
	if err != nil { // an *sklearn.InputError reads as Python's exception
		return nil, scoringError(err.Error())
	}
	return out, nil
}

// scoringError is MLflow's answer to an exception of the model's predict
// (msg as a Python worker reports it: "ValueError: …").
func scoringError(msg string) error {
	return badRequest("Encountered an unexpected error while evaluating the model. Verify that the serialized input Dataframe is compatible with the model for inference. Error: %s", msg)
}
