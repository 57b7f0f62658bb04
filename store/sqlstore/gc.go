package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/store"
)

var _ store.Collector = (*Store)(nil)

// DeletedRuns implements store.Collector.
func (s *Store) DeletedRuns(ctx context.Context, olderThan time.Duration) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT run_uuid FROM runs WHERE lifecycle_stage = 'deleted' AND COALESCE(deleted_time, 0) <= ? ORDER BY run_uuid`,
		nowMillis()-olderThan.Milliseconds())
	if err != nil {
		return nil, fmt.Errorf("deleted runs: %w", err)
	}
	ids, err := collect(rows, scanString)
	if err != nil {
		return nil, fmt.Errorf("deleted runs: %w", err)
	}
	return ids, nil
}

// HardDeleteRun implements store.Collector: the run's row and every row
// that names it (metrics, latest metrics, params, tags, and its dataset
// inputs and model outputs) go in one transaction.
func (s *Store) HardDeleteRun(ctx context.Context, runID string) error {
	return wrap("hard delete run", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		ri, err := s.runInfo(ctx, tx, runID)
		if err != nil {
			return err
		}
		if ri.LifecycleStage != store.LifecycleDeleted {
			return store.Invalidf("Run %s is not in `deleted` lifecycle stage. Only runs in `deleted` lifecycle stage can be deleted.", runID)
		}
		return s.deleteRuns(ctx, tx, `run_uuid = ?`, runID)
	}))
}

// HardDeleteExperiment implements store.Collector.
func (s *Store) HardDeleteExperiment(ctx context.Context, id string) error {
	return wrap("hard delete experiment", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		e, err := s.getExperiment(ctx, tx, id)
		if err != nil {
			return err
		}
		if e.LifecycleStage != store.LifecycleDeleted {
			return store.Invalidf("Experiment %s is not in the deleted lifecycle stage. Only experiments in the deleted lifecycle stage can be hard-deleted.", id)
		}
		if err := s.deleteRuns(ctx, tx, `experiment_id = ?`, e.ID); err != nil {
			return err
		}
		// Every other table keyed by the experiment: its tags, datasets and
		// traces, and on MLflow 3 databases its logged models. Foreign keys
		// are checked at commit, so the order does not matter.
		tables, err := s.d.TablesWithColumn(ctx, tx, "experiment_id")
		if err != nil {
			return err
		}
		if err := s.d.DeferForeignKeys(ctx, tx); err != nil {
			return err
		}
		for _, t := range tables {
			if t == "runs" || t == "experiments" {
				continue
			}
			if t == "trace_info" {
				for _, child := range []string{"trace_tags", "trace_request_metadata"} {
					if _, err := tx.ExecContext(ctx, `DELETE FROM `+child+` WHERE request_id IN (SELECT request_id FROM trace_info WHERE experiment_id = ?)`, e.ID); err != nil {
						return err
					}
				}
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM "`+t+`" WHERE experiment_id = ?`, e.ID); err != nil {
				return fmt.Errorf("%s: %w", t, err)
			}
		}
		if s.associations {
			// Evaluation datasets stay (they may belong to other experiments
			// too), but no longer name this one.
			if _, err := tx.ExecContext(ctx, `DELETE FROM entity_associations WHERE destination_type = ? AND destination_id = ?`, assocExperiment, e.ID); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM experiments WHERE experiment_id = ?`, e.ID)
		return err
	}))
}

// deleteRuns removes the runs matching where (on the runs table) and the
// rows of every table with a run_uuid column that name them.
func (s *Store) deleteRuns(ctx context.Context, tx *sql.Tx, where string, arg any) error {
	sel := `SELECT run_uuid FROM runs WHERE ` + where
	if _, err := tx.ExecContext(ctx, `DELETE FROM inputs WHERE destination_id IN (`+sel+`) OR source_id IN (`+sel+`)`, arg, arg); err != nil {
		return fmt.Errorf("inputs: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM input_tags WHERE input_uuid NOT IN (SELECT input_uuid FROM inputs)`); err != nil {
		return fmt.Errorf("input tags: %w", err)
	}
	tables, err := s.d.TablesWithColumn(ctx, tx, "run_uuid")
	if err != nil {
		return err
	}
	for _, t := range tables {
		if t == "runs" {
			continue
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM "`+t+`" WHERE run_uuid IN (`+sel+`)`, arg); err != nil {
			return fmt.Errorf("%s: %w", t, err)
		}
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM runs WHERE `+where, arg)
	return err
}

// DeletedLoggedModels implements store.Collector: with the live model
// versions registered from each (source models:/<id>, or files at or
// below its artifact location).
func (s *Store) DeletedLoggedModels(ctx context.Context) ([]store.DeletedLoggedModel, error) {
	if !s.loggedModels {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT model_id, artifact_location, last_updated_timestamp_ms FROM logged_models
		WHERE lifecycle_stage = 'deleted' ORDER BY last_updated_timestamp_ms, model_id`)
	if err != nil {
		return nil, fmt.Errorf("deleted logged models: %w", err)
	}
	var models []store.DeletedLoggedModel
	for rows.Next() {
		var m store.DeletedLoggedModel
		var loc sql.NullString
		var updated sql.NullInt64
		if err := rows.Scan(&m.ModelID, &loc, &updated); err != nil {
			rows.Close()
			return nil, fmt.Errorf("deleted logged models: %w", err)
		}
		m.ArtifactURI, m.Deleted = loc.String, updated.Int64
		models = append(models, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("deleted logged models: %w", err)
	}
	for i := range models {
		if models[i].Versions, err = versionsFrom(ctx, s.r, models[i].ModelID, models[i].ArtifactURI); err != nil {
			return nil, err
		}
	}
	return models, nil
}

// versionsFrom returns the live model versions registered from a logged
// model: MLflow 3 registers them with source models:/<id> and the model's
// artifact location as their storage location.
func versionsFrom(ctx context.Context, q querier, id, loc string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, version FROM model_versions
		WHERE current_stage != ? AND (source = ? OR (CAST(? AS TEXT) != '' AND (storage_location = CAST(? AS TEXT)
			OR substr(storage_location, 1, length(CAST(? AS TEXT)) + 1) = CAST(? AS TEXT) || '/')))
		ORDER BY name, version`, registry.StageDeleted, "models:/"+id, loc, loc, loc, loc)
	if err != nil {
		return nil, fmt.Errorf("model versions of logged model %s: %w", id, err)
	}
	defer rows.Close()
	var vs []string
	for rows.Next() {
		var name string
		var v int64
		if err := rows.Scan(&name, &v); err != nil {
			return nil, err
		}
		vs = append(vs, fmt.Sprintf("%q version %d", name, v))
	}
	return vs, rows.Err()
}

// HardDeleteLoggedModel implements store.Collector.
func (s *Store) HardDeleteLoggedModel(ctx context.Context, id string) error {
	if err := s.requireLoggedModels(); err != nil {
		return err
	}
	return wrap("hard delete logged model", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var lc, loc sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT lifecycle_stage, artifact_location FROM logged_models WHERE model_id = ?`, id).Scan(&lc, &loc)
		if errors.Is(err, sql.ErrNoRows) {
			return modelNotFoundErr(id)
		}
		if err != nil {
			return err
		}
		if lc.String != store.LifecycleDeleted {
			return store.Invalidf("Logged model %s is not in `deleted` lifecycle stage. Only logged models in `deleted` lifecycle stage can be deleted.", id)
		}
		vs, err := versionsFrom(ctx, tx, id, loc.String)
		if err != nil {
			return err
		}
		if len(vs) > 0 {
			return store.Invalidf("Logged model %s holds the files of registered model %s: delete that version first.", id, strings.Join(vs, ", "))
		}
		for _, q := range []string{
			`DELETE FROM logged_model_metrics WHERE model_id = ?`,
			`DELETE FROM logged_model_params WHERE model_id = ?`,
			`DELETE FROM logged_model_tags WHERE model_id = ?`,
			`DELETE FROM inputs WHERE destination_type IN ('MODEL_INPUT', 'MODEL_OUTPUT') AND destination_id = ?`,
			`DELETE FROM logged_models WHERE model_id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	}))
}
