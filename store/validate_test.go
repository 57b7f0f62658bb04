package store

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// TestKeyAndRunIDRules: the hand-written checks accept exactly what
// MLflow's regular expressions accept.
func TestKeyAndRunIDRules(t *testing.T) {
	keyRE := regexp.MustCompile(`^[/\p{L}\p{N}_.\- :]*$`)
	runIDRE := regexp.MustCompile(`^[a-zA-Z0-9][\p{L}\p{N}_\-]{0,255}$`)
	inputs := []string{"", "a", "acc", "a b:c/d.e-f_g", "日本語", "٣", "Ⅻ", "a\tb", "a\nb", "x=1", "a\xffb", "\xff",
		"ä", "_a", "-a", "0", "abc$", "a'b", strings.Repeat("a", 256), strings.Repeat("a", 257), "a" + strings.Repeat("é", 255), "a" + strings.Repeat("é", 256)}
	for _, s := range inputs {
		if got, want := keyChars(s, "/_.- :"), keyRE.MatchString(s); got != want {
			t.Errorf("key %q: %v, MLflow's rule says %v", s, got, want)
		}
		if got, want := runIDOK(s), runIDRE.MatchString(s); got != want {
			t.Errorf("run id %q: %v, MLflow's rule says %v", s, got, want)
		}
	}
	if err := ValidateKey("metric", "a$b"); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("ValidateKey(a$b) = %v, want ErrInvalidArgument", err)
	}
	if err := ValidateRunID("../etc"); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("ValidateRunID(../etc) = %v, want ErrInvalidArgument", err)
	}
}

// TestPyRepr: strings quoted as Python's repr quotes them.
func TestPyRepr(t *testing.T) {
	for in, want := range map[string]string{
		"model":      `'model'`,
		"a/b":        `'a/b'`,
		"it's":       `"it's"`,
		`say "it's"`: `'say "it\'s"'`,
		"a\\b\n":     `'a\\b\n'`,
		"\x01":       `'\x01'`,
		"é":          `'é'`,
	} {
		if got := PyRepr(in); got != want {
			t.Errorf("PyRepr(%q) = %s, want %s", in, got, want)
		}
	}
}
