package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/search"
)

const experimentCols = `experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time`

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func scanExperiment(sc interface{ Scan(...any) error }) (*store.Experiment, error) {
	var (
		e       store.Experiment
		id      int64
		loc, lc sql.NullString
		ct, lut sql.NullInt64
	)
	if err := sc.Scan(&id, &e.Name, &loc, &lc, &ct, &lut); err != nil {
		return nil, err
	}
	e.ID = strconv.FormatInt(id, 10)
	e.ArtifactLocation, e.LifecycleStage = loc.String, lc.String
	e.CreationTime, e.LastUpdateTime = ct.Int64, lut.Int64
	if e.LifecycleStage == "" {
		e.LifecycleStage = store.LifecycleActive
	}
	return &e, nil
}

// parseExperimentID turns an id into the integer key; a malformed id can
// name no experiment.
func parseExperimentID(id string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(id), 10, 64)
	if err != nil {
		return 0, store.NotFoundf("No Experiment with id=%s exists", id)
	}
	return n, nil
}

func (s *Store) experimentTags(ctx context.Context, q querier, id int64) ([]store.Tag, error) {
	return kvRows(ctx, q, `SELECT "key", value FROM experiment_tags WHERE experiment_id = ? ORDER BY "key"`, id)
}

func (s *Store) getExperiment(ctx context.Context, q querier, id string) (*store.Experiment, error) {
	e, n, err := experimentRow(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if e.Tags, err = s.experimentTags(ctx, q, n); err != nil {
		return nil, fmt.Errorf("get experiment %s tags: %w", id, err)
	}
	return e, nil
}

// experimentRow returns an experiment without its tags, and its key.
func experimentRow(ctx context.Context, q querier, id string) (*store.Experiment, int64, error) {
	n, err := parseExperimentID(id)
	if err != nil {
		return nil, 0, err
	}
	e, err := scanExperiment(q.QueryRowContext(ctx, `SELECT `+experimentCols+` FROM experiments WHERE experiment_id = ?`, n))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, store.NotFoundf("No Experiment with id=%s exists", id)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("get experiment %s: %w", id, err)
	}
	return e, n, nil
}

// CreateExperiment implements store.Store.
func (s *Store) CreateExperiment(ctx context.Context, name, artifactLocation string, tags []store.Tag) (string, error) {
	if err := store.ValidateExperimentName(name); err != nil {
		return "", err
	}
	artifactLocation, err := store.ValidateArtifactLocation(artifactLocation)
	if err != nil {
		return "", err
	}
	for _, t := range tags {
		if err := store.ValidateExperimentTag(t); err != nil {
			return "", err
		}
	}
	var id int64
	err = s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var taken int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM experiments WHERE name = ?`, name).Scan(&taken); err != nil {
			return err
		}
		if taken > 0 {
			return store.Errorf(store.ErrAlreadyExists, "Experiment(name=%s) already exists. Error: UNIQUE constraint failed: experiments.name", name)
		}
		now := nowMillis()
		if err := tx.QueryRowContext(ctx, `INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (?, ?, 'active', ?, ?) RETURNING experiment_id`,
			name, artifactLocation, now, now).Scan(&id); err != nil {
			return err
		}
		if artifactLocation == "" {
			loc := joinURI(s.artifactRoot, strconv.FormatInt(id, 10))
			if _, err := tx.ExecContext(ctx, `UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?`, loc, id); err != nil {
				return err
			}
		}
		for _, t := range tags {
			if _, err := tx.ExecContext(ctx, `INSERT INTO experiment_tags ("key", value, experiment_id) VALUES (?, ?, ?) ON CONFLICT ("key", experiment_id) DO UPDATE SET value = excluded.value`, t.Key, t.Value, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", wrap("create experiment", err)
	}
	return strconv.FormatInt(id, 10), nil
}

// GetExperiment implements store.Store.
func (s *Store) GetExperiment(ctx context.Context, id string) (*store.Experiment, error) {
	return s.getExperiment(ctx, s.r, id)
}

// GetExperimentByName implements store.Store.
func (s *Store) GetExperimentByName(ctx context.Context, name string) (*store.Experiment, error) {
	var id int64
	err := s.r.QueryRowContext(ctx, `SELECT experiment_id FROM experiments WHERE name = ? ORDER BY lifecycle_stage = 'active' DESC LIMIT 1`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.NotFoundf("Could not find experiment with name '%s'", name)
	}
	if err != nil {
		return nil, fmt.Errorf("get experiment by name: %w", err)
	}
	return s.getExperiment(ctx, s.r, strconv.FormatInt(id, 10))
}

// RenameExperiment implements store.Store.
func (s *Store) RenameExperiment(ctx context.Context, id, newName string) error {
	if err := store.ValidateExperimentName(newName); err != nil {
		return err
	}
	return wrap("rename experiment", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		e, err := s.getExperiment(ctx, tx, id)
		if err != nil {
			return err
		}
		if e.LifecycleStage != store.LifecycleActive {
			return store.Errorf(store.ErrInvalidState, "Cannot rename a non-active experiment.")
		}
		var taken int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM experiments WHERE name = ? AND experiment_id != ?`, newName, e.ID).Scan(&taken); err != nil {
			return err
		}
		if taken > 0 {
			return store.Errorf(store.ErrAlreadyExists, "Experiment(name=%s) already exists.", newName)
		}
		_, err = tx.ExecContext(ctx, `UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?`, newName, nowMillis(), e.ID)
		return err
	}))
}

// DeleteExperiment implements store.Store.
func (s *Store) DeleteExperiment(ctx context.Context, id string) error {
	return s.setExperimentLifecycle(ctx, id, store.LifecycleActive, store.LifecycleDeleted)
}

// RestoreExperiment implements store.Store.
func (s *Store) RestoreExperiment(ctx context.Context, id string) error {
	return s.setExperimentLifecycle(ctx, id, store.LifecycleDeleted, store.LifecycleActive)
}

func (s *Store) setExperimentLifecycle(ctx context.Context, id, from, to string) error {
	return wrap("update experiment", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		e, err := s.getExperiment(ctx, tx, id)
		if err != nil {
			return err
		}
		if e.LifecycleStage != from {
			return store.NotFoundf("No %s experiment with id=%s exists (it is %s)", from, id, e.LifecycleStage)
		}
		now := nowMillis()
		if _, err := tx.ExecContext(ctx, `UPDATE experiments SET lifecycle_stage = ?, last_update_time = ? WHERE experiment_id = ?`, to, now, e.ID); err != nil {
			return err
		}
		var deleted any
		if to == store.LifecycleDeleted {
			deleted = now
		}
		_, err = tx.ExecContext(ctx, `UPDATE runs SET lifecycle_stage = ?, deleted_time = ? WHERE experiment_id = ?`, to, deleted, e.ID)
		return err
	}))
}

// SetExperimentTag implements store.Store.
func (s *Store) SetExperimentTag(ctx context.Context, id string, t store.Tag) error {
	if err := store.ValidateExperimentTag(t); err != nil {
		return err
	}
	return wrap("set experiment tag", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		e, err := s.getExperiment(ctx, tx, id)
		if err != nil {
			return err
		}
		if e.LifecycleStage != store.LifecycleActive {
			return store.Invalidf("The experiment %s must be in the 'active' state. Current state is %s.", id, e.LifecycleStage)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO experiment_tags ("key", value, experiment_id) VALUES (?, ?, ?) ON CONFLICT ("key", experiment_id) DO UPDATE SET value = excluded.value`, t.Key, t.Value, e.ID)
		return err
	}))
}

// DeleteExperimentTag implements store.Store.
func (s *Store) DeleteExperimentTag(ctx context.Context, id, key string) error {
	return wrap("delete experiment tag", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		e, err := s.getExperiment(ctx, tx, id)
		if err != nil {
			return err
		}
		return deleteOne(ctx, tx, store.NotFoundf("No tag with name: %s in experiment with id %s", key, id), `DELETE FROM experiment_tags WHERE experiment_id = ? AND "key" = ?`, e.ID, key)
	}))
}

// SearchExperiments implements store.Store.
func (s *Store) SearchExperiments(ctx context.Context, q store.SearchExperiments) ([]*store.Experiment, string, error) {
	max, err := maxResults(q.MaxResults)
	if err != nil {
		return nil, "", err
	}
	clauses, err := search.Experiments.Parse(q.Filter)
	if err != nil {
		return nil, "", err
	}
	order, err := search.Experiments.ParseOrderBy(q.OrderBy)
	if err != nil {
		return nil, "", err
	}
	tok, err := search.DecodeToken(q.PageToken)
	if err != nil {
		return nil, "", err
	}
	var (
		where = []string{lifecycleCond("e.lifecycle_stage", q.ViewType)}
		args  []any
	)
	w, a := attrTagWhere(clauses, "e", "experiment_id", "experiment_tags")
	where, args = append(where, w...), append(args, a...)
	orderSQL := attrOrder(order, "e", "experiment_id", "e.creation_time DESC", "e.experiment_id ASC")
	query := `SELECT ` + prefixCols("e.", experimentCols) + ` FROM experiments e WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY ` + strings.Join(orderSQL, ", ") + ` LIMIT ? OFFSET ?`
	args = append(args, max+1, tok.Offset)
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("search experiments: %w", err)
	}
	out, err := collect(rows, scanExperiment)
	if err != nil {
		return nil, "", fmt.Errorf("search experiments: %w", err)
	}
	out, next := page(out, max, tok.Offset)
	for _, e := range out {
		n, _ := strconv.ParseInt(e.ID, 10, 64)
		if e.Tags, err = s.experimentTags(ctx, s.r, n); err != nil {
			return nil, "", fmt.Errorf("search experiments: %w", err)
		}
	}
	return out, next, nil
}

func prefixCols(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}

func maxResults(n int) (int, error) {
	switch {
	case n == 0:
		return store.Limits.SearchRunsDefault, nil
	case n < 0 || n > store.Limits.SearchMaxResults:
		return 0, store.Invalidf("Invalid value %d for parameter 'max_results' supplied. It must be at most %d and at least 1", n, store.Limits.SearchMaxResults)
	}
	return n, nil
}

func lifecycleCond(col string, v store.ViewType) string {
	switch v {
	case store.DeletedOnly:
		return col + " = 'deleted'"
	case store.AllViews:
		return "1=1"
	}
	return "(" + col + " = 'active' OR " + col + " IS NULL)"
}

// attrTagWhere renders the attribute and tag clauses of a search of the
// table aliased alias, keyed by idCol: an attribute compares its column,
// a tag needs a row of tagTable (keyed by the same idCol) that matches.
func attrTagWhere(clauses []search.Clause, alias, idCol, tagTable string) (where []string, args []any) {
	for _, c := range clauses {
		if c.Entity == search.Tag {
			cond, a := compare("t.value", c)
			where = append(where, `EXISTS (SELECT 1 FROM `+tagTable+` t WHERE t.`+idCol+` = `+alias+`.`+idCol+` AND t."key" = ? AND `+cond+`)`)
			args = append(append(args, c.Key), a...)
			continue
		}
		cond, a := compare(alias+"."+c.Key, c)
		where, args = append(where, cond), append(args, a...)
	}
	return where, args
}

// attrOrder renders order_by fields on alias's columns (NULLs last), then
// idCol descending unless ordered by it; with no fields, def.
func attrOrder(order []search.OrderField, alias, idCol string, def ...string) []string {
	if len(order) == 0 {
		return def
	}
	var out []string
	hasID := false
	for _, f := range order {
		dir := "ASC"
		if f.Desc {
			dir = "DESC"
		}
		hasID = hasID || f.Key == idCol
		out = append(out, fmt.Sprintf("%s.%s IS NULL, %s.%s %s", alias, f.Key, alias, f.Key, dir))
	}
	if !hasID {
		out = append(out, alias+"."+idCol+" DESC")
	}
	return out
}

// compare renders a clause's comparison on col.
func compare(col string, c search.Clause) (string, []any) {
	switch c.Op {
	case "LIKE":
		return col + " LIKE ?", []any{c.Str}
	case "ILIKE":
		return "lower(" + col + ") LIKE lower(?)", []any{c.Str}
	case "IN", "NOT IN":
		if len(c.List) == 0 {
			if c.Op == "IN" {
				return "0=1", nil
			}
			return col + " IS NOT NULL", nil
		}
		args := make([]any, len(c.List))
		for i, v := range c.List {
			args[i] = v
		}
		return col + " " + c.Op + " (" + placeholders(len(c.List)) + ")", args
	}
	if c.Numeric {
		return col + " " + c.Op + " ?", []any{c.Num}
	}
	return col + " " + c.Op + " ?", []any{c.Str}
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// wrap adds context to an internal error and leaves store errors (whose
// message is for users) alone.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var se *store.Error
	if errors.As(err, &se) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}
