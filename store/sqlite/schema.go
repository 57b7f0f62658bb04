package sqlite

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/mlrun/mlrun/store/sqlstore"
)

// HeadRevision is the alembic revision of the schema mlrun creates (see
// sqlstore.HeadRevision).
const HeadRevision = sqlstore.HeadRevision

// MLflow2Revision is MLflow 2.17.2's head, the oldest revision mlrun
// opens (mlrun db init --revision f5a4f2784254 creates it).
const MLflow2Revision = sqlstore.MLflow2Revision

//go:embed schema_bf29a5ff90ea.sql
var headSchema string

//go:embed schema_f5a4f2784254.sql
var mlflow2Schema string

// schemas are the schemas mlrun can create, by revision: each the
// '.schema' dump of a database the real MLflow release wrote.
var schemas = map[string]string{HeadRevision: headSchema, MLflow2Revision: mlflow2Schema}

// Chain is MLflow's revision chain from MLflow2Revision to HeadRevision,
// oldest first (see sqlstore.Chain).
var Chain = sqlstore.Chain

// olderRevisions are MLflow revisions before MLflow2Revision, oldest
// first (shared/spec/stores.md b.2): a database at one of them is refused.
var olderRevisions = []string{
	"451aebb31d03", "90e64c465722", "181f10493468", "df50e92ffc5e", "7ac759974ad8",
	"89d4b8295536", "2b4d017a5e9b", "cfd24bdc0731", "0a8213491aaa", "728d730b5ebd",
	"27a6a02d2cf1", "84291f40a231", "a8c4a736bde6", "39d1c3be5f05", "c48cb773bb87",
	"bd07f7e963c5", "0c779009ac13", "cc1f77228345", "97727af70f4d", "3500859a5d39",
	"7f2a7d5fae7d", "2d6e25af4d3e", "acf3f17fdcc7", "867495a8f9d4", "5b0e9adcef9c",
	"4465047574b1",
}

// writtenTables are the tables mlrun writes; a database at a revision
// newer than mlrun knows opens only when each has every column it has at
// HeadRevision.
var writtenTables = []string{
	"experiments", "experiment_tags", "runs", "tags", "params", "metrics", "latest_metrics",
	"datasets", "inputs", "input_tags", "registered_models", "registered_model_tags",
	"model_versions", "model_version_tags", "registered_model_aliases",
	"logged_models", "logged_model_tags", "logged_model_params", "logged_model_metrics",
}

// headObject is one table or index of the head schema.
type headObject struct {
	kind, name, table, sql string
	columns                []string // tables
}

var (
	headOnce    sync.Once
	headObjects []headObject
	headErr     error
)

// head returns the head schema's tables and indexes, in creation order,
// as SQLite itself records them (created once in memory).
func head(ctx context.Context) ([]headObject, error) {
	headOnce.Do(func() {
		db, err := sql.Open("sqlite3", "file:mlrun-head?mode=memory")
		if err != nil {
			headErr = err
			return
		}
		defer db.Close()
		db.SetMaxOpenConns(1)
		if _, err := db.ExecContext(ctx, headSchema); err != nil {
			headErr = fmt.Errorf("head schema: %w", err)
			return
		}
		rows, err := db.QueryContext(ctx, `SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid`)
		if err != nil {
			headErr = err
			return
		}
		for rows.Next() {
			var o headObject
			if err := rows.Scan(&o.kind, &o.name, &o.table, &o.sql); err != nil {
				headErr = err
				rows.Close()
				return
			}
			headObjects = append(headObjects, o)
		}
		rows.Close()
		for i, o := range headObjects {
			if o.kind == "table" {
				headObjects[i].columns, headErr = columnsOf(ctx, db, o.name)
				if headErr != nil {
					return
				}
			}
		}
	})
	return headObjects, headErr
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// columnsOf lists a table's columns in order (none if it is missing).
func columnsOf(ctx context.Context, q queryer, table string) ([]string, error) {
	return sqlstore.Strings(q.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, table))
}

// checkRevision accepts a database at a revision of Chain; refuses one
// older than MLflow 2.17.2 by name; and opens one at a revision mlrun does
// not know (a newer MLflow's) when every table mlrun writes has every
// column it has at HeadRevision, with a warning. It returns the revision.
func checkRevision(ctx context.Context, tx *sql.Tx) (string, error) {
	var rev string
	if err := tx.QueryRowContext(ctx, `SELECT version_num FROM alembic_version`).Scan(&rev); err != nil {
		return "", fmt.Errorf("not an MLflow database (no alembic_version revision): %w", err)
	}
	if slices.Contains(Chain, rev) {
		return rev, nil
	}
	if slices.Contains(olderRevisions, rev) {
		return "", fmt.Errorf("database schema is at MLflow revision %s, older than %s (MLflow 2.17.2), the oldest mlrun opens: back it up, then run 'mlflow db upgrade <database_uri>' with MLflow 2.17.2 or later", rev, MLflow2Revision)
	}
	objs, err := head(ctx)
	if err != nil {
		return "", err
	}
	var missing []string
	for _, o := range objs {
		if o.kind != "table" || !slices.Contains(writtenTables, o.name) {
			continue
		}
		have, err := columnsOf(ctx, tx, o.name)
		if err != nil {
			return "", err
		}
		for _, c := range o.columns {
			if !slices.Contains(have, c) {
				missing = append(missing, o.name+"."+c)
			}
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("database schema is at MLflow revision %s, which mlrun does not know, and lacks columns mlrun writes: %s (mlrun knows revisions up to %s, MLflow 3.6)", rev, strings.Join(missing, ", "), HeadRevision)
	}
	slog.Warn("database schema is at an MLflow revision mlrun does not know (newer than MLflow 3.6?); every table and column mlrun writes is there, so it opens", "revision", rev, "known_head", HeadRevision)
	return rev, nil
}
