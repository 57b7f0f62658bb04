package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/mlrun/mlrun/runner/launch"
	"github.com/mlrun/mlrun/store"
)

// tagNote is the run tag holding its description (MLflow's
// mlflow.note.content, which start_run's description sets).
const tagNote = "mlflow.note.content"

// runsCreateCommand is mlflow runs create (MLflow 3): a run created and
// ended at once with the given status, for recording work done
// elsewhere. It prints what MLflow's prints: the run's id, experiment,
// status and the name given.
func runsCreateCommand() *cli.Command {
	return &cli.Command{
		Name:  "create",
		Usage: "create a run and end it at once with --status, as mlflow runs create; prints its id as JSON",
		Flags: []cli.Flag{trackingFlag,
			&cli.StringFlag{Name: "experiment-id", Aliases: []string{"x"}, EnvVars: []string{"MLFLOW_EXPERIMENT_ID"}, Usage: "the experiment (this or --experiment-name)"},
			&cli.StringFlag{Name: "experiment-name", EnvVars: []string{"MLFLOW_EXPERIMENT_NAME"}, Usage: "the experiment by name, created if missing (this or --experiment-id)"},
			&cli.StringFlag{Name: "run-name", Usage: "the run's name (default: a generated one)"},
			&cli.StringFlag{Name: "description", Usage: "the run's description (its mlflow.note.content tag)"},
			&cli.StringSliceFlag{Name: "tags", Aliases: []string{"t"}, Usage: "a tag, KEY=VALUE (repeatable)"},
			&cli.StringFlag{Name: "status", Value: "FINISHED", Usage: "how the run ends: FINISHED, FAILED or KILLED"},
			&cli.StringFlag{Name: "parent-run-id", Usage: "make the run a child of this run"},
		},
		Action: func(c *cli.Context) error {
			expID, expName := c.String("experiment-id"), c.String("experiment-name")
			if (expID == "") == (expName == "") {
				return fmt.Errorf("runs create: give exactly one of --experiment-id or --experiment-name")
			}
			status := store.RunStatus(strings.ToUpper(c.String("status")))
			if status != store.StatusFinished && status != store.StatusFailed && status != store.StatusKilled {
				return fmt.Errorf("runs create: --status %q: want FINISHED, FAILED or KILLED", c.String("status"))
			}
			tags, err := keyValues(c, "tags")
			if err != nil {
				return err
			}
			seen := map[string]bool{}
			for _, t := range tags {
				if seen[t.Key] {
					return fmt.Errorf("runs create: duplicate tag key '%s'", t.Key)
				}
				seen[t.Key] = true
			}
			if d := c.String("description"); d != "" {
				if seen[tagNote] {
					return fmt.Errorf("runs create: the description is already set by the tag %s: drop the tag or --description", tagNote)
				}
				tags = append(tags, store.Tag{Key: tagNote, Value: d})
			}
			return withStore(c, func(st store.Store) error {
				r, err := createEndedRun(c.Context, st, c.App.ErrWriter, launch.Request{Store: st, ExperimentID: expID, ExperimentName: expName},
					c.String("run-name"), c.String("parent-run-id"), tags, status)
				if err != nil {
					return err
				}
				out := struct {
					RunID        string  `json:"run_id"`
					ExperimentID string  `json:"experiment_id"`
					Status       string  `json:"status"`
					RunName      *string `json:"run_name"`
				}{RunID: r.Info.RunID, ExperimentID: r.Info.ExperimentID, Status: string(status)}
				if n := c.String("run-name"); n != "" {
					out.RunName = &n
				}
				return printJSON(c.App.Writer, out)
			})
		},
	}
}

// createEndedRun creates the run in req's experiment (by id, or by name
// created if missing) with MLflow's automatic tags, then ends it with
// status. A parent must exist and not be deleted. Ending the run goes on
// even if the command is interrupted meanwhile, so no run it created is
// left RUNNING.
func createEndedRun(ctx context.Context, st store.Store, stderr io.Writer, req launch.Request, name, parent string, tags []store.Tag, status store.RunStatus) (*store.Run, error) {
	if parent != "" {
		p, err := st.GetRun(ctx, parent)
		if err != nil {
			return nil, fmt.Errorf("parent run: %w", err)
		}
		if p.Info.LifecycleStage == store.LifecycleDeleted {
			return nil, store.Invalidf("Cannot start run under parent run with ID %s because it is in the deleted state.", parent)
		}
	}
	req.Stderr = stderr
	expID, err := launch.ResolveExperiment(ctx, req)
	if err != nil {
		return nil, err
	}
	source, err := os.Executable()
	if err != nil {
		source = os.Args[0]
	}
	auto := []store.Tag{
		{Key: launch.TagUser, Value: launch.CurrentUser()},
		{Key: launch.TagSourceName, Value: source},
		{Key: launch.TagSourceType, Value: "LOCAL"},
	}
	if parent != "" {
		auto = append(auto, store.Tag{Key: launch.TagParentRunID, Value: parent})
	}
	// Killed between the create and the end, the run is ended by the next
	// mlrun on this host (launch.Reap), not left RUNNING.
	auto = append(auto, launch.RunnerTags()...)
	// The user's tags win over the automatic ones, as in MLflow's
	// context registry.
	all := auto[:0:0]
	for _, t := range auto {
		if !hasTag(tags, t.Key) {
			all = append(all, t)
		}
	}
	all = append(all, tags...)
	r, err := st.CreateRun(ctx, store.CreateRun{ExperimentID: expID, UserID: launch.CurrentUser(), RunName: name, StartTime: time.Now().UnixMilli(), Tags: all})
	if err != nil {
		return nil, err
	}
	end := time.Now().UnixMilli()
	if _, err := st.UpdateRun(context.WithoutCancel(ctx), r.Info.RunID, store.UpdateRun{Status: &status, EndTime: &end}); err != nil {
		return nil, fmt.Errorf("ending run %s: %w", r.Info.RunID, err)
	}
	return r, nil
}

func hasTag(tags []store.Tag, key string) bool {
	for _, t := range tags {
		if t.Key == key {
			return true
		}
	}
	return false
}

// runsLinkTracesCommand is mlflow runs link-traces (MLflow 3): traces
// linked to a run, at most 100 a call.
func runsLinkTracesCommand() *cli.Command {
	return &cli.Command{
		Name:  "link-traces",
		Usage: "link traces to a run (at most 100 at once), as mlflow runs link-traces",
		Flags: []cli.Flag{trackingFlag,
			&cli.StringFlag{Name: "run-id", Required: true, Usage: "the run to link the traces to"},
			&cli.StringSliceFlag{Name: "trace-id", Aliases: []string{"t"}, Required: true, Usage: "a trace to link (repeatable)"},
		},
		Action: func(c *cli.Context) error {
			run, ids := c.String("run-id"), c.StringSlice("trace-id")
			return withStore(c, func(st store.Store) error {
				ts, ok := st.(store.Traces)
				if !ok {
					return fmt.Errorf("runs link-traces: %w: this store keeps no traces", store.ErrUnsupported)
				}
				if err := ts.LinkTracesToRun(c.Context, ids, run); err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "Successfully linked %d trace(s) to run '%s'\n", len(ids), run)
				return nil
			})
		},
	}
}
