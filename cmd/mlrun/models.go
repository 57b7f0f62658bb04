package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/internal/wire"
	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/store"
)

var registryFlag = &cli.StringFlag{
	Name:    "registry-store-uri",
	Usage:   "model registry: sqlite:///path.db or http(s)://host:port (default: the tracking URI)",
	EnvVars: []string{"MLFLOW_REGISTRY_URI"},
}

// withRegistry opens the tracking store and the registry (the tracking
// store itself unless --registry-store-uri names another).
func withRegistry(c *cli.Context, fn func(store.Store, registry.Store) error) error {
	return withStore(c, func(st store.Store) error {
		uri := c.String("registry-store-uri")
		if uri == "" || uri == c.String("tracking-uri") {
			reg, ok := st.(registry.Store)
			if !ok {
				return errors.New("this tracking store has no model registry: set --registry-store-uri")
			}
			return fn(st, reg)
		}
		rs, err := openExistingStore(c.Context, uri)
		if err != nil {
			return err
		}
		defer rs.Close()
		reg, ok := rs.(registry.Store)
		if !ok {
			return fmt.Errorf("registry URI %s has no model registry", uri)
		}
		return fn(st, reg)
	})
}

func modelsCommand() *cli.Command {
	flags := func(extra ...cli.Flag) []cli.Flag {
		return append([]cli.Flag{trackingFlag, registryFlag, jsonFlag}, extra...)
	}
	args := func(c *cli.Context, n int, usage string) ([]string, error) {
		if c.NArg() != n {
			return nil, fmt.Errorf("models %s: want %s", c.Command.Name, usage)
		}
		return c.Args().Slice(), nil
	}
	printVersion := func(c *cli.Context, v *registry.ModelVersion) error {
		if c.Bool("json") {
			return printJSON(c.App.Writer, map[string]any{"model_version": wire.FromModelVersion(v)})
		}
		tw := table(c.App.Writer)
		fmt.Fprintf(tw, "name\t%s\nversion\t%s\nstage\t%s\nstatus\t%s\nsource\t%s\nrun_id\t%s\naliases\t%s\ndescription\t%s\ncreated\t%s\n",
			v.Name, v.Version, v.CurrentStage, v.Status, v.Source, v.RunID, strings.Join(v.Aliases, ","), v.Description, fmtTime(v.CreationTimestamp))
		for _, t := range v.Tags {
			fmt.Fprintf(tw, "tag %s\t%s\n", t.Key, t.Value)
		}
		return tw.Flush()
	}
	return &cli.Command{
		Name:  "models",
		Usage: "models: inspect, log, serve and predict; the registry: register, list, stage, alias and download",
		Subcommands: []*cli.Command{
			inspectCommand(),
			logModelCommand(),
			serveCommand(),
			predictCommand(),
			buildDockerCommand(),
			generateDockerfileCommand(),
			prepareEnvCommand(),
			{
				Name: "register", Usage: "register a run's model (runs:/<run_id>/<path>) or a path as a new version",
				ArgsUsage: "SOURCE",
				Flags: flags(
					&cli.StringFlag{Name: "name", Aliases: []string{"n"}, Required: true, Usage: "registered model name (created if missing)"},
					&cli.StringFlag{Name: "run-id", Usage: "the run that produced the model (needed for a local path)"},
					&cli.StringSliceFlag{Name: "tag", Usage: "version tag KEY=VALUE (repeatable)"},
					&cli.StringFlag{Name: "description"},
				),
				Action: func(c *cli.Context) error {
					a, err := args(c, 1, "one SOURCE (runs:/<run_id>/<path>, a models:/ URI, or a path)")
					if err != nil {
						return err
					}
					return withRegistry(c, func(st store.Store, reg registry.Store) error {
						source, runID, modelID := a[0], c.String("run-id"), ""
						if strings.HasPrefix(source, "runs:/") {
							id, _, err := registry.ParseRunsURI(source)
							if err != nil {
								return err
							}
							if runID == "" {
								runID = id
							}
							// The run's files, or (MLflow 3) the model the
							// run logged under that name: then the version's
							// source is the model, as MLflow 3 registers it.
							loc, m, err := registry.ResolveRunsURI(c.Context, st, source, artifactsOf(st))
							if err != nil {
								return err
							}
							source = loc
							if m != nil {
								fmt.Fprintf(c.App.ErrWriter, "Run %s has no artifacts at %s: registering its logged model models:/%s\n", id, strings.TrimPrefix(a[0], "runs:/"+id+"/"), m.ModelID)
								source, modelID = "models:/"+m.ModelID, m.ModelID
							}
						} else if !strings.Contains(source, ":/") {
							if source, err = filepath.Abs(source); err != nil {
								return err
							}
						}
						// MLflow refuses a source that holds nothing; so does mlrun.
						if !strings.HasPrefix(source, "models:/") {
							if ok, err := artifactExists(c, st, source); err != nil {
								return err
							} else if !ok {
								return fmt.Errorf("source %s does not exist: nothing was logged there (check the run's artifacts with 'mlrun runs get')", a[0])
							}
						}
						tags, err := tagFlags(c)
						if err != nil {
							return err
						}
						name := c.String("name")
						if _, err := reg.CreateRegisteredModel(c.Context, name, nil, ""); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
							return err
						} else if err == nil {
							fmt.Fprintf(c.App.ErrWriter, "Successfully registered model '%s'.\n", name)
						}
						runLink := ""
						v, err := reg.CreateModelVersion(c.Context, registry.CreateVersion{Name: name, Source: source, ModelID: modelID, RunID: runID, RunLink: runLink, Description: c.String("description"), Tags: tags})
						if err != nil {
							return err
						}
						fmt.Fprintf(c.App.ErrWriter, "Created version '%s' of model '%s'.\n", v.Version, name)
						return printVersion(c, v)
					})
				},
			},
			{
				Name: "list", Usage: "list registered models", Flags: flags(&cli.StringFlag{Name: "filter", Usage: "e.g. \"name LIKE 'wine%'\""}),
				Action: func(c *cli.Context) error {
					return withRegistry(c, func(_ store.Store, reg registry.Store) error {
						var all []*registry.RegisteredModel
						tok := ""
						for {
							ms, next, err := reg.SearchRegisteredModels(c.Context, registry.SearchModels{Filter: c.String("filter"), MaxResults: 1000, PageToken: tok})
							if err != nil {
								return err
							}
							all = append(all, ms...)
							if tok = next; tok == "" {
								break
							}
						}
						if c.Bool("json") {
							out := make([]wire.RegisteredModel, len(all))
							for i, m := range all {
								out[i] = wire.FromRegisteredModel(m)
							}
							return printJSON(c.App.Writer, map[string]any{"registered_models": out})
						}
						tw := table(c.App.Writer, "NAME", "LATEST", "ALIASES", "UPDATED", "DESCRIPTION")
						for _, m := range all {
							var latest, aliases []string
							for _, v := range m.LatestVersions {
								latest = append(latest, v.Version+":"+v.CurrentStage)
							}
							for _, a := range m.Aliases {
								aliases = append(aliases, a.Alias+"→"+a.Version)
							}
							fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.Name, clip(strings.Join(latest, " ")), clip(strings.Join(aliases, " ")), fmtTime(m.LastUpdatedTimestamp), clip(m.Description))
						}
						return tw.Flush()
					})
				},
			},
			{
				Name: "get", Usage: "show a registered model, or one version (NAME VERSION, or a models:/ URI)", ArgsUsage: "NAME [VERSION] | models:/…", Flags: flags(),
				Action: func(c *cli.Context) error {
					return withRegistry(c, func(_ store.Store, reg registry.Store) error {
						switch {
						case c.NArg() == 1 && strings.HasPrefix(c.Args().First(), "models:/"):
							v, err := registry.ResolveVersion(c.Context, reg, c.Args().First())
							if err != nil {
								return err
							}
							return printVersion(c, v)
						case c.NArg() == 2:
							v, err := reg.GetModelVersion(c.Context, c.Args().Get(0), c.Args().Get(1))
							if err != nil {
								return err
							}
							return printVersion(c, v)
						case c.NArg() != 1:
							return errors.New("models get: want NAME [VERSION] or a models:/ URI")
						}
						m, err := reg.GetRegisteredModel(c.Context, c.Args().First())
						if err != nil {
							return err
						}
						if c.Bool("json") {
							return printJSON(c.App.Writer, map[string]any{"registered_model": wire.FromRegisteredModel(m)})
						}
						tw := table(c.App.Writer)
						fmt.Fprintf(tw, "name\t%s\ndescription\t%s\ncreated\t%s\nupdated\t%s\n", m.Name, m.Description, fmtTime(m.CreationTimestamp), fmtTime(m.LastUpdatedTimestamp))
						for _, v := range m.LatestVersions {
							fmt.Fprintf(tw, "latest %s\tversion %s\n", v.CurrentStage, v.Version)
						}
						for _, a := range m.Aliases {
							fmt.Fprintf(tw, "alias %s\tversion %s\n", a.Alias, a.Version)
						}
						for _, t := range m.Tags {
							fmt.Fprintf(tw, "tag %s\t%s\n", t.Key, t.Value)
						}
						return tw.Flush()
					})
				},
			},
			{
				Name: "versions", Usage: "list the versions of a model", ArgsUsage: "NAME", Flags: flags(),
				Action: func(c *cli.Context) error {
					a, err := args(c, 1, "NAME")
					if err != nil {
						return err
					}
					return withRegistry(c, func(_ store.Store, reg registry.Store) error {
						if _, err := reg.GetRegisteredModel(c.Context, a[0]); err != nil {
							return err
						}
						vs, _, err := reg.SearchModelVersions(c.Context, registry.SearchVersions{Filter: "name = '" + strings.ReplaceAll(a[0], "'", "''") + "'", OrderBy: []string{"version_number DESC"}})
						if err != nil {
							return err
						}
						if c.Bool("json") {
							return printJSON(c.App.Writer, map[string]any{"model_versions": wire.FromModelVersions(vs)})
						}
						tw := table(c.App.Writer, "VERSION", "STAGE", "ALIASES", "RUN ID", "CREATED", "SOURCE")
						for _, v := range vs {
							fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", v.Version, v.CurrentStage, strings.Join(v.Aliases, ","), v.RunID, fmtTime(v.CreationTimestamp), v.Source)
						}
						return tw.Flush()
					})
				},
			},
			{
				Name: "transition", Usage: "move a version to a stage (None, Staging, Production, Archived)", ArgsUsage: "NAME VERSION STAGE",
				Flags: flags(&cli.BoolFlag{Name: "archive-existing", Usage: "archive the other versions in that stage"}),
				Action: func(c *cli.Context) error {
					a, err := args(c, 3, "NAME VERSION STAGE")
					if err != nil {
						return err
					}
					return withRegistry(c, func(_ store.Store, reg registry.Store) error {
						v, err := reg.TransitionStage(c.Context, a[0], a[1], a[2], c.Bool("archive-existing"))
						if err != nil {
							return err
						}
						fmt.Fprintf(c.App.ErrWriter, "Version %s of '%s' is now in stage %s.\n", v.Version, v.Name, v.CurrentStage)
						return nil
					})
				},
			},
			{
				Name: "alias", Usage: "set or delete an alias",
				Subcommands: []*cli.Command{
					{
						Name: "set", ArgsUsage: "NAME ALIAS VERSION", Flags: flags(),
						Action: func(c *cli.Context) error {
							a, err := args(c, 3, "NAME ALIAS VERSION")
							if err != nil {
								return err
							}
							return withRegistry(c, func(_ store.Store, reg registry.Store) error {
								return reg.SetAlias(c.Context, a[0], a[1], a[2])
							})
						},
					},
					{
						Name: "delete", ArgsUsage: "NAME ALIAS", Flags: flags(),
						Action: func(c *cli.Context) error {
							a, err := args(c, 2, "NAME ALIAS")
							if err != nil {
								return err
							}
							return withRegistry(c, func(_ store.Store, reg registry.Store) error {
								return reg.DeleteAlias(c.Context, a[0], a[1])
							})
						},
					},
				},
			},
			{
				Name: "tag", Usage: "set (or --delete) a tag on a model, or on a version with --version", ArgsUsage: "NAME KEY [VALUE]",
				Flags: flags(&cli.StringFlag{Name: "version", Usage: "tag this version instead of the model"}, &cli.BoolFlag{Name: "delete", Usage: "delete the tag"}),
				Action: func(c *cli.Context) error {
					n := 3
					if c.Bool("delete") {
						n = 2
					}
					a, err := args(c, n, "NAME KEY VALUE (or NAME KEY with --delete)")
					if err != nil {
						return err
					}
					return withRegistry(c, func(_ store.Store, reg registry.Store) error {
						v := c.String("version")
						switch {
						case c.Bool("delete") && v != "":
							return reg.DeleteModelVersionTag(c.Context, a[0], v, a[1])
						case c.Bool("delete"):
							return reg.DeleteRegisteredModelTag(c.Context, a[0], a[1])
						case v != "":
							return reg.SetModelVersionTag(c.Context, a[0], v, store.Tag{Key: a[1], Value: a[2]})
						}
						return reg.SetRegisteredModelTag(c.Context, a[0], store.Tag{Key: a[1], Value: a[2]})
					})
				},
			},
			updatePipRequirementsCommand(),
			{
				Name: "download", Usage: "download a model's files (models:/name/1, models:/name/Production, models:/name@alias, models:/<model_id>, runs:/…)", ArgsUsage: "URI",
				Flags: flags(&cli.StringFlag{Name: "dst-path", Aliases: []string{"d"}, Value: ".", Usage: "folder to download into"}),
				Action: func(c *cli.Context) error {
					a, err := args(c, 1, "one models:/ or runs:/ URI")
					if err != nil {
						return err
					}
					return withRegistry(c, func(st store.Store, reg registry.Store) error {
						loc, err := registry.Resolve(c.Context, st, reg, a[0], artifactsOf(st))
						if err != nil {
							return err
						}
						n, err := downloadURI(c, st, loc, c.String("dst-path"))
						if err != nil {
							return fmt.Errorf("download %s (%s): %w", a[0], loc, err)
						}
						fmt.Fprintf(c.App.ErrWriter, "Downloaded %d files from %s into %s\n", n, loc, c.String("dst-path"))
						return nil
					})
				},
			},
		},
	}
}

// downloadURI copies the folder (or file) at an artifact URI into dst.
func downloadURI(c *cli.Context, st store.Store, uri, dst string) (int, error) {
	_, statErr := os.Stat(dst)
	created := os.IsNotExist(statErr)
	n, err := downloadFolderOrFile(c, st, uri, dst)
	if n == 0 && created {
		os.Remove(dst) // leave no empty folder behind (only removes it if empty)
	}
	if err == nil && n == 0 {
		err = fmt.Errorf("%s holds no files", uri)
	}
	return n, err
}

// downloadFolderOrFile downloads the folder uri names, or the one file.
func downloadFolderOrFile(c *cli.Context, st store.Store, uri, dst string) (int, error) {
	repo, err := artifactRepo(st, uri)
	if err != nil {
		return 0, err
	}
	n, folderErr := artifact.Download(c.Context, repo, "", dst)
	if folderErr == nil && n > 0 {
		return n, nil
	}
	return downloadFile(c, st, uri, dst, folderErr)
}

// downloadFile copies the one file at uri into the folder dst; folderErr
// is why uri did not download as a folder, the error to give when it is
// no file either.
func downloadFile(c *cli.Context, st store.Store, uri, dst string, folderErr error) (int, error) {
	// Not a folder (a local file makes the folder listing fail): one file.
	parent, name := path.Split(strings.TrimRight(uri, "/"))
	prepo, err := artifactRepo(st, strings.TrimRight(parent, "/"))
	if err != nil {
		return 0, err
	}
	rc, _, err := prepo.Open(c.Context, name)
	if err != nil {
		if folderErr != nil && !errors.Is(folderErr, artifact.ErrNotFound) {
			return 0, folderErr
		}
		return 0, err
	}
	defer rc.Close()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return 0, err
	}
	f, err := os.Create(filepath.Join(dst, filepath.Base(name)))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if _, err := f.ReadFrom(rc); err != nil {
		return 0, err
	}
	return 1, nil
}

// artifactExists reports whether uri names a folder with files or a file;
// a location whose store cannot tell is taken on trust, with a line
// saying so.
func artifactExists(c *cli.Context, st store.Store, uri string) (bool, error) {
	ok, err := artifactHas(c.Context, st, uri)
	if errors.Is(err, errCannotTell) {
		// The store could not say (S3 out of reach, no credentials): MLflow
		// does not check such a source at all, so it is taken as given.
		fmt.Fprintf(c.App.ErrWriter, "mlrun: could not check that %s exists (%v); registering it as given\n", uri, err)
		return true, nil
	}
	return ok, err
}

// errCannotTell is artifactHas's answer when the artifact store could
// not say whether a location holds anything.
var errCannotTell = errors.New("cannot tell")

// artifactHas reports whether uri holds a file or a folder with files
// (registry.Exists), or errCannotTell.
func artifactHas(ctx context.Context, st store.Store, uri string) (bool, error) {
	repo, err := artifactRepo(st, uri)
	if errors.Is(err, artifact.ErrUnsupported) {
		return false, fmt.Errorf("%w: %v", errCannotTell, err)
	}
	if err != nil {
		return false, err
	}
	files, listErr := repo.List(ctx, "")
	if listErr == nil && len(files) > 0 {
		return true, nil
	}
	parent, name := path.Split(strings.TrimRight(uri, "/"))
	prepo, err := artifactRepo(st, strings.TrimRight(parent, "/"))
	if err != nil {
		return false, nil
	}
	rc, _, err := prepo.Open(ctx, name)
	switch {
	case err == nil:
		rc.Close()
		return true, nil
	case listErr == nil && (errors.Is(err, artifact.ErrNotFound) || errors.Is(err, artifact.ErrInvalidPath)):
		return false, nil
	}
	return false, fmt.Errorf("%w: %v", errCannotTell, errors.Join(listErr, err))
}

// artifactsOf is registry.Exists over st's artifact stores.
func artifactsOf(st store.Store) registry.Exists {
	return func(ctx context.Context, uri string) (bool, error) { return artifactHas(ctx, st, uri) }
}
