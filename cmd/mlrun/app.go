package main

import (
	"github.com/urfave/cli/v2"
)

// newApp builds the command tree.
func newApp() *cli.App {
	return &cli.App{
		Name:  "mlrun",
		Usage: "the MLflow platform in one Go binary",
		Commands: []*cli.Command{
			serverCommand(),
			experimentsCommand(),
			runsCommand(),
			logCommand(),
			runCommand(),
			modelsCommand(),
			dbCommand(),
			gcCommand(),
			usersCommand(),
			permissionsCommand(),
			flavorServeCommand(),
		},
		HideHelpCommand:           true,
		DisableSliceFlagSeparator: true,                         // -P name=a,b keeps its comma
		ExitErrHandler:            func(*cli.Context, error) {}, // main prints errors
	}
}

// trackingFlag is --tracking-uri, shared by every tracking command.
var trackingFlag = &cli.StringFlag{
	Name:    "tracking-uri",
	Usage:   "tracking store: sqlite:///path.db or http(s)://host:port",
	EnvVars: []string{"MLFLOW_TRACKING_URI"},
}

var jsonFlag = &cli.BoolFlag{Name: "json", Usage: "print JSON instead of a table"}
