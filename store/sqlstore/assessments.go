package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/mlrun/mlrun/store"
)

var _ store.Assessments = (*Store)(nil)

const assessmentCols = `assessment_id, trace_id, name, assessment_type, value, error, created_timestamp, last_updated_timestamp, source_type, source_id, run_id, span_id, rationale, overrides, valid, assessment_metadata`

func (s *Store) requireAssessments() error {
	if !s.assessments {
		return store.Errorf(store.ErrUnsupported, "assessments need MLflow 3's tables, and this database is at MLflow revision %s: upgrade it with 'mlrun db upgrade'", s.revision)
	}
	return nil
}

func scanAssessment(row interface{ Scan(...any) error }) (*store.Assessment, error) {
	a := &store.Assessment{}
	var errText, source, run, span, rationale, overrides, meta sql.NullString
	if err := row.Scan(&a.ID, &a.TraceID, &a.Name, &a.Type, &a.Value, &errText, &a.CreatedMs, &a.UpdatedMs, &a.SourceType, &source, &run, &span, &rationale, &overrides, &a.Valid, &meta); err != nil {
		return nil, err
	}
	a.Error, a.SourceID, a.RunID, a.SpanID, a.Rationale, a.Overrides, a.Metadata = errText.String, source.String, run.String, span.String, rationale.String, overrides.String, meta.String
	return a, nil
}

func (s *Store) assessment(ctx context.Context, q querier, traceID, id string) (*store.Assessment, error) {
	a, err := scanAssessment(q.QueryRowContext(ctx, `SELECT `+assessmentCols+` FROM assessments WHERE assessment_id = ? AND trace_id = ?`, id, traceID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.NotFoundf("Assessment with ID '%s' not found for trace '%s'.", id, traceID)
	}
	if err != nil {
		return nil, fmt.Errorf("get assessment: %w", err)
	}
	return a, nil
}

func checkAssessment(a store.Assessment) error {
	switch {
	case a.Name == "":
		return store.Invalidf("Missing value for required parameter 'assessment.assessment_name'.")
	case a.Type != "feedback" && a.Type != "expectation":
		return store.Invalidf("An assessment must have either a feedback or an expectation.")
	case a.SourceType == "":
		return store.Invalidf("Missing value for required parameter 'assessment.source.source_type'.")
	}
	return nil
}

// CreateAssessment implements store.Assessments.
func (s *Store) CreateAssessment(ctx context.Context, a store.Assessment) (*store.Assessment, error) {
	if err := s.requireAssessments(); err != nil {
		return nil, err
	}
	if err := checkAssessment(a); err != nil {
		return nil, err
	}
	var out *store.Assessment
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.traceInfo(ctx, tx, a.TraceID); err != nil {
			return err
		}
		a.ID = "a-" + newID()
		now := nowMillis()
		if _, err := tx.ExecContext(ctx, `INSERT INTO assessments (`+assessmentCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID, a.TraceID, a.Name, a.Type, a.Value, nullIfEmpty(a.Error), now, now, a.SourceType, nullIfEmpty(a.SourceID), nullIfEmpty(a.RunID),
			nullIfEmpty(a.SpanID), nullIfEmpty(a.Rationale), nullIfEmpty(a.Overrides), a.Valid, nullIfEmpty(a.Metadata)); err != nil {
			return err
		}
		var err error
		out, err = s.assessment(ctx, tx, a.TraceID, a.ID)
		return err
	})
	return out, wrap("create assessment", err)
}

// GetAssessment implements store.Assessments.
func (s *Store) GetAssessment(ctx context.Context, traceID, id string) (*store.Assessment, error) {
	if err := s.requireAssessments(); err != nil {
		return nil, err
	}
	return s.assessment(ctx, s.r, traceID, id)
}

// UpdateAssessment implements store.Assessments.
func (s *Store) UpdateAssessment(ctx context.Context, a store.Assessment, mask []string) (*store.Assessment, error) {
	if err := s.requireAssessments(); err != nil {
		return nil, err
	}
	var out *store.Assessment
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		cur, err := s.assessment(ctx, tx, a.TraceID, a.ID)
		if err != nil {
			return err
		}
		for _, f := range mask {
			switch f {
			case "assessment_name":
				cur.Name = a.Name
			case "expectation", "feedback":
				if a.Type != f {
					return store.Invalidf("update_mask names %s but the assessment sent has none", f)
				}
				cur.Type, cur.Value, cur.Error = a.Type, a.Value, a.Error
			case "rationale":
				cur.Rationale = a.Rationale
			case "metadata":
				cur.Metadata = a.Metadata
			case "valid":
				cur.Valid = a.Valid
			default:
				return store.Invalidf("Invalid update_mask path '%s': valid ones are assessment_name, expectation, feedback, rationale, metadata, valid", f)
			}
		}
		if len(mask) == 0 || slices.Contains(mask, "") {
			return store.Invalidf("Missing value for required parameter 'update_mask'.")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE assessments SET name = ?, assessment_type = ?, value = ?, error = ?, rationale = ?, assessment_metadata = ?, valid = ?, last_updated_timestamp = ? WHERE assessment_id = ?`,
			cur.Name, cur.Type, cur.Value, nullIfEmpty(cur.Error), nullIfEmpty(cur.Rationale), nullIfEmpty(cur.Metadata), cur.Valid, nowMillis(), cur.ID); err != nil {
			return err
		}
		out, err = s.assessment(ctx, tx, a.TraceID, a.ID)
		return err
	})
	return out, wrap("update assessment", err)
}

// DeleteAssessment implements store.Assessments.
func (s *Store) DeleteAssessment(ctx context.Context, traceID, id string) error {
	if err := s.requireAssessments(); err != nil {
		return err
	}
	return wrap("delete assessment", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.assessment(ctx, tx, traceID, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM assessments WHERE assessment_id = ?`, id)
		return err
	}))
}

// TraceAssessments implements store.Assessments: a trace's, oldest first.
func (s *Store) TraceAssessments(ctx context.Context, traceID string) ([]*store.Assessment, error) {
	if !s.assessments {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+assessmentCols+` FROM assessments WHERE trace_id = ? ORDER BY created_timestamp, assessment_id`, traceID)
	if err != nil {
		return nil, fmt.Errorf("trace assessments: %w", err)
	}
	defer rows.Close()
	var out []*store.Assessment
	for rows.Next() {
		a, err := scanAssessment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
