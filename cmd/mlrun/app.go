package main

import (
	"fmt"
	"runtime/debug"

	"github.com/urfave/cli/v2"

	"github.com/mlrun/mlrun/server"
)

// newApp builds the command tree. Help is --help only, as in mlflow's
// CLI, so that -h is mlrun server's host, as in mlflow server.
func newApp() *cli.App {
	cli.HelpFlag = &cli.BoolFlag{Name: "help", Usage: "show help"}
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version"} // no -v: it is run's --version
	cli.VersionPrinter = func(c *cli.Context) { fmt.Fprintf(c.App.Writer, "mlrun, version %s\n", c.App.Version) }
	app := &cli.App{
		Name:    "mlrun",
		Usage:   "the MLflow platform in one Go binary",
		Version: version(),
		Commands: []*cli.Command{
			serverCommand(),
			experimentsCommand(),
			runsCommand(),
			logCommand(),
			artifactsCommand(),
			scorersCommand(),
			datasetsCommand(),
			tracesCommand(),
			runCommand(),
			tuneCommand(),
			modelsCommand(),
			dbCommand(),
			migrateFileStoreCommand(),
			gcCommand(),
			doctorCommand(),
			usersCommand(),
			permissionsCommand(),
			flavorServeCommand(),
		},
		HideHelpCommand:           true,
		Action:                    unknownCommand,
		DisableSliceFlagSeparator: true,                         // -P name=a,b keeps its comma
		ExitErrHandler:            func(*cli.Context, error) {}, // main prints errors
	}
	// Every command group answers an unknown subcommand as the app does.
	var groups func([]*cli.Command)
	groups = func(cmds []*cli.Command) {
		for _, c := range cmds {
			if len(c.Subcommands) > 0 {
				if c.Action == nil {
					c.Action = unknownSubcommand
				}
				groups(c.Subcommands)
			}
		}
	}
	groups(app.Commands)
	return app
}

// trackingFlag is --tracking-uri, shared by every tracking command.
var trackingFlag = &cli.StringFlag{
	Name:    "tracking-uri",
	Usage:   "tracking store: sqlite:///path.db or http(s)://host:port",
	EnvVars: []string{"MLFLOW_TRACKING_URI"},
}

var jsonFlag = &cli.BoolFlag{Name: "json", Usage: "print JSON instead of a table"}

// unknownCommand is the app's Action: a first word that is not a
// command is an error in one line, with the nearest name, exit 2.
func unknownCommand(c *cli.Context) error {
	if c.NArg() == 0 {
		return cli.ShowAppHelp(c)
	}
	var names []string
	for _, cmd := range c.App.Commands {
		names = append(names, cmd.Names()...)
	}
	msg := fmt.Sprintf("unknown command %q", c.Args().First())
	if near := nearest(c.Args().First(), names); near != "" {
		msg += fmt.Sprintf(", did you mean %q?", near)
	}
	return cli.Exit(msg+" (mlrun --help lists the commands)", 2)
}

// unknownSubcommand is the Action of a command group: a name that is not
// one of its subcommands is an error naming the nearest one (exit 2).
func unknownSubcommand(c *cli.Context) error {
	if c.NArg() == 0 {
		return cli.ShowSubcommandHelp(c)
	}
	var names []string
	for _, sub := range c.Command.Subcommands {
		names = append(names, sub.Names()...)
	}
	msg := fmt.Sprintf("unknown command %q for mlrun %s", c.Args().First(), c.Command.Name)
	if near := nearest(c.Args().First(), names); near != "" {
		msg += fmt.Sprintf(", did you mean %q?", near)
	}
	return cli.Exit(msg, 2)
}

// nearest is the name closest to s by edit distance, if close enough.
func nearest(s string, names []string) string {
	limit := max(1, len(s)/3) // a typo, not another word
	best, bestD := "", limit+1
	for _, n := range names {
		if d := editDistance(s, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// version is the module version of this build (or "devel") with its
// commit when known, and the MLflow version the server speaks as.
func version() string {
	v, rev := "devel", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = " " + s.Value[:12]
			}
		}
	}
	return v + rev + " (speaks MLflow " + server.Version + ")"
}
