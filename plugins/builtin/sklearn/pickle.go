package sklearn

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
)

// The pickle reader walks a pickle's opcode stream (protocols 0–5) as a
// symbolic stack machine: it builds a description of the objects the
// pickle would create — which classes, with which state — and never
// imports or calls anything. Every call the pickle asks for (REDUCE,
// NEWOBJ, OBJ, INST) is checked against a safe list first; anything else
// stops the walk with the reason.

// Values on the symbolic stack.
type (
	global struct{ module, name string }
	tuple  struct{ items []any }
	list   struct{ items []any }
	dict   struct {
		keys []any
		vals []any
	}
	set    struct{ items []any }
	object struct {
		class *global
		args  any
		state any
	}
	mark struct{}
)

func (g *global) String() string { return g.module + "." + g.name }

// get returns the value of key k in a dict, or nil.
func (d *dict) get(k string) any {
	for i, key := range d.keys {
		if s, ok := key.(string); ok && s == k {
			return d.vals[i]
		}
	}
	return nil
}

// ErrUnsafe marks a pickle that would call something outside the safe list.
var ErrUnsafe = errors.New("unsafe pickle")

// dangerous modules are refused as soon as the pickle names them.
var dangerous = map[string]bool{
	"os": true, "posix": true, "nt": true, "subprocess": true, "sys": true, "shutil": true,
	"socket": true, "importlib": true, "pty": true, "runpy": true, "pickle": true, "_pickle": true,
	"marshal": true, "ctypes": true, "code": true, "codeop": true, "webbrowser": true, "commands": true,
	"multiprocessing": true, "asyncio": true, "signal": true, "platform": true, "tempfile": true, "pathlib": true,
}

var dangerousBuiltins = map[string]bool{
	"eval": true, "exec": true, "compile": true, "getattr": true, "setattr": true, "delattr": true,
	"__import__": true, "open": true, "input": true, "globals": true, "locals": true, "vars": true,
	"breakpoint": true, "memoryview": true, "type": true, "super": true, "print": true, "exit": true, "quit": true,
}

// callable reports whether a pickle may call g (construct or reduce).
func callable(g *global) bool {
	m, n := g.module, g.name
	switch {
	case strings.HasPrefix(m, "sklearn.") || m == "sklearn":
		return len(n) > 0 && (n[0] >= 'A' && n[0] <= 'Z' || n[0] == '_' && len(n) > 1 && n[1] >= 'A' && n[1] <= 'Z') ||
			rebuildsClass(g)
	case m == "builtins" || m == "__builtin__":
		switch n {
		case "set", "frozenset", "slice", "bytearray", "complex", "object", "tuple", "list", "dict", "bytes", "int", "float", "str", "bool", "range":
			return true
		}
	case m == "copyreg" || m == "copy_reg":
		return n == "_reconstructor"
	case m == "_codecs":
		return n == "encode"
	case m == "collections":
		return n == "OrderedDict" || n == "defaultdict"
	case m == "numpy" || m == "numpy.core.multiarray" || m == "numpy._core.multiarray" || m == "numpy.core.numeric" || m == "numpy._core.numeric":
		switch n {
		case "_reconstruct", "ndarray", "dtype", "scalar", "_frombuffer":
			return true
		}
	case m == "numpy.random._pickle":
		return strings.HasSuffix(n, "_ctor")
	case m == "numpy.random.mtrand" || m == "numpy.random._mt19937" || m == "numpy.random.bit_generator":
		return n == "RandomState" || n == "MT19937" || n == "__randomstate_ctor"
	case m == "numpy.ma.core":
		return n == "_mareconstruct" || n == "MaskedArray"
	case strings.HasPrefix(m, "scipy.sparse"):
		return strings.HasSuffix(n, "_matrix") || strings.HasSuffix(n, "_array")
	case m == "scipy.interpolate._bsplines" || m == "scipy.interpolate.bsplines":
		return n == "BSpline" // SplineTransformer's splines: a plain object and its fields
	case m == "joblib.numpy_pickle" || m == "sklearn.externals.joblib.numpy_pickle":
		return n == "NumpyArrayWrapper" || n == "NDArrayWrapper"
	}
	return false
}

// rebuildsClass reports whether g is one of scikit-learn's functions that
// rebuild an instance of the class given as their first argument
// (class.__new__(class), then its state): Cython's __pyx_unpickle_<Type>
// for its extension types (HistGradientBoosting's loss objects), and the
// newObj of its Cython modules (the KD and ball trees and distance
// metrics of KNeighbors*). The call is safe when the class is; the
// reader checks it.
func rebuildsClass(g *global) bool {
	return strings.HasPrefix(g.module, "sklearn.") && (g.name == "newObj" || strings.HasPrefix(g.name, "__pyx_unpickle_"))
}

// nameable reports whether a pickle may merely name g (load it as a
// value, not call it).
func nameable(g *global) error {
	root, _, _ := strings.Cut(g.module, ".")
	if dangerous[root] || ((g.module == "builtins" || g.module == "__builtin__") && dangerousBuiltins[g.name]) {
		return fmt.Errorf("%w: it would load %s", ErrUnsafe, g)
	}
	return nil
}

// result is what a walk found.
type result struct {
	top      any
	protocol int
	globals  []*global // every global named, in order
}

const maxPickle = 1 << 30

// reader reads a pickle with a byte position for messages.
type reader struct {
	r   *bufio.Reader
	pos int64
}

func (r *reader) byte() (byte, error) {
	b, err := r.r.ReadByte()
	if err == nil {
		r.pos++
	}
	return b, err
}

func (r *reader) n(n int64) ([]byte, error) {
	if n < 0 || n > maxPickle {
		return nil, fmt.Errorf("length %d out of range", n)
	}
	b := make([]byte, 0, min(n, 1<<20))
	buf := make([]byte, min(n, 1<<16))
	for int64(len(b)) < n {
		k := min(int64(len(buf)), n-int64(len(b)))
		m, err := io.ReadFull(r.r, buf[:k])
		r.pos += int64(m)
		b = append(b, buf[:m]...)
		if err != nil {
			return nil, io.ErrUnexpectedEOF
		}
	}
	return b, nil
}

func (r *reader) skip(n int64) error {
	if n < 0 {
		return fmt.Errorf("negative length")
	}
	m, err := io.CopyN(io.Discard, r.r, n)
	r.pos += m
	if err != nil {
		return io.ErrUnexpectedEOF
	}
	return nil
}

func (r *reader) line() (string, error) {
	s, err := r.r.ReadString('\n')
	r.pos += int64(len(s))
	if err != nil {
		return "", io.ErrUnexpectedEOF
	}
	return strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r"), nil
}

// memoIndex reads the memo key of a PUT or GET family opcode: text is the
// opcode followed by a decimal line, short the one followed by one byte;
// the long form is followed by four bytes.
func (r *reader) memoIndex(op, text, short byte, name string) (int64, error) {
	switch op {
	case text:
		s, err := r.line()
		if err != nil {
			return 0, err
		}
		idx, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bad %s %q", name, s)
		}
		return idx, nil
	case short:
		v, err := r.uint(1)
		return int64(v), err
	default:
		v, err := r.uint(4)
		return int64(v), err
	}
}

func (r *reader) uint(n int) (uint64, error) {
	b, err := r.n(int64(n))
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, nil
}

// walk reads one pickle (up to STOP) from r.
func walk(r *reader) (*result, error) {
	res := &result{}
	var stack []any
	memo := map[int64]any{}
	pop := func() (any, error) {
		if len(stack) == 0 {
			return nil, errors.New("stack underflow")
		}
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		return v, nil
	}
	// pop2 pops the top two items: b was on top, a below it.
	pop2 := func() (a, b any, err error) {
		if len(stack) < 2 {
			return nil, nil, errors.New("stack underflow")
		}
		a, b = stack[len(stack)-2], stack[len(stack)-1]
		stack = stack[:len(stack)-2]
		return a, b, nil
	}
	popMark := func() ([]any, error) {
		for i := len(stack) - 1; i >= 0; i-- {
			if _, ok := stack[i].(mark); ok {
				items := append([]any(nil), stack[i+1:]...)
				stack = stack[:i]
				return items, nil
			}
		}
		return nil, errors.New("no MARK on the stack")
	}
	top := func() (any, error) {
		if len(stack) == 0 {
			return nil, errors.New("stack underflow")
		}
		return stack[len(stack)-1], nil
	}
	loadGlobal := func(module, name string) error {
		g := &global{module: module, name: name}
		if err := nameable(g); err != nil {
			return err
		}
		res.globals = append(res.globals, g)
		stack = append(stack, g)
		return nil
	}
	call := func(fn any, args any) error {
		g, ok := fn.(*global)
		if !ok {
			return fmt.Errorf("%w: it calls a %T, not a named class or function", ErrUnsafe, fn)
		}
		if !callable(g) {
			return fmt.Errorf("%w: it would call %s, which is not on the safe list", ErrUnsafe, g)
		}
		// copyreg._reconstructor(cls, base, state), and scikit-learn's
		// rebuilders (cls, …): the object is cls's.
		if (g.name == "_reconstructor") && (g.module == "copyreg" || g.module == "copy_reg") || rebuildsClass(g) {
			if t, ok := args.(*tuple); ok && len(t.items) > 0 {
				if cls, ok := t.items[0].(*global); ok {
					if !callable(cls) {
						return fmt.Errorf("%w: it would construct %s, which is not on the safe list", ErrUnsafe, cls)
					}
					stack = append(stack, &object{class: cls, args: args})
					return nil
				}
			}
			if rebuildsClass(g) {
				return fmt.Errorf("%w: it would call %s without a class to rebuild", ErrUnsafe, g)
			}
		}
		stack = append(stack, &object{class: g, args: args})
		return nil
	}
	for ops := 0; ; ops++ {
		at := r.pos
		op, err := r.byte()
		if err != nil {
			return nil, fmt.Errorf("truncated pickle: no STOP opcode at byte %d", at)
		}
		fail := func(err error) (*result, error) {
			if errors.Is(err, ErrUnsafe) {
				return nil, err
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("truncated pickle at byte %d (opcode 0x%02x)", at, op)
			}
			return nil, fmt.Errorf("malformed pickle at byte %d (opcode 0x%02x): %v", at, op, err)
		}
		switch op {
		case 0x80: // PROTO
			v, err := r.byte()
			if err != nil {
				return fail(io.ErrUnexpectedEOF)
			}
			if v > 5 {
				return fail(fmt.Errorf("unsupported pickle protocol %d", v))
			}
			res.protocol = int(v)
		case 0x95: // FRAME
			if err := r.skip(8); err != nil {
				return fail(err)
			}
		case '.': // STOP
			v, err := pop()
			if err != nil {
				return fail(err)
			}
			res.top = v
			return res, nil
		case '(': // MARK
			stack = append(stack, mark{})
		case '0': // POP
			if _, err := pop(); err != nil {
				return fail(err)
			}
		case '1': // POP_MARK
			if _, err := popMark(); err != nil {
				return fail(err)
			}
		case '2': // DUP
			v, err := top()
			if err != nil {
				return fail(err)
			}
			stack = append(stack, v)
		case 'N':
			stack = append(stack, nil)
		case 0x88:
			stack = append(stack, true)
		case 0x89:
			stack = append(stack, false)
		case 'I': // INT (also 00/01 booleans)
			s, err := r.line()
			if err != nil {
				return fail(err)
			}
			switch s {
			case "00":
				stack = append(stack, false)
			case "01":
				stack = append(stack, true)
			default:
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return fail(fmt.Errorf("bad INT %q", s))
				}
				stack = append(stack, n)
			}
		case 'L': // LONG
			s, err := r.line()
			if err != nil {
				return fail(err)
			}
			n, ok := new(big.Int).SetString(strings.TrimSuffix(s, "L"), 10)
			if !ok {
				return fail(fmt.Errorf("bad LONG %q", s))
			}
			stack = append(stack, bigOrInt(n))
		case 'J', 'K', 'M': // BININT, BININT1, BININT2
			size := map[byte]int{'J': 4, 'K': 1, 'M': 2}[op]
			v, err := r.uint(size)
			if err != nil {
				return fail(err)
			}
			if op == 'J' {
				stack = append(stack, int64(int32(uint32(v))))
			} else {
				stack = append(stack, int64(v))
			}
		case 0x8a, 0x8b: // LONG1, LONG4
			size := 1
			if op == 0x8b {
				size = 4
			}
			n, err := r.uint(size)
			if err != nil {
				return fail(err)
			}
			b, err := r.n(int64(n))
			if err != nil {
				return fail(err)
			}
			stack = append(stack, bigOrInt(decodeLong(b)))
		case 'F':
			s, err := r.line()
			if err != nil {
				return fail(err)
			}
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return fail(fmt.Errorf("bad FLOAT %q", s))
			}
			stack = append(stack, f)
		case 'G': // BINFLOAT, big-endian
			b, err := r.n(8)
			if err != nil {
				return fail(err)
			}
			stack = append(stack, math.Float64frombits(binary.BigEndian.Uint64(b)))
		case 'S': // STRING: a quoted repr
			s, err := r.line()
			if err != nil {
				return fail(err)
			}
			if u, err := strconv.Unquote(strings.ReplaceAll(s, `\'`, `'`)); err == nil {
				s = u
			} else if len(s) >= 2 {
				s = s[1 : len(s)-1]
			}
			stack = append(stack, s)
		case 'V': // UNICODE: raw-unicode-escape line
			s, err := r.line()
			if err != nil {
				return fail(err)
			}
			stack = append(stack, rawUnicodeEscape(s))
		case 'T', 'B', 'X', 'U', 'C', 0x8c, 0x8d, 0x8e, 0x96: // sized strings and bytes
			size := map[byte]int{'T': 4, 'B': 4, 'X': 4, 'U': 1, 'C': 1, 0x8c: 1, 0x8d: 8, 0x8e: 8, 0x96: 8}[op]
			n, err := r.uint(size)
			if err != nil {
				return fail(err)
			}
			b, err := r.n(int64(n))
			if err != nil {
				return fail(err)
			}
			switch op {
			case 'X', 0x8c, 0x8d, 'T', 'U':
				stack = append(stack, string(b))
			default:
				stack = append(stack, b)
			}
		case ')':
			stack = append(stack, &tuple{})
		case 't':
			items, err := popMark()
			if err != nil {
				return fail(err)
			}
			stack = append(stack, &tuple{items: items})
		case 0x85, 0x86, 0x87: // TUPLE1..3
			n := int(op - 0x84)
			if len(stack) < n {
				return fail(errors.New("stack underflow"))
			}
			items := append([]any(nil), stack[len(stack)-n:]...)
			stack = stack[:len(stack)-n]
			stack = append(stack, &tuple{items: items})
		case ']':
			stack = append(stack, &list{})
		case 'l':
			items, err := popMark()
			if err != nil {
				return fail(err)
			}
			stack = append(stack, &list{items: items})
		case '}':
			stack = append(stack, &dict{})
		case 'd':
			items, err := popMark()
			if err != nil {
				return fail(err)
			}
			d := &dict{}
			for i := 0; i+1 < len(items); i += 2 {
				d.keys, d.vals = append(d.keys, items[i]), append(d.vals, items[i+1])
			}
			stack = append(stack, d)
		case 0x8f: // EMPTY_SET
			stack = append(stack, &set{})
		case 0x91: // FROZENSET
			items, err := popMark()
			if err != nil {
				return fail(err)
			}
			stack = append(stack, &set{items: items})
		case 'a': // APPEND
			v, err := pop()
			if err != nil {
				return fail(err)
			}
			target, err := top()
			if err != nil {
				return fail(err)
			}
			if l, ok := target.(*list); ok {
				l.items = append(l.items, v)
			}
		case 'e': // APPENDS
			items, err := popMark()
			if err != nil {
				return fail(err)
			}
			target, err := top()
			if err != nil {
				return fail(err)
			}
			if l, ok := target.(*list); ok {
				l.items = append(l.items, items...)
			}
		case 0x90: // ADDITEMS
			items, err := popMark()
			if err != nil {
				return fail(err)
			}
			target, err := top()
			if err != nil {
				return fail(err)
			}
			if s, ok := target.(*set); ok {
				s.items = append(s.items, items...)
			}
		case 's': // SETITEM
			k, v, err := pop2()
			if err != nil {
				return fail(err)
			}
			target, err := top()
			if err != nil {
				return fail(err)
			}
			if d, ok := target.(*dict); ok {
				d.keys, d.vals = append(d.keys, k), append(d.vals, v)
			}
		case 'u': // SETITEMS
			items, err := popMark()
			if err != nil {
				return fail(err)
			}
			target, err := top()
			if err != nil {
				return fail(err)
			}
			if d, ok := target.(*dict); ok {
				for i := 0; i+1 < len(items); i += 2 {
					d.keys, d.vals = append(d.keys, items[i]), append(d.vals, items[i+1])
				}
			}
		case 'p', 'q', 'r', 0x94: // PUT, BINPUT, LONG_BINPUT, MEMOIZE
			idx := int64(len(memo))
			if op != 0x94 {
				if idx, err = r.memoIndex(op, 'p', 'q', "PUT"); err != nil {
					return fail(err)
				}
			}
			v, err := top()
			if err != nil {
				return fail(err)
			}
			memo[idx] = v
		case 'g', 'h', 'j': // GET, BINGET, LONG_BINGET
			idx, err := r.memoIndex(op, 'g', 'h', "GET")
			if err != nil {
				return fail(err)
			}
			v, ok := memo[idx]
			if !ok {
				return fail(fmt.Errorf("memo key %d was never stored", idx))
			}
			stack = append(stack, v)
		case 'c': // GLOBAL
			mod, err := r.line()
			if err != nil {
				return fail(err)
			}
			name, err := r.line()
			if err != nil {
				return fail(err)
			}
			if err := loadGlobal(mod, name); err != nil {
				return fail(err)
			}
		case 0x93: // STACK_GLOBAL
			mod, name, err := pop2()
			if err != nil {
				return fail(err)
			}
			ms, ok1 := mod.(string)
			ns, ok2 := name.(string)
			if !ok1 || !ok2 {
				return fail(errors.New("STACK_GLOBAL needs two strings"))
			}
			if err := loadGlobal(ms, ns); err != nil {
				return fail(err)
			}
		case 'R', 0x81, 0x92: // REDUCE (callable, args), NEWOBJ (class, args), NEWOBJ_EX (class, args, kwargs)
			if op == 0x92 {
				if _, err := pop(); err != nil { // kwargs
					return fail(err)
				}
			}
			fn, args, err := pop2()
			if err == nil {
				err = call(fn, args)
			}
			if err != nil {
				return fail(err)
			}
		case 'o': // OBJ
			items, err := popMark()
			if err != nil {
				return fail(err)
			}
			if len(items) == 0 {
				return fail(errors.New("OBJ with no class"))
			}
			if err := call(items[0], &tuple{items: items[1:]}); err != nil {
				return fail(err)
			}
		case 'i': // INST
			mod, err := r.line()
			if err != nil {
				return fail(err)
			}
			name, err := r.line()
			if err != nil {
				return fail(err)
			}
			items, err := popMark()
			if err != nil {
				return fail(err)
			}
			g := &global{module: mod, name: name}
			if err := nameable(g); err != nil {
				return fail(err)
			}
			res.globals = append(res.globals, g)
			if err := call(g, &tuple{items: items}); err != nil {
				return fail(err)
			}
		case 'b': // BUILD
			state, err := pop()
			if err != nil {
				return fail(err)
			}
			t, err := top()
			if err != nil {
				return fail(err)
			}
			if o, ok := t.(*object); ok {
				o.state = state
				if err := afterBuild(r, o); err != nil {
					return fail(err)
				}
			}
		case 'P', 'Q':
			return fail(fmt.Errorf("%w: it uses persistent ids, which need a custom loader", ErrUnsafe))
		case 0x82, 0x83, 0x84:
			return fail(fmt.Errorf("%w: it uses the extension registry (EXT opcodes)", ErrUnsafe))
		case 0x97, 0x98:
			return fail(errors.New("out-of-band buffers (pickle protocol 5 NEXT_BUFFER) are not supported"))
		default:
			return fail(fmt.Errorf("unknown opcode"))
		}
		if len(stack) > 1<<20 {
			return fail(errors.New("stack too deep"))
		}
	}
}

// rawUnicodeEscape decodes Python's raw-unicode-escape, as protocol 0
// writes text: each byte is the character of that code (latin-1), but
// \uXXXX and \UXXXXXXXX, which stand for theirs (the pickler writes every
// backslash, NUL and newline of the text so).
func rawUnicodeEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U') {
			n := 4
			if s[i+1] == 'U' {
				n = 8
			}
			if i+2+n <= len(s) {
				if v, err := strconv.ParseUint(s[i+2:i+2+n], 16, 32); err == nil && v <= unicode.MaxRune {
					b.WriteRune(rune(v))
					i += 1 + n
					continue
				}
			}
		}
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}

func decodeLong(b []byte) *big.Int {
	// little-endian two's complement
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	n := new(big.Int).SetBytes(be)
	if len(b) > 0 && b[len(b)-1]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(len(b)*8)))
	}
	return n
}

func bigOrInt(n *big.Int) any {
	if n.IsInt64() {
		return n.Int64()
	}
	return n
}

// afterBuild handles joblib's NumpyArrayWrapper, whose array bytes follow
// the wrapper in the stream: it skips them (or walks the nested pickle of
// an object array).
func afterBuild(r *reader, o *object) error {
	if o.class.name != "NumpyArrayWrapper" {
		return nil
	}
	st, ok := o.state.(*dict)
	if !ok {
		return errors.New("NumpyArrayWrapper without a state dict")
	}
	shape, _ := st.get("shape").(*tuple)
	count := int64(1)
	if shape != nil {
		for _, d := range shape.items {
			n, ok := d.(int64)
			if !ok || n < 0 {
				return errors.New("NumpyArrayWrapper with a bad shape")
			}
			count *= n
			if count > maxPickle {
				return errors.New("NumpyArrayWrapper too large")
			}
		}
	}
	dt, _ := st.get("dtype").(*object)
	code := ""
	if dt != nil {
		if t, ok := dt.args.(*tuple); ok && len(t.items) > 0 {
			code, _ = t.items[0].(string)
		}
	}
	if code == "O8" || code == "O4" {
		_, err := walk(r) // the array is pickled inline
		return err
	}
	size, err := itemSize(code)
	if err != nil {
		return err
	}
	if mm, _ := st.get("allow_mmap").(bool); mm {
		pad, err := r.byte()
		if err != nil {
			return io.ErrUnexpectedEOF
		}
		if err := r.skip(int64(pad)); err != nil {
			return err
		}
	}
	return r.skip(count * size)
}

func itemSize(code string) (int64, error) {
	code = strings.TrimLeft(code, "<>|=")
	if len(code) < 2 {
		return 0, fmt.Errorf("unsupported numpy dtype %q in a joblib file", code)
	}
	n, err := strconv.ParseInt(code[1:], 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("unsupported numpy dtype %q in a joblib file", code)
	}
	if code[0] == 'U' {
		return n * 4, nil
	}
	return n, nil
}
