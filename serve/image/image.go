// Package image builds the Docker image of a served model (`mlrun models
// build-docker`): a statically linked mlrun and the model folder at
// /opt/ml/model (where MLflow's images keep it), serving MLflow's scoring
// protocol on port 8080 (MLflow's images' port). FROM scratch by default —
// no Python in it, for the models mlrun serves in Go; FROM a base image
// that has Python and the model's requirements for the others, whose
// worker then runs that Python. Built through the Docker Engine API, as
// the docker backend builds project images.
package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/client"
)

// ModelDir is where the image holds the model, as MLflow's do.
const ModelDir = "/opt/ml/model"

// Port is the port the image serves on, as MLflow's do.
const Port = 8080

// Options say what the image is built on.
type Options struct {
	// Base is the image to build FROM; "" is scratch (mlrun alone).
	Base string
	// Python is the interpreter in Base that serves a Python model
	// (--env-manager local); "" is python3 on the image's PATH.
	Python string
	// Runtime is mlrun's --runtime in the image ("" is auto).
	Runtime string
}

// dockerfile serves the model with mlrun as the image's entry point.
func dockerfile(o Options) string {
	from, python := "scratch", ""
	if o.Base != "" {
		from = o.Base
		py := o.Python
		if py == "" {
			py = "python3"
		}
		python = fmt.Sprintf(`, "--env-manager", "local", "--python", %q`, py)
		if o.Runtime != "" && o.Runtime != "auto" {
			python += fmt.Sprintf(`, "--runtime", %q`, o.Runtime)
		}
	}
	return "FROM " + from + `
COPY mlrun /mlrun
COPY model ` + ModelDir + `
EXPOSE 8080
ENTRYPOINT ["/mlrun", "models", "serve", "-m", "` + ModelDir + `", "-h", "0.0.0.0", "-p", "8080"` + python + `]
`
}

// ErrNotStatic is returned for an mlrun binary that needs a dynamic
// loader, which an image FROM scratch does not have.
var ErrNotStatic = errors.New("not statically linked")

// CheckStatic reports whether the executable at path runs without a
// dynamic loader (no PT_INTERP).
func CheckStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s: %w (it needs %s)", path, ErrNotStatic, interp(p))
		}
	}
	return nil
}

func interp(p *elf.Prog) string {
	b, err := io.ReadAll(p.Open())
	if err != nil {
		return "a dynamic loader"
	}
	return string(bytes.TrimRight(b, "\x00"))
}

// Build builds tag from the model folder modelDir and the static mlrun
// at binary on o's base, writing the build's output to out.
func Build(ctx context.Context, cli *client.Client, modelDir, binary, tag string, o Options, out io.Writer) error {
	if err := CheckStatic(binary); err != nil {
		return err
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeContext(pw, modelDir, binary, dockerfile(o))) }()
	resp, err := cli.ImageBuild(ctx, pr, build.ImageBuildOptions{
		Tags: []string{tag}, Remove: true, ForceRemove: true, Version: build.BuilderV1,
		Labels: map[string]string{"mlrun.served-model": "true"},
	})
	if err != nil {
		pr.Close()
		return fmt.Errorf("build image %s: %w", tag, err)
	}
	defer resp.Body.Close()
	// The build's JSON messages: its output lines, and its error.
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var msg struct {
			Stream string `json:"stream"`
			Error  string `json:"error"`
		}
		if json.Unmarshal(sc.Bytes(), &msg) != nil {
			continue
		}
		if msg.Error != "" {
			return fmt.Errorf("build image %s: %s", tag, msg.Error)
		}
		io.WriteString(out, msg.Stream)
	}
	return sc.Err()
}

// writeContext writes the build context as a tar stream (Build).
func writeContext(w io.Writer, modelDir, binary, dockerfile string) error {
	tw := tar.NewWriter(w)
	err := contextFiles(modelDir, binary, dockerfile, func(name string, mode int64, r io.Reader, size int64) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: size, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := io.Copy(tw, r)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// WriteContext writes the build context of a model's image into dir, a
// new or empty folder (mlflow models generate-dockerfile): the
// Dockerfile, mlrun and model/, from which `docker build` makes the image
// Build makes. Nothing is written outside dir.
func WriteContext(dir, modelDir, binary string, o Options) error {
	if err := CheckStatic(binary); err != nil {
		return err
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty: give a new folder", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	return contextFiles(modelDir, binary, dockerfile(o), func(name string, mode int64, r io.Reader, _ int64) error {
		if d := filepath.Dir(name); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
		f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, os.FileMode(mode))
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, r); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	})
}

// contextFiles hands add each file of the build context: the Dockerfile,
// mlrun and the model folder's regular files (symlinks are refused:
// nothing outside the folder goes into the image).
func contextFiles(modelDir, binary, dockerfile string, add func(name string, mode int64, r io.Reader, size int64) error) error {
	if err := add("Dockerfile", 0o644, bytes.NewReader([]byte(dockerfile)), int64(len(dockerfile))); err != nil {
		return err
	}
	file := func(name, path string, mode int64) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		return add(name, mode, f, st.Size())
	}
	if err := file("mlrun", binary, 0o755); err != nil {
		return err
	}
	return filepath.WalkDir(modelDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(modelDir, p)
		switch {
		case d.IsDir():
			return nil
		case !d.Type().IsRegular():
			return fmt.Errorf("%s is not a regular file: a model folder for an image holds only files", p)
		}
		return file("model/"+filepath.ToSlash(rel), p, 0o644)
	})
}
