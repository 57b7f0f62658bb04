package sklearn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The numpy arrays (and scalars) of a pickle, read from the objects the
// walk describes: numpy's _reconstruct with its BUILD state (protocols
// 0–4, and object arrays at any protocol), _frombuffer (protocol 5), and
// multiarray.scalar. Nothing of numpy runs.

// dtype is a numpy dtype: its kind ('f', 'i', 'u', 'b', 'O', 'U', 'V'),
// item size in bytes, byte order, and a structured dtype's fields.
type dtype struct {
	kind   byte
	size   int
	order  binary.ByteOrder
	fields map[string]field
}

type field struct {
	dt     *dtype
	offset int
}

// array is a numpy array in C order: raw items, or objs for an object
// array.
type array struct {
	shape []int
	dt    *dtype
	data  []byte
	objs  []any
}

func (a *array) len() int {
	n := 1
	for _, d := range a.shape {
		n *= d
	}
	return n
}

// readDtype reads a numpy.dtype object: dtype(code, False, True) with the
// BUILD state (3, order, subarray, names, fields, elsize, alignment, flags).
func readDtype(v any) (*dtype, error) {
	o, ok := v.(*object)
	if !ok || o.class.name != "dtype" || !strings.HasPrefix(o.class.module, "numpy") {
		return nil, fmt.Errorf("a dtype is %s", describe(v))
	}
	args, _ := o.args.(*tuple)
	if args == nil || len(args.items) == 0 {
		return nil, errors.New("a dtype without a type code")
	}
	code, _ := args.items[0].(string)
	if len(code) < 2 {
		return nil, fmt.Errorf("unsupported dtype %q", code)
	}
	size, err := strconv.Atoi(code[1:])
	if err != nil || size <= 0 {
		return nil, fmt.Errorf("unsupported dtype %q", code)
	}
	dt := &dtype{kind: code[0], size: size, order: binary.LittleEndian}
	st, _ := o.state.(*tuple)
	if st != nil && len(st.items) >= 2 {
		if s, _ := st.items[1].(string); s == ">" {
			dt.order = binary.BigEndian
		}
	}
	switch dt.kind {
	case 'f':
		if size != 4 && size != 8 {
			return nil, fmt.Errorf("unsupported dtype %q", code)
		}
	case 'i', 'u':
		if size != 1 && size != 2 && size != 4 && size != 8 {
			return nil, fmt.Errorf("unsupported dtype %q", code)
		}
	case 'b':
		if size != 1 {
			return nil, fmt.Errorf("unsupported dtype %q", code)
		}
	case 'U':
		dt.size = size * 4
	case 'O':
	case 'V':
		if st == nil || len(st.items) < 5 {
			return nil, fmt.Errorf("a structured dtype %q without fields", code)
		}
		fs, ok := st.items[4].(*dict)
		if !ok {
			return nil, fmt.Errorf("a structured dtype %q without fields", code)
		}
		dt.fields = map[string]field{}
		for i, k := range fs.keys {
			name, _ := k.(string)
			t, _ := fs.vals[i].(*tuple)
			if name == "" || t == nil || len(t.items) < 2 {
				return nil, fmt.Errorf("a structured dtype %q with a bad field", code)
			}
			fdt, err := readDtype(t.items[0])
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", name, err)
			}
			off, ok := t.items[1].(int64)
			if !ok || off < 0 || int(off)+fdt.size > size || fdt.kind == 'O' || fdt.kind == 'V' {
				return nil, fmt.Errorf("a structured dtype %q with a bad field %s", code, name)
			}
			dt.fields[name] = field{dt: fdt, offset: int(off)}
		}
	default:
		return nil, fmt.Errorf("unsupported dtype %q", code)
	}
	return dt, nil
}

// readShape reads a shape tuple.
func readShape(v any) ([]int, error) {
	t, ok := v.(*tuple)
	if !ok {
		if n, ok := v.(int64); ok { // _frombuffer's shape may be an int
			t = &tuple{items: []any{n}}
		} else {
			return nil, fmt.Errorf("a shape is %s", describe(v))
		}
	}
	shape := make([]int, len(t.items))
	n := int64(1)
	for i, d := range t.items {
		k, ok := d.(int64)
		if !ok || k < 0 || k > maxPickle {
			return nil, errors.New("a bad array shape")
		}
		shape[i] = int(k)
		if n *= k; n > maxPickle {
			return nil, errors.New("an array too large")
		}
	}
	return shape, nil
}

// pyBytes reads bytes: pickled bytes, or _codecs.encode(text, "latin1"),
// as protocols 0–2 write them.
func pyBytes(v any) ([]byte, error) {
	switch v := v.(type) {
	case []byte:
		return v, nil
	case *object:
		if v.class.module == "_codecs" && v.class.name == "encode" {
			if t, ok := v.args.(*tuple); ok && len(t.items) == 2 {
				s, ok1 := t.items[0].(string)
				enc, ok2 := t.items[1].(string)
				if ok1 && ok2 && (enc == "latin1" || enc == "latin-1") {
					b := make([]byte, 0, len(s))
					for _, r := range s {
						if r > 0xff {
							return nil, errors.New("latin1 bytes with a character past 0xff")
						}
						b = append(b, byte(r))
					}
					return b, nil
				}
			}
		}
	}
	return nil, fmt.Errorf("array data is %s, not bytes", describe(v))
}

// readArray reads a numpy array object.
func readArray(v any) (*array, error) {
	o, ok := v.(*object)
	if !ok {
		return nil, fmt.Errorf("%s is not a numpy array", describe(v))
	}
	args, _ := o.args.(*tuple)
	var (
		a       = &array{}
		err     error
		fortran bool
		raw     any
	)
	switch o.class.name {
	case "_frombuffer": // (buffer, dtype, shape, order)
		if args == nil || len(args.items) != 4 {
			return nil, errors.New("a numpy _frombuffer call without its four arguments")
		}
		raw = args.items[0]
		if a.dt, err = readDtype(args.items[1]); err != nil {
			return nil, err
		}
		if a.shape, err = readShape(args.items[2]); err != nil {
			return nil, err
		}
		order, _ := args.items[3].(string)
		fortran = order == "F"
	case "_reconstruct": // BUILD state (version, shape, dtype, is_fortran, data)
		st, _ := o.state.(*tuple)
		if st == nil || len(st.items) != 5 {
			return nil, errors.New("a numpy array without its state")
		}
		if a.shape, err = readShape(st.items[1]); err != nil {
			return nil, err
		}
		if a.dt, err = readDtype(st.items[2]); err != nil {
			return nil, err
		}
		fortran, _ = st.items[3].(bool)
		raw = st.items[4]
	default:
		return nil, fmt.Errorf("%s is not a numpy array", o.class)
	}
	n := a.len()
	if a.dt.kind == 'O' {
		l, ok := raw.(*list)
		if !ok || len(l.items) != n {
			return nil, errors.New("an object array whose items do not fill its shape")
		}
		a.objs = l.items
	} else {
		if a.data, err = pyBytes(raw); err != nil {
			return nil, err
		}
		if len(a.data) != n*a.dt.size {
			return nil, fmt.Errorf("an array of shape %v holds %d bytes, not %d", a.shape, len(a.data), n*a.dt.size)
		}
	}
	if fortran && len(a.shape) > 1 {
		a.toC()
	}
	return a, nil
}

// toC reorders a Fortran-ordered array's items into C order.
func (a *array) toC() {
	n := a.len()
	// The item at C index c has Fortran index f: the same multi-index
	// with the axes' strides reversed.
	fIndex := func(c int) int {
		f, stride := 0, 1
		idx := make([]int, len(a.shape))
		for d := len(a.shape) - 1; d >= 0; d-- {
			idx[d] = c % a.shape[d]
			c /= a.shape[d]
		}
		for d := range a.shape {
			f += idx[d] * stride
			stride *= a.shape[d]
		}
		return f
	}
	if a.objs != nil {
		objs := make([]any, n)
		for c := range objs {
			objs[c] = a.objs[fIndex(c)]
		}
		a.objs = objs
		return
	}
	s := a.dt.size
	data := make([]byte, len(a.data))
	for c := 0; c < n; c++ {
		f := fIndex(c)
		copy(data[c*s:(c+1)*s], a.data[f*s:(f+1)*s])
	}
	a.data = data
}

// number reads the item of dt at b as a float64.
func (dt *dtype) number(b []byte) (float64, bool) {
	switch dt.kind {
	case 'f':
		if dt.size == 4 {
			return float64(math.Float32frombits(dt.order.Uint32(b))), true
		}
		return math.Float64frombits(dt.order.Uint64(b)), true
	case 'i':
		switch dt.size {
		case 1:
			return float64(int8(b[0])), true
		case 2:
			return float64(int16(dt.order.Uint16(b))), true
		case 4:
			return float64(int32(dt.order.Uint32(b))), true
		}
		return float64(int64(dt.order.Uint64(b))), true
	case 'u':
		switch dt.size {
		case 1:
			return float64(b[0]), true
		case 2:
			return float64(dt.order.Uint16(b)), true
		case 4:
			return float64(dt.order.Uint32(b)), true
		}
		return float64(dt.order.Uint64(b)), true
	case 'b':
		if b[0] != 0 {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// floats reads a numeric array's items as float64s.
func (a *array) floats() ([]float64, error) {
	out := make([]float64, a.len())
	for i := range out {
		if a.objs != nil {
			f, ok := pyNumber(a.objs[i])
			if !ok {
				return nil, fmt.Errorf("an object array holds %s, not a number", describe(a.objs[i]))
			}
			out[i] = f
			continue
		}
		f, ok := a.dt.number(a.data[i*a.dt.size:])
		if !ok {
			return nil, fmt.Errorf("an array of dtype kind %q is not numeric", a.dt.kind)
		}
		out[i] = f
	}
	return out, nil
}

// column reads the field name of a structured array's items as float64s.
func (a *array) column(name string) ([]float64, error) {
	f, ok := a.dt.fields[name]
	if !ok {
		return nil, fmt.Errorf("a structured array without the field %s", name)
	}
	out := make([]float64, a.len())
	for i := range out {
		v, ok := f.dt.number(a.data[i*a.dt.size+f.offset:])
		if !ok {
			return nil, fmt.Errorf("field %s is not numeric", name)
		}
		out[i] = v
	}
	return out, nil
}

// values reads an array's items as Go values of their Python type's
// JSON form: float64 for floats, int64 for integers, bool, string.
func (a *array) values() ([]any, error) {
	out := make([]any, a.len())
	for i := range out {
		if a.objs != nil {
			switch v := a.objs[i].(type) {
			case string, int64, float64, bool:
				out[i] = v
			default:
				return nil, fmt.Errorf("an object array holds %s", describe(v))
			}
			continue
		}
		b := a.data[i*a.dt.size : (i+1)*a.dt.size]
		switch a.dt.kind {
		case 'U': // UTF-32, NUL-padded
			var sb strings.Builder
			for j := 0; j+4 <= len(b); j += 4 {
				r := rune(a.dt.order.Uint32(b[j:]))
				if r == 0 {
					break
				}
				if !utf8.ValidRune(r) {
					return nil, errors.New("a string array with an invalid character")
				}
				sb.WriteRune(r)
			}
			out[i] = sb.String()
		case 'b':
			out[i] = b[0] != 0
		case 'i', 'u':
			f, _ := a.dt.number(b)
			out[i] = int64(f)
			if a.dt.size == 8 { // exactly, past 2^53
				out[i] = int64(a.dt.order.Uint64(b))
			}
		case 'f':
			out[i], _ = a.dt.number(b)
		default:
			return nil, fmt.Errorf("an array of dtype kind %q", a.dt.kind)
		}
	}
	return out, nil
}

// pyNumber reads a Python number, or a numpy scalar, as a float64.
func pyNumber(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case int64:
		return float64(v), true
	case bool:
		if v {
			return 1, true
		}
		return 0, true
	case *object:
		// numpy.core.multiarray.scalar(dtype, bytes)
		if v.class.name == "scalar" && strings.HasPrefix(v.class.module, "numpy") {
			if t, ok := v.args.(*tuple); ok && len(t.items) == 2 {
				dt, err := readDtype(t.items[0])
				if err != nil {
					return 0, false
				}
				b, err := pyBytes(t.items[1])
				if err != nil || len(b) != dt.size {
					return 0, false
				}
				return dt.number(b)
			}
		}
	}
	return 0, false
}
