package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Int64 is an int64 that decodes from a JSON number or a decimal string
// and encodes as a number.
type Int64 int64

// UnmarshalJSON implements json.Unmarshaler.
func (n *Int64) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	if s == "null" || s == "" {
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != math.Trunc(f) {
			return fmt.Errorf("expected an integer, got %s", b)
		}
		v = int64(f)
	}
	*n = Int64(v)
	return nil
}

// Float is a float64 that encodes NaN and ±Inf as "NaN", "Infinity" and
// "-Infinity" and decodes those strings, numbers, and numeric strings.
type Float float64

// MarshalJSON implements json.Marshaler.
func (f Float) MarshalJSON() ([]byte, error) { return AppendFloat(nil, float64(f)), nil }

// AppendFloat appends v as Float encodes it: NaN and ±Inf as strings,
// other values exactly as encoding/json writes a float64.
func AppendFloat(dst []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(dst, `"NaN"`...)
	case math.IsInf(v, 1):
		return append(dst, `"Infinity"`...)
	case math.IsInf(v, -1):
		return append(dst, `"-Infinity"`...)
	}
	// encoding/json's rule: exponent form below 1e-6 and from 1e21 on,
	// with a one-digit negative exponent written e-7, not e-07.
	format := byte('f')
	if abs := math.Abs(v); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, v, format, -1, 64)
	if format == 'e' {
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// AppendHistoryPoint appends a metric point as Metric encodes it, with
// no run, dataset or model: {"key":…,"value":…,"timestamp":…,"step":…}.
// key is the key already encoded as a JSON string.
func AppendHistoryPoint(dst, key []byte, value float64, timestamp, step int64) []byte {
	dst = append(dst, `{"key":`...)
	dst = append(dst, key...)
	dst = append(dst, `,"value":`...)
	dst = AppendFloat(dst, value)
	dst = append(dst, `,"timestamp":`...)
	dst = strconv.AppendInt(dst, timestamp, 10)
	dst = append(dst, `,"step":`...)
	dst = strconv.AppendInt(dst, step, 10)
	return append(dst, '}')
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *Float) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if s == "true" || s == "false" {
		return fmt.Errorf("expected a number, got %s", s)
	}
	s = strings.Trim(s, `"`)
	switch strings.ToLower(s) {
	case "nan":
		*f = Float(math.NaN())
		return nil
	case "infinity", "inf", "+infinity":
		*f = Float(math.Inf(1))
		return nil
	case "-infinity", "-inf":
		*f = Float(math.Inf(-1))
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) { // 1e400 is +Inf, as in Python
		return fmt.Errorf("expected a number, got %s", b)
	}
	*f = Float(v)
	return nil
}

// ID is a string that also decodes from a JSON number (legacy clients send
// experiment ids as numbers).
type ID string

// UnmarshalJSON implements json.Unmarshaler.
func (id *ID) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = ID(s)
		return nil
	}
	if string(b) == "null" {
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("expected a string, got %s", b)
	}
	*id = ID(n.String())
	return nil
}

// Bool decodes from a JSON bool or "true"/"false" in any case.
type Bool bool

// UnmarshalJSON implements json.Unmarshaler.
func (v *Bool) UnmarshalJSON(b []byte) error {
	switch strings.ToLower(strings.Trim(string(b), `"`)) {
	case "true":
		*v = true
	case "false", "null":
		*v = false
	default:
		return fmt.Errorf("expected true or false, got %s", b)
	}
	return nil
}

// Enum is an enum value: a name, or its number which Names maps. It
// decodes numbers into their names.
type Enum string

// UnmarshalJSON implements json.Unmarshaler: a name, or a number kept
// as its decimal text.
func (e *Enum) UnmarshalJSON(b []byte) error { return (*ID)(e).UnmarshalJSON(b) }
