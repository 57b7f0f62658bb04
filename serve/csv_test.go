package serve

import (
	"reflect"
	"strings"
	"testing"
)

// TestCSVColumnsTypedAsTheSignatureSays: a CSV body is read by
// internal/pandascsv (compared with pandas there), with the columns the
// signature types as string or binary read as text, as MLflow hands
// pandas.read_csv the signature's dtypes: "007" stays "007" there, and
// is 7 in a column the signature leaves to pandas. An error is MLflow's
// message around pandas'.
func TestCSVColumnsTypedAsTheSignatureSays(t *testing.T) {
	body := []byte("a,z,b\n1,007,x\nNA,010,y\n")
	sig, err := parseSignature(`[{"type": "double", "name": "a"}, {"type": "string", "name": "z"}, {"type": "binary", "name": "b"}]`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		sig  *signature
		want [][]any
	}{
		{sig, [][]any{{1.0, "007", "x"}, {nil, "010", "y"}}},
		{nil, [][]any{{1.0, 7.0, "x"}, {nil, 10.0, "y"}}},
	} {
		f, err := parseCSV(body, c.sig)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(f.Columns, []string{"a", "z", "b"}) || !reflect.DeepEqual(f.Rows, c.want) {
			t.Errorf("signature %v: %v %v, want %v", c.sig != nil, f.Columns, f.Rows, c.want)
		}
	}
	_, err = parseCSV([]byte("a\n1,2\n3,4,5\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "Failed to parse input as a Pandas DataFrame") || !strings.Contains(err.Error(), "Expected 2 fields in line 3, saw 3") {
		t.Errorf("err = %v", err)
	}
}
