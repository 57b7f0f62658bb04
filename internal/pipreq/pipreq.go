// Package pipreq reads and rewrites a model's pip requirements (its
// requirements.txt, and the pip section of its conda.yaml) as MLflow's
// update_model_requirements does (`mlflow models update-pip-requirements`):
// a requirement is parsed by PEP 508 and written back as Python's
// packaging library writes one (extras sorted, specifiers sorted and
// joined by commas, markers with double-quoted values); adding one
// replaces the requirement of the same package where it stood, or comes
// last; removing one drops the package whatever its version.
//
// Unlike MLflow, packages are matched by their normalized names (PEP 503:
// case, and runs of "-", "_" and "." alike), and lines that are not
// requirements (comments, "-c constraints.txt", pip options) are kept as
// they are rather than refused.
package pipreq

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Requirement is one PEP 508 requirement.
type Requirement struct {
	Name       string
	Extras     []string
	Specifiers []string // "==1.0", ">=2"; as written, without spaces
	URL        string
	Marker     string // normalized
}

var (
	nameRe    = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?`)
	extraRe   = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$`)
	specRe    = regexp.MustCompile(`^(===|~=|==|!=|<=|>=|<|>)\s*([^\s,;()]+)$`)
	canonRe   = regexp.MustCompile(`[-_.]+`)
	markerTok = regexp.MustCompile(`^(\s+|\(|\)|===|==|!=|<=|>=|~=|<|>|'[^']*'|"[^"]*"|[A-Za-z_][A-Za-z0-9_.]*)`)
)

// Parse reads one requirement, or says what is wrong with it.
func Parse(s string) (Requirement, error) {
	in := strings.TrimSpace(s)
	rest := in
	bad := func(why string) (Requirement, error) {
		return Requirement{}, fmt.Errorf("invalid requirement %q: %s", in, why)
	}
	name := nameRe.FindString(rest)
	if name == "" {
		return bad("it does not start with a package name")
	}
	r := Requirement{Name: name}
	rest = strings.TrimLeft(rest[len(name):], " \t")
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return bad("unclosed '['")
		}
		for _, e := range strings.Split(rest[1:end], ",") {
			if e = strings.TrimSpace(e); e == "" {
				continue
			}
			if !extraRe.MatchString(e) {
				return bad(fmt.Sprintf("invalid extra %q", e))
			}
			r.Extras = append(r.Extras, e)
		}
		rest = strings.TrimLeft(rest[end+1:], " \t")
	}
	marker := ""
	if strings.HasPrefix(rest, "@") {
		u := strings.TrimLeft(rest[1:], " \t")
		end := strings.IndexAny(u, " \t")
		if end < 0 {
			end = len(u)
		}
		r.URL, rest = u[:end], strings.TrimLeft(u[end:], " \t")
		if r.URL == "" || !strings.Contains(r.URL, ":") {
			return bad("expected a URL after '@'")
		}
		if rest != "" {
			if !strings.HasPrefix(rest, ";") {
				return bad("expected ';' before the marker after the URL")
			}
			marker = rest[1:]
		}
	} else {
		spec := rest
		if i := strings.IndexByte(rest, ';'); i >= 0 {
			spec, marker = rest[:i], rest[i+1:]
		}
		spec = strings.TrimSpace(spec)
		if strings.HasPrefix(spec, "(") {
			if !strings.HasSuffix(spec, ")") {
				return bad("unclosed '('")
			}
			spec = strings.TrimSpace(spec[1 : len(spec)-1])
		}
		if spec != "" {
			for _, one := range strings.Split(spec, ",") {
				m := specRe.FindStringSubmatch(strings.TrimSpace(one))
				if m == nil {
					return bad(fmt.Sprintf("invalid version specifier %q", strings.TrimSpace(one)))
				}
				r.Specifiers = append(r.Specifiers, m[1]+m[2])
			}
		}
	}
	if strings.Contains(rest, ";") || marker != "" {
		m, err := normalizeMarker(marker)
		if err != nil {
			return bad(err.Error())
		}
		r.Marker = m
	}
	return r, nil
}

// normalizeMarker writes an environment marker as packaging does: its
// tokens one space apart (none inside parentheses' edges), values in
// double quotes.
func normalizeMarker(s string) (string, error) {
	var toks []string
	for s = strings.TrimSpace(s); s != ""; {
		m := markerTok.FindString(s)
		if m == "" {
			return "", fmt.Errorf("invalid marker near %q", s)
		}
		s = s[len(m):]
		switch {
		case strings.TrimSpace(m) == "":
			continue
		case m[0] == '\'' && !strings.Contains(m, `"`):
			// (packaging writes 'a"b' as "a"b", which no longer parses.)
			m = `"` + m[1:len(m)-1] + `"`
		}
		toks = append(toks, m)
	}
	if len(toks) == 0 {
		return "", fmt.Errorf("empty marker after ';'")
	}
	var b strings.Builder
	for i, t := range toks {
		if i > 0 && toks[i-1] != "(" && t != ")" {
			b.WriteByte(' ')
		}
		b.WriteString(t)
	}
	return b.String(), nil
}

// String writes r as packaging's Requirement does.
func (r Requirement) String() string {
	var b strings.Builder
	b.WriteString(r.Name)
	if len(r.Extras) > 0 {
		ex := append([]string(nil), r.Extras...)
		sort.Strings(ex)
		b.WriteString("[" + strings.Join(dedupe(ex), ",") + "]")
	}
	if len(r.Specifiers) > 0 {
		sp := append([]string(nil), r.Specifiers...)
		sort.Strings(sp)
		b.WriteString(strings.Join(dedupe(sp), ","))
	}
	if r.URL != "" {
		b.WriteString("@ " + r.URL)
		if r.Marker != "" {
			b.WriteByte(' ')
		}
	}
	if r.Marker != "" {
		b.WriteString("; " + r.Marker)
	}
	return b.String()
}

// dedupe drops adjacent repeats of a sorted list.
func dedupe(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// Canonical is a package name as PEP 503 compares them.
func Canonical(name string) string {
	return strings.ToLower(canonRe.ReplaceAllString(name, "-"))
}

// ParseList reads requirements given on the command line: each trimmed,
// its package name lowercased (as MLflow lowercases them); every invalid
// one is named in the error.
func ParseList(ss []string) ([]Requirement, error) {
	var out []Requirement
	var bad []string
	for _, s := range ss {
		r, err := Parse(s)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		r.Name = strings.ToLower(r.Name)
		out = append(out, r)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return out, nil
}

// line is one line of a requirements list: a requirement, or something
// else kept as written (key "" then).
type line struct {
	key  string
	text string
}

func readLines(lines []string) []line {
	var out []line
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if r, err := Parse(l); err == nil {
			out = append(out, line{key: Canonical(r.Name), text: r.String()})
		} else {
			out = append(out, line{text: l})
		}
	}
	return out
}

// Merge folds requirements of one package into one, as MLflow's
// _deduplicate_requirements does: their specifiers and extras together.
func Merge(reqs []Requirement) []Requirement {
	var out []Requirement
	at := map[string]int{}
	for _, r := range reqs {
		k := Canonical(r.Name)
		i, ok := at[k]
		if !ok {
			at[k] = len(out)
			out = append(out, r)
			continue
		}
		m := &out[i]
		m.Specifiers = append(m.Specifiers, r.Specifiers...)
		m.Extras = append(m.Extras, r.Extras...)
		if r.URL != "" {
			m.URL = r.URL
		}
		if r.Marker != "" {
			m.Marker = r.Marker
		}
	}
	return out
}

// Add returns old with each of add in place of the requirement of its
// package (the first; others of that package are dropped), or after the
// others when old has none.
func Add(old []string, add []Requirement) []string {
	lines := readLines(old)
	for _, r := range Merge(add) {
		k, done := Canonical(r.Name), false
		for i := 0; i < len(lines); i++ {
			switch {
			case lines[i].key != k:
			case !done:
				lines[i].text, done = r.String(), true
			default:
				lines = append(lines[:i], lines[i+1:]...)
				i--
			}
		}
		if !done {
			lines = append(lines, line{key: k, text: r.String()})
		}
	}
	return texts(lines)
}

// Remove returns old without the requirements of remove's packages
// (whatever their versions), and the packages old did not have.
func Remove(old []string, remove []Requirement) (kept, missing []string) {
	lines := readLines(old)
	for _, r := range remove {
		k, found := Canonical(r.Name), false
		for i := 0; i < len(lines); i++ {
			if lines[i].key == k {
				lines = append(lines[:i], lines[i+1:]...)
				i--
				found = true
			}
		}
		if !found {
			missing = append(missing, r.Name)
		}
	}
	return texts(lines), missing
}

func texts(lines []line) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l.text
	}
	return out
}

// SplitList splits a comma-separated list of requirements (MLflow's
// --pip-requirements-override form), x==1.0,y>=2,<3: a comma
// starts a new one only outside extras' brackets and when a package name
// follows it, so that a requirement's own extras ([a,b]) and specifiers
// (>=2,<3) stay together.
func SplitList(s string) []string {
	var out []string
	depth, start := 0, 0
	flush := func(end int) {
		p := strings.TrimSpace(s[start:end])
		if len(out) > 0 && (p == "" || strings.ContainsRune("<>=!~(", rune(p[0]))) {
			out[len(out)-1] += "," + p
		} else {
			out = append(out, p)
		}
		start = end + 1
	}
	for i, r := range s {
		switch {
		case r == '[':
			depth++
		case r == ']' && depth > 0:
			depth--
		case r == ',' && depth == 0:
			flush(i)
		}
	}
	flush(len(s))
	return out
}
