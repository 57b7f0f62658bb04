// Package pandascsv reads CSV text as pandas.read_csv reads it with its
// defaults, which is how MLflow reads a CSV body sent to a model (and
// how a DataFrame read from a CSV file looks): columns named as pandas
// names them, pandas' NA tokens missing, and each column numbers,
// booleans or text as pandas decides for the whole column.
package pandascsv

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Kind is what pandas makes of a column.
type Kind int

// The kinds of columns.
const (
	Float Kind = iota // numbers, not all integers (or no values at all): float64
	Int               // integers that fit an int64: int64
	Bool              // True and False only: bool
	Text              // anything else, or a column read as text: its cells' text
)

// Column is one column: its name, its kind, and a cell per row: nil for
// a missing value, else a value of the kind's Go type.
type Column struct {
	Name  string
	Kind  Kind
	Cells []any
}

// Read reads body: a header line, then rows. textColumn (nil: none)
// says which columns pandas is told to read as text (dtype object): they
// keep every cell's text, NA tokens still missing. A first row with one
// field more than the header makes the first field of every row the
// index, which is dropped, as pandas does. Read returns the columns and
// the number of rows; its errors are pandas' messages.
func Read(body []byte, textColumn func(j int, name string) bool) ([]Column, int, error) {
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err == io.EOF {
		return nil, 0, errors.New("No columns to parse from file")
	}
	if err != nil {
		return nil, 0, err
	}
	header = pandasHeader(header)
	var text [][]string
	index := false
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, err
		}
		if len(text) == 0 && len(rec) == len(header)+1 {
			index = true
		}
		want := len(header)
		if index {
			want++
		}
		if len(rec) > want {
			line, _ := r.FieldPos(0)
			return nil, 0, fmt.Errorf("Error tokenizing data. C error: Expected %d fields in line %d, saw %d\n", want, line, len(rec))
		}
		if index {
			rec = rec[1:]
		}
		text = append(text, rec)
	}
	cols := make([]Column, len(header))
	for j, name := range header {
		kind := column(text, j)
		if textColumn != nil && textColumn(j, name) {
			kind = Text
		}
		c := Column{Name: name, Kind: kind, Cells: make([]any, len(text))}
		for r, rec := range text {
			if j >= len(rec) || na[rec[j]] {
				continue // nil: missing
			}
			switch kind {
			case Int:
				c.Cells[r], _ = strconv.ParseInt(strings.Trim(rec[j], " \t"), 10, 64)
			case Float:
				c.Cells[r], _ = number(rec[j])
			case Bool:
				c.Cells[r] = bools[rec[j]]
			default:
				c.Cells[r] = rec[j]
			}
		}
		cols[j] = c
	}
	return cols, len(text), nil
}

// column is what pandas.read_csv makes of column j, by the cells that
// are not NA: Int when each is an integer that fits an int64, Float when
// each is a number (or there are none), Bool when each is True or False,
// else Text. (An integer outside int64's range is text here; pandas
// reads a column of them as uint64 or text depending on its neighbours.)
func column(text [][]string, j int) Kind {
	kind, seen := Float, false
	for _, rec := range text {
		if j >= len(rec) || na[rec[j]] {
			continue
		}
		cell := Text
		if _, ok := number(rec[j]); ok {
			cell = Float
			if t := strings.Trim(rec[j], " \t"); strings.Trim(strings.TrimLeft(t, "+-"), "0123456789") == "" {
				if _, err := strconv.ParseInt(t, 10, 64); err == nil {
					cell = Int
				} else {
					cell = Text
				}
			}
		} else if _, ok := bools[rec[j]]; ok {
			cell = Bool
		}
		switch {
		case !seen || kind == cell:
			kind, seen = cell, true
		case kind == Int && cell == Float || kind == Float && cell == Int:
			kind = Float
		default:
			return Text
		}
	}
	return kind
}

// pandasHeader names columns as pandas.read_csv does: an empty name at
// position i is "Unnamed: i"; a name seen before gets ".1", ".2", … (a
// number another column's name already has is passed over).
func pandasHeader(names []string) []string {
	out := make([]string, len(names))
	taken := map[string]bool{}
	for i, n := range names {
		if n == "" {
			n = fmt.Sprintf("Unnamed: %d", i)
		}
		out[i] = n
		taken[n] = true
	}
	counts := map[string]int{}
	for i, col := range out {
		old := col
		cur := counts[col]
		for cur > 0 {
			counts[old] = cur + 1
			col = fmt.Sprintf("%s.%d", old, cur)
			if taken[col] {
				cur++
			} else {
				cur = counts[col]
			}
		}
		out[i] = col
		counts[col] = cur + 1
	}
	return out
}

// na are the cells pandas.read_csv reads as missing by default
// (pandas 2's list: "None" is new in 2.0).
var na = map[string]bool{
	"": true, "#N/A": true, "#N/A N/A": true, "#NA": true, "-1.#IND": true, "-1.#QNAN": true, "-NaN": true, "-nan": true,
	"1.#IND": true, "1.#QNAN": true, "<NA>": true, "N/A": true, "NA": true, "NULL": true, "NaN": true, "None": true,
	"n/a": true, "nan": true, "null": true,
}

// bools are pandas.read_csv's default true and false values.
var bools = map[string]bool{"True": true, "TRUE": true, "true": true, "False": false, "FALSE": false, "false": false}

// number reads a cell as pandas' C parser reads a number: decimal
// digits with an optional sign, fraction and exponent, or inf/infinity
// in any case, with spaces and tabs around; not hex, not "1_000", and
// not a finite number too large for a float64.
func number(s string) (float64, bool) {
	t := strings.Trim(s, " \t")
	body := strings.TrimLeft(t, "+-")
	if len(t)-len(body) > 1 || body == "" {
		return 0, false
	}
	if l := strings.ToLower(body); l == "inf" || l == "infinity" {
		if t[0] == '-' {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	digits, dot, exp := 0, false, false
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot && !exp:
			dot = true
		case (c == 'e' || c == 'E') && digits > 0 && !exp:
			exp = true
			if i+1 < len(body) && (body[i+1] == '+' || body[i+1] == '-') {
				i++
			}
			if i+1 >= len(body) {
				return 0, false
			}
			digits = 0
		default:
			return 0, false
		}
	}
	if digits == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}
