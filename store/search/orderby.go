package search

import (
	"encoding/base64"
	"encoding/json"
	"sort"
	"strings"

	"github.com/mlrun/mlrun/store"
)

// OrderField is one parsed order_by clause.
type OrderField struct {
	Entity string // Metric, Param, Tag or Attribute
	Key    string // canonical attribute name for attributes
	Desc   bool
}

// ParseOrderBy parses order_by clauses ("metrics.`val loss` DESC") in
// grammar g. The same field twice is an error.
func (g *Grammar) ParseOrderBy(clauses []string) ([]OrderField, error) {
	var out []OrderField
	seen := map[[2]string]bool{}
	for _, s := range clauses {
		f, err := g.parseOrder(s)
		if err != nil {
			return nil, err
		}
		k := [2]string{f.Entity, f.Key}
		if seen[k] {
			return nil, store.Invalidf("`order_by` contains duplicate fields: %v", clauses)
		}
		seen[k] = true
		out = append(out, f)
	}
	return out, nil
}

func (g *Grammar) parseOrder(s string) (OrderField, error) {
	bad := func() (OrderField, error) {
		return OrderField{}, store.Invalidf("Invalid order_by clause '%s'. Could not be parsed.", s)
	}
	toks, err := lex(s)
	if err != nil || len(toks) < 2 {
		return bad()
	}
	t := toks[0]
	if t.kind != tokIdent && t.kind != tokQuoted {
		return bad()
	}
	var f OrderField
	switch toks[1].kind {
	case tokEOF:
	case tokIdent:
		switch strings.ToUpper(toks[1].text) {
		case "ASC":
		case "DESC":
			f.Desc = true
		default:
			return bad()
		}
		if toks[2].kind != tokEOF {
			return bad()
		}
	default:
		return bad()
	}
	ent, key := splitIdentifier(t)
	if ent == "" {
		f.Entity = Attribute
	} else {
		canon, ok := g.entities[ent]
		if !ok || canon == Dataset {
			return OrderField{}, store.Invalidf("Invalid order_by entity type '%s' in clause '%s'", ent, s)
		}
		f.Entity = canon
	}
	f.Key = key
	if f.Entity == Attribute {
		attrs := g.attrs
		if g.orderAttrs != nil {
			attrs = g.orderAttrs
		}
		canon, ok := attrs[key]
		if !ok {
			return OrderField{}, store.Invalidf("Invalid order_by attribute key '%s' in clause '%s'", key, s)
		}
		f.Key = canon
	}
	if f.Key == "" {
		return bad()
	}
	return f, nil
}

// IsNumericAttr reports whether the canonical attribute is a number.
func (g *Grammar) IsNumericAttr(key string) bool { return g.numAttrs[key] }

func sortStrings(ss []string) { sort.Strings(ss) }

// Token is the decoded content of a page token: either an offset or the
// sort key of the last row returned (keyset paging).
type Token struct {
	Offset int   `json:"offset,omitempty"`
	After  []any `json:"after,omitempty"`
}

// EncodeToken returns the opaque page token for t (base64 of its JSON, as
// MLflow's own {"offset": N} tokens).
func EncodeToken(t Token) string {
	b, _ := json.Marshal(t)
	return base64.StdEncoding.EncodeToString(b)
}

// DecodeToken parses a page token; "" is the first page.
func DecodeToken(s string) (Token, error) {
	var t Token
	if s == "" {
		return t, nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err == nil {
		d := json.NewDecoder(strings.NewReader(string(b)))
		d.UseNumber()
		err = d.Decode(&t)
	}
	if err != nil || t.Offset < 0 {
		return t, store.Invalidf("Invalid page token, could not base64-decode and parse it: %q", s)
	}
	return t, nil
}
