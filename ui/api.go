package ui

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/mlrun/mlrun/store"
)

func urlEscape(s string) string { return url.QueryEscape(s) }

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// series is one run's downsampled metric history.
type series struct {
	RunID   string  `json:"run_id"`
	Name    string  `json:"name"`
	Running bool    `json:"running"`
	Points  []Point `json:"points"`
	Total   int     `json:"total"`
}

// maxChartPoints bounds what a chart receives per run.
const maxChartPoints = 1000

// MetricSeries loads runs' histories of key, with x as "step", "time"
// (ms since the epoch) or "relative" (seconds since the run started),
// each downsampled to at most n points with LTTB.
func MetricSeries(r *http.Request, st store.Store, ids []string, key, x string, n int) ([]series, error) {
	var out []series
	for _, id := range ids {
		run, err := st.GetRun(r.Context(), id)
		if err != nil {
			return nil, err
		}
		ms, _, err := st.GetMetricHistory(r.Context(), id, key, 0, "")
		if err != nil {
			return nil, err
		}
		pts := make([]Point, 0, len(ms))
		for _, m := range ms {
			var px float64
			switch x {
			case "time":
				px = float64(m.Timestamp)
			case "relative":
				px = float64(m.Timestamp-run.Info.StartTime) / 1000
			default:
				px = float64(m.Step)
			}
			pts = append(pts, Point{X: px, Y: m.Value})
		}
		sortPoints(pts)
		out = append(out, series{RunID: id, Name: run.Info.RunName, Running: run.Info.Status == store.StatusRunning,
			Points: LTTB(pts, n), Total: len(ms)})
	}
	return out, nil
}

func sortPoints(pts []Point) {
	// Histories come ordered by timestamp; a chart by step wants x order.
	for i := 1; i < len(pts); i++ {
		if pts[i].X < pts[i-1].X {
			sortByX(pts)
			return
		}
	}
}

func (h *Handler) metricsAPI(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n, _ := strconv.Atoi(q.Get("n"))
	if n <= 0 || n > maxChartPoints {
		n = maxChartPoints
	}
	out, err := MetricSeries(r, h.opts.Store, splitIDs(q.Get("runs")), q.Get("key"), q.Get("x"), n)
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"series": out})
}
