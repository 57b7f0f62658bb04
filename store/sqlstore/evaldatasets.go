package sqlstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mlrun/mlrun/internal/pyjson"
	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/search"
)

var _ store.EvaluationDatasets = (*Store)(nil)

// MLflow's names in entity_associations, and its reserved keys.
const (
	assocDataset    = "evaluation_dataset"
	assocExperiment = "experiment"
	// wrappedOutput holds a record's outputs in the outputs column, so
	// that outputs that are not an object can be stored (MLflow's
	// DATASET_RECORD_WRAPPED_OUTPUT_KEY).
	wrappedOutput = "mlflow_wrapped"
	tagUser       = "mlflow.user"
)

const datasetCols = `dataset_id, name, schema, profile, digest, created_time, last_update_time, created_by, last_updated_by`

func (s *Store) requireEvalDatasets() error {
	if !s.evalDatasets || !s.associations {
		return store.Errorf(store.ErrUnsupported, "evaluation datasets need MLflow 3's evaluation_datasets tables, and this database is at MLflow revision %s: upgrade it with 'mlrun db upgrade' (stop the servers and runs using it first)", s.revision)
	}
	return nil
}

func datasetNotFound(id string) error {
	return store.NotFoundf("Could not find evaluation dataset with ID %s", id)
}

// datasetDigest is MLflow's: the first 8 hex digits of the SHA-256 of
// "name:last_update_time", so every change gives another digest.
func datasetDigest(name string, ms int64) string {
	sum := sha256.Sum256([]byte(name + ":" + strconv.FormatInt(ms, 10)))
	return hex.EncodeToString(sum[:])[:8]
}

func scanDataset(row interface{ Scan(...any) error }) (*store.EvaluationDataset, error) {
	var (
		d                       store.EvaluationDataset
		schema, profile, digest sql.NullString
		created, updated        sql.NullInt64
		createdBy, updatedBy    sql.NullString
	)
	if err := row.Scan(&d.ID, &d.Name, &schema, &profile, &digest, &created, &updated, &createdBy, &updatedBy); err != nil {
		return nil, err
	}
	d.Schema, d.Profile, d.Digest = schema.String, profile.String, digest.String
	d.CreatedTime, d.LastUpdateTime, d.CreatedBy, d.LastUpdatedBy = created.Int64, updated.Int64, createdBy.String, updatedBy.String
	return &d, nil
}

// dataset reads a dataset with its tags.
func (s *Store) dataset(ctx context.Context, q querier, id string) (*store.EvaluationDataset, error) {
	d, err := scanDataset(q.QueryRowContext(ctx, `SELECT `+datasetCols+` FROM evaluation_datasets WHERE dataset_id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, datasetNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("get evaluation dataset %s: %w", id, err)
	}
	if d.Tags, err = datasetTags(ctx, q, id); err != nil {
		return nil, err
	}
	return d, nil
}

func datasetTags(ctx context.Context, q querier, id string) ([]store.Tag, error) {
	rows, err := q.QueryContext(ctx, `SELECT "key", value FROM evaluation_dataset_tags WHERE dataset_id = ? ORDER BY "key"`, id)
	if err != nil {
		return nil, fmt.Errorf("get evaluation dataset %s tags: %w", id, err)
	}
	return collect(rows, func(r interface{ Scan(...any) error }) (store.Tag, error) {
		var t store.Tag
		var v sql.NullString
		err := r.Scan(&t.Key, &v)
		t.Value = v.String
		return t, err
	})
}

// datasetExperiments lists the experiments a dataset is linked to, in
// the order they were linked.
func datasetExperiments(ctx context.Context, q querier, id string) ([]string, error) {
	ids, err := Strings(q.QueryContext(ctx, `SELECT destination_id FROM entity_associations
		WHERE source_type = ? AND source_id = ? AND destination_type = ? ORDER BY created_time, destination_id`, assocDataset, id, assocExperiment))
	if err != nil {
		return nil, fmt.Errorf("get evaluation dataset %s experiments: %w", id, err)
	}
	return ids, nil
}

// checkExperiments makes sure each experiment exists.
func checkExperiments(ctx context.Context, q querier, ids []string) error {
	for _, id := range ids {
		if _, _, err := experimentRow(ctx, q, id); err != nil {
			return err
		}
	}
	return nil
}

// linkExperiments links a dataset to experiments (once each).
func (s *Store) linkExperiments(ctx context.Context, tx *sql.Tx, id string, experimentIDs []string, now int64) error {
	for _, exp := range experimentIDs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO entity_associations (association_id, source_type, source_id, destination_type, destination_id, created_time)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, "a-"+newID(), assocDataset, id, assocExperiment, strings.TrimSpace(exp), now); err != nil {
			return err
		}
	}
	return nil
}

func checkDatasetTags(tags []store.Tag) error {
	for _, t := range tags {
		switch {
		case t.Key == "":
			return store.Invalidf("Evaluation dataset tag keys must not be empty.")
		case len(t.Key) > 255:
			return store.Invalidf("Evaluation dataset tag key '%.40s…' is %d characters long; the limit is 255.", t.Key, len(t.Key))
		case len(t.Value) > 5000:
			return store.Invalidf("The value of evaluation dataset tag '%s' is %d characters long; the limit is 5000.", t.Key, len(t.Value))
		}
	}
	return nil
}

// CreateEvaluationDataset implements store.EvaluationDatasets.
func (s *Store) CreateEvaluationDataset(ctx context.Context, name string, tags []store.Tag, experimentIDs []string) (*store.EvaluationDataset, error) {
	if err := s.requireEvalDatasets(); err != nil {
		return nil, err
	}
	switch {
	case name == "":
		return nil, store.Invalidf("Missing value for required parameter 'name'.")
	case len(name) > 255:
		return nil, store.Invalidf("Evaluation dataset name '%.40s…' is %d characters long; the limit is 255.", name, len(name))
	}
	if err := checkDatasetTags(tags); err != nil {
		return nil, err
	}
	var out *store.EvaluationDataset
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := checkExperiments(ctx, tx, experimentIDs); err != nil {
			return err
		}
		id, now := "d-"+newID(), nowMillis()
		var user any
		for _, t := range tags {
			if t.Key == tagUser {
				user = t.Value
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO evaluation_datasets (`+datasetCols+`) VALUES (?, ?, NULL, NULL, ?, ?, ?, ?, ?)`,
			id, name, datasetDigest(name, now), now, now, user, user); err != nil {
			return err
		}
		for _, t := range tags {
			if _, err := tx.ExecContext(ctx, `INSERT INTO evaluation_dataset_tags (dataset_id, "key", value) VALUES (?, ?, ?)
				ON CONFLICT (dataset_id, "key") DO UPDATE SET value = excluded.value`, id, t.Key, t.Value); err != nil {
				return err
			}
		}
		if err := s.linkExperiments(ctx, tx, id, experimentIDs, now); err != nil {
			return err
		}
		var err error
		if out, err = s.dataset(ctx, tx, id); err != nil {
			return err
		}
		out.ExperimentIDs, err = datasetExperiments(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, wrap("create evaluation dataset", err)
	}
	return out, nil
}

// GetEvaluationDataset implements store.EvaluationDatasets.
func (s *Store) GetEvaluationDataset(ctx context.Context, id string) (*store.EvaluationDataset, error) {
	if err := s.requireEvalDatasets(); err != nil {
		return nil, err
	}
	return s.dataset(ctx, s.r, id)
}

// DeleteEvaluationDataset implements store.EvaluationDatasets.
func (s *Store) DeleteEvaluationDataset(ctx context.Context, id string) error {
	if err := s.requireEvalDatasets(); err != nil {
		return err
	}
	return wrap("delete evaluation dataset", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM entity_associations WHERE (source_type = ? AND source_id = ?) OR (destination_type = ? AND destination_id = ?)`,
			assocDataset, id, assocDataset, id); err != nil {
			return err
		}
		for _, table := range []string{"evaluation_dataset_records", "evaluation_dataset_tags", "evaluation_datasets"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE dataset_id = ?`, id); err != nil {
				return err
			}
		}
		return nil
	}))
}

// SearchEvaluationDatasets implements store.EvaluationDatasets.
func (s *Store) SearchEvaluationDatasets(ctx context.Context, q store.SearchEvaluationDatasets) ([]*store.EvaluationDataset, string, error) {
	if err := s.requireEvalDatasets(); err != nil {
		return nil, "", err
	}
	max := q.MaxResults
	switch {
	case max == 0:
		max = 1000
	case max < 0 || max > store.Limits.SearchMaxResults:
		return nil, "", store.Invalidf("Invalid value %d for parameter 'max_results' supplied. It must be at most %d and at least 1", max, store.Limits.SearchMaxResults)
	}
	clauses, err := search.EvaluationDatasets.Parse(q.Filter)
	if err != nil {
		return nil, "", err
	}
	order, err := search.EvaluationDatasets.ParseOrderBy(q.OrderBy)
	if err != nil {
		return nil, "", err
	}
	tok, err := search.DecodeToken(q.PageToken)
	if err != nil {
		return nil, "", err
	}
	where, args := []string{"1=1"}, []any{}
	if len(q.ExperimentIDs) > 0 {
		cond, ids := s.d.InIDs(stringsToAny(q.ExperimentIDs))
		where = append(where, `EXISTS (SELECT 1 FROM entity_associations a WHERE a.source_type = ? AND a.source_id = d.dataset_id AND a.destination_type = ? AND a.destination_id`+cond+`)`)
		args = append(append(args, assocDataset, assocExperiment), ids...)
	}
	w, a := attrTagWhere(clauses, "d", "dataset_id", "evaluation_dataset_tags")
	where, args = append(where, w...), append(args, a...)
	orderSQL := attrOrder(order, "d", "dataset_id", "d.created_time DESC", "d.dataset_id DESC")
	rows, err := s.r.QueryContext(ctx, `SELECT `+prefixCols("d.", datasetCols)+` FROM evaluation_datasets d WHERE `+strings.Join(where, " AND ")+
		` ORDER BY `+strings.Join(orderSQL, ", ")+` LIMIT ? OFFSET ?`, append(args, max+1, tok.Offset)...)
	if err != nil {
		return nil, "", fmt.Errorf("search evaluation datasets: %w", err)
	}
	out, err := collect(rows, scanDataset)
	if err != nil {
		return nil, "", fmt.Errorf("search evaluation datasets: %w", err)
	}
	out, next := page(out, max, tok.Offset)
	for _, d := range out {
		if d.Tags, err = datasetTags(ctx, s.r, d.ID); err != nil {
			return nil, "", err
		}
	}
	return out, next, nil
}

func stringsToAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, v := range ss {
		out[i] = v
	}
	return out
}

// SetEvaluationDatasetTags implements store.EvaluationDatasets.
func (s *Store) SetEvaluationDatasetTags(ctx context.Context, id string, tags []store.Tag) error {
	if err := s.requireEvalDatasets(); err != nil {
		return err
	}
	if err := checkDatasetTags(tags); err != nil {
		return err
	}
	return wrap("set evaluation dataset tags", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.dataset(ctx, tx, id); err != nil {
			return err
		}
		for _, t := range tags {
			if _, err := tx.ExecContext(ctx, `INSERT INTO evaluation_dataset_tags (dataset_id, "key", value) VALUES (?, ?, ?)
				ON CONFLICT (dataset_id, "key") DO UPDATE SET value = excluded.value`, id, t.Key, t.Value); err != nil {
				return err
			}
		}
		return nil
	}))
}

// DeleteEvaluationDatasetTag implements store.EvaluationDatasets: a tag
// (or dataset) that is not there is no error, as in MLflow.
func (s *Store) DeleteEvaluationDatasetTag(ctx context.Context, id, key string) error {
	if err := s.requireEvalDatasets(); err != nil {
		return err
	}
	return wrap("delete evaluation dataset tag", s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM evaluation_dataset_tags WHERE dataset_id = ? AND "key" = ?`, id, key)
		return err
	}))
}

// datasetRecordIn is a record as a client sends it to be upserted.
type datasetRecordIn struct {
	inputs, hash       string
	outputs            json.RawMessage // nil: absent
	expectations, tags *pyjson.Object  // nil: absent, null or empty
	// newExpectations is what a new record stores: the expectations as
	// sent, {} included (nil: absent or null).
	newExpectations json.RawMessage
	source          *pyjson.Object
	sourceID        string
	srcType         string
	user            string
}

// parseRecord checks one record of an upsert (the i-th).
func parseRecord(i int, raw json.RawMessage) (*datasetRecordIn, error) {
	bad := func(format string, args ...any) error {
		return store.Invalidf("Record %d: "+format, append([]any{i}, args...)...)
	}
	obj, err := pyjson.ParseObject(raw)
	if err != nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, bad("a record must be a JSON object with 'inputs'")
	}
	r := &datasetRecordIn{inputs: "{}"}
	if in := obj.Get("inputs"); in != nil {
		if _, err := pyjson.ParseObject(in); err != nil || bytes.Equal(bytes.TrimSpace(in), []byte("null")) {
			return nil, bad("'inputs' must be a JSON object")
		}
		r.inputs = string(compact(in))
	}
	sorted, err := pyjson.SortedDumps([]byte(r.inputs))
	if err != nil {
		return nil, bad("'inputs': %v", err)
	}
	sum := sha256.Sum256(sorted)
	r.hash = hex.EncodeToString(sum[:])
	if obj.Has("outputs") {
		r.outputs = compact(obj.Get("outputs"))
	}
	for _, f := range []struct {
		name string
		dst  **pyjson.Object
	}{{"expectations", &r.expectations}, {"tags", &r.tags}, {"source", &r.source}} {
		v := obj.Get(f.name)
		if v == nil || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			continue
		}
		o, err := pyjson.ParseObject(v)
		if err != nil {
			return nil, bad("'%s' must be a JSON object", f.name)
		}
		if f.name == "expectations" {
			r.newExpectations = compact(v)
		}
		if o.Len() > 0 {
			*f.dst = o
		}
	}
	if r.tags != nil {
		json.Unmarshal(r.tags.Get(tagUser), &r.user)
	}
	if r.source != nil {
		json.Unmarshal(r.source.Get("source_type"), &r.srcType)
		switch r.srcType {
		case "TRACE", "HUMAN", "DOCUMENT", "CODE":
		default:
			return nil, bad("source_type %q is not one of TRACE, HUMAN, DOCUMENT, CODE", r.srcType)
		}
		if !r.source.Has("source_data") {
			r.source.Set("source_data", json.RawMessage("{}"))
		}
		data, err := pyjson.ParseObject(r.source.Get("source_data"))
		if err != nil {
			return nil, bad("'source.source_data' must be a JSON object")
		}
		key := "source_id"
		if r.srcType == "TRACE" {
			key = "trace_id"
		}
		json.Unmarshal(data.Get(key), &r.sourceID)
	}
	return r, nil
}

func compact(b []byte) json.RawMessage {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return b
	}
	return buf.Bytes()
}

func objText(o *pyjson.Object) any {
	if o == nil {
		return nil
	}
	return string(o.Bytes())
}

// UpsertDatasetRecords implements store.EvaluationDatasets, as MLflow's
// store does: records are keyed by the SHA-256 of their inputs as Python
// prints them sorted (so MLflow and mlrun find the same record), and the
// dataset's schema, profile, digest and update time follow.
func (s *Store) UpsertDatasetRecords(ctx context.Context, id string, records []json.RawMessage) (inserted, updated int, err error) {
	if err := s.requireEvalDatasets(); err != nil {
		return 0, 0, err
	}
	in := make([]*datasetRecordIn, len(records))
	for i, raw := range records {
		if in[i], err = parseRecord(i, raw); err != nil {
			return 0, 0, err
		}
	}
	err = s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		inserted, updated = 0, 0
		d, err := s.dataset(ctx, tx, id)
		if err != nil {
			return err
		}
		now, updatedBy := nowMillis(), ""
		for _, r := range in {
			if r.user != "" {
				updatedBy = r.user
			}
			var (
				recID             string
				expectations, tgs sql.NullString
			)
			err := tx.QueryRowContext(ctx, `SELECT dataset_record_id, expectations, tags FROM evaluation_dataset_records WHERE dataset_id = ? AND input_hash = ?`,
				id, r.hash).Scan(&recID, &expectations, &tgs)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				if err := s.insertRecord(ctx, tx, id, r, now); err != nil {
					return err
				}
				inserted++
				continue
			case err != nil:
				return err
			}
			sets, args := []string{"last_update_time = ?"}, []any{now}
			if r.outputs != nil && s.recordOutputs {
				sets, args = append(sets, "outputs = ?"), append(args, wrapOutputs(r.outputs))
			}
			for _, m := range []struct {
				col string
				old sql.NullString
				new *pyjson.Object
			}{{"expectations", expectations, r.expectations}, {"tags", tgs, r.tags}} {
				if m.new == nil {
					continue
				}
				merged, err := pyjson.Update([]byte(m.old.String), m.new.Bytes())
				if err != nil {
					return fmt.Errorf("record %s: its stored %s are not a JSON object: %w", recID, m.col, err)
				}
				sets, args = append(sets, m.col+" = ?"), append(args, string(merged))
			}
			if r.user != "" {
				sets, args = append(sets, "last_updated_by = ?"), append(args, r.user)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE evaluation_dataset_records SET `+strings.Join(sets, ", ")+` WHERE dataset_record_id = ?`, append(args, recID)...); err != nil {
				return err
			}
			updated++
		}
		return s.datasetChanged(ctx, tx, d, in, now, updatedBy)
	})
	if err != nil {
		return 0, 0, wrap("upsert evaluation dataset records", err)
	}
	return inserted, updated, nil
}

// recordOutputsCol is the outputs column where the database has it
// (revision 3da73c924c2f on), else NULL.
func (s *Store) recordOutputsCol() string {
	if s.recordOutputs {
		return "outputs"
	}
	return "NULL"
}

// wrapOutputs is a record's outputs as MLflow stores them: under
// wrappedOutput, NULL for null.
func wrapOutputs(outputs json.RawMessage) any {
	if bytes.Equal(outputs, []byte("null")) {
		return nil
	}
	return `{"` + wrappedOutput + `":` + string(outputs) + `}`
}

func (s *Store) insertRecord(ctx context.Context, tx *sql.Tx, id string, r *datasetRecordIn, now int64) error {
	outputs := r.outputs
	if outputs == nil {
		outputs = json.RawMessage("{}") // MLflow's default for a new record
	}
	tags := "{}"
	if r.tags != nil {
		tags = string(r.tags.Bytes())
	}
	cols := `dataset_record_id, dataset_id, inputs, expectations, tags, source, source_id, source_type, created_time, last_update_time, created_by, last_updated_by, input_hash`
	var expectations any
	if r.newExpectations != nil {
		expectations = string(r.newExpectations)
	}
	// Time-ordered ids (newID): records added together keep their order,
	// as the records are listed by (created_time, dataset_record_id).
	args := []any{"dr-" + newID(), id, r.inputs, expectations, tags, objText(r.source),
		nullIfEmpty(r.sourceID), nullIfEmpty(r.srcType), now, now, nullIfEmpty(r.user), nullIfEmpty(r.user), r.hash}
	if s.recordOutputs {
		cols, args = cols+`, outputs`, append(args, wrapOutputs(outputs))
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO evaluation_dataset_records (`+cols+`) VALUES (`+placeholders(len(args))+`)`, args...)
	return err
}

// datasetChanged brings a dataset up to date after its records changed:
// the schema learns the new records' fields, the profile counts the
// records, and the digest and update time move on (MLflow's rules).
func (s *Store) datasetChanged(ctx context.Context, tx *sql.Tx, d *store.EvaluationDataset, in []*datasetRecordIn, now int64, updatedBy string) error {
	sets, args := []string{"last_update_time = ?", "last_updated_by = ?", "digest = ?"}, []any{now, nullIfEmpty(updatedBy), datasetDigest(d.Name, now)}
	if schema, err := updateSchema(d.Schema, in); err != nil {
		return err
	} else if schema != "" {
		sets, args = append(sets, "schema = ?"), append(args, schema)
	}
	var n int64
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM evaluation_dataset_records WHERE dataset_id = ?`, d.ID).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		sets, args = append(sets, "profile = ?"), append(args, fmt.Sprintf(`{"num_records": %d}`, n))
	}
	_, err := tx.ExecContext(ctx, `UPDATE evaluation_datasets SET `+strings.Join(sets, ", ")+` WHERE dataset_id = ?`, append(args, d.ID)...)
	return err
}

// updateSchema adds the fields of records to a dataset's schema (MLflow's
// {"inputs": {field: type}, "outputs": …, "expectations": …, "version":
// "1.0"}), keeping what it had; "" when there is nothing to say. Outputs
// that are not an object are described by their type alone, as MLflow
// does, when the schema has no outputs yet.
func updateSchema(old string, in []*datasetRecordIn) (string, error) {
	if len(in) == 0 && old == "" {
		return "", nil
	}
	text := old
	if text == "" {
		text = `{"inputs": {}, "outputs": {}, "expectations": {}, "version": "1.0"}`
	}
	schema, err := pyjson.ParseObject([]byte(text))
	if err != nil {
		return "", fmt.Errorf("the dataset's schema is not a JSON object: %w", err)
	}
	// learn adds fields' types to a section; a section that is not an
	// object (outputs described by a type) is left as it is.
	learn := func(section string, fields *pyjson.Object) {
		known, err := pyjson.ParseObject(schema.Get(section))
		if err != nil {
			return
		}
		for _, k := range fields.Keys() {
			if !known.Has(k) {
				known.Set(k, typeName(fields.Get(k)))
			}
		}
		schema.Set(section, known.Bytes())
	}
	for _, r := range in {
		inputs, _ := pyjson.ParseObject([]byte(r.inputs))
		learn("inputs", inputs)
		if r.outputs != nil && !bytes.Equal(r.outputs, []byte("null")) {
			if o, err := pyjson.ParseObject(r.outputs); err == nil {
				learn("outputs", o)
			} else if cur := bytes.TrimSpace(schema.Get("outputs")); len(cur) == 0 || bytes.Equal(cur, []byte("{}")) || bytes.Equal(cur, []byte(`""`)) {
				schema.Set("outputs", typeName(r.outputs))
			}
		}
		if r.expectations != nil {
			learn("expectations", r.expectations)
		}
	}
	return string(schema.Bytes()), nil
}

// typeName is the JSON string of the type MLflow infers for a value.
func typeName(v json.RawMessage) json.RawMessage {
	t := bytes.TrimSpace(v)
	name := "unknown"
	switch {
	case len(t) == 0:
	case bytes.Equal(t, []byte("null")):
		name = "null"
	case t[0] == 't' || t[0] == 'f':
		name = "boolean"
	case t[0] == '"':
		name = "string"
	case t[0] == '[':
		name = "array"
	case t[0] == '{':
		name = "object"
	case bytes.ContainsAny(t, ".eE"):
		name = "float"
	default:
		name = "integer"
	}
	return json.RawMessage(`"` + name + `"`)
}

const recordCols = `dataset_record_id, dataset_id, inputs, expectations, tags, source, source_id, source_type, created_time, last_update_time, created_by, last_updated_by`

// DatasetRecords implements store.EvaluationDatasets: oldest first, the
// page token MLflow's ("created_time:record_id" in base64).
func (s *Store) DatasetRecords(ctx context.Context, id string, maxResults int, pageToken string) ([]*store.DatasetRecord, string, error) {
	if err := s.requireEvalDatasets(); err != nil {
		return nil, "", err
	}
	switch {
	case maxResults == 0:
		maxResults = 1000
	case maxResults < 0 || maxResults > store.Limits.SearchMaxResults:
		return nil, "", store.Invalidf("Invalid value %d for parameter 'max_results' supplied. It must be at most %d and at least 1", maxResults, store.Limits.SearchMaxResults)
	}
	if _, err := s.dataset(ctx, s.r, id); err != nil {
		return nil, "", err
	}
	where, args := `dataset_id = ?`, []any{id}
	if pageToken != "" {
		b, err := base64.StdEncoding.DecodeString(pageToken)
		ms, rec, ok := strings.Cut(string(b), ":")
		n, nerr := strconv.ParseInt(ms, 10, 64)
		if err != nil || !ok || nerr != nil {
			return nil, "", store.Invalidf("Invalid page token %q.", pageToken)
		}
		where, args = where+` AND (created_time > ? OR (created_time = ? AND dataset_record_id > ?))`, append(args, n, n, rec)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+recordCols+`, `+s.recordOutputsCol()+` FROM evaluation_dataset_records WHERE `+where+
		` ORDER BY created_time, dataset_record_id LIMIT ?`, append(args, maxResults+1)...)
	if err != nil {
		return nil, "", fmt.Errorf("get evaluation dataset records: %w", err)
	}
	out, err := collect(rows, scanRecord)
	if err != nil {
		return nil, "", fmt.Errorf("get evaluation dataset records: %w", err)
	}
	next := ""
	if len(out) > maxResults {
		out = out[:maxResults]
		last := out[len(out)-1]
		next = base64.StdEncoding.EncodeToString([]byte(strconv.FormatInt(last.CreatedTime, 10) + ":" + last.ID))
	}
	return out, next, nil
}

func scanRecord(row interface{ Scan(...any) error }) (*store.DatasetRecord, error) {
	var (
		r                                                       store.DatasetRecord
		exp, tags, source, sourceID, sourceType, by, upBy, outs sql.NullString
		created, updated                                        sql.NullInt64
	)
	if err := row.Scan(&r.ID, &r.DatasetID, &r.Inputs, &exp, &tags, &source, &sourceID, &sourceType, &created, &updated, &by, &upBy, &outs); err != nil {
		return nil, err
	}
	r.Expectations, r.Tags, r.Source, r.SourceID, r.SourceType = exp.String, tags.String, source.String, sourceID.String, sourceType.String
	r.CreatedTime, r.LastUpdateTime, r.CreatedBy, r.LastUpdatedBy = created.Int64, updated.Int64, by.String, upBy.String
	if r.Expectations == "null" {
		r.Expectations = ""
	}
	if r.Source == "null" {
		r.Source = ""
	}
	if r.Tags == "" || r.Tags == "null" {
		r.Tags = "{}"
	}
	if o, err := pyjson.ParseObject([]byte(outs.String)); err == nil && o.Has(wrappedOutput) {
		r.Outputs = string(o.Get(wrappedOutput))
	}
	return &r, nil
}

// DeleteDatasetRecords implements store.EvaluationDatasets.
func (s *Store) DeleteDatasetRecords(ctx context.Context, id string, recordIDs []string) (int, error) {
	if err := s.requireEvalDatasets(); err != nil {
		return 0, err
	}
	n := 0
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		n = 0
		d, err := s.dataset(ctx, tx, id)
		if err != nil {
			return err
		}
		if len(recordIDs) == 0 {
			return nil
		}
		cond, ids := InList(stringsToAny(recordIDs))
		res, err := tx.ExecContext(ctx, `DELETE FROM evaluation_dataset_records WHERE dataset_id = ? AND dataset_record_id`+cond, append([]any{id}, ids...)...)
		if err != nil {
			return err
		}
		deleted, _ := res.RowsAffected()
		if n = int(deleted); n == 0 {
			return nil
		}
		return s.datasetChanged(ctx, tx, d, nil, nowMillis(), d.LastUpdatedBy)
	})
	return n, wrap("delete evaluation dataset records", err)
}

// DatasetExperimentIDs implements store.EvaluationDatasets.
func (s *Store) DatasetExperimentIDs(ctx context.Context, id string) ([]string, error) {
	if err := s.requireEvalDatasets(); err != nil {
		return nil, err
	}
	if _, err := s.dataset(ctx, s.r, id); err != nil {
		return nil, err
	}
	return datasetExperiments(ctx, s.r, id)
}

// AddDatasetToExperiments implements store.EvaluationDatasets.
func (s *Store) AddDatasetToExperiments(ctx context.Context, id string, experimentIDs []string) (*store.EvaluationDataset, error) {
	return s.relink(ctx, id, func(ctx context.Context, tx *sql.Tx, now int64) (bool, error) {
		if err := checkExperiments(ctx, tx, experimentIDs); err != nil {
			return false, err
		}
		return len(experimentIDs) > 0, s.linkExperiments(ctx, tx, id, experimentIDs, now)
	})
}

// RemoveDatasetFromExperiments implements store.EvaluationDatasets: an
// experiment the dataset is not linked to is no error.
func (s *Store) RemoveDatasetFromExperiments(ctx context.Context, id string, experimentIDs []string) (*store.EvaluationDataset, error) {
	return s.relink(ctx, id, func(ctx context.Context, tx *sql.Tx, _ int64) (bool, error) {
		if len(experimentIDs) == 0 {
			return false, nil
		}
		cond, ids := InList(stringsToAny(experimentIDs))
		res, err := tx.ExecContext(ctx, `DELETE FROM entity_associations WHERE source_type = ? AND source_id = ? AND destination_type = ? AND destination_id`+cond,
			append([]any{assocDataset, id, assocExperiment}, ids...)...)
		if err != nil {
			return false, err
		}
		n, _ := res.RowsAffected()
		return n > 0, nil
	})
}

// relink changes a dataset's links to experiments with fn (true: it
// changed something, and the update time moves) and returns the dataset
// with its experiments.
func (s *Store) relink(ctx context.Context, id string, fn func(context.Context, *sql.Tx, int64) (bool, error)) (*store.EvaluationDataset, error) {
	if err := s.requireEvalDatasets(); err != nil {
		return nil, err
	}
	var out *store.EvaluationDataset
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.dataset(ctx, tx, id); err != nil {
			return err
		}
		now := nowMillis()
		changed, err := fn(ctx, tx, now)
		if err != nil {
			return err
		}
		if changed {
			if _, err := tx.ExecContext(ctx, `UPDATE evaluation_datasets SET last_update_time = ? WHERE dataset_id = ?`, now, id); err != nil {
				return err
			}
		}
		if out, err = s.dataset(ctx, tx, id); err != nil {
			return err
		}
		out.ExperimentIDs, err = datasetExperiments(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, wrap("link evaluation dataset", err)
	}
	return out, nil
}
