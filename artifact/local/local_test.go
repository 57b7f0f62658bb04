package local_test

import (
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/mlrun/mlrun/artifact/artifacttest"
	"github.com/mlrun/mlrun/artifact/local"
)

// TestConformance: a local folder passes the repository suite; what lies
// beside the root (its parent's other files) never changes.
func TestConformance(t *testing.T) {
	artifacttest.Run(t, func(t *testing.T) artifacttest.Subject {
		parent := t.TempDir()
		root := filepath.Join(parent, "root")
		return artifacttest.Subject{Repo: local.New(root), Outside: func(t *testing.T) []string {
			var out []string
			filepath.WalkDir(parent, func(p string, d fs.DirEntry, err error) error {
				if p == root {
					return fs.SkipDir
				}
				out = append(out, p)
				return nil
			})
			return out
		}}
	})
}
