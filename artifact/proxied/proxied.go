package proxied

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/internal/wire"
)

// Doer sends an authenticated request to a path below the server's base
// URL; store/rest's Client is one.
type Doer interface {
	Do(ctx context.Context, method, path string, body io.Reader, header http.Header) (*http.Response, error)
}

// Repository is the proxy's folder below prefix.
type Repository struct {
	c      Doer
	prefix string
}

var _ artifact.Repository = (*Repository)(nil)

const base = "/api/2.0/mlflow-artifacts/artifacts"

// New returns the repository of the proxy's files below prefix (e.g.
// "1/<run_id>/artifacts").
func New(c Doer, prefix string) *Repository {
	return &Repository{c: c, prefix: strings.Trim(prefix, "/")}
}

func (r *Repository) full(p string) (string, error) {
	p, err := artifact.CleanPath(p)
	if err != nil {
		return "", err
	}
	return strings.Trim(path.Join(r.prefix, p), "/"), nil
}

func escape(p string) string {
	parts := strings.Split(p, "/")
	for i := range parts {
		parts[i] = url.PathEscape(parts[i])
	}
	return strings.Join(parts, "/")
}

func check(resp *http.Response, p string) error {
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var eb wire.ErrorBody
	json.Unmarshal(b, &eb)
	switch eb.ErrorCode {
	case "RESOURCE_DOES_NOT_EXIST":
		return fmt.Errorf("%w: '%s'", artifact.ErrNotFound, p)
	case "INVALID_PARAMETER_VALUE":
		return fmt.Errorf("%w: %s", artifact.ErrInvalidPath, eb.Message)
	}
	msg := eb.Message
	if msg == "" {
		msg = strings.TrimSpace(string(b))
	}
	return fmt.Errorf("artifact proxy answered %d for '%s': %s", resp.StatusCode, p, msg)
}

// List implements artifact.Repository.
func (r *Repository) List(ctx context.Context, dir string) ([]artifact.FileInfo, error) {
	full, err := r.full(dir)
	if err != nil {
		return nil, err
	}
	resp, err := r.c.Do(ctx, http.MethodGet, base+"?path="+url.QueryEscape(full), nil, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if err := check(resp, dir); err != nil {
		return nil, err
	}
	var out wire.ProxyListResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("artifact listing: %w", err)
	}
	dir, _ = artifact.CleanPath(dir)
	files := make([]artifact.FileInfo, len(out.Files))
	for i, f := range out.Files {
		files[i] = artifact.FileInfo{Path: path.Join(dir, f.Path), IsDir: f.IsDir}
		if f.FileSize != nil {
			files[i].Size = int64(*f.FileSize)
		}
	}
	return files, nil
}

// Open implements artifact.Repository.
func (r *Repository) Open(ctx context.Context, p string) (io.ReadCloser, int64, error) {
	full, err := r.full(p)
	if err != nil {
		return nil, 0, err
	}
	resp, err := r.c.Do(ctx, http.MethodGet, base+"/"+escape(full), nil, nil)
	if err != nil {
		return nil, 0, err
	}
	if err := check(resp, p); err != nil {
		resp.Body.Close()
		return nil, 0, err
	}
	return resp.Body, resp.ContentLength, nil
}

// Put implements artifact.Repository.
func (r *Repository) Put(ctx context.Context, p string, body io.Reader) error {
	full, err := r.full(p)
	if err != nil {
		return err
	}
	resp, err := r.c.Do(ctx, http.MethodPut, base+"/"+escape(full), body, http.Header{"Content-Type": {"application/octet-stream"}})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return check(resp, p)
}

// Delete implements artifact.Repository.
func (r *Repository) Delete(ctx context.Context, p string) error {
	full, err := r.full(p)
	if err != nil {
		return err
	}
	resp, err := r.c.Do(ctx, http.MethodDelete, base+"/"+escape(full), nil, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return check(resp, p)
}
