package main

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/store"
)

// logCommand logs into a run from a shell step: the run is --run-id, else
// $MLFLOW_RUN_ID, which mlrun run gives every step.
func logCommand() *cli.Command {
	runFlag := &cli.StringFlag{Name: "run-id", EnvVars: []string{"MLFLOW_RUN_ID"}, Usage: "the run to log into (default $MLFLOW_RUN_ID)"}
	flags := func(extra ...cli.Flag) []cli.Flag { return append([]cli.Flag{trackingFlag, runFlag}, extra...) }
	runID := func(c *cli.Context) (string, error) {
		id := c.String("run-id")
		if id == "" {
			return "", fmt.Errorf("no run to log into: set MLFLOW_RUN_ID or give --run-id")
		}
		return id, nil
	}
	twoArgs := func(c *cli.Context, what string) (string, string, error) {
		if c.NArg() != 2 {
			return "", "", fmt.Errorf("log %s: want KEY VALUE, got %d arguments", what, c.NArg())
		}
		return c.Args().Get(0), c.Args().Get(1), nil
	}
	keyValue := func(name, usage string, fn func(st store.Store, c *cli.Context, id, k, v string) error) *cli.Command {
		return &cli.Command{
			Name: name, Usage: usage, ArgsUsage: "KEY VALUE", Flags: flags(),
			Action: func(c *cli.Context) error {
				k, v, err := twoArgs(c, name)
				if err != nil {
					return err
				}
				id, err := runID(c)
				if err != nil {
					return err
				}
				return withStore(c, func(st store.Store) error { return fn(st, c, id, k, v) })
			},
		}
	}
	return &cli.Command{
		Name:  "log",
		Usage: "log a param, metric, tag or artifact into a run ($MLFLOW_RUN_ID)",
		Subcommands: []*cli.Command{
			keyValue("param", "log a parameter", func(st store.Store, c *cli.Context, id, k, v string) error {
				return st.LogParam(c.Context, id, store.Param{Key: k, Value: v})
			}),
			{
				Name: "metric", Usage: "log a metric point", ArgsUsage: "KEY VALUE",
				Flags: flags(
					&cli.Int64Flag{Name: "step", Usage: "the step (default 0)"},
					&cli.Int64Flag{Name: "timestamp", Usage: "ms since the epoch (default now)"},
				),
				Action: func(c *cli.Context) error {
					k, v, err := twoArgs(c, "metric")
					if err != nil {
						return err
					}
					val, err := strconv.ParseFloat(v, 64)
					if err != nil {
						return fmt.Errorf("log metric %s: value %q is not a number", k, v)
					}
					id, err := runID(c)
					if err != nil {
						return err
					}
					ts := c.Int64("timestamp")
					if ts == 0 {
						ts = time.Now().UnixMilli()
					}
					return withStore(c, func(st store.Store) error {
						return st.LogMetric(c.Context, id, store.Metric{Key: k, Value: val, Timestamp: ts, Step: c.Int64("step")})
					})
				},
			},
			keyValue("tag", "set a run tag", func(st store.Store, c *cli.Context, id, k, v string) error {
				return st.SetTag(c.Context, id, store.Tag{Key: k, Value: v})
			}),
			{
				Name: "artifact", Usage: "upload a file or a folder into the run's artifacts", ArgsUsage: "PATH",
				Flags: flags(&cli.StringFlag{Name: "artifact-path", Aliases: []string{"a"}, Usage: "folder inside the run's artifacts"}),
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return fmt.Errorf("log artifact: want one PATH")
					}
					id, err := runID(c)
					if err != nil {
						return err
					}
					return withRunArtifacts(c, id, func(repo artifact.Repository) error {
						src := c.Args().First()
						base := c.String("artifact-path")
						info, err := os.Stat(src)
						if err != nil {
							return fmt.Errorf("log artifact: %w", err)
						}
						if !info.IsDir() {
							return uploadFile(c, repo, src, path.Join(base, filepath.Base(src)))
						}
						return uploadTree(c, repo, src, path.Join(base, filepath.Base(filepath.Clean(src))))
					})
				},
			},
		},
	}
}
