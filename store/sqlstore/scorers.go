package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/google/uuid"

	"github.com/mlrun/mlrun/store"
)

var _ store.Scorers = (*Store)(nil)

func (s *Store) requireScorers() error {
	if !s.scorers {
		return store.Errorf(store.ErrUnsupported, "scorers need MLflow 3's scorers tables, and this database is at MLflow revision %s: upgrade it with 'mlrun db upgrade' (stop the servers and runs using it first)", s.revision)
	}
	return nil
}

// scorerExperiment returns the key of an experiment that exists and is
// active, as MLflow's scorer calls require.
func scorerExperiment(ctx context.Context, q querier, id string) (int64, error) {
	e, n, err := experimentRow(ctx, q, id)
	if err != nil {
		return 0, err
	}
	if e.LifecycleStage != store.LifecycleActive {
		return 0, store.Invalidf("The experiment %s must be in the 'active' state. Current state is %s.", id, e.LifecycleStage)
	}
	return n, nil
}

// scorerID returns the key of an experiment that exists and is active
// and the id of its scorer name ("" when there is none).
func scorerID(ctx context.Context, q querier, experimentID, name string) (int64, string, error) {
	exp, err := scorerExperiment(ctx, q, experimentID)
	if err != nil {
		return 0, "", err
	}
	var id string
	err = q.QueryRowContext(ctx, `SELECT scorer_id FROM scorers WHERE experiment_id = ? AND scorer_name = ?`, exp, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return exp, "", nil
	}
	return exp, id, err
}

func scorerNotFound(experimentID, name string, version int) error {
	if version > 0 {
		return store.NotFoundf("Scorer with name '%s' and version %d not found for experiment %s.", name, version, experimentID)
	}
	return store.NotFoundf("Scorer with name '%s' not found for experiment %s.", name, experimentID)
}

// scorerSelect reads scorer versions joined to their scorer; callers add
// the WHERE and ORDER BY.
func (s *Store) scorerSelect() string {
	created := "NULL"
	if s.scorerTimes {
		created = "v.creation_time"
	}
	return `SELECT s.experiment_id, s.scorer_name, v.scorer_version, v.serialized_scorer, ` + created + `, s.scorer_id
		FROM scorer_versions v JOIN scorers s ON s.scorer_id = v.scorer_id `
}

func scanScorers(rows *sql.Rows) ([]*store.Scorer, error) {
	defer rows.Close()
	var out []*store.Scorer
	for rows.Next() {
		var (
			sc      store.Scorer
			exp     int64
			created sql.NullInt64
		)
		if err := rows.Scan(&exp, &sc.Name, &sc.Version, &sc.SerializedScorer, &created, &sc.ID); err != nil {
			return nil, err
		}
		sc.ExperimentID, sc.CreationTime = strconv.FormatInt(exp, 10), created.Int64
		out = append(out, &sc)
	}
	return out, rows.Err()
}

// RegisterScorer implements store.Scorers.
func (s *Store) RegisterScorer(ctx context.Context, experimentID, name, serialized string) (*store.Scorer, error) {
	if err := s.requireScorers(); err != nil {
		return nil, err
	}
	switch {
	case name == "":
		return nil, store.Invalidf("Missing value for required parameter 'name'.")
	case len(name) > 256:
		return nil, store.Invalidf("Scorer name '%.40s…' is %d characters long; the limit is 256.", name, len(name))
	case serialized == "":
		return nil, store.Invalidf("Missing value for required parameter 'serialized_scorer'.")
	}
	var out *store.Scorer
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		exp, id, err := scorerID(ctx, tx, experimentID, name)
		if err != nil {
			return err
		}
		if id == "" {
			id = uuid.NewString()
			if _, err := tx.ExecContext(ctx, `INSERT INTO scorers (experiment_id, scorer_name, scorer_id) VALUES (?, ?, ?)`, exp, name, id); err != nil {
				return err
			}
		}
		var latest sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT max(scorer_version) FROM scorer_versions WHERE scorer_id = ?`, id).Scan(&latest); err != nil {
			return err
		}
		out = &store.Scorer{ExperimentID: strconv.FormatInt(exp, 10), Name: name, Version: int(latest.Int64) + 1, SerializedScorer: serialized, ID: id}
		if s.scorerTimes {
			out.CreationTime = nowMillis()
			_, err = tx.ExecContext(ctx, `INSERT INTO scorer_versions (scorer_id, scorer_version, serialized_scorer, creation_time) VALUES (?, ?, ?, ?)`, id, out.Version, serialized, out.CreationTime)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO scorer_versions (scorer_id, scorer_version, serialized_scorer) VALUES (?, ?, ?)`, id, out.Version, serialized)
		}
		return err
	})
	if err != nil {
		return nil, wrap("register scorer", err)
	}
	return out, nil
}

// ListScorers implements store.Scorers.
func (s *Store) ListScorers(ctx context.Context, experimentID string) ([]*store.Scorer, error) {
	if err := s.requireScorers(); err != nil {
		return nil, err
	}
	exp, err := scorerExperiment(ctx, s.r, experimentID)
	if err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, s.scorerSelect()+`WHERE s.experiment_id = ? AND v.scorer_version =
		(SELECT max(scorer_version) FROM scorer_versions l WHERE l.scorer_id = s.scorer_id) ORDER BY s.scorer_name`, exp)
	if err != nil {
		return nil, fmt.Errorf("list scorers: %w", err)
	}
	out, err := scanScorers(rows)
	return out, wrap("list scorers", err)
}

// ListScorerVersions implements store.Scorers.
func (s *Store) ListScorerVersions(ctx context.Context, experimentID, name string) ([]*store.Scorer, error) {
	return s.scorerVersions(ctx, experimentID, name, 0, `ORDER BY v.scorer_version`)
}

// GetScorer implements store.Scorers.
func (s *Store) GetScorer(ctx context.Context, experimentID, name string, version int) (*store.Scorer, error) {
	out, err := s.scorerVersions(ctx, experimentID, name, version, `ORDER BY v.scorer_version DESC LIMIT 1`)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// scorerVersions returns the versions of a scorer (only version, when not
// 0) in the order tail gives; none is RESOURCE_DOES_NOT_EXIST.
func (s *Store) scorerVersions(ctx context.Context, experimentID, name string, version int, tail string) ([]*store.Scorer, error) {
	if err := s.requireScorers(); err != nil {
		return nil, err
	}
	exp, err := scorerExperiment(ctx, s.r, experimentID)
	if err != nil {
		return nil, err
	}
	q, args := s.scorerSelect()+`WHERE s.experiment_id = ? AND s.scorer_name = ? `, []any{exp, name}
	if version > 0 {
		q, args = q+`AND v.scorer_version = ? `, append(args, version)
	}
	rows, err := s.r.QueryContext(ctx, q+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("get scorer: %w", err)
	}
	out, err := scanScorers(rows)
	if err != nil {
		return nil, fmt.Errorf("get scorer: %w", err)
	}
	if len(out) == 0 {
		return nil, scorerNotFound(experimentID, name, version)
	}
	return out, nil
}

// DeleteScorer implements store.Scorers.
func (s *Store) DeleteScorer(ctx context.Context, experimentID, name string, version int) error {
	if err := s.requireScorers(); err != nil {
		return err
	}
	return wrap("delete scorer", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, id, err := scorerID(ctx, tx, experimentID, name)
		if err != nil {
			return err
		}
		if id == "" {
			return scorerNotFound(experimentID, name, version)
		}
		q, args := `DELETE FROM scorer_versions WHERE scorer_id = ?`, []any{id}
		if version > 0 {
			q, args = q+` AND scorer_version = ?`, append(args, version)
		}
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return scorerNotFound(experimentID, name, version)
		}
		if version == 0 {
			_, err = tx.ExecContext(ctx, `DELETE FROM scorers WHERE scorer_id = ?`, id)
		}
		return err
	}))
}
