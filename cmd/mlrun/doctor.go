package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/mlrun/mlrun/project"
)

// doctorCommand is `mlflow doctor`: what a bug report needs to say about
// this machine and its configuration. Passwords in URIs are never shown;
// --mask-envs hides every MLFLOW_ variable's value.
func doctorCommand() *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "print what a bug report needs: versions, the tracking and registry URIs, the database's revision, MLflow's environment variables",
		Flags: []cli.Flag{trackingFlag, &cli.BoolFlag{Name: "mask-envs", Usage: "show MLFLOW_ variables' names only, not their values"}},
		Action: func(c *cli.Context) error {
			w := c.App.Writer
			uri := c.String("tracking-uri")
			if uri == "" {
				uri = DefaultTrackingURI
			}
			reg := os.Getenv("MLFLOW_REGISTRY_URI")
			if reg == "" {
				reg = uri
			}
			fmt.Fprintf(w, "System information: %s %s, %d CPUs\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
			fmt.Fprintf(w, "Go version: %s\n", runtime.Version())
			fmt.Fprintf(w, "mlrun version: %s\n", version())
			fmt.Fprintf(w, "Tracking URI: %s\n", project.Redact(uri))
			fmt.Fprintf(w, "Registry URI: %s\n", project.Redact(reg))
			if isHTTP(uri) {
				fmt.Fprintln(w, "Database: behind the tracking server")
			} else if st, err := openExistingStore(c.Context, uri); err != nil {
				fmt.Fprintf(w, "Database: %v\n", err)
			} else {
				if r, ok := st.(interface{ Revision() string }); ok {
					fmt.Fprintf(w, "Database: MLflow revision %s\n", r.Revision())
				}
				st.Close()
			}
			var names []string
			for _, kv := range os.Environ() {
				if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "MLFLOW_") || strings.HasPrefix(k, "MLRUN_") {
					names = append(names, k)
				}
			}
			slices.Sort(names)
			fmt.Fprintln(w, "MLflow environment variables:")
			if len(names) == 0 {
				fmt.Fprintln(w, "  (none)")
			}
			for _, k := range names {
				v := os.Getenv(k)
				switch {
				case c.Bool("mask-envs"):
					v = "***"
				case secretName(k):
					v = "*** (hidden: a credential)"
				default:
					v = project.Redact(v)
				}
				fmt.Fprintf(w, "  %s: %s\n", k, v)
			}
			return nil
		},
	}
}

// secretName reports whether an environment variable holds a credential.
func secretName(k string) bool {
	for _, s := range []string{"PASSWORD", "TOKEN", "SECRET", "KEY"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}
