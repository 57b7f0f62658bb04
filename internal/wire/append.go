package wire

import (
	"encoding/json"
	"strconv"

	"github.com/mlrun/mlrun/store"
)

// AppendRun appends r as json.Marshal(FromRun(r)) writes it, byte for
// byte, without the conversion and reflection: a search's page is
// mostly runs. The rare parts (dataset and model inputs, model outputs)
// go through encoding/json.
func AppendRun(dst []byte, r *store.Run) []byte {
	dst = append(dst, `{"info":`...)
	dst = appendRunInfo(dst, &r.Info)
	dst = append(dst, `,"data":{`...)
	sep := false
	if len(r.Metrics) > 0 {
		dst = append(dst, `"metrics":[`...)
		for i := range r.Metrics {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendMetric(dst, &r.Metrics[i])
		}
		dst = append(dst, ']')
		sep = true
	}
	if len(r.Params) > 0 {
		if sep {
			dst = append(dst, ',')
		}
		dst = append(dst, `"params":[`...)
		for i, p := range r.Params {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendKeyValue(dst, p.Key, p.Value)
		}
		dst = append(dst, ']')
		sep = true
	}
	if len(r.Tags) > 0 {
		if sep {
			dst = append(dst, ',')
		}
		dst = append(dst, `"tags":[`...)
		for i, t := range r.Tags {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendKeyValue(dst, t.Key, t.Value)
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `},"inputs":`...)
	if len(r.Inputs) == 0 && len(r.ModelInputs) == 0 {
		dst = append(dst, `{}`...)
	} else {
		dst = appendJSON(dst, FromRun(&store.Run{Inputs: r.Inputs, ModelInputs: r.ModelInputs}).Inputs)
	}
	dst = append(dst, `,"outputs":`...)
	if len(r.Outputs) == 0 {
		dst = append(dst, `{}`...)
	} else {
		dst = appendJSON(dst, FromRun(&store.Run{Outputs: r.Outputs}).Outputs)
	}
	return append(dst, '}')
}

// appendRunInfo appends ri as RunInfo encodes it.
func appendRunInfo(dst []byte, ri *store.RunInfo) []byte {
	dst = append(dst, `{"run_id":`...)
	dst = AppendString(dst, ri.RunID)
	dst = append(dst, `,"run_uuid":`...)
	dst = AppendString(dst, ri.RunID)
	if ri.RunName != "" {
		dst = append(dst, `,"run_name":`...)
		dst = AppendString(dst, ri.RunName)
	}
	dst = append(dst, `,"experiment_id":`...)
	dst = AppendString(dst, ri.ExperimentID)
	if ri.UserID != "" {
		dst = append(dst, `,"user_id":`...)
		dst = AppendString(dst, ri.UserID)
	}
	if ri.Status != "" {
		dst = append(dst, `,"status":`...)
		dst = AppendString(dst, string(ri.Status))
	}
	if ri.StartTime != 0 {
		dst = append(dst, `,"start_time":`...)
		dst = strconv.AppendInt(dst, ri.StartTime, 10)
	}
	if ri.EndTime != nil {
		dst = append(dst, `,"end_time":`...)
		dst = strconv.AppendInt(dst, *ri.EndTime, 10)
	}
	if ri.ArtifactURI != "" {
		dst = append(dst, `,"artifact_uri":`...)
		dst = AppendString(dst, ri.ArtifactURI)
	}
	if ri.LifecycleStage != "" {
		dst = append(dst, `,"lifecycle_stage":`...)
		dst = AppendString(dst, ri.LifecycleStage)
	}
	return append(dst, '}')
}

// appendMetric appends m as Metric encodes it.
func appendMetric(dst []byte, m *store.Metric) []byte {
	dst = append(dst, `{"key":`...)
	dst = AppendString(dst, m.Key)
	dst = append(dst, `,"value":`...)
	dst = AppendFloat(dst, m.Value)
	dst = append(dst, `,"timestamp":`...)
	dst = strconv.AppendInt(dst, m.Timestamp, 10)
	dst = append(dst, `,"step":`...)
	dst = strconv.AppendInt(dst, m.Step, 10)
	for _, f := range [...]struct{ name, v string }{
		{`,"run_id":`, m.RunID}, {`,"dataset_name":`, m.DatasetName},
		{`,"dataset_digest":`, m.DatasetDigest}, {`,"model_id":`, m.ModelID},
	} {
		if f.v != "" {
			dst = append(dst, f.name...)
			dst = AppendString(dst, f.v)
		}
	}
	return append(dst, '}')
}

// appendKeyValue appends a param or tag as KeyValue encodes it.
func appendKeyValue(dst []byte, key, value string) []byte {
	dst = append(dst, `{"key":`...)
	dst = AppendString(dst, key)
	dst = append(dst, `,"value":`...)
	dst = AppendString(dst, value)
	return append(dst, '}')
}

// AppendString appends s as encoding/json writes a string: quoted, with
// its HTML escaping (<, >, & as \u003c…) and its replacement of invalid
// UTF-8. Strings of plain printable ASCII, nearly all of them, are
// copied; the others go through encoding/json.
func AppendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return appendJSON(dst, s)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// appendJSON appends v as json.Marshal writes it; v is one of this
// package's types or a string, which always encode.
func appendJSON(dst []byte, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("wire: " + err.Error())
	}
	return append(dst, b...)
}
