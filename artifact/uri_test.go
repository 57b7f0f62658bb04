package artifact_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/artifact/local"
)

func TestParseURI(t *testing.T) {
	cwd, _ := os.Getwd()
	for uri, want := range map[string]string{
		"/data/mlruns/1/abc/artifacts":      "local /data/mlruns/1/abc/artifacts",
		"file:///data/mlruns/1":             "local /data/mlruns/1",
		"file://localhost/data/x":           "local /data/x",
		"mlruns/1":                          "local " + filepath.Join(cwd, "mlruns/1"),
		"mlflow-artifacts:/1/abc/artifacts": "proxy 1/abc/artifacts",
		"mlflow-artifacts:/":                "proxy ",
		"http://h:5000/api/2.0/mlflow-artifacts/artifacts/1/abc": "remote http://h:5000 1/abc",
		"s3://bucket/a/b": "s3 bucket a/b",
		// The curl sequence of the issue and MLflow's CVEs.
		"file:///etc#":                  ErrKind(artifact.ErrInvalidPath),
		"http://host#/abc/etc/":         ErrKind(artifact.ErrInvalidPath),
		"http://host/;..%2F..%2Fetc":    ErrKind(artifact.ErrInvalidPath),
		"/data/x?a=1":                   ErrKind(artifact.ErrInvalidPath),
		"/data/../etc":                  ErrKind(artifact.ErrInvalidPath),
		"file:///data/%2e%2e/etc":       ErrKind(artifact.ErrInvalidPath),
		"file:///data/%252e%252e/etc":   ErrKind(artifact.ErrInvalidPath),
		"mlflow-artifacts:/../x":        ErrKind(artifact.ErrInvalidPath),
		"runs:/abc/model":               ErrKind(artifact.ErrInvalidPath),
		"file://otherhost/etc":          ErrKind(artifact.ErrInvalidPath),
		"":                              ErrKind(artifact.ErrInvalidPath),
		"/a\x00b":                       ErrKind(artifact.ErrInvalidPath),
		"gs://bucket/x":                 ErrKind(artifact.ErrUnsupported),
		"ftp://h/x":                     ErrKind(artifact.ErrUnsupported),
		"http://h:5000/some/other/path": ErrKind(artifact.ErrUnsupported),
		"/" + strings.Repeat("a", 3000): ErrKind(artifact.ErrInvalidPath),
	} {
		loc, err := artifact.ParseURI(uri)
		var got string
		if err != nil {
			got = "error"
			for _, k := range []error{artifact.ErrInvalidPath, artifact.ErrUnsupported} {
				if errors.Is(err, k) {
					got = ErrKind(k)
				}
			}
		} else {
			got = map[artifact.Kind]string{artifact.Local: "local", artifact.Proxy: "proxy", artifact.RemoteProxy: "remote", artifact.S3: "s3"}[loc.Kind]
			if loc.Base != "" {
				got += " " + loc.Base
			}
			got += " " + loc.Path
		}
		if got != want {
			t.Errorf("ParseURI(%q) = %s (%v), want %s", uri, got, err, want)
		}
	}
}

func ErrKind(err error) string { return "error: " + err.Error() }

func TestWithin(t *testing.T) {
	roots := []string{"/srv/art", "/data/mlruns/"}
	for dir, want := range map[string]string{
		"/srv/art":                   "/srv/art|",
		"/srv/art/1/abc":             "/srv/art|1/abc",
		"/data/mlruns/0/r/artifacts": "/data/mlruns|0/r/artifacts",
		"/srv/artifacts":             "no",
		"/srv":                       "no",
		"/etc":                       "no",
		"/srv/art/../../etc":         "no",
	} {
		root, rel, ok := artifact.Within(roots, dir)
		got := "no"
		if ok {
			got = root + "|" + rel
		}
		if got != want {
			t.Errorf("Within(%s) = %s, want %s", dir, got, want)
		}
	}
}

// TestResolverRoots checks the rule a server applies: a local URI is
// served only under a root, through a repository opened at that root, so a
// symlink inside the root that leads out of it is refused too.
func TestResolverRoots(t *testing.T) {
	dir := t.TempDir()
	root, outside := filepath.Join(dir, "root"), filepath.Join(dir, "outside")
	for _, d := range []string{filepath.Join(root, "1", "r", "artifacts"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o644)
	os.WriteFile(filepath.Join(root, "1", "r", "artifacts", "ok.txt"), []byte("ok"), 0o644)
	if err := os.Symlink(outside, filepath.Join(root, "1", "link")); err != nil {
		t.Fatal(err)
	}
	r := &artifact.Resolver{Roots: []string{root}, Local: func(d string) artifact.Repository { return local.New(d) }}
	ctx := context.Background()

	repo, err := r.Resolve("file://" + filepath.Join(root, "1", "r", "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	rc, _, err := repo.Open(ctx, "ok.txt")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "ok" {
		t.Fatalf("read %q", b)
	}
	files, err := repo.List(ctx, "")
	if err != nil || len(files) != 1 || files[0].Path != "ok.txt" {
		t.Fatalf("list: %v %v", files, err)
	}

	if _, err := r.Resolve(outside); !errors.Is(err, artifact.ErrForbidden) {
		t.Fatalf("a folder outside the roots: %v, want ErrForbidden", err)
	}
	if _, err := r.Resolve("mlflow-artifacts:/1"); !errors.Is(err, artifact.ErrUnsupported) {
		t.Fatalf("a proxy URI without a proxy: %v, want ErrUnsupported", err)
	}
	// Through a symlink inside the root: lexically inside, really outside.
	repo, err = r.Resolve(filepath.Join(root, "1", "link"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := repo.Open(ctx, "secret"); !errors.Is(err, artifact.ErrInvalidPath) {
		t.Fatalf("read through a symlink out of the root: %v, want ErrInvalidPath", err)
	}
	if err := repo.Put(ctx, "new", strings.NewReader("x")); !errors.Is(err, artifact.ErrInvalidPath) {
		t.Fatalf("write through a symlink out of the root: %v, want ErrInvalidPath", err)
	}
	if _, err := os.Stat(filepath.Join(outside, "new")); !os.IsNotExist(err) {
		t.Fatalf("a file was written outside the root: %v", err)
	}
	// Open resolvers (the CLI) take any folder.
	open := &artifact.Resolver{Open: true, Local: func(d string) artifact.Repository { return local.New(d) }}
	if _, err := open.Resolve(outside); err != nil {
		t.Fatal(err)
	}
}

func TestCleanPathMLflowRules(t *testing.T) {
	for _, p := range []string{"file:///etc", "FILE:/etc", "a#b", "a%23b", "a%2523b", "../x", "/abs", "a\\b", "a%00b", "%2e%2e/x"} {
		if _, err := artifact.CleanPath(p); !errors.Is(err, artifact.ErrInvalidPath) {
			t.Errorf("CleanPath(%q) = %v, want ErrInvalidPath", p, err)
		}
	}
	for p, want := range map[string]string{"": "", "a/b": "a/b", "a/./b/": "a/b", "notes v1.txt": "notes v1.txt", "profile:x": "profile:x"} {
		if got, err := artifact.CleanPath(p); err != nil || got != want {
			t.Errorf("CleanPath(%q) = %q %v, want %q", p, got, err, want)
		}
	}
}

// TestResolverS3Roots: a server resolves an s3:// URI only inside its S3
// roots (same bucket, at or below the root's prefix: "team" does not
// cover "teamwork"); an open resolver (the CLI) takes any bucket.
func TestResolverS3Roots(t *testing.T) {
	var got []string
	r := &artifact.Resolver{S3Roots: []string{"s3://art/team", "s3://whole"}, S3: func(bucket, prefix string) (artifact.Repository, error) {
		got = append(got, bucket+"|"+prefix)
		return nil, nil
	}}
	for uri, ok := range map[string]bool{
		"s3://art/team": true, "s3://art/team/1/r/artifacts": true, "s3://whole/any/thing": true,
		"s3://art/teamwork/1": false, "s3://art": false, "s3://other/team": false, "s3://art/other": false,
	} {
		_, err := r.Resolve(uri)
		if ok && err != nil || !ok && !errors.Is(err, artifact.ErrForbidden) {
			t.Errorf("%s: %v (allowed: %v)", uri, err, ok)
		}
	}
	if strings.Join(got, ",") == "" {
		t.Fatal("no S3 repository was opened for the allowed URIs")
	}
	open := &artifact.Resolver{Open: true, S3: r.S3}
	if _, err := open.Resolve("s3://anywhere/x"); err != nil {
		t.Fatalf("open resolver: %v", err)
	}
}
