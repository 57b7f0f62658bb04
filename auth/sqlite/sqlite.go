// Package sqlite opens MLflow's auth database on a SQLite file
// (basic_auth.db): the tables exactly as MLflow's auth migration
// 8606fa83a998 creates them on SQLite, so an MLflow basic_auth.db opens
// here and one made here opens in MLflow. The store itself is
// auth/sqlauth's.
package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	_ "github.com/mattn/go-sqlite3" // the database/sql driver

	"github.com/mlrun/mlrun/auth/sqlauth"
)

// Revision is MLflow's auth alembic head (its only revision).
const Revision = sqlauth.Revision

// schema is the DDL MLflow's auth migration produces on SQLite.
var schema = sqlauth.Schema("INTEGER")

// Store is the auth store on one SQLite file.
type Store = sqlauth.Store

// Open opens (creating with MLflow's schema if new) the auth database at
// path. An existing database must be at MLflow's auth revision. Writes
// queue on one connection (WAL mode), reads use a pool.
func Open(ctx context.Context, path string) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("auth database %s: %w", path, err)
		}
	}
	dsn := func(txlock string) string {
		v := url.Values{}
		v.Set("_journal_mode", "WAL")
		v.Set("_busy_timeout", "30000")
		v.Set("_foreign_keys", "1")
		v.Set("_sync", "NORMAL")
		v.Set("_txlock", txlock)
		return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + v.Encode()
	}
	w, err := sql.Open("sqlite3", dsn("immediate"))
	if err != nil {
		return nil, fmt.Errorf("auth database %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite3", dsn("deferred"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("auth database %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	s := sqlauth.New(w, r, nil)
	if err := sqlauth.Init(ctx, w, `SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN ('users', 'alembic_version')`, schema, nil); err != nil {
		s.Close()
		return nil, fmt.Errorf("auth database %s: %w", path, err)
	}
	return s, nil
}
