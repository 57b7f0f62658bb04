package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// exactKeys refuses a JSON message in which an object decoded into a
// struct has a key that is a field's name written otherwise ("RUN_ID",
// "Run_Id", "experiment_idſ"). encoding/json binds such a key to the
// field, where MLflow's protobuf parser ignores it and the permission
// check (which reads keys as written) does not see it: a request could
// name an allowed run as run_id and act on another as RUN_ID. Most
// bodies have no key with an upper-case letter, a non-ASCII byte or an
// escape, and are let through after one scan; the others are walked
// along t.
func exactKeys(body []byte, t reflect.Type) error {
	if !oddKeys(body) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := checkKeys(dec, t); err != nil {
		if _, ok := err.(*apiError); ok {
			return err
		}
		return nil // malformed: json.Unmarshal says how
	}
	return nil
}

// oddKeys reports whether some object key in body has an upper-case
// ASCII letter, a byte past ASCII or an escape.
func oddKeys(body []byte) bool {
	for i := 0; i < len(body); i++ {
		if body[i] != '"' {
			continue
		}
		odd, j := false, i+1
		for ; j < len(body) && body[j] != '"'; j++ {
			switch c := body[j]; {
			case c == '\\':
				odd = true
				j++
			case c >= 'A' && c <= 'Z', c >= utf8.RuneSelf:
				odd = true
			}
		}
		k := j + 1
		for k < len(body) && (body[k] == ' ' || body[k] == '\t' || body[k] == '\n' || body[k] == '\r') {
			k++
		}
		if odd && k < len(body) && body[k] == ':' {
			return true
		}
		i = j
	}
	return false
}

var unmarshaler = reflect.TypeFor[json.Unmarshaler]()

// checkKeys reads one value from dec, checking the keys of the objects
// that decode into structs of t.
func checkKeys(dec *json.Decoder, t reflect.Type) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() == reflect.Interface || t.Implements(unmarshaler) || reflect.PointerTo(t).Implements(unmarshaler) {
		var skip json.RawMessage
		return dec.Decode(&skip)
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		var fields map[string]reflect.Type
		var folded map[string]string
		if t.Kind() == reflect.Struct {
			fields, folded = structFields(t)
		}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := kt.(string)
			var vt reflect.Type
			switch {
			case t.Kind() == reflect.Map:
				vt = t.Elem()
			case fields != nil:
				var ok bool
				if vt, ok = fields[key]; !ok {
					if name, near := folded[foldKey(key)]; near {
						return invalidParam(fmt.Sprintf("Invalid field '%s': field names are case-sensitive (did you mean '%s'?)", key, name))
					}
				}
			}
			if err := checkKeys(dec, vt); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	case json.Delim('['):
		var et reflect.Type
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			et = t.Elem()
		}
		for dec.More() {
			if err := checkKeys(dec, et); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	}
	return nil
}

// structFields are a struct's fields by their JSON names (embedded
// structs' promoted), and the tagged names by foldKey.
func structFields(t reflect.Type) (map[string]reflect.Type, map[string]string) {
	if v, ok := fieldCache.Load(t); ok {
		c := v.(cachedFields)
		return c.fields, c.folded
	}
	c := cachedFields{fields: map[string]reflect.Type{}, folded: map[string]string{}}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := strings.Split(f.Tag.Get("json"), ",")[0]
			if f.Anonymous && tag == "" {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					walk(ft)
					continue
				}
			}
			if !f.IsExported() || tag == "-" {
				continue
			}
			if tag == "" {
				// An untagged field is bound by any case of its Go name;
				// no MLflow message has one the permission check reads.
				continue
			}
			c.fields[tag] = f.Type
			c.folded[foldKey(tag)] = tag
		}
	}
	walk(t)
	fieldCache.Store(t, c)
	return c.fields, c.folded
}

type cachedFields struct {
	fields map[string]reflect.Type
	folded map[string]string
}

var fieldCache sync.Map // reflect.Type → cachedFields

// foldKey folds a key at least as far as encoding/json does when it binds
// keys to fields: ASCII letters to upper case, and every other rune that
// some case mapping takes to an ASCII letter (K, the Kelvin sign; ſ, the
// long s; İ) to that letter.
func foldKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= utf8.RuneSelf {
			for _, c := range []rune{unicode.ToUpper(unicode.ToLower(r)), unicode.ToLower(r), unicode.ToUpper(r), unicode.SimpleFold(r)} {
				if c < utf8.RuneSelf {
					r = c
					break
				}
			}
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}
