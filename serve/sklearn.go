package serve

import (
	"context"
	"math"
	"sort"
	"strings"

	"github.com/mlrun/mlrun/plugins/builtin/sklearn"
)

// sklearnPredictor predicts a scikit-learn model in Go, as mlflow.sklearn's
// pyfunc does: the estimator's predict_fn on the DataFrame, whose string
// column names are the feature names scikit-learn checks.
type sklearnPredictor struct{ p *sklearn.Predictor }

func (s *sklearnPredictor) Predict(_ context.Context, f *Frame, _ map[string]any) (any, error) {
	if f.Vector && f.Columns == nil && s.p.TakesDocuments() { // a list of documents
		docs := make([]any, len(f.Rows))
		for i, r := range f.Rows {
			docs[i] = r[0]
		}
		out, err := s.p.PredictVector(docs)
		if err != nil {
			return nil, scoringError(err.Error())
		}
		return out, nil
	}
	names := f.Columns
	if f.Labels != nil { // labels that are not all text are no feature names
		if err := labelTypes(f.Labels); err != nil {
			return nil, err
		}
		names = nil
	}
	out, err := s.p.Predict(names, f.Width(), f.Rows)
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

// labelTypes refuses column labels of text mixed with other types, as
// scikit-learn's _get_feature_names does (labels of numbers alone are
// taken as no names).
func labelTypes(labels []any) error {
	seen := map[string]bool{}
	for _, l := range labels {
		t := "NoneType"
		switch l := l.(type) {
		case string:
			t = "str"
		case bool:
			t = "bool"
		case float64:
			t = "float"
			if l == math.Trunc(l) && !math.IsInf(l, 0) {
				t = "int" // encoding/json's number: Python's json reads 0 as an int
			}
		}
		seen[t] = true
	}
	if len(seen) < 2 || !seen["str"] {
		return nil
	}
	types := make([]string, 0, len(seen))
	for t := range seen {
		types = append(types, "'"+t+"'")
	}
	sort.Strings(types)
	return scoringError("TypeError: Feature names are only supported if all input features have string names, but your input has [" + strings.Join(types, ", ") + "] as feature name / column name types. If you want feature names to be stored and validated, you must convert them all to strings, by using X.columns = X.columns.astype(str) for example. Otherwise you can remove feature / column names from your input data, or convert them all to a non-string data type.")
}
