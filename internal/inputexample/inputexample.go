// Package inputexample reads a model's input example as `mlrun models log
// --input-example` takes it — a DataFrame in MLflow's serving formats
// (dataframe_split or dataframe_records JSON) or a CSV file with a header
// — and writes what MLflow's log_model writes of a DataFrame example:
// input_example.json (pandas' split orient), serving_input_example.json
// (the request that scores it), the MLmodel's saved_input_example_info,
// and the column schema MLflow infers from it.
//
// Columns are typed as pandas reads them: integers long (double when a
// value is missing), numbers with a fraction or exponent double, true and
// false boolean, text string; a column with a missing value is not
// required. Values are written as Python's json module writes them, but
// a missing value as null (pandas holds NaN in a number column, which
// json.dumps writes as NaN, not JSON).
package inputexample

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mlrun/mlrun/internal/pandascsv"
	"github.com/mlrun/mlrun/internal/pyjson"
)

// File names and the MLmodel entry, as MLflow writes them.
const (
	ExampleFile = "input_example.json"
	ServingFile = "serving_input_example.json"
)

// Example is a DataFrame example: typed columns and their rows.
type Example struct {
	Columns []Column
	rows    [][]cell
}

// Column is one column's name and inferred MLflow type (long, double,
// boolean, string); Required is false when a value is missing.
type Column struct {
	Name, Type string
	Required   bool
}

type kind int

const (
	null kind = iota
	boolean
	integer
	float
	text
)

// cell is one value: its kind and its text (a number's as written, a
// string's decoded, a boolean's "true" or "false").
type cell struct {
	kind kind
	text string
}

// Read reads an example file: .csv as CSV, anything else as JSON.
func Read(path string) (*Example, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cols []string
	var rows [][]cell
	if strings.EqualFold(filepath.Ext(path), ".csv") {
		cols, rows, err = readCSV(b)
	} else {
		cols, rows, err = readJSON(b)
	}
	if err != nil {
		return nil, fmt.Errorf("input example %s: %w", path, err)
	}
	e, err := infer(cols, rows)
	if err != nil {
		return nil, fmt.Errorf("input example %s: %w", path, err)
	}
	return e, nil
}

func readJSON(b []byte) ([]string, [][]cell, error) {
	top, err := pyjson.ParseObject(b)
	if err != nil {
		return nil, nil, errors.New("not a JSON object: give {\"dataframe_split\": {\"columns\": […], \"data\": […]}}, {\"dataframe_records\": […]} or a .csv file")
	}
	switch {
	case top.Len() == 1 && top.Has("dataframe_split"):
		return readSplit(top.Get("dataframe_split"))
	case top.Len() == 1 && top.Has("dataframe_records"):
		return readRecords(top.Get("dataframe_records"))
	}
	return nil, nil, fmt.Errorf("want exactly one of dataframe_split or dataframe_records, got the keys %s", strings.Join(top.Keys(), ", "))
}

func readSplit(raw json.RawMessage) ([]string, [][]cell, error) {
	var split struct {
		Columns []string          `json:"columns"`
		Data    []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &split); err != nil {
		return nil, nil, fmt.Errorf("dataframe_split: %v", err)
	}
	if len(split.Columns) == 0 {
		return nil, nil, errors.New("dataframe_split: columns are missing: the schema needs their names")
	}
	var rows [][]cell
	for i, r := range split.Data {
		vals, err := decodeList(r)
		if err != nil {
			return nil, nil, fmt.Errorf("dataframe_split row %d: %v", i, err)
		}
		if len(vals) != len(split.Columns) {
			return nil, nil, fmt.Errorf("dataframe_split row %d has %d values for %d columns", i, len(vals), len(split.Columns))
		}
		rows = append(rows, vals)
	}
	return split.Columns, rows, nil
}

func readRecords(raw json.RawMessage) ([]string, [][]cell, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, nil, errors.New("dataframe_records: want a list of records")
	}
	var cols []string
	var recs []map[string]cell
	for i, r := range list {
		o, err := pyjson.ParseObject(r)
		if err != nil || bytes.Equal(bytes.TrimSpace(r), []byte("null")) {
			return nil, nil, fmt.Errorf("dataframe_records item %d is not an object", i)
		}
		rec := map[string]cell{}
		for _, k := range o.Keys() {
			c, err := decodeCell(o.Get(k))
			if err != nil {
				return nil, nil, fmt.Errorf("dataframe_records item %d, %q: %v", i, k, err)
			}
			if _, seen := rec[k]; !seen && !contains(cols, k) {
				cols = append(cols, k) // pandas: columns in the order first seen
			}
			rec[k] = c
		}
		recs = append(recs, rec)
	}
	rows := make([][]cell, len(recs))
	for i, rec := range recs {
		rows[i] = make([]cell, len(cols))
		for j, c := range cols {
			rows[i][j] = rec[c] // absent: null
		}
	}
	return cols, rows, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func decodeList(raw json.RawMessage) ([]cell, error) {
	var vals []json.RawMessage
	if err := json.Unmarshal(raw, &vals); err != nil {
		return nil, errors.New("not a list of values")
	}
	out := make([]cell, len(vals))
	for i, v := range vals {
		c, err := decodeCell(v)
		if err != nil {
			return nil, fmt.Errorf("value %d: %v", i, err)
		}
		out[i] = c
	}
	return out, nil
}

// decodeCell reads one JSON scalar, keeping a number's text.
func decodeCell(raw json.RawMessage) (cell, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return cell{}, err
	}
	switch v := v.(type) {
	case nil:
		return cell{}, nil
	case bool:
		return cell{boolean, strconv.FormatBool(v)}, nil
	case string:
		return cell{text, v}, nil
	case json.Number:
		if strings.ContainsAny(v.String(), ".eE") {
			return cell{float, v.String()}, nil
		}
		return cell{integer, v.String()}, nil
	}
	return cell{}, errors.New("a list or an object: only columns of numbers, strings and booleans are taken")
}

// readCSV reads a CSV example as pandas.read_csv reads the file
// (internal/pandascsv): each column numbers, booleans or text as pandas
// decides for the whole column, pandas' NA tokens missing.
func readCSV(b []byte) ([]string, [][]cell, error) {
	cols, n, err := pandascsv.Read(b, nil)
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, len(cols))
	rows := make([][]cell, n)
	for r := range rows {
		rows[r] = make([]cell, len(cols))
	}
	for j, c := range cols {
		names[j] = c.Name
		for r, v := range c.Cells {
			switch v := v.(type) {
			case int64:
				rows[r][j] = cell{integer, strconv.FormatInt(v, 10)}
			case float64:
				rows[r][j] = cell{float, strconv.FormatFloat(v, 'g', -1, 64)}
			case bool:
				rows[r][j] = cell{boolean, strconv.FormatBool(v)}
			case string:
				rows[r][j] = cell{text, v}
			}
		}
	}
	return names, rows, nil
}

// infer types each column from its values.
func infer(cols []string, rows [][]cell) (*Example, error) {
	if len(rows) == 0 {
		return nil, errors.New("no rows: the example needs at least one")
	}
	e := &Example{rows: rows}
	for j, name := range cols {
		col := Column{Name: name, Required: true}
		var kinds [text + 1]bool
		for _, r := range rows {
			kinds[r[j].kind] = true
		}
		col.Required = !kinds[null]
		switch {
		case kinds[text] && (kinds[boolean] || kinds[integer] || kinds[float]), kinds[boolean] && (kinds[integer] || kinds[float]):
			return nil, fmt.Errorf("column %q mixes kinds of values (text, numbers, booleans): give it one", name)
		case kinds[text]:
			col.Type = "string"
		case kinds[boolean]:
			col.Type = "boolean"
		case kinds[float] || (kinds[integer] && kinds[null]):
			col.Type = "double" // pandas: a missing value makes an integer column float
		case kinds[integer]:
			col.Type = "long"
		default:
			return nil, fmt.Errorf("column %q has no values", name)
		}
		e.Columns = append(e.Columns, col)
	}
	return e, nil
}

// value writes one cell of a column of type typ as Python's json module
// writes the value pandas holds.
func value(c cell, typ string) (string, error) {
	switch {
	case c.kind == null:
		return "null", nil
	case typ == "double":
		f, err := strconv.ParseFloat(c.text, 64)
		if err != nil {
			return "", err
		}
		return pyjson.FloatRepr(f), nil
	case typ == "long":
		n, err := strconv.ParseInt(c.text, 10, 64)
		if err != nil {
			return "", fmt.Errorf("%s does not fit a 64-bit integer", c.text)
		}
		return strconv.FormatInt(n, 10), nil
	case typ == "string":
		return pyString(c.text), nil
	}
	return c.text, nil // boolean
}

// pyString is s as a JSON string the way Python's json.dumps writes it.
func pyString(s string) string {
	b, _ := json.Marshal(s)
	py, err := pyjson.SortedDumps(b)
	if err != nil {
		return string(b)
	}
	return string(py)
}

// split is the example in pandas' split orient, compact, as Python's
// json.dumps writes it: {"columns": [...], "data": [[...], ...]}.
func (e *Example) split() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"columns": [`)
	for i, c := range e.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pyString(c.Name))
	}
	b.WriteString(`], "data": [`)
	for i, r := range e.rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('[')
		for j, c := range r {
			if j > 0 {
				b.WriteString(", ")
			}
			v, err := value(c, e.Columns[j].Type)
			if err != nil {
				return nil, fmt.Errorf("column %q: %v", e.Columns[j].Name, err)
			}
			b.WriteString(v)
		}
		b.WriteByte(']')
	}
	b.WriteString("]}")
	return b.Bytes(), nil
}

// Write writes input_example.json and serving_input_example.json into
// dir and returns their names.
func (e *Example) Write(dir string) ([]string, error) {
	split, err := e.split()
	if err != nil {
		return nil, err
	}
	var serving bytes.Buffer
	if err := json.Indent(&serving, []byte(`{"dataframe_split": `+string(split)+`}`), "", "  "); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, ExampleFile), split, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, ServingFile), serving.Bytes(), 0o644); err != nil {
		return nil, err
	}
	return []string{ExampleFile, ServingFile}, nil
}

// Info is the MLmodel's saved_input_example_info for the written files.
func Info() map[string]any {
	return map[string]any{"artifact_path": ExampleFile, "pandas_orient": "split", "serving_input_path": ServingFile, "type": "dataframe"}
}

// Schema is the columns as the inputs of an MLmodel signature, as MLflow
// writes them: [{"type": "double", "name": "x", "required": true}, ...].
func (e *Example) Schema() string {
	parts := make([]string, len(e.Columns))
	for i, c := range e.Columns {
		parts[i] = fmt.Sprintf(`{"type": %q, "name": %s, "required": %t}`, c.Type, pyString(c.Name), c.Required)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
