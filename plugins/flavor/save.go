package flavor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// MLflowVersion is the MLflow release whose model format SaveModel writes
// (MLmodel's mlflow_version, and the mlflow pin of the environment
// files): the release mlrun's server speaks as. MLflow 2's loaders read
// the same folder.
const MLflowVersion = "3.6.0"

// DefaultPython is the python_version written when the file says none.
const DefaultPython = "3.11.2"

// SaveModel is a Save built on Inspect, for flavors whose model is one
// file: it inspects req.Path, copies it into req.DestDir as
// Model.ModelFile, and writes MLmodel (flavor and python_function blocks,
// signature), requirements.txt, conda.yaml and python_env.yaml as MLflow's
// save_model does. Requirements the file left unpinned are pinned to
// req.Installed, and a python_version the file does not state is
// req.PythonVersion, as MLflow takes both from the logging environment.
func SaveModel(ctx context.Context, f Flavor, req *SaveRequest) (*SaveResponse, error) {
	m, err := f.Inspect(ctx, &InspectRequest{Path: req.Path})
	if err != nil {
		return nil, err
	}
	m.Requirements = PinRequirements(m.Requirements, req.Installed)
	if m.PythonVersion == "" {
		m.PythonVersion = req.PythonVersion
	}
	d, err := f.Describe(ctx)
	if err != nil {
		return nil, err
	}
	if ents, err := os.ReadDir(req.DestDir); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("save: %s is not empty", req.DestDir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("save: %w", err)
	}
	if err := os.MkdirAll(req.DestDir, 0o755); err != nil {
		return nil, fmt.Errorf("save: %w", err)
	}
	if m.ModelFile == "" || strings.ContainsAny(m.ModelFile, `/\`) || m.ModelFile == ".." {
		return nil, fmt.Errorf("save: flavor %s gave a bad model file name %q", d.Name, m.ModelFile)
	}
	size, err := copyFile(req.Path, filepath.Join(req.DestDir, m.ModelFile))
	if err != nil {
		return nil, fmt.Errorf("save: copy the model: %w", err)
	}
	files, err := WriteMLmodel(req.DestDir, d.Name, m, size)
	if err != nil {
		return nil, err
	}
	return &SaveResponse{Model: m, Files: append([]string{m.ModelFile}, files...)}, nil
}

func copyFile(src, dst string) (int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// WriteMLmodel writes MLmodel and the environment files for a model whose
// data is already in dir, and returns their names.
func WriteMLmodel(dir, flavorName string, m *Model, size int64) ([]string, error) {
	py := m.PythonVersion
	if py == "" {
		py = DefaultPython
	}
	flavors := map[string]any{flavorName: m.Flavor}
	if m.LoaderModule != "" {
		pf := map[string]any{
			"loader_module":  m.LoaderModule,
			"python_version": py,
			"env":            map[string]any{"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
		}
		for k, v := range m.PyfuncExtra {
			pf[k] = v
		}
		flavors["python_function"] = pf
	}
	uuid := make([]byte, 16)
	rand.Read(uuid)
	doc := map[string]any{
		"flavors":          flavors,
		"mlflow_version":   MLflowVersion,
		"model_uuid":       hex.EncodeToString(uuid),
		"utc_time_created": time.Now().UTC().Format("2006-01-02 15:04:05.000000"),
	}
	if size > 0 {
		doc["model_size_bytes"] = size
	}
	if m.SignatureInputs != "" || m.SignatureOutputs != "" {
		sig := map[string]any{"inputs": nilIfEmpty(m.SignatureInputs), "outputs": nilIfEmpty(m.SignatureOutputs), "params": nil}
		doc["signature"] = sig
	}
	reqs := append([]string{"mlflow==" + MLflowVersion}, m.Requirements...)
	conda := map[string]any{
		"channels":     []string{"conda-forge"},
		"dependencies": []any{"python=" + py, "pip<=23.0.1", map[string]any{"pip": reqs}},
		"name":         "mlflow-env",
	}
	pyenv := struct {
		Python            string   `yaml:"python"`
		BuildDependencies []string `yaml:"build_dependencies"`
		Dependencies      []string `yaml:"dependencies"`
	}{py, []string{"pip==23.0.1", "setuptools==66.1.1", "wheel==0.38.4"}, []string{"-r requirements.txt"}}
	write := func(name string, v any) error {
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
	if err := write("MLmodel", doc); err != nil {
		return nil, fmt.Errorf("write MLmodel: %w", err)
	}
	if err := write("conda.yaml", conda); err != nil {
		return nil, fmt.Errorf("write conda.yaml: %w", err)
	}
	if err := write("python_env.yaml", pyenv); err != nil {
		return nil, fmt.Errorf("write python_env.yaml: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "requirements.txt"), []byte(strings.Join(reqs, "\n")), 0o644); err != nil {
		return nil, fmt.Errorf("write requirements.txt: %w", err)
	}
	return []string{"MLmodel", "conda.yaml", "python_env.yaml", "requirements.txt"}, nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// PinRequirements returns reqs with each bare package name (no version
// specifier, marker or URL) that installed knows written as
// name==version; the others are kept as they are.
func PinRequirements(reqs []string, installed map[string]string) []string {
	out := make([]string, len(reqs))
	for i, r := range reqs {
		out[i] = r
		if v := installed[r]; v != "" && Unpinned(r) {
			out[i] = r + "==" + v
		}
	}
	return out
}

// Unpinned says whether a requirement is a bare package name, with no
// version specifier, extras, marker or URL: one a logging environment pins.
func Unpinned(req string) bool {
	return req != "" && !strings.ContainsAny(req, "=<>!~;@ []")
}
