// Package pyjson writes JSON as Python's json module does, where mlrun
// must agree with MLflow byte for byte: json.dumps(json.loads(text),
// sort_keys=True), whose SHA-256 is the key MLflow dedupes evaluation
// dataset records by, and dict.update on JSON objects.
package pyjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// SortedDumps re-encodes JSON text as json.dumps(json.loads(text),
// sort_keys=True) prints it: ", " and ": " separators, keys sorted,
// non-ASCII escaped as \uXXXX, integers as written, floats as Python's
// repr.
func SortedDumps(text []byte) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(keepSurrogates(text)))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("invalid JSON: text after the value")
	}
	var b bytes.Buffer
	if err := dump(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func dump(b *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case string:
		writeKept(b, v)
	case json.Number:
		s, err := number(v)
		if err != nil {
			return err
		}
		b.WriteString(s)
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := dump(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int { return slices.Compare(codePoints(a), codePoints(b)) })
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			writeKept(b, k)
			b.WriteString(": ")
			if err := dump(b, v[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("pyjson: unexpected %T", v)
	}
	return nil
}

// number is a JSON number as Python prints what json.loads made of it:
// an int (no fraction or exponent) as its digits, a float as repr.
func number(n json.Number) (string, error) {
	s := string(n)
	if !strings.ContainsAny(s, ".eE") {
		if s == "-0" { // int("-0") is 0
			return "0", nil
		}
		return s, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return "", fmt.Errorf("invalid number %s", s)
	}
	return FloatRepr(f), nil
}

// FloatRepr is Python's repr of a float: the shortest digits that read
// back the same, in fixed notation from 1e-4 up to 1e16 (with ".0" when
// whole), else as d.ddde±XX; inf and nan as json.dumps writes them.
func FloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX, at least two exponent digits
	_, expText, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expText)
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// WriteString writes s as json.dumps with ensure_ascii=True does: only
// the printable ASCII characters as they are.
func WriteString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r >= 0x20 && r < 0x7f:
				b.WriteByte(byte(r))
			case r > 0xffff:
				r1, r2 := utf16.EncodeRune(r)
				fmt.Fprintf(b, `\u%04x\u%04x`, r1, r2)
			default:
				fmt.Fprintf(b, `\u%04x`, r)
			}
		}
	}
	b.WriteByte('"')
}

// Object is a JSON object that keeps its members in order, as a Python
// dict does; a repeated key keeps its first place and its last value, as
// json.loads does.
type Object struct {
	keys   []string
	values map[string]json.RawMessage
}

// ParseObject reads a JSON object, its values compacted; empty text or
// null is an empty one.
func ParseObject(text []byte) (*Object, error) {
	o := &Object{values: map[string]json.RawMessage{}}
	if t := bytes.TrimSpace(text); len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return o, nil
	}
	d := json.NewDecoder(bytes.NewReader(keepSurrogates(text)))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object")
	}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil, err
		}
		var c bytes.Buffer
		json.Compact(&c, v)
		o.Set(t.(string), c.Bytes())
	}
	if _, err := d.Token(); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("invalid JSON: text after the object")
	}
	return o, nil
}

// Keys lists the members' keys in order.
func (o *Object) Keys() []string { return o.keys }

// Get returns a member's value (nil when absent).
func (o *Object) Get(key string) json.RawMessage { return o.values[key] }

// Has reports whether the object has key.
func (o *Object) Has(key string) bool { _, ok := o.values[key]; return ok }

// Set replaces a member's value in its place, or appends it.
func (o *Object) Set(key string, value json.RawMessage) {
	if _, ok := o.values[key]; !ok {
		o.keys = append(o.keys, key)
	}
	o.values[key] = value
}

// Len is the number of members.
func (o *Object) Len() int { return len(o.keys) }

// Bytes writes the object as compact JSON, members in order.
func (o *Object) Bytes() []byte {
	out := []byte{'{'}
	for i, k := range o.keys {
		if i > 0 {
			out = append(out, ',')
		}
		kb, _ := json.Marshal(k)
		out = append(append(append(out, kb...), ':'), o.values[k]...)
	}
	return append(out, '}')
}

// Update is Python's dst.update(src) on two JSON objects: src's keys
// replace dst's where both have them (in dst's place) and are appended
// in src's order otherwise. An empty dst is {}; the values are kept as
// written.
func Update(dst, src []byte) ([]byte, error) {
	a, err := ParseObject(dst)
	if err != nil {
		return nil, err
	}
	b, err := ParseObject(src)
	if err != nil {
		return nil, err
	}
	for _, k := range b.keys {
		a.Set(k, b.values[k])
	}
	return a.Bytes(), nil
}

// mark stands, in text keepSurrogates rewrote, for an escape Go's
// decoder would lose: followed by four hex digits, it is the escape
// \uXXXX of a lone surrogate (U+D800 to U+DFFF without its pair), which
// Python keeps and writes back as it is, where encoding/json makes it
// U+FFFD. The mark itself, U+FDD0 (a noncharacter), is marked so too, so
// it means nothing else.
const mark = '\ufdd0'

// keepSurrogates rewrites, inside the JSON strings of text, each lone
// surrogate escape and each U+FDD0 (raw or escaped) as mark and the
// code point's four hex digits.
func keepSurrogates(text []byte) []byte {
	hex4 := func(i int) (rune, bool) { // the \uXXXX at text[i]
		if i+6 > len(text) || text[i] != '\\' || text[i+1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(string(text[i+2:i+6]), 16, 32)
		return rune(n), err == nil
	}
	var out []byte
	inString := false
	for i := 0; i < len(text); i++ {
		c := text[i]
		if !inString {
			inString = c == '"'
			out = append(out, c)
			continue
		}
		switch {
		case c == '"':
			inString = false
		case c == '\\' && i+1 < len(text) && text[i+1] != 'u':
			out = append(out, c, text[i+1])
			i++
			continue
		case c == '\\':
			r, ok := hex4(i)
			if !ok {
				break
			}
			if r >= 0xd800 && r <= 0xdbff {
				if lo, ok := hex4(i + 6); ok && lo >= 0xdc00 && lo <= 0xdfff {
					out = append(out, text[i:i+12]...) // a pair: one character
					i += 11
					continue
				}
			}
			if (r >= 0xd800 && r <= 0xdfff) || r == mark {
				out = fmt.Appendf(out, `\ufdd0%04x`, r)
				i += 5
				continue
			}
		case c == 0xef && bytes.HasPrefix(text[i:], []byte(string(mark))):
			out = append(out, `\ufdd0fdd0`...)
			i += len(string(mark)) - 1
			continue
		}
		out = append(out, c)
	}
	return out
}

// unmark reads s's marked code points: each mark and its four hex digits
// is that code point, which may be a lone surrogate.
func unmark(s string, fn func(r rune)) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == mark && i+size+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+size:i+size+4], 16, 32); err == nil {
				fn(rune(n))
				i += size + 4
				continue
			}
		}
		fn(r)
		i += size
	}
}

// codePoints is s as Python's str: its code points, marked ones read.
func codePoints(s string) []rune {
	var out []rune
	unmark(s, func(r rune) { out = append(out, r) })
	return out
}

// writeKept is WriteString for a string decoded from keepSurrogates'
// text: a marked lone surrogate is written as the escape Python writes.
func writeKept(b *bytes.Buffer, s string) {
	if !strings.ContainsRune(s, mark) {
		WriteString(b, s)
		return
	}
	var plain strings.Builder
	b.WriteByte('"')
	flush := func() {
		var q bytes.Buffer
		WriteString(&q, plain.String())
		b.Write(q.Bytes()[1 : q.Len()-1])
		plain.Reset()
	}
	unmark(s, func(r rune) {
		if r >= 0xd800 && r <= 0xdfff || r == mark {
			flush()
			fmt.Fprintf(b, `\u%04x`, r)
			return
		}
		plain.WriteRune(r)
	})
	flush()
	b.WriteByte('"')
}
