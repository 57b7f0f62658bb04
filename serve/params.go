package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/mlrun/mlrun/internal/format"
)

// paramSpec is one parameter of a model's params schema (the MLmodel
// signature's "params": MLflow's ParamSpec): a name, a type, a default and
// a shape, nil for a scalar or [-1] for a list.
type paramSpec struct {
	Name    string
	Type    string
	Default any
	Shape   []int
}

// paramTypes are the types a ParamSpec may have (every MLflow DataType
// but binary).
var paramTypes = []string{"boolean", "integer", "long", "float", "double", "string", "datetime"}

// parseParamSchema reads the signature's params JSON. A spec MLflow would
// refuse to load (an unknown type, a shape other than none or (-1,), a
// default that does not fit) is an error, as it is when MLflow loads the
// model.
func parseParamSchema(s string) ([]paramSpec, error) {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var raw []map[string]any
	if err := d.Decode(&raw); err != nil {
		return nil, fmt.Errorf("params: %w", err)
	}
	specs := make([]paramSpec, 0, len(raw))
	seen := map[string]bool{}
	for _, r := range raw {
		name, _ := r["name"].(string)
		typ, _ := r["type"].(string)
		if typ == "" {
			typ, _ = r["dtype"].(string)
		}
		if _, ok := r["default"]; name == "" || typ == "" || !ok {
			return nil, fmt.Errorf("params: a ParamSpec needs keys name, type and default: %s", format.PyRepr(keys(r)))
		}
		if !slices.Contains(paramTypes, typ) {
			return nil, fmt.Errorf("params: param %s has type %q: one of %s", name, typ, strings.Join(paramTypes, ", "))
		}
		if seen[name] {
			return nil, fmt.Errorf("params: param %s is declared twice", name)
		}
		seen[name] = true
		p := paramSpec{Name: name, Type: typ}
		if sh, ok := r["shape"].([]any); ok {
			if len(sh) != 1 || fmt.Sprint(sh[0]) != "-1" {
				return nil, fmt.Errorf("params: param %s has shape %v: a scalar (no shape) or (-1,)", name, sh)
			}
			p.Shape = []int{-1}
		}
		p.Default = r["default"] // as given, in the message if it does not fit
		def, err := p.validate(r["default"])
		if err != nil {
			return nil, fmt.Errorf("params: the default of param %s: %s", name, err.(*Error).Message)
		}
		p.Default = def
		specs = append(specs, p)
	}
	return specs, nil
}

func keys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// repr is the spec as MLflow writes it in its messages:
// 'name': type (default: value) [(shape: (-1,))].
func (p paramSpec) repr() string {
	s := fmt.Sprintf("%s: %s (default: %s)", format.PyRepr(p.Name), p.Type, pyStr(p.Default))
	if p.Shape != nil {
		s += " (shape: (-1,))"
	}
	return s
}

// enforceParams checks a request's params against the model's params
// schema as MLflow's _enforce_params_schema does: with no schema, params
// are dropped (MLflow logs that it ignores them); with one, params must
// be an object, keys the schema does not name are dropped, absent ones
// take their default and every value is checked and converted to its
// type. The error lists every invalid param as MLflow's does, in the
// schema's order.
func enforceParams(raw json.RawMessage, specs []paramSpec) (map[string]any, error) {
	if specs == nil {
		return nil, nil
	}
	var v any
	if len(raw) > 0 {
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		d.Decode(&v) // valid: the whole body was
	}
	given := map[string]any{}
	if v != nil {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, invalidParam("Failed to predict data. \nError: Parameters must be a dictionary. Got type '%s'.", pyName(v))
		}
		given = m
	}
	out := make(map[string]any, len(specs))
	var invalid []string
	for _, p := range specs {
		val, ok := given[p.Name]
		if !ok {
			out[p.Name] = p.Default
			continue
		}
		cv, err := p.validate(val)
		if err != nil {
			invalid = append(invalid, "("+format.PyRepr(p.Name)+", "+format.PyRepr(err.(*Error).Message)+")")
			continue
		}
		out[p.Name] = cv
	}
	if invalid != nil {
		return nil, invalidParam("Failed to predict data. \nError: Invalid parameters found: {%s}", strings.Join(invalid, ", "))
	}
	return out, nil
}

// validate is MLflow's ParamSpec.validate_type_and_shape: a scalar for a
// spec without shape, a one-dimensional list for (-1,), each value of the
// spec's type or one that converts safely to it.
func (p paramSpec) validate(v any) (any, error) {
	if p.Shape == nil {
		return enforceParam(p.repr()+" with shape None", v, p.Type)
	}
	list, ok := v.([]any)
	if !ok || ndim(v) != 1 {
		return nil, invalidParam("Value must be a 1D array with shape (-1,) for param %s, received %s with ndim %d", p.repr(), pyName(v), ndim(v))
	}
	out := make([]any, len(list))
	for i, e := range list {
		cv, err := enforceParam(p.repr()+" internal values", e, p.Type)
		if err != nil {
			return nil, err
		}
		out[i] = cv
	}
	return out, nil
}

// ndim is numpy's ndim of the array a JSON value makes: 0 for a scalar
// (or an object), one more for each level of lists whose elements are all
// lists of the same length.
func ndim(v any) int {
	list, ok := v.([]any)
	if !ok {
		return 0
	}
	if len(list) == 0 {
		return 1
	}
	inner := -1
	for _, e := range list {
		l, isList := e.([]any)
		if !isList {
			return 1
		}
		if inner >= 0 && len(l) != inner {
			return 1
		}
		inner = len(l)
	}
	return 1 + ndim(list[0])
}

// enforceParam is MLflow's ParamSpec.enforce_param_datatype: null stays
// null; a datetime is parsed; otherwise the value must be a scalar of the
// type, or an int for long, float or double, or a float for double.
func enforceParam(name string, v any, typ string) (any, error) {
	if v == nil {
		return nil, nil
	}
	if typ == "datetime" {
		t, err := parseDatetime(v)
		if err != nil {
			return nil, invalidParam("Failed to convert value %s from type %s to DataType.datetime for param %s", pyStr(v), pyName(v), name)
		}
		return t, nil
	}
	switch v.(type) {
	case []any, map[string]any:
		return nil, invalidParam("Value should be a scalar for param %s, got %s", name, pyStr(v))
	}
	n, isNum := v.(json.Number)
	isInt := isNum && !strings.ContainsAny(n.String(), ".eE")
	switch {
	case typ == "boolean":
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case typ == "string":
		if s, ok := v.(string); ok {
			return s, nil
		}
	case typ == "integer" || typ == "long":
		if isInt {
			i, ok := new(big.Int).SetString(n.String(), 10)
			if ok && i.IsInt64() {
				return i.Int64(), nil
			}
			return pyInt{i}, nil // Python's int has no bound
		}
	case typ == "float" || typ == "double":
		if isNum {
			f, err := n.Float64()
			if err != nil && isInt {
				return nil, invalidParam("Failed to convert value %s from type int to DataType.%s for param %s", n, typ, name)
			}
			if err != nil { // a float literal past float64: Python reads inf
				f = math.Inf(1)
				if strings.HasPrefix(n.String(), "-") {
					f = math.Inf(-1)
				}
			}
			return pyFloat(f), nil
		}
	}
	return nil, invalidParam("Incompatible types for param %s. Can not safely convert %s to DataType.%s.", name, pyName(v), typ)
}

// pyFloat is a float param: JSON with a decimal point (1.0, not 1), so
// that a Python worker reads a float, as MLflow hands the model one.
type pyFloat float64

func (f pyFloat) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	writeFloat(&b, float64(f))
	return b.Bytes(), nil
}

// pyInt is an integer param beyond int64 (Python's int is unbounded).
type pyInt struct{ *big.Int }

func (i pyInt) MarshalJSON() ([]byte, error) { return []byte(i.String()), nil }

// pyDatetime is a datetime param as numpy's datetime64(value).item()
// gives it: a date when the text has no time, else a datetime. It is
// handed to a worker as ISO text.
type pyDatetime struct {
	t      time.Time
	isDate bool
}

func (d pyDatetime) String() string {
	if d.isDate {
		return d.t.Format("2006-01-02")
	}
	if d.t.Nanosecond() != 0 {
		return d.t.Format("2006-01-02 15:04:05.000000")
	}
	return d.t.Format("2006-01-02 15:04:05")
}

func (d pyDatetime) MarshalJSON() ([]byte, error) {
	return json.Marshal(strings.Replace(d.String(), " ", "T", 1))
}

// datetimeText is what numpy's datetime64 reads from text: a year, a
// month, a day, then optionally hours, minutes, seconds and up to
// microseconds (a finer unit gives numpy an int, which MLflow refuses),
// and an optional Z or offset.
var datetimeText = regexp.MustCompile(`^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?(Z|[+-]\d{2}:?\d{2})?)?)?)?$`)

func parseDatetime(v any) (pyDatetime, error) {
	s, ok := v.(string)
	m := datetimeText.FindStringSubmatch(strings.TrimSpace(s))
	if !ok || m == nil {
		return pyDatetime{}, fmt.Errorf("not a datetime: %v", v)
	}
	layout, text := "2006", m[1]
	parts := []struct{ sep, layout string }{{"-", "01"}, {"-", "02"}, {"T", "15"}, {":", "04"}, {":", "05"}, {".", "000000"}}
	for i, p := range parts {
		if m[i+2] == "" {
			break
		}
		val := m[i+2]
		if i == 5 {
			val += strings.Repeat("0", 6-len(val))
		}
		layout += p.sep + p.layout
		text += p.sep + val
	}
	t, err := time.Parse(layout, text)
	if err != nil {
		return pyDatetime{}, err
	}
	if z := m[8]; z != "" && z != "Z" { // numpy converts an offset to UTC
		zt, err := time.Parse("-0700", strings.Replace(z, ":", "", 1))
		if err != nil {
			return pyDatetime{}, err
		}
		_, off := zt.Zone()
		t = t.Add(-time.Duration(off) * time.Second)
	}
	return pyDatetime{t: t, isDate: m[4] == ""}, nil
}

// pyStr is Python's str() of a param value, as MLflow's messages print
// one: text as is, None, True, numbers, lists of reprs.
func pyStr(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		if f, err := v.Float64(); err == nil && strings.ContainsAny(v.String(), ".eE") {
			return format.PyFloat(f)
		}
		return v.String()
	case pyFloat:
		return format.PyFloat(float64(v))
	case pyInt:
		return v.String()
	case pyDatetime:
		return v.String()
	case []any:
		q := make([]string, len(v))
		for i, e := range v {
			if s, ok := e.(string); ok {
				q[i] = format.PyRepr(s)
			} else {
				q[i] = pyStr(e)
			}
		}
		return "[" + strings.Join(q, ", ") + "]"
	case map[string]any:
		q := make([]string, 0, len(v))
		for _, k := range keys(v) { // sorted: encoding/json does not keep the body's order
			e := v[k]
			val := pyStr(e)
			if s, ok := e.(string); ok {
				val = format.PyRepr(s)
			}
			q = append(q, format.PyRepr(k)+": "+val)
		}
		return "{" + strings.Join(q, ", ") + "}"
	}
	return format.PyRepr(v)
}

// pyName is Python's type(v).__name__ of a JSON value decoded with
// UseNumber: an integer literal is an int, any other number a float.
func pyName(v any) string {
	switch v := v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case string:
		return "str"
	case json.Number:
		if strings.ContainsAny(v.String(), ".eE") {
			return "float"
		}
		return "int"
	case []any:
		return "list"
	}
	return "dict"
}
