package sklearn

import (
	"strconv"
	"strings"
)

// frame is what an estimator is given: a DataFrame (names set) or an
// array (names nil), column by column; a column is numbers (a float
// column of pandas) or Python values (an object column: float64,
// string, bool or nil).
type frame struct {
	names []string
	rows  int
	cols  []column
	// vector says the input has one dimension (its one column the
	// values): an `inputs` list, or (series) a DataFrame's column that a
	// ColumnTransformer selects by a scalar.
	vector, series bool
	// sp, when set, holds the frame instead of cols: a text vectorizer's
	// sparse matrix (see dense).
	sp *sparse
}

// sparse is a sparse matrix of rows, each its columns in increasing
// order and their values (none zero).
type sparse struct {
	width int
	idx   [][]int
	val   [][]float64
}

// dense gives a sparse frame its columns, for a stage that takes dense
// numbers.
func (f *frame) dense() *frame {
	if f.sp == nil {
		return f
	}
	m := &matrix{rows: f.rows, cols: f.sp.width, v: make([]float64, f.rows*f.sp.width)}
	for r := range f.rows {
		row := m.row(r)
		for k, j := range f.sp.idx[r] {
			row[j] = f.sp.val[r][k]
		}
	}
	return frameOf(m)
}

type column struct {
	num []float64 // numbers, NaN missing
	obj []any     // or Python values
}

// value is cell r of c as a Python value.
func (c column) value(r int) any {
	if c.obj != nil {
		return c.obj[r]
	}
	return c.num[r]
}

// newFrame makes the frame of rows (each cell a float64, string, bool
// or nil) as pandas types the columns.
func newFrame(names []string, width int, rows [][]any) *frame {
	f := &frame{names: names, rows: len(rows), cols: make([]column, width)}
	for j := range f.cols {
		// pandas' dtype of the column: numbers (float64, None as NaN) or
		// booleans alone, else objects (text, only None, booleans among
		// numbers or None).
		var hasNum, hasBool, hasNone, text bool
		for _, r := range rows {
			var v any
			if j < len(r) {
				v = r[j]
			}
			switch v.(type) {
			case float64:
				hasNum = true
			case bool:
				hasBool = true
			case nil:
				hasNone = true
			default:
				text = true
			}
		}
		text = text || hasBool && (hasNum || hasNone) || hasNone && !hasNum && !hasBool
		if text {
			obj := make([]any, len(rows))
			for i, r := range rows {
				if j < len(r) {
					obj[i] = r[j]
				}
			}
			f.cols[j].obj = obj
			continue
		}
		num := make([]float64, len(rows))
		for i, r := range rows {
			num[i] = nan
			if j < len(r) {
				if v, ok := pyNumber(r[j]); ok {
					num[i] = v
				}
			}
		}
		f.cols[j].num = num
	}
	return f
}

// numbers is the frame as a float64 matrix, as numpy casts an object
// array to float64: None is NaN, text is read as Python's float() reads
// it, or refused with its message.
func (f *frame) numbers() (*matrix, error) {
	f = f.dense()
	m := &matrix{rows: f.rows, cols: len(f.cols), v: make([]float64, f.rows*len(f.cols))}
	for j, c := range f.cols {
		for r := 0; r < f.rows; r++ {
			v := nan
			if c.num != nil {
				v = c.num[r]
			} else if x := c.obj[r]; x != nil {
				n, ok := pyNumber(x)
				if s, isText := x.(string); isText {
					var err error
					if n, err = pyFloat(s); err != nil {
						return nil, err
					}
				} else if !ok {
					return nil, inputErr("could not convert %s to float", describe(x))
				}
				v = n
			}
			m.v[r*m.cols+j] = v
		}
	}
	return m, nil
}

// frameOf is the array of a matrix.
func frameOf(m *matrix) *frame {
	if m.sp != nil {
		return &frame{rows: m.rows, sp: m.sp}
	}
	f := &frame{rows: m.rows, cols: make([]column, m.cols)}
	for j := range f.cols {
		num := make([]float64, m.rows)
		for r := range num {
			num[r] = m.v[r*m.cols+j]
		}
		f.cols[j].num = num
	}
	return f
}

// pyFloat reads text as Python's float(): spaces around, an optional
// sign, decimal digits with single underscores between them, "inf",
// "infinity" and "nan" in any case; hexadecimal is not a float there.
func pyFloat(s string) (float64, error) {
	t := strings.TrimSpace(s)
	u := strings.TrimLeft(t, "+-")
	bad := len(u) > 1 && u[0] == '0' && (u[1] == 'x' || u[1] == 'X') || strings.Contains(t, "__") ||
		strings.HasPrefix(u, "_") || strings.HasSuffix(u, "_")
	for i := 1; !bad && i+1 < len(t); i++ {
		if t[i] == '_' && !(isDigit(t[i-1]) && isDigit(t[i+1])) {
			bad = true
		}
	}
	if !bad {
		v, err := strconv.ParseFloat(strings.ReplaceAll(t, "_", ""), 64)
		if err == nil || strings.Contains(err.Error(), "out of range") {
			return v, nil
		}
	}
	return 0, inputErr("could not convert string to float: '%s'", s)
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }
