package serve

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/mlrun/mlrun/plugins/builtin/sklearn"
)

// sklearnPredictor predicts a scikit-learn model in Go, as mlflow.sklearn's
// pyfunc does: the estimator's predict_fn on the DataFrame, whose string
// column names are the feature names scikit-learn checks.
type sklearnPredictor struct{ p *sklearn.Predictor }

func (s *sklearnPredictor) Predict(_ context.Context, f *Frame, _ map[string]any) (any, error) {
	cols := f.Width()
	x := make([]float64, 0, len(f.Rows)*cols)
	for _, row := range f.Rows {
		for j := 0; j < cols; j++ {
			v := math.NaN()
			if j < len(row) {
				n, ok := cellNumber(row[j])
				if str, isStr := row[j].(string); !ok && isStr {
					// numpy's float(): surrounding spaces, "nan", "inf".
					f, err := strconv.ParseFloat(strings.TrimSpace(str), 64)
					if err != nil && !errors.Is(err, strconv.ErrRange) {
						return nil, scoringError("ValueError: could not convert string to float: '" + str + "'")
					}
					n, ok = f, true
				}
				if !ok {
					return nil, notANumber(row[j])
				}
				v = n
			}
			x = append(x, v)
		}
	}
	out, err := s.p.Predict(x, len(f.Rows), f.Columns)
	if ie := (*sklearn.InputError)(nil); errors.As(err, &ie) {
		return nil, scoringError("ValueError: " + ie.Msg)
	} else if err != nil {
		return nil, scoringError(err.Error())
	}
	return out, nil
}

// scoringError is MLflow's answer to an exception of the model's predict
// (msg as a Python worker reports it: "ValueError: …").
func scoringError(msg string) error {
	return badRequest("Encountered an unexpected error while evaluating the model. Verify that the serialized input Dataframe is compatible with the model for inference. Error: %s", msg)
}
