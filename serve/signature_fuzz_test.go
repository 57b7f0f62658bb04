package serve

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzSignature gives a real XGBoost booster (reg.json, five features)
// arbitrary MLmodel input signatures and scoring bodies: a signature
// that does not parse is Load's error; one that does enforces itself on
// any body with a 200 or a 4xx, never a panic or a 500.
func FuzzSignature(f *testing.F) {
	dir := f.TempDir()
	b, err := os.ReadFile("../plugins/builtin/testdata/xgboost/reg.json")
	if err != nil {
		f.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "reg.json"), b, 0o644)
	os.WriteFile(filepath.Join(dir, "MLmodel"), []byte("flavors:\n  xgboost:\n    data: reg.json\n    model_format: json\n"), 0o644)
	base, err := Load(dir, LoadOptions{})
	if err != nil {
		f.Fatal(err)
	}
	named := `[{"type": "double", "name": "a", "required": true}, {"type": "long", "name": "b"}, {"type": "string", "name": "c", "required": false}, {"type": "boolean", "name": "d"}, {"type": "float", "name": "e"}]`
	for _, seed := range [][2]string{
		{named, `{"dataframe_records": [{"a": 1, "b": 2, "c": "x", "d": true, "e": 5}]}`},
		{named, `{"inputs": {"a": [1.5], "b": [2], "c": [null], "d": [false], "e": ["5"]}}`},
		{`[{"type": "double"}, {"type": "double"}]`, `{"instances": [[1, 2, 3, 4, 5]]}`},
		{`[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 5]}}]`, `{"inputs": [[1, 2, 3, 4, 5]]}`},
		{`[{"type": "tensor", "tensor-spec": {"dtype": "int32", "shape": [-1]}}]`, "a\n1\n"},
		{`[{"type": "datetime", "name": "a"}, {"type": "binary", "name": "b"}, {"type": "array", "items": {"type": "long"}, "name": "c"}]`, `{"dataframe_split": {"columns": ["a", "b", "c"], "data": [["2024-01-01", "eA==", [1]]]}}`},
	} {
		f.Add(seed[0], []byte(seed[1]))
	}
	f.Fuzz(func(t *testing.T, sig string, body []byte) {
		s, err := parseSignature(sig)
		if err != nil {
			return
		}
		m := *base
		m.signature = s
		req := httptest.NewRequest("POST", "/invocations", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		if len(body) > 0 && body[0] != '{' {
			req.Header.Set("Content-Type", "text/csv")
		}
		rec := httptest.NewRecorder()
		NewHandler(&m, Options{MaxBody: 1 << 16}).ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && (rec.Code < 400 || rec.Code >= 500) {
			t.Fatalf("signature %s, body %q: %d %.300s", sig, body, rec.Code, rec.Body.Bytes())
		}
	})
}
