package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// UpgradeResult says what Upgrade did.
type UpgradeResult struct {
	From, To string
	Created  []string // tables added
	Rebuilt  []string // tables re-created with MLflow 3.6's definition, rows kept
}

var (
	createTable = regexp.MustCompile(`^CREATE TABLE (IF NOT EXISTS )?("?)([A-Za-z_][A-Za-z0-9_]*)("?)`)
	spaces      = regexp.MustCompile(`\s+`)
)

// normalDDL compares table definitions whatever their quoting, spacing
// and IF NOT EXISTS.
func normalDDL(ddl string) string {
	ddl = createTable.ReplaceAllString(strings.TrimSpace(ddl), "CREATE TABLE $3")
	ddl = spaces.ReplaceAllString(ddl, " ")
	return strings.NewReplacer("( ", "(", " )", ")", `"`, "").Replace(ddl)
}

// Upgrade brings the database at path from its revision of Chain to
// HeadRevision, as MLflow's migrations from 2.17.2 to 3.6 do: every one
// of them adds tables, adds columns with their defaults, or changes
// constraints, so each table whose definition differs is re-created with
// MLflow 3.6's and its rows copied (what alembic's batch mode does on
// SQLite), missing tables and indexes are created, and the revision is
// stamped, all in one exclusive transaction. It refuses to run while
// another connection has the database open.
func Upgrade(ctx context.Context, path string) (*UpgradeResult, error) {
	objs, err := head(ctx)
	if err != nil {
		return nil, err
	}
	v := url.Values{}
	v.Set("_busy_timeout", "0")
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+v.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer conn.Close()
	res := &UpgradeResult{To: HeadRevision}
	if err := conn.QueryRowContext(ctx, `SELECT version_num FROM alembic_version`).Scan(&res.From); err != nil {
		return nil, fmt.Errorf("%s is not an MLflow database (no alembic_version revision): %w", path, err)
	}
	if res.From == HeadRevision {
		return res, nil
	}
	if !slices.Contains(Chain, res.From) {
		return nil, fmt.Errorf("%s is at MLflow revision %s; mlrun db upgrade starts from a revision between %s (MLflow 2.17.2) and %s: use MLflow's own 'mlflow db upgrade'", path, res.From, MLflow2Revision, HeadRevision)
	}
	// Leaving WAL mode needs the only connection: that is the check that
	// no server or run has the database open. It is put back at the end.
	var mode string
	if err := conn.QueryRowContext(ctx, `PRAGMA journal_mode = DELETE`).Scan(&mode); err != nil || mode != "delete" {
		return nil, fmt.Errorf("another process has %s open (an mlrun server or run?): stop it, then upgrade (%v)", path, errOr(err, "journal mode "+mode))
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA journal_mode = WAL`)
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		return nil, err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `PRAGMA defer_foreign_keys = ON`); err != nil {
		return nil, err
	}
	for _, o := range objs {
		if o.kind != "table" || o.name == "alembic_version" {
			continue
		}
		var have sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`, o.name).Scan(&have)
		switch {
		case err == sql.ErrNoRows:
			if _, err := tx.ExecContext(ctx, o.sql); err != nil {
				return nil, fmt.Errorf("create %s: %w", o.name, err)
			}
			res.Created = append(res.Created, o.name)
		case err != nil:
			return nil, err
		case normalDDL(have.String) != normalDDL(o.sql):
			if err := rebuild(ctx, tx, o); err != nil {
				return nil, fmt.Errorf("upgrade table %s: %w", o.name, err)
			}
			res.Rebuilt = append(res.Rebuilt, o.name)
		}
	}
	for _, o := range objs {
		if o.kind == "index" {
			ddl := strings.Replace(o.sql, "CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
			ddl = strings.Replace(ddl, "CREATE UNIQUE INDEX ", "CREATE UNIQUE INDEX IF NOT EXISTS ", 1)
			if _, err := tx.ExecContext(ctx, ddl); err != nil {
				return nil, fmt.Errorf("create index %s: %w", o.name, err)
			}
		}
	}
	rows, err := tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return nil, err
	}
	bad := rows.Next()
	rows.Close()
	if bad {
		return nil, fmt.Errorf("%s has rows whose foreign keys point nowhere; nothing was changed (PRAGMA foreign_key_check lists them)", path)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE alembic_version SET version_num = ?`, HeadRevision); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit the upgrade: %w", err)
	}
	return res, nil
}

// rebuild re-creates table o with its head definition and copies its
// rows: the columns both definitions have, new ones taking their
// defaults.
func rebuild(ctx context.Context, tx *sql.Tx, o headObject) error {
	have, err := columnsOf(ctx, tx, o.name)
	if err != nil {
		return err
	}
	var common []string
	for _, c := range o.columns {
		if slices.Contains(have, c) {
			common = append(common, `"`+c+`"`)
		}
	}
	const tmp = "mlrun_upgrade_new"
	ddl := createTable.ReplaceAllString(strings.TrimSpace(o.sql), "CREATE TABLE "+tmp)
	cols := strings.Join(common, ", ")
	for _, q := range []string{
		ddl,
		`INSERT INTO ` + tmp + ` (` + cols + `) SELECT ` + cols + ` FROM "` + o.name + `"`,
		`DROP TABLE "` + o.name + `"`,
		`ALTER TABLE ` + tmp + ` RENAME TO "` + o.name + `"`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", strings.SplitN(q, "(", 2)[0], err)
		}
	}
	return nil
}

func errOr(err error, s string) string {
	if err != nil {
		return err.Error()
	}
	return s
}
