package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Field selection for `mlrun traces --extract-fields`, as mlflow traces
// does it: dot paths into a trace's JSON ("info.trace_id",
// "data.spans.*.name"), a backticked segment keeping its dots
// ("info.tags.`mlflow.traceName`"), * for every key or element, a number
// for one element.

// splitField splits a path on the dots outside backticks.
func splitField(path string) []string {
	var parts []string
	var cur strings.Builder
	quoted := false
	for _, r := range path {
		switch {
		case r == '`':
			quoted = !quoted
		case r == '.' && !quoted:
			if cur.Len() > 0 {
				parts = append(parts, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		parts = append(parts, cur.String())
	}
	return parts
}

// toGeneric turns v into JSON's generic values (maps, slices, strings,
// json.Number, bools, nil).
func toGeneric(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var out any
	return out, d.Decode(&out)
}

// extractField lists the values at a path.
func extractField(v any, parts []string) []any {
	if len(parts) == 0 {
		return []any{v}
	}
	part, rest := parts[0], parts[1:]
	var out []any
	switch v := v.(type) {
	case map[string]any:
		if part == "*" {
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				out = append(out, extractField(v[k], rest)...)
			}
		} else if x, ok := v[part]; ok {
			out = extractField(x, rest)
		}
	case []any:
		if part == "*" {
			for _, x := range v {
				out = append(out, extractField(x, rest)...)
			}
		} else if i, err := strconv.Atoi(part); err == nil && i >= 0 && i < len(v) {
			out = extractField(v[i], rest)
		}
	}
	return out
}

// pickField is v cut down to what a path reaches, its structure kept
// (nil when the path reaches nothing).
func pickField(v any, parts []string) any {
	if len(parts) == 0 {
		return v
	}
	part, rest := parts[0], parts[1:]
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			if part == "*" || part == k {
				if p := pickField(x, rest); p != nil {
					out[k] = p
				}
			}
		}
		if len(out) > 0 {
			return out
		}
	case []any:
		out := make([]any, len(v))
		found := false
		for i, x := range v {
			if part == "*" || part == strconv.Itoa(i) {
				if out[i] = pickField(x, rest); out[i] != nil {
					found = true
				}
			}
		}
		if found {
			return out
		}
	}
	return nil
}

// mergePicked joins two picks of the same value.
func mergePicked(a, b any) any {
	switch a := a.(type) {
	case map[string]any:
		if bm, ok := b.(map[string]any); ok {
			for k, x := range bm {
				a[k] = mergePicked(a[k], x)
			}
			return a
		}
	case []any:
		if bl, ok := b.([]any); ok && len(bl) == len(a) {
			for i := range a {
				a[i] = mergePicked(a[i], bl[i])
			}
			return a
		}
	case nil:
		return b
	}
	if b == nil {
		return a
	}
	return b
}

// selectFields keeps the fields' paths of v (a list of paths, comma
// separated). With check, a path without * that v lacks is an error
// naming the fields v has (mlflow traces checks the first trace so):
// those of the first three levels, or with verbose every one.
func selectFields(v any, fields string, check, verbose bool) (any, error) {
	var picked any
	for _, f := range fieldList(fields) {
		parts := splitField(f)
		if check && !strings.Contains(f, "*") && len(extractField(v, parts)) == 0 {
			depth, more := 2, " (--verbose lists every field)"
			if verbose {
				depth, more = 64, ""
			}
			return nil, fmt.Errorf("--extract-fields: no field %s in the traces; fields include %s%s", f, strings.Join(fieldNames(v, "", depth), ", "), more)
		}
		picked = mergePicked(picked, pickField(v, parts))
	}
	if picked == nil {
		picked = map[string]any{}
	}
	return picked, nil
}

// fieldList splits --extract-fields on the commas outside backticks.
func fieldList(fields string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range fields {
		switch {
		case r == '`':
			quoted = !quoted
			cur.WriteRune(r)
		case r == ',' && !quoted:
			if s := strings.TrimSpace(cur.String()); s != "" {
				out = append(out, s)
			}
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

// fieldNames lists the paths of v down to depth levels (lists as *).
func fieldNames(v any, prefix string, depth int) []string {
	var out []string
	join := func(k string) string {
		if strings.Contains(k, ".") {
			k = "`" + k + "`"
		}
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			p := join(k)
			out = append(out, p)
			if depth > 0 {
				out = append(out, fieldNames(x, p, depth-1)...)
			}
		}
	case []any:
		if len(v) > 0 && depth > 0 {
			out = append(out, fieldNames(v[0], join("*"), depth-1)...)
		}
	}
	sort.Strings(out)
	return out
}

// cellText is the values at a field as a table cell: a string as it is,
// anything else as JSON, several separated by commas.
func cellText(values []any) string {
	parts := make([]string, len(values))
	for i, v := range values {
		if s, ok := v.(string); ok {
			parts[i] = s
			continue
		}
		b, _ := json.Marshal(v)
		parts[i] = string(b)
	}
	return strings.Join(parts, ", ")
}
