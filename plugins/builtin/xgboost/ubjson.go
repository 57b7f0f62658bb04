package xgboost

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// decodeUBJSON decodes the UBJSON XGBoost writes (big-endian; objects with
// unmarked keys; counted and typed arrays) into JSON-like values: maps,
// []any, strings, float64, int64, bool, nil.
func decodeUBJSON(b []byte) (any, error) {
	d := &ubj{b: b}
	v, err := d.value(0)
	if err != nil {
		return nil, fmt.Errorf("%v at byte %d", err, d.p)
	}
	return v, nil
}

type ubj struct {
	b []byte
	p int
}

var errTruncated = errors.New("truncated")

func (d *ubj) byte() (byte, error) {
	if d.p >= len(d.b) {
		return 0, errTruncated
	}
	c := d.b[d.p]
	d.p++
	return c, nil
}

func (d *ubj) take(n int) ([]byte, error) {
	if n < 0 || d.p+n > len(d.b) || d.p+n < d.p {
		return nil, errTruncated
	}
	s := d.b[d.p : d.p+n]
	d.p += n
	return s, nil
}

// scalar reads a value of a known type marker.
func (d *ubj) scalar(t byte, depth int) (any, error) {
	switch t {
	case 'Z':
		return nil, nil
	case 'T':
		return true, nil
	case 'F':
		return false, nil
	case 'i', 'U', 'I', 'l', 'L':
		return d.integer(t)
	case 'd':
		b, err := d.take(4)
		if err != nil {
			return nil, err
		}
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b))), nil
	case 'D':
		b, err := d.take(8)
		if err != nil {
			return nil, err
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
	case 'C':
		c, err := d.byte()
		return string([]byte{c}), err
	case 'S', 'H':
		s, err := d.str()
		return s, err
	case '{':
		return d.object(depth + 1)
	case '[':
		return d.array(depth + 1)
	}
	return nil, fmt.Errorf("unknown type marker %q", t)
}

func (d *ubj) integer(t byte) (int64, error) {
	size := map[byte]int{'i': 1, 'U': 1, 'I': 2, 'l': 4, 'L': 8}[t]
	if size == 0 {
		return 0, fmt.Errorf("%q is not an integer marker", t)
	}
	b, err := d.take(size)
	if err != nil {
		return 0, err
	}
	switch t {
	case 'i':
		return int64(int8(b[0])), nil
	case 'U':
		return int64(b[0]), nil
	case 'I':
		return int64(int16(binary.BigEndian.Uint16(b))), nil
	case 'l':
		return int64(int32(binary.BigEndian.Uint32(b))), nil
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

func (d *ubj) length() (int, error) {
	t, err := d.byte()
	if err != nil {
		return 0, err
	}
	n, err := d.integer(t)
	if err != nil {
		return 0, err
	}
	if n < 0 || n > int64(len(d.b)) {
		return 0, fmt.Errorf("length %d out of range", n)
	}
	return int(n), nil
}

func (d *ubj) str() (string, error) {
	n, err := d.length()
	if err != nil {
		return "", err
	}
	b, err := d.take(n)
	return string(b), err
}

func (d *ubj) value(depth int) (any, error) {
	if depth > 512 {
		return nil, errors.New("nested too deeply")
	}
	t, err := d.byte()
	if err != nil {
		return nil, err
	}
	return d.scalar(t, depth)
}

func (d *ubj) object(depth int) (any, error) {
	m := map[string]any{}
	for {
		if d.p < len(d.b) && d.b[d.p] == '}' {
			d.p++
			return m, nil
		}
		if d.p < len(d.b) && d.b[d.p] == 'N' { // no-op
			d.p++
			continue
		}
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
}

func (d *ubj) array(depth int) (any, error) {
	var typ byte
	count := -1
	if d.p < len(d.b) && d.b[d.p] == '$' {
		d.p++
		t, err := d.byte()
		if err != nil {
			return nil, err
		}
		typ = t
	}
	if d.p < len(d.b) && d.b[d.p] == '#' {
		d.p++
		n, err := d.length()
		if err != nil {
			return nil, err
		}
		count = n
	} else if typ != 0 {
		return nil, errors.New("typed array without a count")
	}
	var out []any
	for i := 0; count < 0 || i < count; i++ {
		if count < 0 {
			if d.p < len(d.b) && d.b[d.p] == ']' {
				d.p++
				return out, nil
			}
		}
		var v any
		var err error
		if typ != 0 {
			v, err = d.scalar(typ, depth)
		} else {
			v, err = d.value(depth)
		}
		if err != nil {
			return nil, err
		}
		if len(out) < 1<<20 {
			out = append(out, v)
		}
	}
	return out, nil
}
