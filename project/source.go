package project

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/gofrs/flock"
)

// Source is a fetched project: a folder to run in, and what to record
// about where it came from.
type Source struct {
	URI     string // as given, credentials removed
	Dir     string // the project folder (with #subdir)
	Git     bool   // fetched from a git repository
	Commit  string // the commit run, if the project is in git
	Branch  string // the branch, when --version named one
	RepoURL string // the repository URL, credentials removed
	// Fetched is whether anything was fetched from the remote: false when
	// the cache already held the commit.
	Fetched bool
	// SourceName is the mlflow.source.name tag value.
	SourceName string

	cleanup func()
}

// Close removes the checkout of a git source; a local folder is left
// alone.
func (s *Source) Close() error {
	if s.cleanup != nil {
		s.cleanup()
		s.cleanup = nil
	}
	return nil
}

// FetchOptions configure Fetch.
type FetchOptions struct {
	Version  string // branch, tag or commit (git sources only)
	CacheDir string // the clone cache; "" means $MLRUN_CACHE_DIR, else <user cache dir>/mlrun
	// Progress, if set, gets git's progress messages.
	Progress io.Writer
}

var scpLike = regexp.MustCompile(`^([A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+:[^/\\].*|^([A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+:/.*`)

// Redact removes a password or token from a URI for tags, logs and errors.
func Redact(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.User == nil {
		return uri
	}
	if _, has := u.User.Password(); has {
		u.User = url.User(u.User.Username())
		return u.String()
	}
	if u.Scheme == "https" || u.Scheme == "http" {
		u.User = nil // a lone token in the user part
		return u.String()
	}
	return u.String()
}

// splitURI separates "repo#sub/dir" and checks the subdirectory.
func splitURI(uri string) (base, sub string, err error) {
	uri = strings.Trim(strings.TrimSpace(uri), `'"`)
	base, sub, _ = strings.Cut(uri, "#")
	if strings.Contains(sub, ".") {
		return "", "", invalidf("'.' is not allowed in project subdirectory paths.")
	}
	return base, strings.Trim(sub, "/"), nil
}

// Fetch resolves a project URI: a local folder path (used in place), or a
// git repository (https://, ssh://, git@host:org/repo.git, git://,
// file://) checked out from the clone cache into a temporary folder.
func Fetch(ctx context.Context, uri string, opts FetchOptions) (*Source, error) {
	base, sub, err := splitURI(uri)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(base, "file://") || looksRemote(base) {
		// file:// is git (cloned through the cache), as the other URLs.
		return gitSource(ctx, uri, base, sub, opts)
	}
	st, err := os.Stat(base)
	if err != nil || !st.IsDir() {
		return nil, invalidf("project %s: no such folder, and not a git URI", Redact(base))
	}
	if opts.Version == "" {
		return localSource(uri, base, sub)
	}
	if _, err := git.PlainOpen(base); err != nil {
		return nil, invalidf("Setting a version is only supported for Git project URIs")
	}
	// A local repository with a version: check it out like a remote,
	// never touching the user's working copy.
	abs, _ := filepath.Abs(base)
	return gitSource(ctx, uri, abs, sub, opts)
}

func looksRemote(s string) bool {
	for _, p := range []string{"https://", "http://", "ssh://", "git://", "git+ssh://"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return !strings.HasPrefix(s, "/") && !strings.HasPrefix(s, ".") && scpLike.MatchString(s) && !strings.HasPrefix(s, "file:")
}

func localSource(uri, dir, sub string) (*Source, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	s := &Source{URI: Redact(uri), Dir: abs, SourceName: abs}
	if sub != "" {
		s.Dir = filepath.Join(abs, filepath.FromSlash(sub))
		if st, err := os.Stat(s.Dir); err != nil || !st.IsDir() {
			return nil, invalidf("Could not find subdirectory %s of %s", sub, abs)
		}
	}
	// The repository holding the folder, if any: its commit and remote.
	repo, err := git.PlainOpenWithOptions(s.Dir, &git.PlainOpenOptions{DetectDotGit: true})
	if err == nil {
		if head, err := repo.Head(); err == nil {
			s.Commit = head.Hash().String()
		}
		if wt, err := repo.Worktree(); err == nil {
			root := wt.Filesystem.Root()
			rel, _ := filepath.Rel(root, s.Dir)
			s.SourceName = "file://" + root
			if rel != "." {
				s.SourceName += "#" + filepath.ToSlash(rel)
			}
		}
		// MLflow records the origin's URL, whatever it is (a path too).
		if origin, err := repo.Remote("origin"); err == nil && len(origin.Config().URLs) > 0 {
			s.RepoURL = Redact(origin.Config().URLs[0])
		} else if remotes, err := repo.Remotes(); err == nil && len(remotes) > 0 && len(remotes[0].Config().URLs) > 0 {
			s.RepoURL = Redact(remotes[0].Config().URLs[0])
		}
	}
	return s, nil
}

// cacheRoot returns the clone cache folder.
func cacheRoot(opt string) (string, error) {
	if opt != "" {
		return opt, nil
	}
	if d := os.Getenv("MLRUN_CACHE_DIR"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache folder: set MLRUN_CACHE_DIR (%w)", err)
	}
	return filepath.Join(d, "mlrun"), nil
}

var fullSHA = regexp.MustCompile(`^[0-9a-f]{40}$`)

// gitSource fetches remote (a URL or a local repository path) into the
// cache and checks the version out into a temporary folder.
func gitSource(ctx context.Context, uri, remote, sub string, opts FetchOptions) (*Source, error) {
	cleanURL, auth, err := gitAuth(ctx, remote)
	if err != nil {
		return nil, err
	}
	root, err := cacheRoot(opts.CacheDir)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(cleanURL))
	repoDir := filepath.Join(root, "git", hex.EncodeToString(sum[:12]))
	if err := os.MkdirAll(filepath.Dir(repoDir), 0o755); err != nil {
		return nil, fmt.Errorf("clone cache: %w", err)
	}
	// One process at a time per repository: concurrent runs wait here
	// rather than corrupting the cache.
	lock := flock.New(repoDir + ".lock")
	if _, err := lock.TryLockContext(ctx, 100*time.Millisecond); err != nil {
		return nil, fmt.Errorf("lock the clone cache: %w", err)
	}
	defer lock.Unlock()

	repo, err := git.PlainOpen(repoDir)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		repo, err = git.PlainInit(repoDir, true)
		if err == nil {
			_, err = repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{cleanURL}})
		}
	}
	if err != nil {
		return nil, fmt.Errorf("clone cache %s: %w", repoDir, err)
	}
	s := &Source{URI: Redact(uri), Git: true, RepoURL: Redact(remote), SourceName: Redact(uri)}
	fail := func(err error) error {
		return invalidf("Unable to checkout version '%s' of git repo %s - please ensure that the version exists in the repo. Error: %v", opts.Version, Redact(remote), err)
	}

	var want plumbing.Hash
	if fullSHA.MatchString(opts.Version) {
		want = plumbing.NewHash(opts.Version)
	} else {
		// Ask the remote what the version points at (this fetches no objects).
		rem, _ := repo.Remote("origin")
		refs, err := rem.ListContext(ctx, &git.ListOptions{Auth: auth})
		if err != nil {
			return nil, fmt.Errorf("git repo %s: %w", Redact(remote), err)
		}
		want, s.Branch = pickRef(refs, opts.Version)
		if want.IsZero() && opts.Version != "" && !regexp.MustCompile(`^[0-9a-f]{4,39}$`).MatchString(opts.Version) {
			return nil, fail(errors.New("no such branch, tag or commit"))
		}
	}
	if want.IsZero() || !hasCommitish(repo, want) {
		fetch := &git.FetchOptions{
			RemoteName: "origin",
			RefSpecs:   []config.RefSpec{"+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"},
			Auth:       auth,
			Progress:   opts.Progress,
			Tags:       git.NoTags,
		}
		err := repo.FetchContext(ctx, fetch)
		for try := 1; try < 3 && closedEarly(err); try++ {
			err = repo.FetchContext(ctx, fetch)
		}
		if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
			return nil, fmt.Errorf("fetch git repo %s: %w", Redact(remote), err)
		}
		s.Fetched = err == nil
	}
	var commit *object.Commit
	switch {
	case !want.IsZero():
		commit, err = commitOf(repo, want)
	default: // an abbreviated commit
		var h *plumbing.Hash
		if h, err = repo.ResolveRevision(plumbing.Revision(opts.Version)); err == nil {
			commit, err = repo.CommitObject(*h)
		}
	}
	if err != nil {
		return nil, fail(err)
	}
	s.Commit = commit.Hash.String()

	work, err := os.MkdirTemp(filepath.Join(root), "checkout-")
	if err != nil {
		return nil, fmt.Errorf("checkout: %w", err)
	}
	s.cleanup = func() { os.RemoveAll(work) }
	if err := export(commit, work); err != nil {
		s.Close()
		return nil, fmt.Errorf("checkout %s: %w", s.Commit, err)
	}
	s.Dir = work
	if sub != "" {
		s.Dir = filepath.Join(work, filepath.FromSlash(sub))
		if st, err := os.Stat(s.Dir); err != nil || !st.IsDir() {
			s.Close()
			return nil, invalidf("Could not find subdirectory %s of %s", sub, Redact(remote))
		}
		// Through the tree's symlinks, the subdirectory must still be in
		// the checkout: it is what a container gets mounted.
		real, err := filepath.EvalSymlinks(s.Dir)
		if realWork, err2 := filepath.EvalSymlinks(work); err != nil || err2 != nil || !strings.HasPrefix(real+string(os.PathSeparator), realWork+string(os.PathSeparator)) {
			s.Close()
			return nil, invalidf("subdirectory %s of %s leads out of the repository through a symlink", sub, Redact(remote))
		}
	}
	return s, nil
}

// pickRef finds the commit a version names among a remote's refs: ""
// is HEAD, else a branch, else a tag. It returns the zero hash when the
// version is none of them (it may be an abbreviated commit).
func pickRef(refs []*plumbing.Reference, version string) (plumbing.Hash, string) {
	byName := map[plumbing.ReferenceName]*plumbing.Reference{}
	for _, r := range refs {
		byName[r.Name()] = r
	}
	resolve := func(r *plumbing.Reference) plumbing.Hash {
		for i := 0; r != nil && i < 5; i++ {
			if r.Type() == plumbing.HashReference {
				return r.Hash()
			}
			r = byName[r.Target()]
		}
		return plumbing.ZeroHash
	}
	if version == "" {
		return resolve(byName[plumbing.HEAD]), ""
	}
	if r, ok := byName[plumbing.NewBranchReferenceName(version)]; ok {
		return resolve(r), version
	}
	if r, ok := byName[plumbing.ReferenceName("refs/tags/"+version+"^{}")]; ok {
		return r.Hash(), ""
	}
	if r, ok := byName[plumbing.NewTagReferenceName(version)]; ok {
		return resolve(r), ""
	}
	return plumbing.ZeroHash, ""
}

// hasCommitish reports whether the cache holds the object h.
func hasCommitish(repo *git.Repository, h plumbing.Hash) bool {
	_, err := repo.Storer.EncodedObject(plumbing.AnyObject, h)
	return err == nil
}

// commitOf returns the commit h names, peeling annotated tags.
func commitOf(repo *git.Repository, h plumbing.Hash) (*object.Commit, error) {
	for i := 0; i < 5; i++ {
		if tag, err := repo.TagObject(h); err == nil {
			h = tag.Target
			continue
		}
		return repo.CommitObject(h)
	}
	return nil, errors.New("tag chain too long")
}

// export writes the commit's tree into dir (no .git), keeping executable
// bits and the symlinks whose target, read as written, stays inside the
// tree. Everything is written through an os.Root of dir, which refuses a
// path that leads out of it through a symlink, and symlinks are made
// after every file: a crafted tree can hold a symlink and a folder of the
// same name ("b" -> a/../.., and b/x) to write b/x through the link (git
// refuses to write beyond a symlink for the same reason).
func export(c *object.Commit, dir string) error {
	tree, err := c.Tree()
	if err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	type link struct{ name, target string }
	var links []link
	err = tree.Files().ForEach(func(f *object.File) error {
		if !filepath.IsLocal(filepath.FromSlash(f.Name)) {
			return fmt.Errorf("path %q leaves the checkout", f.Name)
		}
		switch f.Mode {
		case filemode.Submodule:
			return nil // submodules are not fetched
		case filemode.Symlink:
			target, err := f.Contents()
			if err != nil {
				return err
			}
			if filepath.IsAbs(target) || !filepath.IsLocal(path.Join(path.Dir(f.Name), filepath.ToSlash(target))) {
				return nil // a link out of the tree is not recreated
			}
			links = append(links, link{f.Name, target})
			return nil
		}
		if err := root.MkdirAll(path.Dir(f.Name), 0o755); err != nil {
			return err
		}
		perm := os.FileMode(0o644)
		if f.Mode == filemode.Executable {
			perm = 0o755
		}
		r, err := f.Reader()
		if err != nil {
			return err
		}
		defer r.Close()
		out, err := root.OpenFile(f.Name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, r); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		return err
	}
	for _, l := range links {
		if err := root.MkdirAll(path.Dir(l.name), 0o755); err != nil {
			return err
		}
		if err := root.Symlink(l.target, l.name); errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("symlink %q: the tree has two entries of that name", l.name)
		} else if err != nil {
			return fmt.Errorf("symlink %q: %w", l.name, err)
		}
	}
	return nil
}

// closedEarly reports the error go-git v5 sometimes returns over ssh when
// the server closes its end before go-git closes its own after the
// negotiation ("closing input: EOF", go-git/go-git#1685, fixed only in
// v6). Nothing was fetched yet, so the fetch is simply tried again.
func closedEarly(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.HasSuffix(msg, "closing input: EOF") || strings.HasSuffix(msg, "closing writer: EOF")
}
