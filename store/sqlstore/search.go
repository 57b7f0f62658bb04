package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/search"
)

// sortKey is one column of a runs search's sort order: an SQL expression
// over runs r, its direction, and its bound arguments.
type sortKey struct {
	expr string
	// table, when set, is the table (latest_metrics, params, tags) whose
	// value for the key args[0] is the sort key; expr is then unused.
	table   string
	args    []any
	desc    bool
	notNull bool // the column is NOT NULL
}

// orderTerm renders ORDER BY for the sort key selected as col, NULLs
// last: plain where the database's own NULL order already puts them last
// (SQLite's NULLs sort low, last in DESC; PostgreSQL's high, last in
// ASC), else with NULLS LAST, which PostgreSQL reads off an index
// declared so (mlrun_runs_experiment_order's start_time DESC NULLS LAST)
// where "col IS NULL, col" would make it sort the experiment's runs.
func (k sortKey) orderTerm(col string, nullsLow bool) string {
	dir := "ASC"
	if k.desc {
		dir = "DESC"
	}
	if k.notNull || k.desc == nullsLow {
		return col + " " + dir
	}
	return col + " " + dir + " NULLS LAST"
}

// SearchRuns implements store.Store. Pages are cut by keyset: the token
// holds the sort key of the last run returned, and the next page starts
// strictly after it, so runs added while paging never shift a page and
// every run that existed is returned exactly once.
func (s *Store) SearchRuns(ctx context.Context, q store.SearchRuns) ([]*store.Run, string, error) {
	infos, next, err := s.searchInfos(ctx, q)
	if err != nil {
		return nil, "", err
	}
	runs, err := s.loadRunData(ctx, infos)
	if err != nil {
		return nil, "", fmt.Errorf("search runs: %w", err)
	}
	return runs, next, nil
}

var _ store.RunsStreamer = (*Store)(nil)

// StreamSearchRuns implements store.RunsStreamer: the page's run infos
// are read first (they are small), then their data Config.StreamChunk
// runs at a time (the whole page's at once when it is 0), each run
// handed to fn once its chunk is loaded.
func (s *Store) StreamSearchRuns(ctx context.Context, q store.SearchRuns, fn func(*store.Run) error) (string, error) {
	infos, next, err := s.searchInfos(ctx, q)
	if err != nil {
		return "", err
	}
	chunk := s.streamChunk
	if chunk <= 0 {
		chunk = max(len(infos), 1)
	}
	for start := 0; start < len(infos); start += chunk {
		runs, err := s.loadRunData(ctx, infos[start:min(start+chunk, len(infos))])
		if err != nil {
			return "", fmt.Errorf("search runs: %w", err)
		}
		for _, r := range runs {
			if err := fn(r); err != nil {
				return "", err
			}
		}
	}
	return next, nil
}

// searchInfos returns the infos of a search's page, in order, and the
// next page's token.
func (s *Store) searchInfos(ctx context.Context, q store.SearchRuns) ([]*store.RunInfo, string, error) {
	max, err := maxResults(q.MaxResults)
	if err != nil {
		return nil, "", err
	}
	clauses, err := search.Runs.Parse(q.Filter)
	if err != nil {
		return nil, "", err
	}
	order, err := search.Runs.ParseOrderBy(q.OrderBy)
	if err != nil {
		return nil, "", err
	}
	tok, err := search.DecodeToken(q.PageToken)
	if err != nil {
		return nil, "", err
	}
	parts, keys, err := s.searchQuery(q, clauses, order, tok, max)
	if err != nil {
		return nil, "", err
	}
	var (
		infos []*store.RunInfo
		last  []any
	)
	// The parts in order, until the page and its probe row are there.
	for _, part := range parts {
		if len(infos) > max {
			break
		}
		rows, err := s.r.QueryContext(ctx, part.query, append(part.args, max+1-len(infos))...)
		if err != nil {
			return nil, "", fmt.Errorf("search runs: %w", err)
		}
		for rows.Next() {
			vals := make([]any, len(keys))
			dest := make([]any, 9+len(keys))
			scanner := scanFunc(func(d ...any) error {
				copy(dest, d)
				for i := range vals {
					dest[9+i] = &vals[i]
				}
				return rows.Scan(dest...)
			})
			ri, err := scanRunInfo(scanner)
			if err != nil {
				rows.Close()
				return nil, "", fmt.Errorf("search runs: %w", err)
			}
			if len(infos) < max {
				last = vals
			} // else the probe row: there is a next page
			infos = append(infos, ri)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, "", fmt.Errorf("search runs: %w", err)
		}
	}
	next := ""
	if len(infos) > max {
		infos = infos[:max]
		next = search.EncodeToken(search.Token{After: encodeKeys(last)})
	}
	return infos, next, nil
}

// searchPart is one SQL query of a search; its last argument, the LIMIT,
// is added when it runs.
type searchPart struct {
	query string
	args  []any
}

// searchQuery renders a runs search as SQL queries (with the sort keys)
// that, run in turn, select the page's run infos in order and one more
// row when there is a next page; none when it can match nothing.
//
// Most searches are one query. A search ordered first by a metric is
// two, so that the database can read the order off an index
// (mlrun_latest_metrics_order) and stop at the page's end instead of
// sorting every run of the experiment: the runs that have the metric
// (an inner join, in the metric's order), then the runs without it or
// with NaN, which sort last (an anti-join, in the remaining keys' order).
// A page token past the first part skips it.
func (s *Store) searchQuery(q store.SearchRuns, clauses []search.Clause, order []search.OrderField, tok search.Token, max int) ([]searchPart, []sortKey, error) {
	if len(q.ExperimentIDs) == 0 {
		return nil, nil, nil
	}
	var (
		where []string
		args  []any
	)
	expIDs := make([]any, 0, len(q.ExperimentIDs))
	for _, id := range q.ExperimentIDs {
		n, err := parseExperimentID(id)
		if err != nil {
			continue // names no experiment: matches nothing
		}
		expIDs = append(expIDs, n)
	}
	if len(expIDs) == 0 {
		return nil, nil, nil
	}
	where = append(where, "r.experiment_id IN ("+placeholders(len(expIDs))+")", lifecycleCond("r.lifecycle_stage", q.ViewType))
	args = append(args, expIDs...)
	for _, c := range clauses {
		cond, a := runClause(c)
		where = append(where, cond)
		args = append(args, a...)
	}
	keys := sortKeys(order)
	var keyset string
	var keysetArgs []any
	if tok.After != nil {
		var err error
		if keyset, keysetArgs, err = keysetCond(keys, tok.After); err != nil {
			return nil, nil, err
		}
	}
	if keys[0].table != "latest_metrics" {
		return []searchPart{s.searchPart(keys, where, args, keyset, keysetArgs, "")}, keys, nil
	}
	var parts []searchPart
	if tok.After == nil || tok.After[0] != nil {
		parts = append(parts, s.searchPart(keys, where, args, keyset, keysetArgs, "has"))
	}
	if tok.After == nil || tok.After[0] != nil {
		// Every run without the metric sorts after the token's.
		keyset, keysetArgs = "", nil
	}
	return append(parts, s.searchPart(keys, where, args, keyset, keysetArgs, "lacks")), keys, nil
}

// searchPart renders one query of a search: the runs matching where,
// after the keyset condition (if any), in the keys' order, with a LIMIT
// placeholder. first is "" for all the runs, "has" for only those with
// a value of the first key (joined, not left-joined), "lacks" for only
// those without one (whose first key is NULL, left out of the order).
func (s *Store) searchPart(keys []sortKey, where []string, whereArgs []any, keyset string, keysetArgs []any, first string) searchPart {
	// Select each sort key as o<i> so the keyset condition and ORDER BY
	// use the computed value.
	sel := []string{prefixCols("r.", runCols)}
	var (
		from     = "runs r"
		fromArgs []any
		orderSQL []string
	)
	where = append([]string(nil), where...)
	for i, k := range keys {
		expr := k.expr
		if k.table != "" {
			// A join on the table's primary key (key, run_uuid): at most
			// one row per run, read once per run.
			alias := fmt.Sprintf("k%d", i)
			cond := ""
			if k.table == "latest_metrics" {
				cond = " AND " + alias + ".is_nan = FALSE" // a NaN sorts as missing
			}
			join := "LEFT JOIN"
			if i == 0 && first == "has" {
				join = "JOIN"
				k.notNull = true
			}
			from += fmt.Sprintf(` %s %s %s ON %s.run_uuid = r.run_uuid AND %s."key" = ?%s`, join, k.table, alias, alias, alias, cond)
			fromArgs = append(fromArgs, k.args...)
			expr = alias + ".value"
			if i == 0 && first == "lacks" {
				where = append(where, alias+".run_uuid IS NULL")
			}
		}
		sel = append(sel, fmt.Sprintf("%s AS o%d", expr, i))
		if i == 0 && first == "lacks" {
			continue // NULL in every row
		}
		orderSQL = append(orderSQL, k.orderTerm(fmt.Sprintf("o%d", i), s.d.NullsLow()))
	}
	query := "SELECT * FROM (SELECT " + strings.Join(sel, ", ") + " FROM " + from + " WHERE " + strings.Join(where, " AND ") + ") AS page"
	args := append(fromArgs, whereArgs...)
	if keyset != "" {
		query += " WHERE " + keyset
		args = append(args, keysetArgs...)
	}
	return searchPart{query: query + " ORDER BY " + strings.Join(orderSQL, ", ") + " LIMIT ?", args: args}
}

type scanFunc func(...any) error

func (f scanFunc) Scan(d ...any) error { return f(d...) }

// sortKeys turns order_by fields into SQL sort keys and appends MLflow's
// tie-breakers: start_time DESC (unless ordered already), then run_id.
func sortKeys(order []search.OrderField) []sortKey {
	var keys []sortKey
	hasStart := false
	for _, f := range order {
		k := sortKey{desc: f.Desc}
		switch f.Entity {
		case search.Metric:
			k.table, k.args = "latest_metrics", []any{f.Key} // a NaN sorts as missing
		case search.Param:
			k.table, k.args = "params", []any{f.Key}
		case search.Tag:
			k.table, k.args = "tags", []any{f.Key}
		default:
			k.expr = "r." + runColumn(f.Key)
			hasStart = hasStart || f.Key == "start_time"
		}
		keys = append(keys, k)
	}
	if !hasStart {
		keys = append(keys, sortKey{expr: "r.start_time", desc: true})
	}
	return append(keys, sortKey{expr: "r.run_uuid", notNull: true})
}

// keysetCond renders "strictly after last" over the sort keys, where each
// key sorts NULLs last: the lexicographic comparison of the tuples
// (o_i IS NULL, o_i).
func keysetCond(keys []sortKey, last []any) (string, []any, error) {
	if len(last) != len(keys) {
		return "", nil, store.Invalidf("Invalid page token: it does not match this search's order_by")
	}
	var (
		ors  []string
		args []any
		eqs  []string
		eqA  []any
	)
	for i, k := range keys {
		v, err := tokenValue(last[i])
		if err != nil {
			return "", nil, err
		}
		col := fmt.Sprintf("o%d", i)
		op := ">"
		if k.desc {
			op = "<"
		}
		var gt string
		var gtA []any
		if v == nil {
			// Nothing sorts after a NULL within this key.
			gt = ""
		} else {
			gt = fmt.Sprintf("(%s IS NULL OR %s %s ?)", col, col, op)
			gtA = []any{v}
		}
		if gt != "" {
			ors = append(ors, "("+strings.Join(append(append([]string{}, eqs...), gt), " AND ")+")")
			args = append(append(args, eqA...), gtA...)
		}
		if v == nil {
			eqs = append(eqs, col+" IS NULL")
		} else {
			eqs = append(eqs, col+" = ?")
			eqA = append(eqA, v)
		}
	}
	if len(ors) == 0 {
		return "0=1", nil, nil
	}
	return "(" + strings.Join(ors, " OR ") + ")", args, nil
}

// encodeKeys turns sort key values into typed strings for a page token
// ("i:42", "f:0.5", "f:+Inf", "s:text"; nil stays nil), so that the
// next page compares with the same SQL types and ±Inf survive JSON.
func encodeKeys(vals []any) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		switch v := v.(type) {
		case nil:
		case int64:
			out[i] = "i:" + strconv.FormatInt(v, 10)
		case float64:
			out[i] = "f:" + strconv.FormatFloat(v, 'g', -1, 64)
		case []byte:
			out[i] = "s:" + string(v)
		case string:
			out[i] = "s:" + v
		default:
			out[i] = "s:" + fmt.Sprint(v)
		}
	}
	return out
}

// tokenValue decodes one value written by encodeKeys.
func tokenValue(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	s, ok := v.(string)
	if !ok || len(s) < 2 || s[1] != ':' {
		return nil, store.Invalidf("Invalid page token: malformed sort key")
	}
	switch s[0] {
	case 'i':
		n, err := strconv.ParseInt(s[2:], 10, 64)
		if err != nil {
			return nil, store.Invalidf("Invalid page token: malformed sort key")
		}
		return n, nil
	case 'f':
		f, err := strconv.ParseFloat(s[2:], 64)
		if err != nil {
			return nil, store.Invalidf("Invalid page token: malformed sort key")
		}
		return f, nil
	case 's':
		return s[2:], nil
	}
	return nil, store.Invalidf("Invalid page token: malformed sort key")
}

func runColumn(attr string) string {
	switch attr {
	case "run_id":
		return "run_uuid"
	case "run_name":
		return "name"
	}
	return attr
}

// runClause renders one filter clause over runs r.
func runClause(c search.Clause) (string, []any) {
	switch c.Entity {
	case search.Metric:
		cond, a := compare("m.value", c)
		// A NaN is stored as value 0 (is_nan 1) and compared as 0, as
		// MLflow's SQL does: 'metrics.acc <= 1' includes a NaN acc.
		return `EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run_uuid = r.run_uuid AND m."key" = ? AND ` + cond + `)`, append([]any{c.Key}, a...)
	case search.Param:
		cond, a := compare("p.value", c)
		return `EXISTS (SELECT 1 FROM params p WHERE p.run_uuid = r.run_uuid AND p."key" = ? AND ` + cond + `)`, append([]any{c.Key}, a...)
	case search.Tag:
		cond, a := compare("t.value", c)
		return `EXISTS (SELECT 1 FROM tags t WHERE t.run_uuid = r.run_uuid AND t."key" = ? AND ` + cond + `)`, append([]any{c.Key}, a...)
	case search.Dataset:
		base := `EXISTS (SELECT 1 FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id `
		if c.Key == "context" {
			cond, a := compare("it.value", c)
			return base + `JOIN input_tags it ON it.input_uuid = i.input_uuid AND it.name = 'mlflow.data.context' WHERE i.destination_type = 'RUN' AND i.destination_id = r.run_uuid AND ` + cond + `)`, a
		}
		cond, a := compare("d."+c.Key, c)
		return base + `WHERE i.destination_type = 'RUN' AND i.destination_id = r.run_uuid AND ` + cond + `)`, a
	}
	return compare("r."+runColumn(c.Key), c)
}
