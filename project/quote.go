package project

import "strings"

// Quote quotes s for a POSIX shell as Python's shlex.quote does: ” for
// the empty string, s itself when it holds only [A-Za-z0-9_@%+=:,./-],
// otherwise s in single quotes with each ' written as '"'"'.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_@%+=:,./-", c)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}
