package project

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// ErrInvalid is the kind of every error about a project's content or the
// parameters given to it: a broken MLproject, an unknown entry point, a
// missing or mistyped parameter.
var ErrInvalid = errors.New("invalid project")

// ErrInvalidParameter is the kind of an error about the values given to
// an entry point's parameters (-P): one missing, repeated, of the wrong
// type, or a path that does not exist. It is also ErrInvalid, and its
// message names the parameter.
var ErrInvalidParameter error = &subKind{"invalid parameter", ErrInvalid}

// subKind is an error kind that is also a broader kind.
type subKind struct {
	msg    string
	parent error
}

func (k *subKind) Error() string { return k.msg }
func (k *subKind) Unwrap() error { return k.parent }

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

func paramErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidParameter, fmt.Sprintf(format, args...))
}

// Parameter types MLflow knows; any other type behaves as "string".
const (
	TypeString = "string"
	TypeFloat  = "float"
	TypeInt    = "int"
	TypePath   = "path"
	TypeURI    = "uri"
)

// Parameter is a declared entry point parameter.
type Parameter struct {
	Name    string
	Type    string
	Default *string // nil: required; else the Python str() of the YAML default
}

// EntryPoint is a declared or script entry point.
type EntryPoint struct {
	Name    string
	Params  []Parameter // declaration order
	Command string
	segs    []segment
}

// EnvVar is a docker_env.environment entry: a name copied from the host,
// or a [name, value] pair.
type EnvVar struct {
	Name     string
	Value    string
	FromHost bool
}

// DockerEnv is the docker_env block.
type DockerEnv struct {
	Image       string
	Volumes     []string
	Environment []EnvVar
}

// Project is a loaded MLflow project.
type Project struct {
	Dir         string // absolute
	File        string // the MLproject file's path, "" if none
	Name        string
	EntryPoints map[string]*EntryPoint
	PythonEnv   string // path relative to Dir, or ""
	CondaEnv    string
	Docker      *DockerEnv
}

// EnvType names the project's environment: "docker", "python", "conda",
// or "" (a bare python environment, no spec file).
func (p *Project) EnvType() string {
	switch {
	case p.Docker != nil:
		return "docker"
	case p.PythonEnv != "":
		return "python"
	case p.CondaEnv != "":
		return "conda"
	}
	return ""
}

// findMLproject returns the MLproject file of dir (any case), choosing the
// first by name when several differ only in case.
func findMLproject(dir string) (string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("read project folder: %w", err)
	}
	var names []string
	for _, e := range ents {
		if !e.IsDir() && strings.ToLower(e.Name()) == "mlproject" {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return "", nil
	}
	sort.Strings(names)
	return filepath.Join(dir, names[0]), nil
}

// Load reads the project in dir: its MLproject file if there is one, and
// the environment files MLflow looks for.
func Load(dir string) (*Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("project folder %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, invalidf("project %s is not a folder", dir)
	}
	p := &Project{Dir: abs, EntryPoints: map[string]*EntryPoint{}}
	if p.File, err = findMLproject(abs); err != nil {
		return nil, err
	}
	if p.File != "" {
		data, err := os.ReadFile(p.File)
		if err != nil {
			return nil, fmt.Errorf("read MLproject: %w", err)
		}
		if err := p.parse(data); err != nil {
			return nil, err
		}
	}
	if p.EnvType() == "" {
		// MLflow's default detection.
		if exists(filepath.Join(abs, "python_env.yaml")) {
			p.PythonEnv = "python_env.yaml"
		} else if exists(filepath.Join(abs, "conda.yaml")) {
			p.CondaEnv = "conda.yaml"
		}
	}
	return p, nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// parse reads an MLproject document. Messages name the line of the
// problem.
func (p *Project) parse(data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return invalidf("MLproject is not valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 {
		return nil // an empty file is {}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return invalidf("MLproject line %d: the top level must be a mapping of keys (name, entry_points, …)", root.Line)
	}
	var envKeys []string
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "name":
			s, err := scalar(v, "name")
			if err != nil {
				return err
			}
			p.Name = s
		case "entry_points":
			if err := p.parseEntryPoints(v); err != nil {
				return err
			}
		case "python_env", "conda_env":
			envKeys = append(envKeys, k.Value)
			s, err := scalar(v, k.Value)
			if err != nil {
				return err
			}
			if s == "" || filepath.IsAbs(s) || strings.HasPrefix(filepath.Clean(s), "..") {
				return invalidf("MLproject line %d: %s must be a file path inside the project", v.Line, k.Value)
			}
			what := "python_env"
			if k.Value == "conda_env" {
				what = "conda environment"
				p.CondaEnv = s
			} else {
				p.PythonEnv = s
			}
			if !exists(filepath.Join(p.Dir, s)) {
				return invalidf("Project specified %s file %s, but no such file was found.", what, filepath.Join(p.Dir, s))
			}
		case "docker_env":
			envKeys = append(envKeys, k.Value)
			d, err := parseDocker(v)
			if err != nil {
				return err
			}
			p.Docker = d
		}
	}
	if len(envKeys) > 1 {
		return invalidf("Project cannot contain multiple environment fields: %v", envKeys)
	}
	return nil
}

func scalar(n *yaml.Node, what string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", invalidf("MLproject line %d: %s must be a single value", n.Line, what)
	}
	s, _ := pyScalar(n)
	return s, nil
}

func (p *Project) parseEntryPoints(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.Value == "" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return invalidf("MLproject line %d: entry_points must be a mapping of entry point names", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, body := n.Content[i].Value, n.Content[i+1]
		ep := &EntryPoint{Name: name}
		if body.Kind != yaml.MappingNode {
			return invalidf("MLproject line %d: entry point '%s' must be a mapping with a command", body.Line, name)
		}
		for j := 0; j+1 < len(body.Content); j += 2 {
			k, v := body.Content[j], body.Content[j+1]
			switch k.Value {
			case "command":
				if v.Kind != yaml.ScalarNode {
					return invalidf("MLproject line %d: the command of entry point '%s' must be a string", v.Line, name)
				}
				ep.Command = v.Value
			case "parameters":
				params, err := parseParams(v, name)
				if err != nil {
					return err
				}
				ep.Params = params
			}
		}
		if strings.TrimSpace(ep.Command) == "" {
			return invalidf("MLproject line %d: entry point '%s' has no command", body.Line, name)
		}
		segs, err := parseTemplate(ep.Command)
		if err != nil {
			return invalidf("MLproject entry point '%s': %v", name, err)
		}
		declared := map[string]bool{}
		for _, prm := range ep.Params {
			declared[prm.Name] = true
		}
		for _, s := range segs {
			if s.field && !declared[s.text] {
				return invalidf("MLproject entry point '%s': the command uses {%s}, which is not a declared parameter", name, s.text)
			}
		}
		ep.segs = segs
		p.EntryPoints[name] = ep
	}
	return nil
}

func parseParams(n *yaml.Node, ep string) ([]Parameter, error) {
	if n.Kind == yaml.ScalarNode && n.Value == "" {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, invalidf("MLproject line %d: the parameters of entry point '%s' must be a mapping", n.Line, ep)
	}
	var out []Parameter
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, v := n.Content[i].Value, n.Content[i+1]
		prm := Parameter{Name: name, Type: TypeString}
		switch v.Kind {
		case yaml.ScalarNode:
			if v.Value != "" {
				prm.Type = v.Value
			}
		case yaml.MappingNode:
			for j := 0; j+1 < len(v.Content); j += 2 {
				k, val := v.Content[j], v.Content[j+1]
				switch k.Value {
				case "type":
					prm.Type = val.Value
				case "default":
					if val.Kind != yaml.ScalarNode {
						return nil, invalidf("MLproject line %d: the default of parameter '%s' must be a single value", val.Line, name)
					}
					if s, ok := pyScalar(val); ok {
						prm.Default = &s
					}
				}
			}
		default:
			return nil, invalidf("MLproject line %d: parameter '%s' must be a type or a mapping with type and default", v.Line, name)
		}
		out = append(out, prm)
	}
	return out, nil
}

const dockerPrefix = "Project configuration (MLproject file) was invalid: "

func parseDocker(n *yaml.Node) (*DockerEnv, error) {
	if n.Kind != yaml.MappingNode {
		return nil, invalidf(dockerPrefix + "Docker environment specified but no image attribute found.")
	}
	d := &DockerEnv{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "image":
			d.Image = v.Value
		case "volumes":
			if v.Kind != yaml.SequenceNode {
				return nil, invalidf(dockerPrefix + "Docker volumes must be a list of strings, e.g.: '[\"/path1/:/path1/\", \"/path2/:/path2/\"]'")
			}
			for _, e := range v.Content {
				if e.Kind != yaml.ScalarNode {
					return nil, invalidf(dockerPrefix + "Docker volumes must be a list of strings, e.g.: '[\"/path1/:/path1/\", \"/path2/:/path2/\"]'")
				}
				d.Volumes = append(d.Volumes, e.Value)
			}
		case "environment":
			bad := invalidf(dockerPrefix + "environment must be a list containing either strings (to copy environment variables from host system) or lists of string pairs (to define new environment variables).")
			if v.Kind != yaml.SequenceNode {
				return nil, bad
			}
			for _, e := range v.Content {
				switch {
				case e.Kind == yaml.ScalarNode:
					d.Environment = append(d.Environment, EnvVar{Name: e.Value, FromHost: true})
				case e.Kind == yaml.SequenceNode && len(e.Content) >= 2 && e.Content[0].Kind == yaml.ScalarNode && e.Content[1].Kind == yaml.ScalarNode:
					val, _ := pyScalar(e.Content[1])
					d.Environment = append(d.Environment, EnvVar{Name: e.Content[0].Value, Value: val})
				default:
					return nil, bad
				}
			}
		}
	}
	if d.Image == "" {
		return nil, invalidf(dockerPrefix + "Docker environment specified but no image attribute found.")
	}
	return d, nil
}
