package serve

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Frame is a request's input as a table: named columns (a DataFrame's)
// or, when Columns is nil, positional ones (a list of lists, a tensor).
// Values are as JSON decodes them: float64, string, bool, nil, []any,
// map[string]any.
type Frame struct {
	Columns []string
	Rows    [][]any
}

// Width is the number of columns: the names', or the widest row's.
func (f *Frame) Width() int {
	if f.Columns != nil {
		return len(f.Columns)
	}
	w := 0
	for _, r := range f.Rows {
		w = max(w, len(r))
	}
	return w
}

// formats are the JSON body's input fields, as MLflow lists them in its
// messages.
var formats = []string{"dataframe_records", "dataframe_split", "instances", "inputs"}

// parseJSON reads a JSON request body into a frame and its params.
func parseJSON(body []byte) (*Frame, map[string]any, error) {
	doc, err := decodeOrdered(body)
	if err != nil {
		return nil, nil, badRequest("Invalid input. Ensure that input is a valid JSON formatted string. Error: '%v'\nInput: \n%s\n", err, body)
	}
	obj, ok := doc.(*object)
	if !ok {
		kind := "unexpected input type '" + pyType(doc) + "'"
		if _, isList := doc.([]any); isList {
			kind = "a list"
		}
		return nil, nil, badRequest("Invalid input. The input must be a JSON dictionary with exactly one of the input fields {'%s'}. Received %s.", strings.Join(formats, "', '"), kind)
	}
	var seen []string
	for _, k := range formats {
		if _, ok := obj.m[k]; ok {
			seen = append(seen, k)
		}
	}
	if len(seen) != 1 {
		return nil, nil, badRequest("The input must be a JSON dictionary with exactly one of the input fields {'%s'}. Received dictionary with input fields: [%s]. IMPORTANT: The MLflow Model scoring protocol has changed in MLflow version 2.0.",
			strings.Join(formats, "', '"), quoteList(seen))
	}
	var params map[string]any
	if p, ok := obj.m["params"]; ok && p != nil {
		po, ok := p.(*object)
		if !ok {
			return nil, nil, invalidParam("Parameters must be a dictionary. Got type '%s'.", pyTypeName(p))
		}
		params = po.plain()
	}
	v := obj.m[seen[0]]
	var f *Frame
	switch seen[0] {
	case "dataframe_split":
		f, err = fromSplit(v)
	case "dataframe_records":
		list, ok := v.([]any)
		if !ok {
			return nil, nil, badRequest("Invalid input. Dataframe records format must be a list of records. Got %s.", pyTypeName(v))
		}
		f, err = fromRecords(list)
	case "instances", "inputs":
		f, err = fromInputs(v)
	}
	return f, params, err
}

func fromSplit(v any) (*Frame, error) {
	obj, ok := v.(*object)
	if !ok {
		return nil, badRequest("Invalid input. Dataframe split format must be a dictionary. Got %s.", pyTypeName(v))
	}
	data, hasData := obj.m["data"]
	for _, k := range obj.keys {
		if k != "data" && k != "columns" && k != "index" {
			hasData = false
		}
	}
	rows, isList := data.([]any)
	if !hasData || !isList {
		return nil, badRequest("Invalid input. Dataframe split format must have 'data' field and optionally 'columns' and 'index' fields. Got %s.", compact(obj.plain()))
	}
	f := &Frame{}
	if cols, ok := obj.m["columns"].([]any); ok {
		f.Columns = make([]string, len(cols))
		for i, c := range cols {
			f.Columns[i] = fmt.Sprint(c)
		}
	}
	for _, r := range rows {
		row, ok := r.([]any)
		if !ok {
			row = []any{r} // one column's values
		}
		row = plainAll(row)
		if f.Columns != nil && len(row) != len(f.Columns) {
			return nil, badRequest("Invalid input. %d columns passed, passed data had %d columns", len(f.Columns), len(row))
		}
		f.Rows = append(f.Rows, row)
	}
	return f, nil
}

// fromRecords frames a list of row objects: the columns are the keys in
// the order they first appear; a key a row lacks is null there.
func fromRecords(list []any) (*Frame, error) {
	f := &Frame{Columns: []string{}}
	index := map[string]int{}
	for _, r := range list {
		obj, ok := r.(*object)
		if !ok {
			return nil, badRequest("Invalid input. Dataframe records format must be a list of records. Got a list holding %s.", pyTypeName(r))
		}
		for _, k := range obj.keys {
			if _, ok := index[k]; !ok {
				index[k] = len(f.Columns)
				f.Columns = append(f.Columns, k)
			}
		}
	}
	for _, r := range list {
		obj := r.(*object)
		row := make([]any, len(f.Columns))
		for k, v := range obj.m {
			row[index[k]] = plain(v)
		}
		f.Rows = append(f.Rows, row)
	}
	return f, nil
}

// fromInputs frames `inputs` (and `instances` that are not records): an
// object of columns, an object of scalars (one row), a list of row
// objects, a list of lists (positional), a list of scalars or a scalar.
func fromInputs(v any) (*Frame, error) {
	switch x := v.(type) {
	case *object:
		f := &Frame{Columns: x.keys}
		n := -1
		for _, c := range f.Columns {
			if col, ok := x.m[c].([]any); ok {
				if n >= 0 && len(col) != n {
					return nil, badRequest("Invalid input. The length of values for each input/column name are not the same")
				}
				n = len(col)
			} else if n > 0 {
				return nil, badRequest("Invalid input. The length of values for each input/column name are not the same")
			} else {
				n = 0
			}
		}
		if n <= 0 { // scalars: one row
			row := make([]any, len(f.Columns))
			for i, c := range f.Columns {
				row[i] = plain(x.m[c])
			}
			f.Rows = [][]any{row}
			return f, nil
		}
		for i := 0; i < n; i++ {
			row := make([]any, len(f.Columns))
			for j, c := range f.Columns {
				row[j] = plain(x.m[c].([]any)[i])
			}
			f.Rows = append(f.Rows, row)
		}
		return f, nil
	case []any:
		if len(x) > 0 {
			if _, ok := x[0].(*object); ok {
				return fromRecords(x)
			}
		}
		f := &Frame{}
		for _, r := range x {
			row, ok := r.([]any)
			if !ok {
				row = []any{r}
			}
			f.Rows = append(f.Rows, plainAll(row))
		}
		return f, nil
	}
	return &Frame{Rows: [][]any{{plain(v)}}}, nil
}

// parseCSV reads a CSV body (a header line, then rows) into a frame;
// numbers become float64, empty cells null.
func parseCSV(body []byte) (*Frame, error) {
	r := csv.NewReader(bytes.NewReader(body))
	header, err := r.Read()
	if err == io.EOF {
		return nil, csvError("No columns to parse from file")
	}
	if err != nil {
		return nil, csvError(err.Error())
	}
	f := &Frame{Columns: header}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(err.Error())
		}
		row := make([]any, len(rec))
		for i, s := range rec {
			switch n, err := strconv.ParseFloat(s, 64); {
			case s == "":
			case err == nil:
				row[i] = n
			default:
				row[i] = s
			}
		}
		f.Rows = append(f.Rows, row)
	}
	return f, nil
}

func csvError(msg string) error {
	return badRequest("Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid CSV-formatted Pandas DataFrame produced using the `pandas.DataFrame.to_csv()` method. Error: '%s'", msg)
}

// object is a JSON object with its keys in the order they were written:
// a frame's columns follow it, as pandas' do.
type object struct {
	keys []string
	m    map[string]any
}

// plain returns the object as a map, its values plain too.
func (o *object) plain() map[string]any {
	out := make(map[string]any, len(o.m))
	for k, v := range o.m {
		out[k] = plain(v)
	}
	return out
}

// plain turns objects inside a decoded value into maps.
func plain(v any) any {
	switch x := v.(type) {
	case *object:
		return x.plain()
	case []any:
		return plainAll(x)
	}
	return v
}

func plainAll(vs []any) []any {
	for i, v := range vs {
		vs[i] = plain(v)
	}
	return vs
}

// decodeOrdered decodes JSON as json.Unmarshal into any does, except that
// objects are *object, keeping their keys' order. A key written twice
// keeps its last value, in its first place.
func decodeOrdered(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("invalid character after top-level value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &object{m: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k := kt.(string)
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				if _, dup := o.m[k]; !dup {
					o.keys = append(o.keys, k)
				}
				o.m[k] = v
			}
			_, err := dec.Token() // }
			return o, err
		case '[':
			list := []any{}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			_, err := dec.Token() // ]
			return list, err
		}
	}
	return tok, nil
}

// pyType names a JSON value's Python type as MLflow's messages do.
func pyType(v any) string {
	switch v.(type) {
	case string:
		return "<class 'str'>"
	case float64:
		return "<class 'float'>"
	case bool:
		return "<class 'bool'>"
	case nil:
		return "<class 'NoneType'>"
	case []any:
		return "<class 'list'>"
	}
	return "<class 'dict'>"
}

func pyTypeName(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case *object, map[string]any:
		return "dictionary"
	case string:
		return "str"
	}
	return strings.Trim(strings.TrimPrefix(pyType(v), "<class "), "'>")
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = "'" + s + "'"
	}
	return strings.Join(q, ", ")
}

func compact(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
