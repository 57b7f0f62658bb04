package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/mlrun/mlrun/store"
)

const runCols = `run_uuid, name, experiment_id, user_id, status, start_time, end_time, artifact_uri, lifecycle_stage`

// TagRunName is the tag that mirrors a run's name.
const tagRunName = "mlflow.runName"

func scanRunInfo(sc interface{ Scan(...any) error }) (*store.RunInfo, error) {
	var (
		ri                          store.RunInfo
		name, user, status, uri, lc sql.NullString
		exp                         sql.NullInt64
		start, end                  sql.NullInt64
	)
	if err := sc.Scan(&ri.RunID, &name, &exp, &user, &status, &start, &end, &uri, &lc); err != nil {
		return nil, err
	}
	ri.RunName, ri.UserID, ri.Status = name.String, user.String, store.RunStatus(status.String)
	ri.ArtifactURI, ri.LifecycleStage = uri.String, lc.String
	ri.ExperimentID = strconv.FormatInt(exp.Int64, 10)
	ri.StartTime = start.Int64
	if end.Valid {
		v := end.Int64
		ri.EndTime = &v
	}
	if ri.LifecycleStage == "" {
		ri.LifecycleStage = store.LifecycleActive
	}
	return &ri, nil
}

func (s *Store) runInfo(ctx context.Context, q querier, runID string) (*store.RunInfo, error) {
	ri, err := scanRunInfo(q.QueryRowContext(ctx, `SELECT `+runCols+` FROM runs WHERE run_uuid = ?`, runID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.NotFoundf("Run with id=%s not found", runID)
	}
	if err != nil {
		return nil, fmt.Errorf("get run %s: %w", runID, err)
	}
	return ri, nil
}

// activeRun returns the run's info if it exists and is active.
func (s *Store) activeRun(ctx context.Context, q querier, runID string) (*store.RunInfo, error) {
	ri, err := s.runInfo(ctx, q, runID)
	if err != nil {
		return nil, err
	}
	return ri, mustBeActive(runID, ri.LifecycleStage)
}

// checkActive is activeRun for a caller that needs only to know: it
// reads one column, not the run's info.
func checkActive(ctx context.Context, q querier, runID string) error {
	var stage string
	err := q.QueryRowContext(ctx, `SELECT lifecycle_stage FROM runs WHERE run_uuid = ?`, runID).Scan(&stage)
	if errors.Is(err, sql.ErrNoRows) {
		return store.NotFoundf("Run with id=%s not found", runID)
	}
	if err != nil {
		return fmt.Errorf("get run %s: %w", runID, err)
	}
	return mustBeActive(runID, stage)
}

func mustBeActive(runID, stage string) error {
	if stage != store.LifecycleActive {
		return store.Invalidf("The run %s must be in the 'active' state. Current state is %s.", runID, stage)
	}
	return nil
}

// insertRun and runValues insert a new run: id, name, user, start time,
// artifact URI, experiment.
const (
	insertRun = `INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id, deleted_time) VALUES `
	runValues = `(?, ?, 'UNKNOWN', '', '', ?, 'RUNNING', ?, NULL, '', 'active', ?, ?, NULL)`
)

// CreateRun implements store.Store.
func (s *Store) CreateRun(ctx context.Context, req store.CreateRun) (*store.Run, error) {
	expID := req.ExperimentID
	if expID == "" {
		expID = "0"
	}
	tags := make([]store.Tag, 0, len(req.Tags)+1)
	nameTag := ""
	for _, t := range req.Tags {
		t, err := store.NormalizeTag(t)
		if err != nil {
			return nil, err
		}
		if t.Key == tagRunName {
			nameTag = t.Value
		}
		tags = append(tags, t)
	}
	name := req.RunName
	switch {
	case name != "" && nameTag != "" && name != nameTag:
		return nil, store.Invalidf("Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='%s', mlflow.runName='%s').", name, nameTag)
	case name == "" && nameTag != "":
		name = nameTag
	case name == "":
		name = store.RandomRunName()
	}
	if nameTag == "" {
		tags = append(tags, store.Tag{Key: tagRunName, Value: name})
	}
	start := req.StartTime
	if start == 0 {
		start = nowMillis()
	}
	runID := newID()
	// What GetRun will read back: a new run has its tags and nothing else
	// (its experiment and artifact URI are set by the write).
	run := &store.Run{Info: store.RunInfo{RunID: runID, RunName: name, UserID: req.UserID, Status: store.RunStatus("RUNNING"),
		StartTime: start, LifecycleStage: store.LifecycleActive}, Tags: settled(tags)}
	op := &createOp{run: run, expID: expID, tags: tags}
	err := s.txOp(ctx, op, func(ctx context.Context, tx *sql.Tx) error {
		e, _, err := experimentRow(ctx, tx, expID)
		if err != nil {
			return err
		}
		if e.LifecycleStage != store.LifecycleActive {
			return store.Invalidf("The experiment %s must be in the 'active' state. Current state is %s.", expID, e.LifecycleStage)
		}
		run.Info.ExperimentID, run.Info.ArtifactURI = e.ID, joinURI(e.ArtifactLocation, runID+"/artifacts")
		_, err = tx.ExecContext(ctx, insertRun+runValues, runID, name, req.UserID, start, run.Info.ArtifactURI, e.ID)
		if err != nil {
			return err
		}
		return putTags(ctx, tx, runID, tags)
	})
	if err != nil {
		return nil, wrap("create run", err)
	}
	return run, nil
}

// upsertTags sets a run's tags; mlflow.runName renames the run.
func upsertTags(ctx context.Context, tx *sql.Tx, runID string, tags []store.Tag) error {
	var ts tagSet
	ts.add(runID, tags)
	return ts.write(ctx, tx, true)
}

// putTags writes a new run's tags (a key given twice keeps its last
// value).
func putTags(ctx context.Context, tx *sql.Tx, runID string, tags []store.Tag) error {
	var ts tagSet
	ts.add(runID, tags)
	return ts.write(ctx, tx, false)
}

// GetRun implements store.Store.
func (s *Store) GetRun(ctx context.Context, runID string) (*store.Run, error) {
	ri, err := s.runInfo(ctx, s.r, runID)
	if err != nil {
		return nil, err
	}
	runs, err := s.loadRunData(ctx, []*store.RunInfo{ri})
	if err != nil {
		return nil, err
	}
	return runs[0], nil
}

// loadRunData fetches the latest metrics, params, tags and inputs of the
// runs, in a handful of queries for the whole set.
func (s *Store) loadRunData(ctx context.Context, infos []*store.RunInfo) ([]*store.Run, error) {
	out := make([]*store.Run, len(infos))
	byID := make(map[string]*store.Run, len(infos))
	ids := make([]any, len(infos))
	for i, ri := range infos {
		out[i] = &store.Run{Info: *ri}
		byID[ri.RunID] = out[i]
		ids[i] = ri.RunID
	}
	if len(ids) == 0 {
		return out, nil
	}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		in, inArgs := s.d.InIDs(chunk)
		rows, err := s.r.QueryContext(ctx, `SELECT run_uuid, "key", value FROM tags WHERE run_uuid`+in, inArgs...)
		if err != nil {
			return nil, fmt.Errorf("load tags: %w", err)
		}
		for rows.Next() {
			var id string
			var t store.Tag
			var v sql.NullString
			if err := rows.Scan(&id, &t.Key, &v); err != nil {
				rows.Close()
				return nil, err
			}
			t.Value = v.String
			byID[id].Tags = append(byID[id].Tags, t)
		}
		rows.Close()
		rows, err = s.r.QueryContext(ctx, `SELECT run_uuid, "key", value FROM params WHERE run_uuid`+in, inArgs...)
		if err != nil {
			return nil, fmt.Errorf("load params: %w", err)
		}
		for rows.Next() {
			var id string
			var p store.Param
			if err := rows.Scan(&id, &p.Key, &p.Value); err != nil {
				rows.Close()
				return nil, err
			}
			byID[id].Params = append(byID[id].Params, p)
		}
		rows.Close()
		// As in history: NaN as a NULL value, numbers scanned into
		// interfaces.
		rows, err = s.r.QueryContext(ctx, `SELECT run_uuid, "key", CASE WHEN is_nan THEN NULL ELSE value END, timestamp, step FROM latest_metrics WHERE run_uuid`+in, inArgs...)
		if err != nil {
			return nil, fmt.Errorf("load metrics: %w", err)
		}
		var p scannedPoint
		for rows.Next() {
			var id, key string
			if err := rows.Scan(&id, &key, &p.value, &p.timestamp, &p.step); err != nil {
				rows.Close()
				return nil, fmt.Errorf("load metrics: %w", err)
			}
			m, err := p.metric(key)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("load metrics: %w", err)
			}
			byID[id].Metrics = append(byID[id].Metrics, m)
		}
		rows.Close()
		if err := s.loadInputs(ctx, in, inArgs, byID); err != nil {
			return nil, err
		}
		if s.loggedModels {
			if err := s.loadOutputs(ctx, in, inArgs, byID); err != nil {
				return nil, err
			}
		}
	}
	// Each run's data in key order (bytewise, on every database), sorted
	// here rather than by the database: a run has a few keys each, a
	// page thousands.
	for _, r := range out {
		slices.SortFunc(r.Tags, func(a, b store.Tag) int { return strings.Compare(a.Key, b.Key) })
		slices.SortFunc(r.Params, func(a, b store.Param) int { return strings.Compare(a.Key, b.Key) })
		slices.SortFunc(r.Metrics, func(a, b store.Metric) int { return strings.Compare(a.Key, b.Key) })
		if r.Info.RunName == "" {
			r.Info.RunName, _ = r.Tag(tagRunName)
		}
	}
	return out, nil
}

// loadInputs reads the datasets of the runs whose ids are in (InIDs:
// the test and its arguments).
func (s *Store) loadInputs(ctx context.Context, in string, inArgs []any, byID map[string]*store.Run) error {
	rows, err := s.r.QueryContext(ctx, `SELECT i.destination_id, i.input_uuid, d.name, d.digest, d.dataset_source_type, d.dataset_source, d.dataset_schema, d.dataset_profile
		FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id
		WHERE i.destination_type = 'RUN' AND i.source_type = 'DATASET' AND i.destination_id`+in+` ORDER BY d.name, d.digest`, inArgs...)
	if err != nil {
		return fmt.Errorf("load inputs: %w", err)
	}
	type ref struct {
		run string
		idx int
	}
	byInput := map[string]ref{}
	for rows.Next() {
		var runID, inputID string
		var d store.Dataset
		var schema, profile sql.NullString
		if err := rows.Scan(&runID, &inputID, &d.Name, &d.Digest, &d.SourceType, &d.Source, &schema, &profile); err != nil {
			rows.Close()
			return err
		}
		d.Schema, d.Profile = schema.String, profile.String
		r := byID[runID]
		r.Inputs = append(r.Inputs, store.DatasetInput{Dataset: d})
		byInput[inputID] = ref{runID, len(r.Inputs) - 1}
	}
	rows.Close()
	if len(byInput) == 0 {
		return rows.Err()
	}
	inputIDs := make([]any, 0, len(byInput))
	for id := range byInput {
		inputIDs = append(inputIDs, id)
	}
	rows, err = s.r.QueryContext(ctx, `SELECT input_uuid, name, value FROM input_tags WHERE input_uuid IN (`+placeholders(len(inputIDs))+`) ORDER BY name`, inputIDs...)
	if err != nil {
		return fmt.Errorf("load input tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var t store.Tag
		if err := rows.Scan(&id, &t.Key, &t.Value); err != nil {
			return err
		}
		rf := byInput[id]
		in := &byID[rf.run].Inputs[rf.idx]
		in.Tags = append(in.Tags, t)
	}
	return rows.Err()
}

// UpdateRun implements store.Store.
func (s *Store) UpdateRun(ctx context.Context, runID string, req store.UpdateRun) (*store.RunInfo, error) {
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := checkActive(ctx, tx, runID); err != nil {
			return err
		}
		if req.Status != nil {
			if _, err := store.ParseRunStatus(string(*req.Status)); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE runs SET status = ? WHERE run_uuid = ?`, string(*req.Status), runID); err != nil {
				return err
			}
		}
		if req.EndTime != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE runs SET end_time = ? WHERE run_uuid = ?`, *req.EndTime, runID); err != nil {
				return err
			}
		}
		if req.RunName != nil && *req.RunName != "" {
			t, err := store.NormalizeTag(store.Tag{Key: tagRunName, Value: *req.RunName})
			if err != nil {
				return err
			}
			return upsertTags(ctx, tx, runID, []store.Tag{t})
		}
		return nil
	})
	if err != nil {
		return nil, wrap("update run", err)
	}
	return s.runInfo(ctx, s.r, runID)
}

// DeleteRun implements store.Store.
func (s *Store) DeleteRun(ctx context.Context, runID string) error {
	return wrap("delete run", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.runInfo(ctx, tx, runID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? WHERE run_uuid = ?`, nowMillis(), runID)
		return err
	}))
}

// RestoreRun implements store.Store.
func (s *Store) RestoreRun(ctx context.Context, runID string) error {
	return wrap("restore run", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.runInfo(ctx, tx, runID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE run_uuid = ?`, runID)
		return err
	}))
}

// SetTag implements store.Store.
func (s *Store) SetTag(ctx context.Context, runID string, t store.Tag) error {
	return s.LogBatch(ctx, runID, nil, nil, []store.Tag{t})
}

// DeleteTag implements store.Store.
func (s *Store) DeleteTag(ctx context.Context, runID, key string) error {
	return wrap("delete tag", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := checkActive(ctx, tx, runID); err != nil {
			return err
		}
		return deleteOne(ctx, tx, store.NotFoundf("No tag with name: %s in run with id %s", key, runID), `DELETE FROM tags WHERE run_uuid = ? AND "key" = ?`, runID, key)
	}))
}

// LogParam implements store.Store.
func (s *Store) LogParam(ctx context.Context, runID string, p store.Param) error {
	return s.LogBatch(ctx, runID, nil, []store.Param{p}, nil)
}

// LogMetric implements store.Store.
func (s *Store) LogMetric(ctx context.Context, runID string, m store.Metric) error {
	return s.LogBatch(ctx, runID, []store.Metric{m}, nil, nil)
}

// loadOutputs reads the logged models runs produced and used (MLflow 3
// databases), of the runs whose ids are in (InIDs).
func (s *Store) loadOutputs(ctx context.Context, in string, inArgs []any, byID map[string]*store.Run) error {
	rows, err := s.r.QueryContext(ctx, `SELECT source_id, destination_id, step FROM inputs
		WHERE source_type = 'RUN_OUTPUT' AND destination_type = 'MODEL_OUTPUT' AND source_id`+in+` ORDER BY step, destination_id`, inArgs...)
	if err != nil {
		return fmt.Errorf("load outputs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var runID string
		var o store.ModelOutput
		if err := rows.Scan(&runID, &o.ModelID, &o.Step); err != nil {
			return err
		}
		byID[runID].Outputs = append(byID[runID].Outputs, o)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	rows, err = s.r.QueryContext(ctx, `SELECT source_id, destination_id FROM inputs
		WHERE source_type = 'RUN_INPUT' AND destination_type = 'MODEL_INPUT' AND source_id`+in+` ORDER BY destination_id`, inArgs...)
	if err != nil {
		return fmt.Errorf("load model inputs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var runID, modelID string
		if err := rows.Scan(&runID, &modelID); err != nil {
			return err
		}
		byID[runID].ModelInputs = append(byID[runID].ModelInputs, modelID)
	}
	return rows.Err()
}
