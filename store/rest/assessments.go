package rest

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/store"
)

var _ store.Assessments = (*Store)(nil)

func assessmentPath(traceID, id string) string {
	p := "/api/3.0/mlflow/traces/" + url.PathEscape(traceID) + "/assessments"
	if id != "" {
		p += "/" + url.PathEscape(id)
	}
	return p
}

func (s *Store) assessmentCall(ctx context.Context, method, path string, in any, traceID string) (*store.Assessment, error) {
	var out wire.AssessmentMessage
	if err := s.callPath(ctx, method, path, in, &out); err != nil {
		return nil, err
	}
	a := out.Assessment.ToAssessment(traceID)
	return &a, nil
}

// sent is an assessment as a request carries it: the server sets the
// times.
func sent(a *store.Assessment) wire.Assessment {
	w := wire.FromAssessment(a)
	w.CreateTime, w.LastUpdateTime = "", ""
	return w
}

// CreateAssessment implements store.Assessments.
func (s *Store) CreateAssessment(ctx context.Context, a store.Assessment) (*store.Assessment, error) {
	return s.assessmentCall(ctx, http.MethodPost, assessmentPath(a.TraceID, ""), wire.AssessmentMessage{Assessment: sent(&a)}, a.TraceID)
}

// GetAssessment implements store.Assessments.
func (s *Store) GetAssessment(ctx context.Context, traceID, id string) (*store.Assessment, error) {
	return s.assessmentCall(ctx, http.MethodGet, assessmentPath(traceID, id), struct{}{}, traceID)
}

// UpdateAssessment implements store.Assessments.
func (s *Store) UpdateAssessment(ctx context.Context, a store.Assessment, mask []string) (*store.Assessment, error) {
	return s.assessmentCall(ctx, http.MethodPatch, assessmentPath(a.TraceID, a.ID),
		wire.AssessmentMessage{Assessment: sent(&a), UpdateMask: strings.Join(mask, ",")}, a.TraceID)
}

// DeleteAssessment implements store.Assessments.
func (s *Store) DeleteAssessment(ctx context.Context, traceID, id string) error {
	return s.callPath(ctx, http.MethodDelete, assessmentPath(traceID, id), struct{}{}, nil)
}

// TraceAssessments implements store.Assessments: those GetTraceInfoV3
// returns with the trace.
func (s *Store) TraceAssessments(ctx context.Context, traceID string) ([]*store.Assessment, error) {
	var out wire.TraceV3Message
	if err := s.callPath(ctx, http.MethodGet, "/api/3.0/mlflow/traces/"+url.PathEscape(traceID), struct{}{}, &out); err != nil {
		return nil, err
	}
	list := make([]*store.Assessment, len(out.Trace.TraceInfo.Assessments))
	for i, w := range out.Trace.TraceInfo.Assessments {
		a := w.ToAssessment(traceID)
		list[i] = &a
	}
	return list, nil
}
