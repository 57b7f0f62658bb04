package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mlrun/mlrun/artifact"
)

// Repository is a folder of artifacts.
type Repository struct {
	dir string
}

var _ artifact.Repository = (*Repository)(nil)

// New returns the repository rooted at dir; dir is created on first write.
func New(dir string) *Repository { return &Repository{dir: dir} }

// Dir returns the root folder.
func (r *Repository) Dir() string { return r.dir }

func (r *Repository) root(create bool) (*os.Root, error) {
	if create {
		if err := os.MkdirAll(r.dir, 0o755); err != nil {
			return nil, fmt.Errorf("artifact root %s: %w", r.dir, err)
		}
	}
	root, err := os.OpenRoot(r.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", artifact.ErrNotFound, r.dir)
	}
	return root, err
}

// mapErr turns os errors into artifact kinds.
func mapErr(p string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: '%s'", artifact.ErrNotFound, p)
	case strings.Contains(err.Error(), "path escapes from parent"):
		return fmt.Errorf("%w '%s': it leads outside the artifact root", artifact.ErrInvalidPath, p)
	case errors.Is(err, syscall.EISDIR):
		return fmt.Errorf("%w '%s': it is a directory", artifact.ErrInvalidPath, p)
	case errors.Is(err, syscall.ENOTDIR):
		return fmt.Errorf("%w '%s': a folder on its path is a file", artifact.ErrInvalidPath, p)
	case errors.Is(err, syscall.ENAMETOOLONG):
		return fmt.Errorf("%w '%s': a name on it is too long for the file system", artifact.ErrInvalidPath, p)
	}
	return fmt.Errorf("artifact '%s': %w", p, err)
}

// List implements artifact.Repository.
func (r *Repository) List(ctx context.Context, dir string) ([]artifact.FileInfo, error) {
	dir, err := artifact.CleanPath(dir)
	if err != nil {
		return nil, err
	}
	root, err := r.root(false)
	if errors.Is(err, artifact.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer root.Close()
	name := dir
	if name == "" {
		name = "."
	}
	st, err := root.Stat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, mapErr(dir, err)
	}
	if !st.IsDir() {
		return nil, nil
	}
	f, err := root.Open(name)
	if err != nil {
		return nil, mapErr(dir, err)
	}
	defer f.Close()
	ents, err := f.ReadDir(-1)
	if err != nil {
		return nil, mapErr(dir, err)
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	out := make([]artifact.FileInfo, 0, len(ents))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".mlrun-upload-") {
			continue
		}
		fi := artifact.FileInfo{Path: path.Join(dir, e.Name())}
		// Stat through the root: a symlink leading outside is skipped.
		st, err := root.Stat(path.Join(name, e.Name()))
		if err != nil {
			continue
		}
		if st.IsDir() {
			fi.IsDir = true
		} else {
			fi.Size = st.Size()
		}
		out = append(out, fi)
	}
	return out, nil
}

// Open implements artifact.Repository.
func (r *Repository) Open(ctx context.Context, p string) (io.ReadCloser, int64, error) {
	p, err := artifact.CleanPath(p)
	if err != nil {
		return nil, 0, err
	}
	if p == "" {
		return nil, 0, fmt.Errorf("%w '': not a file", artifact.ErrInvalidPath)
	}
	root, err := r.root(false)
	if err != nil {
		return nil, 0, mapErr(p, err)
	}
	defer root.Close()
	f, err := root.Open(p)
	if err != nil {
		return nil, 0, mapErr(p, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, mapErr(p, err)
	}
	if st.IsDir() {
		f.Close()
		return nil, 0, fmt.Errorf("%w: '%s' is a folder", artifact.ErrNotFound, p)
	}
	return f, st.Size(), nil
}

var uploadSeq atomic.Int64

// Put implements artifact.Repository: it streams r into a temporary file
// beside the target and renames it into place.
func (r *Repository) Put(ctx context.Context, p string, src io.Reader) error {
	p, err := artifact.CleanPath(p)
	if err != nil {
		return err
	}
	if p == "" {
		return fmt.Errorf("%w '': not a file", artifact.ErrInvalidPath)
	}
	root, err := r.root(true)
	if err != nil {
		return err
	}
	defer root.Close()
	if dir := path.Dir(p); dir != "." {
		if err := root.MkdirAll(dir, 0o755); errors.Is(err, fs.ErrExist) {
			return mapErr(p, syscall.ENOTDIR) // a file where a folder must be
		} else if err != nil {
			return mapErr(p, err)
		}
	}
	// A symlink at the target that leads outside is refused rather than
	// replaced, so a planted link never turns into a silent overwrite.
	if st, err := root.Lstat(p); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		if _, err := root.Stat(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return mapErr(p, err)
		}
	} else if err == nil && st.IsDir() {
		return mapErr(p, syscall.EISDIR) // a file never replaces a folder
	}
	tmp := path.Join(path.Dir(p), fmt.Sprintf(".mlrun-upload-%d-%d", time.Now().UnixNano(), uploadSeq.Add(1)))
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return mapErr(p, err)
	}
	_, err = io.Copy(f, &ctxReader{ctx: ctx, r: src})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, p)
	}
	if err != nil {
		root.Remove(tmp)
		return mapErr(p, err)
	}
	return nil
}

// Delete implements artifact.Repository.
func (r *Repository) Delete(ctx context.Context, p string) error {
	p, err := artifact.CleanPath(p)
	if err != nil {
		return err
	}
	root, err := r.root(false)
	if err != nil {
		return mapErr(p, err)
	}
	defer root.Close()
	name := p
	if name == "" {
		name = "."
	}
	if _, err := root.Lstat(name); err != nil {
		return mapErr(p, err)
	}
	if p == "" {
		// The root itself: empty it, keep the folder.
		f, err := root.Open(".")
		if err != nil {
			return mapErr(p, err)
		}
		ents, err := f.ReadDir(-1)
		f.Close()
		if err != nil {
			return mapErr(p, err)
		}
		for _, e := range ents {
			if err := root.RemoveAll(e.Name()); err != nil {
				return mapErr(e.Name(), err)
			}
		}
		return nil
	}
	return mapErr(p, root.RemoveAll(p))
}

// ctxReader stops a copy when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}
