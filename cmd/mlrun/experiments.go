package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/store"
)

func experimentsCommand() *cli.Command {
	idFlag := &cli.StringFlag{Name: "experiment-id", Aliases: []string{"x"}, Usage: "the experiment's id"}
	return &cli.Command{
		Name:  "experiments",
		Usage: "create, list and manage experiments",
		Subcommands: []*cli.Command{
			{
				Name:      "create",
				Usage:     "create an experiment and print its id",
				ArgsUsage: "[NAME]",
				Flags: []cli.Flag{trackingFlag,
					&cli.StringFlag{Name: "experiment-name", Aliases: []string{"n"}, Usage: "the name"},
					&cli.StringFlag{Name: "artifact-location", Aliases: []string{"l"}, Usage: "where its runs' artifacts go"},
				},
				Action: func(c *cli.Context) error {
					name := firstOf(c.String("experiment-name"), c.Args().First())
					if name == "" {
						return fmt.Errorf("experiments create: give --experiment-name NAME")
					}
					return withStore(c, func(st store.Store) error {
						id, err := st.CreateExperiment(c.Context, name, c.String("artifact-location"), nil)
						if err != nil {
							return err
						}
						fmt.Fprintf(c.App.Writer, "Created experiment '%s' with id %s\n", name, id)
						return nil
					})
				},
			},
			{
				Name:    "list",
				Aliases: []string{"search"}, // mlflow experiments search
				Usage:   "list experiments",
				Flags: []cli.Flag{trackingFlag, jsonFlag,
					&cli.StringFlag{Name: "view", Aliases: []string{"v"}, Value: "active_only", Usage: "active_only, deleted_only or all"},
					&cli.StringFlag{Name: "filter", Usage: "MLflow filter, e.g. \"name LIKE 'prod-%'\""},
					&cli.IntFlag{Name: "max-results", Usage: "at most this many (default: all), as mlflow experiments search"},
				},
				Action: func(c *cli.Context) error {
					vt, err := store.ParseViewType(strings.ToUpper(c.String("view")))
					if err != nil {
						return err
					}
					limit := c.Int("max-results")
					if limit < 0 {
						return fmt.Errorf("--max-results %d: want a non-negative number", limit)
					}
					return withStore(c, func(st store.Store) error {
						var all []*store.Experiment
						tok := ""
						for {
							es, next, err := st.SearchExperiments(c.Context, store.SearchExperiments{ViewType: vt, Filter: c.String("filter"), PageToken: tok})
							if err != nil {
								return err
							}
							all = append(all, es...)
							if next == "" || (limit > 0 && len(all) >= limit) {
								break
							}
							tok = next
						}
						if limit > 0 && len(all) > limit {
							all = all[:limit]
						}
						if c.Bool("json") {
							out := make([]wire.Experiment, len(all))
							for i, e := range all {
								out[i] = wire.FromExperiment(e)
							}
							return printJSON(c.App.Writer, map[string]any{"experiments": out})
						}
						tw := table(c.App.Writer, "ID", "NAME", "STAGE", "CREATED", "ARTIFACT LOCATION")
						for _, e := range all {
							fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.ID, e.Name, e.LifecycleStage, fmtTime(e.CreationTime), e.ArtifactLocation)
						}
						return tw.Flush()
					})
				},
			},
			{
				Name:      "get",
				Usage:     "show one experiment",
				ArgsUsage: "[ID]",
				Flags: []cli.Flag{trackingFlag, jsonFlag, idFlag, &cli.StringFlag{Name: "experiment-name", Aliases: []string{"n"}},
					&cli.StringFlag{Name: "output", Usage: "table or json (--json), as mlflow experiments get"}},
				Action: func(c *cli.Context) error {
					return withStore(c, func(st store.Store) error {
						var e *store.Experiment
						var err error
						if name := c.String("experiment-name"); name != "" {
							e, err = st.GetExperimentByName(c.Context, name)
						} else if id := firstOf(c.String("experiment-id"), c.Args().First()); id != "" {
							e, err = st.GetExperiment(c.Context, id)
						} else {
							return fmt.Errorf("experiments get: give --experiment-id ID or --experiment-name NAME")
						}
						if err != nil {
							return err
						}
						switch c.String("output") {
						case "", "table", "json":
						default:
							return fmt.Errorf("--output %s: want table or json", c.String("output"))
						}
						if c.Bool("json") || c.String("output") == "json" {
							return printJSON(c.App.Writer, map[string]any{"experiment": wire.FromExperiment(e)})
						}
						tw := table(c.App.Writer)
						fmt.Fprintf(tw, "id\t%s\nname\t%s\nlifecycle_stage\t%s\nartifact_location\t%s\ncreated\t%s\nlast_update\t%s\n",
							e.ID, e.Name, e.LifecycleStage, e.ArtifactLocation, fmtTime(e.CreationTime), fmtTime(e.LastUpdateTime))
						for _, t := range e.Tags {
							fmt.Fprintf(tw, "tag %s\t%s\n", t.Key, t.Value)
						}
						return tw.Flush()
					})
				},
			},
			{
				Name:      "rename",
				Usage:     "rename an experiment",
				ArgsUsage: "[ID NEW_NAME]",
				Flags:     []cli.Flag{trackingFlag, idFlag, &cli.StringFlag{Name: "new-name"}},
				Action: func(c *cli.Context) error {
					id := firstOf(c.String("experiment-id"), c.Args().Get(0))
					name := c.String("new-name")
					if name == "" && c.String("experiment-id") == "" {
						name = c.Args().Get(1)
					} else if name == "" {
						name = c.Args().Get(0)
					}
					if id == "" || name == "" {
						return fmt.Errorf("experiments rename: give --experiment-id ID --new-name NAME")
					}
					return withStore(c, func(st store.Store) error {
						if err := st.RenameExperiment(c.Context, id, name); err != nil {
							return err
						}
						fmt.Fprintf(c.App.Writer, "Experiment with id %s renamed to '%s'\n", id, name)
						return nil
					})
				},
			},
			{
				Name:  "csv",
				Usage: "write an experiment's runs as CSV (mlflow experiments csv): to --filename, or standard output",
				Flags: []cli.Flag{trackingFlag, idFlag, &cli.StringFlag{Name: "filename", Aliases: []string{"o"}, Usage: "the CSV file to write"}},
				Action: func(c *cli.Context) error {
					id := firstOf(c.String("experiment-id"), c.Args().Get(0))
					if id == "" {
						return fmt.Errorf("experiments csv: give --experiment-id ID")
					}
					return withStore(c, func(st store.Store) error {
						if _, err := st.GetExperiment(c.Context, id); err != nil {
							return err
						}
						name := c.String("filename")
						if name == "" {
							return writeRunsCSV(c.Context, st, id, c.App.Writer)
						}
						// Written beside, then renamed: a failed export leaves no half file.
						tmp, err := os.CreateTemp(filepath.Dir(name), ".mlrun-csv-*")
						if err != nil {
							return fmt.Errorf("experiments csv: %w", err)
						}
						defer os.Remove(tmp.Name())
						if err := writeRunsCSV(c.Context, st, id, tmp); err != nil {
							tmp.Close()
							return err
						}
						if err := tmp.Close(); err != nil {
							return err
						}
						if err := os.Rename(tmp.Name(), name); err != nil {
							return fmt.Errorf("experiments csv: %w", err)
						}
						fmt.Fprintf(c.App.Writer, "Experiment with ID %s has been exported as a CSV to file: %s.\n", id, name)
						return nil
					})
				},
			},
			lifecycleCommand("delete", "delete an experiment and its runs (restorable)", idFlag, func(st store.Store, c *cli.Context, id string) error {
				return st.DeleteExperiment(c.Context, id)
			}),
			lifecycleCommand("restore", "restore a deleted experiment and its runs", idFlag, func(st store.Store, c *cli.Context, id string) error {
				return st.RestoreExperiment(c.Context, id)
			}),
		},
	}
}

// lifecycleCommand is a command taking one id (flag or argument).
func lifecycleCommand(name, usage string, idFlag *cli.StringFlag, fn func(store.Store, *cli.Context, string) error) *cli.Command {
	return &cli.Command{
		Name:      name,
		Usage:     usage,
		ArgsUsage: "[ID]",
		Flags:     []cli.Flag{trackingFlag, idFlag},
		Action: func(c *cli.Context) error {
			id := firstOf(c.String(idFlag.Name), c.Args().First())
			if id == "" {
				return fmt.Errorf("%s: give --%s ID", name, idFlag.Name)
			}
			return withStore(c, func(st store.Store) error {
				if err := fn(st, c, id); err != nil {
					return err
				}
				what := strings.TrimSuffix(strings.TrimPrefix(idFlag.Name, ""), "-id")
				fmt.Fprintf(c.App.Writer, "%s %s: %sd\n", strings.ToUpper(what[:1])+what[1:], id, name)
				return nil
			})
		},
	}
}

// withStore opens the store of --tracking-uri for one command.
func withStore(c *cli.Context, fn func(store.Store) error) error {
	st, err := openExistingStore(c.Context, c.String("tracking-uri"))
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func table(w io.Writer, header ...string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(header) > 0 {
		fmt.Fprintln(tw, strings.Join(header, "\t"))
	}
	return tw
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func fmtTime(ms int64) string {
	if ms == 0 {
		return "-"
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05")
}
