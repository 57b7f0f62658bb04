package sqlite

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3" // also registers the "sqlite3" driver

	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/sqlstore"
)

// mlrunIndexes are mlrun's own indexes for speed, each named mlrun_….
const mlrunIndexes = `
CREATE INDEX IF NOT EXISTS mlrun_metrics_history ON metrics (run_uuid, "key", timestamp, step, value, is_nan);
DROP INDEX IF EXISTS mlrun_runs_experiment_start;
CREATE INDEX IF NOT EXISTS mlrun_runs_experiment_order ON runs (experiment_id, start_time DESC, run_uuid);
CREATE INDEX IF NOT EXISTS mlrun_latest_metrics_order ON latest_metrics ("key", is_nan, value);
`

// Options configure a Store.
type Options struct {
	// ArtifactRoot is the root of new experiments' artifact locations: a
	// URI (mlflow-artifacts:/, s3://…, file:///…) or a local path, made
	// absolute. Empty means ./mlruns.
	ArtifactRoot string
	// Revision is the schema a new database gets: HeadRevision (MLflow
	// 3.6) when empty, or MLflow2Revision for MLflow 2.17.2's. An existing
	// database keeps its own.
	Revision string
}

// Store is the SQLite tracking store: the shared SQL store (sqlstore) on
// one SQLite file, with its writer and reader pools, WAL checkpoints,
// backups and upgrades.
type Store struct {
	*sqlstore.Store
	path string
	w    *sql.DB // one connection: every write
	r    *sql.DB // a pool: reads

	ckMu    sync.Mutex
	ckTimer *time.Timer // checkpoints the WAL once writes pause
	closed  bool

	flush *FlushReader // nil where reads before flushes are off
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path. A new database
// gets MLflow 3.6's schema (or opts.Revision's) and the Default
// experiment; an existing one must be at MLflow 2.17.2's revision or a
// later one (see checkRevision).
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	root, err := sqlstore.NormalizeRoot(opts.ArtifactRoot)
	if err != nil {
		return nil, err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	}
	dsn := func(txlock string) string {
		v := url.Values{}
		v.Set("_journal_mode", "WAL")
		v.Set("_busy_timeout", "30000")
		v.Set("_foreign_keys", "1")
		v.Set("_cslike", "1")
		v.Set("_sync", "FULL")
		v.Set("_txlock", txlock)
		v.Set("_stmt_cache_size", "128")
		// database/sql hands a connection to one goroutine at a time, so
		// SQLite's own per-connection mutex (taken on every step and
		// column read) guards nothing: multi-thread mode, not serialized.
		v.Set("_mutex", "no")
		// WAL writes gathered into one a commit, sub-journals spilled
		// in parts (vfs.go).
		if vfsName != "" {
			v.Set("vfs", vfsName)
		}
		// Page caches of 64 MiB for the writer (a large batch touches
		// pages of several indexes; SQLite's default is 2 MiB) and 16 MiB
		// for each reader, allocated as pages are read.
		if txlock == "immediate" {
			v.Set("_cache_size", "-65536")
		} else {
			v.Set("_cache_size", "-16384")
		}
		return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + v.Encode()
	}
	flush, err := OpenFlushReader(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w, err := sql.Open(driverName, dsn("immediate"))
	if err != nil {
		flush.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open(driverName, dsn("deferred"))
	if err != nil {
		w.Close()
		flush.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	r.SetMaxOpenConns(8)
	s := &Store{path: path, w: w, r: r, flush: flush}
	rev, err := s.init(ctx, opts.Revision, root)
	// Of processes opening a new file at once, one makes it a WAL
	// database with its schema; meanwhile SQLite may answer another's
	// connection SQLITE_BUSY at once, without the busy timeout (seen in
	// 8 of 300 runs of TestOpenNewFileConcurrently under -race). Nothing
	// of theirs had begun: try again, waiting longer each time.
	for wait := 5 * time.Millisecond; busy(err) && wait < 5*time.Second; wait *= 2 {
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-time.After(wait):
			rev, err = s.init(ctx, opts.Revision, root)
		}
	}
	if err == nil {
		// A streamed search page's data is loaded 250 runs at a time:
		// as fast as one load here, where a query is no round trip.
		s.Store, err = sqlstore.New(ctx, sqlstore.Config{W: w, R: r, ArtifactRoot: root, Revision: rev, Dialect: dialect{s}, GroupCommit: 1, WriterThread: true, StreamChunk: 250})
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return s, nil
}

// busy reports whether err is SQLite's "database is locked" (or busy).
func busy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

// Close closes the database.
func (s *Store) Close() error {
	s.ckMu.Lock()
	s.closed = true
	if s.ckTimer != nil {
		s.ckTimer.Stop()
	}
	s.ckMu.Unlock()
	if s.Store != nil {
		s.Store.Close()
	}
	err := errors.Join(s.r.Close(), s.w.Close())
	s.flush.Close()
	return err
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// dialect is SQLite's sqlstore.Dialect.
type dialect struct{ s *Store }

func (d dialect) Columns(ctx context.Context, q sqlstore.Queryer, table string) ([]string, error) {
	return columnsOf(ctx, q, table)
}

func (d dialect) TablesWithColumn(ctx context.Context, tx *sql.Tx, col string) ([]string, error) {
	tables, err := sqlstore.Strings(tx.QueryContext(ctx, `SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) c WHERE m.type = 'table' AND c.name = ? ORDER BY m.name`, col))
	if err != nil {
		return nil, fmt.Errorf("tables with %s: %w", col, err)
	}
	return tables, nil
}

func (d dialect) DeferForeignKeys(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `PRAGMA defer_foreign_keys = ON`)
	return err
}

// Retry is never needed: every write of this process queues on the one
// writer connection, and busy_timeout waits for other processes.
func (d dialect) Retry(error) bool { return false }

func (d dialect) Committed() { d.s.scheduleCheckpoint() }

func (d dialect) RowOrder() string { return "rowid" }

func (d dialect) NullsLow() bool { return true }

func (d dialect) AfterCopy(context.Context, *sql.Tx) error { return nil }

func (d dialect) InIDs(ids []any) (string, []any) { return sqlstore.InList(ids) }

// Regexp is SQLite's REGEXP operator, which calls the regexp function
// this package's driver registers on each connection (Go's syntax).
func (d dialect) Regexp(col string) string { return col + " REGEXP ?" }

// ForUpdate is nothing: SQLite's one writer holds the whole database.
func (d dialect) ForUpdate() string { return "" }

// JSONAttr is SQLite's json_extract of attributes."<key>".
func (d dialect) JSONAttr(col string) string {
	return "json_extract(" + col + ", '$.attributes.' || json_quote(?))"
}

// BeginWrite asks for the read that makes the transaction's COMMIT flush
// faster (FlushReader). (A transaction's undo needs no setting: SQLite
// keeps it in memory up to 8 MiB, then in a temporary file; see vfs.go.)
func (d dialect) BeginWrite(context.Context) error {
	d.s.flush.Kick()
	return nil
}

// init creates the schema of a new database (at revision, "" for
// HeadRevision), or checks an existing one's revision, and makes sure the
// Default experiment exists. It returns the database's revision.
func (s *Store) init(ctx context.Context, revision, root string) (string, error) {
	if revision == "" {
		revision = HeadRevision
	}
	ddl, ok := schemas[revision]
	if !ok {
		return "", fmt.Errorf("mlrun creates databases at revision %s (MLflow 3.6) or %s (MLflow 2.17.2), not %s", HeadRevision, MLflow2Revision, revision)
	}
	// Counted inside the write transaction (BEGIN IMMEDIATE): of two
	// processes opening a new file at once, the second waits and then
	// finds the schema the first made.
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'`).Scan(&n); err != nil {
		return "", err
	}
	if n == 0 {
		if _, err := tx.ExecContext(ctx, ddl); err != nil {
			return "", fmt.Errorf("create schema: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO alembic_version (version_num) VALUES (?)`, revision); err != nil {
			return "", err
		}
	} else if revision, err = checkRevision(ctx, tx); err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, mlrunIndexes); err != nil {
		return "", fmt.Errorf("create indexes: %w", err)
	}
	if err := sqlstore.EnsureDefaultExperiment(ctx, tx, root); err != nil {
		return "", err
	}
	return revision, tx.Commit()
}
