package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"strings"

	"github.com/mlrun/mlrun/store"
)

// rowsPerInsert is how many rows one multi-row statement carries (at
// most 6 parameters each: far below SQLite's and PostgreSQL's limits).
const rowsPerInsert = 250

// insertRows runs head + VALUES tuples + tail over args, width
// parameters a row, rowsPerInsert rows a statement, and returns how many
// rows the statements changed.
func insertRows(ctx context.Context, tx *sql.Tx, head, tuple, tail string, width int, args []any) (int64, error) {
	var n int64
	for start := 0; start < len(args); start += width * rowsPerInsert {
		chunk := args[start:min(start+width*rowsPerInsert, len(args))]
		res, err := tx.ExecContext(ctx, head+strings.TrimSuffix(strings.Repeat(tuple+", ", len(chunk)/width), ", ")+tail, chunk...)
		if err != nil {
			return n, err
		}
		c, err := res.RowsAffected()
		if err != nil {
			return n, err
		}
		n += c
	}
	return n, nil
}

// runPoint is a metric point of a run.
type runPoint struct {
	run string
	point
}

// insertMetrics writes points (a point already there is kept) and keeps
// latest_metrics with one upsert per (run, key): a row is replaced only
// by a later point by (step, timestamp, value), as MLflow decides (a
// NULL timestamp counts as 0).
func insertMetrics(ctx context.Context, tx *sql.Tx, pts []runPoint) error {
	if len(pts) == 0 {
		return nil
	}
	args := make([]any, 0, 6*len(pts))
	type runKey struct{ run, key string }
	latest := map[runKey]point{}
	var order []runKey
	for _, p := range pts {
		args = append(args, p.key, p.value, p.timestamp, p.run, p.step, p.isNaN)
		k := runKey{p.run, p.key}
		cur, ok := latest[k]
		if !ok {
			order = append(order, k)
		}
		if !ok || p.after(cur) {
			latest[k] = p.point
		}
	}
	if _, err := insertRows(ctx, tx, `INSERT INTO metrics ("key", value, timestamp, run_uuid, step, is_nan) VALUES `,
		"(?, ?, ?, ?, ?, ?)", ` ON CONFLICT DO NOTHING`, 6, args); err != nil {
		return err
	}
	args = args[:0]
	for _, k := range order {
		p := latest[k]
		args = append(args, k.key, p.value, p.timestamp, p.step, p.isNaN, k.run)
	}
	_, err := insertRows(ctx, tx, `INSERT INTO latest_metrics ("key", value, timestamp, step, is_nan, run_uuid) VALUES `,
		"(?, ?, ?, ?, ?, ?)", ` ON CONFLICT ("key", run_uuid) DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp, step = excluded.step, is_nan = excluded.is_nan
		WHERE (excluded.step, excluded.timestamp, excluded.value) > (latest_metrics.step, COALESCE(latest_metrics.timestamp, 0), latest_metrics.value)`, 6, args)
	return err
}

// insertParams writes params as (key, value, run) triples in args,
// keeping a param already there, and reports whether every one was new.
func insertParams(ctx context.Context, tx *sql.Tx, args []any) (bool, error) {
	n, err := insertRows(ctx, tx, `INSERT INTO params ("key", value, run_uuid) VALUES `, "(?, ?, ?)", ` ON CONFLICT DO NOTHING`, 3, args)
	return err == nil && n == int64(len(args)/3), err
}

// tagSet is tags to set on runs, in the order they were given: a (run,
// key) given twice keeps its last value, as one upsert after the other
// would (and a statement may not touch a row twice on PostgreSQL).
type tagSet struct {
	last  map[[2]string]string
	order [][2]string
}

func (ts *tagSet) add(run string, tags []store.Tag) {
	if ts.last == nil {
		ts.last = map[[2]string]string{}
	}
	for _, t := range tags {
		k := [2]string{run, t.Key}
		if _, ok := ts.last[k]; !ok {
			ts.order = append(ts.order, k)
		}
		ts.last[k] = t.Value
	}
}

// settled returns tags as setting them one after the other leaves them:
// a key given twice keeps its last value; by key.
func settled(tags []store.Tag) []store.Tag {
	var ts tagSet
	ts.add("", tags)
	out := make([]store.Tag, len(ts.order))
	for i, k := range ts.order {
		out[i] = store.Tag{Key: k[1], Value: ts.last[k]}
	}
	slices.SortFunc(out, func(a, b store.Tag) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// write upserts the tags; a run whose mlflow.runName is set is renamed.
func (ts *tagSet) write(ctx context.Context, tx *sql.Tx, rename bool) error {
	if len(ts.order) == 0 {
		return nil
	}
	args := make([]any, 0, 3*len(ts.order))
	for _, k := range ts.order {
		args = append(args, k[1], ts.last[k], k[0])
	}
	if _, err := insertRows(ctx, tx, `INSERT INTO tags ("key", value, run_uuid) VALUES `, "(?, ?, ?)",
		` ON CONFLICT ("key", run_uuid) DO UPDATE SET value = excluded.value`, 3, args); err != nil {
		return err
	}
	if !rename {
		return nil
	}
	for _, k := range ts.order {
		if k[1] == tagRunName {
			if _, err := tx.ExecContext(ctx, `UPDATE runs SET name = ? WHERE run_uuid = ?`, ts.last[k], k[0]); err != nil {
				return err
			}
		}
	}
	return nil
}
