package search

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/mlrun/mlrun/store"
)

// Entity types of a clause, by MLflow's canonical names.
const (
	Metric    = "metric"
	Param     = "parameter"
	Tag       = "tag"
	Attribute = "attribute"
	Dataset   = "dataset"
	Metadata  = "metadata" // a trace's request metadata
	// MLflow 3's trace filters: a span of the trace (key name, type,
	// status, content or attributes.<key>), an assessment by name.
	Span        = "span"
	Feedback    = "feedback"
	Expectation = "expectation"
)

// Clause is one comparison of a filter.
type Clause struct {
	Entity  string   // Metric, Param, Tag, Attribute or Dataset
	Key     string   // the metric/param/tag key, or the canonical attribute name
	Op      string   // = != < <= > >= LIKE ILIKE IN "NOT IN"
	Str     string   // the value, for string comparisons
	Num     float64  // the value, for numeric comparisons
	List    []string // the values, for IN and NOT IN
	Numeric bool     // the value is Num
}

// Grammar says which entities, keys and comparators a search accepts.
type Grammar struct {
	what     string            // "runs", "experiments"
	entities map[string]string // alias → canonical entity
	// attrs maps attribute aliases to canonical names; numeric ones are
	// listed in numAttrs.
	attrs    map[string]string
	numAttrs map[string]bool
	inAttrs  map[string]bool // string attributes that also take IN / NOT IN
	// orderAttrs, when set, are the attributes order_by takes (else attrs).
	orderAttrs map[string]string
	entityList string
	// noLike refuses LIKE and ILIKE; eqOnly lists string
	// attributes that take only = and != (no IN).
	noLike bool
	// ops, when set, gives the comparators a clause takes (MLflow 3's
	// trace grammar, which also takes RLIKE) in place of the rules
	// above; keys checks entity keys.
	ops  func(c *Clause) []string
	keys func(c *Clause) error
}

// Runs is the grammar of SearchRuns.
var Runs = &Grammar{
	what: "runs",
	entities: map[string]string{
		"metric": Metric, "metrics": Metric,
		"parameter": Param, "parameters": Param, "param": Param, "params": Param,
		"tag": Tag, "tags": Tag,
		"attribute": Attribute, "attributes": Attribute, "attr": Attribute, "run": Attribute,
		"dataset": Dataset, "datasets": Dataset,
	},
	attrs: map[string]string{
		"run_id": "run_id", "run_name": "run_name", "status": "status", "user_id": "user_id",
		"artifact_uri": "artifact_uri", "start_time": "start_time", "end_time": "end_time",
		"run name": "run_name", "Run name": "run_name", "Run Name": "run_name",
		"created": "start_time", "Created": "start_time",
	},
	numAttrs:   map[string]bool{"start_time": true, "end_time": true},
	inAttrs:    map[string]bool{"run_id": true},
	entityList: "['metric', 'parameter', 'tag', 'attribute', 'dataset']",
}

// Experiments is the grammar of SearchExperiments.
var Experiments = &Grammar{
	what:     "experiments",
	entities: map[string]string{"attribute": Attribute, "tag": Tag, "tags": Tag},
	attrs: map[string]string{
		"name": "name", "creation_time": "creation_time", "last_update_time": "last_update_time",
	},
	orderAttrs: map[string]string{
		"name": "name", "experiment_id": "experiment_id",
		"creation_time": "creation_time", "last_update_time": "last_update_time",
	},
	numAttrs:   map[string]bool{"creation_time": true, "last_update_time": true},
	inAttrs:    map[string]bool{},
	entityList: "('attribute', 'tag', 'tags')",
}

// EvaluationDatasets is the grammar of SearchEvaluationDatasets (MLflow
// 3's GenAI evaluation datasets): attributes and tags.
var EvaluationDatasets = &Grammar{
	what:     "evaluation datasets",
	entities: map[string]string{"attribute": Attribute, "attributes": Attribute, "tag": Tag, "tags": Tag},
	attrs: map[string]string{
		"name": "name", "digest": "digest", "created_by": "created_by", "last_updated_by": "last_updated_by",
		"created_time": "created_time", "last_update_time": "last_update_time",
	},
	orderAttrs: map[string]string{
		"name": "name", "dataset_id": "dataset_id", "created_time": "created_time", "last_update_time": "last_update_time",
	},
	numAttrs:   map[string]bool{"created_time": true, "last_update_time": true},
	inAttrs:    map[string]bool{},
	entityList: "('attribute', 'tag', 'tags')",
}

// LoggedModels is the grammar of SearchLoggedModels (MLflow 3's
// SearchLoggedModelsUtils): attributes, metrics, params and tags.
var LoggedModels = &Grammar{
	what: "logged models",
	entities: map[string]string{
		"metric": Metric, "metrics": Metric,
		"parameter": Param, "parameters": Param, "param": Param, "params": Param,
		"tag": Tag, "tags": Tag,
		"attribute": Attribute, "attributes": Attribute, "attr": Attribute,
	},
	attrs: map[string]string{
		"name": "name", "model_id": "model_id", "model_type": "model_type", "status": "status",
		"source_run_id": "source_run_id", "creation_timestamp": "creation_timestamp", "creation_time": "creation_timestamp",
		"last_updated_timestamp": "last_updated_timestamp", "last_updated_time": "last_updated_timestamp",
	},
	numAttrs:   map[string]bool{"creation_timestamp": true, "last_updated_timestamp": true},
	inAttrs:    map[string]bool{"name": true, "model_id": true, "model_type": true, "status": true, "source_run_id": true},
	entityList: "['metric', 'parameter', 'tag', 'attribute']",
}

// Traces is the grammar of trace searches, MLflow 3.6's (SearchTraces and
// SearchTracesV3 alike): attributes (trace. prefix too), tags, request
// metadata, spans (span.name, .type, .status, .content,
// .attributes.<key>), assessments (feedback.<name>,
// expectation.<name>), the full text of the spans (text), and the prompt
// versions the trace used (prompt = 'name/version'). Strings take LIKE,
// ILIKE and RLIKE (a regular expression, unanchored) where MLflow takes
// them.
var Traces = &Grammar{
	what: "traces",
	entities: map[string]string{
		"attribute": Attribute, "attributes": Attribute, "trace": Attribute,
		"tag": Tag, "tags": Tag,
		"request_metadata": Metadata, "metadata": Metadata,
		"span": Span, "spans": Span,
		"feedback": Feedback, "expectation": Expectation,
	},
	attrs: map[string]string{
		"request_id": "request_id", "trace_id": "request_id", "status": "status", "state": "status",
		"timestamp_ms": "timestamp_ms", "timestamp": "timestamp_ms",
		"execution_time_ms": "execution_time_ms", "execution_time": "execution_time_ms",
		"end_time_ms": "end_time_ms", "end_time": "end_time_ms",
		"name": "name", "run_id": "run_id", "client_request_id": "client_request_id",
		"text": "text", "prompt": "prompt",
	},
	numAttrs:   map[string]bool{"timestamp_ms": true, "execution_time_ms": true, "end_time_ms": true},
	inAttrs:    map[string]bool{"request_id": true, "status": true},
	entityList: "['attribute', 'trace', 'tag', 'metadata', 'span', 'feedback', 'expectation']",
	ops: func(c *Clause) []string {
		patterns := []string{"=", "!=", "LIKE", "ILIKE", "RLIKE"}
		switch c.Entity {
		case Span:
			switch {
			case c.Key == "content" || strings.HasPrefix(c.Key, "attributes."):
				return []string{"LIKE", "ILIKE", "RLIKE"}
			}
			return patterns
		case Tag, Metadata, Feedback, Expectation:
			return patterns
		}
		switch c.Key {
		case "name", "client_request_id":
			return patterns
		case "text":
			return []string{"LIKE", "ILIKE"}
		case "prompt":
			return []string{"="}
		case "run_id":
			return []string{"=", "!="} // MLflow 3 documents =; 2.x took != too
		case "request_id", "status":
			return []string{"=", "!=", "IN", "NOT IN"}
		}
		return []string{"=", "!=", ">", ">=", "<", "<="}
	},
	keys: func(c *Clause) error {
		if c.Entity != Span {
			return nil
		}
		switch {
		case c.Key == "name" || c.Key == "type" || c.Key == "status" || c.Key == "content":
			return nil
		case strings.HasPrefix(c.Key, "attributes.") && len(c.Key) > len("attributes."):
			return nil
		}
		return store.Invalidf("Invalid span key '%s' specified. Valid keys are ['name', 'type', 'status', 'content', 'attributes.<key>']", c.Key)
	},
}

var datasetKeys = map[string]bool{"name": true, "digest": true, "context": true}

// Parse parses a filter string in grammar g. An empty filter has no clauses.
func (g *Grammar) Parse(filter string) ([]Clause, error) {
	if strings.TrimSpace(filter) == "" {
		return nil, nil
	}
	toks, err := lex(filter)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, src: filter, g: g}
	var out []Clause
	for {
		c, err := p.clause()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		t := p.next()
		switch {
		case t.kind == tokEOF:
			return out, nil
		case t.kind == tokSemicolon:
			return nil, store.Invalidf("Search filter contained multiple expression '%s'. Provide AND-ed expression list.", filter)
		case t.kind == tokIdent && strings.EqualFold(t.text, "and"):
			continue
		default:
			return nil, store.Invalidf("Invalid clause(s) in filter string: '%s': expected AND at position %d, got '%s'", filter, t.pos, t.text)
		}
	}
}

type parser struct {
	toks []token
	i    int
	src  string
	g    *Grammar
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) invalid(t token, what string) error {
	got := t.text
	if t.kind == tokEOF {
		got = "end of filter"
	}
	return store.Invalidf("Invalid clause(s) in filter string: '%s': expected %s at position %d, got '%s'", p.src, what, t.pos, got)
}

// identifier splits an identifier token into entity and key: on the first
// '.' of a leading bare word, or after a leading quoted word followed by
// '.'; without a dot it is an attribute.
func splitIdentifier(t token) (entity, key string) {
	parts := t.parts
	first := parts[0]
	if !first.quoted {
		if i := strings.IndexByte(first.text, '.'); i >= 0 {
			entity = first.text[:i]
			rest := first.text[i+1:]
			var b strings.Builder
			b.WriteString(rest)
			for _, q := range parts[1:] {
				b.WriteString(q.text)
			}
			return entity, b.String()
		}
	} else if len(parts) > 1 && !parts[1].quoted && strings.HasPrefix(parts[1].text, ".") {
		var b strings.Builder
		b.WriteString(parts[1].text[1:])
		for _, q := range parts[2:] {
			b.WriteString(q.text)
		}
		return first.text, b.String()
	}
	var b strings.Builder
	for _, q := range parts {
		b.WriteString(q.text)
	}
	return "", b.String()
}

func (p *parser) clause() (Clause, error) {
	t := p.next()
	if t.kind != tokIdent && t.kind != tokQuoted {
		return Clause{}, p.invalid(t, "an identifier")
	}
	ent, key := splitIdentifier(t)
	var c Clause
	if ent == "" {
		c.Entity = Attribute
	} else {
		canon, ok := p.g.entities[ent]
		if !ok {
			return c, store.Invalidf("Invalid entity type '%s'. Valid values are %s", ent, p.g.entityList)
		}
		c.Entity = canon
	}
	c.Key = key
	if key == "" {
		return c, p.invalid(t, "a key after the entity")
	}
	switch c.Entity {
	case Attribute:
		canon, ok := p.g.attrs[key]
		if !ok {
			return c, store.Invalidf("Invalid attribute key '%s' specified. Valid keys are '%s'", key, p.g.attrNames())
		}
		c.Key = canon
	case Dataset:
		if !datasetKeys[key] {
			return c, store.Invalidf("Invalid dataset key '%s' specified. Valid keys are '['name', 'digest', 'context']'", key)
		}
	}
	if p.g.keys != nil {
		if err := p.g.keys(&c); err != nil {
			return c, err
		}
	}

	op := p.next()
	switch {
	case op.kind == tokOp:
		c.Op = op.text
	case op.kind == tokIdent && (strings.EqualFold(op.text, "like") || strings.EqualFold(op.text, "ilike") || strings.EqualFold(op.text, "in") ||
		(p.g.ops != nil && strings.EqualFold(op.text, "rlike"))):
		c.Op = strings.ToUpper(op.text)
	case op.kind == tokIdent && strings.EqualFold(op.text, "not"):
		in := p.next()
		if in.kind != tokIdent || !strings.EqualFold(in.text, "in") {
			return c, p.invalid(in, "IN after NOT")
		}
		c.Op = "NOT IN"
	default:
		return c, p.invalid(op, "a comparator")
	}
	if err := p.checkOp(&c); err != nil {
		return c, err
	}
	if c.Op == "IN" || c.Op == "NOT IN" {
		return c, p.list(&c)
	}
	v := p.next()
	if v.kind == tokEOF {
		return c, p.invalid(v, "a value")
	}
	if c.Numeric {
		if v.kind != tokNumber {
			if c.Entity == Metric {
				return c, store.Invalidf("Expected numeric value type for metric. Found %s", v.text)
			}
			return c, store.Invalidf("Expected numeric value type for numeric attribute: %s. Found %s", c.Key, v.text)
		}
		n, err := strconv.ParseFloat(v.text, 64)
		if err != nil {
			return c, store.Invalidf("Invalid number '%s' in filter string", v.text)
		}
		c.Num = n
		return c, nil
	}
	if v.kind != tokString && v.kind != tokQuoted {
		return c, store.Invalidf("Expected a quoted string value for %s (e.g. 'my-value'). Got value %s", c.Entity, v.text)
	}
	c.Str = v.text
	return c, nil
}

// checkOp checks the comparator suits the entity and key, and sets Numeric.
func (p *parser) checkOp(c *Clause) error {
	numeric := c.Entity == Metric || (c.Entity == Attribute && p.g.numAttrs[c.Key])
	c.Numeric = numeric
	if p.g.ops != nil {
		ops := p.g.ops(c)
		for _, op := range ops {
			if op == c.Op {
				return nil
			}
		}
		return store.Invalidf("Invalid comparator '%s' not one of '[%s]' for %s '%s'", c.Op, strings.Join(quoteAll(ops), ", "), c.Entity, c.Key)
	}
	switch c.Op {
	case "=", "!=":
		return nil
	case "<", "<=", ">", ">=":
		if numeric {
			return nil
		}
	case "LIKE", "ILIKE":
		if !numeric && !p.g.noLike {
			return nil
		}
	case "IN", "NOT IN":
		if c.Entity == Dataset || (c.Entity == Attribute && p.g.inAttrs[c.Key]) {
			return nil
		}
	}
	return store.Invalidf("Invalid comparator '%s' not one of '%s' for %s '%s'", c.Op, validOps(numeric, c, p.g), c.Entity, c.Key)
}

func validOps(numeric bool, c *Clause, g *Grammar) string {
	if numeric {
		return "['=', '!=', '>', '>=', '<', '<=']"
	}
	if g.noLike {
		if c.Entity == Attribute && g.inAttrs[c.Key] {
			return "['=', '!=', 'IN', 'NOT IN']"
		}
		return "['=', '!=']"
	}
	if c.Entity == Dataset || (c.Entity == Attribute && g.inAttrs[c.Key]) {
		return "['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN']"
	}
	return "['=', '!=', 'LIKE', 'ILIKE']"
}

func (p *parser) list(c *Clause) error {
	if t := p.next(); t.kind != tokLParen {
		return store.Invalidf("While parsing a list in the query, expected a parenthesised list of quoted strings, got '%s'", t.text)
	}
	for {
		v := p.next()
		if v.kind != tokString && v.kind != tokQuoted {
			return store.Invalidf("While parsing a list in the query, expected string value, got '%s'", v.text)
		}
		c.List = append(c.List, v.text)
		switch t := p.next(); t.kind {
		case tokComma:
			continue
		case tokRParen:
			if c.Entity == Attribute && c.Key == "run_id" {
				c.List = lowerOnly(c.List)
			}
			return nil
		default:
			return p.invalid(t, "',' or ')'")
		}
	}
}

// lowerOnly drops run ids with uppercase letters, as MLflow does.
func lowerOnly(ids []string) []string {
	out := ids[:0:0]
	for _, id := range ids {
		if strings.ToLower(id) == id {
			out = append(out, id)
		}
	}
	return out
}

func (g *Grammar) attrNames() string {
	seen := map[string]bool{}
	var names []string
	for _, v := range g.attrs {
		if !seen[v] {
			seen[v] = true
			names = append(names, v)
		}
	}
	sortStrings(names)
	return fmt.Sprintf("[%s]", strings.Join(quoteAll(names), ", "))
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = "'" + s + "'"
	}
	return out
}

// RegisteredModels is the grammar of SearchRegisteredModels.
var RegisteredModels = &Grammar{
	what:     "registered models",
	entities: map[string]string{"attribute": Attribute, "tag": Tag, "tags": Tag},
	attrs:    map[string]string{"name": "name"},
	orderAttrs: map[string]string{
		"name": "name", "last_updated_timestamp": "last_updated_timestamp", "timestamp": "last_updated_timestamp",
		"creation_timestamp": "creation_timestamp",
	},
	numAttrs:   map[string]bool{},
	inAttrs:    map[string]bool{},
	entityList: "('attribute', 'tag', 'tags')",
}

// ModelVersions is the grammar of SearchModelVersions.
var ModelVersions = &Grammar{
	what:     "model versions",
	entities: map[string]string{"attribute": Attribute, "tag": Tag, "tags": Tag},
	attrs: map[string]string{
		"name": "name", "run_id": "run_id", "source_path": "source_path", "version_number": "version_number",
		"creation_timestamp": "creation_timestamp", "last_updated_timestamp": "last_updated_timestamp",
	},
	orderAttrs: map[string]string{
		"name": "name", "version_number": "version_number", "creation_timestamp": "creation_timestamp",
		"last_updated_timestamp": "last_updated_timestamp", "timestamp": "last_updated_timestamp",
	},
	numAttrs:   map[string]bool{"version_number": true, "creation_timestamp": true, "last_updated_timestamp": true},
	inAttrs:    map[string]bool{"run_id": true},
	entityList: "('attribute', 'tag', 'tags')",
}
