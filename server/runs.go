package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/store"
)

// statusNames maps RunStatus enum numbers to names.
var statusNames = map[string]string{"1": "RUNNING", "2": "SCHEDULED", "3": "FINISHED", "4": "FAILED", "5": "KILLED"}

func (s *Server) createRun(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.CreateRun) (any, error) {
		run, err := s.store.CreateRun(r.Context(), store.CreateRun{
			ExperimentID: string(req.ExperimentID), UserID: req.UserID, RunName: req.RunName,
			StartTime: int64(req.StartTime), Tags: wire.ToTags(req.Tags),
		})
		if err != nil {
			return nil, err
		}
		return runResponse{run}, nil
	})
}

// runResponse is a RunResponse, written by wire.AppendRun (what
// encoding/json writes for it, byte for byte, with less work).
type runResponse struct{ run *store.Run }

func (rr runResponse) stream(w http.ResponseWriter, _ *http.Request) {
	b := append(make([]byte, 0, 1024), `{"run":`...)
	b = append(wire.AppendRun(b, rr.run), '}')
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

func (s *Server) getRun(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.RunRequest) (any, error) {
		if err := require("run_id", req.ID()); err != nil {
			return nil, err
		}
		run, err := s.store.GetRun(r.Context(), req.ID())
		if err != nil {
			return nil, err
		}
		return runResponse{run}, nil
	})
}

func (s *Server) updateRun(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.UpdateRun) (any, error) {
		if err := require("run_id", req.ID()); err != nil {
			return nil, err
		}
		var u store.UpdateRun
		if req.Status != "" {
			name := string(req.Status)
			if n, ok := statusNames[name]; ok {
				name = n
			}
			st, err := store.ParseRunStatus(name)
			if err != nil {
				return nil, err
			}
			u.Status = &st
		}
		if req.EndTime != nil {
			v := int64(*req.EndTime)
			u.EndTime = &v
		}
		if req.RunName != "" {
			u.RunName = &req.RunName
		}
		info, err := s.store.UpdateRun(r.Context(), req.ID(), u)
		if err != nil {
			return nil, err
		}
		return wire.UpdateRunResponse{RunInfo: wire.FromRunInfo(info)}, nil
	})
}

func (s *Server) deleteRun(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.RunRequest) (any, error) {
		if err := require("run_id", req.RunID); err != nil {
			return nil, err
		}
		return empty{}, s.store.DeleteRun(r.Context(), req.RunID)
	})
}

func (s *Server) restoreRun(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.RunRequest) (any, error) {
		if err := require("run_id", req.RunID); err != nil {
			return nil, err
		}
		return empty{}, s.store.RestoreRun(r.Context(), req.RunID)
	})
}

func (s *Server) searchRuns(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.SearchRuns) (any, error) {
		vt, err := store.ParseViewType(string(req.RunViewType))
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(req.ExperimentIDs))
		for i, id := range req.ExperimentIDs {
			ids[i] = string(id)
		}
		q := store.SearchRuns{
			ExperimentIDs: ids, Filter: req.Filter, OrderBy: req.OrderBy, ViewType: vt,
			MaxResults: int(req.MaxResults), PageToken: req.PageToken,
		}
		if rs, ok := s.raw.(store.RunsStreamer); ok {
			return runsStream{rs, q, s.timeStream}, nil
		}
		runs, next, err := s.store.SearchRuns(r.Context(), q)
		if err != nil {
			return nil, err
		}
		resp := wire.SearchRunsResponse{NextPageToken: next}
		for _, run := range runs {
			resp.Runs = append(resp.Runs, wire.FromRun(run))
		}
		return resp, nil
	})
}

func (s *Server) logMetric(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.LogMetric) (any, error) {
		if err := require("run_id", req.ID(), "key", req.Key); err != nil {
			return nil, err
		}
		if req.Value == nil {
			return nil, missingParam("value")
		}
		if req.Timestamp == nil {
			return nil, missingParam("timestamp")
		}
		return empty{}, s.store.LogMetric(r.Context(), req.ID(), store.Metric{
			Key: req.Key, Value: float64(*req.Value), Timestamp: int64(*req.Timestamp), Step: int64(req.Step),
			ModelID: req.ModelID, DatasetName: req.DatasetName, DatasetDigest: req.DatasetDigest,
		})
	})
}

func (s *Server) logParam(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.LogParam) (any, error) {
		if err := require("run_id", req.ID(), "key", req.Key); err != nil {
			return nil, err
		}
		return empty{}, s.store.LogParam(r.Context(), req.ID(), store.Param{Key: req.Key, Value: req.Value})
	})
}

func (s *Server) setTag(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.SetTag) (any, error) {
		if err := require("run_id", req.ID(), "key", req.Key); err != nil {
			return nil, err
		}
		return empty{}, s.store.SetTag(r.Context(), req.ID(), store.Tag{Key: req.Key, Value: req.Value})
	})
}

func (s *Server) deleteTag(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.DeleteTag) (any, error) {
		if err := require("run_id", req.RunID, "key", req.Key); err != nil {
			return nil, err
		}
		return empty{}, s.store.DeleteTag(r.Context(), req.RunID, req.Key)
	})
}

func (s *Server) logBatch(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.LogBatch) (any, error) {
		if err := require("run_id", req.RunID); err != nil {
			return nil, err
		}
		ms := make([]store.Metric, len(req.Metrics))
		for i, m := range req.Metrics {
			switch {
			case m.Key == "":
				return nil, missingParam(fmt.Sprintf("metrics[%d].key", i))
			case m.Value == nil:
				return nil, missingParam(fmt.Sprintf("metrics[%d].value", i))
			case m.Timestamp == nil:
				return nil, missingParam(fmt.Sprintf("metrics[%d].timestamp", i))
			}
			ms[i] = store.Metric{Key: m.Key, Value: float64(*m.Value), Timestamp: int64(*m.Timestamp), Step: int64(m.Step),
				ModelID: m.ModelID, DatasetName: m.DatasetName, DatasetDigest: m.DatasetDigest}
		}
		for i, p := range req.Params {
			if p.Key == "" {
				return nil, missingParam(fmt.Sprintf("params[%d].key", i))
			}
		}
		for i, t := range req.Tags {
			if t.Key == "" {
				return nil, missingParam(fmt.Sprintf("tags[%d].key", i))
			}
		}
		return empty{}, s.store.LogBatch(r.Context(), req.RunID, ms, wire.ToParams(req.Params), wire.ToTags(req.Tags))
	})
}

// logModel appends the model's JSON to the run's mlflow.log-model.history
// tag, as MLflow does.
func (s *Server) logModel(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.LogModel) (any, error) {
		if err := require("run_id", req.RunID, "model_json", req.ModelJSON); err != nil {
			return nil, err
		}
		var model map[string]any
		if err := json.Unmarshal([]byte(req.ModelJSON), &model); err != nil {
			return nil, invalidParam("Malformed model info. 'model_json' must be a JSON object: " + err.Error())
		}
		for _, k := range []string{"artifact_path", "flavors", "utc_time_created", "run_id"} {
			if _, ok := model[k]; !ok {
				return nil, invalidParam(fmt.Sprintf("Model json is missing mandatory fields: ['%s']", k))
			}
		}
		return empty{}, s.store.LogModel(r.Context(), req.RunID, req.ModelJSON)
	})
}

func (s *Server) logInputs(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.LogInputs) (any, error) {
		if err := require("run_id", req.RunID); err != nil {
			return nil, err
		}
		if len(req.Models) > 0 {
			lm, err := s.lm()
			if err != nil {
				return nil, err
			}
			var ids []string
			for i, m := range req.Models {
				if m.ModelID == "" {
					return nil, missingParam(fmt.Sprintf("models[%d].model_id", i))
				}
				ids = append(ids, m.ModelID)
			}
			if err := lm.LogModelInputs(r.Context(), req.RunID, ids); err != nil {
				return nil, err
			}
			if len(req.Datasets) == 0 {
				return empty{}, nil
			}
		}
		return empty{}, s.store.LogInputs(r.Context(), req.RunID, wire.ToDatasetInputs(req.Datasets))
	})
}

// runsStream writes a runs/search page as the store loads it, in 32 KiB
// writes: the same bytes as SearchRunsResponse's JSON, without holding
// the page.
type runsStream struct {
	rs   store.RunsStreamer
	q    store.SearchRuns
	time func(op string, start time.Time)
}

func (rs runsStream) stream(w http.ResponseWriter, r *http.Request) {
	defer rs.time("SearchRuns", time.Now())
	a := arrayStream{w: w, open: `{"runs":[`}
	next, err := rs.rs.StreamSearchRuns(r.Context(), rs.q, func(run *store.Run) error {
		return a.add(func(buf []byte) []byte { return wire.AppendRun(buf, run) })
	})
	var tail []byte
	if next != "" {
		tok, _ := json.Marshal(next)
		tail = append([]byte(`,"next_page_token":`), tok...)
	}
	a.finish(r, err, wire.SearchRunsResponse{NextPageToken: next}, tail)
}
