package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/mlrun/mlrun/store/file"
	"github.com/mlrun/mlrun/store/sqlite"
)

func dbCommand() *cli.Command {
	return &cli.Command{
		Name:  "db",
		Usage: "database tools",
		Subcommands: []*cli.Command{{
			Name:      "import-filestore",
			Usage:     "copy an MLflow file store (./mlruns) into a SQLite database, keeping every id",
			ArgsUsage: "[MLRUNS_DIR]",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "source", Usage: "the file store folder (default ./mlruns)"},
				&cli.StringFlag{Name: "target", Aliases: []string{"tracking-uri"}, EnvVars: []string{"MLFLOW_TRACKING_URI"}, Value: DefaultTrackingURI, Usage: "sqlite:///path.db"},
			},
			Action: func(c *cli.Context) error {
				src := firstOf(c.String("source"), c.Args().First(), "mlruns")
				snap, err := file.Read(src)
				if err != nil {
					return err
				}
				st, err := openStore(c.Context, c.String("target"), "")
				if err != nil {
					return err
				}
				defer st.Close()
				db, ok := st.(importer)
				if !ok {
					return errors.New("import-filestore writes into a sqlite:/// database")
				}
				stats, err := db.Import(c.Context, snap)
				if err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "Imported %d experiments, %d runs (%d metric points), %d models (%d versions) from %s into %s\n",
					stats.Experiments, stats.Runs, stats.Points, stats.Models, stats.Versions, src, db.Path())
				return nil
			},
		}},
	}
}

// importer is a store that takes an MLflow file store's contents (SQLite).
type importer interface {
	Import(ctx context.Context, snap *file.Snapshot) (sqlite.ImportStats, error)
	Path() string
}
