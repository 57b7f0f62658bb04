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
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver

	"github.com/mlrun/mlrun/store"
)

//go:embed schema.sql
var schemaSQL string

// HeadRevision is the alembic revision of the schema mlrun creates
// (MLflow 2.17.2's head).
const HeadRevision = "f5a4f2784254"

// olderRevisions are MLflow revisions before HeadRevision, oldest first
// (shared/spec/stores.md b.2): a database at one of them is refused.
var olderRevisions = []string{
	"451aebb31d03", "90e64c465722", "181f10493468", "df50e92ffc5e", "7ac759974ad8",
	"89d4b8295536", "2b4d017a5e9b", "cfd24bdc0731", "0a8213491aaa", "728d730b5ebd",
	"27a6a02d2cf1", "84291f40a231", "a8c4a736bde6", "39d1c3be5f05", "c48cb773bb87",
	"bd07f7e963c5", "0c779009ac13", "cc1f77228345", "97727af70f4d", "3500859a5d39",
	"7f2a7d5fae7d", "2d6e25af4d3e", "acf3f17fdcc7", "867495a8f9d4", "5b0e9adcef9c",
	"4465047574b1",
}

// newerRevisions are MLflow revisions after HeadRevision that keep the
// core columns mlrun uses (MLflow 2.x's last and 3.x's).
var newerRevisions = map[string]bool{
	"0584bdc529eb": true, "400f98739977": true, "6953534de441": true, "bda7b8c39065": true,
	"cbc13b556ace": true, "770bee3ae1dd": true, "a1b2c3d4e5f6": true, "de4033877273": true,
	"1a0cddfcaa16": true, "534353b11cbc": true, "71994744cf8e": true, "3da73c924c2f": true,
	"bf29a5ff90ea": true, "1bd49d398cd23": true, "1b5f0d9ad7c1": true, "b7c8d9e0f1a2": true,
}

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
}

// Store is the SQLite tracking store.
type Store struct {
	path         string
	w            *sql.DB // one connection: every write
	r            *sql.DB // a pool: reads
	artifactRoot string
	// loggedModels: the database has MLflow 3's logged_models tables (it
	// was upgraded by MLflow 3); mlrun then serves logged models from them.
	loggedModels bool
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path. A new database
// gets MLflow 2.17.2's schema and the Default experiment; an existing one
// must be at that revision or a later one mlrun knows.
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
	if err := s.init(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('logged_models', 'logged_model_params', 'logged_model_tags')`).Scan(&n); err == nil {
		s.loggedModels = n == 3
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

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

// init creates the schema of a new database, or checks an existing one's
// revision, and makes sure the Default experiment exists.
func (s *Store) init(ctx context.Context) error {
	var n int
	if err := s.w.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'`).Scan(&n); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if n == 0 {
			if _, err := tx.ExecContext(ctx, schemaSQL); err != nil {
				return fmt.Errorf("create schema: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO alembic_version (version_num) VALUES (?)`, HeadRevision); err != nil {
				return err
			}
		} else if err := checkRevision(ctx, tx); err != nil {
			return err
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

func checkRevision(ctx context.Context, tx *sql.Tx) error {
	var rev string
	err := tx.QueryRowContext(ctx, `SELECT version_num FROM alembic_version`).Scan(&rev)
	if err != nil {
		return fmt.Errorf("not an MLflow database (no alembic_version revision): %w", err)
	}
	if rev == HeadRevision || newerRevisions[rev] {
		return nil
	}
	for _, old := range olderRevisions {
		if rev == old {
			return fmt.Errorf("database schema is at MLflow revision %s, older than %s (MLflow 2.17.2) that mlrun needs: back it up, then run 'mlflow db upgrade <database_uri>'", rev, HeadRevision)
		}
	}
	return fmt.Errorf("database schema is at unknown MLflow revision %s: mlrun reads revision %s (MLflow 2.17.2) and the later ones it knows", rev, HeadRevision)
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
	return nil
}

func nowMillis() int64 { return time.Now().UnixMilli() }

// joinURI joins a URI or path and a relative part with one '/'.
func joinURI(base, rel string) string {
	return strings.TrimRight(base, "/") + "/" + strings.TrimLeft(rel, "/")
}
