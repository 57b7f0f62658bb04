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
	data := len(dst)
	if len(r.Metrics) > 0 {
		dst = append(dst, `"metrics":[`...)
		for i := range r.Metrics {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendMetric(dst, &r.Metrics[i])
		}
		dst = append(dst, ']')
	}
	dst = appendKeyValues(dst, data, `"params":[`, r.Params, func(p store.Param) (string, string) { return p.Key, p.Value })
	dst = appendKeyValues(dst, data, `"tags":[`, r.Tags, func(t store.Tag) (string, string) { return t.Key, t.Value })
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
	dst = appendOmitEmpty(dst, `,"run_name":`, ri.RunName)
	dst = append(dst, `,"experiment_id":`...)
	dst = AppendString(dst, ri.ExperimentID)
	dst = appendOmitEmpty(dst, `,"user_id":`, ri.UserID)
	dst = appendOmitEmpty(dst, `,"status":`, string(ri.Status))
	if ri.StartTime != 0 {
		dst = append(dst, `,"start_time":`...)
		dst = strconv.AppendInt(dst, ri.StartTime, 10)
	}
	if ri.EndTime != nil {
		dst = append(dst, `,"end_time":`...)
		dst = strconv.AppendInt(dst, *ri.EndTime, 10)
	}
	dst = appendOmitEmpty(dst, `,"artifact_uri":`, ri.ArtifactURI)
	dst = appendOmitEmpty(dst, `,"lifecycle_stage":`, ri.LifecycleStage)
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
	dst = appendOmitEmpty(dst, `,"run_id":`, m.RunID)
	dst = appendOmitEmpty(dst, `,"dataset_name":`, m.DatasetName)
	dst = appendOmitEmpty(dst, `,"dataset_digest":`, m.DatasetDigest)
	dst = appendOmitEmpty(dst, `,"model_id":`, m.ModelID)
	return append(dst, '}')
}

// appendOmitEmpty appends a string field tagged omitempty (name is
// `,"field":`), nothing when v is empty.
func appendOmitEmpty(dst []byte, name, v string) []byte {
	if v == "" {
		return dst
	}
	dst = append(dst, name...)
	return AppendString(dst, v)
}

// appendKeyValues appends a non-empty list of params or tags as
// RunData's field encodes it (open: `"params":[`), after a comma when
// the object has a field since its start at dst[from].
func appendKeyValues[T any](dst []byte, from int, open string, items []T, kv func(T) (string, string)) []byte {
	if len(items) == 0 {
		return dst
	}
	if len(dst) > from {
		dst = append(dst, ',')
	}
	dst = append(dst, open...)
	for i, it := range items {
		if i > 0 {
			dst = append(dst, ',')
		}
		k, v := kv(it)
		dst = appendKeyValue(dst, k, v)
	}
	return append(dst, ']')
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
