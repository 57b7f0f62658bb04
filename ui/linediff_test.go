package ui

import (
	"strings"
	"testing"
)

func TestLineDiff(t *testing.T) {
	render := func(d []diffLine) string {
		var b strings.Builder
		for _, l := range d {
			b.WriteString(l.Op + l.Text + "\n")
		}
		return b.String()
	}
	for _, tc := range []struct{ old, new, want string }{
		{"a\nb\nc", "a\nb\nc", " a\n b\n c\n"},
		{"a\nb\nc", "a\nB\nc", " a\n-b\n+B\n c\n"},
		{"Answer {{q}}", "Answer {{q}}\nBe brief.", " Answer {{q}}\n+Be brief.\n"},
		{"Answer {{q}}\n", "Answer {{q}}\nBe brief.\n", " Answer {{q}}\n+Be brief.\n"},
		{"x\ny", "", "-x\n-y\n"},
	} {
		if got := render(lineDiff(tc.old, tc.new)); got != tc.want {
			t.Errorf("lineDiff(%q, %q) =\n%s want\n%s", tc.old, tc.new, got, tc.want)
		}
	}
}
