package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/mlrun/mlrun/plugins/flavor"
)

// pyenvScript prints the Python version and the installed version of each
// package named in argv, as MLflow's _get_pinned_requirement finds it
// (package metadata, local version label stripped). It imports nothing
// but the standard library and runs no model code.
const pyenvScript = `import json, platform, sys
from importlib import metadata
v = {}
for p in sys.argv[1:]:
    try:
        v[p] = metadata.version(p).split("+")[0]
    except Exception:
        pass
print(json.dumps({"python": platform.python_version(), "installed": v}))
`

// loggingEnv is the Python environment a model is logged from: MLflow pins
// the requirements it cannot read from a file (cloudpickle, onnx,
// onnxruntime) and python_version to the process that calls log_model; the
// analogue for `mlrun models log` is the python it would run (a step's
// environment inside `mlrun run`).
type loggingEnv struct {
	Python    string            `json:"python"`
	Installed map[string]string `json:"installed"`
}

// probeLoggingEnv asks python for its version and the installed versions
// of the bare package names among reqs. It returns what it found, or an
// error saying why nothing was (no such interpreter, too old, timed out).
func probeLoggingEnv(ctx context.Context, python string, reqs []string) (*loggingEnv, error) {
	names := unpinned(reqs)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, append([]string{"-c", pyenvScript}, names...)...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok && len(ee.Stderr) > 0 {
			lines := strings.Split(strings.TrimSpace(string(ee.Stderr)), "\n")
			return nil, fmt.Errorf("%s: %s", python, lines[len(lines)-1])
		}
		return nil, fmt.Errorf("%s: %w", python, err)
	}
	var env loggingEnv
	if err := json.Unmarshal(out, &env); err != nil {
		return nil, fmt.Errorf("%s: unexpected output %q", python, strings.TrimSpace(string(out)))
	}
	return &env, nil
}

// unpinned returns the bare package names among reqs.
func unpinned(reqs []string) []string {
	var out []string
	for _, r := range reqs {
		if flavor.Unpinned(r) {
			out = append(out, r)
		}
	}
	return out
}
