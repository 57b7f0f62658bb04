package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// permute moves a leaf command's flags before its positional arguments,
// so `mlrun run examples/wine -P alpha=0.5` parses as MLflow users write
// it (urfave/cli stops reading flags at the first positional argument).
// A repeatable flag given by an alias is renamed to its long name, so
// that `-P a=1 --param-list b=2` collects both, as MLflow's click does
// (urfave/cli refuses two forms of one flag), and click's --no-FLAG of a
// boolean flag is --FLAG=false. Everything after "--" is left alone.
func permute(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	cmds := app.Commands
	i := 1
	var leaf *cli.Command
	for i < len(args) {
		var next *cli.Command
		for _, c := range cmds {
			if c.HasName(args[i]) {
				next = c
			}
		}
		if next == nil {
			break
		}
		leaf, cmds = next, next.Subcommands
		i++
		if len(cmds) == 0 {
			break
		}
	}
	if leaf == nil || len(leaf.Subcommands) > 0 {
		return args
	}
	isBool := map[string]bool{"help": true}
	long := map[string]string{} // a repeatable flag's alias → its name
	known := map[string]bool{}
	for _, f := range leaf.Flags {
		for _, n := range f.Names() {
			known[n] = true
		}
		switch f.(type) {
		case *cli.BoolFlag:
			for _, n := range f.Names() {
				isBool[n] = true
			}
		case *cli.StringSliceFlag, *cli.IntSliceFlag, *cli.Int64SliceFlag, *cli.Float64SliceFlag, *cli.UintSliceFlag, *cli.Uint64SliceFlag:
			for _, n := range f.Names()[1:] {
				long[n] = f.Names()[0]
			}
		}
	}
	var flags, pos []string
	rest := args[i:]
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		switch {
		case a == "--":
			pos = append(pos, rest[j+1:]...)
			j = len(rest)
		case strings.HasPrefix(a, "-") && len(a) > 1 && !isNumber(a):
			name := strings.TrimLeft(a, "-")
			n, v, hasValue := strings.Cut(name, "=")
			if l, ok := long[n]; ok {
				a = "--" + l
				if hasValue {
					a += "=" + v
				}
			}
			if off := strings.TrimPrefix(n, "no-"); off != n && !hasValue && !known[n] && isBool[off] {
				a, name = "--"+off+"=false", off+"=false" // click's --no-FLAG
			}
			flags = append(flags, a)
			if !strings.Contains(name, "=") && !isBool[name] && j+1 < len(rest) {
				flags = append(flags, rest[j+1])
				j++
			}
		default:
			pos = append(pos, a)
		}
	}
	out := append(append([]string{}, args[:i]...), flags...)
	if len(pos) > 0 {
		out = append(append(out, "--"), pos...)
	}
	return out
}

// isNumber: "-1.5" is a value (a negative metric), not a flag.
func isNumber(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" || (s[0] < '0' || s[0] > '9') && s[0] != '.' {
		return false // "-e" is a flag; "-0.5" and "-.5" are numbers
	}
	for _, c := range s {
		if (c < '0' || c > '9') && c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-' {
			return false
		}
	}
	return true
}
