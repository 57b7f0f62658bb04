package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// copyOrder is MLflow's tables, parents before children, so rows can be
// inserted with foreign keys checked as they go (PostgreSQL's are not
// deferrable). Tables a database has beyond these are copied after them.
var copyOrder = []string{
	"experiments", "experiment_tags", "runs", "tags", "params", "metrics", "latest_metrics",
	"datasets", "inputs", "input_tags",
	"registered_models", "registered_model_tags", "model_versions", "model_version_tags", "registered_model_aliases",
	"trace_info", "trace_tags", "trace_request_metadata",
	"logged_models", "logged_model_params", "logged_model_tags", "logged_model_metrics",
	"assessments", "spans", "entity_associations",
	"webhooks", "webhook_events", "scorers", "scorer_versions",
	"evaluation_datasets", "evaluation_dataset_tags", "evaluation_dataset_records", "jobs",
}

// generated are columns a database computes itself, never inserted.
var generated = map[string][]string{"spans": {"duration_ns"}}

// CopyStats counts what Copy copied, by table.
type CopyStats map[string]int64

// Core returns the shared SQL store under a database's own store.
func (s *Store) Core() *Store { return s }

// Copy copies every row of src's MLflow tables into dst, keeping ids,
// times and links, in one transaction on dst: it all lands or nothing
// does. dst must be empty (its Default experiment, with no runs, is
// replaced by src's). A column src lacks (an older revision) gets dst's
// default; one dst lacks is an error. Values are converted where the
// databases' types differ (SQLite's 0/1 to PostgreSQL's booleans).
func Copy(ctx context.Context, src, dst *Store) (CopyStats, error) {
	var busy int
	if err := dst.r.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM runs) + (SELECT count(*) FROM experiments WHERE experiment_id <> 0) + (SELECT count(*) FROM registered_models)`).Scan(&busy); err != nil {
		return nil, fmt.Errorf("check the destination: %w", err)
	}
	if busy > 0 {
		return nil, fmt.Errorf("the destination is not empty (it has experiments, runs or registered models): copy into a new database")
	}
	tables := append([]string(nil), copyOrder...)
	stats := CopyStats{}
	// One read transaction on the source: the copy is of one moment even
	// while it is written to.
	stx, err := src.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer stx.Rollback()
	err = dst.tryTx(ctx, nil, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM experiment_tags WHERE experiment_id = 0`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM experiments WHERE experiment_id = 0`); err != nil {
			return err
		}
		for _, t := range tables {
			srcCols, err := src.d.Columns(ctx, stx, t)
			if err != nil {
				return err
			}
			if len(srcCols) == 0 {
				continue // an older revision: the table came later
			}
			dstCols, err := dst.d.Columns(ctx, tx, t)
			if err != nil {
				return err
			}
			var cols []string
			for _, c := range srcCols {
				if slices.Contains(generated[t], c) {
					continue
				}
				if !slices.Contains(dstCols, c) {
					return fmt.Errorf("table %s: the destination has no column %s (is it at an older MLflow revision than the source?)", t, c)
				}
				cols = append(cols, c)
			}
			n, err := copyTable(ctx, stx, tx, t, cols)
			if err != nil {
				return fmt.Errorf("copy %s: %w", t, err)
			}
			stats[t] = n
		}
		return dst.d.AfterCopy(ctx, tx)
	})
	if err != nil {
		return nil, err
	}
	return stats, nil
}

// copyTable streams one table's rows into tx.
func copyTable(ctx context.Context, src, tx *sql.Tx, table string, cols []string) (int64, error) {
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = `"` + c + `"`
	}
	list := strings.Join(quoted, ", ")
	rows, err := src.QueryContext(ctx, `SELECT `+list+` FROM "`+table+`"`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	// The destination's types decide conversions.
	probe, err := tx.QueryContext(ctx, `SELECT `+list+` FROM "`+table+`" WHERE 1 = 0`)
	if err != nil {
		return 0, err
	}
	types, err := probe.ColumnTypes()
	probe.Close()
	if err != nil {
		return 0, err
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO "`+table+`" (`+list+`) VALUES (`+placeholders(len(cols))+`)`)
	if err != nil {
		return 0, err
	}
	defer ins.Close()
	var n int64
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		for i, v := range vals {
			vals[i] = convert(v, types[i].DatabaseTypeName())
		}
		if _, err := ins.ExecContext(ctx, vals...); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// convert adapts a value read from one database to a column of the other.
func convert(v any, dstType string) any {
	switch dstType {
	case "BOOL", "BOOLEAN":
		switch x := v.(type) {
		case int64:
			return x != 0
		case string:
			return x == "1" || strings.EqualFold(x, "true")
		}
	case "JSON", "JSONB":
		if b, ok := v.([]byte); ok {
			return string(b)
		}
	}
	if b, ok := v.([]byte); ok {
		return string(b) // TEXT read as bytes
	}
	return v
}
