package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mlrun/mlrun/store"
)

// writeRunsCSV writes every run of an experiment (deleted ones left out)
// as mlflow experiments csv does (mlflow.search_runs' table, by pandas):
// run_id, experiment_id, status, artifact_uri, start_time, end_time, then
// metrics.<key>, params.<key> and tags.<key>, each group by key; newest
// run first; a missing value is empty.
func writeRunsCSV(ctx context.Context, st store.Store, experimentID string, w io.Writer) error {
	var runs []*store.Run
	for token := ""; ; {
		page, next, err := st.SearchRuns(ctx, store.SearchRuns{ExperimentIDs: []string{experimentID}, MaxResults: 1000, PageToken: token})
		if err != nil {
			return err
		}
		runs = append(runs, page...)
		if token = next; token == "" {
			break
		}
	}
	keys := func(each func(*store.Run) []string) []string {
		seen := map[string]bool{}
		var ks []string
		for _, r := range runs {
			for _, k := range each(r) {
				if !seen[k] {
					seen[k] = true
					ks = append(ks, k)
				}
			}
		}
		slices.Sort(ks)
		return ks
	}
	metricKeys := keys(func(r *store.Run) (ks []string) {
		for _, m := range r.Metrics {
			ks = append(ks, m.Key)
		}
		return ks
	})
	paramKeys := keys(func(r *store.Run) (ks []string) {
		for _, p := range r.Params {
			ks = append(ks, p.Key)
		}
		return ks
	})
	tagKeys := keys(func(r *store.Run) (ks []string) {
		for _, t := range r.Tags {
			ks = append(ks, t.Key)
		}
		return ks
	})
	header := []string{"run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time"}
	for _, group := range []struct {
		prefix string
		keys   []string
	}{{"metrics.", metricKeys}, {"params.", paramKeys}, {"tags.", tagKeys}} {
		for _, k := range group.keys {
			header = append(header, group.prefix+k)
		}
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, r := range runs {
		end := ""
		if r.Info.EndTime != nil {
			end = pandasTime(*r.Info.EndTime)
		}
		row := []string{r.Info.RunID, r.Info.ExperimentID, string(r.Info.Status), r.Info.ArtifactURI, pandasTime(r.Info.StartTime), end}
		metrics := map[string]float64{}
		for _, m := range r.Metrics {
			metrics[m.Key] = m.Value
		}
		for _, k := range metricKeys {
			v, ok := metrics[k]
			if !ok || math.IsNaN(v) {
				row = append(row, "")
				continue
			}
			row = append(row, pandasFloat(v))
		}
		params := map[string]string{}
		for _, p := range r.Params {
			params[p.Key] = p.Value
		}
		for _, k := range paramKeys {
			row = append(row, params[k])
		}
		tags := map[string]string{}
		for _, t := range r.Tags {
			tags[t.Key] = t.Value
		}
		for _, k := range tagKeys {
			row = append(row, tags[k])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// pandasTime writes ms since the epoch as pandas writes a UTC timestamp.
func pandasTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05.000000-07:00")
}

// pandasFloat writes a float as Python's repr does (1.0, 0.25, 1e-05, inf).
func pandasFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(v, 'g', -1, 64)
	if e := strings.IndexByte(s, 'e'); e >= 0 {
		exp, _ := strconv.Atoi(s[e+1:])
		if exp >= -4 && exp < 16 {
			s = strconv.FormatFloat(v, 'f', -1, 64)
		} else {
			mant, sign := s[:e], "+"
			if exp < 0 {
				sign, exp = "-", -exp
			}
			return fmt.Sprintf("%se%s%02d", mant, sign, exp)
		}
	}
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}
