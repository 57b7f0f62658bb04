package project_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/project"
)

// repoWithHistory makes a repository with two commits on main, a branch
// "dev" with a third, a lightweight tag v1 and an annotated tag v2.
func repoWithHistory(t *testing.T) (r *testutil.GitRepo, c1, c2, c3 string) {
	r = testutil.NewGitRepo(t)
	c1 = r.Commit("one", map[string]string{"MLproject": "name: demo\nentry_points:\n  main:\n    command: \"echo one\"\n", "sub/dir/train.py": "print(1)\n"})
	r.Tag("v1", "")
	c2 = r.Commit("two", map[string]string{"MLproject": "name: demo\nentry_points:\n  main:\n    command: \"echo two\"\n"})
	r.Tag("v2", "release two")
	r.Branch("dev")
	c3 = r.Commit("three", map[string]string{"MLproject": "name: demo\nentry_points:\n  main:\n    command: \"echo three\"\n"})
	r.Checkout("main")
	return r, c1, c2, c3
}

func command(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "MLproject"))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), "echo ")
	return strings.Trim(string(b[i+5:]), "\"\n")
}

func TestGitSources(t *testing.T) {
	r, c1, c2, c3 := repoWithHistory(t)
	daemon := testutil.GitDaemon(t, filepath.Dir(r.Dir))
	home := t.TempDir()
	sshPort := testutil.SSHD(t, home)
	transports := map[string]string{
		"file":       "file://" + r.Dir,
		"git daemon": daemon + "/" + filepath.Base(r.Dir),
		"ssh":        fmt.Sprintf("ssh://root@127.0.0.1:%d%s", sshPort, r.Dir),
		// scp-style has no port: ~/.ssh/config names the loopback sshd.
		"scp-style": "root@mlrun-test-sshd:" + r.Dir,
	}
	writeSSHConfig(t, home, fmt.Sprintf("Host mlrun-test-sshd\n  HostName 127.0.0.1\n  Port %d\n", sshPort))
	t.Setenv("HOME", home)
	t.Setenv("SSH_AUTH_SOCK", "")
	t.Setenv("SSH_KNOWN_HOSTS", filepath.Join(home, ".ssh", "known_hosts"))
	for name, uri := range transports {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			cache := t.TempDir()
			cases := []struct {
				version, want, commit, branch string
			}{
				{"", "two", c2, ""},
				{"main", "two", c2, "main"},
				{"dev", "three", c3, "dev"},
				{"v1", "one", c1, ""},
				{"v2", "two", c2, ""},
				{c1, "one", c1, ""},
				{c3[:10], "three", c3, ""},
			}
			for _, tc := range cases {
				src, err := project.Fetch(ctx, uri, project.FetchOptions{Version: tc.version, CacheDir: cache})
				if err != nil {
					t.Fatalf("version %q: %v", tc.version, err)
				}
				if got := command(t, src.Dir); got != tc.want || src.Commit != tc.commit || src.Branch != tc.branch || !src.Git {
					t.Fatalf("version %q: command %q commit %s branch %q, want %q %s %q", tc.version, got, src.Commit, src.Branch, tc.want, tc.commit, tc.branch)
				}
				dir := src.Dir
				src.Close()
				if _, err := os.Stat(dir); !os.IsNotExist(err) {
					t.Fatalf("checkout %s left behind", dir)
				}
			}
			// #subdir, a missing one, and an unknown version.
			src, err := project.Fetch(ctx, uri+"#sub/dir", project.FetchOptions{Version: c1, CacheDir: cache})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(src.Dir, "train.py")); err != nil || src.SourceName != uri+"#sub/dir" {
				t.Fatalf("subdir: %v %s", err, src.SourceName)
			}
			src.Close()
			_, err = project.Fetch(ctx, uri+"#nope", project.FetchOptions{CacheDir: cache})
			if err == nil || !strings.Contains(err.Error(), "Could not find subdirectory nope") {
				t.Fatalf("missing subdir: %v", err)
			}
			_, err = project.Fetch(ctx, uri, project.FetchOptions{Version: "no-such-branch", CacheDir: cache})
			if !errors.Is(err, project.ErrInvalid) || !strings.Contains(err.Error(), "Unable to checkout version 'no-such-branch'") {
				t.Fatalf("unknown version: %v", err)
			}
			_, err = project.Fetch(ctx, uri, project.FetchOptions{Version: strings.Repeat("ab", 20), CacheDir: cache})
			if err == nil || !strings.Contains(err.Error(), "Unable to checkout version") {
				t.Fatalf("unknown commit: %v", err)
			}
		})
	}
}

// TestCacheReuse proves the second run of the same commit fetches nothing
// (it works with the remote gone), and a new commit is fetched.
func TestCacheReuse(t *testing.T) {
	ctx := context.Background()
	r, _, _, _ := repoWithHistory(t)
	// A large file that does not change: a new commit must not fetch it again.
	big := make([]byte, 0, 600000)
	for i := 0; len(big) < 600000; i++ {
		big = append(big, []byte(fmt.Sprintf("%d incompressible-ish %x\n", i, i*2654435761))...)
	}
	c2 := r.Commit("big", map[string]string{"data/big.txt": string(big)})
	cache := t.TempDir()
	uri := "file://" + r.Dir
	src, err := project.Fetch(ctx, uri, project.FetchOptions{CacheDir: cache})
	if err != nil || !src.Fetched || src.Commit != c2 {
		t.Fatalf("first fetch: %+v %v", src, err)
	}
	src.Close()
	first := cacheSize(t, cache)
	src, err = project.Fetch(ctx, uri, project.FetchOptions{CacheDir: cache})
	if err != nil || src.Fetched {
		t.Fatalf("second fetch of the same commit fetched again: %+v %v", src, err)
	}
	src.Close()
	c4 := r.Commit("four", map[string]string{"MLproject": "name: demo\nentry_points:\n  main:\n    command: \"echo four\"\n"})
	src, err = project.Fetch(ctx, uri, project.FetchOptions{CacheDir: cache})
	if err != nil || !src.Fetched || src.Commit != c4 || command(t, src.Dir) != "four" {
		t.Fatalf("new commit: %+v %v", src, err)
	}
	src.Close()
	// Only what changed came over: the cache grew by far less than the big file.
	grown := cacheSize(t, cache) - first
	t.Logf("cache: %d bytes after the first fetch, +%d for the new commit", first, grown)
	if grown*10 > first || first < 100000 {
		t.Fatalf("the new commit grew the cache by %d bytes: it fetched more than what changed", grown)
	}
	// With the remote gone, a pinned commit still checks out from the cache.
	moved := r.Dir + "-moved"
	if err := os.Rename(r.Dir, moved); err != nil {
		t.Fatal(err)
	}
	defer os.Rename(moved, r.Dir)
	src, err = project.Fetch(ctx, uri, project.FetchOptions{Version: c2, CacheDir: cache})
	if err != nil || src.Fetched || command(t, src.Dir) != "two" {
		t.Fatalf("pinned commit without the remote: %+v %v", src, err)
	}
	src.Close()
}

func TestConcurrentFetchesShareTheCache(t *testing.T) {
	r, _, c2, _ := repoWithHistory(t)
	cache := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src, err := project.Fetch(context.Background(), "file://"+r.Dir, project.FetchOptions{CacheDir: cache})
			if err == nil && src.Commit != c2 {
				err = fmt.Errorf("commit %s", src.Commit)
			}
			if err == nil {
				err = src.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestLocalSources(t *testing.T) {
	r, _, c2, _ := repoWithHistory(t)
	r.Repo.CreateRemote(remoteConfig("https://user:s3cret@example.com/org/repo.git"))
	src, err := project.Fetch(context.Background(), r.Dir+"#sub/dir", project.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if src.Git || src.Dir != filepath.Join(r.Dir, "sub", "dir") || src.Commit != c2 || src.SourceName != "file://"+r.Dir+"#sub/dir" {
		t.Fatalf("local source %+v", src)
	}
	if strings.Contains(src.RepoURL, "s3cret") || src.RepoURL != "https://user@example.com/org/repo.git" {
		t.Fatalf("repo URL not redacted: %s", src.RepoURL)
	}
	plain := t.TempDir()
	src, err = project.Fetch(context.Background(), plain, project.FetchOptions{})
	if err != nil || src.SourceName != plain || src.Commit != "" {
		t.Fatalf("plain folder: %+v %v", src, err)
	}
	if _, err := project.Fetch(context.Background(), plain, project.FetchOptions{Version: "main"}); err == nil || !strings.Contains(err.Error(), "Setting a version is only supported for Git project URIs") {
		t.Fatalf("version on a plain folder: %v", err)
	}
	if _, err := project.Fetch(context.Background(), plain+"#a/../b", project.FetchOptions{}); err == nil || !strings.Contains(err.Error(), "'.' is not allowed in project subdirectory paths.") {
		t.Fatalf("dot in subdir: %v", err)
	}
	// A local repository with a version is checked out, not changed in place.
	src, err = project.Fetch(context.Background(), r.Dir, project.FetchOptions{Version: "dev", CacheDir: t.TempDir()})
	if err != nil || command(t, src.Dir) != "three" || command(t, r.Dir) != "two" {
		t.Fatalf("local repo at a version: %v", err)
	}
	src.Close()
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:pw@host/r.git":   "https://user@host/r.git",
		"https://ghp_token@host/r.git": "https://host/r.git",
		"git@github.com:org/r.git":     "git@github.com:org/r.git",
		"ssh://git@host:22/r.git":      "ssh://git@host:22/r.git",
	} {
		if got := project.Redact(in); got != want {
			t.Errorf("Redact(%s) = %s, want %s", in, got, want)
		}
	}
}

// cacheSize is the size of the git objects in the clone cache.
func cacheSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.Contains(p, string(filepath.Separator)+"objects"+string(filepath.Separator)) {
			n += info.Size()
		}
		return nil
	})
	return n
}

func writeSSHConfig(t *testing.T, home, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(home, ".ssh", "config"), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSSHConfig proves User and IdentityFile come from ~/.ssh/config: the
// only key is a deploy key under a name mlrun would not try by itself, and
// the URL names neither user nor port.
func TestSSHConfig(t *testing.T) {
	r, _, c2, _ := repoWithHistory(t)
	home := t.TempDir()
	port := testutil.SSHD(t, home)
	t.Setenv("HOME", home)
	t.Setenv("SSH_AUTH_SOCK", "")
	t.Setenv("SSH_KNOWN_HOSTS", "")
	key := filepath.Join(home, ".ssh", "id_ed25519")
	if err := os.Rename(key, filepath.Join(home, ".ssh", "deploy_key")); err != nil {
		t.Fatal(err)
	}
	uri := "models-host:" + r.Dir
	host := fmt.Sprintf("Host models-host\n  HostName 127.0.0.1\n  Port %d\n  User root\n", port)

	writeSSHConfig(t, home, host)
	_, err := project.Fetch(context.Background(), uri, project.FetchOptions{CacheDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "no ssh credentials") {
		t.Fatalf("without IdentityFile: %v, want no ssh credentials", err)
	}

	writeSSHConfig(t, home, host+"  IdentityFile ~/.ssh/deploy_key\n")
	src, err := project.Fetch(context.Background(), uri, project.FetchOptions{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if src.Commit != c2 || command(t, src.Dir) != "two" {
		t.Fatalf("fetched %s %q, want %s two", src.Commit, command(t, src.Dir), c2)
	}
}

// TestSSHHostDoesNotResolve proves a mistyped ssh host is named as such,
// not as missing credentials (there are none here either), both for a
// host in the URL and for a HostName given by ~/.ssh/config.
func TestSSHHostDoesNotResolve(t *testing.T) {
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("SSH_AUTH_SOCK", "")
	writeSSHConfig(t, home, "Host models-host\n  HostName models.no-such-host.invalid\n")
	for uri, want := range map[string]string{
		"git@no-such-host.invalid:org/repo.git":   "ssh host no-such-host.invalid does not resolve",
		"ssh://git@no-such-host.invalid/org/repo": "ssh host no-such-host.invalid does not resolve",
		"models-host:org/repo.git":                "ssh host models.no-such-host.invalid (HostName of models-host in ~/.ssh/config) does not resolve",
	} {
		_, err := project.Fetch(context.Background(), uri, project.FetchOptions{CacheDir: t.TempDir()})
		var dns *net.DNSError
		if !errors.As(err, &dns) || !dns.IsNotFound {
			t.Errorf("%s: %v, want a *net.DNSError not found", uri, err)
			continue
		}
		if !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "credentials") {
			t.Errorf("%s: %q, want %q", uri, err, want)
		}
	}
}

// craftedRepo makes a repository whose main commit has the tree entries
// given ("mode path target-or-content", folders made from the paths),
// written with git's own plumbing, which (unlike a checkout) takes any
// tree: a symlink and a folder of one name, as an attacker's server
// would send.
func craftedRepo(t *testing.T, entries [][3]string) string {
	t.Helper()
	dir := t.TempDir()
	git := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("", "init", "-q", "-b", "main")
	// tree builds the folder prefix's tree from the entries under it.
	var tree func(prefix string) string
	tree = func(prefix string) string {
		var lines []string
		subs := map[string]bool{}
		for _, e := range entries {
			rest, ok := strings.CutPrefix(e[1], prefix)
			if !ok {
				continue
			}
			if name, _, isDir := strings.Cut(rest, "/"); isDir {
				if !subs[name] {
					subs[name] = true
					lines = append(lines, "040000 tree "+tree(prefix+name+"/")+"\t"+name)
				}
				continue
			}
			lines = append(lines, e[0]+" blob "+git(e[2], "hash-object", "-w", "--stdin")+"\t"+rest)
		}
		return git(strings.Join(lines, "\n")+"\n", "mktree")
	}
	commit := git("", "commit-tree", tree(""), "-m", "crafted")
	git("", "update-ref", "refs/heads/main", commit)
	return dir
}

// TestCraftedTreesStayInTheCheckout: a tree whose symlinks lead out of
// the checkout only through another link (so that, read as written, they
// stay inside) cannot make the checkout write a file out of it — its
// symlink and folder of one name are refused — nor make a #subdirectory
// that is outside it.
func TestCraftedTreesStayInTheCheckout(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "q") // where d1/d2/b really leads, from cache/checkout-*/d1/d2
	if err := os.Mkdir(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	links := [][3]string{
		{"100644", "MLproject", "name: x\nentry_points:\n  main:\n    command: \"echo hi\"\n"},
		{"100644", "a/keep", "k\n"},       // before d1: there when d1/d2/b/evil is written
		{"120000", "d1/d2/ab", "../../a"}, // before b, so that b resolves
		{"120000", "d1/d2/b", "ab/../../../q"},
	}
	ctx := context.Background()
	opts := project.FetchOptions{CacheDir: filepath.Join(base, "cache")}

	repo := craftedRepo(t, append(links, [3]string{"100644", "d1/d2/b/evil", "pwned\n"}))
	_, err := project.Fetch(ctx, "file://"+repo, opts)
	if _, statErr := os.Stat(filepath.Join(outside, "evil")); statErr == nil {
		t.Fatalf("the checkout wrote %s through a symlink", filepath.Join(outside, "evil"))
	}
	if err == nil || !strings.Contains(err.Error(), `symlink "d1/d2/b"`) {
		t.Fatalf("a symlink and a folder of one name: %v", err)
	}

	repo = craftedRepo(t, links)
	src, err := project.Fetch(ctx, "file://"+repo, opts)
	if err != nil {
		t.Fatalf("the links alone: %v", err)
	}
	if target, err := os.Readlink(filepath.Join(src.Dir, "d1", "d2", "ab")); err != nil || target != "../../a" {
		t.Fatalf("a link inside the tree is kept: %q %v", target, err)
	}
	src.Close()
	_, err = project.Fetch(ctx, "file://"+repo+"#d1/d2/b", opts)
	if !errors.Is(err, project.ErrInvalid) || !strings.Contains(err.Error(), "subdirectory d1/d2/b of file://"+repo+" leads out of the repository through a symlink") {
		t.Fatalf("a subdirectory out of the checkout: %v", err)
	}
}
