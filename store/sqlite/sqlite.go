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
	"slices"
	"strings"
	"sync"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver

	"github.com/mlrun/mlrun/store"
)

// mlrunIndexes are mlrun's own indexes for speed, each named mlrun_….
const mlrunIndexes = `
CREATE INDEX IF NOT EXISTS mlrun_metrics_history ON metrics (run_uuid, "key", timestamp, step, value, is_nan);
CREATE INDEX IF NOT EXISTS mlrun_runs_experiment_start ON runs (experiment_id, start_time);
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

// Store is the SQLite tracking store.
type Store struct {
	path         string
	w            *sql.DB // one connection: every write
	r            *sql.DB // a pool: reads
	artifactRoot string
	revision     string // the database's alembic revision
	// loggedModels: the database has MLflow 3's logged_models tables (it
	// is at revision 400f98739977 or later); mlrun then serves logged
	// models from them.
	loggedModels bool
	// tracesV3: trace_info has MLflow 3's columns (client_request_id,
	// request_preview, response_preview).
	tracesV3 bool
	// assessments: the database has MLflow 3's assessments table;
	// associations its entity_associations table.
	assessments, associations bool

	ckMu    sync.Mutex
	ckTimer *time.Timer // checkpoints the WAL once writes pause
	closed  bool
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path. A new database
// gets MLflow 3.6's schema (or opts.Revision's) and the Default
// experiment; an existing one must be at MLflow 2.17.2's revision or a
// later one (see checkRevision).
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	root, err := normalizeRoot(opts.ArtifactRoot)
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
		v.Set("_sync", "NORMAL")
		v.Set("_txlock", txlock)
		v.Set("_stmt_cache_size", "128")
		return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + v.Encode()
	}
	w, err := sql.Open("sqlite3", dsn("immediate"))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite3", dsn("deferred"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	r.SetMaxOpenConns(8)
	s := &Store{path: path, w: w, r: r, artifactRoot: root}
	if err := s.init(ctx, opts.Revision); err != nil {
		s.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('logged_models', 'logged_model_params', 'logged_model_tags')`).Scan(&n); err == nil {
		s.loggedModels = n == 3
	}
	if cols, err := columnsOf(ctx, s.r, "trace_info"); err == nil {
		s.tracesV3 = slices.Contains(cols, "client_request_id")
	}
	if cols, err := columnsOf(ctx, s.r, "assessments"); err == nil {
		s.assessments = len(cols) > 0
	}
	if cols, err := columnsOf(ctx, s.r, "entity_associations"); err == nil {
		s.associations = len(cols) > 0
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.ckMu.Lock()
	s.closed = true
	if s.ckTimer != nil {
		s.ckTimer.Stop()
	}
	s.ckMu.Unlock()
	return errors.Join(s.r.Close(), s.w.Close())
}

// Revision returns the database's alembic revision.
func (s *Store) Revision() string { return s.revision }

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// ArtifactRoot returns the root of new experiments' artifact locations.
func (s *Store) ArtifactRoot() string { return s.artifactRoot }

func normalizeRoot(root string) (string, error) {
	if root == "" {
		root = "mlruns"
	}
	if strings.Contains(root, "://") || strings.HasSuffix(strings.SplitN(root, "/", 2)[0], ":") {
		if strings.HasPrefix(root, "file://") {
			return strings.TrimRight(root, "/"), nil
		}
		return root, nil
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("artifact root %s: %w", root, err)
	}
	return abs, nil
}

// init creates the schema of a new database (at revision, "" for
// HeadRevision), or checks an existing one's revision, and makes sure the
// Default experiment exists.
func (s *Store) init(ctx context.Context, revision string) error {
	if revision == "" {
		revision = HeadRevision
	}
	ddl, ok := schemas[revision]
	if !ok {
		return fmt.Errorf("mlrun creates databases at revision %s (MLflow 3.6) or %s (MLflow 2.17.2), not %s", HeadRevision, MLflow2Revision, revision)
	}
	var n int
	if err := s.w.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'`).Scan(&n); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if n == 0 {
			if _, err := tx.ExecContext(ctx, ddl); err != nil {
				return fmt.Errorf("create schema: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO alembic_version (version_num) VALUES (?)`, revision); err != nil {
				return err
			}
			s.revision = revision
		} else {
			rev, err := checkRevision(ctx, tx)
			if err != nil {
				return err
			}
			s.revision = rev
		}
		if _, err := tx.ExecContext(ctx, mlrunIndexes); err != nil {
			return fmt.Errorf("create indexes: %w", err)
		}
		var has int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM experiments WHERE experiment_id = 0`).Scan(&has); err != nil {
			return err
		}
		if has == 0 {
			now := nowMillis()
			_, err := tx.ExecContext(ctx, `INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (0, 'Default', ?, 'active', ?, ?)`,
				joinURI(s.artifactRoot, "0"), now, now)
			if err != nil {
				return fmt.Errorf("create the Default experiment: %w", err)
			}
		}
		return nil
	})
}

// tx runs fn in one write transaction (BEGIN IMMEDIATE on the single
// writer connection).
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	s.scheduleCheckpoint()
	return nil
}

func nowMillis() int64 { return time.Now().UnixMilli() }

// joinURI joins a URI or path and a relative part with one '/'.
func joinURI(base, rel string) string {
	return strings.TrimRight(base, "/") + "/" + strings.TrimLeft(rel, "/")
}
