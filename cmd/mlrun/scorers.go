package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/store"
)

// scorersCommand is mlflow scorers: the GenAI scorers and LLM judges
// registered in an experiment, each versioned by name.
func scorersCommand() *cli.Command {
	expFlag := &cli.StringFlag{Name: "experiment-id", Aliases: []string{"x"}, EnvVars: []string{"MLFLOW_EXPERIMENT_ID"},
		Usage: "the experiment (also MLFLOW_EXPERIMENT_ID)"}
	nameFlag := &cli.StringFlag{Name: "name", Aliases: []string{"n"}, Usage: "the scorer's name"}
	versionFlag := &cli.IntFlag{Name: "version", Usage: "one version (default: the latest; for delete, every version)"}
	// withScorers checks the flags every subcommand needs and opens the store.
	withScorers := func(c *cli.Context, needName bool, fn func(store.Scorers, string, string) error) error {
		exp, name := c.String("experiment-id"), c.String("name")
		switch {
		case exp == "":
			return fmt.Errorf("scorers %s: give --experiment-id ID (or set MLFLOW_EXPERIMENT_ID)", c.Command.Name)
		case needName && name == "":
			return fmt.Errorf("scorers %s: give --name NAME", c.Command.Name)
		case c.Int("version") < 0:
			return fmt.Errorf("--version %d: scorer versions start at 1", c.Int("version"))
		}
		return withStore(c, func(st store.Store) error {
			sc, ok := st.(store.Scorers)
			if !ok {
				return fmt.Errorf("scorers %s: this tracking store does not keep scorers", c.Command.Name)
			}
			return fn(sc, exp, name)
		})
	}
	printVersions := func(c *cli.Context, list []*store.Scorer) error {
		if c.Bool("json") {
			out := make([]wire.Scorer, len(list))
			for i, v := range list {
				out[i] = wire.FromScorer(v)
			}
			return printJSON(c.App.Writer, map[string]any{"scorers": out})
		}
		tw := table(c.App.Writer, "NAME", "VERSION", "CREATED", "SCORER ID")
		for _, v := range list {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", v.Name, v.Version, fmtTime(v.CreationTime), v.ID)
		}
		return tw.Flush()
	}
	return &cli.Command{
		Name:  "scorers",
		Usage: "list, show, register and delete an experiment's scorers and LLM judges (mlflow scorers)",
		Subcommands: []*cli.Command{
			{
				Name:  "list",
				Usage: "list the experiment's scorers (their latest versions)",
				Flags: []cli.Flag{trackingFlag, expFlag, jsonFlag,
					&cli.StringFlag{Name: "output", Usage: "table or json (mlflow scorers list's {\"scorers\": [names]})"}},
				Action: func(c *cli.Context) error {
					switch c.String("output") {
					case "", "table", "json":
					default:
						return fmt.Errorf("--output %s: want table or json", c.String("output"))
					}
					return withScorers(c, false, func(sc store.Scorers, exp, _ string) error {
						list, err := sc.ListScorers(c.Context, exp)
						if err != nil {
							return err
						}
						if c.String("output") == "json" {
							names := make([]string, len(list))
							for i, v := range list {
								names[i] = v.Name
							}
							return printJSON(c.App.Writer, map[string]any{"scorers": names})
						}
						return printVersions(c, list)
					})
				},
			},
			{
				Name:  "versions",
				Usage: "list every version of one scorer",
				Flags: []cli.Flag{trackingFlag, expFlag, nameFlag, jsonFlag},
				Action: func(c *cli.Context) error {
					return withScorers(c, true, func(sc store.Scorers, exp, name string) error {
						list, err := sc.ListScorerVersions(c.Context, exp, name)
						if err != nil {
							return err
						}
						return printVersions(c, list)
					})
				},
			},
			{
				Name:  "get",
				Usage: "print a scorer's serialized form (the latest version, or --version)",
				Flags: []cli.Flag{trackingFlag, expFlag, nameFlag, versionFlag, jsonFlag},
				Action: func(c *cli.Context) error {
					return withScorers(c, true, func(sc store.Scorers, exp, name string) error {
						v, err := sc.GetScorer(c.Context, exp, name, c.Int("version"))
						if err != nil {
							return err
						}
						if c.Bool("json") {
							return printJSON(c.App.Writer, map[string]any{"scorer": wire.FromScorer(v)})
						}
						var pretty any
						if json.Unmarshal([]byte(v.SerializedScorer), &pretty) == nil {
							return printJSON(c.App.Writer, pretty)
						}
						_, err = fmt.Fprintln(c.App.Writer, v.SerializedScorer)
						return err
					})
				},
			},
			{
				Name:      "register",
				Usage:     "register a serialized scorer (a file, or - for standard input) as the name's next version",
				ArgsUsage: "FILE",
				Flags:     []cli.Flag{trackingFlag, expFlag, nameFlag},
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return fmt.Errorf("scorers register: give the serialized scorer's FILE (or - for standard input)")
					}
					var b []byte
					var err error
					if f := c.Args().First(); f == "-" {
						b, err = io.ReadAll(c.App.Reader)
					} else {
						b, err = os.ReadFile(f)
					}
					if err != nil {
						return fmt.Errorf("scorers register: %w", err)
					}
					if !json.Valid(b) {
						return fmt.Errorf("scorers register: %s is not JSON (a scorer is registered in the JSON form 'mlrun scorers get' prints)", c.Args().First())
					}
					return withScorers(c, true, func(sc store.Scorers, exp, name string) error {
						v, err := sc.RegisterScorer(c.Context, exp, name, string(b))
						if err != nil {
							return err
						}
						fmt.Fprintf(c.App.Writer, "Registered scorer '%s' version %d in experiment %s\n", v.Name, v.Version, v.ExperimentID)
						return nil
					})
				},
			},
			{
				Name:  "register-llm-judge",
				Usage: "register an LLM judge made of instructions, as mlflow scorers register-llm-judge (make_judge)",
				Flags: []cli.Flag{trackingFlag, expFlag, nameFlag,
					&cli.StringFlag{Name: "instructions", Aliases: []string{"i"}, Usage: "what to judge, with {{ inputs }}, {{ outputs }}, {{ expectations }} or {{ trace }}"},
					&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: "the judge's model, e.g. openai:/gpt-4 (default: MLflow's)"}},
				Action: func(c *cli.Context) error {
					serialized, err := llmJudge(c.String("name"), c.String("instructions"), c.String("model"))
					if err != nil {
						return fmt.Errorf("scorers register-llm-judge: %w", err)
					}
					return withScorers(c, true, func(sc store.Scorers, exp, name string) error {
						if _, err := sc.RegisterScorer(c.Context, exp, name, serialized); err != nil {
							return err
						}
						fmt.Fprintf(c.App.Writer, "Successfully created and registered judge scorer '%s' in experiment %s\n", name, exp)
						return nil
					})
				},
			},
			{
				Name:  "delete",
				Usage: "delete one version of a scorer (--version), or the scorer with every version",
				Flags: []cli.Flag{trackingFlag, expFlag, nameFlag, versionFlag},
				Action: func(c *cli.Context) error {
					return withScorers(c, true, func(sc store.Scorers, exp, name string) error {
						if err := sc.DeleteScorer(c.Context, exp, name, c.Int("version")); err != nil {
							return err
						}
						if v := c.Int("version"); v > 0 {
							fmt.Fprintf(c.App.Writer, "Deleted version %d of scorer '%s'\n", v, name)
						} else {
							fmt.Fprintf(c.App.Writer, "Deleted scorer '%s'\n", name)
						}
						return nil
					})
				},
			},
		},
	}
}

// judgeVariables are the template variables an LLM judge's instructions
// may use (MLflow's make_judge).
var judgeVariables = map[string]bool{"inputs": true, "outputs": true, "expectations": true, "trace": true}

var templateVar = regexp.MustCompile(`\{\{\s*(\w+)\s*\}\}`)

// llmJudge is an LLM judge serialized as MLflow's InstructionsJudge
// serializes itself (a SerializedScorer with instructions_judge_pydantic_
// data), so MLflow's client loads it as the judge make_judge makes; the
// instructions must use at least one of the judge's template variables,
// and no other.
func llmJudge(name, instructions, model string) (string, error) {
	switch {
	case name == "":
		return "", fmt.Errorf("give --name NAME")
	case strings.TrimSpace(instructions) == "":
		return "", fmt.Errorf("give --instructions")
	}
	found := false
	for _, m := range templateVar.FindAllStringSubmatch(instructions, -1) {
		if !judgeVariables[m[1]] {
			return "", fmt.Errorf("the instructions use {{ %s }}: a judge's instructions may use only {{ inputs }}, {{ outputs }}, {{ expectations }} and {{ trace }}", m[1])
		}
		found = true
	}
	if !found {
		return "", fmt.Errorf("the instructions must contain at least one of {{ inputs }}, {{ outputs }}, {{ expectations }}, {{ trace }}")
	}
	var m any
	if model != "" {
		m = model
	}
	b, err := json.Marshal(map[string]any{
		"name": name, "aggregations": nil, "mlflow_version": mlflowJudgeVersion, "serialization_version": 1,
		"builtin_scorer_class": nil, "builtin_scorer_pydantic_data": nil, "call_source": nil, "call_signature": nil, "original_func_name": nil,
		"instructions_judge_pydantic_data": map[string]any{"instructions": instructions, "model": m},
	})
	return string(b), err
}

// mlflowJudgeVersion is the MLflow release whose judge serialization
// llmJudge writes (the schema mlrun's databases are at).
const mlflowJudgeVersion = "3.6.0"
