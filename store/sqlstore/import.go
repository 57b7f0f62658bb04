package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/file"
)

// ImportStats counts what Import wrote.
type ImportStats struct {
	Experiments, Runs, Points, Models, Versions int
}

// Import copies a file store's snapshot into the database in one
// transaction, keeping experiment ids, run ids, names and timestamps. An
// experiment that exists with the same id and name (the Default one)
// takes the imported runs; any other clash (an id or name taken, a run or
// model already there) fails the whole import and writes nothing.
func (s *Store) Import(ctx context.Context, snap *file.Snapshot) (ImportStats, error) {
	var st ImportStats
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for _, e := range snap.Experiments {
			if err := importExperiment(ctx, tx, e, &st); err != nil {
				return err
			}
		}
		for _, m := range snap.Models {
			if err := importModel(ctx, tx, m, &st); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return ImportStats{}, wrap("import", err)
	}
	return st, nil
}

func importExperiment(ctx context.Context, tx *sql.Tx, e *file.Experiment, st *ImportStats) error {
	x := e.Experiment
	id, _ := strconv.ParseInt(x.ID, 10, 64)
	var name string
	err := tx.QueryRowContext(ctx, `SELECT name FROM experiments WHERE experiment_id = ?`, id).Scan(&name)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		var taken int
		tx.QueryRowContext(ctx, `SELECT count(*) FROM experiments WHERE name = ?`, x.Name).Scan(&taken)
		if taken > 0 {
			return store.Errorf(store.ErrAlreadyExists, "experiment name '%s' (id %s in the file store) is taken in the database", x.Name, x.ID)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (?, ?, ?, ?, ?, ?)`,
			id, x.Name, x.ArtifactLocation, x.LifecycleStage, x.CreationTime, x.LastUpdateTime); err != nil {
			return err
		}
		st.Experiments++
	case err != nil:
		return err
	case name != x.Name:
		return store.Errorf(store.ErrAlreadyExists, "experiment id %s is '%s' in the database but '%s' in the file store", x.ID, name, x.Name)
	}
	for _, t := range x.Tags {
		if _, err := tx.ExecContext(ctx, `INSERT INTO experiment_tags ("key", value, experiment_id) VALUES (?, ?, ?) ON CONFLICT ("key", experiment_id) DO UPDATE SET value = excluded.value`, t.Key, t.Value, id); err != nil {
			return err
		}
	}
	for _, r := range e.Runs {
		if err := importRun(ctx, tx, id, r, st); err != nil {
			return err
		}
	}
	return nil
}

func importRun(ctx context.Context, tx *sql.Tx, expID int64, r *file.Run, st *ImportStats) error {
	i := r.Info
	var n int
	tx.QueryRowContext(ctx, `SELECT count(*) FROM runs WHERE run_uuid = ?`, i.RunID).Scan(&n)
	if n > 0 {
		return store.Errorf(store.ErrAlreadyExists, "run %s is already in the database", i.RunID)
	}
	var end, deleted any
	if i.EndTime != nil {
		end = *i.EndTime
	}
	if r.DeletedTime != nil {
		deleted = *r.DeletedTime
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id, deleted_time)
		VALUES (?, ?, 'UNKNOWN', '', '', ?, ?, ?, ?, '', ?, ?, ?, ?)`,
		i.RunID, i.RunName, i.UserID, string(i.Status), i.StartTime, end, i.LifecycleStage, i.ArtifactURI, expID, deleted); err != nil {
		return fmt.Errorf("run %s: %w", i.RunID, err)
	}
	for _, p := range r.Params {
		if _, err := tx.ExecContext(ctx, `INSERT INTO params ("key", value, run_uuid) VALUES (?, ?, ?)`, p.Key, p.Value, i.RunID); err != nil {
			return err
		}
	}
	if err := upsertTags(ctx, tx, i.RunID, r.Tags); err != nil {
		return err
	}
	pts := make([]point, len(r.History))
	for k, m := range r.History {
		v, isNaN := store.SanitizeMetricValue(m.Value)
		pts[k] = point{m.Key, v, isNaN, m.Timestamp, m.Step}
	}
	if err := logMetrics(ctx, tx, i.RunID, pts); err != nil {
		return err
	}
	st.Runs++
	st.Points += len(pts)
	return nil
}

func importModel(ctx context.Context, tx *sql.Tx, m *file.Model, st *ImportStats) error {
	md := m.Model
	var n int
	tx.QueryRowContext(ctx, `SELECT count(*) FROM registered_models WHERE name = ?`, md.Name).Scan(&n)
	if n > 0 {
		return store.Errorf(store.ErrAlreadyExists, "registered model '%s' is already in the database", md.Name)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO registered_models (name, creation_time, last_updated_time, description) VALUES (?, ?, ?, ?)`,
		md.Name, md.CreationTimestamp, md.LastUpdatedTimestamp, nullIfEmpty(md.Description)); err != nil {
		return err
	}
	for _, t := range md.Tags {
		if _, err := tx.ExecContext(ctx, `INSERT INTO registered_model_tags ("key", value, name) VALUES (?, ?, ?)`, t.Key, t.Value, md.Name); err != nil {
			return err
		}
	}
	for _, v := range m.Versions {
		if _, err := tx.ExecContext(ctx, `INSERT INTO model_versions (`+versionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			md.Name, v.Version, v.CreationTimestamp, v.LastUpdatedTimestamp, nullIfEmpty(v.Description), nullIfEmpty(v.UserID), v.CurrentStage,
			v.Source, nullIfEmpty(v.RunID), v.Status, nullIfEmpty(v.StatusMessage), nullIfEmpty(v.RunLink), nullIfEmpty(v.StorageLocation)); err != nil {
			return fmt.Errorf("model %s version %s: %w", md.Name, v.Version, err)
		}
		for _, t := range v.Tags {
			if _, err := tx.ExecContext(ctx, `INSERT INTO model_version_tags ("key", value, name, version) VALUES (?, ?, ?, ?)`, t.Key, t.Value, md.Name, v.Version); err != nil {
				return err
			}
		}
		st.Versions++
	}
	for _, a := range md.Aliases {
		if _, err := tx.ExecContext(ctx, `INSERT INTO registered_model_aliases (alias, version, name) VALUES (?, ?, ?)`, a.Alias, a.Version, md.Name); err != nil {
			return err
		}
	}
	st.Models++
	return nil
}
