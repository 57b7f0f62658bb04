package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

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
