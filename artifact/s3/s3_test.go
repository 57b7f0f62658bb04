package s3_test

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/artifact/artifacttest"
	"github.com/mlrun/mlrun/artifact/s3"
	"github.com/mlrun/mlrun/internal/testutil"
)

// TestConformance: a prefix of a bucket on a real S3 server passes the
// repository suite; no object appears outside the prefix, whatever the
// path (the objects are the server's backend files: Dir/bucket/key).
func TestConformance(t *testing.T) {
	srv := testutil.StartS3(t)
	n := 0
	artifacttest.Run(t, func(t *testing.T) artifacttest.Subject {
		n++
		prefix := "exp/" + strings.Repeat("r", n) + "/artifacts"
		c, err := s3.FromEnv()
		if err != nil {
			t.Fatal(err)
		}
		repo, err := c.Repository(srv.Bucket, prefix)
		if err != nil {
			t.Fatal(err)
		}
		root := filepath.Join(srv.Dir, srv.Bucket, filepath.FromSlash(prefix))
		return artifacttest.Subject{Repo: repo, Outside: func(t *testing.T) []string {
			var out []string
			filepath.WalkDir(srv.Dir, func(p string, d fs.DirEntry, err error) error {
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
