package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/internal/pyjson"
	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/search"
)

var _ registry.Store = (*Store)(nil)

// The prompt marker tag: models without it match "!= 'true'" and "= 'false'".
const promptTag = "mlflow.prompt.is_prompt"

func modelNotFound(name string) error {
	return store.NotFoundf("Registered Model with name=%s not found", name)
}

func versionNotFound(name, version string) error {
	return store.NotFoundf("Model Version (name=%s, version=%s) not found", name, version)
}

func (s *Store) modelExists(ctx context.Context, q querier, name string) error {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM registered_models WHERE name = ?`, name).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return modelNotFound(name)
	}
	return nil
}

// getModel reads a model with its tags, aliases and latest versions.
func (s *Store) getModel(ctx context.Context, q querier, name string) (*registry.RegisteredModel, error) {
	m := &registry.RegisteredModel{}
	var ct, lut sql.NullInt64
	var desc sql.NullString
	err := q.QueryRowContext(ctx, `SELECT name, creation_time, last_updated_time, description FROM registered_models WHERE name = ?`, name).Scan(&m.Name, &ct, &lut, &desc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, modelNotFound(name)
	}
	if err != nil {
		return nil, fmt.Errorf("get registered model: %w", err)
	}
	m.CreationTimestamp, m.LastUpdatedTimestamp, m.Description = ct.Int64, lut.Int64, desc.String
	if m.Tags, err = kvRows(ctx, q, `SELECT "key", value FROM registered_model_tags WHERE name = ? ORDER BY "key"`, name); err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT alias, version FROM registered_model_aliases WHERE name = ? ORDER BY alias`, name)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var a registry.Alias
		var v int64
		if err := rows.Scan(&a.Alias, &v); err != nil {
			rows.Close()
			return nil, err
		}
		a.Version = strconv.FormatInt(v, 10)
		m.Aliases = append(m.Aliases, a)
	}
	rows.Close()
	if m.LatestVersions, err = s.latestVersions(ctx, q, name, nil); err != nil {
		return nil, err
	}
	return m, nil
}

func kvRows(ctx context.Context, q querier, query string, args ...any) ([]store.Tag, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Tag
	for rows.Next() {
		var t store.Tag
		var v sql.NullString
		if err := rows.Scan(&t.Key, &v); err != nil {
			return nil, err
		}
		t.Value = v.String
		out = append(out, t)
	}
	return out, rows.Err()
}

const versionCols = `name, version, creation_time, last_updated_time, description, user_id, current_stage, source, run_id, status, status_message, run_link, storage_location`

func scanVersion(sc interface{ Scan(...any) error }) (*registry.ModelVersion, error) {
	var (
		v                                              registry.ModelVersion
		num                                            int64
		ct, lut                                        sql.NullInt64
		desc, user, stage, src, run, st, msg, link, sl sql.NullString
	)
	if err := sc.Scan(&v.Name, &num, &ct, &lut, &desc, &user, &stage, &src, &run, &st, &msg, &link, &sl); err != nil {
		return nil, err
	}
	v.Version = strconv.FormatInt(num, 10)
	v.CreationTimestamp, v.LastUpdatedTimestamp = ct.Int64, lut.Int64
	v.Description, v.UserID, v.CurrentStage, v.Source, v.RunID = desc.String, user.String, stage.String, src.String, run.String
	v.Status, v.StatusMessage, v.RunLink, v.StorageLocation = st.String, msg.String, link.String, sl.String
	v.ModelID = registry.LoggedModelID(v.Source)
	if v.Status == "" {
		v.Status = registry.StatusReady
	}
	return &v, nil
}

// fillVersions loads the tags and aliases of versions.
func fillVersions(ctx context.Context, q querier, vs []*registry.ModelVersion) error {
	for _, v := range vs {
		var err error
		if v.Tags, err = kvRows(ctx, q, `SELECT "key", value FROM model_version_tags WHERE name = ? AND version = ? ORDER BY "key"`, v.Name, v.Version); err != nil {
			return err
		}
		rows, err := q.QueryContext(ctx, `SELECT alias FROM registered_model_aliases WHERE name = ? AND version = ? ORDER BY alias`, v.Name, v.Version)
		if err != nil {
			return err
		}
		if v.Aliases, err = collect(rows, scanString); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) getVersion(ctx context.Context, q querier, name, version string) (*registry.ModelVersion, error) {
	n, err := registry.ParseVersion(version)
	if err != nil {
		return nil, err
	}
	v, err := scanVersion(q.QueryRowContext(ctx, `SELECT `+versionCols+` FROM model_versions WHERE name = ? AND version = ? AND current_stage != ?`, name, n, registry.StageDeleted))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, versionNotFound(name, version)
	}
	if err != nil {
		return nil, fmt.Errorf("get model version: %w", err)
	}
	return v, fillVersions(ctx, q, []*registry.ModelVersion{v})
}

func (s *Store) latestVersions(ctx context.Context, q querier, name string, stages []string) ([]*registry.ModelVersion, error) {
	query := `SELECT ` + prefixCols("v.", versionCols) + ` FROM model_versions v
		WHERE v.name = ? AND v.current_stage != ? AND v.version = (SELECT max(w.version) FROM model_versions w WHERE w.name = v.name AND w.current_stage = v.current_stage)`
	args := []any{name, registry.StageDeleted}
	if len(stages) > 0 {
		query += ` AND v.current_stage IN (` + placeholders(len(stages)) + `)`
		for _, st := range stages {
			args = append(args, st)
		}
	}
	query += ` ORDER BY v.version`
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("latest versions: %w", err)
	}
	var out []*registry.ModelVersion
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, v)
	}
	rows.Close()
	return out, fillVersions(ctx, q, out)
}

// CreateRegisteredModel implements registry.Store.
func (s *Store) CreateRegisteredModel(ctx context.Context, name string, tags []store.Tag, description string) (*registry.RegisteredModel, error) {
	if err := registry.ValidateModelName(name); err != nil {
		return nil, err
	}
	for _, t := range tags {
		if err := registry.ValidateModelTag(t); err != nil {
			return nil, err
		}
	}
	var m *registry.RegisteredModel
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.modelExists(ctx, tx, name); err == nil {
			return store.Errorf(store.ErrAlreadyExists, "Registered Model (name=%s) already exists.", name)
		}
		now := nowMillis()
		if _, err := tx.ExecContext(ctx, `INSERT INTO registered_models (name, creation_time, last_updated_time, description) VALUES (?, ?, ?, ?)`, name, now, now, nullIfEmpty(description)); err != nil {
			return err
		}
		for _, t := range tags {
			if _, err := tx.ExecContext(ctx, `INSERT INTO registered_model_tags ("key", value, name) VALUES (?, ?, ?) ON CONFLICT ("key", name) DO UPDATE SET value = excluded.value`, t.Key, t.Value, name); err != nil {
				return err
			}
		}
		var err error
		m, err = s.getModel(ctx, tx, name)
		return err
	})
	return m, wrap("create registered model", err)
}

// GetRegisteredModel implements registry.Store.
func (s *Store) GetRegisteredModel(ctx context.Context, name string) (*registry.RegisteredModel, error) {
	return s.getModel(ctx, s.r, name)
}

// RenameRegisteredModel implements registry.Store. The foreign keys
// cascade the new name to versions, tags and aliases.
func (s *Store) RenameRegisteredModel(ctx context.Context, name, newName string) (*registry.RegisteredModel, error) {
	if err := registry.ValidateModelName(newName); err != nil {
		return nil, err
	}
	var m *registry.RegisteredModel
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.modelExists(ctx, tx, name); err != nil {
			return err
		}
		if err := s.modelExists(ctx, tx, newName); err == nil {
			return store.Errorf(store.ErrAlreadyExists, "Registered Model (name=%s) already exists.", newName)
		}
		now := nowMillis()
		if _, err := tx.ExecContext(ctx, `UPDATE registered_models SET name = ?, last_updated_time = ? WHERE name = ?`, newName, now, name); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE model_versions SET last_updated_time = ? WHERE name = ?`, now, newName); err != nil {
			return err
		}
		var err error
		m, err = s.getModel(ctx, tx, newName)
		return err
	})
	return m, wrap("rename registered model", err)
}

// UpdateRegisteredModel implements registry.Store.
func (s *Store) UpdateRegisteredModel(ctx context.Context, name, description string) (*registry.RegisteredModel, error) {
	var m *registry.RegisteredModel
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.modelExists(ctx, tx, name); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE registered_models SET description = ?, last_updated_time = ? WHERE name = ?`, nullIfEmpty(description), nowMillis(), name); err != nil {
			return err
		}
		var err error
		m, err = s.getModel(ctx, tx, name)
		return err
	})
	return m, wrap("update registered model", err)
}

// DeleteRegisteredModel implements registry.Store.
func (s *Store) DeleteRegisteredModel(ctx context.Context, name string) error {
	return wrap("delete registered model", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.modelExists(ctx, tx, name); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM model_version_tags WHERE name = ?`,
			`DELETE FROM registered_model_aliases WHERE name = ?`,
			`DELETE FROM model_versions WHERE name = ?`,
			`DELETE FROM registered_model_tags WHERE name = ?`,
			`DELETE FROM registered_models WHERE name = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, name); err != nil {
				return err
			}
		}
		return nil
	}))
}

// GetLatestVersions implements registry.Store.
func (s *Store) GetLatestVersions(ctx context.Context, name string, stages []string) ([]*registry.ModelVersion, error) {
	canon := make([]string, 0, len(stages))
	for _, st := range stages {
		c, err := registry.CanonicalStage(st)
		if err != nil {
			return nil, err
		}
		canon = append(canon, c)
	}
	if err := s.modelExists(ctx, s.r, name); err != nil {
		return nil, err
	}
	return s.latestVersions(ctx, s.r, name, canon)
}

// SetRegisteredModelTag implements registry.Store.
func (s *Store) SetRegisteredModelTag(ctx context.Context, name string, t store.Tag) error {
	if err := registry.ValidateModelTag(t); err != nil {
		return err
	}
	return wrap("set registered model tag", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.modelExists(ctx, tx, name); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO registered_model_tags ("key", value, name) VALUES (?, ?, ?) ON CONFLICT ("key", name) DO UPDATE SET value = excluded.value`, t.Key, t.Value, name)
		return err
	}))
}

// DeleteRegisteredModelTag implements registry.Store.
func (s *Store) DeleteRegisteredModelTag(ctx context.Context, name, key string) error {
	return wrap("delete registered model tag", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.modelExists(ctx, tx, name); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM registered_model_tags WHERE name = ? AND "key" = ?`, name, key)
		return err
	}))
}

// SetAlias implements registry.Store.
func (s *Store) SetAlias(ctx context.Context, name, alias, version string) error {
	if err := registry.ValidateAlias(alias); err != nil {
		return err
	}
	return wrap("set alias", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		v, err := s.getVersion(ctx, tx, name, version)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO registered_model_aliases (alias, version, name) VALUES (?, ?, ?) ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version`, alias, v.Version, name)
		return err
	}))
}

// DeleteAlias implements registry.Store.
func (s *Store) DeleteAlias(ctx context.Context, name, alias string) error {
	return wrap("delete alias", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.modelExists(ctx, tx, name); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM registered_model_aliases WHERE name = ? AND alias = ?`, name, alias)
		return err
	}))
}

// GetVersionByAlias implements registry.Store. A missing alias is
// INVALID_PARAMETER_VALUE, as real MLflow answers.
func (s *Store) GetVersionByAlias(ctx context.Context, name, alias string) (*registry.ModelVersion, error) {
	var v int64
	err := s.r.QueryRowContext(ctx, `SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?`, name, alias).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.Invalidf("Registered model alias %s not found.", alias)
	}
	if err != nil {
		return nil, fmt.Errorf("get alias: %w", err)
	}
	return s.getVersion(ctx, s.r, name, strconv.FormatInt(v, 10))
}

// checkLocalSource accepts a local source only inside the run's local
// artifact folder (MLflow's rule against registering arbitrary files).
func (s *Store) checkLocalSource(ctx context.Context, q querier, source, runID string) error {
	if strings.HasPrefix(source, "runs:") || strings.HasPrefix(source, "models:") {
		return nil
	}
	src, err := artifact.ParseURI(source)
	if err != nil || src.Kind != artifact.Local {
		return nil // checked by registry.ValidateSource
	}
	bad := store.Invalidf("Invalid model version source: '%s'. To use a local path as a model version source, the run_id request parameter has to be specified and the local path has to be contained within the artifact directory of the run specified by the run_id.", source)
	if runID == "" {
		return bad
	}
	ri, err := s.runInfo(ctx, q, runID)
	if err != nil {
		return bad
	}
	root, err := artifact.ParseURI(ri.ArtifactURI)
	if err != nil || root.Kind != artifact.Local {
		return bad
	}
	if _, _, ok := artifact.Within([]string{root.Path}, src.Path); !ok {
		return bad
	}
	return nil
}

// CreateModelVersion implements registry.Store.
func (s *Store) CreateModelVersion(ctx context.Context, req registry.CreateVersion) (*registry.ModelVersion, error) {
	if err := registry.ValidateModelName(req.Name); err != nil {
		return nil, err
	}
	prompt := registry.IsPromptVersion(req.Tags)
	if prompt {
		if err := registry.ValidatePromptSource(req.Source); err != nil {
			return nil, err
		}
	} else if err := registry.ValidateSource(req.Source); err != nil {
		return nil, err
	}
	for _, t := range req.Tags {
		if err := registry.ValidateModelTag(t); err != nil {
			return nil, err
		}
	}
	var v *registry.ModelVersion
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.modelExists(ctx, tx, req.Name); err != nil {
			return err
		}
		if !prompt {
			if err := s.checkLocalSource(ctx, tx, req.Source, req.RunID); err != nil {
				return err
			}
		}
		var max sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT max(version) FROM model_versions WHERE name = ?`, req.Name).Scan(&max); err != nil {
			return err
		}
		num := max.Int64 + 1
		now := nowMillis()
		// A logged model's version (MLflow 3): its files are the model's,
		// its run the model's source run, and the model records the
		// registration in its mlflow.modelVersions tag.
		storage, runID := req.Source, req.RunID
		modelID := req.ModelID
		if modelID == "" {
			modelID = registry.LoggedModelID(req.Source)
		}
		if modelID != "" && s.loggedModels {
			lm, err := s.getLoggedModel(ctx, tx, modelID)
			if err != nil {
				return err
			}
			storage = lm.ArtifactURI
			if runID == "" {
				runID = lm.SourceRunID
			}
			if err := appendModelVersionsTag(ctx, tx, lm, req.Name, num); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO model_versions (`+versionCols+`) VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, NULL, ?, ?)`,
			req.Name, num, now, now, nullIfEmpty(req.Description), registry.StageNone, req.Source, nullIfEmpty(runID),
			registry.StatusReady, nullIfEmpty(req.RunLink), storage)
		if err != nil {
			return err
		}
		for _, t := range req.Tags {
			if _, err := tx.ExecContext(ctx, `INSERT INTO model_version_tags ("key", value, name, version) VALUES (?, ?, ?, ?) ON CONFLICT ("key", name, version) DO UPDATE SET value = excluded.value`, t.Key, t.Value, req.Name, num); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE registered_models SET last_updated_time = ? WHERE name = ?`, now, req.Name); err != nil {
			return err
		}
		v, err = s.getVersion(ctx, tx, req.Name, strconv.FormatInt(num, 10))
		return err
	})
	return v, wrap("create model version", err)
}

// GetModelVersion implements registry.Store.
func (s *Store) GetModelVersion(ctx context.Context, name, version string) (*registry.ModelVersion, error) {
	return s.getVersion(ctx, s.r, name, version)
}

// UpdateModelVersion implements registry.Store.
func (s *Store) UpdateModelVersion(ctx context.Context, name, version, description string) (*registry.ModelVersion, error) {
	var v *registry.ModelVersion
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.getVersion(ctx, tx, name, version); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE model_versions SET description = ?, last_updated_time = ? WHERE name = ? AND version = ?`, nullIfEmpty(description), nowMillis(), name, version); err != nil {
			return err
		}
		var err error
		v, err = s.getVersion(ctx, tx, name, version)
		return err
	})
	return v, wrap("update model version", err)
}

// DeleteModelVersion implements registry.Store: a soft delete, as
// MLflow's SQL store does, so the number is never reused.
func (s *Store) DeleteModelVersion(ctx context.Context, name, version string) error {
	return wrap("delete model version", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		v, err := s.getVersion(ctx, tx, name, version)
		if err != nil {
			return err
		}
		now := nowMillis()
		if _, err := tx.ExecContext(ctx, `UPDATE model_versions SET current_stage = ?, description = NULL, user_id = NULL, status_message = NULL,
			source = 'REDACTED-SOURCE-PATH', run_id = 'REDACTED-RUN-ID', run_link = 'REDACTED-RUN-LINK', storage_location = NULL, last_updated_time = ?
			WHERE name = ? AND version = ?`, registry.StageDeleted, now, name, v.Version); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM registered_model_aliases WHERE name = ? AND version = ?`, name, v.Version); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE registered_models SET last_updated_time = ? WHERE name = ?`, now, name)
		return err
	}))
}

// TransitionStage implements registry.Store.
func (s *Store) TransitionStage(ctx context.Context, name, version, stage string, archiveExisting bool) (*registry.ModelVersion, error) {
	st, err := registry.CanonicalStage(stage)
	if err != nil {
		return nil, err
	}
	if archiveExisting && !registry.IsActiveStage(st) {
		return nil, store.Invalidf("Model version transition cannot archive existing model versions because '%s' is not an Active stage. Valid stages are ['Staging', 'Production']", st)
	}
	var v *registry.ModelVersion
	err = s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		cur, err := s.getVersion(ctx, tx, name, version)
		if err != nil {
			return err
		}
		now := nowMillis()
		if archiveExisting {
			if _, err := tx.ExecContext(ctx, `UPDATE model_versions SET current_stage = ?, last_updated_time = ? WHERE name = ? AND current_stage = ? AND version != ?`,
				registry.StageArchived, now, name, st, cur.Version); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE model_versions SET current_stage = ?, last_updated_time = ? WHERE name = ? AND version = ?`, st, now, name, cur.Version); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE registered_models SET last_updated_time = ? WHERE name = ?`, now, name); err != nil {
			return err
		}
		v, err = s.getVersion(ctx, tx, name, cur.Version)
		return err
	})
	return v, wrap("transition stage", err)
}

// GetDownloadURI implements registry.Store.
func (s *Store) GetDownloadURI(ctx context.Context, name, version string) (string, error) {
	v, err := s.getVersion(ctx, s.r, name, version)
	if err != nil {
		return "", err
	}
	if v.StorageLocation != "" {
		return v.StorageLocation, nil
	}
	return v.Source, nil
}

// SetModelVersionTag implements registry.Store.
func (s *Store) SetModelVersionTag(ctx context.Context, name, version string, t store.Tag) error {
	if err := registry.ValidateModelTag(t); err != nil {
		return err
	}
	return wrap("set model version tag", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		v, err := s.getVersion(ctx, tx, name, version)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO model_version_tags ("key", value, name, version) VALUES (?, ?, ?, ?) ON CONFLICT ("key", name, version) DO UPDATE SET value = excluded.value`, t.Key, t.Value, name, v.Version)
		return err
	}))
}

// DeleteModelVersionTag implements registry.Store.
func (s *Store) DeleteModelVersionTag(ctx context.Context, name, version, key string) error {
	return wrap("delete model version tag", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		v, err := s.getVersion(ctx, tx, name, version)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM model_version_tags WHERE name = ? AND version = ? AND "key" = ?`, name, v.Version, key)
		return err
	}))
}

// tagClause renders a tag clause over a tag table, with MLflow's prompt
// exception: a model without the prompt tag matches "!= 'true'" and
// "= 'false'".
func tagClause(table, owner string, c search.Clause) (string, []any) {
	cond, a := compare("t.value", c)
	exists := `EXISTS (SELECT 1 FROM ` + table + ` t WHERE ` + owner + ` AND t."key" = ? AND ` + cond + `)`
	args := append([]any{c.Key}, a...)
	if c.Key == promptTag && ((c.Op == "!=" && c.Str == "true") || (c.Op == "=" && c.Str == "false")) {
		return `(` + exists + ` OR NOT EXISTS (SELECT 1 FROM ` + table + ` t WHERE ` + owner + ` AND t."key" = ?))`, append(args, c.Key)
	}
	return exists, args
}

func mentionsPrompt(cs []search.Clause) bool {
	for _, c := range cs {
		if c.Entity == search.Tag && c.Key == promptTag {
			return true
		}
	}
	return false
}

// SearchRegisteredModels implements registry.Store.
func (s *Store) SearchRegisteredModels(ctx context.Context, q registry.SearchModels) ([]*registry.RegisteredModel, string, error) {
	max := q.MaxResults
	if max == 0 {
		max = 100
	}
	if max < 0 || max > 1000 {
		return nil, "", store.Invalidf("Invalid value for max_results. It must be at most 1000, but got %d", max)
	}
	clauses, err := search.RegisteredModels.Parse(q.Filter)
	if err != nil {
		return nil, "", err
	}
	order, err := search.RegisteredModels.ParseOrderBy(q.OrderBy)
	if err != nil {
		return nil, "", err
	}
	tok, err := search.DecodeToken(q.PageToken)
	if err != nil {
		return nil, "", err
	}
	where := []string{"1=1"}
	var args []any
	for _, c := range clauses {
		var cond string
		var a []any
		if c.Entity == search.Tag {
			cond, a = tagClause("registered_model_tags", "t.name = m.name", c)
		} else {
			cond, a = compare("m.name", c)
		}
		where = append(where, cond)
		args = append(args, a...)
	}
	if !mentionsPrompt(clauses) {
		where = append(where, `NOT EXISTS (SELECT 1 FROM registered_model_tags t WHERE t.name = m.name AND t."key" = '`+promptTag+`' AND t.value = 'true')`)
	}
	cols := map[string]string{"name": "m.name", "last_updated_timestamp": "m.last_updated_time", "creation_timestamp": "m.creation_time"}
	var orderSQL []string
	hasName := false
	for _, f := range order {
		dir := "ASC"
		if f.Desc {
			dir = "DESC"
		}
		hasName = hasName || f.Key == "name"
		orderSQL = append(orderSQL, cols[f.Key]+" "+dir)
	}
	if !hasName {
		orderSQL = append(orderSQL, "m.name ASC")
	}
	rows, err := s.r.QueryContext(ctx, `SELECT m.name FROM registered_models m WHERE `+strings.Join(where, " AND ")+` ORDER BY `+strings.Join(orderSQL, ", ")+` LIMIT ? OFFSET ?`,
		append(args, max+1, tok.Offset)...)
	if err != nil {
		return nil, "", fmt.Errorf("search registered models: %w", err)
	}
	names, err := collect(rows, scanString)
	if err != nil {
		return nil, "", fmt.Errorf("search registered models: %w", err)
	}
	names, next := page(names, max, tok.Offset)
	out := make([]*registry.RegisteredModel, 0, len(names))
	for _, n := range names {
		m, err := s.getModel(ctx, s.r, n)
		if err != nil {
			return nil, "", err
		}
		out = append(out, m)
	}
	return out, next, nil
}

// SearchModelVersions implements registry.Store.
func (s *Store) SearchModelVersions(ctx context.Context, q registry.SearchVersions) ([]*registry.ModelVersion, string, error) {
	max := q.MaxResults
	if max == 0 {
		max = 200000
	}
	if max < 0 || max > 200000 {
		return nil, "", store.Invalidf("Invalid value for max_results. It must be at most 200000, but got %d", max)
	}
	clauses, err := search.ModelVersions.Parse(q.Filter)
	if err != nil {
		return nil, "", err
	}
	order, err := search.ModelVersions.ParseOrderBy(q.OrderBy)
	if err != nil {
		return nil, "", err
	}
	tok, err := search.DecodeToken(q.PageToken)
	if err != nil {
		return nil, "", err
	}
	cols := map[string]string{
		"name": "v.name", "run_id": "v.run_id", "source_path": "v.source", "version_number": "v.version",
		"creation_timestamp": "v.creation_time", "last_updated_timestamp": "v.last_updated_time",
	}
	where := []string{"v.current_stage != ?"}
	args := []any{registry.StageDeleted}
	for _, c := range clauses {
		var cond string
		var a []any
		if c.Entity == search.Tag {
			cond, a = tagClause("model_version_tags", "t.name = v.name AND t.version = v.version", c)
		} else {
			cond, a = compare(cols[c.Key], c)
		}
		where = append(where, cond)
		args = append(args, a...)
	}
	if !mentionsPrompt(clauses) {
		where = append(where, `NOT EXISTS (SELECT 1 FROM registered_model_tags t WHERE t.name = v.name AND t."key" = '`+promptTag+`' AND t.value = 'true')`)
	}
	var orderSQL []string
	seen := map[string]bool{}
	for _, f := range order {
		dir := "ASC"
		if f.Desc {
			dir = "DESC"
		}
		seen[f.Key] = true
		orderSQL = append(orderSQL, cols[f.Key]+" "+dir)
	}
	if len(order) == 0 {
		orderSQL = append(orderSQL, "v.last_updated_time DESC")
	}
	if !seen["name"] {
		orderSQL = append(orderSQL, "v.name ASC")
	}
	if !seen["version_number"] {
		orderSQL = append(orderSQL, "v.version DESC")
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+prefixCols("v.", versionCols)+` FROM model_versions v WHERE `+strings.Join(where, " AND ")+
		` ORDER BY `+strings.Join(orderSQL, ", ")+` LIMIT ? OFFSET ?`, append(args, max+1, tok.Offset)...)
	if err != nil {
		return nil, "", fmt.Errorf("search model versions: %w", err)
	}
	out, err := collect(rows, scanVersion)
	if err != nil {
		return nil, "", fmt.Errorf("search model versions: %w", err)
	}
	out, next := page(out, max, tok.Offset)
	return out, next, fillVersions(ctx, s.r, out)
}

// TagModelVersions is the logged-model tag listing its registrations.
const TagModelVersions = "mlflow.modelVersions"

// appendModelVersionsTag adds {name, version} to a logged model's
// mlflow.modelVersions tag (a JSON list, written as Python's json.dumps
// writes it), as MLflow 3's store does.
func appendModelVersionsTag(ctx context.Context, tx *sql.Tx, lm *store.LoggedModel, name string, version int64) error {
	var list []any
	for _, t := range lm.Tags {
		if t.Key == TagModelVersions {
			json.Unmarshal([]byte(t.Value), &list)
		}
	}
	b, err := json.Marshal(append(list, map[string]any{"name": name, "version": version}))
	if err == nil { // as MLflow's json.dumps writes it: [{"name": "m", "version": 1}]
		b, err = pyjson.SortedDumps(b)
	}
	if err != nil {
		return err
	}
	return setModelTags(ctx, tx, lm.ModelID, lm.ExperimentID, []store.Tag{{Key: TagModelVersions, Value: string(b)}})
}
