package wire

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/mlrun/mlrun/internal/pyjson"
	"github.com/mlrun/mlrun/store"
)

// EvaluationDataset is datasets.Dataset: tags are one JSON string.
type EvaluationDataset struct {
	DatasetID      string   `json:"dataset_id"`
	Name           string   `json:"name"`
	Tags           string   `json:"tags,omitempty"`
	Schema         string   `json:"schema,omitempty"`
	Profile        string   `json:"profile,omitempty"`
	Digest         string   `json:"digest"`
	CreatedTime    Int64    `json:"created_time"`
	LastUpdateTime Int64    `json:"last_update_time"`
	CreatedBy      string   `json:"created_by,omitempty"`
	LastUpdatedBy  string   `json:"last_updated_by,omitempty"`
	ExperimentIDs  []string `json:"experiment_ids,omitempty"`
}

// DatasetRequest is the request of every evaluation dataset endpoint
// (the dataset id is in the path, but for add and remove experiments,
// whose body carries it too); each uses the fields it needs.
type DatasetRequest struct {
	DatasetID        string   `json:"dataset_id,omitempty"`
	Name             string   `json:"name,omitempty"`
	ExperimentIDs    []ID     `json:"experiment_ids,omitempty"`
	Tags             string   `json:"tags,omitempty"` // a JSON object, as a string
	Records          string   `json:"records,omitempty"`
	FilterString     string   `json:"filter_string,omitempty"`
	OrderBy          []string `json:"order_by,omitempty"`
	MaxResults       Int64    `json:"max_results,omitempty"`
	PageToken        string   `json:"page_token,omitempty"`
	DatasetRecordIDs []string `json:"dataset_record_ids,omitempty"`
}

// DatasetResponse is the answer carrying one dataset.
type DatasetResponse struct {
	Dataset EvaluationDataset `json:"dataset"`
}

// SearchDatasetsResponse is SearchEvaluationDatasets.Response.
type SearchDatasetsResponse struct {
	Datasets      []EvaluationDataset `json:"datasets,omitempty"`
	NextPageToken string              `json:"next_page_token,omitempty"`
}

// UpsertRecordsResponse is UpsertDatasetRecords.Response.
type UpsertRecordsResponse struct {
	InsertedCount int `json:"inserted_count"`
	UpdatedCount  int `json:"updated_count"`
}

// DatasetRecordsResponse is GetDatasetRecords.Response: the records are
// one JSON string of a list.
type DatasetRecordsResponse struct {
	Records       string `json:"records"`
	NextPageToken string `json:"next_page_token,omitempty"`
}

// DeleteRecordsResponse is DeleteDatasetRecords.Response.
type DeleteRecordsResponse struct {
	DeletedCount int `json:"deleted_count"`
}

// ExperimentIDsResponse is GetDatasetExperimentIds.Response.
type ExperimentIDsResponse struct {
	ExperimentIDs []string `json:"experiment_ids,omitempty"`
}

// IDs is a list of wire ids as strings.
func IDs(ids []ID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}

// FromEvaluationDataset is a stored dataset on the wire; its tags are the
// JSON text of an object, as Python's json.dumps writes it.
func FromEvaluationDataset(d *store.EvaluationDataset) EvaluationDataset {
	return EvaluationDataset{DatasetID: d.ID, Name: d.Name, Tags: TagsJSON(d.Tags), Schema: d.Schema, Profile: d.Profile, Digest: d.Digest,
		CreatedTime: Int64(d.CreatedTime), LastUpdateTime: Int64(d.LastUpdateTime), CreatedBy: d.CreatedBy, LastUpdatedBy: d.LastUpdatedBy,
		ExperimentIDs: d.ExperimentIDs}
}

// ToEvaluationDataset is a wire dataset as stored.
func (d EvaluationDataset) ToEvaluationDataset() (*store.EvaluationDataset, error) {
	tags, err := ParseTagsJSON(d.Tags)
	if err != nil {
		return nil, err
	}
	return &store.EvaluationDataset{ID: d.DatasetID, Name: d.Name, Tags: tags, Schema: d.Schema, Profile: d.Profile, Digest: d.Digest,
		CreatedTime: int64(d.CreatedTime), LastUpdateTime: int64(d.LastUpdateTime), CreatedBy: d.CreatedBy, LastUpdatedBy: d.LastUpdatedBy,
		ExperimentIDs: d.ExperimentIDs}, nil
}

// TagsJSON is tags as one JSON object (keys sorted), as Python's
// json.dumps writes the dict.
func TagsJSON(tags []store.Tag) string {
	m := map[string]string{}
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	b, _ := json.Marshal(m)
	out, err := pyjson.SortedDumps(b)
	if err != nil {
		return string(b)
	}
	return string(out)
}

// ParseTagsJSON reads tags sent as one JSON object: a value that is not a
// string is kept as Python's str() of it would read (true → "True"),
// and null leaves the tag out (MLflow skips None).
func ParseTagsJSON(text string) ([]store.Tag, error) {
	if text == "" {
		return nil, nil
	}
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(text))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return nil, store.Invalidf("'tags' must be a JSON object of tag names to values: %v", err)
	}
	var tags []store.Tag
	for k, v := range m {
		var s string
		switch v := v.(type) {
		case nil:
			continue
		case string:
			s = v
		case bool:
			s = map[bool]string{true: "True", false: "False"}[v]
		case json.Number:
			s = v.String()
			if f, err := strconv.ParseFloat(s, 64); err == nil && !isInt(s) {
				s = pyjson.FloatRepr(f)
			}
		default:
			b, _ := json.Marshal(v)
			s = string(b)
		}
		tags = append(tags, store.Tag{Key: k, Value: s})
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
	return tags, nil
}

func isInt(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

// DatasetRecordJSON appends a record as MLflow's DatasetRecord.to_dict
// writes it, in its proto's field order, its JSON fields as JSON.
func DatasetRecordJSON(dst []byte, r *store.DatasetRecord) []byte {
	str := func(k, v string) {
		b, _ := json.Marshal(v)
		dst = append(append(dst, `,"`+k+`":`...), b...)
	}
	raw := func(k, v string) { dst = append(append(dst, `,"`+k+`":`...), v...) }
	id, _ := json.Marshal(r.ID)
	dst = append(append(dst, `{"dataset_record_id":`...), id...)
	str("dataset_id", r.DatasetID)
	raw("inputs", r.Inputs)
	if r.Expectations != "" {
		raw("expectations", r.Expectations)
	}
	raw("tags", r.Tags)
	if r.Source != "" {
		raw("source", r.Source)
	}
	if r.SourceID != "" {
		str("source_id", r.SourceID)
	}
	if r.SourceType != "" {
		str("source_type", r.SourceType)
	}
	raw("created_time", strconv.FormatInt(r.CreatedTime, 10))
	raw("last_update_time", strconv.FormatInt(r.LastUpdateTime, 10))
	if r.CreatedBy != "" {
		str("created_by", r.CreatedBy)
	}
	if r.LastUpdatedBy != "" {
		str("last_updated_by", r.LastUpdatedBy)
	}
	if r.Outputs != "" {
		raw("outputs", r.Outputs)
	}
	return append(dst, '}')
}

// ParseDatasetRecords reads GetDatasetRecords' records string.
func ParseDatasetRecords(text string) ([]*store.DatasetRecord, error) {
	if text == "" {
		return nil, nil
	}
	var list []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &list); err != nil {
		return nil, fmt.Errorf("malformed records: %w", err)
	}
	out := make([]*store.DatasetRecord, len(list))
	for i, m := range list {
		str := func(k string) string {
			var s string
			json.Unmarshal(m[k], &s)
			return s
		}
		num := func(k string) int64 {
			var n Int64
			json.Unmarshal(m[k], &n)
			return int64(n)
		}
		rawText := func(k string) string {
			if v, ok := m[k]; ok && string(v) != "null" {
				return string(v)
			}
			return ""
		}
		out[i] = &store.DatasetRecord{ID: str("dataset_record_id"), DatasetID: str("dataset_id"), Inputs: rawText("inputs"), Outputs: rawText("outputs"),
			Expectations: rawText("expectations"), Tags: rawText("tags"), Source: rawText("source"), SourceID: str("source_id"), SourceType: str("source_type"),
			CreatedTime: num("created_time"), LastUpdateTime: num("last_update_time"), CreatedBy: str("created_by"), LastUpdatedBy: str("last_updated_by")}
	}
	return out, nil
}
