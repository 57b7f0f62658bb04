package postgres

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/sqlstore"
)

//go:embed schema_bf29a5ff90ea.sql
var headSchema string

// mlrunIndexes are mlrun's own indexes for speed, each named mlrun_….
const mlrunIndexes = `
CREATE INDEX IF NOT EXISTS mlrun_metrics_history ON metrics (run_uuid, "key", timestamp, step, value, is_nan);
DROP INDEX IF EXISTS mlrun_runs_experiment_start;
CREATE INDEX IF NOT EXISTS mlrun_runs_experiment_order ON runs (experiment_id, start_time DESC NULLS LAST, run_uuid);
CREATE INDEX IF NOT EXISTS mlrun_latest_metrics_order ON latest_metrics ("key", is_nan, value);
`

// schemaLock is the advisory lock key under which a schema is created or
// checked, so that servers starting together on an empty database make
// it once.
const schemaLock = 0x6d6c72756e // "mlrun"

// Options configure a Store.
type Options struct {
	// ArtifactRoot is the root of new experiments' artifact locations; ""
	// is ./mlruns.
	ArtifactRoot string
}

// Store is the tracking and registry store on a PostgreSQL database.
type Store struct {
	*sqlstore.Store
	db  *sql.DB
	uri string // without the password
}

var _ store.Store = (*Store)(nil)

// Open connects to a postgresql:// (or postgres://) URI as MLflow takes
// it. An empty database gets MLflow 3.6's schema and the Default
// experiment; an existing one must be at a revision mlrun knows.
func Open(ctx context.Context, uri string, opts Options) (*Store, error) {
	root, err := sqlstore.NormalizeRoot(opts.ArtifactRoot)
	if err != nil {
		return nil, err
	}
	db, err := OpenDB(uri)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, uri: Redact(uri)}
	rev, err := s.init(ctx, root)
	if err == nil {
		// A streamed search page's data is loaded at once: in chunks of
		// 250 runs, each a few more round trips, search-runs-500 was 18 %
		// slower (86 vs 105 req/s, alternating runs). Two group commits
		// may run at once (see sqlstore.Config.GroupCommit and DESIGN.md).
		s.Store, err = sqlstore.New(ctx, sqlstore.Config{W: db, R: db, ArtifactRoot: root, Revision: rev, Dialect: dialect{}, GroupCommit: 2})
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", Redact(uri), oneLine{err})
	}
	return s, nil
}

// Flatten returns err with its message on one line (see oneLine).
func Flatten(err error) error {
	if err == nil {
		return nil
	}
	return oneLine{err}
}

// oneLine is an error whose message is on one line: pgx lists each
// address it tried on a line of its own (often the same one twice, with
// and without TLS); the distinct lines are joined with "; ".
type oneLine struct{ err error }

func (e oneLine) Error() string {
	var parts []string
	for _, l := range strings.Split(e.err.Error(), "\n") {
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(parts, l) {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " ")
}

func (e oneLine) Unwrap() error { return e.err }

// OpenDB returns a connection pool to a postgresql:// URI that takes the
// shared SQL as it is ('?' placeholders) and runs every transaction
// SERIALIZABLE unless it asks otherwise: concurrent writers (other
// servers) are correct or fail with a serialization error, which the
// stores retry (Retryable).
func OpenDB(uri string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn(uri))
	if err != nil {
		return nil, fmt.Errorf("postgresql URI %s: %w", Redact(uri), oneLine{err})
	}
	cfg.RuntimeParams["default_transaction_isolation"] = "serializable"
	db := sql.OpenDB(connector{stdlib.GetConnector(*cfg)})
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	return db, nil
}

// dsn turns MLflow's SQLAlchemy URI into one pgx reads: the scheme
// postgresql+psycopg2:// (and the like) becomes postgresql://.
func dsn(uri string) string {
	if scheme, rest, ok := strings.Cut(uri, "://"); ok {
		if base, _, ok := strings.Cut(scheme, "+"); ok {
			return base + "://" + rest
		}
	}
	return uri
}

// Redact returns uri without its password, for messages.
func Redact(uri string) string {
	u, err := url.Parse(dsn(uri))
	if err != nil {
		return "postgresql://…"
	}
	return u.Redacted()
}

// Close closes the connections.
func (s *Store) Close() error { return s.db.Close() }

// URI returns the database's URI, password left out.
func (s *Store) URI() string { return s.uri }

// DB returns the connection pool (for mlrun's own commands: copy, locks).
func (s *Store) DB() *sql.DB { return s.db }

// init creates MLflow's schema in an empty database or checks an existing
// one's revision, adds mlrun's indexes and the Default experiment, under
// an advisory lock. It returns the revision.
func (s *Store) init(ctx context.Context, root string) (string, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(schemaLock)); err != nil {
		return "", err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&n); err != nil {
		return "", err
	}
	rev := sqlstore.HeadRevision
	if n == 0 {
		if _, err := tx.ExecContext(ctx, headSchema); err != nil {
			return "", fmt.Errorf("create schema: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO alembic_version (version_num) VALUES (?)`, rev); err != nil {
			return "", err
		}
	} else {
		if err := tx.QueryRowContext(ctx, `SELECT version_num FROM alembic_version`).Scan(&rev); err != nil {
			return "", fmt.Errorf("not an MLflow database (no alembic_version revision): %w", err)
		}
		if !slices.Contains(sqlstore.Chain, rev) {
			return "", fmt.Errorf("database schema is at MLflow revision %s; mlrun opens PostgreSQL databases from %s (MLflow 2.17.2) to %s (MLflow 3.6)", rev, sqlstore.MLflow2Revision, sqlstore.HeadRevision)
		}
	}
	if _, err := tx.ExecContext(ctx, mlrunIndexes); err != nil {
		return "", fmt.Errorf("create indexes: %w", err)
	}
	if err := sqlstore.EnsureDefaultExperiment(ctx, tx, root); err != nil {
		return "", err
	}
	return rev, tx.Commit()
}

// dialect is PostgreSQL's sqlstore.Dialect.
type dialect struct{}

func (dialect) Columns(ctx context.Context, q sqlstore.Queryer, table string) ([]string, error) {
	return sqlstore.Strings(q.QueryContext(ctx, `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`, table))
}

func (dialect) TablesWithColumn(ctx context.Context, tx *sql.Tx, col string) ([]string, error) {
	tables, err := sqlstore.Strings(tx.QueryContext(ctx, `SELECT c.table_name FROM information_schema.columns c JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.column_name = ? ORDER BY c.table_name`, col))
	if err != nil {
		return nil, fmt.Errorf("tables with %s: %w", col, err)
	}
	return tables, nil
}

// DeferForeignKeys defers what can be: MLflow's foreign keys are not
// DEFERRABLE, so the store deletes children before parents anyway.
func (dialect) DeferForeignKeys(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `SET CONSTRAINTS ALL DEFERRED`)
	return err
}

func (dialect) Retry(err error) bool { return Retryable(err) }

// Retryable reports whether a transaction that failed with err may run
// again: a serialization failure or deadlock (another server's write
// conflicted), or a unique violation from a concurrent insert of the same
// key (the stores' transactions look before they insert, so the retry
// sees the row and answers as MLflow does).
func Retryable(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "40001", "40P01", "23505":
		return true
	}
	return false
}

func (dialect) Committed() {}

// RowOrder is the rows' physical order: the order of their last write.
func (dialect) RowOrder() string { return "ctid" }

func (dialect) NullsLow() bool { return false }

// AfterCopy moves the experiment id sequence past the ids copied in, so
// the next experiment created gets a new one.
func (dialect) AfterCopy(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('experiments', 'experiment_id'), GREATEST((SELECT max(experiment_id) FROM experiments), 1))`); err != nil {
		return err
	}
	// The copied tables get their statistics now: until autovacuum
	// analyzes them (a minute or more later), the planner takes a run id
	// to match 0.5 % of a table, and a search reads whole tables for its
	// runs' data (500 runs beside 30,000 others: 64-118 ms, 25 once
	// analyzed).
	_, err := tx.ExecContext(ctx, `ANALYZE`)
	return err
}

// BeginWrite does nothing on PostgreSQL.
func (dialect) BeginWrite(context.Context) error { return nil }

// Regexp is PostgreSQL's POSIX match.
func (dialect) Regexp(col string) string { return col + " ~ ?" }

// ForUpdate is PostgreSQL's row lock.
func (dialect) ForUpdate() string { return " FOR UPDATE" }

// JSONAttr reads the span dict as jsonb.
func (dialect) JSONAttr(col string) string {
	return "jsonb_extract_path_text(" + col + "::jsonb, 'attributes', ?)"
}

// InIDs passes the ids as one array behind a subquery, so that the
// planner estimates the test without looking at its elements. Given as a
// list (IN ($1, …)) or a bound array, each element is estimated against
// the column's most common values, a list decompressed each time: where
// some runs have many rows (a table's run ids then have such a list), 500
// run ids took 6-7 ms to plan and 2 ms to read, and a search page runs
// five such queries; this way 0.1 ms to plan and 2-4 ms to read (one
// scan of the column's index either way).
func (dialect) InIDs(ids []any) (string, []any) {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i], _ = id.(string)
	}
	return ` = ANY((SELECT ?::text[])::text[])`, []any{s}
}

// TryExclusive runs fn only when no other process (another server on the
// same database) is running something under the same name: it holds a
// PostgreSQL session advisory lock on one connection meanwhile. It
// reports whether fn ran.
func (s *Store) TryExclusive(ctx context.Context, name string, fn func() error) (bool, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(hashtext(?))`, name).Scan(&got); err != nil {
		return false, fmt.Errorf("advisory lock %s: %w", name, err)
	}
	if !got {
		return false, nil
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtext(?))`, name)
	return true, fn()
}
