package sqlstore

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/mlrun/mlrun/internal/spans"
	"github.com/mlrun/mlrun/store"
)

var (
	_ store.TraceSpans = (*Store)(nil)
	_ store.SpanLogger = (*Store)(nil)
)

// TraceSpans implements store.TraceSpans from MLflow 3's spans table (a
// database without it keeps none).
func (s *Store) TraceSpans(ctx context.Context, traceIDs []string) (map[string][]json.RawMessage, error) {
	out := map[string][]json.RawMessage{}
	if !s.spans {
		return out, nil
	}
	for len(traceIDs) > 0 {
		chunk := traceIDs[:min(len(traceIDs), 500)]
		traceIDs = traceIDs[len(chunk):]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := s.r.QueryContext(ctx, `SELECT trace_id, content FROM spans WHERE trace_id IN (`+placeholders(len(chunk))+`)
			ORDER BY trace_id, start_time_unix_nano, span_id`, args...)
		if err != nil {
			return nil, wrap("read spans", err)
		}
		for rows.Next() {
			var id, content string
			if err := rows.Scan(&id, &content); err != nil {
				rows.Close()
				return nil, wrap("read spans", err)
			}
			out[id] = append(out[id], json.RawMessage(content))
		}
		if err := rows.Close(); err != nil {
			return nil, wrap("read spans", err)
		}
	}
	return out, nil
}

// KeepsSpans implements store.SpanLogger: the database has MLflow 3's
// spans table.
func (s *Store) KeepsSpans() bool { return s.spans }

// LogSpans implements store.SpanLogger: each span (any of MLflow's
// layouts) goes in a row as MLflow 3's log_spans writes it (ids in hex,
// the decoded span type, OK/ERROR/UNSET, the span dict in 3.6's layout
// as content), all in one transaction; the trace is tagged
// spansLocation=TRACKING_STORE and its record follows its spans
// (spansRecord: the start until the root is there, then spans.Summarize
// of all: times, state, name, previews, token usage). A span
// that cannot be read refuses the call before anything is written.
func (s *Store) LogSpans(ctx context.Context, traceID string, raws []json.RawMessage) error {
	if !s.spans {
		return store.Errorf(store.ErrUnsupported, "spans in the tracking store need MLflow 3's spans table, and this database is at MLflow revision %s: upgrade it with 'mlrun db upgrade'", s.revision)
	}
	type row struct {
		sp      *spans.Span
		content string
	}
	rows := make([]row, 0, len(raws))
	for i, raw := range raws {
		sp, err := spans.Parse(raw)
		if err != nil {
			return store.Invalidf("span %d of trace %s: %v", i, traceID, err)
		}
		b, _ := json.Marshal(sp.Dict())
		rows = append(rows, row{sp, string(b)})
	}
	return wrap("log spans", s.txOp(ctx, lockedWrite{}, func(ctx context.Context, tx *sql.Tx) error {
		// The trace's row, locked: span writes of one trace take turns,
		// each reading what the one before committed (lockedWrite).
		var locked string
		err := tx.QueryRowContext(ctx, `SELECT request_id FROM trace_info WHERE request_id = ?`+s.d.ForUpdate(), traceID).Scan(&locked)
		if errors.Is(err, sql.ErrNoRows) {
			return store.NotFoundf("Trace with ID '%s' not found.", traceID)
		}
		if err != nil {
			return err
		}
		t, err := s.traceInfo(ctx, tx, traceID)
		if err != nil {
			return err
		}
		exp, err := strconv.ParseInt(t.ExperimentID, 10, 64)
		if err != nil {
			return err
		}
		for _, r := range rows {
			var parent, end any
			if len(r.sp.ParentID) > 0 {
				parent = hex.EncodeToString(r.sp.ParentID)
			}
			if r.sp.EndNs > 0 {
				end = r.sp.EndNs
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO spans (trace_id, experiment_id, span_id, parent_span_id, name, type, status, start_time_unix_nano, end_time_unix_nano, content)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (trace_id, span_id) DO UPDATE SET parent_span_id = excluded.parent_span_id, name = excluded.name, type = excluded.type,
				status = excluded.status, start_time_unix_nano = excluded.start_time_unix_nano, end_time_unix_nano = excluded.end_time_unix_nano, content = excluded.content`,
				traceID, exp, hex.EncodeToString(r.sp.SpanID), parent, r.sp.Name, nullIfEmpty(r.sp.Type()), r.sp.Status, r.sp.StartNs, end, r.content); err != nil {
				return err
			}
		}
		if !slices.Contains(t.Tags, store.Tag{Key: store.TagTraceSpansLocation, Value: store.SpansInTrackingStore}) {
			if err := upsertTraceKV(ctx, tx, "trace_tags", traceID, []store.Tag{{Key: store.TagTraceSpansLocation, Value: store.SpansInTrackingStore}}); err != nil {
				return err
			}
		}
		// The trace's record, from all its spans, in this transaction
		// (holding the trace's row: servers logging spans of one trace at
		// once do not lose each other's); written when they change it.
		rec, err := s.spansRecord(ctx, tx, traceID)
		if err != nil {
			return err
		}
		if next := rec.Apply(t); changes(t, next) {
			_, err = s.putTrace(ctx, tx, next)
		}
		return err
	}))
}

// changes reports whether writing next (a record Apply made of t) would
// change the trace's record t.
func changes(t *store.TraceInfo, next store.TraceInfo) bool {
	if next.TimestampMs != t.TimestampMs || next.ExecutionTimeMs != t.ExecutionTimeMs || next.Status != t.Status ||
		next.RequestPreview != t.RequestPreview || next.ResponsePreview != t.ResponsePreview {
		return true
	}
	for _, tg := range next.Tags {
		if i := slices.IndexFunc(t.Tags, func(x store.Tag) bool { return x.Key == tg.Key }); i < 0 || t.Tags[i].Value != tg.Value {
			return true
		}
	}
	for _, m := range next.RequestMetadata {
		if i := slices.IndexFunc(t.RequestMetadata, func(x store.Tag) bool { return x.Key == m.Key }); i < 0 || t.RequestMetadata[i].Value != m.Value {
			return true
		}
	}
	return false
}

// spansRecord is what the spans kept for a trace say of its record
// (spans.Summarize). Until the root span is there, that is only the
// earliest start, read from the spans table's column: MLflow 3.4+'s
// client sends each span as it ends, the root last, so LogSpans runs once
// a span, and summarizing every span each time made a trace of n spans
// cost n² span reads (1,000 spans: 12 s). Once the root is there, every
// span is read and summarized, token usage included.
func (s *Store) spansRecord(ctx context.Context, q querier, traceID string) (spans.Record, error) {
	var roots int
	var start sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT COUNT(CASE WHEN parent_span_id IS NULL THEN 1 END), MIN(start_time_unix_nano) FROM spans WHERE trace_id = ?`, traceID).Scan(&roots, &start); err != nil {
		return spans.Record{}, err
	}
	if roots == 0 {
		return spans.Record{State: "IN_PROGRESS", StartMs: start.Int64 / 1e6}, nil
	}
	all, err := s.spansOf(ctx, q, traceID)
	if err != nil {
		return spans.Record{}, err
	}
	return spans.Summarize(all), nil
}

// spansOf reads the spans kept for a trace.
func (s *Store) spansOf(ctx context.Context, q querier, traceID string) ([]*spans.Span, error) {
	rows, err := q.QueryContext(ctx, `SELECT content FROM spans WHERE trace_id = ?`, traceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*spans.Span
	for rows.Next() {
		var content string
		if err := rows.Scan(&content); err != nil {
			return nil, err
		}
		sp, err := spans.Parse([]byte(content))
		if err != nil {
			return nil, fmt.Errorf("a span kept for trace %s: %w", traceID, err)
		}
		out = append(out, sp)
	}
	return out, rows.Err()
}
