// Package postgres opens MLflow's auth database on PostgreSQL
// (database_uri = postgresql://… in the basic-auth INI): the tables as
// MLflow's auth migration 8606fa83a998 creates them there (ids from
// sequences, native booleans), made once under an advisory lock when the
// database is empty. The store itself is auth/sqlauth's; concurrent
// servers' writes are serializable and retried.
package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/mlrun/mlrun/auth/sqlauth"
	"github.com/mlrun/mlrun/store/postgres"
)

// schema is the DDL MLflow's auth migration produces on PostgreSQL: ids
// from sequences.
var schema = sqlauth.Schema("SERIAL")

// authLock is the advisory lock key the schema is made under.
const authLock = 0x6d6c61757468 // "mlauth"

// Open connects to a postgresql:// URI and returns the auth store,
// creating MLflow's auth schema in an empty database.
func Open(ctx context.Context, uri string) (*sqlauth.Store, error) {
	db, err := postgres.OpenDB(uri)
	if err != nil {
		return nil, err
	}
	lock := func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(authLock))
		return err
	}
	tables := `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('users', 'alembic_version')`
	if err := sqlauth.Init(ctx, db, tables, schema, lock); err != nil {
		db.Close()
		return nil, fmt.Errorf("auth database %s: %w", postgres.Redact(uri), postgres.Flatten(err))
	}
	return sqlauth.New(db, db, postgres.Retryable), nil
}
