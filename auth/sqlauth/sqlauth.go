// Package sqlauth is auth.Store on MLflow's own auth tables (users,
// experiment_permissions, registered_model_permissions, as MLflow's auth
// migration 8606fa83a998 creates them) in any database/sql database:
// auth/sqlite and auth/postgres open their database, create or check the
// schema, and hand New the connections.
package sqlauth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/mlrun/mlrun/auth"
	"github.com/mlrun/mlrun/store"
)

// Revision is MLflow's auth alembic head (its only revision).
const Revision = "8606fa83a998"

// Schema is the DDL of MLflow's auth migration, with idType the type of
// the id columns as the database renders an autoincrement integer key
// (SQLite: INTEGER, PostgreSQL: SERIAL), and the revision stamped.
func Schema(idType string) string {
	return strings.ReplaceAll(`
CREATE TABLE users (id ID NOT NULL, username VARCHAR(255), password_hash VARCHAR(255),
  is_admin BOOLEAN, PRIMARY KEY (id), UNIQUE (username));
CREATE TABLE experiment_permissions (id ID NOT NULL, experiment_id VARCHAR(255) NOT NULL,
  user_id INTEGER NOT NULL, permission VARCHAR(255), PRIMARY KEY (id),
  CONSTRAINT fk_user_id FOREIGN KEY(user_id) REFERENCES users (id),
  CONSTRAINT unique_experiment_user UNIQUE (experiment_id, user_id));
CREATE TABLE registered_model_permissions (id ID NOT NULL, name VARCHAR(255) NOT NULL,
  user_id INTEGER NOT NULL, permission VARCHAR(255), PRIMARY KEY (id),
  CONSTRAINT fk_user_id FOREIGN KEY(user_id) REFERENCES users (id),
  CONSTRAINT unique_name_user UNIQUE (name, user_id));
CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
INSERT INTO alembic_version (version_num) VALUES ('`+Revision+`');
`, "id ID NOT NULL", "id "+idType+" NOT NULL")
}

// Store is auth.Store on an open auth database.
type Store struct {
	w, r  *sql.DB
	retry func(error) bool
}

var _ auth.Store = (*Store)(nil)

// New returns the store of an auth database whose schema is in place: w
// runs write transactions and r reads (they may be one pool); a write
// transaction that fails with an error retry accepts runs again.
func New(w, r *sql.DB, retry func(error) bool) *Store {
	if retry == nil {
		retry = func(error) bool { return false }
	}
	return &Store{w: w, r: r, retry: retry}
}

// CheckRevision checks, in tx, that an existing auth database is at
// MLflow's auth revision.
func CheckRevision(ctx context.Context, tx *sql.Tx) error {
	var rev string
	if err := tx.QueryRowContext(ctx, `SELECT version_num FROM alembic_version`).Scan(&rev); err != nil {
		return fmt.Errorf("not an MLflow auth database (no alembic_version row): %w", err)
	}
	if rev != Revision {
		return fmt.Errorf("auth database revision %s is not MLflow's auth revision %s", rev, Revision)
	}
	return nil
}

// Init creates MLflow's auth schema (ddl) in one transaction on db, or
// checks an existing database's revision. tables is a query counting
// the tables users and alembic_version; first, when set, runs at the
// start of the transaction (PostgreSQL takes an advisory lock there, so
// servers starting together create the schema once).
func Init(ctx context.Context, db *sql.DB, tables, ddl string, first func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if first != nil {
		if err := first(tx); err != nil {
			return err
		}
	}
	var n int
	if err := tx.QueryRowContext(ctx, tables).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		if _, err := tx.ExecContext(ctx, ddl); err != nil {
			return err
		}
	} else if err := CheckRevision(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Close closes the connections.
func (s *Store) Close() error {
	if s.r == s.w {
		return s.w.Close()
	}
	return errors.Join(s.r.Close(), s.w.Close())
}

// tx runs fn in one write transaction, again from the start when it
// fails with an error s.retry accepts (a concurrent server's write).
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := s.tryTx(ctx, fn)
		if err == nil || attempt == 50 || !s.retry(err) || ctx.Err() != nil {
			return err
		}
		wait := min(time.Millisecond<<min(attempt, 7), 100*time.Millisecond)
		time.Sleep(wait/2 + rand.N(wait))
	}
}

func (s *Store) tryTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func userNotFound(username string) error {
	return store.NotFoundf("User with username=%s not found", username)
}

func (s *Store) user(ctx context.Context, q querier, username string) (*auth.User, error) {
	u := &auth.User{Username: username}
	var hash sql.NullString
	var admin sql.NullBool
	err := q.QueryRowContext(ctx, `SELECT id, password_hash, is_admin FROM users WHERE username = ?`, username).Scan(&u.ID, &hash, &admin)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userNotFound(username)
	}
	if err != nil {
		return nil, fmt.Errorf("get user %s: %w", username, err)
	}
	u.PasswordHash, u.IsAdmin = hash.String, admin.Bool
	return u, nil
}

// CreateUser implements auth.Store.
func (s *Store) CreateUser(ctx context.Context, username, password string, admin bool) (*auth.User, error) {
	if username == "" {
		return nil, store.Invalidf("Username cannot be empty.")
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return nil, err
	}
	var u *auth.User
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE username = ?`, username).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return store.Errorf(store.ErrAlreadyExists, "User (username=%s) already exists.", username)
		}
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO users (username, password_hash, is_admin) VALUES (?, ?, ?) RETURNING id`, username, hash, admin).Scan(&id); err != nil {
			return err
		}
		u = &auth.User{ID: id, Username: username, PasswordHash: hash, IsAdmin: admin}
		return nil
	})
	if err != nil {
		return nil, wrap("create user", err)
	}
	return u, nil
}

// GetUser implements auth.Store.
func (s *Store) GetUser(ctx context.Context, username string) (*auth.User, error) {
	u, err := s.user(ctx, s.r, username)
	if err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT experiment_id, permission FROM experiment_permissions WHERE user_id = ? ORDER BY id`, u.ID)
	if err != nil {
		return nil, fmt.Errorf("get user %s: %w", username, err)
	}
	for rows.Next() {
		p := auth.ExperimentPermission{UserID: u.ID}
		if err := rows.Scan(&p.ExperimentID, &p.Permission); err != nil {
			rows.Close()
			return nil, err
		}
		u.ExperimentPermissions = append(u.ExperimentPermissions, p)
	}
	rows.Close()
	rows, err = s.r.QueryContext(ctx, `SELECT name, permission FROM registered_model_permissions WHERE user_id = ? ORDER BY id`, u.ID)
	if err != nil {
		return nil, fmt.Errorf("get user %s: %w", username, err)
	}
	defer rows.Close()
	for rows.Next() {
		p := auth.ModelPermission{UserID: u.ID}
		if err := rows.Scan(&p.Name, &p.Permission); err != nil {
			return nil, err
		}
		u.RegisteredModelPermissions = append(u.RegisteredModelPermissions, p)
	}
	return u, rows.Err()
}

// UpdatePassword implements auth.Store.
func (s *Store) UpdatePassword(ctx context.Context, username, password string) error {
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	return s.updateUser(ctx, username, `UPDATE users SET password_hash = ? WHERE username = ?`, hash)
}

// UpdateAdmin implements auth.Store.
func (s *Store) UpdateAdmin(ctx context.Context, username string, admin bool) error {
	return s.updateUser(ctx, username, `UPDATE users SET is_admin = ? WHERE username = ?`, admin)
}

func (s *Store) updateUser(ctx context.Context, username, query string, v any) error {
	return wrap("update user", s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, v, username)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return userNotFound(username)
		}
		return nil
	}))
}

// DeleteUser implements auth.Store: the rows go with the user (MLflow
// fails on a user holding any).
func (s *Store) DeleteUser(ctx context.Context, username string) error {
	return wrap("delete user", s.tx(ctx, func(tx *sql.Tx) error {
		u, err := s.user(ctx, tx, username)
		if err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM experiment_permissions WHERE user_id = ?`, `DELETE FROM registered_model_permissions WHERE user_id = ?`, `DELETE FROM users WHERE id = ?`} {
			if _, err := tx.ExecContext(ctx, q, u.ID); err != nil {
				return err
			}
		}
		return nil
	}))
}

// resource names one of the two permission tables.
type resource struct {
	table, key, what string
}

var (
	experiments = resource{"experiment_permissions", "experiment_id", "Experiment permission with experiment_id"}
	models      = resource{"registered_model_permissions", "name", "Registered model permission with name"}
)

func (r resource) notFound(id, username string) error {
	return store.NotFoundf("%s=%s and username=%s not found", r.what, id, username)
}

func (s *Store) create(ctx context.Context, r resource, id, username string, p auth.Permission) (int64, error) {
	if _, err := auth.ParsePermission(string(p)); err != nil {
		return 0, err
	}
	var uid int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		u, err := s.user(ctx, tx, username)
		if err != nil {
			return err
		}
		uid = u.ID
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+r.table+` WHERE `+r.key+` = ? AND user_id = ?`, id, u.ID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return store.Errorf(store.ErrAlreadyExists, "%s=%s and username=%s already exists.", r.what, id, username)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO `+r.table+` (`+r.key+`, user_id, permission) VALUES (?, ?, ?)`, id, u.ID, string(p))
		return err
	})
	return uid, wrap("create permission", err)
}

func (s *Store) get(ctx context.Context, r resource, id, username string) (int64, auth.Permission, error) {
	u, err := s.user(ctx, s.r, username)
	if err != nil {
		return 0, "", err
	}
	var p string
	err = s.r.QueryRowContext(ctx, `SELECT permission FROM `+r.table+` WHERE `+r.key+` = ? AND user_id = ?`, id, u.ID).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", r.notFound(id, username)
	}
	if err != nil {
		return 0, "", fmt.Errorf("get permission: %w", err)
	}
	return u.ID, auth.Permission(p), nil
}

// change updates (p != "") or deletes (p == "") a row; with upsert a
// missing row is added.
func (s *Store) change(ctx context.Context, r resource, id, username string, p auth.Permission, upsert bool) error {
	if p != "" {
		if _, err := auth.ParsePermission(string(p)); err != nil {
			return err
		}
	}
	return wrap("change permission", s.tx(ctx, func(tx *sql.Tx) error {
		u, err := s.user(ctx, tx, username)
		if err != nil {
			return err
		}
		var res sql.Result
		if p == "" {
			res, err = tx.ExecContext(ctx, `DELETE FROM `+r.table+` WHERE `+r.key+` = ? AND user_id = ?`, id, u.ID)
		} else {
			res, err = tx.ExecContext(ctx, `UPDATE `+r.table+` SET permission = ? WHERE `+r.key+` = ? AND user_id = ?`, string(p), id, u.ID)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if !upsert {
				return r.notFound(id, username)
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO `+r.table+` (`+r.key+`, user_id, permission) VALUES (?, ?, ?)`, id, u.ID, string(p))
			return err
		}
		return nil
	}))
}

// CreateExperimentPermission implements auth.Store.
func (s *Store) CreateExperimentPermission(ctx context.Context, expID, username string, p auth.Permission) (*auth.ExperimentPermission, error) {
	uid, err := s.create(ctx, experiments, expID, username, p)
	if err != nil {
		return nil, err
	}
	return &auth.ExperimentPermission{ExperimentID: expID, UserID: uid, Permission: p}, nil
}

// GetExperimentPermission implements auth.Store.
func (s *Store) GetExperimentPermission(ctx context.Context, expID, username string) (*auth.ExperimentPermission, error) {
	uid, p, err := s.get(ctx, experiments, expID, username)
	if err != nil {
		return nil, err
	}
	return &auth.ExperimentPermission{ExperimentID: expID, UserID: uid, Permission: p}, nil
}

// UpdateExperimentPermission implements auth.Store.
func (s *Store) UpdateExperimentPermission(ctx context.Context, expID, username string, p auth.Permission) error {
	return s.change(ctx, experiments, expID, username, p, false)
}

// DeleteExperimentPermission implements auth.Store.
func (s *Store) DeleteExperimentPermission(ctx context.Context, expID, username string) error {
	return s.change(ctx, experiments, expID, username, "", false)
}

// SetExperimentPermission implements auth.Store.
func (s *Store) SetExperimentPermission(ctx context.Context, expID, username string, p auth.Permission) error {
	return s.change(ctx, experiments, expID, username, p, true)
}

// CreateModelPermission implements auth.Store.
func (s *Store) CreateModelPermission(ctx context.Context, name, username string, p auth.Permission) (*auth.ModelPermission, error) {
	uid, err := s.create(ctx, models, name, username, p)
	if err != nil {
		return nil, err
	}
	return &auth.ModelPermission{Name: name, UserID: uid, Permission: p}, nil
}

// GetModelPermission implements auth.Store.
func (s *Store) GetModelPermission(ctx context.Context, name, username string) (*auth.ModelPermission, error) {
	uid, p, err := s.get(ctx, models, name, username)
	if err != nil {
		return nil, err
	}
	return &auth.ModelPermission{Name: name, UserID: uid, Permission: p}, nil
}

// UpdateModelPermission implements auth.Store.
func (s *Store) UpdateModelPermission(ctx context.Context, name, username string, p auth.Permission) error {
	return s.change(ctx, models, name, username, p, false)
}

// DeleteModelPermission implements auth.Store.
func (s *Store) DeleteModelPermission(ctx context.Context, name, username string) error {
	return s.change(ctx, models, name, username, "", false)
}

// SetModelPermission implements auth.Store.
func (s *Store) SetModelPermission(ctx context.Context, name, username string, p auth.Permission) error {
	return s.change(ctx, models, name, username, p, true)
}

// RenameModelPermissions implements auth.Store. A user holding rows on
// both names keeps the moved one.
func (s *Store) RenameModelPermissions(ctx context.Context, oldName, newName string) error {
	return wrap("rename model permissions", s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM registered_model_permissions WHERE name = ? AND user_id IN (SELECT user_id FROM registered_model_permissions WHERE name = ?)`, newName, oldName); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE registered_model_permissions SET name = ? WHERE name = ?`, newName, oldName)
		return err
	}))
}

// DeleteModelPermissions implements auth.Store.
func (s *Store) DeleteModelPermissions(ctx context.Context, name string) error {
	return wrap("delete model permissions", s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM registered_model_permissions WHERE name = ?`, name)
		return err
	}))
}

// wrap adds context to database errors; the store's own kinds pass as
// they are.
func wrap(op string, err error) error {
	var se *store.Error
	if err == nil || errors.As(err, &se) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}
