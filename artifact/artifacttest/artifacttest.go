// Package artifacttest is the conformance suite of artifact.Repository:
// every store of artifact files (local folders, S3) passes the same
// tests, escape attempts included.
package artifacttest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/artifact"
)

// Subject is a repository under test and a view of what lies beside it.
type Subject struct {
	Repo artifact.Repository
	// Outside lists what exists beside the repository's root (files or
	// objects a write escaping the root would have made); the suite
	// checks it does not change.
	Outside func(t *testing.T) []string
}

// Escapes are paths that must never reach outside a repository's root.
var Escapes = []string{
	"../x", "a/../../x", "/etc/passwd", "..", "a/..%2F..%2Fx", "%2e%2e/x", "%252e%252e/x",
	"a\\..\\x", "x\x00y", "file:///etc/passwd", "a#b", "C:/x",
}

// Run runs the suite on repositories made by newRepo (a fresh, empty one
// for each call).
func Run(t *testing.T, newRepo func(t *testing.T) Subject) {
	ctx := context.Background()
	put := func(t *testing.T, r artifact.Repository, p, content string) {
		t.Helper()
		if err := r.Put(ctx, p, strings.NewReader(content)); err != nil {
			t.Fatalf("put %s: %v", p, err)
		}
	}
	read := func(t *testing.T, r artifact.Repository, p string) string {
		t.Helper()
		rc, n, err := r.Open(ctx, p)
		if err != nil {
			t.Fatalf("open %s: %v", p, err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil || int64(len(b)) != n {
			t.Fatalf("read %s: %d bytes of %d: %v", p, len(b), n, err)
		}
		return string(b)
	}
	list := func(t *testing.T, r artifact.Repository, dir string) string {
		t.Helper()
		fs, err := r.List(ctx, dir)
		if err != nil {
			t.Fatalf("list %q: %v", dir, err)
		}
		var parts []string
		for _, f := range fs {
			if f.IsDir {
				parts = append(parts, f.Path+"/")
			} else {
				parts = append(parts, f.Path+":"+strconv.FormatInt(f.Size, 10))
			}
		}
		return strings.Join(parts, " ")
	}

	t.Run("RoundTrip", func(t *testing.T) {
		s := newRepo(t)
		put(t, s.Repo, "model/MLmodel", "flavors: {}\n")
		put(t, s.Repo, "model/data/weights.bin", "0123456789")
		put(t, s.Repo, "notes.txt", "hello")
		put(t, s.Repo, "b.txt", "")
		if got := read(t, s.Repo, "model/data/weights.bin"); got != "0123456789" {
			t.Fatalf("read back %q", got)
		}
		put(t, s.Repo, "notes.txt", "hello again") // overwrite
		if got := read(t, s.Repo, "notes.txt"); got != "hello again" {
			t.Fatalf("overwritten file reads %q", got)
		}
		if got, want := list(t, s.Repo, ""), "b.txt:0 model/ notes.txt:11"; got != want {
			t.Fatalf("list root: %q, want %q", got, want)
		}
		if got, want := list(t, s.Repo, "model"), "model/MLmodel:12 model/data/"; got != want {
			t.Fatalf("list model: %q, want %q", got, want)
		}
		if got := list(t, s.Repo, "missing"); got != "" {
			t.Fatalf("a missing folder lists %q", got)
		}
		if got := list(t, s.Repo, "notes.txt"); got != "" {
			t.Fatalf("a file lists %q as a folder", got)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		s := newRepo(t)
		put(t, s.Repo, "a/b.txt", "x")
		if _, _, err := s.Repo.Open(ctx, "a/c.txt"); !errors.Is(err, artifact.ErrNotFound) {
			t.Fatalf("open a missing file: %v, want ErrNotFound", err)
		}
		if _, _, err := s.Repo.Open(ctx, "a"); !errors.Is(err, artifact.ErrNotFound) && !errors.Is(err, artifact.ErrInvalidPath) {
			t.Fatalf("open a folder: %v, want ErrNotFound or ErrInvalidPath", err)
		}
		if err := s.Repo.Delete(ctx, "nothing/here"); !errors.Is(err, artifact.ErrNotFound) {
			t.Fatalf("delete a missing path: %v, want ErrNotFound", err)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		s := newRepo(t)
		put(t, s.Repo, "keep.txt", "k")
		put(t, s.Repo, "tree/a.txt", "a")
		put(t, s.Repo, "tree/sub/b.txt", "b")
		put(t, s.Repo, "treehouse.txt", "not in tree")
		if err := s.Repo.Delete(ctx, "tree"); err != nil {
			t.Fatalf("delete a folder: %v", err)
		}
		if got, want := list(t, s.Repo, ""), "keep.txt:1 treehouse.txt:11"; got != want {
			t.Fatalf("after deleting tree: %q, want %q", got, want)
		}
		if err := s.Repo.Delete(ctx, "keep.txt"); err != nil {
			t.Fatalf("delete a file: %v", err)
		}
		if _, _, err := s.Repo.Open(ctx, "keep.txt"); !errors.Is(err, artifact.ErrNotFound) {
			t.Fatalf("a deleted file opens: %v", err)
		}
	})

	t.Run("FailedUploadLeavesNothing", func(t *testing.T) {
		s := newRepo(t)
		put(t, s.Repo, "f.bin", "old")
		src := io.MultiReader(bytes.NewReader(bytes.Repeat([]byte("x"), 1<<20)), errReader{})
		if err := s.Repo.Put(ctx, "f.bin", src); err == nil {
			t.Fatal("an upload whose source failed succeeded")
		}
		if err := s.Repo.Put(ctx, "g.bin", io.MultiReader(strings.NewReader("partial"), errReader{})); err == nil {
			t.Fatal("an upload whose source failed succeeded")
		}
		if got := read(t, s.Repo, "f.bin"); got != "old" {
			t.Fatalf("a failed upload changed the file: %.20q", got)
		}
		if got := list(t, s.Repo, ""); got != "f.bin:3" {
			t.Fatalf("a failed upload left %q", got)
		}
	})

	t.Run("Escapes", func(t *testing.T) {
		s := newRepo(t)
		put(t, s.Repo, "inside.txt", "in")
		before := strings.Join(s.Outside(t), "\n")
		for _, p := range Escapes {
			if err := s.Repo.Put(ctx, p, strings.NewReader("escaped")); !errors.Is(err, artifact.ErrInvalidPath) {
				t.Errorf("put %q: %v, want ErrInvalidPath", p, err)
			}
			if _, _, err := s.Repo.Open(ctx, p); !errors.Is(err, artifact.ErrInvalidPath) {
				t.Errorf("open %q: %v, want ErrInvalidPath", p, err)
			}
			if _, err := s.Repo.List(ctx, p); !errors.Is(err, artifact.ErrInvalidPath) {
				t.Errorf("list %q: %v, want ErrInvalidPath", p, err)
			}
			if err := s.Repo.Delete(ctx, p); !errors.Is(err, artifact.ErrInvalidPath) {
				t.Errorf("delete %q: %v, want ErrInvalidPath", p, err)
			}
		}
		if after := strings.Join(s.Outside(t), "\n"); after != before {
			t.Fatalf("escape attempts changed what is outside the root:\nbefore:\n%s\nafter:\n%s", before, after)
		}
		if got := read(t, s.Repo, "inside.txt"); got != "in" {
			t.Fatalf("inside.txt reads %q", got)
		}
	})
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("the source broke") }
