package project

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// KV is a parameter name and value, in the order given.
type KV struct {
	Key   string
	Value string
}

// RenderOptions say how relative values resolve and how scripts run.
type RenderOptions struct {
	// CallerDir resolves relative path values given with -P (MLflow's
	// rule); "" means the working directory.
	CallerDir string
	// Python runs .py entry points ("python" in MLflow); "" means python,
	// or python3 when there is no python on PATH.
	Python string
	// Shell runs .sh entry points; "" means $SHELL, else bash.
	Shell string
}

// Rendered is an entry point ready to run.
type Rendered struct {
	EntryPoint string
	Command    string // for bash -c, in the project folder
	// Params are the values to log: declared parameters (given or
	// default) in declaration order, then the extra ones in -P order, as
	// given (unquoted; path values as given, not made absolute).
	Params []KV
}

// EntryPoint returns the named entry point: a declared one, else a .py or
// .sh script of the project, as MLflow does.
func (p *Project) EntryPoint(name string, opts RenderOptions) (*EntryPoint, error) {
	if ep, ok := p.EntryPoints[name]; ok {
		return ep, nil
	}
	var cmd string
	switch strings.ToLower(filepath.Ext(name)) {
	case ".py":
		py := opts.Python
		if py == "" {
			py = defaultPython()
		}
		cmd = py + " " + Quote(name)
	case ".sh":
		sh := opts.Shell
		if sh == "" {
			if sh = os.Getenv("SHELL"); sh == "" {
				sh = "bash"
			}
		}
		cmd = sh + " " + Quote(name)
	default:
		names := make([]string, 0, len(p.EntryPoints))
		for n := range p.EntryPoints {
			names = append(names, "'"+n+"'")
		}
		sort.Strings(names)
		return nil, invalidf("Could not find %s among entry points [%s] or interpret %s as a runnable script. Supported script file extensions: ['.py', '.sh']", name, strings.Join(names, ", "), name)
	}
	segs, _ := parseTemplate(strings.NewReplacer("{", "{{", "}", "}}").Replace(cmd))
	return &EntryPoint{Name: name, Command: cmd, segs: segs}, nil
}

func defaultPython() string {
	if _, err := execLookPath("python"); err == nil {
		return "python"
	}
	return "python3"
}

// Render checks the given parameters against the entry point and renders
// its command. Every problem is reported before anything runs.
func (p *Project) Render(ep *EntryPoint, given []KV, opts RenderOptions) (*Rendered, error) {
	userVals := map[string]string{}
	for _, kv := range given {
		if _, dup := userVals[kv.Key]; dup {
			return nil, paramErrorf("Repeated parameter: '%s'", kv.Key)
		}
		userVals[kv.Key] = kv.Value
	}
	var missing []string
	for _, prm := range ep.Params {
		if _, ok := userVals[prm.Name]; !ok && prm.Default == nil {
			missing = append(missing, "'"+prm.Name+"'")
		}
	}
	if len(missing) > 0 {
		return nil, paramErrorf("No value given for missing parameters: %s", strings.Join(missing, ", "))
	}
	caller := opts.CallerDir
	if caller == "" {
		caller, _ = os.Getwd()
	}
	out := &Rendered{EntryPoint: ep.Name}
	vals := map[string]string{}
	declared := map[string]bool{}
	for _, prm := range ep.Params {
		declared[prm.Name] = true
		v, fromUser := userVals[prm.Name]
		base := caller
		if !fromUser {
			v = *prm.Default
			base = p.Dir // mlrun: a relative default resolves against the project
		}
		out.Params = append(out.Params, KV{prm.Name, v})
		cv, err := checkValue(prm, v, base)
		if err != nil && !fromUser {
			return nil, fmt.Errorf("%w (MLproject's default for %s)", err, prm.Name)
		}
		if err != nil {
			return nil, err
		}
		vals[prm.Name] = Quote(cv)
	}
	cmd, err := render(ep.segs, vals)
	if err != nil {
		return nil, invalidf("entry point '%s': %v", ep.Name, err)
	}
	var b strings.Builder
	b.WriteString(cmd)
	for _, kv := range given {
		if declared[kv.Key] {
			continue
		}
		out.Params = append(out.Params, kv)
		fmt.Fprintf(&b, " --%s %s", kv.Key, Quote(kv.Value))
	}
	out.Command = b.String()
	return out, nil
}

// checkValue validates v against the parameter's type and returns the
// value the command gets (an absolute path for path parameters).
func checkValue(prm Parameter, v, base string) (string, error) {
	switch prm.Type {
	case TypeInt:
		if _, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil {
			return "", paramErrorf("Parameter '%s' is of type int, but got value '%s', which is not an integer", prm.Name, v)
		}
	case TypeFloat:
		if _, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
			return "", paramErrorf("Parameter '%s' is of type float, but got value '%s', which is not a number", prm.Name, v)
		}
	case TypeURI:
		u, err := url.Parse(v)
		if err != nil || u.Scheme == "" {
			return "", paramErrorf("Expected URI for parameter %s but got %s", prm.Name, v)
		}
	case TypePath:
		p := v
		if u, err := url.Parse(v); err == nil && len(u.Scheme) > 1 {
			if u.Scheme != "file" || (u.Host != "" && u.Host != "localhost") {
				return "", paramErrorf("parameter %s: downloading remote path values (%s) is not supported yet; give a local path", prm.Name, v)
			}
			p = u.Path
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(base, p)
		}
		if _, err := os.Stat(p); err != nil {
			return "", paramErrorf("Got value %s for parameter %s, but no such file or directory was found.", v, prm.Name)
		}
		return filepath.Clean(p), nil
	}
	return v, nil
}
