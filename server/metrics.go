package server

import (
	"fmt"
	"net/http"
	"sort"

	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/store"
)

func (s *Server) getMetricHistory(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.GetMetricHistory) (any, error) {
		if err := require("run_id", req.ID(), "metric_key", req.MetricKey); err != nil {
			return nil, err
		}
		ms, next, err := s.store.GetMetricHistory(r.Context(), req.ID(), req.MetricKey, int(req.MaxResults), req.PageToken)
		if err != nil {
			return nil, err
		}
		return wire.MetricsResponse{Metrics: wire.FromMetrics(ms), NextPageToken: next}, nil
	})
}

// getMetricHistoryBulkInterval returns up to max_results points per run
// within [start_step, end_step], keeping the first and last steps and an
// even spread between them.
func (s *Server) getMetricHistoryBulkInterval(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.GetMetricHistoryBulkInterval) (any, error) {
		if len(req.RunIDs) == 0 {
			return nil, missingParam("run_ids")
		}
		if err := require("metric_key", req.MetricKey); err != nil {
			return nil, err
		}
		if len(req.RunIDs) > 100 {
			return nil, invalidParam(fmt.Sprintf("GetMetricHistoryBulkInterval request must specify at most 100 run_ids. Received %d run_ids.", len(req.RunIDs)))
		}
		max := int(req.MaxResults)
		if max == 0 {
			max = 2500
		}
		if max < 1 || max > 2500 {
			return nil, invalidParam(fmt.Sprintf("max_results must be between 1 and 2500, got %d", max))
		}
		if (req.StartStep == nil) != (req.EndStep == nil) {
			return nil, invalidParam("If either start step or end step are specified, both must be specified.")
		}
		if req.StartStep != nil && *req.StartStep > *req.EndStep {
			return nil, invalidParam("end_step must be greater than start_step.")
		}
		var out []wire.Metric
		for _, id := range req.RunIDs {
			ms, _, err := s.store.GetMetricHistory(r.Context(), id, req.MetricKey, 0, "")
			if err != nil {
				return nil, err
			}
			var in []wire.Metric
			for _, m := range ms {
				if req.StartStep != nil && (m.Step < int64(*req.StartStep) || m.Step > int64(*req.EndStep)) {
					continue
				}
				wm := wire.FromMetric(m)
				wm.RunID = id
				in = append(in, wm)
			}
			sort.SliceStable(in, func(i, j int) bool { return in[i].Step < in[j].Step })
			out = append(out, sample(in, max)...)
		}
		return wire.MetricsResponse{Metrics: out}, nil
	})
}

// sample keeps at most n points of ms: the first, the last, and an even
// spread between.
func sample(ms []wire.Metric, n int) []wire.Metric {
	if len(ms) <= n {
		return ms
	}
	if n == 1 {
		return ms[:1]
	}
	out := make([]wire.Metric, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, ms[i*(len(ms)-1)/(n-1)])
	}
	return out
}

// getMetricHistoryBulk is the UI's history of one metric for many runs.
func (s *Server) getMetricHistoryBulk(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ids, key := q["run_id"], q.Get("metric_key")
	if len(ids) == 0 {
		writeError(w, r, missingParam("run_id"))
		return
	}
	if key == "" {
		writeError(w, r, missingParam("metric_key"))
		return
	}
	if len(ids) > 100 {
		writeError(w, r, invalidParam("GetMetricHistoryBulk request cannot specify more than 100 run_ids."))
		return
	}
	sort.Strings(ids)
	var out []wire.Metric
	for _, id := range ids {
		ms, _, err := s.store.GetMetricHistory(r.Context(), id, key, 25000, "")
		if err != nil {
			writeError(w, r, err)
			return
		}
		for _, m := range ms {
			wm := wire.FromMetric(m)
			wm.RunID = id
			out = append(out, wm)
		}
	}
	writeJSON(w, http.StatusOK, wire.MetricsResponse{Metrics: out})
}

// searchDatasets is the UI's POST /ajax-api/2.0/mlflow/experiments/search-datasets.
func (s *Server) searchDatasets(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *struct {
		ExperimentIDs []wire.ID `json:"experiment_ids"`
	}) (any, error) {
		if len(req.ExperimentIDs) == 0 {
			return nil, missingParam("experiment_ids")
		}
		if len(req.ExperimentIDs) > 20 {
			return nil, invalidParam(fmt.Sprintf("SearchDatasets request must specify at most 20 experiment_ids. Received %d experiment_ids.", len(req.ExperimentIDs)))
		}
		ds, ok := s.store.(store.DatasetSearcher)
		if !ok {
			return nil, &apiError{codeNotImplemented, "this store cannot list datasets"}
		}
		ids := make([]string, len(req.ExperimentIDs))
		for i, id := range req.ExperimentIDs {
			ids[i] = string(id)
		}
		sums, err := ds.SearchDatasets(r.Context(), ids)
		if err != nil {
			return nil, err
		}
		type summary struct {
			ExperimentID string `json:"experiment_id"`
			Name         string `json:"name"`
			Digest       string `json:"digest"`
			Context      string `json:"context,omitempty"`
		}
		out := struct {
			DatasetSummaries []summary `json:"dataset_summaries,omitempty"`
		}{}
		for _, d := range sums {
			out.DatasetSummaries = append(out.DatasetSummaries, summary{d.ExperimentID, d.Name, d.Digest, d.Context})
		}
		return out, nil
	})
}
