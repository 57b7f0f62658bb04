package search

import (
	"strings"
	"unicode"

	"github.com/mlrun/mlrun/store"
)

// tokKind is the kind of a lexical token.
type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokString // single-quoted
	tokQuoted // double-quoted: an identifier or a string, by position
	tokNumber
	tokOp // = != < <= > >=
	tokLParen
	tokRParen
	tokComma
	tokSemicolon
)

// part is one piece of an identifier: a bare word or a quoted segment.
type part struct {
	text   string
	quoted bool
}

type token struct {
	kind  tokKind
	text  string // the value: unquoted for strings, the operator, the number
	parts []part // for identifiers
	pos   int
}

// lex splits a filter into tokens. An identifier is a run of bare words
// ([A-Za-z0-9_.]) and backtick- or double-quoted segments with no space
// between them, so metrics.`my-metric` is one identifier.
func lex(s string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'':
			v, n, err := quoted(s, i, '\'')
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{kind: tokString, text: v, pos: i})
			i = n
		case c == '(':
			toks = append(toks, token{kind: tokLParen, text: "(", pos: i})
			i++
		case c == ')':
			toks = append(toks, token{kind: tokRParen, text: ")", pos: i})
			i++
		case c == ',':
			toks = append(toks, token{kind: tokComma, text: ",", pos: i})
			i++
		case c == ';':
			toks = append(toks, token{kind: tokSemicolon, text: ";", pos: i})
			i++
		case c == '=' || c == '<' || c == '>' || c == '!':
			op := string(c)
			if i+1 < len(s) && s[i+1] == '=' {
				op += "="
			}
			if op == "!" || (c == '<' && i+1 < len(s) && s[i+1] == '>') {
				return nil, store.Invalidf("Invalid comparator '%s' in filter string at position %d", s[i:min(i+2, len(s))], i)
			}
			toks = append(toks, token{kind: tokOp, text: op, pos: i})
			i += len(op)
		case isNumberStart(s, i, toks):
			j := i + 1
			for j < len(s) && (isDigit(s[j]) || s[j] == '.' || s[j] == 'e' || s[j] == 'E' ||
				((s[j] == '-' || s[j] == '+') && (s[j-1] == 'e' || s[j-1] == 'E'))) {
				j++
			}
			toks = append(toks, token{kind: tokNumber, text: s[i:j], pos: i})
			i = j
		case c == '`' || c == '"' || isIdentByte(c):
			start := i
			var parts []part
			for i < len(s) {
				switch {
				case s[i] == '`' || s[i] == '"':
					v, n, err := quoted(s, i, s[i])
					if err != nil {
						return nil, err
					}
					parts = append(parts, part{text: v, quoted: true})
					i = n
				case isIdentByte(s[i]):
					j := i
					for j < len(s) && isIdentByte(s[j]) {
						j++
					}
					parts = append(parts, part{text: s[i:j]})
					i = j
				default:
					goto done
				}
			}
		done:
			if len(parts) == 1 && parts[0].quoted && s[start] == '"' {
				toks = append(toks, token{kind: tokQuoted, text: parts[0].text, parts: parts, pos: start})
			} else {
				toks = append(toks, token{kind: tokIdent, text: s[start:i], parts: parts, pos: start})
			}
		default:
			return nil, store.Invalidf("Invalid character '%c' in filter string at position %d", rune(c), i)
		}
	}
	return append(toks, token{kind: tokEOF, pos: len(s)}), nil
}

// quoted reads a quoted segment starting at s[i] == q; a doubled quote
// stands for itself. It returns the value and the index after it.
func quoted(s string, i int, q byte) (string, int, error) {
	var b strings.Builder
	j := i + 1
	for j < len(s) {
		if s[j] == q {
			if j+1 < len(s) && s[j+1] == q {
				b.WriteByte(q)
				j += 2
				continue
			}
			return b.String(), j + 1, nil
		}
		b.WriteByte(s[j])
		j++
	}
	return "", 0, store.Invalidf("Invalid filter string: unterminated %c quote at position %d", q, i)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdentByte(c byte) bool {
	return c == '_' || c == '.' || isDigit(c) || c >= 0x80 || unicode.IsLetter(rune(c))
}

// isNumberStart: a digit, or a sign or dot followed by a digit, where a
// value may stand (after an operator).
func isNumberStart(s string, i int, toks []token) bool {
	c := s[i]
	if c == '-' || c == '+' || c == '.' {
		return i+1 < len(s) && (isDigit(s[i+1]) || s[i+1] == '.')
	}
	if !isDigit(c) {
		return false
	}
	// A digit right after an operator or '(' or ',' starts a number; a
	// digit elsewhere belongs to an identifier only if one is being read,
	// which the identifier loop handles, so here it is a number.
	return len(toks) == 0 || toks[len(toks)-1].kind != tokIdent
}
