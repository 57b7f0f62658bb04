package rest

import (
	"context"
	"net/http"

	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/store"
)

// Store is store.Store over a Client.
type Store struct {
	*Client
}

var _ store.Store = (*Store)(nil)

// Open returns a store talking to the server at uri.
func Open(uri string, opts Options) (*Store, error) {
	c, err := New(uri, opts)
	if err != nil {
		return nil, err
	}
	return &Store{c}, nil
}

// Close implements store.Store; the client holds no connections open.
func (s *Store) Close() error {
	s.hc.CloseIdleConnections()
	return nil
}

func (s *Store) post(ctx context.Context, ep string, in, out any) error {
	return s.call(ctx, http.MethodPost, ep, in, out)
}

func (s *Store) get(ctx context.Context, ep string, in, out any) error {
	return s.call(ctx, http.MethodGet, ep, in, out)
}

// CreateExperiment implements store.Store.
func (s *Store) CreateExperiment(ctx context.Context, name, artifactLocation string, tags []store.Tag) (string, error) {
	var out wire.CreateExperimentResponse
	err := s.post(ctx, "/experiments/create", wire.CreateExperiment{Name: name, ArtifactLocation: artifactLocation, Tags: wire.FromTags(tags)}, &out)
	return out.ExperimentID, err
}

// GetExperiment implements store.Store.
func (s *Store) GetExperiment(ctx context.Context, id string) (*store.Experiment, error) {
	if id == "" {
		return nil, store.NotFoundf("No Experiment with id= exists")
	}
	var out wire.ExperimentResponse
	if err := s.get(ctx, "/experiments/get", wire.ExperimentRequest{ExperimentID: wire.ID(id)}, &out); err != nil {
		return nil, err
	}
	return out.Experiment.ToExperiment(), nil
}

// GetExperimentByName implements store.Store.
func (s *Store) GetExperimentByName(ctx context.Context, name string) (*store.Experiment, error) {
	var out wire.ExperimentResponse
	if err := s.get(ctx, "/experiments/get-by-name", wire.GetExperimentByName{ExperimentName: name}, &out); err != nil {
		return nil, err
	}
	return out.Experiment.ToExperiment(), nil
}

// SearchExperiments implements store.Store.
func (s *Store) SearchExperiments(ctx context.Context, q store.SearchExperiments) ([]*store.Experiment, string, error) {
	max := q.MaxResults
	if max == 0 {
		max = store.Limits.SearchRunsDefault
	}
	req := wire.SearchExperiments{MaxResults: wire.Int64(max), PageToken: q.PageToken, Filter: q.Filter, OrderBy: q.OrderBy}
	if q.ViewType != 0 {
		req.ViewType = wire.Enum(q.ViewType.String())
	}
	var out wire.SearchExperimentsResponse
	if err := s.post(ctx, "/experiments/search", req, &out); err != nil {
		return nil, "", err
	}
	es := make([]*store.Experiment, len(out.Experiments))
	for i, e := range out.Experiments {
		es[i] = e.ToExperiment()
	}
	return es, out.NextPageToken, nil
}

// RenameExperiment implements store.Store.
func (s *Store) RenameExperiment(ctx context.Context, id, newName string) error {
	return s.post(ctx, "/experiments/update", wire.UpdateExperiment{ExperimentID: wire.ID(id), NewName: newName}, nil)
}

// DeleteExperiment implements store.Store.
func (s *Store) DeleteExperiment(ctx context.Context, id string) error {
	return s.post(ctx, "/experiments/delete", wire.ExperimentRequest{ExperimentID: wire.ID(id)}, nil)
}

// RestoreExperiment implements store.Store.
func (s *Store) RestoreExperiment(ctx context.Context, id string) error {
	return s.post(ctx, "/experiments/restore", wire.ExperimentRequest{ExperimentID: wire.ID(id)}, nil)
}

// SetExperimentTag implements store.Store.
func (s *Store) SetExperimentTag(ctx context.Context, id string, t store.Tag) error {
	return s.post(ctx, "/experiments/set-experiment-tag", wire.SetExperimentTag{ExperimentID: wire.ID(id), Key: t.Key, Value: t.Value}, nil)
}

// DeleteExperimentTag implements store.Store.
func (s *Store) DeleteExperimentTag(ctx context.Context, id, key string) error {
	return s.post(ctx, "/experiments/delete-experiment-tag", wire.DeleteExperimentTag{ExperimentID: wire.ID(id), Key: key}, nil)
}

// CreateRun implements store.Store.
func (s *Store) CreateRun(ctx context.Context, req store.CreateRun) (*store.Run, error) {
	var out wire.RunResponse
	err := s.post(ctx, "/runs/create", wire.CreateRun{
		ExperimentID: wire.ID(req.ExperimentID), UserID: req.UserID, RunName: req.RunName,
		StartTime: wire.Int64(req.StartTime), Tags: wire.FromTags(req.Tags),
	}, &out)
	if err != nil {
		return nil, err
	}
	return out.Run.ToRun(), nil
}

// GetRun implements store.Store.
func (s *Store) GetRun(ctx context.Context, runID string) (*store.Run, error) {
	if runID == "" {
		return nil, store.NotFoundf("Run with id= not found")
	}
	var out wire.RunResponse
	if err := s.get(ctx, "/runs/get", wire.RunRequest{RunID: runID}, &out); err != nil {
		return nil, err
	}
	return out.Run.ToRun(), nil
}

// UpdateRun implements store.Store.
func (s *Store) UpdateRun(ctx context.Context, runID string, u store.UpdateRun) (*store.RunInfo, error) {
	req := wire.UpdateRun{RunRequest: wire.RunRequest{RunID: runID}}
	if u.Status != nil {
		req.Status = wire.Enum(*u.Status)
	}
	if u.EndTime != nil {
		v := wire.Int64(*u.EndTime)
		req.EndTime = &v
	}
	if u.RunName != nil {
		req.RunName = *u.RunName
	}
	var out wire.UpdateRunResponse
	if err := s.post(ctx, "/runs/update", req, &out); err != nil {
		return nil, err
	}
	return out.RunInfo.ToRunInfo(), nil
}

// DeleteRun implements store.Store.
func (s *Store) DeleteRun(ctx context.Context, runID string) error {
	return s.post(ctx, "/runs/delete", wire.RunRequest{RunID: runID}, nil)
}

// RestoreRun implements store.Store.
func (s *Store) RestoreRun(ctx context.Context, runID string) error {
	return s.post(ctx, "/runs/restore", wire.RunRequest{RunID: runID}, nil)
}

// SearchRuns implements store.Store.
func (s *Store) SearchRuns(ctx context.Context, q store.SearchRuns) ([]*store.Run, string, error) {
	req := wire.SearchRuns{Filter: q.Filter, MaxResults: wire.Int64(q.MaxResults), OrderBy: q.OrderBy, PageToken: q.PageToken}
	for _, id := range q.ExperimentIDs {
		req.ExperimentIDs = append(req.ExperimentIDs, wire.ID(id))
	}
	if q.ViewType != 0 {
		req.RunViewType = wire.Enum(q.ViewType.String())
	}
	if q.MaxResults < 0 {
		// Sent as is so the server refuses it.
		req.MaxResults = wire.Int64(q.MaxResults)
	}
	var out wire.SearchRunsResponse
	if err := s.post(ctx, "/runs/search", req, &out); err != nil {
		return nil, "", err
	}
	runs := make([]*store.Run, len(out.Runs))
	for i, r := range out.Runs {
		runs[i] = r.ToRun()
	}
	return runs, out.NextPageToken, nil
}

// LogMetric implements store.Store.
func (s *Store) LogMetric(ctx context.Context, runID string, m store.Metric) error {
	v, ts := wire.Float(m.Value), wire.Int64(m.Timestamp)
	return s.post(ctx, "/runs/log-metric", wire.LogMetric{RunRequest: wire.RunRequest{RunID: runID}, Key: m.Key, Value: &v, Timestamp: &ts, Step: wire.Int64(m.Step),
		ModelID: m.ModelID, DatasetName: m.DatasetName, DatasetDigest: m.DatasetDigest}, nil)
}

// LogParam implements store.Store.
func (s *Store) LogParam(ctx context.Context, runID string, p store.Param) error {
	return s.post(ctx, "/runs/log-parameter", wire.LogParam{RunRequest: wire.RunRequest{RunID: runID}, Key: p.Key, Value: p.Value}, nil)
}

// SetTag implements store.Store.
func (s *Store) SetTag(ctx context.Context, runID string, t store.Tag) error {
	return s.post(ctx, "/runs/set-tag", wire.SetTag{RunRequest: wire.RunRequest{RunID: runID}, Key: t.Key, Value: t.Value}, nil)
}

// DeleteTag implements store.Store.
func (s *Store) DeleteTag(ctx context.Context, runID, key string) error {
	return s.post(ctx, "/runs/delete-tag", wire.DeleteTag{RunID: runID, Key: key}, nil)
}

// LogBatch implements store.Store.
func (s *Store) LogBatch(ctx context.Context, runID string, metrics []store.Metric, params []store.Param, tags []store.Tag) error {
	req := wire.LogBatch{RunID: runID, Params: wire.FromParams(params), Tags: wire.FromTags(tags)}
	for _, m := range metrics {
		v, ts := wire.Float(m.Value), wire.Int64(m.Timestamp)
		req.Metrics = append(req.Metrics, wire.BatchMetric{Key: m.Key, Value: &v, Timestamp: &ts, Step: wire.Int64(m.Step),
			ModelID: m.ModelID, DatasetName: m.DatasetName, DatasetDigest: m.DatasetDigest})
	}
	return s.post(ctx, "/runs/log-batch", req, nil)
}

// LogInputs implements store.Store.
func (s *Store) LogInputs(ctx context.Context, runID string, inputs []store.DatasetInput) error {
	return s.post(ctx, "/runs/log-inputs", wire.LogInputs{RunID: runID, Datasets: wire.FromDatasetInputs(inputs)}, nil)
}

// GetMetricHistory implements store.Store.
func (s *Store) GetMetricHistory(ctx context.Context, runID, key string, maxResults int, pageToken string) ([]store.Metric, string, error) {
	req := wire.GetMetricHistory{RunRequest: wire.RunRequest{RunID: runID}, MetricKey: key, PageToken: pageToken, MaxResults: wire.Int64(maxResults)}
	var out wire.MetricsResponse
	if err := s.get(ctx, "/metrics/get-history", req, &out); err != nil {
		return nil, "", err
	}
	ms := wire.ToMetrics(out.Metrics)
	for i := range ms {
		ms[i].Key = key
	}
	return ms, out.NextPageToken, nil
}

// LogModel records a logged model on the run (runs/log-model).
func (s *Store) LogModel(ctx context.Context, runID, modelJSON string) error {
	return s.post(ctx, "/runs/log-model", wire.LogModel{RunID: runID, ModelJSON: modelJSON}, nil)
}
