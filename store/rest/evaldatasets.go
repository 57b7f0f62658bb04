package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/store"
)

var _ store.EvaluationDatasets = (*Store)(nil)

// datasetCall calls one of MLflow 3's evaluation dataset endpoints, below
// /api/3.0/mlflow/datasets.
func (s *Store) datasetCall(ctx context.Context, method, ep string, req wire.DatasetRequest, out any) error {
	return s.callPath(ctx, method, "/api/3.0/mlflow/datasets"+ep, req, out)
}

func datasetPath(id string) string { return "/" + url.PathEscape(id) }

func toIDs(ids []string) []wire.ID {
	out := make([]wire.ID, len(ids))
	for i, id := range ids {
		out[i] = wire.ID(id)
	}
	return out
}

func (s *Store) datasetAnswer(ctx context.Context, method, ep string, req wire.DatasetRequest) (*store.EvaluationDataset, error) {
	var out wire.DatasetResponse
	if err := s.datasetCall(ctx, method, ep, req, &out); err != nil {
		return nil, err
	}
	return out.Dataset.ToEvaluationDataset()
}

// CreateEvaluationDataset implements store.EvaluationDatasets.
func (s *Store) CreateEvaluationDataset(ctx context.Context, name string, tags []store.Tag, experimentIDs []string) (*store.EvaluationDataset, error) {
	req := wire.DatasetRequest{Name: name, ExperimentIDs: toIDs(experimentIDs)}
	if len(tags) > 0 {
		req.Tags = wire.TagsJSON(tags)
	}
	return s.datasetAnswer(ctx, http.MethodPost, "/create", req)
}

// GetEvaluationDataset implements store.EvaluationDatasets.
func (s *Store) GetEvaluationDataset(ctx context.Context, id string) (*store.EvaluationDataset, error) {
	return s.datasetAnswer(ctx, http.MethodGet, datasetPath(id), wire.DatasetRequest{})
}

// DeleteEvaluationDataset implements store.EvaluationDatasets.
func (s *Store) DeleteEvaluationDataset(ctx context.Context, id string) error {
	return s.datasetCall(ctx, http.MethodDelete, datasetPath(id), wire.DatasetRequest{}, nil)
}

// SearchEvaluationDatasets implements store.EvaluationDatasets.
func (s *Store) SearchEvaluationDatasets(ctx context.Context, q store.SearchEvaluationDatasets) ([]*store.EvaluationDataset, string, error) {
	var out wire.SearchDatasetsResponse
	req := wire.DatasetRequest{ExperimentIDs: toIDs(q.ExperimentIDs), FilterString: q.Filter, OrderBy: q.OrderBy, MaxResults: wire.Int64(q.MaxResults), PageToken: q.PageToken}
	if err := s.datasetCall(ctx, http.MethodPost, "/search", req, &out); err != nil {
		return nil, "", err
	}
	list := make([]*store.EvaluationDataset, len(out.Datasets))
	for i, d := range out.Datasets {
		v, err := d.ToEvaluationDataset()
		if err != nil {
			return nil, "", err
		}
		list[i] = v
	}
	return list, out.NextPageToken, nil
}

// SetEvaluationDatasetTags implements store.EvaluationDatasets.
func (s *Store) SetEvaluationDatasetTags(ctx context.Context, id string, tags []store.Tag) error {
	return s.datasetCall(ctx, http.MethodPatch, datasetPath(id)+"/tags", wire.DatasetRequest{Tags: wire.TagsJSON(tags)}, nil)
}

// DeleteEvaluationDatasetTag implements store.EvaluationDatasets.
func (s *Store) DeleteEvaluationDatasetTag(ctx context.Context, id, key string) error {
	return s.datasetCall(ctx, http.MethodDelete, datasetPath(id)+"/tags/"+url.PathEscape(key), wire.DatasetRequest{}, nil)
}

// UpsertDatasetRecords implements store.EvaluationDatasets.
func (s *Store) UpsertDatasetRecords(ctx context.Context, id string, records []json.RawMessage) (int, int, error) {
	if records == nil {
		records = []json.RawMessage{}
	}
	b, err := json.Marshal(records)
	if err != nil {
		return 0, 0, store.Invalidf("records: %v", err)
	}
	var out wire.UpsertRecordsResponse
	if err := s.datasetCall(ctx, http.MethodPost, datasetPath(id)+"/records", wire.DatasetRequest{Records: string(b)}, &out); err != nil {
		return 0, 0, err
	}
	return out.InsertedCount, out.UpdatedCount, nil
}

// DatasetRecords implements store.EvaluationDatasets.
func (s *Store) DatasetRecords(ctx context.Context, id string, maxResults int, pageToken string) ([]*store.DatasetRecord, string, error) {
	var out wire.DatasetRecordsResponse
	if err := s.datasetCall(ctx, http.MethodGet, datasetPath(id)+"/records", wire.DatasetRequest{MaxResults: wire.Int64(maxResults), PageToken: pageToken}, &out); err != nil {
		return nil, "", err
	}
	recs, err := wire.ParseDatasetRecords(out.Records)
	return recs, out.NextPageToken, err
}

// DeleteDatasetRecords implements store.EvaluationDatasets.
func (s *Store) DeleteDatasetRecords(ctx context.Context, id string, recordIDs []string) (int, error) {
	var out wire.DeleteRecordsResponse
	err := s.datasetCall(ctx, http.MethodDelete, datasetPath(id)+"/records", wire.DatasetRequest{DatasetRecordIDs: recordIDs}, &out)
	return out.DeletedCount, err
}

// DatasetExperimentIDs implements store.EvaluationDatasets.
func (s *Store) DatasetExperimentIDs(ctx context.Context, id string) ([]string, error) {
	var out wire.ExperimentIDsResponse
	err := s.datasetCall(ctx, http.MethodGet, datasetPath(id)+"/experiment-ids", wire.DatasetRequest{}, &out)
	return out.ExperimentIDs, err
}

// AddDatasetToExperiments implements store.EvaluationDatasets.
func (s *Store) AddDatasetToExperiments(ctx context.Context, id string, experimentIDs []string) (*store.EvaluationDataset, error) {
	return s.datasetAnswer(ctx, http.MethodPost, datasetPath(id)+"/add-experiments", wire.DatasetRequest{DatasetID: id, ExperimentIDs: toIDs(experimentIDs)})
}

// RemoveDatasetFromExperiments implements store.EvaluationDatasets.
func (s *Store) RemoveDatasetFromExperiments(ctx context.Context, id string, experimentIDs []string) (*store.EvaluationDataset, error) {
	return s.datasetAnswer(ctx, http.MethodPost, datasetPath(id)+"/remove-experiments", wire.DatasetRequest{DatasetID: id, ExperimentIDs: toIDs(experimentIDs)})
}
