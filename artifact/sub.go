package artifact

import (
	"context"
	"io"
	"strings"
)

// Sub returns the repository of the folder prefix inside repo: every path
// is joined to prefix, and listings are relative to it again. prefix must
// pass CleanPath.
func Sub(repo Repository, prefix string) Repository {
	if prefix == "" {
		return repo
	}
	return &sub{repo: repo, prefix: prefix}
}

type sub struct {
	repo   Repository
	prefix string
}

func (s *sub) full(p string) (string, error) {
	p, err := CleanPath(p)
	if err != nil {
		return "", err
	}
	return join(s.prefix, p), nil
}

func (s *sub) List(ctx context.Context, dir string) ([]FileInfo, error) {
	full, err := s.full(dir)
	if err != nil {
		return nil, err
	}
	files, err := s.repo.List(ctx, full)
	for i := range files {
		files[i].Path = strings.TrimPrefix(strings.TrimPrefix(files[i].Path, s.prefix), "/")
	}
	return files, err
}

func (s *sub) Open(ctx context.Context, p string) (io.ReadCloser, int64, error) {
	full, err := s.full(p)
	if err != nil {
		return nil, 0, err
	}
	return s.repo.Open(ctx, full)
}

func (s *sub) Put(ctx context.Context, p string, r io.Reader) error {
	full, err := s.full(p)
	if err != nil {
		return err
	}
	return s.repo.Put(ctx, full, r)
}

func (s *sub) Delete(ctx context.Context, p string) error {
	full, err := s.full(p)
	if err != nil {
		return err
	}
	return s.repo.Delete(ctx, full)
}
