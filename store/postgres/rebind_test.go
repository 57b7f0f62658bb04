package postgres

import "testing"

func TestRebind(t *testing.T) {
	for in, want := range map[string]string{
		`SELECT 1`:                            `SELECT 1`,
		`a = ? AND b IN (?, ?)`:               `a = $1 AND b IN ($2, $3)`,
		`x = '?' AND y = ?`:                   `x = '?' AND y = $1`,
		`"we?ird" = ? -- a ? comment` + "\n?": `"we?ird" = $1 -- a ? comment` + "\n$2",
		`s = 'it''s ?' OR t = ?`:              `s = 'it''s ?' OR t = $1`,
	} {
		if got := rebind(in); got != want {
			t.Errorf("rebind(%q) = %q, want %q", in, got, want)
		}
	}
}
