package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/registry"
	"github.com/mlrun/mlrun/store"
)

// uploadFile streams one local file into repo at dst.
func uploadFile(c *cli.Context, repo artifact.Repository, src, dst string) error {
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("log artifact: %w", err)
	}
	defer f.Close()
	if err := repo.Put(c.Context, dst, f); err != nil {
		return fmt.Errorf("log artifact %s: %w", src, err)
	}
	return nil
}

// artifactsCommand is `mlflow artifacts`: log a file or a folder's files
// into a run, list a run's artifacts, download them.
func artifactsCommand() *cli.Command {
	runFlag := &cli.StringFlag{Name: "run-id", Aliases: []string{"r"}, Usage: "the run"}
	pathFlag := &cli.StringFlag{Name: "artifact-path", Aliases: []string{"a"}, Usage: "a folder (or file) inside the run's artifacts"}
	runRepo := func(c *cli.Context, fn func(artifact.Repository) error) error {
		id := c.String("run-id")
		if id == "" {
			return errors.New("--run-id is required")
		}
		return withRunArtifacts(c, id, fn)
	}
	return &cli.Command{
		Name:  "artifacts",
		Usage: "upload, list and download a run's artifacts, as mlflow artifacts",
		Subcommands: []*cli.Command{
			{
				Name: "log-artifact", Usage: "upload a local file into the run's artifacts (inside --artifact-path)",
				Flags: []cli.Flag{trackingFlag, runFlag, pathFlag, &cli.StringFlag{Name: "local-file", Aliases: []string{"l"}, Required: true, Usage: "the file"}},
				Action: func(c *cli.Context) error {
					src := c.String("local-file")
					if info, err := os.Stat(src); err != nil {
						return fmt.Errorf("log-artifact: %w", err)
					} else if info.IsDir() {
						return fmt.Errorf("log-artifact: %s is a folder: use log-artifacts", src)
					}
					return runRepo(c, func(repo artifact.Repository) error {
						return uploadFile(c, repo, src, path.Join(c.String("artifact-path"), filepath.Base(src)))
					})
				},
			},
			{
				Name: "log-artifacts", Usage: "upload the files of a local folder into the run's artifacts (inside --artifact-path)",
				Flags: []cli.Flag{trackingFlag, runFlag, pathFlag, &cli.StringFlag{Name: "local-dir", Aliases: []string{"l"}, Required: true, Usage: "the folder"}},
				Action: func(c *cli.Context) error {
					src := c.String("local-dir")
					if info, err := os.Stat(src); err != nil {
						return fmt.Errorf("log-artifacts: %w", err)
					} else if !info.IsDir() {
						return fmt.Errorf("log-artifacts: %s is not a folder: use log-artifact", src)
					}
					return runRepo(c, func(repo artifact.Repository) error {
						return uploadTree(c, repo, src, c.String("artifact-path"))
					})
				},
			},
			{
				Name: "list", Usage: "list the artifacts directly inside the run's root (or --artifact-path), as JSON",
				Flags: []cli.Flag{trackingFlag, runFlag, pathFlag},
				Action: func(c *cli.Context) error {
					return runRepo(c, func(repo artifact.Repository) error {
						files, err := repo.List(c.Context, c.String("artifact-path"))
						if err != nil {
							return err
						}
						fmt.Fprintln(c.App.Writer, fileInfosJSON(files))
						return nil
					})
				},
			},
			{
				Name: "download", Usage: "download a run's artifacts (or --artifact-path of them, or --artifact-uri) and print where they are",
				Flags: []cli.Flag{trackingFlag, runFlag, pathFlag,
					&cli.StringFlag{Name: "artifact-uri", Aliases: []string{"u"}, Usage: "an artifact URI (runs:/, models:/, mlflow-artifacts:/, s3://, a path), instead of --run-id"},
					&cli.StringFlag{Name: "dst-path", Aliases: []string{"d", "dest-path"}, Usage: "where to put them (default: a new temporary folder)"}},
				Action: func(c *cli.Context) error {
					id, uri := c.String("run-id"), c.String("artifact-uri")
					if (id == "") == (uri == "") {
						return errors.New("download: give --run-id (with --artifact-path) or --artifact-uri")
					}
					dst := c.String("dst-path")
					if dst == "" {
						tmp, err := os.MkdirTemp("", "mlrun-artifacts-")
						if err != nil {
							return err
						}
						dst = tmp
					}
					return withStore(c, func(st store.Store) error {
						// Where MLflow puts them: the run's artifacts in dst,
						// --artifact-path P at dst/P, --artifact-uri's last
						// name inside dst.
						// A run's path is a runs:/ URI, so that MLflow 3's
						// logged models are found by their names too.
						target := dst
						if uri == "" {
							p, err := artifact.CleanPath(c.String("artifact-path"))
							if err != nil {
								return err
							}
							uri = "runs:/" + id + "/" + p
							if p != "" {
								target = filepath.Join(dst, filepath.FromSlash(p))
							}
						}
						reg, _ := st.(registry.Store)
						loc, err := registry.Resolve(c.Context, st, reg, uri, artifactsOf(st))
						if err != nil {
							return err
						}
						if c.String("artifact-uri") != "" {
							// The name asked for, not a logged model's folder.
							name := loc
							if _, rel, err := registry.ParseRunsURI(uri); err == nil && rel != "" {
								name = rel
							}
							target = filepath.Join(dst, path.Base(strings.TrimRight(name, "/")))
						}
						if err := downloadTo(c, st, loc, target); err != nil {
							return fmt.Errorf("download %s: %w", loc, err)
						}
						abs, err := filepath.Abs(target)
						if err != nil {
							return err
						}
						fmt.Fprintln(c.App.Writer, abs)
						return nil
					})
				},
			},
		},
	}
}

// downloadTo puts the folder at loc into target, or the one file at loc
// at target.
func downloadTo(c *cli.Context, st store.Store, loc, target string) error {
	repo, err := artifactRepo(st, loc)
	if err != nil {
		return err
	}
	_, statErr := os.Stat(target)
	n, folderErr := artifact.Download(c.Context, repo, "", target)
	if folderErr == nil && n > 0 {
		return nil
	}
	if os.IsNotExist(statErr) {
		os.Remove(target) // an empty folder made for nothing
	}
	_, err = downloadFile(c, st, loc, filepath.Dir(target), folderErr)
	return err
}

// uploadTree uploads the files below the local folder src into repo below
// dst (the folder's contents, as mlflow artifacts log-artifacts does).
func uploadTree(c *cli.Context, repo artifact.Repository, src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		return uploadFile(c, repo, p, path.Join(dst, filepath.ToSlash(rel)))
	})
}

// fileInfosJSON is MLflow's listing: a JSON list of file infos (path,
// is_dir, and file_size for files), each as MLflow prints a message.
func fileInfosJSON(files []artifact.FileInfo) string {
	type fileInfo struct {
		Path     string `json:"path"`
		IsDir    bool   `json:"is_dir"`
		FileSize *int64 `json:"file_size,omitempty"`
	}
	parts := make([]string, 0, len(files))
	for _, f := range files {
		fi := fileInfo{Path: f.Path, IsDir: f.IsDir}
		if !f.IsDir {
			fi.FileSize = &f.Size
		}
		b, _ := json.MarshalIndent(fi, "", "  ")
		parts = append(parts, string(b))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// withRunArtifacts opens the store and runs fn on the repository of the
// run's artifacts.
func withRunArtifacts(c *cli.Context, runID string, fn func(artifact.Repository) error) error {
	return withStore(c, func(st store.Store) error {
		r, err := st.GetRun(c.Context, runID)
		if err != nil {
			return err
		}
		repo, err := artifactRepo(st, r.Info.ArtifactURI)
		if err != nil {
			return err
		}
		return fn(repo)
	})
}
