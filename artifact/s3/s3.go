package s3

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/mlrun/mlrun/artifact"
)

// PartSize is the size of one part of a streamed upload, and so the
// memory one upload holds; a streamed object may have 10,000 parts
// (160 GiB).
const PartSize = 16 << 20

// Config is where and how to reach S3, as MLflow reads it from the
// environment.
type Config struct {
	// Endpoint is MLFLOW_S3_ENDPOINT_URL (e.g. http://127.0.0.1:9000);
	// "" is AWS.
	Endpoint string
	// IgnoreTLS is MLFLOW_S3_IGNORE_TLS=true: certificates not verified.
	IgnoreTLS bool
	// CABundle is AWS_CA_BUNDLE: a PEM file of extra trusted CAs.
	CABundle string
	// Region is AWS_DEFAULT_REGION (or AWS_REGION); "" asks the bucket.
	Region string
}

// ConfigFromEnv reads Config from MLflow's environment variables.
func ConfigFromEnv() Config {
	region := os.Getenv("AWS_DEFAULT_REGION")
	if region == "" {
		region = os.Getenv("AWS_REGION")
	}
	return Config{
		Endpoint:  os.Getenv("MLFLOW_S3_ENDPOINT_URL"),
		IgnoreTLS: strings.EqualFold(os.Getenv("MLFLOW_S3_IGNORE_TLS"), "true"),
		CABundle:  os.Getenv("AWS_CA_BUNDLE"),
		Region:    region,
	}
}

// Client opens buckets with one configuration; it is safe for concurrent
// use and keeps one connection pool.
type Client struct {
	mc *minio.Client
}

var (
	envMu      sync.Mutex
	envClients = map[Config]*Client{}
)

// FromEnv returns the client for MLflow's environment, made once per
// configuration.
func FromEnv() (*Client, error) {
	cfg := ConfigFromEnv()
	envMu.Lock()
	defer envMu.Unlock()
	if c, ok := envClients[cfg]; ok {
		return c, nil
	}
	c, err := NewClient(cfg)
	if err != nil {
		return nil, err
	}
	envClients[cfg] = c
	return c, nil
}

// Open returns the repository of bucket below prefix, reached with
// MLflow's S3 environment (FromEnv): what a resolver's S3 hook is.
func Open(bucket, prefix string) (artifact.Repository, error) {
	c, err := FromEnv()
	if err != nil {
		return nil, err
	}
	return c.Repository(bucket, prefix)
}

// NewClient returns a client for cfg.
func NewClient(cfg Config) (*Client, error) {
	host, secure := "s3.amazonaws.com", true
	if cfg.Endpoint != "" {
		u, err := url.Parse(cfg.Endpoint)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("MLFLOW_S3_ENDPOINT_URL %q: want http(s)://host[:port]", cfg.Endpoint)
		}
		host, secure = u.Host, u.Scheme == "https"
	}
	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil, err
	}
	if secure && (cfg.IgnoreTLS || cfg.CABundle != "") {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.IgnoreTLS}
		if cfg.CABundle != "" {
			pem, err := os.ReadFile(cfg.CABundle)
			if err != nil {
				return nil, fmt.Errorf("AWS_CA_BUNDLE: %w", err)
			}
			pool, err := x509.SystemCertPool()
			if err != nil {
				pool = x509.NewCertPool()
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("AWS_CA_BUNDLE %s: no PEM certificate in it", cfg.CABundle)
			}
			tc.RootCAs = pool
		}
		tr.TLSClientConfig = tc
	}
	creds := credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{},
		&credentials.FileAWSCredentials{},
		&credentials.IAM{Client: &http.Client{Transport: http.DefaultTransport, Timeout: 5 * time.Second}},
	})
	mc, err := minio.New(host, &minio.Options{Creds: creds, Secure: secure, Transport: tr, Region: cfg.Region})
	if err != nil {
		return nil, fmt.Errorf("s3 client for %s: %w", host, err)
	}
	return &Client{mc: mc}, nil
}

// Repository returns the repository of bucket below prefix (which must
// pass artifact.CleanPath).
func (c *Client) Repository(bucket, prefix string) (*Repository, error) {
	p, err := artifact.CleanPath(prefix)
	if err != nil {
		return nil, err
	}
	if bucket == "" {
		return nil, errors.New("s3: no bucket")
	}
	return &Repository{c: c, bucket: bucket, prefix: p}, nil
}

// Repository is the artifacts below one prefix of one bucket.
type Repository struct {
	c      *Client
	bucket string
	prefix string // cleaned, no slashes at either end; "" for the bucket
}

var _ artifact.Repository = (*Repository)(nil)

// URI is the repository's s3:// URI.
func (r *Repository) URI() string {
	return strings.TrimSuffix("s3://"+r.bucket+"/"+r.prefix, "/")
}

// key is the object key of a repository path.
func (r *Repository) key(p string) (string, error) {
	c, err := artifact.CleanPath(p)
	if err != nil {
		return "", err
	}
	switch {
	case r.prefix == "":
		return c, nil
	case c == "":
		return r.prefix, nil
	}
	return r.prefix + "/" + c, nil
}

// rel is a key's path relative to the repository.
func (r *Repository) rel(key string) string {
	if r.prefix == "" {
		return key
	}
	return strings.TrimPrefix(key, r.prefix+"/")
}

// mapErr turns S3 errors into artifact kinds.
func (r *Repository) mapErr(p string, err error) error {
	if err == nil {
		return nil
	}
	switch minio.ToErrorResponse(err).Code {
	case minio.NoSuchKey, "NotFound":
		return fmt.Errorf("%w: '%s'", artifact.ErrNotFound, p)
	case "NoSuchUpload", "InvalidPart", "InvalidPartOrder", "EntityTooSmall":
		return fmt.Errorf("%w of '%s': %s", artifact.ErrInvalidUpload, p, minio.ToErrorResponse(err).Message)
	case minio.NoSuchBucket:
		return fmt.Errorf("s3 bucket '%s' does not exist: %w", r.bucket, err)
	}
	return fmt.Errorf("s3://%s artifact '%s': %w", r.bucket, p, err)
}

// List implements artifact.Repository: the objects and common prefixes
// directly below dir.
func (r *Repository) List(ctx context.Context, dir string) ([]artifact.FileInfo, error) {
	k, err := r.key(dir)
	if err != nil {
		return nil, err
	}
	if k != "" {
		k += "/"
	}
	var out []artifact.FileInfo
	for o := range r.c.mc.ListObjects(ctx, r.bucket, minio.ListObjectsOptions{Prefix: k}) {
		if o.Err != nil {
			return nil, r.mapErr(dir, o.Err)
		}
		if o.Key == k {
			continue // a folder marker object
		}
		if strings.HasSuffix(o.Key, "/") {
			out = append(out, artifact.FileInfo{Path: r.rel(strings.TrimSuffix(o.Key, "/")), IsDir: true})
		} else {
			out = append(out, artifact.FileInfo{Path: r.rel(o.Key), Size: o.Size})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Open implements artifact.Repository: the object streams as it is read.
func (r *Repository) Open(ctx context.Context, p string) (io.ReadCloser, int64, error) {
	k, err := r.key(p)
	if err != nil {
		return nil, 0, err
	}
	if k == r.prefix {
		return nil, 0, fmt.Errorf("%w '': not a file", artifact.ErrInvalidPath)
	}
	obj, err := r.c.mc.GetObject(ctx, r.bucket, k, minio.GetObjectOptions{})
	if err != nil {
		return nil, 0, r.mapErr(p, err)
	}
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		return nil, 0, r.mapErr(p, err)
	}
	return obj, st.Size, nil
}

// Put implements artifact.Repository: src streams into the object in
// parts of PartSize; S3 shows the object only once it is complete, and an
// upload that fails is aborted.
func (r *Repository) Put(ctx context.Context, p string, src io.Reader) error {
	k, err := r.key(p)
	if err != nil {
		return err
	}
	if k == r.prefix {
		return fmt.Errorf("%w '': an upload needs a file path", artifact.ErrInvalidPath)
	}
	size := int64(-1)
	if f, ok := src.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size()
		}
	}
	_, err = r.c.mc.PutObject(ctx, r.bucket, k, src, size, minio.PutObjectOptions{PartSize: PartSize, ContentType: "application/octet-stream"})
	return r.mapErr(p, err)
}

// Delete implements artifact.Repository: the object at p and every object
// below p/.
func (r *Repository) Delete(ctx context.Context, p string) error {
	k, err := r.key(p)
	if err != nil {
		return err
	}
	objects := make(chan minio.ObjectInfo)
	var found atomic.Bool
	listErr := make(chan error, 1)
	go func() {
		defer close(objects)
		if k != "" {
			if _, err := r.c.mc.StatObject(ctx, r.bucket, k, minio.StatObjectOptions{}); err == nil {
				found.Store(true)
				objects <- minio.ObjectInfo{Key: k}
			}
		}
		under := k + "/"
		if k == "" {
			under = ""
		}
		for o := range r.c.mc.ListObjects(ctx, r.bucket, minio.ListObjectsOptions{Prefix: under, Recursive: true}) {
			if o.Err != nil {
				listErr <- o.Err
				return
			}
			found.Store(true)
			objects <- o
		}
	}()
	for e := range r.c.mc.RemoveObjects(ctx, r.bucket, objects, minio.RemoveObjectsOptions{}) {
		if e.Err != nil {
			for range objects {
			}
			return r.mapErr(p, e.Err)
		}
	}
	select {
	case err := <-listErr:
		return r.mapErr(p, err)
	default:
	}
	if !found.Load() {
		return fmt.Errorf("%w: '%s'", artifact.ErrNotFound, p)
	}
	return nil
}

// presignExpiry is how long a part URL is valid (boto3's default).
const presignExpiry = time.Hour

var _ artifact.Multipart = (*Repository)(nil)

// CreateMultipart implements artifact.Multipart: an S3 multipart upload
// and a presigned UploadPart URL for each part.
func (r *Repository) CreateMultipart(ctx context.Context, p string, numParts int) (string, []artifact.PartURL, error) {
	k, err := r.key(p)
	if err != nil {
		return "", nil, err
	}
	if k == r.prefix {
		return "", nil, fmt.Errorf("%w '': an upload needs a file path", artifact.ErrInvalidPath)
	}
	if numParts < 1 || numParts > artifact.MaxParts {
		return "", nil, fmt.Errorf("num_parts %d: want 1 to %d", numParts, artifact.MaxParts)
	}
	core := minio.Core{Client: r.c.mc}
	id, err := core.NewMultipartUpload(ctx, r.bucket, k, minio.PutObjectOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return "", nil, r.mapErr(p, err)
	}
	parts := make([]artifact.PartURL, numParts)
	for i := range parts {
		q := url.Values{"partNumber": {strconv.Itoa(i + 1)}, "uploadId": {id}}
		u, err := r.c.mc.Presign(ctx, http.MethodPut, r.bucket, k, presignExpiry, q)
		if err != nil {
			core.AbortMultipartUpload(context.WithoutCancel(ctx), r.bucket, k, id)
			return "", nil, r.mapErr(p, err)
		}
		parts[i] = artifact.PartURL{PartNumber: i + 1, URL: u.String(), Headers: map[string]string{}}
	}
	return id, parts, nil
}

// CompleteMultipart implements artifact.Multipart.
func (r *Repository) CompleteMultipart(ctx context.Context, p, uploadID string, parts []artifact.Part) error {
	k, err := r.key(p)
	if err != nil {
		return err
	}
	cps := make([]minio.CompletePart, len(parts))
	for i, pt := range parts {
		cps[i] = minio.CompletePart{PartNumber: pt.PartNumber, ETag: pt.ETag}
	}
	sort.Slice(cps, func(i, j int) bool { return cps[i].PartNumber < cps[j].PartNumber })
	_, err = minio.Core{Client: r.c.mc}.CompleteMultipartUpload(ctx, r.bucket, k, uploadID, cps, minio.PutObjectOptions{})
	return r.mapErr(p, err)
}

// AbortMultipart implements artifact.Multipart.
func (r *Repository) AbortMultipart(ctx context.Context, p, uploadID string) error {
	k, err := r.key(p)
	if err != nil {
		return err
	}
	return r.mapErr(p, minio.Core{Client: r.c.mc}.AbortMultipartUpload(ctx, r.bucket, k, uploadID))
}
