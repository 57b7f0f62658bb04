package ui

import (
	"strings"
	"time"

	"github.com/go-git/go-git/v5/utils/diff"
	"github.com/sergi/go-diff/diffmatchpatch"
)

// diffLine is one line of a line diff: Op is ' ' (in both), '-' (only in
// the old text) or '+' (only in the new).
type diffLine struct {
	Op   string
	Text string
}

// lineDiff compares two texts line by line (go-git's Myers diff, given
// at most 200 ms: past it the rest is one deletion and one insertion).
func lineDiff(old, new string) []diffLine {
	// Every line ends in a newline, the last one too, so that a line
	// added after it does not also change it.
	terminate := func(s string) string {
		if s != "" && !strings.HasSuffix(s, "\n") {
			return s + "\n"
		}
		return s
	}
	var out []diffLine
	for _, d := range diff.DoWithTimeout(terminate(old), terminate(new), 200*time.Millisecond) {
		op := " "
		switch d.Type {
		case diffmatchpatch.DiffDelete:
			op = "-"
		case diffmatchpatch.DiffInsert:
			op = "+"
		}
		for _, l := range strings.SplitAfter(d.Text, "\n") {
			if l != "" {
				out = append(out, diffLine{op, strings.TrimSuffix(l, "\n")})
			}
		}
	}
	return out
}
