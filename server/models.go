package server

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mlrun/mlrun/store"
)

// TagModelHistory is the run tag holding the JSON list of logged models.
const TagModelHistory = "mlflow.log-model.history"

// AppendModelHistory appends model to the run's mlflow.log-model.history
// tag (a JSON list), as MLflow's log-model does.
func AppendModelHistory(ctx context.Context, st store.Store, runID string, model map[string]any) error {
	run, err := st.GetRun(ctx, runID)
	if err != nil {
		return err
	}
	var hist []any
	if v, ok := run.Tag(TagModelHistory); ok && v != "" {
		if err := json.Unmarshal([]byte(v), &hist); err != nil {
			hist = nil // a corrupt history is replaced rather than kept growing
		}
	}
	hist = append(hist, model)
	b, err := json.Marshal(hist)
	if err != nil {
		return fmt.Errorf("encode model history: %w", err)
	}
	return st.SetTag(ctx, runID, store.Tag{Key: TagModelHistory, Value: string(b)})
}
