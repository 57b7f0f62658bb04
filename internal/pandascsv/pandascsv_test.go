package pandascsv_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/internal/pandascsv"
	"github.com/mlrun/mlrun/internal/pylines"
)

// pandasCSV answers each line (a JSON string: a CSV text, and the
// columns read with dtype object, as MLflow's parse_csv_input reads a
// string column of the signature) with what pandas.read_csv makes of it:
// each cell tagged ["n", repr] (a number), ["b", bool], ["s", text] or
// ["na"], or {"error": …}. Columns are "a", "b", "c".
const pandasCSV = `
import io, json, math, sys
import pandas as pd
for line in sys.stdin:
    text, textcols = json.loads(line)
    try:
        df = pd.read_csv(io.StringIO(text), dtype={c: object for c in (textcols or [])} or None)
    except Exception as e:
        print(json.dumps({"error": str(e)}), flush=True)
        continue
    def cell(v):
        if isinstance(v, bool) or type(v).__name__ == "bool_":
            return ["b", bool(v)]
        if isinstance(v, str):
            return ["s", v]
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return ["na"]
        return ["n", repr(float(v))]
    rows = [[cell(v) for v in r] for r in df.itertuples(index=False)]
    print(json.dumps({"columns": list(df.columns), "rows": rows}), flush=True)
`

// csvTokens are cells whose reading differs between parsers: NA tokens,
// numbers with signs, spaces, exponents, inf, what only looks numeric
// (hex, underscores, leading zeros kept as text in a text column), and
// pandas' true/false values.
var csvTokens = []string{
	"1", " 1", "1 ", "+1", "-0", "1.5", ".5", "5.", "1e3", "1E-2", "1e", "1e+", "inf", "-inf", "Inf", "INF",
	"Infinity", "-Infinity", "infinity", "+inf", "nan", "NaN", "-nan", "-NaN", "nAn", "NA", "N/A", "n/a",
	"NULL", "null", "<NA>", "#N/A", "#NA", "#N/A N/A", "-1.#IND", "1.#QNAN", "", "True", "true", "TRUE",
	"False", "false", "yes", "0x10", "0x1p4", "1_000", "1,5", "007", "abc", "  ", "1.0e+400", "-1e-400",
	"9007199254740993", ".", "+-1", "1..2", "\t2\t", "é",
}

// tagged is Read's columns in pandasCSV's tagging, row by row.
func tagged(cols []pandascsv.Column, n int) string {
	names := []string{}
	rows := make([][][]any, n)
	for _, c := range cols {
		names = append(names, c.Name)
		for r, v := range c.Cells {
			switch v := v.(type) {
			case nil:
				rows[r] = append(rows[r], []any{"na"})
			case int64:
				rows[r] = append(rows[r], []any{"n", pyRepr(float64(v))})
			case float64:
				rows[r] = append(rows[r], []any{"n", pyRepr(v)})
			case bool:
				rows[r] = append(rows[r], []any{"b", v})
			case string:
				rows[r] = append(rows[r], []any{"s", v})
			default:
				rows[r] = append(rows[r], []any{fmt.Sprintf("%T", v)})
			}
		}
	}
	for r := range rows {
		if rows[r] == nil {
			rows[r] = [][]any{}
		}
	}
	b, _ := json.Marshal(map[string]any{"columns": names, "rows": rows})
	return string(b)
}

// pyRepr is Python's repr of a float as pandasCSV writes it.
func pyRepr(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	b, _ := json.Marshal(f)
	s := string(b)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// csvOf writes rows of cells under the header a,b,c (as many as the
// widest row), every cell quoted.
func csvOf(rows [][]string) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	width := 1
	for _, r := range rows {
		width = max(width, len(r))
	}
	w.Write([]string{"a", "b", "c"}[:width])
	for _, r := range rows {
		w.Write(r)
	}
	w.Flush()
	return strings.ReplaceAll(b.String(), "\n", "\n")
}

func compareWithPandas(t *testing.T, py *pylines.Proc, text string, textCols []string) {
	t.Helper()
	q, _ := json.Marshal([]any{text, textCols})
	want := py.Ask(t, string(q))
	cols, n, err := pandascsv.Read([]byte(text), func(_ int, name string) bool {
		for _, c := range textCols {
			if c == name {
				return true
			}
		}
		return false
	})
	if strings.HasPrefix(want, `{"error"`) {
		var pe struct{ Error string }
		json.Unmarshal([]byte(want), &pe)
		if err == nil || err.Error() != pe.Error {
			t.Errorf("%q: %v; pandas: %s", text, err, want)
		}
		return
	}
	if err != nil {
		t.Errorf("%q: %v; pandas: %s", text, err, want)
		return
	}
	var w, g any
	json.Unmarshal([]byte(want), &w)
	json.Unmarshal([]byte(tagged(cols, n)), &g)
	if !reflect.DeepEqual(w, g) {
		t.Errorf("%q (text columns %v):\n mlrun  %s\n pandas %s", text, textCols, tagged(cols, n), want)
	}
}

// TestReadsAsPandas: a CSV text is read as MLflow's scoring server
// reads it with pandas.read_csv (Debian's pandas): each token alone in a
// column, beside a number, beside text and beside a boolean; then 2,000
// random frames of them, some columns read as text (dtype object).
// pandas 1.5 (Debian 12) does not read "None" as missing; pandas 2, which
// MLflow 3 installs, does, as mlrun does: "None" is left out here.
func TestReadsAsPandas(t *testing.T) {
	py := pylines.StartWith(t, pylines.Debian(t, "apt-get install python3-pandas", "pandas"), pandasCSV, "apt-get install python3-pandas", "pandas")
	for _, tok := range csvTokens {
		for _, other := range []string{"", "2", "x", "True"} {
			compareWithPandas(t, py, csvOf([][]string{{tok}, {other}}), nil)
			compareWithPandas(t, py, csvOf([][]string{{tok}, {other}}), []string{"a"})
		}
	}
	// Headers and field counts: empty and repeated names, an index column
	// pandas takes from a longer first row, short rows, long ones.
	for _, text := range []string{"a\n1,2\n", "a,b\n1,2,3\n4,5\n", "a\n1,2\n3,4,5\n", "a,b\n1,2,3\n4,5,6,7\n",
		",a\n0,1\n", "a,a,b\n1,2,3\n", "a,,\n1,2,3\n", "a.1,a,a\n1,2,3\n", "a,a,a.1,a\n1,2,3,4\n", "a,b\n1,2\n3,4,5\n",
		"a\n\n1\n", "a,b\n,\n", " a ,b\n1,2\n", "a,b\n1\n", ",,\n1,2\n", "a\n", "",
		// Integers past int64's range are text (pandas: object), alone or with a float.
		"a\n99999999999999999999\n", "a\n99999999999999999999\n1.5\n", "a\n-9223372036854775809\n"} {
		compareWithPandas(t, py, text, nil)
	}
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 2000; i++ {
		width, height := 1+r.IntN(3), 1+r.IntN(4)
		rows := make([][]string, height)
		for j := range rows {
			rows[j] = make([]string, width)
			for k := range rows[j] {
				rows[j][k] = csvTokens[r.IntN(len(csvTokens))]
			}
		}
		var textCols []string
		if r.IntN(3) == 0 {
			textCols = []string{"a", "b", "c"}[:1+r.IntN(width)]
		}
		compareWithPandas(t, py, csvOf(rows), textCols)
	}
}
