package artifact

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"strings"
)

// Error kinds.
var (
	// ErrInvalidPath: the path is absolute, climbs out with '..', has a
	// backslash or an encoded separator, or a symlink leads out of the root.
	ErrInvalidPath = errors.New("invalid artifact path")
	// ErrNotFound: no file or folder at that path.
	ErrNotFound = errors.New("artifact not found")
	// ErrInvalidUpload: a multipart upload that cannot complete as asked
	// (no such upload id, a part missing or with another ETag, parts too
	// small).
	ErrInvalidUpload = errors.New("invalid multipart upload")
)

// FileInfo describes one entry of a listing.
type FileInfo struct {
	Path  string // relative to the folder listed's root, '/'-separated
	IsDir bool
	Size  int64 // files only
}

// Repository stores artifact files under a root. Paths are relative,
// '/'-separated, and pass CleanPath; "" is the root itself.
type Repository interface {
	// List returns the entries directly inside dir, sorted by name, with
	// Path relative to the repository root. A missing dir lists nothing.
	List(ctx context.Context, dir string) ([]FileInfo, error)
	// Open returns the file's contents and size (ErrNotFound).
	Open(ctx context.Context, p string) (io.ReadCloser, int64, error)
	// Put writes r to p, making parent folders; the file appears whole or
	// not at all.
	Put(ctx context.Context, p string, r io.Reader) error
	// Delete removes a file or a folder tree (ErrNotFound).
	Delete(ctx context.Context, p string) error
}

// Multipart is a repository whose clients can upload a file in parts sent
// straight to the store (S3's multipart upload with presigned part URLs),
// as MLflow's proxied multipart upload (mlflow-artifacts/mpu/…) does.
type Multipart interface {
	// CreateMultipart starts an upload of the file p in numParts parts
	// and returns its id and a URL (with headers) to PUT each part to.
	CreateMultipart(ctx context.Context, p string, numParts int) (uploadID string, parts []PartURL, err error)
	// CompleteMultipart joins the uploaded parts into the file p.
	CompleteMultipart(ctx context.Context, p, uploadID string, parts []Part) error
	// AbortMultipart drops an upload and its parts.
	AbortMultipart(ctx context.Context, p, uploadID string) error
}

// PartURL is where a client sends one part of a multipart upload.
type PartURL struct {
	PartNumber int
	URL        string
	Headers    map[string]string
}

// Part is one uploaded part: its number and the ETag the store gave it.
type Part struct {
	PartNumber int
	ETag       string
}

// MaxParts is S3's limit on the parts of one upload.
const MaxParts = 10000

// CleanPath checks a relative artifact path and returns it cleaned ("" for
// the root). It refuses absolute paths, '..' segments, backslashes, NUL,
// '#' and file: URIs (as MLflow's validate_path_is_safe), and
// percent-encoded forms of those (a path is decoded again and must
// still be safe), so the caller can join it to a root safely.
func CleanPath(p string) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w '%s': %s", ErrInvalidPath, p, why)
	}
	for s, i := p, 0; i < 3; i++ {
		if strings.ContainsAny(s, "\\\x00") {
			return bad("backslashes and NUL are not allowed")
		}
		if strings.Contains(s, "#") {
			return bad("'#' is not allowed (MLflow's rule)")
		}
		if len(s) >= 5 && strings.EqualFold(s[:5], "file:") {
			return bad("a file: URI is not a relative path")
		}
		if strings.HasPrefix(s, "/") || (len(s) > 1 && s[1] == ':') {
			return bad("absolute paths are not allowed")
		}
		for _, seg := range strings.Split(s, "/") {
			if seg == ".." {
				return bad("'..' is not allowed")
			}
		}
		d, err := url.PathUnescape(s)
		if err != nil || d == s {
			break
		}
		s = d
	}
	c := path.Clean(p)
	if c == "." {
		return "", nil
	}
	return c, nil
}
