package search_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/mlrun/mlrun/store"
	"github.com/mlrun/mlrun/store/search"
)

func TestParseRunsFilter(t *testing.T) {
	cases := []struct {
		name   string
		filter string
		want   []search.Clause
	}{
		{"empty", "  ", nil},
		{"metric", "metrics.rmse < 1", []search.Clause{{Entity: search.Metric, Key: "rmse", Op: "<", Num: 1, Numeric: true}}},
		{"negative exponent", "metric.loss >= -1.5e-3", []search.Clause{{Entity: search.Metric, Key: "loss", Op: ">=", Num: -1.5e-3, Numeric: true}}},
		{"dotted key", "tags.mlflow.source.git.commit = 'abc'", []search.Clause{{Entity: search.Tag, Key: "mlflow.source.git.commit", Op: "=", Str: "abc"}}},
		{"backticks", "metrics.`val loss` != 2", []search.Clause{{Entity: search.Metric, Key: "val loss", Op: "!=", Num: 2, Numeric: true}}},
		{"double-quoted key", `params."learning rate" LIKE '0.0%'`, []search.Clause{{Entity: search.Param, Key: "learning rate", Op: "LIKE", Str: "0.0%"}}},
		{"double-quoted value", `params.a = "x y"`, []search.Clause{{Entity: search.Param, Key: "a", Op: "=", Str: "x y"}}},
		{"doubled quote", `tags.t = 'it''s'`, []search.Clause{{Entity: search.Tag, Key: "t", Op: "=", Str: "it's"}}},
		{"ilike lowercase keyword", "run_name ilike '%base%'", []search.Clause{{Entity: search.Attribute, Key: "run_name", Op: "ILIKE", Str: "%base%"}}},
		{"attribute alias", "`Run name` = 'x'", []search.Clause{{Entity: search.Attribute, Key: "run_name", Op: "=", Str: "x"}}},
		{"created alias", "attributes.created > 5", []search.Clause{{Entity: search.Attribute, Key: "start_time", Op: ">", Num: 5, Numeric: true}}},
		{"in drops uppercase ids", "run_id IN ('abc', 'DEF')", []search.Clause{{Entity: search.Attribute, Key: "run_id", Op: "IN", List: []string{"abc"}}}},
		{"not in", "attr.run_id not in ('a')", []search.Clause{{Entity: search.Attribute, Key: "run_id", Op: "NOT IN", List: []string{"a"}}}},
		{"dataset", "datasets.context IN ('training', 'eval')", []search.Clause{{Entity: search.Dataset, Key: "context", Op: "IN", List: []string{"training", "eval"}}}},
		{"and chain", "params.a = '1' AND metrics.m > 0 and tags.t = 'x'", []search.Clause{
			{Entity: search.Param, Key: "a", Op: "=", Str: "1"},
			{Entity: search.Metric, Key: "m", Op: ">", Num: 0, Numeric: true},
			{Entity: search.Tag, Key: "t", Op: "=", Str: "x"},
		}},
		{"no spaces", "metrics.m>=0.5", []search.Clause{{Entity: search.Metric, Key: "m", Op: ">=", Num: 0.5, Numeric: true}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := search.Runs.Parse(tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, f := range []string{
		"metrics.rmse < 'x'", "params.a = 1", "foo.a = 'x'", "bogus = 'x'", "a = 'x' OR b = 'y'",
		"(params.a = 'x')", "params.a", "params.a =", "params.a = 'x' AND", "params.a = 'x';",
		"metrics.m <> 1", "params.a > 'x'", "run_id IN ()", "run_id IN ('a'", "params.a IN ('x')",
		"params.a = 'unterminated", "metrics.m LIKE 1", "NOT params.a = 'x'", "datasets.bogus = 'x'",
		"params. = 'x'", "params.a == 'x'", "! = 'x'",
	} {
		if _, err := search.Runs.Parse(f); !errors.Is(err, store.ErrInvalidArgument) {
			t.Errorf("%q: got %v, want an invalid-argument error", f, err)
		}
	}
}

func TestParseOrderBy(t *testing.T) {
	got, err := search.Runs.ParseOrderBy([]string{"metrics.`val loss` DESC", "params.alpha", "created asc", "tags.team ASC"})
	if err != nil {
		t.Fatal(err)
	}
	want := []search.OrderField{
		{Entity: search.Metric, Key: "val loss", Desc: true},
		{Entity: search.Param, Key: "alpha"},
		{Entity: search.Attribute, Key: "start_time"},
		{Entity: search.Tag, Key: "team"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
	for _, bad := range [][]string{{"start_time", "created DESC"}, {"metrics.m UP"}, {"datasets.name"}, {""}, {"name"}} {
		if _, err := search.Runs.ParseOrderBy(bad); !errors.Is(err, store.ErrInvalidArgument) {
			t.Errorf("%q: got %v", bad, err)
		}
	}
	if _, err := search.Experiments.ParseOrderBy([]string{"experiment_id DESC", "name"}); err != nil {
		t.Fatal(err)
	}
}

func TestTokens(t *testing.T) {
	tok := search.EncodeToken(search.Token{Offset: 100})
	if tok != "eyJvZmZzZXQiOjEwMH0=" {
		t.Fatalf("offset token %s", tok)
	}
	got, err := search.DecodeToken("eyJvZmZzZXQiOiAxMDB9") // MLflow's own {"offset": 100}
	if err != nil || got.Offset != 100 {
		t.Fatalf("MLflow token: %+v %v", got, err)
	}
	for _, bad := range []string{"!!", "bm90IGpzb24=", "eyJvZmZzZXQiOiAtMX0="} {
		if _, err := search.DecodeToken(bad); !errors.Is(err, store.ErrInvalidArgument) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// FuzzParse: no input panics, and every accepted filter yields clauses
// whose operator suits their entity.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"metrics.rmse < 1 and params.model = 'lr'",
		"tags.`mlflow.parentRunId` = 'x' AND attributes.status = 'FINISHED'",
		"attributes.run_id IN ('a', 'b')",
		`params."learning rate" LIKE '0.0%'`,
		"run_name ILIKE '%base%' and start_time > 1711000000000",
		"datasets.name = 'iris' AND datasets.context = 'training'",
		"metrics.m >= -1.5e-3",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, g := range []*search.Grammar{search.Runs, search.Experiments} {
			cs, err := g.Parse(s)
			if err != nil {
				if !errors.Is(err, store.ErrInvalidArgument) {
					t.Fatalf("%q: error of the wrong kind: %v", s, err)
				}
				continue
			}
			for _, c := range cs {
				if c.Numeric && (c.Op == "LIKE" || c.Op == "ILIKE" || c.Op == "IN" || c.Op == "NOT IN") {
					t.Fatalf("%q: numeric clause with %s", s, c.Op)
				}
				if c.Key == "" {
					t.Fatalf("%q: empty key", s)
				}
			}
		}
	})
}
