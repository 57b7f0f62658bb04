package main

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mlrun/mlrun/store/sqlstore"
)

// sqlCore is a store on MLflow's SQL schema (SQLite, PostgreSQL).
type sqlCore interface{ Core() *sqlstore.Store }

func dbCopyCommand() *cli.Command {
	return &cli.Command{
		Name:      "copy",
		Usage:     "copy a whole MLflow database into a new one (SQLite <-> PostgreSQL), keeping every id, time, registry entry and logged model; all or nothing",
		ArgsUsage: "SRC_URI DST_URI",
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return errors.New("db copy: want SRC_URI DST_URI (sqlite:///path.db or postgresql://user:pass@host:port/db)")
			}
			srcURI, dstURI := c.Args().Get(0), c.Args().Get(1)
			if srcURI == dstURI {
				return errors.New("db copy: the source and the destination are the same database")
			}
			src, err := openExistingStore(c.Context, srcURI)
			if err != nil {
				return fmt.Errorf("source: %w", err)
			}
			defer src.Close()
			sc, ok := src.(sqlCore)
			if !ok {
				return fmt.Errorf("source %s: db copy reads sqlite:/// and postgresql:// databases", srcURI)
			}
			// The destination is created (schema at MLflow 3.6's revision)
			// when it is an empty database or a new SQLite file.
			dst, err := openStore(c.Context, dstURI, "")
			if err != nil {
				return fmt.Errorf("destination: %w", err)
			}
			defer dst.Close()
			dc, ok := dst.(sqlCore)
			if !ok {
				return fmt.Errorf("destination %s: db copy writes sqlite:/// and postgresql:// databases", dstURI)
			}
			stats, err := sqlstore.Copy(c.Context, sc.Core(), dc.Core())
			if err != nil {
				return fmt.Errorf("db copy: %w (nothing was written)", err)
			}
			var parts []string
			var total int64
			for _, t := range slices.Sorted(maps.Keys(stats)) {
				if stats[t] > 0 {
					parts = append(parts, fmt.Sprintf("%s %d", t, stats[t]))
					total += stats[t]
				}
			}
			fmt.Fprintf(c.App.Writer, "Copied %d rows (%s)\n", total, strings.Join(parts, ", "))
			return nil
		},
	}
}
