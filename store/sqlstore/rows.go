package sqlstore

import (
	"context"
	"database/sql"

	"github.com/mlrun/mlrun/store/search"
)

// collect scans every row with scan and closes rows; a scan error or an
// error met while iterating is returned, never dropped.
func collect[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Strings reads a query's one column of text, row by row, and closes rows.
func Strings(rows *sql.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	return collect(rows, scanString)
}

// scanString scans a one-column row of text.
func scanString(sc interface{ Scan(...any) error }) (string, error) {
	var s string
	err := sc.Scan(&s)
	return s, err
}

// page cuts the result of a query made with LIMIT max+1 OFFSET offset to
// max items, and returns the token of the next page when the extra row
// came back. max <= 0 means the query was not limited.
func page[T any](items []T, max, offset int) ([]T, string) {
	if max <= 0 || len(items) <= max {
		return items, ""
	}
	return items[:max], search.EncodeToken(search.Token{Offset: offset + max})
}

// deleteOne runs a DELETE meant to remove one row, and returns notFound
// when it removed none.
func deleteOne(ctx context.Context, tx *sql.Tx, notFound error, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound
	}
	return nil
}
