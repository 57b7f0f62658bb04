package serve

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/mlrun/mlrun/internal/pandascsv"
)

// Frame is a request's input as a table: named columns (a DataFrame's)
// or, when Columns is nil, positional ones (a list of lists, a tensor).
// Values are as JSON decodes them: float64, string, bool, nil, []any,
// map[string]any.
type Frame struct {
	Columns []string
	Rows    [][]any
	// Dict says the body gave `inputs` (or `instances`) as an object of
	// columns: MLflow hands a model such input as a dict of arrays.
	Dict bool
	// Vector says the body gave `inputs` (or `instances`) as a list of
	// values: MLflow hands a model such input as a one-dimensional array
	// (a text vectorizer's documents). Rows holds one value a row.
	Vector bool
	// Labels are a dataframe_split's column labels as the body gave them,
	// set only when one is not text (a number: pandas' column label 0,
	// which scikit-learn does not take as a feature name); Columns holds
	// their text.
	Labels []any
}

// labels sets the frame's columns from a dataframe_split's labels.
func (f *Frame) labels(cols []any) {
	f.Columns = make([]string, len(cols))
	for i, c := range cols {
		if _, isText := c.(string); !isText {
			f.Labels = cols
		}
		f.Columns[i] = fmt.Sprint(c)
	}
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

// nested says whether a cell of the frame is a list: an `inputs` of
// more than two dimensions (a batch of images).
func (f *Frame) nested() bool {
	for _, r := range f.Rows {
		for _, c := range r {
			if _, ok := c.([]any); ok {
				return true
			}
		}
	}
	return false
}

// tensor reads the frame as numpy reads the list of its rows: one array
// of numbers (a cell may be a nested list of them, all of one shape),
// its shape (first the rows) and its values in row-major order.
func (f *Frame) tensor() ([]int, []float64, error) {
	rows := make([]any, len(f.Rows))
	for i, r := range f.Rows {
		rows[i] = r
	}
	return array(rows)
}

// column reads column j as numpy reads the list of its cells (a cell may
// be a nested list: a tensor of a dict's input).
func (f *Frame) column(j int) ([]int, []float64, error) {
	cells := make([]any, len(f.Rows))
	for i, r := range f.Rows {
		if j < len(r) {
			cells[i] = r[j]
		}
	}
	return array(cells)
}

// array reads a list as numpy's array of numbers: its shape and its
// values in row-major order; uneven nested lists are numpy's error.
func array(list []any) ([]int, []float64, error) {
	var shape []int
	var x []float64
	var walk func(v any, depth int) error
	walk = func(v any, depth int) error {
		list, isList := v.([]any)
		if depth == len(shape) && isList && len(x) == 0 {
			shape = append(shape, len(list)) // the first element sets the shape
		}
		if depth < len(shape) != isList || (isList && len(list) != shape[depth]) {
			return badRequest("setting an array element with a sequence. The requested array has an inhomogeneous shape after %d dimensions. The detected shape was %s + inhomogeneous part.", depth, pyTuple(shape[:depth]))
		}
		if !isList {
			n, ok := cellNumber(v)
			if !ok {
				return notANumber(v)
			}
			x = append(x, n)
			return nil
		}
		for _, e := range list {
			if err := walk(e, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(list, 0); err != nil {
		return nil, nil, err
	}
	return shape, x, nil
}

// pyTuple writes a shape as Python writes a tuple: (2, 3), (3,), ().
func pyTuple(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = strconv.Itoa(d)
	}
	if len(parts) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// formats are the JSON body's input fields, as MLflow lists them in its
// messages.
var formats = []string{"dataframe_records", "dataframe_split", "instances", "inputs"}

// parseJSON reads a JSON request body into a frame and its params (as
// the body has them: enforceParams reads them with the schema). Values
// are decoded by encoding/json; the order of an object's keys, which
// makes a frame's column order as pandas keeps it, is read by
// objectKeys.
func parseJSON(body []byte) (*Frame, json.RawMessage, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		var doc any
		if json.Unmarshal(body, &doc) != nil {
			return nil, nil, badRequest("Invalid input. Ensure that input is a valid JSON formatted string. Error: '%v'\nInput: \n%s\n", err, body)
		}
		kind := "unexpected input type '" + pyType(doc) + "'"
		if _, isList := doc.([]any); isList {
			kind = "a list"
		}
		return nil, nil, badRequest("Invalid input. The input must be a JSON dictionary with exactly one of the input fields {'%s'}. Received %s.", strings.Join(formats, "', '"), kind)
	}
	var seen []string
	for _, k := range formats {
		if _, ok := top[k]; ok {
			seen = append(seen, k)
		}
	}
	if len(seen) != 1 {
		return nil, nil, badRequest("The input must be a JSON dictionary with exactly one of the input fields {'%s'}. Received dictionary with input fields: [%s]. IMPORTANT: The MLflow Model scoring protocol has changed in MLflow version 2.0.",
			strings.Join(formats, "', '"), quoteList(seen))
	}
	params := top["params"] // checked against the params schema by enforceParams
	raw := top[seen[0]]
	if f, ok := fastFrame(seen[0], raw); ok {
		return f, params, nil
	}
	var v any
	json.Unmarshal(raw, &v) // valid: the whole body was
	var f *Frame
	var err error
	switch seen[0] {
	case "dataframe_split":
		f, err = fromSplit(v)
	case "dataframe_records":
		list, ok := v.([]any)
		if !ok {
			return nil, nil, badRequest("Invalid input. Dataframe records format must be a list of records. Got %s.", pyTypeName(v))
		}
		f, err = fromRecords(list, raw)
	case "instances", "inputs":
		f, err = fromInputs(v, raw)
	}
	return f, params, err
}

// fastFrame reads the common large input without encoding/json's
// interface{} decoding: a dataframe_split whose data, or an inputs or
// instances that is, a list of lists of numbers and nulls. It reports
// false for anything else, which the general path reads.
func fastFrame(format string, raw []byte) (*Frame, bool) {
	switch format {
	case "inputs", "instances":
		rows, ok := numberMatrix(raw)
		return &Frame{Rows: rows}, ok
	case "dataframe_split":
		var split map[string]json.RawMessage
		if json.Unmarshal(raw, &split) != nil || split["data"] == nil {
			return nil, false
		}
		f := &Frame{}
		for k, v := range split {
			switch k {
			case "columns":
				var cols []any
				if json.Unmarshal(v, &cols) != nil {
					return nil, false
				}
				f.labels(cols)
			case "data", "index":
			default:
				return nil, false // the general path says what is wrong
			}
		}
		rows, ok := numberMatrix(split["data"])
		if !ok {
			return nil, false
		}
		for _, r := range rows {
			if f.Columns != nil && len(r) != len(f.Columns) {
				return nil, false
			}
		}
		f.Rows = rows
		return f, true
	}
	return nil, false
}

// numberMatrix parses a JSON list of lists of numbers and nulls (valid
// JSON: encoding/json has checked the body) into rows of float64 and nil.
func numberMatrix(raw []byte) ([][]any, bool) {
	i := 0
	space := func() {
		for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
			i++
		}
	}
	expect := func(c byte) bool {
		space()
		if i < len(raw) && raw[i] == c {
			i++
			return true
		}
		return false
	}
	if !expect('[') {
		return nil, false
	}
	rows := [][]any{}
	if expect(']') {
		return rows, false // an empty list: the general path
	}
	for {
		if !expect('[') {
			return nil, false
		}
		row := []any{}
		if !expect(']') {
			for {
				space()
				start := i
				for i < len(raw) && raw[i] != ',' && raw[i] != ']' && raw[i] != ' ' && raw[i] != '\n' && raw[i] != '\t' && raw[i] != '\r' {
					i++
				}
				tok := raw[start:i]
				if string(tok) == "null" {
					row = append(row, nil)
				} else {
					if len(tok) == 0 || !(tok[0] == '-' || (tok[0] >= '0' && tok[0] <= '9')) {
						return nil, false
					}
					f, err := strconv.ParseFloat(string(tok), 64)
					if err != nil {
						return nil, false
					}
					row = append(row, f)
				}
				if expect(']') {
					break
				}
				if !expect(',') {
					return nil, false
				}
			}
		}
		rows = append(rows, row)
		if expect(']') {
			return rows, true
		}
		if !expect(',') {
			return nil, false
		}
	}
}

func fromSplit(v any) (*Frame, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, badRequest("Invalid input. Dataframe split format must be a dictionary. Got %s.", pyTypeName(v))
	}
	data, hasData := obj["data"]
	for k := range obj {
		if k != "data" && k != "columns" && k != "index" {
			hasData = false
		}
	}
	rows, isList := data.([]any)
	if !hasData || !isList {
		return nil, badRequest("Invalid input. Dataframe split format must have 'data' field and optionally 'columns' and 'index' fields. Got %s.", compact(obj))
	}
	f := &Frame{}
	if cols, ok := obj["columns"].([]any); ok {
		f.labels(cols)
	}
	for _, r := range rows {
		row, ok := r.([]any)
		if !ok {
			row = []any{r} // one column's values
		}
		if f.Columns != nil && len(row) != len(f.Columns) {
			return nil, badRequest("Invalid input. %d columns passed, passed data had %d columns", len(f.Columns), len(row))
		}
		f.Rows = append(f.Rows, row)
	}
	return f, nil
}

// fromRecords frames a list of row objects (raw: the list's JSON text):
// the columns are the keys in the order they first appear; a key a row
// lacks is null there.
func fromRecords(list []any, raw []byte) (*Frame, error) {
	var raws []json.RawMessage
	json.Unmarshal(raw, &raws)
	f := &Frame{Columns: []string{}}
	index := map[string]int{}
	for i, r := range list {
		obj, ok := r.(map[string]any)
		if !ok {
			return nil, badRequest("Invalid input. Dataframe records format must be a list of records. Got a list holding %s.", pyTypeName(r))
		}
		newKey := false
		for k := range obj {
			if _, ok := index[k]; !ok {
				newKey = true
				break
			}
		}
		if newKey {
			for _, k := range objectKeys(raws[i]) {
				if _, ok := index[k]; !ok {
					index[k] = len(f.Columns)
					f.Columns = append(f.Columns, k)
				}
			}
		}
	}
	for _, r := range list {
		obj := r.(map[string]any)
		row := make([]any, len(f.Columns))
		for k, v := range obj {
			row[index[k]] = v
		}
		f.Rows = append(f.Rows, row)
	}
	return f, nil
}

// fromInputs frames `inputs` (and `instances` that are not records): an
// object of columns, an object of scalars (one row), a list of row
// objects, a list of lists (positional), a list of scalars or a scalar.
func fromInputs(v any, raw []byte) (*Frame, error) {
	switch x := v.(type) {
	case map[string]any:
		f := &Frame{Columns: objectKeys(raw), Dict: true}
		n := -1
		for _, c := range f.Columns {
			if col, ok := x[c].([]any); ok {
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
				row[i] = x[c]
			}
			f.Rows = [][]any{row}
			return f, nil
		}
		for i := 0; i < n; i++ {
			row := make([]any, len(f.Columns))
			for j, c := range f.Columns {
				row[j] = x[c].([]any)[i]
			}
			f.Rows = append(f.Rows, row)
		}
		return f, nil
	case []any:
		if len(x) > 0 {
			if _, ok := x[0].(map[string]any); ok {
				return fromRecords(x, raw)
			}
		}
		f := &Frame{Vector: len(x) > 0}
		for _, r := range x {
			row, ok := r.([]any)
			if !ok {
				row = []any{r}
			} else {
				f.Vector = false
			}
			f.Rows = append(f.Rows, row)
		}
		return f, nil
	}
	return &Frame{Rows: [][]any{{v}}}, nil
}

// objectKeys returns the keys of the JSON object raw in the order they
// are written (each once), skipping over the values; raw is valid JSON
// (encoding/json has read it).
func objectKeys(raw []byte) []string {
	var keys []string
	seen := map[string]bool{}
	i := 0
	skipSpace := func() {
		for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
			i++
		}
	}
	// skipString moves past the string starting at raw[i] ('"').
	skipString := func() {
		for i++; i < len(raw); i++ {
			if raw[i] == '\\' {
				i++
			} else if raw[i] == '"' {
				i++
				return
			}
		}
	}
	skipSpace()
	if i >= len(raw) || raw[i] != '{' {
		return nil
	}
	i++
	for {
		skipSpace()
		if i >= len(raw) || raw[i] != '"' {
			return keys // '}'
		}
		start := i
		skipString()
		var k string
		json.Unmarshal(raw[start:i], &k)
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
		skipSpace()
		i++ // ':'
		// The value: a string, or anything up to the ',' or '}' that
		// closes it at this depth.
		for depth := 0; i < len(raw); {
			c := raw[i]
			if c == '"' {
				skipString()
				continue
			}
			if depth == 0 && (c == ',' || c == '}') {
				break
			}
			switch c {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			i++
		}
		if i >= len(raw) || raw[i] == '}' {
			return keys
		}
		i++ // ','
	}
}

// parseCSV reads a CSV body (a header line, then rows) into a frame as
// MLflow's scoring server reads one, with pandas.read_csv given the
// signature's column types as dtypes (internal/pandascsv): a column the
// signature types as string or binary keeps its text.
func parseCSV(body []byte, sig *signature) (*Frame, error) {
	cols, n, err := pandascsv.Read(body, func(j int, name string) bool {
		t := sig.columnType(j, name)
		return t == "string" || t == "binary"
	})
	if err != nil {
		return nil, csvError(err.Error())
	}
	f := &Frame{Columns: make([]string, len(cols)), Rows: make([][]any, n)}
	for r := range f.Rows {
		f.Rows[r] = make([]any, len(cols))
	}
	for j, c := range cols {
		f.Columns[j] = c.Name
		for r, v := range c.Cells {
			if i, ok := v.(int64); ok {
				v = float64(i)
			}
			f.Rows[r][j] = v
		}
	}
	return f, nil
}

func csvError(msg string) error {
	return badRequest("Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid CSV-formatted Pandas DataFrame produced using the `pandas.DataFrame.to_csv()` method. Error: '%s'", msg)
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
	case map[string]any:
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
