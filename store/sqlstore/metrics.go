package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/search"
)

func nan() float64 { return math.NaN() }

// point is a metric as stored: NaN becomes 0 with isNaN set.
type point struct {
	key       string
	value     float64
	isNaN     bool
	timestamp int64
	step      int64
}

// after reports whether p is strictly later than q by (step, timestamp,
// value), MLflow's rule for the latest value.
func (p point) after(q point) bool {
	if p.step != q.step {
		return p.step > q.step
	}
	if p.timestamp != q.timestamp {
		return p.timestamp > q.timestamp
	}
	return p.value > q.value
}

// LogBatch implements store.Store. Everything is validated before anything
// is written, and it all happens in one transaction.
func (s *Store) LogBatch(ctx context.Context, runID string, metrics []store.Metric, params []store.Param, tags []store.Tag) error {
	if err := store.ValidateBatchLimits(len(metrics), len(params), len(tags)); err != nil {
		return err
	}
	params = append([]store.Param(nil), params...)
	tags = append([]store.Tag(nil), tags...)
	pts := make([]point, len(metrics))
	for i, m := range metrics {
		if err := store.ValidateMetric(m); err != nil {
			return err
		}
		v, isNaN := store.SanitizeMetricValue(m.Value)
		pts[i] = point{m.Key, v, isNaN, m.Timestamp, m.Step}
	}
	seen := map[string]bool{}
	for i, p := range params {
		p, err := store.NormalizeParam(p)
		if err != nil {
			return err
		}
		if seen[p.Key] {
			return store.Invalidf("Duplicate parameter keys have been submitted: ['%s']. Please ensure the request contains only one param value per param key.", p.Key)
		}
		seen[p.Key] = true
		params[i] = p
	}
	for i, t := range tags {
		t, err := store.NormalizeTag(t)
		if err != nil {
			return err
		}
		tags[i] = t
	}
	if len(metrics) == 0 && len(tags) == 0 && s.loggedAgain(ctx, runID, params) {
		return nil // nothing to write (see logged.go)
	}
	var op any
	switch {
	case len(metrics)+len(params)+len(tags) > mergeRows:
		op = largeWrite{}
	case !hasModelMetrics(metrics):
		op = &batchOp{runID: runID, params: params, pts: pts, tags: tags}
	}
	err := s.txOp(ctx, op, func(ctx context.Context, tx *sql.Tx) error {
		if err := checkActive(ctx, tx, runID); err != nil {
			return err
		}
		if err := logParams(ctx, tx, runID, params); err != nil {
			return err
		}
		if err := s.logModelMetrics(ctx, tx, runID, metrics); err != nil {
			return err
		}
		if err := logMetrics(ctx, tx, runID, pts); err != nil {
			return err
		}
		return upsertTags(ctx, tx, runID, tags)
	})
	if err == nil && len(params) > 0 {
		s.logged.add(runID, params)
	}
	return wrap("log batch", err)
}

// hasModelMetrics reports whether any of metrics is a logged model's.
func hasModelMetrics(metrics []store.Metric) bool {
	for _, m := range metrics {
		if m.ModelID != "" {
			return true
		}
	}
	return false
}

func logParams(ctx context.Context, tx *sql.Tx, runID string, params []store.Param) error {
	if len(params) == 0 {
		return nil
	}
	// One insert of them all (LogBatch has refused duplicate keys),
	// keeping what is there already; only when some were there (fewer
	// rows inserted than given) are their values read to compare: the
	// same value again is fine, another one is refused (the caller's
	// savepoint then drops what this inserted).
	args := make([]any, 0, 3*len(params))
	for _, p := range params {
		args = append(args, p.Key, p.Value, runID)
	}
	if allNew, err := insertParams(ctx, tx, args); allNew || err != nil {
		return err
	}
	have, err := storedParams(ctx, tx, args)
	if err != nil {
		return err
	}
	for _, p := range params {
		if v := have[[2]string{runID, p.Key}]; v != p.Value {
			return store.Invalidf("Changing param values is not allowed. Param with key='%s' was already logged with value='%s' for run ID='%s'. Attempted logging new value '%s'.", p.Key, v, runID, p.Value)
		}
	}
	return nil
}

// storedParams reads the values stored for the params in args, (key,
// value, run) triples, by (run, key): in one query of the runs' and the
// keys' rows (a few more than asked for when several runs are given).
func storedParams(ctx context.Context, tx *sql.Tx, args []any) (map[[2]string]string, error) {
	var runs, keys []any
	seenRun, seenKey := map[any]bool{}, map[any]bool{}
	for i := 0; i < len(args); i += 3 {
		if k := args[i]; !seenKey[k] {
			seenKey[k] = true
			keys = append(keys, k)
		}
		if r := args[i+2]; !seenRun[r] {
			seenRun[r] = true
			runs = append(runs, r)
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT run_uuid, "key", value FROM params WHERE run_uuid IN (`+placeholders(len(runs))+`) AND "key" IN (`+placeholders(len(keys))+`)`, append(runs, keys...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	have := map[[2]string]string{}
	for rows.Next() {
		var run, k, v string
		if err := rows.Scan(&run, &k, &v); err != nil {
			return nil, err
		}
		have[[2]string{run, k}] = v
	}
	return have, rows.Err()
}

func logMetrics(ctx context.Context, tx *sql.Tx, runID string, pts []point) error {
	rps := make([]runPoint, len(pts))
	for i, p := range pts {
		rps[i] = runPoint{runID, p}
	}
	return insertMetrics(ctx, tx, rps)
}

// GetMetricHistory implements store.Store.
func (s *Store) GetMetricHistory(ctx context.Context, runID, key string, maxResults int, pageToken string) ([]store.Metric, string, error) {
	if maxResults < 0 {
		return nil, "", store.Invalidf("Invalid value %d for parameter 'max_results': must be positive", maxResults)
	}
	tok, err := search.DecodeToken(pageToken)
	if err != nil {
		return nil, "", err
	}
	var out []store.Metric
	limit := 0
	if maxResults > 0 {
		limit = maxResults + 1
	}
	err = s.history(ctx, runID, key, limit, tok.Offset, func(m store.Metric) error {
		out = append(out, m)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	out, next := page(out, maxResults, tok.Offset)
	return out, next, nil
}

// StreamMetricHistory implements store.HistoryStreamer.
func (s *Store) StreamMetricHistory(ctx context.Context, runID, key string, fn func(store.Metric) error) error {
	return s.history(ctx, runID, key, 0, 0, fn)
}

// historyQuery selects a metric's points in order: value (NULL for a
// NaN; the column itself is NOT NULL), timestamp, step. The value is
// selected under another name, so that ORDER BY's value is the column
// (MLflow's order, mlrun_metrics_history's) on PostgreSQL too, which
// would otherwise take the CASE (named after its ELSE column) and sort.
const historyQuery = `SELECT CASE WHEN is_nan THEN NULL ELSE value END AS v, timestamp, step FROM metrics WHERE run_uuid = ? AND "key" = ? ORDER BY timestamp, step, value`

// history calls fn with the points of a run's metric in order, from
// offset on, at most limit of them (0: all). The index
// mlrun_metrics_history makes it one range scan.
func (s *Store) history(ctx context.Context, runID, key string, limit, offset int, fn func(store.Metric) error) error {
	if _, err := s.runInfo(ctx, s.r, runID); err != nil {
		return err
	}
	q := historyQuery
	args := []any{runID, key}
	if limit > 0 {
		q += ` LIMIT ? OFFSET ?`
		args = append(args, limit, offset)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("get metric history: %w", err)
	}
	defer rows.Close()
	// Scanned into interfaces and converted here: database/sql converts
	// into *int64 and *float64 by reflection, a fifth of a long history's
	// time.
	var p scannedPoint
	for rows.Next() {
		if err := rows.Scan(&p.value, &p.timestamp, &p.step); err != nil {
			return fmt.Errorf("get metric history: %w", err)
		}
		m, err := p.metric(key)
		if err != nil {
			return fmt.Errorf("get metric history: %w", err)
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("get metric history: %w", err)
	}
	return nil
}

// LogInputs implements store.Store: datasets are kept once per experiment
// by (name, digest) and linked to the run once per pair.
func (s *Store) LogInputs(ctx context.Context, runID string, inputs []store.DatasetInput) error {
	for _, in := range inputs {
		if err := store.ValidateDatasetInput(in); err != nil {
			return err
		}
	}
	return wrap("log inputs", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		ri, err := s.activeRun(ctx, tx, runID)
		if err != nil {
			return err
		}
		for _, in := range inputs {
			d := in.Dataset
			var dsID string
			err := tx.QueryRowContext(ctx, `SELECT dataset_uuid FROM datasets WHERE experiment_id = ? AND name = ? AND digest = ?`, ri.ExperimentID, d.Name, d.Digest).Scan(&dsID)
			if errors.Is(err, sql.ErrNoRows) {
				dsID = newID()
				_, err = tx.ExecContext(ctx, `INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, dataset_source_type, dataset_source, dataset_schema, dataset_profile) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
					dsID, ri.ExperimentID, d.Name, d.Digest, d.SourceType, d.Source, nullIfEmpty(d.Schema), nullIfEmpty(d.Profile))
			}
			if err != nil {
				return err
			}
			var inputID string
			err = tx.QueryRowContext(ctx, `SELECT input_uuid FROM inputs WHERE source_type = 'DATASET' AND source_id = ? AND destination_type = 'RUN' AND destination_id = ?`, dsID, runID).Scan(&inputID)
			if !errors.Is(err, sql.ErrNoRows) {
				if err != nil {
					return err
				}
				continue // linked already
			}
			inputID = newID()
			if _, err := tx.ExecContext(ctx, `INSERT INTO inputs (input_uuid, source_type, source_id, destination_type, destination_id) VALUES (?, 'DATASET', ?, 'RUN', ?)`, inputID, dsID, runID); err != nil {
				return err
			}
			for _, t := range in.Tags {
				if _, err := tx.ExecContext(ctx, `INSERT INTO input_tags (input_uuid, name, value) VALUES (?, ?, ?) ON CONFLICT (input_uuid, name) DO UPDATE SET value = excluded.value`, inputID, t.Key, t.Value); err != nil {
					return err
				}
			}
		}
		return nil
	}))
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

var _ store.DatasetSearcher = (*Store)(nil)

// SearchDatasets lists the datasets logged as inputs of the experiments'
// runs, once per (experiment, name, digest, context).
func (s *Store) SearchDatasets(ctx context.Context, experimentIDs []string) ([]store.DatasetSummary, error) {
	var ids []any
	for _, id := range experimentIDs {
		if n, err := parseExperimentID(id); err == nil {
			ids = append(ids, n)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT d.experiment_id, d.name, d.digest, COALESCE(t.value, '')
		FROM datasets d JOIN inputs i ON i.source_type = 'DATASET' AND i.source_id = d.dataset_uuid AND i.destination_type = 'RUN'
		LEFT JOIN input_tags t ON t.input_uuid = i.input_uuid AND t.name = 'mlflow.data.context'
		WHERE d.experiment_id IN (`+placeholders(len(ids))+`) ORDER BY d.experiment_id, d.name, d.digest`, ids...)
	if err != nil {
		return nil, fmt.Errorf("search datasets: %w", err)
	}
	defer rows.Close()
	var out []store.DatasetSummary
	for rows.Next() {
		var d store.DatasetSummary
		var exp int64
		if err := rows.Scan(&exp, &d.Name, &d.Digest, &d.Context); err != nil {
			return nil, err
		}
		d.ExperimentID = strconv.FormatInt(exp, 10)
		out = append(out, d)
	}
	return out, rows.Err()
}

// LogModel implements store.Store: the history is read and written in one
// transaction, which the single writer serializes.
func (s *Store) LogModel(ctx context.Context, runID, modelJSON string) error {
	return wrap("log model", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := checkActive(ctx, tx, runID); err != nil {
			return err
		}
		var old sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT value FROM tags WHERE run_uuid = ? AND "key" = ?`, runID, store.TagModelHistory).Scan(&old)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		hist, err := store.AppendModelHistory(old.String, modelJSON)
		if err != nil {
			return err
		}
		return upsertTags(ctx, tx, runID, []store.Tag{{Key: store.TagModelHistory, Value: hist}})
	}))
}

// logModelMetrics records the metrics logged with a model id in
// logged_model_metrics too, as MLflow 3's store does.
func (s *Store) logModelMetrics(ctx context.Context, tx *sql.Tx, runID string, metrics []store.Metric) error {
	var exp string
	for _, m := range metrics {
		if m.ModelID == "" {
			continue
		}
		if !s.loggedModels {
			return s.requireLoggedModels()
		}
		if exp == "" {
			if err := tx.QueryRowContext(ctx, `SELECT experiment_id FROM runs WHERE run_uuid = ?`, runID).Scan(&exp); err != nil {
				return err
			}
		}
		if _, err := s.getLoggedModel(ctx, tx, m.ModelID); err != nil {
			return err
		}
		var value any = m.Value
		if math.IsNaN(m.Value) {
			value = nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO logged_model_metrics (model_id, metric_name, metric_timestamp_ms, metric_step, metric_value, experiment_id, run_id, dataset_uuid, dataset_name, dataset_digest) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?) ON CONFLICT (model_id, metric_name, metric_timestamp_ms, metric_step, run_id) DO UPDATE SET metric_value = excluded.metric_value, experiment_id = excluded.experiment_id, dataset_uuid = excluded.dataset_uuid, dataset_name = excluded.dataset_name, dataset_digest = excluded.dataset_digest`, m.ModelID, m.Key, m.Timestamp, m.Step, value, exp, runID, nullIfEmpty(m.DatasetName), nullIfEmpty(m.DatasetDigest)); err != nil {
			return err
		}
	}
	return nil
}

// scannedPoint is a metric point as scanned: its value (nil for a NaN),
// timestamp (nil in some databases MLflow wrote: 0) and step, as the
// driver gave them.
type scannedPoint struct{ value, timestamp, step any }

// metric returns the point's metric, of key.
func (p scannedPoint) metric(key string) (store.Metric, error) {
	m := store.Metric{Key: key, Value: nan()}
	var err error
	switch v := p.value.(type) {
	case nil:
	case float64:
		m.Value = v
	case int64: // a whole number the database kept as an integer
		m.Value = float64(v)
	default:
		err = fmt.Errorf("a metric value is a %T", v)
	}
	if ts, ok := p.timestamp.(int64); ok {
		m.Timestamp = ts
	} else if p.timestamp != nil {
		err = fmt.Errorf("a metric timestamp is a %T", p.timestamp)
	}
	if step, ok := p.step.(int64); ok {
		m.Step = step
	} else {
		err = fmt.Errorf("a metric step is a %T", p.step)
	}
	return m, err
}
