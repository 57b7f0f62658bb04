package server

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/store"
)

// datasetRoutes registers MLflow 3's evaluation dataset endpoints
// (mlflow.genai.datasets: GenAI evaluation records linked to experiments).
func (s *Server) datasetRoutes(prefix string) {
	base := prefix + "/datasets"
	one := base + "/{dataset_id}"
	for pattern, h := range map[string]http.HandlerFunc{
		"POST " + base + "/create":            s.datasetCall(createDataset),
		"GET " + one:                          s.datasetCall(getDataset),
		"DELETE " + one:                       s.datasetCall(deleteDataset),
		"POST " + base + "/search":            s.datasetCall(searchDatasets),
		"GET " + base + "/search":             s.datasetCall(searchDatasets),
		"PATCH " + one + "/tags":              s.datasetCall(setDatasetTags),
		"DELETE " + one + "/tags/{key}":       s.datasetCall(deleteDatasetTag),
		"POST " + one + "/records":            s.datasetCall(upsertDatasetRecords),
		"GET " + one + "/records":             s.datasetCall(getDatasetRecords),
		"DELETE " + one + "/records":          s.datasetCall(deleteDatasetRecords),
		"GET " + one + "/experiment-ids":      s.datasetCall(datasetExperimentIDs),
		"POST " + one + "/add-experiments":    s.datasetCall(addDatasetExperiments),
		"POST " + one + "/remove-experiments": s.datasetCall(removeDatasetExperiments),
	} {
		s.route(pattern, s.limitBody(h))
	}
}

// datasetOp is one evaluation dataset endpoint: the store, the request's
// dataset id and its message.
type datasetOp func(r *http.Request, ds store.EvaluationDatasets, id string, req *wire.DatasetRequest) (any, error)

func (s *Server) datasetCall(op datasetOp) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		handle(w, r, func(req *wire.DatasetRequest) (any, error) {
			ds, ok := s.raw.(store.EvaluationDatasets)
			if !ok {
				return nil, &apiError{codeNotImplemented, "this tracking store does not keep evaluation datasets"}
			}
			return op(r, ds, datasetID(r, req), req)
		})
	}
}

// datasetID is the dataset a request names: its path's, or its body's
// where the path holds the endpoint's placeholder (MLflow's client sends
// add and remove experiments to ".../datasets/{dataset_id}/...", with the
// id in the body).
func datasetID(r *http.Request, req *wire.DatasetRequest) string {
	id := r.PathValue("dataset_id")
	if req.DatasetID != "" && (id == "" || strings.HasPrefix(id, "{")) {
		return req.DatasetID
	}
	return id
}

func datasetAnswer(d *store.EvaluationDataset, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return wire.DatasetResponse{Dataset: wire.FromEvaluationDataset(d)}, nil
}

func createDataset(r *http.Request, ds store.EvaluationDatasets, _ string, req *wire.DatasetRequest) (any, error) {
	if err := require("name", req.Name); err != nil {
		return nil, err
	}
	tags, err := wire.ParseTagsJSON(req.Tags)
	if err != nil {
		return nil, err
	}
	return datasetAnswer(ds.CreateEvaluationDataset(r.Context(), req.Name, tags, wire.IDs(req.ExperimentIDs)))
}

func getDataset(r *http.Request, ds store.EvaluationDatasets, id string, _ *wire.DatasetRequest) (any, error) {
	return datasetAnswer(ds.GetEvaluationDataset(r.Context(), id))
}

func deleteDataset(r *http.Request, ds store.EvaluationDatasets, id string, _ *wire.DatasetRequest) (any, error) {
	return empty{}, ds.DeleteEvaluationDataset(r.Context(), id)
}

func searchDatasets(r *http.Request, ds store.EvaluationDatasets, _ string, req *wire.DatasetRequest) (any, error) {
	list, next, err := ds.SearchEvaluationDatasets(r.Context(), store.SearchEvaluationDatasets{ExperimentIDs: wire.IDs(req.ExperimentIDs),
		Filter: req.FilterString, OrderBy: req.OrderBy, MaxResults: int(req.MaxResults), PageToken: req.PageToken})
	if err != nil {
		return nil, err
	}
	out := wire.SearchDatasetsResponse{NextPageToken: next}
	for _, d := range list {
		out.Datasets = append(out.Datasets, wire.FromEvaluationDataset(d))
	}
	return out, nil
}

func setDatasetTags(r *http.Request, ds store.EvaluationDatasets, id string, req *wire.DatasetRequest) (any, error) {
	if err := require("tags", req.Tags); err != nil {
		return nil, err
	}
	tags, err := wire.ParseTagsJSON(req.Tags)
	if err != nil {
		return nil, err
	}
	return empty{}, ds.SetEvaluationDatasetTags(r.Context(), id, tags)
}

func deleteDatasetTag(r *http.Request, ds store.EvaluationDatasets, id string, _ *wire.DatasetRequest) (any, error) {
	return empty{}, ds.DeleteEvaluationDatasetTag(r.Context(), id, r.PathValue("key"))
}

func upsertDatasetRecords(r *http.Request, ds store.EvaluationDatasets, id string, req *wire.DatasetRequest) (any, error) {
	if err := require("records", req.Records); err != nil {
		return nil, err
	}
	var records []json.RawMessage
	if err := json.Unmarshal([]byte(req.Records), &records); err != nil {
		return nil, store.Invalidf("'records' must be a JSON list of records: %v", err)
	}
	ins, upd, err := ds.UpsertDatasetRecords(r.Context(), id, records)
	if err != nil {
		return nil, err
	}
	return wire.UpsertRecordsResponse{InsertedCount: ins, UpdatedCount: upd}, nil
}

func getDatasetRecords(r *http.Request, ds store.EvaluationDatasets, id string, req *wire.DatasetRequest) (any, error) {
	recs, next, err := ds.DatasetRecords(r.Context(), id, int(req.MaxResults), req.PageToken)
	if err != nil {
		return nil, err
	}
	b := []byte{'['}
	for i, rec := range recs {
		if i > 0 {
			b = append(b, ',')
		}
		b = wire.DatasetRecordJSON(b, rec)
	}
	return wire.DatasetRecordsResponse{Records: string(append(b, ']')), NextPageToken: next}, nil
}

func deleteDatasetRecords(r *http.Request, ds store.EvaluationDatasets, id string, req *wire.DatasetRequest) (any, error) {
	n, err := ds.DeleteDatasetRecords(r.Context(), id, req.DatasetRecordIDs)
	if err != nil {
		return nil, err
	}
	return wire.DeleteRecordsResponse{DeletedCount: n}, nil
}

func datasetExperimentIDs(r *http.Request, ds store.EvaluationDatasets, id string, _ *wire.DatasetRequest) (any, error) {
	ids, err := ds.DatasetExperimentIDs(r.Context(), id)
	if err != nil {
		return nil, err
	}
	return wire.ExperimentIDsResponse{ExperimentIDs: ids}, nil
}

func addDatasetExperiments(r *http.Request, ds store.EvaluationDatasets, id string, req *wire.DatasetRequest) (any, error) {
	return datasetAnswer(ds.AddDatasetToExperiments(r.Context(), id, wire.IDs(req.ExperimentIDs)))
}

func removeDatasetExperiments(r *http.Request, ds store.EvaluationDatasets, id string, req *wire.DatasetRequest) (any, error) {
	return datasetAnswer(ds.RemoveDatasetFromExperiments(r.Context(), id, wire.IDs(req.ExperimentIDs)))
}
