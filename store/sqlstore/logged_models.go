package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

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
		m.Params = append(m.Params, store.Param(p))
	}
	rows, err := q.QueryContext(ctx, `SELECT metric_name, metric_timestamp_ms, metric_step, metric_value, run_id, coalesce(dataset_name, ''), coalesce(dataset_digest, '')
		FROM logged_model_metrics WHERE model_id = ? ORDER BY metric_timestamp_ms, metric_step, metric_name`, id)
	if err != nil {
		return nil, fmt.Errorf("get logged model metrics: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		mt := store.Metric{ModelID: id}
		var v sql.NullFloat64
		if err := rows.Scan(&mt.Key, &mt.Timestamp, &mt.Step, &v, &mt.RunID, &mt.DatasetName, &mt.DatasetDigest); err != nil {
			return nil, err
		}
		mt.Value = v.Float64
		if !v.Valid {
			mt.Value = math.NaN()
		}
		m.Metrics = append(m.Metrics, mt)
	}
	return m, rows.Err()
}

// CreateLoggedModel implements store.LoggedModels.
func (s *Store) CreateLoggedModel(ctx context.Context, req store.LoggedModel) (*store.LoggedModel, error) {
	if err := s.requireLoggedModels(); err != nil {
		return nil, err
	}
	// MLflow's _validate_logged_model_name: the name is a path segment
	// of runs:/<run_id>/<name> and of the model's URIs.
	if strings.ContainsAny(req.Name, "/:.") {
		return nil, store.Invalidf("Invalid model name (%s) provided. Model name must be a non-empty string and cannot contain the following characters: ('/', ':', '.')", store.PyRepr(req.Name))
	}
	var m *store.LoggedModel
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
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
		if _, err := tx.ExecContext(ctx, `INSERT INTO logged_model_tags (model_id, experiment_id, tag_key, tag_value) VALUES (?, ?, ?, ?) ON CONFLICT (model_id, tag_key) DO UPDATE SET experiment_id = excluded.experiment_id, tag_value = excluded.tag_value`, id, exp, t.Key, t.Value); err != nil {
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
		if _, err := tx.ExecContext(ctx, `INSERT INTO logged_model_params (model_id, experiment_id, param_key, param_value) VALUES (?, ?, ?, ?) ON CONFLICT (model_id, param_key) DO UPDATE SET experiment_id = excluded.experiment_id, param_value = excluded.param_value`, id, exp, p.Key, p.Value); err != nil {
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
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
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
	return wrap("delete logged model", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
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
		return deleteOne(ctx, tx, store.NotFoundf("No tag with key '%s' found for logged model '%s'.", key, id), `DELETE FROM logged_model_tags WHERE model_id = ? AND tag_key = ?`, id, key)
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
// active models matching MLflow's filter, in the requested order
// (default: newest first), model_id breaking ties.
func (s *Store) SearchLoggedModels(ctx context.Context, q store.SearchLoggedModels) ([]*store.LoggedModel, string, error) {
	if err := s.requireLoggedModels(); err != nil {
		return nil, "", err
	}
	if q.MaxResults == 0 {
		q.MaxResults = 50
	}
	if q.MaxResults < 0 || q.MaxResults > 10000 {
		return nil, "", store.Invalidf("Invalid value %d for max_results", q.MaxResults)
	}
	tok, err := search.DecodeToken(q.PageToken)
	if err != nil {
		return nil, "", err
	}
	var ids []any
	for _, id := range q.ExperimentIDs {
		if n, err := parseExperimentID(id); err == nil {
			ids = append(ids, n)
		}
	}
	if len(ids) == 0 {
		return nil, "", store.Invalidf("Missing value for required parameter 'experiment_ids'.")
	}
	clauses, err := search.LoggedModels.Parse(q.Filter)
	if err != nil {
		return nil, "", err
	}
	where := []string{`lm.experiment_id IN (` + placeholders(len(ids)) + `)`, `(lm.lifecycle_stage IS NULL OR lm.lifecycle_stage = 'active')`}
	args := ids
	dsCond, dsArgs := datasetCondition(q.Datasets)
	for _, c := range clauses {
		cond, cargs, err := loggedModelClause(c, dsCond, dsArgs)
		if err != nil {
			return nil, "", err
		}
		where = append(where, cond)
		args = append(args, cargs...)
	}
	order, oargs, err := loggedModelOrder(q.OrderBy)
	if err != nil {
		return nil, "", err
	}
	args = append(oargs, args...) // the order's subqueries come first in the SELECT list
	// The metric keys are computed in a subquery named lm again, so that
	// ORDER BY can test them (o1 IS NULL) by name on every database.
	outer := "lm.model_id"
	for i := 1; i <= order.n; i++ {
		outer += fmt.Sprintf(", lm.o%d", i)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+outer+` FROM (SELECT lm.*`+order.cols+` FROM logged_models lm WHERE `+strings.Join(where, " AND ")+
		`) AS lm ORDER BY `+order.by+` LIMIT ? OFFSET ?`, append(args, q.MaxResults+1, tok.Offset)...)
	if err != nil {
		return nil, "", fmt.Errorf("search logged models: %w", err)
	}
	var mids []string
	for rows.Next() {
		vals := make([]any, order.n+1)
		var id string
		vals[0] = &id
		for i := 1; i <= order.n; i++ {
			vals[i] = new(any)
		}
		if err := rows.Scan(vals...); err != nil {
			rows.Close()
			return nil, "", err
		}
		mids = append(mids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("search logged models: %w", err)
	}
	mids, next := page(mids, q.MaxResults, tok.Offset)
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

// datasetCondition limits logged_model_metrics rows (alias mm) to the
// given datasets.
func datasetCondition(ds []store.DatasetRef) (string, []any) {
	if len(ds) == 0 {
		return "", nil
	}
	var ors []string
	var args []any
	for _, d := range ds {
		if d.Digest == "" {
			ors = append(ors, `mm.dataset_name = ?`)
			args = append(args, d.Name)
		} else {
			ors = append(ors, `(mm.dataset_name = ? AND mm.dataset_digest = ?)`)
			args = append(args, d.Name, d.Digest)
		}
	}
	return " AND (" + strings.Join(ors, " OR ") + ")", args
}

var loggedModelColumns = map[string]string{
	"name": "lm.name", "model_id": "lm.model_id", "model_type": "lm.model_type", "source_run_id": "lm.source_run_id",
	"status": "lm.status", "creation_timestamp": "lm.creation_timestamp_ms", "last_updated_timestamp": "lm.last_updated_timestamp_ms",
}

// latestModelMetric is the value of a model's latest metric named ?
// (by timestamp, then step), on the datasets of dsCond.
func latestModelMetric(dsCond string) string {
	return `(SELECT mm.metric_value FROM logged_model_metrics mm WHERE mm.model_id = lm.model_id AND mm.metric_name = ?` + dsCond +
		` ORDER BY mm.metric_timestamp_ms DESC, mm.metric_step DESC LIMIT 1)`
}

// statusValue reads a status as MLflow names it (READY or
// LOGGED_MODEL_READY) to the stored number.
func statusValue(v string) (int64, error) {
	if n, ok := modelStatusNums[v]; ok {
		return n, nil
	}
	if n, ok := modelStatusNums["LOGGED_MODEL_"+strings.ToUpper(v)]; ok {
		return n, nil
	}
	return 0, store.Invalidf("Invalid logged model status '%s': want PENDING, READY or UPLOAD_FAILED", v)
}

// loggedModelClause turns one filter clause into SQL over logged_models lm.
func loggedModelClause(c search.Clause, dsCond string, dsArgs []any) (string, []any, error) {
	op := c.Op
	cmp := func(col string, v any) (string, []any) {
		switch op {
		case "LIKE":
			return col + ` LIKE ?`, []any{v}
		case "ILIKE":
			return `lower(` + col + `) LIKE lower(?)`, []any{v}
		case "IN", "NOT IN":
			var args []any
			for _, x := range c.List {
				args = append(args, x)
			}
			return col + " " + op + " (" + placeholders(len(args)) + ")", args
		}
		return col + " " + op + " ?", []any{v}
	}
	switch c.Entity {
	case search.Attribute:
		col := loggedModelColumns[c.Key]
		if c.Key == "status" {
			vals := append([]string{c.Str}, c.List...)
			var nums []any
			for _, v := range vals {
				if v == "" && len(c.List) > 0 {
					continue
				}
				n, err := statusValue(v)
				if err != nil {
					return "", nil, err
				}
				nums = append(nums, n)
			}
			switch op {
			case "IN", "NOT IN":
				return col + " " + op + " (" + placeholders(len(nums)) + ")", nums, nil
			case "=", "!=":
				return col + " " + op + " ?", nums[:1], nil
			}
			return "", nil, store.Invalidf("Invalid comparator '%s' for the status attribute", op)
		}
		if c.Numeric {
			q, a := cmp(col, c.Num)
			return q, a, nil
		}
		q, a := cmp(col, c.Str)
		return q, a, nil
	case search.Metric:
		q, a := cmp(latestModelMetric(dsCond), c.Num)
		return q, append(append([]any{c.Key}, dsArgs...), a...), nil
	case search.Param:
		q, a := cmp(`p.param_value`, c.Str)
		return `EXISTS (SELECT 1 FROM logged_model_params p WHERE p.model_id = lm.model_id AND p.param_key = ? AND ` + q + `)`, append([]any{c.Key}, a...), nil
	case search.Tag:
		q, a := cmp(`t.tag_value`, c.Str)
		return `EXISTS (SELECT 1 FROM logged_model_tags t WHERE t.model_id = lm.model_id AND t.tag_key = ? AND ` + q + `)`, append([]any{c.Key}, a...), nil
	}
	return "", nil, store.Invalidf("Invalid entity type '%s' for a logged model search", c.Entity)
}

type modelOrder struct {
	cols, by string
	n        int // columns added to the SELECT list
}

// loggedModelOrder builds ORDER BY: attributes, or metrics.<key> (its
// latest value, on the field's dataset if named; models without it last).
func loggedModelOrder(fields []store.LoggedModelOrder) (modelOrder, []any, error) {
	var o modelOrder
	var by []string
	var args []any
	for _, f := range fields {
		dir := " DESC"
		if f.Ascending {
			dir = " ASC"
		}
		if key, ok := strings.CutPrefix(f.Field, "metrics."); ok {
			ds, dsArgs := datasetCondition(nil)
			if f.Dataset.Name != "" {
				ds, dsArgs = datasetCondition([]store.DatasetRef{f.Dataset})
			}
			o.n++
			alias := fmt.Sprintf("o%d", o.n)
			o.cols += ", " + latestModelMetric(ds) + " AS " + alias
			args = append(append(args, key), dsArgs...)
			by = append(by, alias+" IS NULL", alias+dir)
			continue
		}
		name := strings.TrimPrefix(strings.TrimPrefix(f.Field, "attributes."), "attribute.")
		canon := map[string]string{"creation_time": "creation_timestamp", "last_updated_time": "last_updated_timestamp"}[name]
		if canon == "" {
			canon = name
		}
		col, ok := loggedModelColumns[canon]
		if !ok {
			return o, nil, store.Invalidf("Invalid order_by field '%s': want an attribute (name, model_id, model_type, status, source_run_id, creation_timestamp, last_updated_timestamp) or metrics.<key>", f.Field)
		}
		by = append(by, col+dir)
	}
	if len(by) == 0 {
		by = append(by, "lm.creation_timestamp_ms DESC")
	}
	o.by = strings.Join(append(by, "lm.model_id"), ", ")
	return o, args, nil
}

// LogOutputs implements store.LoggedModels: links models a run produced.
func (s *Store) LogOutputs(ctx context.Context, runID string, outputs []store.ModelOutput) error {
	if err := s.requireLoggedModels(); err != nil {
		return err
	}
	return wrap("log outputs", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := checkActive(ctx, tx, runID); err != nil {
			return err
		}
		for _, o := range outputs {
			if _, err := s.getLoggedModel(ctx, tx, o.ModelID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO inputs (input_uuid, source_type, source_id, destination_type, destination_id, step) VALUES (?, 'RUN_OUTPUT', ?, 'MODEL_OUTPUT', ?, ?) ON CONFLICT DO NOTHING`,
				newID(), runID, o.ModelID, o.Step); err != nil {
				return err
			}
		}
		return nil
	}))
}

// LogModelInputs implements store.LoggedModels: each model once per run
// (source RUN_INPUT, destination MODEL_INPUT, as MLflow 3 writes it).
func (s *Store) LogModelInputs(ctx context.Context, runID string, modelIDs []string) error {
	if err := s.requireLoggedModels(); err != nil {
		return err
	}
	return wrap("log model inputs", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := checkActive(ctx, tx, runID); err != nil {
			return err
		}
		for _, id := range modelIDs {
			if _, err := s.getLoggedModel(ctx, tx, id); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM inputs WHERE source_type = 'RUN_INPUT' AND source_id = ? AND destination_type = 'MODEL_INPUT' AND destination_id = ?`, runID, id).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO inputs (input_uuid, source_type, source_id, destination_type, destination_id, step) VALUES (?, 'RUN_INPUT', ?, 'MODEL_INPUT', ?, 0)`, newID(), runID, id); err != nil {
				return err
			}
		}
		return nil
	}))
}
