package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mlrun/mlrun/store/file"
	"github.com/mlrun/mlrun/store/postgres"
	"github.com/mlrun/mlrun/store/sqlite"
	"github.com/mlrun/mlrun/store/sqlstore"
)

func dbCommand() *cli.Command {
	return &cli.Command{
		Name:  "db",
		Usage: "database tools",
		Subcommands: []*cli.Command{dbUpgradeCommand(), dbCurrentCommand(), dbInitCommand(), dbBackupCommand(), dbCopyCommand(), {
			Name:      "import-filestore",
			Usage:     "copy an MLflow file store (./mlruns) into a SQLite database, keeping every id",
			ArgsUsage: "[MLRUNS_DIR]",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "source", Usage: "the file store folder (default ./mlruns)"},
				&cli.StringFlag{Name: "target", Aliases: []string{"tracking-uri"}, EnvVars: []string{"MLFLOW_TRACKING_URI"}, Value: DefaultTrackingURI, Usage: "sqlite:///path.db"},
			},
			Action: func(c *cli.Context) error {
				return importFileStore(c, firstOf(c.String("source"), c.Args().First(), "mlruns"), c.String("target"))
			},
		}},
	}
}

// migrateFileStoreCommand is mlflow migrate-filestore (MLflow 3.7): the
// same import, under MLflow's name and flags; --source may be the file
// store or the folder holding its mlruns/.
func migrateFileStoreCommand() *cli.Command {
	return &cli.Command{
		Name:  "migrate-filestore",
		Usage: "copy an MLflow file store into a SQLite database, as mlflow migrate-filestore (mlrun db import-filestore)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "source", Required: true, Usage: "the file store (mlruns/), or the folder that holds it"},
			&cli.StringFlag{Name: "target", Required: true, Usage: "sqlite:///path.db"},
		},
		Action: func(c *cli.Context) error {
			if !strings.HasPrefix(c.String("target"), "sqlite:///") {
				return errors.New("--target: must be a SQLite URI starting with 'sqlite:///'")
			}
			src := c.String("source")
			if info, err := os.Stat(filepath.Join(src, "mlruns")); err == nil && info.IsDir() {
				src = filepath.Join(src, "mlruns")
			}
			return importFileStore(c, src, c.String("target"))
		},
	}
}

// importFileStore copies the file store at src into the database target.
func importFileStore(c *cli.Context, src, target string) error {
	snap, err := file.Read(src)
	if err != nil {
		return err
	}
	st, err := openStore(c.Context, target, "")
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
}

// importer is a store that takes an MLflow file store's contents (SQLite).
type importer interface {
	Import(ctx context.Context, snap *file.Snapshot) (sqlstore.ImportStats, error)
	Path() string
}

// dbPath is a db command's database file: uri, else --tracking-uri or
// MLFLOW_TRACKING_URI, else ./mlflow.db; sqlite:/// only. With existing,
// the file must be there (the command must not create it).
func dbPath(c *cli.Context, uri string, existing bool) (string, error) {
	uri = firstOf(uri, c.String("tracking-uri"), DefaultTrackingURI)
	p, ok := sqlitePath(uri)
	if !ok && isPostgres(uri) {
		hint := map[string]string{
			"upgrade": "MLflow's own 'mlflow db upgrade'",
			"init":    "any empty database: mlrun creates MLflow's schema in it on first use",
			"backup":  "pg_dump, or 'mlrun db copy' into a new sqlite:/// file",
		}[c.Command.Name]
		return "", fmt.Errorf("db %s works on sqlite:///path.db databases; for PostgreSQL use %s", c.Command.Name, hint)
	}
	if !ok {
		return "", fmt.Errorf("%s: the db commands work on sqlite:///path.db databases", uri)
	}
	if _, err := os.Stat(p); existing && err != nil {
		return "", fmt.Errorf("db %s: %w", c.Command.Name, err)
	}
	return p, nil
}

// openDB opens an existing database for a db command.
func openDB(c *cli.Context, uri string) (*sqlite.Store, string, error) {
	p, err := dbPath(c, uri, true)
	if err != nil {
		return nil, "", err
	}
	st, err := sqlite.Open(c.Context, p, sqlite.Options{})
	return st, p, err
}

func dbUpgradeCommand() *cli.Command {
	return &cli.Command{
		Name:      "upgrade",
		Usage:     "bring a database from MLflow 2.17.2's schema (or a later one) to MLflow 3.6's, as 'mlflow db upgrade' does; stop servers and runs using it first",
		ArgsUsage: "[sqlite:///path.db]",
		Flags:     []cli.Flag{trackingFlag},
		Action: func(c *cli.Context) error {
			p, err := dbPath(c, c.Args().First(), true)
			if err != nil {
				return err
			}
			res, err := sqlite.Upgrade(c.Context, p)
			if err != nil {
				return err
			}
			if res.From == res.To {
				fmt.Fprintf(c.App.Writer, "%s is at revision %s already\n", p, res.To)
				return nil
			}
			fmt.Fprintf(c.App.Writer, "Upgraded %s from revision %s to %s (%d tables added, %d re-created with their rows)\n", p, res.From, res.To, len(res.Created), len(res.Rebuilt))
			return nil
		},
	}
}

func dbCurrentCommand() *cli.Command {
	return &cli.Command{
		Name:      "current",
		Usage:     "print the database's MLflow schema revision",
		ArgsUsage: "[sqlite:///path.db]",
		Flags:     []cli.Flag{trackingFlag},
		Action: func(c *cli.Context) error {
			var st interface {
				Revision() string
				Close() error
			}
			var err error
			if uri := firstOf(c.Args().First(), c.String("tracking-uri"), DefaultTrackingURI); isPostgres(uri) {
				st, err = postgres.Open(c.Context, uri, postgres.Options{})
			} else {
				st, _, err = openDB(c, uri)
			}
			if err != nil {
				return err
			}
			defer st.Close()
			note := ""
			switch st.Revision() {
			case sqlite.HeadRevision:
				note = " (head: MLflow 3.6)"
			case sqlite.MLflow2Revision:
				note = " (MLflow 2.17.2: 'mlrun db upgrade' brings it to MLflow 3.6)"
			}
			fmt.Fprintf(c.App.Writer, "%s%s\n", st.Revision(), note)
			return nil
		},
	}
}

func dbInitCommand() *cli.Command {
	return &cli.Command{
		Name:      "init",
		Usage:     "create a new database; --revision f5a4f2784254 makes one MLflow 2.17.2 can open",
		ArgsUsage: "[sqlite:///path.db]",
		Flags: []cli.Flag{trackingFlag,
			&cli.StringFlag{Name: "revision", Value: sqlite.HeadRevision, Usage: "bf29a5ff90ea (MLflow 3.6) or f5a4f2784254 (MLflow 2.17.2)"}},
		Action: func(c *cli.Context) error {
			p, err := dbPath(c, c.Args().First(), false)
			if err != nil {
				return err
			}
			if _, err := os.Stat(p); err == nil {
				return fmt.Errorf("db init: %s exists", p)
			}
			st, err := sqlite.Open(c.Context, p, sqlite.Options{Revision: c.String("revision")})
			if err != nil {
				os.Remove(p)
				return err
			}
			defer st.Close()
			fmt.Fprintf(c.App.Writer, "Created %s at revision %s\n", p, st.Revision())
			return nil
		},
	}
}

func dbBackupCommand() *cli.Command {
	return &cli.Command{
		Name:      "backup",
		Usage:     "copy the database to DEST consistently, while servers and runs go on writing (SQLite's online backup)",
		ArgsUsage: "DEST",
		Flags:     []cli.Flag{trackingFlag},
		Action: func(c *cli.Context) error {
			dest := c.Args().First()
			if dest == "" {
				return fmt.Errorf("db backup: give the DEST file")
			}
			st, p, err := openDB(c, "")
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.Backup(c.Context, dest); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "Backed up %s to %s\n", p, dest)
			return nil
		},
	}
}
