package artifact

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
)

// Download copies every file below dir of repo into the local folder dst,
// recreating the tree. Each path is checked with CleanPath and written
// through os.Root, so nothing lands outside dst whatever the listing says.
// It returns how many files it copied.
func Download(ctx context.Context, repo Repository, dir, dst string) (int, error) {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return 0, fmt.Errorf("download folder: %w", err)
	}
	root, err := os.OpenRoot(dst)
	if err != nil {
		return 0, fmt.Errorf("download folder: %w", err)
	}
	defer root.Close()
	base, err := CleanPath(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	var walk func(d string) error
	walk = func(d string) error {
		files, err := repo.List(ctx, d)
		if err != nil {
			return err
		}
		for _, f := range files {
			p, err := CleanPath(f.Path)
			if err != nil {
				return err
			}
			rel := p
			if base != "" {
				if len(p) <= len(base) || p[:len(base)+1] != base+"/" {
					return fmt.Errorf("%w '%s': listed outside '%s'", ErrInvalidPath, p, base)
				}
				rel = p[len(base)+1:]
			}
			if f.IsDir {
				if err := root.MkdirAll(rel, 0o755); err != nil {
					return err
				}
				if err := walk(p); err != nil {
					return err
				}
				continue
			}
			if dir := path.Dir(rel); dir != "." {
				if err := root.MkdirAll(dir, 0o755); err != nil {
					return err
				}
			}
			if err := copyOne(ctx, repo, root, p, rel); err != nil {
				return err
			}
			n++
		}
		return nil
	}
	return n, walk(base)
}

func copyOne(ctx context.Context, repo Repository, root *os.Root, src, dst string) error {
	rc, _, err := repo.Open(ctx, src)
	if err != nil {
		return err
	}
	defer rc.Close()
	f, err := root.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", dst, err)
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return fmt.Errorf("download %s: %w", src, err)
	}
	return f.Close()
}
