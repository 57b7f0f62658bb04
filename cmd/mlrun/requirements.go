package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
	yaml "go.yaml.in/yaml/v3"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/artifact/local"
	"github.com/mlrun/mlrun/internal/pipreq"
	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/store"
)

// updatePipRequirementsCommand is mlflow models update-pip-requirements:
// requirements added to (or removed from) a model's requirements.txt and
// the pip section of its conda.yaml, written back where the model is.
func updatePipRequirementsCommand() *cli.Command {
	return &cli.Command{
		Name:      "update-pip-requirements",
		Usage:     "add or remove pip requirements of a model (its requirements.txt and conda.yaml), as mlflow models update-pip-requirements",
		ArgsUsage: "add|remove REQUIREMENT...",
		Flags: []cli.Flag{trackingFlag,
			&cli.StringFlag{Name: "model-uri", Aliases: []string{"m"}, Required: true, Usage: "the model: a local folder, runs:/<run_id>/<path>, models:/<model_id>, or an artifact URI (not a registered model's models:/name/…)"},
		},
		Action: func(c *cli.Context) error {
			op := c.Args().First()
			if op != "add" && op != "remove" {
				return fmt.Errorf("update-pip-requirements: want add or remove, then the requirements (got %q)", op)
			}
			reqs, err := pipreq.ParseList(c.Args().Tail())
			if err != nil {
				return fmt.Errorf("%w: %v", store.ErrInvalidArgument, err)
			}
			if len(reqs) == 0 {
				return fmt.Errorf("update-pip-requirements %s: give the requirements, e.g. \"pandas==2.2.3\"", op)
			}
			uri := c.String("model-uri")
			if st, err := os.Stat(uri); err == nil && st.IsDir() {
				return updateRequirements(c.Context, local.New(uri), uri, op, reqs, c.App.ErrWriter)
			}
			if strings.HasPrefix(uri, "models:/") && registry.LoggedModelID(uri) == "" {
				return store.Invalidf("Failed to set requirements on %q. Model URIs with the `models:/` scheme are not supported (the registry's versions are read-only; give the model's runs:/ or models:/<model_id> URI).", uri)
			}
			return withStore(c, func(st store.Store) error {
				loc, err := registry.Resolve(c.Context, st, nil, uri, artifactsOf(st))
				if err != nil {
					return err
				}
				repo, err := artifactRepo(st, loc)
				if err != nil {
					return err
				}
				return updateRequirements(c.Context, repo, uri, op, reqs, c.App.ErrWriter)
			})
		},
	}
}

// maxRequirementsFile bounds what is read of requirements.txt and
// conda.yaml (an MLflow model's are a few hundred bytes).
const maxRequirementsFile = 16 << 20

// updateRequirements rewrites the model's requirements.txt and conda.yaml
// in repo; each file is read, changed and written whole, and a file that
// cannot be read stops the command before anything is written.
func updateRequirements(ctx context.Context, repo artifact.Repository, uri, op string, reqs []pipreq.Requirement, log io.Writer) error {
	read := func(name string) ([]byte, error) {
		rc, _, err := repo.Open(ctx, name)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, maxRequirementsFile+1))
		if err == nil && len(b) > maxRequirementsFile {
			err = fmt.Errorf("%w: larger than %d MiB: not a requirements file", store.ErrInvalidArgument, maxRequirementsFile>>20)
		}
		return b, err
	}
	change := func(old []string) []string {
		if op == "add" {
			return pipreq.Add(old, reqs)
		}
		kept, _ := pipreq.Remove(old, reqs)
		return kept
	}
	out := map[string][]byte{}
	var before, after []string
	txt, err := read("requirements.txt")
	switch {
	case err == nil:
		before = strings.Split(string(txt), "\n")
		after = change(before)
		out["requirements.txt"] = []byte(strings.Join(after, "\n"))
	case !errors.Is(err, artifact.ErrNotFound):
		return fmt.Errorf("%s: requirements.txt: %w", uri, err)
	}
	conda, err := read("conda.yaml")
	switch {
	case err == nil:
		b, pip, changed, err := rewriteCondaPip(conda, change)
		if err != nil {
			return fmt.Errorf("%s: %w", uri, err)
		}
		if txt == nil {
			before = pip
		}
		if after == nil {
			after = changed
		}
		out["conda.yaml"] = b
	case !errors.Is(err, artifact.ErrNotFound):
		return fmt.Errorf("%s: conda.yaml: %w", uri, err)
	}
	if len(out) == 0 {
		return fmt.Errorf("%w: %s has neither requirements.txt nor conda.yaml: is it an MLflow model?", store.ErrNotFound, uri)
	}
	if op == "remove" {
		_, missing := pipreq.Remove(before, reqs)
		for _, m := range missing {
			fmt.Fprintf(log, "mlrun: %q not found in requirements, ignoring\n", m)
		}
	}
	for _, name := range []string{"conda.yaml", "requirements.txt"} {
		if b, ok := out[name]; ok {
			if err := repo.Put(ctx, name, bytes.NewReader(b)); err != nil {
				return fmt.Errorf("%s: write %s: %w", uri, name, err)
			}
		}
	}
	fmt.Fprintf(log, "Updated the requirements of %s\nOld requirements:\n  %s\nUpdated requirements:\n  %s\n",
		uri, strings.Join(nonEmpty(before), "\n  "), strings.Join(after, "\n  "))
	return nil
}

// rewriteCondaPip changes the pip section of a conda environment file
// (adding one when it has none) and writes the file again as PyYAML's
// yaml.dump writes MLflow's; it returns the file and the section before
// and after.
func rewriteCondaPip(conda []byte, change func([]string) []string) (out []byte, before, after []string, err error) {
	var env map[string]any
	if err := yaml.Unmarshal(conda, &env); err != nil || env == nil {
		return nil, nil, nil, fmt.Errorf("%w: conda.yaml is not a conda environment: %v", store.ErrInvalidArgument, err)
	}
	deps, _ := env["dependencies"].([]any)
	at := -1
	for i, d := range deps {
		if m, ok := d.(map[string]any); ok && m["pip"] != nil {
			list, _ := m["pip"].([]any)
			for _, p := range list {
				before = append(before, fmt.Sprint(p))
			}
			at = i
			break
		}
	}
	after = change(before)
	section := map[string]any{"pip": after}
	if at < 0 {
		deps = append(deps, section)
	} else {
		deps[at] = section
	}
	env["dependencies"] = deps
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	enc.CompactSeqIndent() // "- item" under its key, as PyYAML writes MLflow's files
	if err := enc.Encode(env); err != nil {
		return nil, nil, nil, err
	}
	return b.Bytes(), before, after, nil
}

// overriddenEnvSpec writes, into a new folder, the environment file of
// the model in dir (python_env.yaml for virtualenv, conda.yaml for
// conda) with the override requirements in place of the model's own of
// the same packages (models predict --pip-requirements-override): the
// virtualenv's requirements gathered into one requirements.txt (its -r
// files and inline ones, other .txt files such as constraints copied
// beside it), conda's in its pip section. The spec differs from the
// model's, so its environment is built and cached apart. cleanup removes
// the folder.
func overriddenEnvSpec(dir, manager string, overrides []pipreq.Requirement) (spec string, cleanup func(), err error) {
	tmp, err := os.MkdirTemp("", "mlrun-env-")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(tmp) }
	fail := func(err error) (string, func(), error) {
		cleanup()
		return "", nil, err
	}
	add := func(old []string) []string { return pipreq.Add(old, overrides) }
	if manager == "conda" {
		b, err := os.ReadFile(filepath.Join(dir, "conda.yaml"))
		if err != nil {
			return fail(fmt.Errorf("the model has no conda.yaml for --env-manager conda: %w", err))
		}
		out, _, _, err := rewriteCondaPip(b, add)
		if err != nil {
			return fail(err)
		}
		spec = filepath.Join(tmp, "conda.yaml")
		if err := os.WriteFile(spec, out, 0o644); err != nil {
			return fail(err)
		}
		return spec, cleanup, nil
	}
	b, err := os.ReadFile(filepath.Join(dir, "python_env.yaml"))
	if err != nil {
		return fail(fmt.Errorf("the model has no python_env.yaml for --env-manager virtualenv: %w", err))
	}
	var env map[string]any
	if err := yaml.Unmarshal(b, &env); err != nil || env == nil {
		return fail(fmt.Errorf("%w: python_env.yaml: %v", store.ErrInvalidArgument, err))
	}
	var reqs []string
	deps, _ := env["dependencies"].([]any)
	for _, d := range deps {
		line := strings.TrimSpace(fmt.Sprint(d))
		if f, ok := strings.CutPrefix(line, "-r "); ok {
			txt, err := os.ReadFile(filepath.Join(dir, filepath.Clean("/"+strings.TrimSpace(f))))
			if err != nil {
				return fail(fmt.Errorf("python_env.yaml's %s: %w", line, err))
			}
			reqs = append(reqs, strings.Split(string(txt), "\n")...)
			continue
		}
		reqs = append(reqs, line)
	}
	if err := os.WriteFile(filepath.Join(tmp, "requirements.txt"), []byte(strings.Join(add(reqs), "\n")), 0o644); err != nil {
		return fail(err)
	}
	others, _ := filepath.Glob(filepath.Join(dir, "*.txt"))
	for _, o := range others {
		if filepath.Base(o) != "requirements.txt" {
			if b, err := os.ReadFile(o); err == nil {
				os.WriteFile(filepath.Join(tmp, filepath.Base(o)), b, 0o644)
			}
		}
	}
	env["dependencies"] = []any{"-r requirements.txt"}
	out, err := yaml.Marshal(env)
	if err != nil {
		return fail(err)
	}
	spec = filepath.Join(tmp, "python_env.yaml")
	if err := os.WriteFile(spec, out, 0o644); err != nil {
		return fail(err)
	}
	return spec, cleanup, nil
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}
