package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/search"
)

var _ store.Traces = (*Store)(nil)

// traceStatuses are TraceStatus's names by number.
var traceStatuses = map[string]string{"0": "TRACE_STATUS_UNSPECIFIED", "1": "OK", "2": "ERROR", "3": "IN_PROGRESS"}

// traceStatus reads v2 status names and numbers, and v3 state names
// (STATE_UNSPECIFIED is v2's TRACE_STATUS_UNSPECIFIED).

func traceStatus(s string) string {
	if n, ok := traceStatuses[s]; ok {
		return n
	}
	for _, n := range traceStatuses {
		if n == s {
			return s
		}
	}
	return "TRACE_STATUS_UNSPECIFIED"
}

func traceNotFound(id string) error {
	return store.NotFoundf("Trace with request_id '%s' not found.", id)
}

func (s *Store) traceInfo(ctx context.Context, q querier, id string) (*store.TraceInfo, error) {
	t := &store.TraceInfo{RequestID: id}
	var exp int64
	var exec sql.NullInt64
	var status sql.NullString
	err := q.QueryRowContext(ctx, `SELECT experiment_id, timestamp_ms, execution_time_ms, status FROM trace_info WHERE request_id = ?`, id).Scan(&exp, &t.TimestampMs, &exec, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, traceNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("get trace %s: %w", id, err)
	}
	t.ExperimentID, t.ExecutionTimeMs, t.Status = strconv.FormatInt(exp, 10), exec.Int64, status.String
	if s.tracesV3 {
		var cid, reqp, resp sql.NullString
		if err := q.QueryRowContext(ctx, `SELECT client_request_id, request_preview, response_preview FROM trace_info WHERE request_id = ?`, id).Scan(&cid, &reqp, &resp); err != nil {
			return nil, fmt.Errorf("get trace %s: %w", id, err)
		}
		t.ClientRequestID, t.RequestPreview, t.ResponsePreview = cid.String, reqp.String, resp.String
	}
	if t.RequestMetadata, err = kvRows(ctx, q, `SELECT "key", value FROM trace_request_metadata WHERE request_id = ? ORDER BY `+s.d.RowOrder(), id); err != nil {
		return nil, err
	}
	if t.Tags, err = kvRows(ctx, q, `SELECT "key", value FROM trace_tags WHERE request_id = ? ORDER BY `+s.d.RowOrder(), id); err != nil {
		return nil, err
	}
	return t, nil
}

// upsertTraceKV writes key/value rows of a trace (tags or metadata) in
// place, so a key keeps its position.
func upsertTraceKV(ctx context.Context, tx *sql.Tx, table, id string, kvs []store.Tag) error {
	for _, kv := range kvs {
		res, err := tx.ExecContext(ctx, `UPDATE `+table+` SET value = ? WHERE request_id = ? AND "key" = ?`, kv.Value, id, kv.Key)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` ("key", value, request_id) VALUES (?, ?, ?)`, kv.Key, kv.Value, id); err != nil {
				return err
			}
		}
	}
	return nil
}

// StartTrace implements store.Traces: an IN_PROGRESS trace in an active
// experiment, tagged with where its data goes
// (<artifact location>/traces/<request_id>/artifacts).
func (s *Store) StartTrace(ctx context.Context, experimentID string, timestampMs int64, metadata, tags []store.Tag) (*store.TraceInfo, error) {
	if experimentID == "" {
		return nil, store.Invalidf("Missing value for required parameter 'experiment_id'.")
	}
	for _, t := range tags {
		if t.Key == store.TagTraceArtifactLocation {
			return nil, store.Invalidf("The tag '%s' is set by the server; a client cannot set it", t.Key)
		}
	}
	var out *store.TraceInfo
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		e, err := s.getExperiment(ctx, tx, experimentID)
		if err != nil {
			return err
		}
		if e.LifecycleStage != store.LifecycleActive {
			return store.Invalidf("The experiment %s must be in the 'active' state. Current state is %s.", e.ID, e.LifecycleStage)
		}
		id := newID()
		if _, err := tx.ExecContext(ctx, `INSERT INTO trace_info (request_id, experiment_id, timestamp_ms, execution_time_ms, status) VALUES (?, ?, ?, NULL, 'IN_PROGRESS')`, id, e.ID, timestampMs); err != nil {
			return err
		}
		if err := upsertTraceKV(ctx, tx, "trace_request_metadata", id, metadata); err != nil {
			return err
		}
		all := append(append([]store.Tag(nil), tags...), store.Tag{Key: store.TagTraceArtifactLocation, Value: joinURI(e.ArtifactLocation, "traces/"+id+"/artifacts")})
		if err := upsertTraceKV(ctx, tx, "trace_tags", id, all); err != nil {
			return err
		}
		out, err = s.traceInfo(ctx, tx, id)
		return err
	})
	return out, wrap("start trace", err)
}

// EndTrace implements store.Traces: the status, the execution time from
// the start, and metadata and tags upserted by key.
func (s *Store) EndTrace(ctx context.Context, id string, timestampMs int64, status string, metadata, tags []store.Tag) (*store.TraceInfo, error) {
	var out *store.TraceInfo
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		t, err := s.traceInfo(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE trace_info SET execution_time_ms = ?, status = ? WHERE request_id = ?`, timestampMs-t.TimestampMs, traceStatus(status), id); err != nil {
			return err
		}
		if err := upsertTraceKV(ctx, tx, "trace_request_metadata", id, metadata); err != nil {
			return err
		}
		if err := upsertTraceKV(ctx, tx, "trace_tags", id, tags); err != nil {
			return err
		}
		out, err = s.traceInfo(ctx, tx, id)
		return err
	})
	return out, wrap("end trace", err)
}

// GetTraceInfo implements store.Traces.
func (s *Store) GetTraceInfo(ctx context.Context, id string) (*store.TraceInfo, error) {
	return s.traceInfo(ctx, s.r, id)
}

// SetTraceTag implements store.Traces (run-tag key rules, value cut to
// 8,000 characters as MLflow's).
func (s *Store) SetTraceTag(ctx context.Context, id, key, value string) error {
	if key == "" {
		return store.Invalidf("Missing value for required parameter 'key'.")
	}
	if err := store.ValidateKey("tag", key); err != nil {
		return err
	}
	if utf8.RuneCountInString(value) > store.Limits.RunTagValueLength {
		value = string([]rune(value)[:store.Limits.RunTagValueLength])
	}
	return wrap("set trace tag", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.traceInfo(ctx, tx, id); err != nil {
			return err
		}
		return upsertTraceKV(ctx, tx, "trace_tags", id, []store.Tag{{Key: key, Value: value}})
	}))
}

// DeleteTraceTag implements store.Traces.
func (s *Store) DeleteTraceTag(ctx context.Context, id, key string) error {
	if key == "" {
		return store.Invalidf("Missing value for required parameter 'key'.")
	}
	return wrap("delete trace tag", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return deleteOne(ctx, tx, store.NotFoundf("No trace tag with key '%s' for trace with request_id '%s'", key, id), `DELETE FROM trace_tags WHERE request_id = ? AND "key" = ?`, id, key)
	}))
}

// DeleteTraces implements store.Traces with MLflow's checks; a zero
// max_timestamp_millis deletes only traces at time 0 (MLflow's SQL store
// deletes every trace of the experiment there).
func (s *Store) DeleteTraces(ctx context.Context, q store.DeleteTraces) (int, error) {
	switch {
	case q.ExperimentID == "":
		return 0, store.Invalidf("Missing value for required parameter 'experiment_id'.")
	case q.MaxTimestampMs == nil && len(q.RequestIDs) == 0:
		return 0, store.Invalidf("Either `max_timestamp_millis` or `request_ids` must be specified.")
	case q.MaxTimestampMs != nil && len(q.RequestIDs) > 0:
		return 0, store.Invalidf("Only one of `max_timestamp_millis` and `request_ids` can be specified.")
	case q.MaxTraces != nil && len(q.RequestIDs) > 0:
		return 0, store.Invalidf("`request_ids` can't be specified with `max_traces`.")
	case q.MaxTraces != nil && *q.MaxTraces <= 0:
		return 0, store.Invalidf("`max_traces` must be a positive integer, received %d.", *q.MaxTraces)
	}
	exp, err := parseExperimentID(q.ExperimentID)
	if err != nil {
		return 0, store.Invalidf("Invalid experiment ID: '%s'", q.ExperimentID)
	}
	var n int64
	err = s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var ids []any
		if len(q.RequestIDs) > 0 {
			for _, id := range q.RequestIDs {
				ids = append(ids, id)
			}
		} else {
			query := `SELECT request_id FROM trace_info WHERE experiment_id = ? AND timestamp_ms <= ? ORDER BY timestamp_ms, request_id`
			args := []any{exp, *q.MaxTimestampMs}
			if q.MaxTraces != nil {
				query += ` LIMIT ?`
				args = append(args, *q.MaxTraces)
			}
			rows, err := tx.QueryContext(ctx, query, args...)
			if err != nil {
				return err
			}
			got, err := collect(rows, scanString)
			if err != nil {
				return err
			}
			for _, id := range got {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			return nil
		}
		in := placeholders(len(ids))
		for _, t := range []string{"trace_tags", "trace_request_metadata"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE request_id IN (SELECT request_id FROM trace_info WHERE experiment_id = ? AND request_id IN (`+in+`))`, append([]any{exp}, ids...)...); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM trace_info WHERE experiment_id = ? AND request_id IN (`+in+`)`, append([]any{exp}, ids...)...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), wrap("delete traces", err)
}

// traceKV is the value of a trace's tag or metadata key, for filters and
// orders.
func traceKV(table string) string {
	return `(SELECT kv.value FROM ` + table + ` kv WHERE kv.request_id = t.request_id AND kv."key" = ?)`
}

// traceClause renders one filter clause over trace_info t (MLflow 3.6's
// trace grammar). A tag or metadata clause matches only traces that have
// the key, != included; a span, feedback or expectation clause matches a
// trace that has one such that matches (feedback and expectations by
// name, valid ones only, a string value compared without its quotes);
// text matches the content of any of its spans.
func (s *Store) traceClause(c search.Clause) (string, []any, error) {
	cmp := func(col string, v any) (string, []any, error) {
		switch c.Op {
		case "IN", "NOT IN":
			var args []any
			for _, x := range c.List {
				args = append(args, x)
			}
			return col + " " + c.Op + " (" + placeholders(len(args)) + ")", args, nil
		case "ILIKE":
			return "lower(" + col + ") LIKE lower(?)", []any{c.Str}, nil
		case "RLIKE":
			if _, err := regexp.Compile(c.Str); err != nil {
				return "", nil, store.Invalidf("Invalid regular expression '%s' for RLIKE: %v", c.Str, err)
			}
			return s.d.Regexp(col), []any{c.Str}, nil
		}
		return col + " " + c.Op + " ?", []any{v}, nil
	}
	keyed := func(key any, col string) (string, []any, error) {
		q, a, err := cmp(col, c.Str)
		return q, append([]any{key}, a...), err
	}
	switch c.Entity {
	case search.Tag:
		return keyed(c.Key, traceKV("trace_tags"))
	case search.Metadata:
		return keyed(c.Key, traceKV("trace_request_metadata"))
	case search.Span:
		if !s.spans {
			return "0=1", nil, nil
		}
		var q string
		var a []any
		var err error
		switch {
		case strings.HasPrefix(c.Key, "attributes."):
			q, a, err = cmp(s.d.JSONAttr("sp.content"), c.Str)
			a = append([]any{strings.TrimPrefix(c.Key, "attributes.")}, a...)
		default: // name, type, status, content
			q, a, err = cmp("sp."+c.Key, c.Str)
		}
		return `EXISTS (SELECT 1 FROM spans sp WHERE sp.trace_id = t.request_id AND ` + q + `)`, a, err
	case search.Feedback, search.Expectation:
		if !s.assessments {
			return "0=1", nil, nil
		}
		q, a, err := cmp(`(CASE WHEN a.value LIKE '"%' THEN substr(a.value, 2, length(a.value) - 2) ELSE a.value END)`, c.Str)
		return `EXISTS (SELECT 1 FROM assessments a WHERE a.trace_id = t.request_id AND a.assessment_type = ? AND a.name = ? AND a.valid = ? AND ` + q + `)`,
			append([]any{c.Entity, c.Key, true}, a...), err
	}
	switch c.Key {
	case "name":
		return keyed("mlflow.traceName", traceKV("trace_tags"))
	case "run_id":
		q, a, err := keyed("mlflow.sourceRun", traceKV("trace_request_metadata"))
		if c.Op == "=" && s.associations {
			// A trace linked to the run (traces/link-to-run) matches too.
			return `(` + q + ` OR EXISTS (SELECT 1 FROM entity_associations ea WHERE ea.source_type = 'trace' AND ea.source_id = t.request_id AND ea.destination_type = 'run' AND ea.destination_id = ?))`, append(a, c.Str), err
		}
		return q, a, err
	case "timestamp_ms", "execution_time_ms":
		return cmp("t."+c.Key, int64(c.Num))
	case "end_time_ms":
		return cmp("(t.timestamp_ms + t.execution_time_ms)", int64(c.Num))
	case "client_request_id":
		if !s.tracesV3 {
			return "0=1", nil, nil
		}
		return cmp("t.client_request_id", c.Str)
	case "text":
		if !s.spans {
			return "0=1", nil, nil
		}
		q, a, err := cmp("sp.content", c.Str)
		return `EXISTS (SELECT 1 FROM spans sp WHERE sp.trace_id = t.request_id AND ` + q + `)`, a, err
	case "prompt":
		name, version, ok := strings.Cut(c.Str, "/")
		if !ok || name == "" || version == "" {
			return "", nil, store.Invalidf("Invalid prompt filter value '%s': expected 'name/version'", c.Str)
		}
		// The tag mlflow.linkedPrompts, as mlrun writes it and as Python's
		// json.dumps does.
		esc := func(v string) string { return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(v) }
		n, _ := json.Marshal(name)
		v, _ := json.Marshal(version)
		return `(` + traceKV("trace_tags") + ` LIKE ? ESCAPE '\' OR ` + traceKV("trace_tags") + ` LIKE ? ESCAPE '\')`,
			[]any{store.TagLinkedPrompts, "%" + esc(`{"name":`+string(n)+`,"version":`+string(v)+`}`) + "%",
				store.TagLinkedPrompts, "%" + esc(`{"name": `+string(n)+`, "version": `+string(v)+`}`) + "%"}, nil
	}
	return cmp("t."+c.Key, c.Str)
}

// traceWhere renders the conditions on trace_info t of a search: in one
// of the experiments, and matching every filter (each parsed on its own);
// nil when no experiment id is valid.
func (s *Store) traceWhere(experimentIDs []string, filters ...string) ([]string, []any, error) {
	var exps []any
	for _, id := range experimentIDs {
		if n, err := parseExperimentID(id); err == nil {
			exps = append(exps, n)
		}
	}
	if len(exps) == 0 {
		return nil, nil, nil
	}
	where := []string{`t.experiment_id IN (` + placeholders(len(exps)) + `)`}
	args := exps
	for _, filter := range filters {
		clauses, err := search.Traces.Parse(filter)
		if err != nil {
			return nil, nil, err
		}
		seen := map[string]bool{}
		for _, c := range clauses {
			k := c.Entity + "." + c.Key
			if seen[k] {
				return nil, nil, store.Invalidf("Two clauses on '%s' in one trace filter are not supported", c.Key)
			}
			seen[k] = true
			cond, a, err := s.traceClause(c)
			if err != nil {
				return nil, nil, err
			}
			where = append(where, cond)
			args = append(args, a...)
		}
	}
	return where, args, nil
}

var _ store.TraceCounter = (*Store)(nil)

// CountTraces implements store.TraceCounter.
func (s *Store) CountTraces(ctx context.Context, experimentIDs []string, filters ...string) (int64, error) {
	where, args, err := s.traceWhere(experimentIDs, filters...)
	if err != nil || where == nil {
		return 0, err
	}
	var n int64
	err = s.r.QueryRowContext(ctx, `SELECT count(*) FROM trace_info t WHERE `+strings.Join(where, " AND "), args...).Scan(&n)
	return n, wrap("count traces", err)
}

// traceOrder renders order_by: attributes, experiment_id, name, run_id,
// tag.<k>, metadata.<k>; then timestamp_ms DESC and request_id.
func traceOrder(fields []string) (string, []any, error) {
	var by []string
	var args []any
	seen := map[string]bool{}
	for _, f := range fields {
		f = strings.TrimSpace(f)
		dir := "ASC"
		if i := strings.LastIndexByte(f, ' '); i > 0 {
			switch d := strings.ToUpper(strings.TrimSpace(f[i+1:])); d {
			case "ASC", "DESC":
				dir, f = d, strings.TrimSpace(f[:i])
			}
		}
		f = strings.ReplaceAll(f, "`", "")
		var expr string
		switch {
		case strings.HasPrefix(f, "tag.") || strings.HasPrefix(f, "tags."):
			expr = traceKV("trace_tags")
			args = append(args, f[strings.IndexByte(f, '.')+1:])
		case strings.HasPrefix(f, "metadata.") || strings.HasPrefix(f, "request_metadata."):
			expr = traceKV("trace_request_metadata")
			args = append(args, f[strings.IndexByte(f, '.')+1:])
		default:
			key := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(f, "attributes."), "attribute."), "trace.")
			switch key {
			case "timestamp", "timestamp_ms":
				expr, key = "t.timestamp_ms", "timestamp_ms"
			case "execution_time", "execution_time_ms":
				expr = "t.execution_time_ms"
			case "request_id", "status", "experiment_id":
				expr = "t." + key
			case "name":
				expr = traceKV("trace_tags")
				args = append(args, "mlflow.traceName")
			case "run_id":
				expr = traceKV("trace_request_metadata")
				args = append(args, "mlflow.sourceRun")
			default:
				return "", nil, store.Invalidf("Invalid order_by entity: '%s'", f)
			}
			seen[key] = true
		}
		if strings.Contains(expr, "?") { // used twice below: its key twice
			args = append(args, args[len(args)-1])
		}
		by = append(by, expr+" IS NULL", expr+" "+dir)
	}
	if !seen["timestamp_ms"] {
		by = append(by, "t.timestamp_ms DESC")
	}
	if !seen["request_id"] {
		by = append(by, "t.request_id ASC")
	}
	return strings.Join(by, ", "), args, nil
}

// SearchTraces implements store.Traces: MLflow's v2 grammar, offset
// paging with a token whenever a page is full.
func (s *Store) SearchTraces(ctx context.Context, q store.SearchTraces) ([]*store.TraceInfo, string, error) {
	if len(q.ExperimentIDs) == 0 {
		return nil, "", store.Invalidf("Missing value for required parameter 'experiment_ids'. See the API docs for more information about request parameters.")
	}
	if q.MaxResults == 0 {
		q.MaxResults = 100
	}
	if q.MaxResults < 1 {
		return nil, "", store.Invalidf("Invalid value for request parameter max_results. It must be a positive integer, but got %d", q.MaxResults)
	}
	if q.MaxResults > 500 {
		return nil, "", store.Invalidf("Invalid value for request parameter max_results. It must be at most 500, but got value %d", q.MaxResults)
	}
	tok, err := search.DecodeToken(q.PageToken)
	if err != nil {
		return nil, "", err
	}
	where, args, err := s.traceWhere(q.ExperimentIDs, q.Filter)
	if err != nil || where == nil {
		return nil, "", err
	}
	order, oargs, err := traceOrder(q.OrderBy)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT t.request_id FROM trace_info t WHERE `+strings.Join(where, " AND ")+
		` ORDER BY `+order+` LIMIT ? OFFSET ?`, append(append(args, oargs...), q.MaxResults, tok.Offset)...)
	if err != nil {
		return nil, "", fmt.Errorf("search traces: %w", err)
	}
	ids, err := collect(rows, scanString)
	if err != nil {
		return nil, "", fmt.Errorf("search traces: %w", err)
	}
	var out []*store.TraceInfo
	for _, id := range ids {
		t, err := s.traceInfo(ctx, s.r, id)
		if err != nil {
			return nil, "", err
		}
		out = append(out, t)
	}
	next := ""
	if len(ids) == q.MaxResults {
		next = search.EncodeToken(search.Token{Offset: tok.Offset + len(ids)})
	}
	return out, next, nil
}

// PutTrace implements store.Traces (MLflow 3's StartTraceV3): an upsert
// under the client's trace id in an active experiment; the server's
// mlflow.artifactLocation tag is added once and never taken from the
// client. Spans are not taken here: the client uploads traces.json, or
// sends them by OTLP (LogSpans).
func (s *Store) PutTrace(ctx context.Context, t store.TraceInfo) (*store.TraceInfo, error) {
	if t.RequestID == "" {
		return nil, store.Invalidf("Missing value for required parameter 'trace_id'.")
	}
	if len(t.RequestID) > 50 {
		return nil, store.Invalidf("Invalid trace id '%.60s': at most 50 characters", t.RequestID)
	}
	if t.ExperimentID == "" {
		return nil, store.Invalidf("Missing value for required parameter 'trace_location.mlflow_experiment.experiment_id'.")
	}
	var out *store.TraceInfo
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		out, err = s.putTrace(ctx, tx, t)
		return err
	})
	return out, wrap("put trace", err)
}

// putTrace is PutTrace in a transaction.
func (s *Store) putTrace(ctx context.Context, tx *sql.Tx, t store.TraceInfo) (*store.TraceInfo, error) {
	e, err := s.getExperiment(ctx, tx, t.ExperimentID)
	if err != nil {
		return nil, err
	}
	if e.LifecycleStage != store.LifecycleActive {
		return nil, store.Invalidf("The experiment %s must be in the 'active' state. Current state is %s.", e.ID, e.LifecycleStage)
	}
	// A trace stays in its experiment: MLflow's merge would move it to the
	// one named now, so that an id alone (EDIT on any experiment) would
	// reach every trace.
	var was string
	switch err := tx.QueryRowContext(ctx, `SELECT experiment_id FROM trace_info WHERE request_id = ?`, t.RequestID).Scan(&was); {
	case err == nil && was != e.ID:
		return nil, store.Invalidf("Trace %s belongs to experiment %s, not %s.", t.RequestID, was, e.ID)
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return nil, err
	}
	status := traceStatus(t.Status)
	res, err := tx.ExecContext(ctx, `UPDATE trace_info SET timestamp_ms = ?, execution_time_ms = ?, status = ? WHERE request_id = ?`,
		t.TimestampMs, t.ExecutionTimeMs, status, t.RequestID)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO trace_info (request_id, experiment_id, timestamp_ms, execution_time_ms, status) VALUES (?, ?, ?, ?, ?)`,
			t.RequestID, e.ID, t.TimestampMs, t.ExecutionTimeMs, status); err != nil {
			return nil, err
		}
	}
	if s.tracesV3 {
		if _, err := tx.ExecContext(ctx, `UPDATE trace_info SET client_request_id = ?, request_preview = ?, response_preview = ? WHERE request_id = ?`,
			nullIfEmpty(t.ClientRequestID), nullIfEmpty(t.RequestPreview), nullIfEmpty(t.ResponsePreview), t.RequestID); err != nil {
			return nil, err
		}
	}
	if err := upsertTraceKV(ctx, tx, "trace_request_metadata", t.RequestID, t.RequestMetadata); err != nil {
		return nil, err
	}
	var tags []store.Tag
	for _, tg := range t.Tags {
		if tg.Key != store.TagTraceArtifactLocation {
			tags = append(tags, tg)
		}
	}
	var has int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM trace_tags WHERE request_id = ? AND "key" = ?`, t.RequestID, store.TagTraceArtifactLocation).Scan(&has); err != nil {
		return nil, err
	}
	if has == 0 {
		tags = append(tags, store.Tag{Key: store.TagTraceArtifactLocation, Value: joinURI(e.ArtifactLocation, "traces/"+t.RequestID+"/artifacts")})
	}
	if err := upsertTraceKV(ctx, tx, "trace_tags", t.RequestID, tags); err != nil {
		return nil, err
	}
	return s.traceInfo(ctx, tx, t.RequestID)
}

// LinkTracesToRun implements store.Traces: rows (trace → run) in MLflow
// 3's entity_associations, once each.
func (s *Store) LinkTracesToRun(ctx context.Context, traceIDs []string, runID string) error {
	if !s.associations {
		return store.Errorf(store.ErrUnsupported, "linking traces to runs needs MLflow 3's tables, and this database is at MLflow revision %s: upgrade it with 'mlrun db upgrade'", s.revision)
	}
	if runID == "" {
		return store.Invalidf("Missing value for required parameter 'run_id'.")
	}
	if len(traceIDs) > 100 {
		return store.Invalidf("Cannot link more than 100 traces to a run in a single request. Provided %d traces.", len(traceIDs))
	}
	return wrap("link traces to run", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.runInfo(ctx, tx, runID); err != nil {
			return err
		}
		for _, id := range traceIDs {
			if _, err := s.traceInfo(ctx, tx, id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO entity_associations (association_id, source_type, source_id, destination_type, destination_id, created_time) VALUES (?, 'trace', ?, 'run', ?, ?) ON CONFLICT DO NOTHING`,
				newID(), id, runID, nowMillis()); err != nil {
				return err
			}
		}
		return nil
	}))
}

// LinkPromptsToTrace implements store.Traces as MLflow's client updates
// the tag: the versions not listed yet are appended, in one transaction.
func (s *Store) LinkPromptsToTrace(ctx context.Context, traceID string, prompts []store.PromptVersionRef) error {
	for _, p := range prompts {
		if p.Name == "" || p.Version == "" {
			return store.Invalidf("Each prompt version to link needs a name and a version.")
		}
	}
	return wrap("link prompts to trace", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.traceInfo(ctx, tx, traceID); err != nil {
			return err
		}
		var cur sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT value FROM trace_tags WHERE request_id = ? AND "key" = ?`, traceID, store.TagLinkedPrompts).Scan(&cur)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var linked []store.PromptVersionRef
		if cur.String != "" {
			if err := json.Unmarshal([]byte(cur.String), &linked); err != nil {
				return store.Invalidf("Invalid format for '%s' tag: %s", store.TagLinkedPrompts, cur.String)
			}
		}
		added := false
		for _, p := range prompts {
			if !slices.Contains(linked, p) {
				linked, added = append(linked, p), true
			}
		}
		if !added {
			return nil
		}
		b, _ := json.Marshal(linked)
		return upsertTraceKV(ctx, tx, "trace_tags", traceID, []store.Tag{{Key: store.TagLinkedPrompts, Value: string(b)}})
	}))
}
