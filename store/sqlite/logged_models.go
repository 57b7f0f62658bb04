package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/search"
)

var _ store.LoggedModels = (*Store)(nil)

// Logged model statuses, as MLflow 3 stores them (integers).
var (
	modelStatusNames = map[int64]string{0: "LOGGED_MODEL_STATUS_UNSPECIFIED", 1: "LOGGED_MODEL_PENDING", 2: "LOGGED_MODEL_READY", 3: "LOGGED_MODEL_UPLOAD_FAILED"}
	modelStatusNums  = map[string]int64{"LOGGED_MODEL_PENDING": 1, "LOGGED_MODEL_READY": 2, "LOGGED_MODEL_UPLOAD_FAILED": 3, "1": 1, "2": 2, "3": 3}
)

func (s *Store) requireLoggedModels() error {
	if !s.loggedModels {
		return store.Errorf(store.ErrUnsupported, "MLflow 3 logged models need MLflow 3's tables, and this database is at MLflow revision %s (MLflow 2.17.2's schema): upgrade it with 'mlrun db upgrade' (stop the servers and runs using it first)", s.revision)
	}
	return nil
}

func modelNotFoundErr(id string) error {
	return store.NotFoundf("Logged model with ID '%s' not found.", id)
}

func (s *Store) getLoggedModel(ctx context.Context, q querier, id string) (*store.LoggedModel, error) {
	m := &store.LoggedModel{}
	var (
		exp, status          int64
		lc, mtype, srun, msg sql.NullString
	)
	err := q.QueryRowContext(ctx, `SELECT model_id, experiment_id, name, artifact_location, creation_timestamp_ms, last_updated_timestamp_ms, status, lifecycle_stage, model_type, source_run_id, status_message
		FROM logged_models WHERE model_id = ?`, id).Scan(&m.ModelID, &exp, &m.Name, &m.ArtifactURI, &m.CreationTimestamp, &m.LastUpdatedTimestamp, &status, &lc, &mtype, &srun, &msg)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && lc.String == store.LifecycleDeleted) {
		return nil, modelNotFoundErr(id)
	}
	if err != nil {
		return nil, fmt.Errorf("get logged model: %w", err)
	}
	m.ExperimentID = strconv.FormatInt(exp, 10)
	m.Status = modelStatusNames[status]
	m.ModelType, m.SourceRunID, m.StatusMessage = mtype.String, srun.String, msg.String
	if m.Tags, err = kvRows(ctx, q, `SELECT tag_key, tag_value FROM logged_model_tags WHERE model_id = ? ORDER BY tag_key`, id); err != nil {
		return nil, err
	}
	ps, err := kvRows(ctx, q, `SELECT param_key, param_value FROM logged_model_params WHERE model_id = ? ORDER BY param_key`, id)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		m.Params = append(m.Params, store.Param{Key: p.Key, Value: p.Value})
	}
	return m, nil
}

// CreateLoggedModel implements store.LoggedModels.
func (s *Store) CreateLoggedModel(ctx context.Context, req store.LoggedModel) (*store.LoggedModel, error) {
	if err := s.requireLoggedModels(); err != nil {
		return nil, err
	}
	var m *store.LoggedModel
	err := s.tx(ctx, func(tx *sql.Tx) error {
		e, err := s.getExperiment(ctx, tx, req.ExperimentID)
		if err != nil {
			return err
		}
		if e.LifecycleStage != store.LifecycleActive {
			return store.Invalidf("The experiment %s must be in the 'active' state. Current state is %s.", e.ID, e.LifecycleStage)
		}
		id := "m-" + newID()
		name := req.Name
		if name == "" {
			name = store.RandomRunName()
		}
		now := nowMillis()
		loc := joinURI(e.ArtifactLocation, "models/"+id+"/artifacts")
		if _, err := tx.ExecContext(ctx, `INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, creation_timestamp_ms, last_updated_timestamp_ms, status, lifecycle_stage, model_type, source_run_id, status_message)
			VALUES (?, ?, ?, ?, ?, ?, 1, 'active', ?, ?, NULL)`, id, e.ID, name, loc, now, now, nullIfEmpty(req.ModelType), nullIfEmpty(req.SourceRunID)); err != nil {
			return err
		}
		if err := setModelTags(ctx, tx, id, e.ID, req.Tags); err != nil {
			return err
		}
		if err := setModelParams(ctx, tx, id, e.ID, req.Params); err != nil {
			return err
		}
		m, err = s.getLoggedModel(ctx, tx, id)
		return err
	})
	return m, wrap("create logged model", err)
}

func setModelTags(ctx context.Context, tx *sql.Tx, id, exp string, tags []store.Tag) error {
	for _, t := range tags {
		if t.Key == "" {
			return store.Invalidf("Missing value for required parameter 'tags.key'.")
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO logged_model_tags (model_id, experiment_id, tag_key, tag_value) VALUES (?, ?, ?, ?)`, id, exp, t.Key, t.Value); err != nil {
			return err
		}
	}
	return nil
}

func setModelParams(ctx context.Context, tx *sql.Tx, id, exp string, params []store.Param) error {
	for _, p := range params {
		if p.Key == "" {
			return store.Invalidf("Missing value for required parameter 'params.key'.")
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO logged_model_params (model_id, experiment_id, param_key, param_value) VALUES (?, ?, ?, ?)`, id, exp, p.Key, p.Value); err != nil {
			return err
		}
	}
	return nil
}

// GetLoggedModel implements store.LoggedModels.
func (s *Store) GetLoggedModel(ctx context.Context, id string) (*store.LoggedModel, error) {
	if err := s.requireLoggedModels(); err != nil {
		return nil, err
	}
	return s.getLoggedModel(ctx, s.r, id)
}

// modelUpdate runs fn on an existing model in a transaction and returns it after.
func (s *Store) modelUpdate(ctx context.Context, id string, fn func(tx *sql.Tx, m *store.LoggedModel) error) (*store.LoggedModel, error) {
	if err := s.requireLoggedModels(); err != nil {
		return nil, err
	}
	var out *store.LoggedModel
	err := s.tx(ctx, func(tx *sql.Tx) error {
		m, err := s.getLoggedModel(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := fn(tx, m); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE logged_models SET last_updated_timestamp_ms = ? WHERE model_id = ?`, nowMillis(), id); err != nil {
			return err
		}
		out, err = s.getLoggedModel(ctx, tx, id)
		return err
	})
	return out, wrap("update logged model", err)
}

// FinalizeLoggedModel implements store.LoggedModels.
func (s *Store) FinalizeLoggedModel(ctx context.Context, id, status string) (*store.LoggedModel, error) {
	n, ok := modelStatusNums[status]
	if !ok || n == 1 {
		return nil, store.Invalidf("Invalid status '%s': want LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED", status)
	}
	return s.modelUpdate(ctx, id, func(tx *sql.Tx, m *store.LoggedModel) error {
		_, err := tx.ExecContext(ctx, `UPDATE logged_models SET status = ? WHERE model_id = ?`, n, id)
		return err
	})
}

// DeleteLoggedModel implements store.LoggedModels (a soft delete, as MLflow's).
func (s *Store) DeleteLoggedModel(ctx context.Context, id string) error {
	if err := s.requireLoggedModels(); err != nil {
		return err
	}
	return wrap("delete logged model", s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.getLoggedModel(ctx, tx, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE logged_models SET lifecycle_stage = 'deleted', last_updated_timestamp_ms = ? WHERE model_id = ?`, nowMillis(), id)
		return err
	}))
}

// SetLoggedModelTags implements store.LoggedModels.
func (s *Store) SetLoggedModelTags(ctx context.Context, id string, tags []store.Tag) (*store.LoggedModel, error) {
	return s.modelUpdate(ctx, id, func(tx *sql.Tx, m *store.LoggedModel) error { return setModelTags(ctx, tx, id, m.ExperimentID, tags) })
}

// DeleteLoggedModelTag implements store.LoggedModels.
func (s *Store) DeleteLoggedModelTag(ctx context.Context, id, key string) error {
	_, err := s.modelUpdate(ctx, id, func(tx *sql.Tx, m *store.LoggedModel) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM logged_model_tags WHERE model_id = ? AND tag_key = ?`, id, key)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.NotFoundf("No tag with key '%s' found for logged model '%s'.", key, id)
		}
		return nil
	})
	return err
}

// LogLoggedModelParams implements store.LoggedModels.
func (s *Store) LogLoggedModelParams(ctx context.Context, id string, params []store.Param) error {
	_, err := s.modelUpdate(ctx, id, func(tx *sql.Tx, m *store.LoggedModel) error {
		return setModelParams(ctx, tx, id, m.ExperimentID, params)
	})
	return err
}

// SearchLoggedModels implements store.LoggedModels: the experiments'
// models, newest first (filters are not supported yet).
func (s *Store) SearchLoggedModels(ctx context.Context, experimentIDs []string, maxResults int, pageToken string) ([]*store.LoggedModel, string, error) {
	if err := s.requireLoggedModels(); err != nil {
		return nil, "", err
	}
	if maxResults == 0 {
		maxResults = 50
	}
	if maxResults < 0 || maxResults > 10000 {
		return nil, "", store.Invalidf("Invalid value %d for max_results", maxResults)
	}
	tok, err := search.DecodeToken(pageToken)
	if err != nil {
		return nil, "", err
	}
	var ids []any
	for _, id := range experimentIDs {
		if n, err := parseExperimentID(id); err == nil {
			ids = append(ids, n)
		}
	}
	if len(ids) == 0 {
		return nil, "", store.Invalidf("Missing value for required parameter 'experiment_ids'.")
	}
	rows, err := s.r.QueryContext(ctx, `SELECT model_id FROM logged_models WHERE experiment_id IN (`+placeholders(len(ids))+`) AND (lifecycle_stage IS NULL OR lifecycle_stage = 'active')
		ORDER BY creation_timestamp_ms DESC, model_id LIMIT ? OFFSET ?`, append(ids, maxResults+1, tok.Offset)...)
	if err != nil {
		return nil, "", fmt.Errorf("search logged models: %w", err)
	}
	mids, err := collect(rows, scanString)
	if err != nil {
		return nil, "", fmt.Errorf("search logged models: %w", err)
	}
	mids, next := page(mids, maxResults, tok.Offset)
	var out []*store.LoggedModel
	for _, id := range mids {
		m, err := s.getLoggedModel(ctx, s.r, id)
		if err != nil {
			return nil, "", err
		}
		out = append(out, m)
	}
	return out, next, nil
}

// LogOutputs implements store.LoggedModels: links models a run produced.
func (s *Store) LogOutputs(ctx context.Context, runID string, outputs []store.ModelOutput) error {
	if err := s.requireLoggedModels(); err != nil {
		return err
	}
	return wrap("log outputs", s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.activeRun(ctx, tx, runID); err != nil {
			return err
		}
		for _, o := range outputs {
			if _, err := s.getLoggedModel(ctx, tx, o.ModelID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO inputs (input_uuid, source_type, source_id, destination_type, destination_id, step) VALUES (?, 'RUN_OUTPUT', ?, 'MODEL_OUTPUT', ?, ?)`,
				newID(), runID, o.ModelID, o.Step); err != nil {
				return err
			}
		}
		return nil
	}))
}
