package server

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/store"
)

func (s *Server) getMetricHistory(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.GetMetricHistory) (any, error) {
		if err := require("run_id", req.ID(), "metric_key", req.MetricKey); err != nil {
			return nil, err
		}
		if hs, ok := s.raw.(store.HistoryStreamer); ok && req.MaxResults == 0 && req.PageToken == "" {
			return historyStream{hs, req.ID(), req.MetricKey, s.timeStream}, nil
		}
		ms, next, err := s.store.GetMetricHistory(r.Context(), req.ID(), req.MetricKey, int(req.MaxResults), req.PageToken)
		if err != nil {
			return nil, err
		}
		return wire.MetricsResponse{Metrics: wire.FromMetrics(ms), NextPageToken: next}, nil
	})
}

// historyStream writes a whole metric history as it is read from the
// store, in 32 KiB writes: the same bytes as MetricsResponse's JSON,
// without holding the points.
type historyStream struct {
	hs       store.HistoryStreamer
	run, key string
	time     func(op string, start time.Time)
}

func (h historyStream) stream(w http.ResponseWriter, r *http.Request) {
	defer h.time("GetMetricHistory", time.Now())
	key, _ := json.Marshal(h.key)
	a := arrayStream{w: w, open: `{"metrics":[`}
	err := h.hs.StreamMetricHistory(r.Context(), h.run, h.key, func(m store.Metric) error {
		return a.add(func(buf []byte) []byte { return wire.AppendHistoryPoint(buf, key, m.Value, m.Timestamp, m.Step) })
	})
	a.finish(r, err, wire.MetricsResponse{}, nil)
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
		limit := int(req.MaxResults)
		if limit == 0 {
			limit = 2500
		}
		if limit < 1 || limit > 2500 {
			return nil, invalidParam(fmt.Sprintf("max_results must be between 1 and 2500, got %d", limit))
		}
		if (req.StartStep == nil) != (req.EndStep == nil) {
			return nil, invalidParam("If either start step or end step are specified, both must be specified.")
		}
		if req.StartStep != nil && *req.StartStep > *req.EndStep {
			return nil, invalidParam("end_step must be greater than start_step.")
		}
		// MLflow's sampling (handlers.py get_metric_history_bulk_interval):
		// steps are sampled across all runs' steps in the range, every
		// run's first and last step kept; each run answers its points at
		// those steps.
		histories := make([][]store.Metric, len(req.RunIDs))
		stepSet := map[int64]bool{}
		edges := map[int64]bool{}
		for i, id := range req.RunIDs {
			ms, _, err := s.store.GetMetricHistory(r.Context(), id, req.MetricKey, 0, "")
			if err != nil {
				return nil, err
			}
			histories[i] = ms
			if len(ms) == 0 {
				continue
			}
			lo, hi := ms[0].Step, ms[0].Step
			for _, m := range ms {
				stepSet[m.Step] = true
				lo, hi = min(lo, m.Step), max(hi, m.Step)
			}
			edges[lo], edges[hi] = true, true
		}
		steps := slices.Sorted(maps.Keys(stepSet))
		var start, end int64
		if req.StartStep != nil {
			start, end = int64(*req.StartStep), int64(*req.EndStep)
		} else if len(steps) > 0 {
			end = steps[len(steps)-1]
		}
		keep := sampleSteps(start, end, limit, steps)
		for st := range edges {
			if start <= st && st <= end {
				keep[st] = true
			}
		}
		var out []wire.Metric
		for i, id := range req.RunIDs {
			var in []store.Metric
			for _, m := range histories[i] {
				if keep[m.Step] {
					in = append(in, m)
				}
			}
			sort.SliceStable(in, func(a, b int) bool {
				x, y := in[a], in[b]
				if x.Step != y.Step {
					return x.Step < y.Step
				}
				if x.Timestamp != y.Timestamp {
					return x.Timestamp < y.Timestamp
				}
				return x.Value < y.Value
			})
			for _, m := range in {
				wm := wire.FromMetric(m)
				wm.RunID = id
				out = append(out, wm)
			}
		}
		return wire.MetricsResponse{Metrics: out}, nil
	})
}

// sampleSteps is MLflow's _get_sampled_steps_from_steps: within
// [start, end] of the sorted steps, all of them when they are at most n,
// else n evenly spaced ones plus the last (so up to n+1; its index check
// against the range's length, not its end, is kept).
func sampleSteps(start, end int64, n int, steps []int64) map[int64]bool {
	lo, _ := slices.BinarySearch(steps, start)
	hi, found := slices.BinarySearch(steps, end)
	if found {
		hi++
	}
	out := map[int64]bool{}
	if hi-lo <= n {
		for _, st := range steps[lo:hi] {
			out[st] = true
		}
		return out
	}
	num := hi - lo
	interval := float64(num) / float64(n)
	for i := 0; i < n; i++ {
		idx := lo + int(float64(i)*interval)
		if idx < num {
			out[steps[idx]] = true
		}
	}
	out[steps[hi-1]] = true
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
		ds, ok := s.raw.(store.DatasetSearcher)
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
