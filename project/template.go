package project

import (
	"fmt"
	"strings"
)

// segment is a literal run of a template, or a {field}.
type segment struct {
	text  string
	field bool
}

// parseTemplate splits a command template as Python's str.format reads it
// with named fields only: {name} is a field, {{ and }} are literal braces,
// anything else ({}, {0}, {a.b}, {x:.2f}, a lone brace) is an error that
// names it.
func parseTemplate(tmpl string) ([]segment, error) {
	var (
		segs []segment
		lit  strings.Builder
	)
	for i := 0; i < len(tmpl); i++ {
		switch c := tmpl[i]; {
		case c == '{' && i+1 < len(tmpl) && tmpl[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '}' && i+1 < len(tmpl) && tmpl[i+1] == '}':
			lit.WriteByte('}')
			i++
		case c == '{':
			end := strings.IndexByte(tmpl[i+1:], '}')
			if end < 0 {
				return nil, fmt.Errorf("command template has an unclosed '{' at position %d", i)
			}
			name := tmpl[i+1 : i+1+end]
			if !isIdent(name) {
				return nil, fmt.Errorf("command template field {%s} is not a parameter name (only {name} is supported; write {{ and }} for literal braces)", name)
			}
			segs = append(segs, segment{text: lit.String()}, segment{text: name, field: true})
			lit.Reset()
			i += end + 1
		case c == '}':
			return nil, fmt.Errorf("command template has a lone '}' at position %d (write }} for a literal brace)", i)
		default:
			lit.WriteByte(c)
		}
	}
	return append(segs, segment{text: lit.String()}), nil
}

// render fills the template's fields from vals; a field with no value is
// an error.
func render(segs []segment, vals map[string]string) (string, error) {
	var b strings.Builder
	for _, s := range segs {
		if !s.field {
			b.WriteString(s.text)
			continue
		}
		v, ok := vals[s.text]
		if !ok {
			return "", fmt.Errorf("command template uses {%s}, which is not a declared parameter", s.text)
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
