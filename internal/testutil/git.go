package testutil

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// GitRepo is a real git repository in t.TempDir(), written with go-git.
type GitRepo struct {
	t    testing.TB
	Dir  string
	Repo *git.Repository
}

// NewGitRepo makes an empty repository whose first branch is main.
func NewGitRepo(t testing.TB) *GitRepo {
	t.Helper()
	dir := t.TempDir()
	r, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &GitRepo{t: t, Dir: dir, Repo: r}
}

// Commit writes files (path → content; "" deletes) and commits them,
// returning the commit's hash.
func (g *GitRepo) Commit(msg string, files map[string]string) string {
	g.t.Helper()
	wt, err := g.Repo.Worktree()
	if err != nil {
		g.t.Fatal(err)
	}
	for p, content := range files {
		full := filepath.Join(g.Dir, filepath.FromSlash(p))
		if content == "" {
			if _, err := wt.Remove(p); err != nil {
				g.t.Fatal(err)
			}
			continue
		}
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			g.t.Fatal(err)
		}
		if _, err := wt.Add(p); err != nil {
			g.t.Fatal(err)
		}
	}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: &object.Signature{Name: "test", Email: "test@example.com", When: time.Unix(1700000000, 0)}})
	if err != nil {
		g.t.Fatal(err)
	}
	return h.String()
}

// Branch creates (or moves) a branch at HEAD and checks it out.
func (g *GitRepo) Branch(name string) {
	g.t.Helper()
	head, err := g.Repo.Head()
	if err != nil {
		g.t.Fatal(err)
	}
	ref := plumbing.NewHashReference(plumbing.NewBranchReferenceName(name), head.Hash())
	if err := g.Repo.Storer.SetReference(ref); err != nil {
		g.t.Fatal(err)
	}
	g.Checkout(name)
}

// Checkout switches the work tree to a branch.
func (g *GitRepo) Checkout(branch string) {
	g.t.Helper()
	wt, _ := g.Repo.Worktree()
	if err := wt.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(branch)}); err != nil {
		g.t.Fatal(err)
	}
}

// Tag makes a lightweight tag, or an annotated one with a message.
func (g *GitRepo) Tag(name, message string) {
	g.t.Helper()
	head, _ := g.Repo.Head()
	var opts *git.CreateTagOptions
	if message != "" {
		opts = &git.CreateTagOptions{Message: message, Tagger: &object.Signature{Name: "test", Email: "t@e.com", When: time.Unix(1700000000, 0)}}
	}
	if _, err := g.Repo.CreateTag(name, head.Hash(), opts); err != nil {
		g.t.Fatal(err)
	}
}
