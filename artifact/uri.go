package artifact

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strings"
)

// ErrForbidden: the URI is well formed but points at local files outside
// every root the caller may touch (a server's artifact roots).
var ErrForbidden = errors.New("artifact location outside the allowed roots")

// MaxLocationLength is MLflow's limit on an artifact location
// (MLFLOW_ARTIFACT_LOCATION_MAX_LENGTH's default).
const MaxLocationLength = 2048

// Kind says where a Location's files are.
type Kind int

const (
	// Local: a folder on this machine (a path or a file:// URI).
	Local Kind = iota
	// Proxy: mlflow-artifacts:/<path>, the tracking server's proxy.
	Proxy
	// RemoteProxy: http(s)://host/…/api/2.0/mlflow-artifacts/artifacts/<path>,
	// a named server's proxy.
	RemoteProxy
	// S3: s3://bucket/key, an S3-compatible object store; Base is the
	// bucket, Path the key prefix.
	S3
)

// ProxyMarker is the path of the artifact proxy below a server's base URL.
const ProxyMarker = "/api/2.0/mlflow-artifacts/artifacts"

// Location is a parsed artifact URI.
type Location struct {
	Kind Kind
	// Path is the cleaned absolute folder (Local, OS separators) or the
	// cleaned relative path inside the proxy's destination ("" for its
	// root; Proxy and RemoteProxy).
	Path string
	// Base is the server's base URL, credentials included (RemoteProxy),
	// or the bucket (S3).
	Base string
}

// ParseURI is the one parser of artifact URIs: a run's artifact_uri, an
// experiment's artifact_location, a model version's source. It refuses,
// with ErrInvalidPath, what MLflow refuses of a client-given location (a
// fragment, ';' params, a query, a runs: URI, an over-long one) and what
// could climb out of a root (a '..' segment or NUL, also once or twice
// percent-decoded), and, with ErrUnsupported, a scheme mlrun does not
// serve. A relative local path is made absolute against the working
// directory.
func ParseURI(uri string) (Location, error) {
	bad := func(why string) (Location, error) {
		return Location{}, fmt.Errorf("%w: artifact URI '%s' %s", ErrInvalidPath, uri, why)
	}
	if uri == "" {
		return bad("is empty")
	}
	if len(uri) > MaxLocationLength {
		return bad(fmt.Sprintf("is longer than %d characters", MaxLocationLength))
	}
	if strings.HasPrefix(uri, "runs:") {
		return bad("is a runs:/ URI; an artifact location cannot be one")
	}
	if strings.ContainsAny(uri, "#\x00") {
		return bad("has a fragment ('#') or NUL; artifact URLs can't include fragments or params")
	}
	u, err := url.Parse(uri)
	if err != nil {
		return bad("does not parse: " + err.Error())
	}
	if u.RawQuery != "" || u.ForceQuery {
		return bad("has a query string")
	}
	if strings.Contains(u.Path, ";") || strings.Contains(u.RawPath, ";") {
		return bad("has ';' params; artifact URLs can't include fragments or params")
	}
	if err := noClimb(u.EscapedPath()); err != nil {
		return bad(err.Error())
	}
	switch u.Scheme {
	case "", "file":
		if u.Scheme == "file" && u.Host != "" && u.Host != "localhost" {
			return bad("names another host; only local file:// URIs are served")
		}
		p := u.Path
		if u.Scheme == "" {
			p = uri // a plain path: keep '%' and the like as they are
		}
		abs, err := filepath.Abs(filepath.FromSlash(p))
		if err != nil {
			return bad(err.Error())
		}
		return Location{Kind: Local, Path: abs}, nil
	case "mlflow-artifacts":
		rel, err := CleanPath(strings.TrimPrefix(u.Path, "/"))
		if err != nil {
			return Location{}, err
		}
		return Location{Kind: Proxy, Path: rel}, nil
	case "s3":
		if u.Host == "" || u.User != nil {
			return bad("needs a bucket: s3://bucket/prefix")
		}
		rel, err := CleanPath(strings.TrimPrefix(u.Path, "/"))
		if err != nil {
			return Location{}, err
		}
		return Location{Kind: S3, Path: rel, Base: u.Host}, nil
	case "http", "https":
		i := strings.Index(u.Path, ProxyMarker)
		if u.Host == "" || i < 0 || (len(u.Path) > i+len(ProxyMarker) && u.Path[i+len(ProxyMarker)] != '/') {
			return Location{}, fmt.Errorf("%w: artifact URI '%s' is not an mlflow-artifacts proxy URL (…%s/<path>)", ErrUnsupported, uri, ProxyMarker)
		}
		rel, err := CleanPath(strings.TrimPrefix(u.Path[i+len(ProxyMarker):], "/"))
		if err != nil {
			return Location{}, err
		}
		base := &url.URL{Scheme: u.Scheme, Host: u.Host, User: u.User, Path: u.Path[:i]}
		return Location{Kind: RemoteProxy, Path: rel, Base: base.String()}, nil
	}
	return Location{}, fmt.Errorf("%w: artifact URI scheme '%s' (in '%s') is not served by mlrun; use a local path, file://, mlflow-artifacts:/, s3:// or an http(s) artifact proxy URL", ErrUnsupported, u.Scheme, uri)
}

// ErrUnsupported: the URI's scheme is not one mlrun serves.
var ErrUnsupported = errors.New("unsupported artifact URI")

// noClimb refuses a '..' segment in p, also after up to two rounds of
// percent-decoding.
func noClimb(p string) error {
	for i := 0; i < 3; i++ {
		for _, seg := range strings.Split(p, "/") {
			if seg == ".." {
				return errors.New("has a '..' segment")
			}
		}
		if strings.ContainsAny(p, "\\\x00") && i > 0 {
			return errors.New("has an encoded backslash or NUL")
		}
		d, err := url.PathUnescape(p)
		if err != nil {
			return errors.New("has bad percent-encoding")
		}
		if d == p {
			return nil
		}
		p = d
	}
	return nil
}

// Resolver turns artifact URIs into repositories; every caller that reads
// or writes artifacts by URI goes through one.
type Resolver struct {
	// Roots are the local folders (absolute) a Local URI may point into;
	// a URI elsewhere gets ErrForbidden. Open (nil) allows any folder: a
	// command working on its user's own files.
	Roots []string
	// Open disables the Roots check (the CLI).
	Open bool
	// Local returns the repository of a local folder (artifact/local).
	Local func(dir string) Repository
	// Proxy returns the repository of the tracking server's proxy below a
	// relative prefix (mlflow-artifacts:/ URIs); nil refuses them.
	Proxy func(prefix string) (Repository, error)
	// Remote returns the repository of the proxy of the server at base
	// below prefix (http(s) proxy URLs); nil refuses them.
	Remote func(base, prefix string) (Repository, error)
	// S3 returns the repository of a bucket below prefix; nil refuses
	// s3:// URIs.
	S3 func(bucket, prefix string) (Repository, error)
	// S3Roots are the s3://bucket/prefix locations an S3 URI may point
	// into (unless Open); a URI elsewhere gets ErrForbidden.
	S3Roots []string
}

// Resolve returns the repository holding the files of uri.
func (r *Resolver) Resolve(uri string) (Repository, error) {
	loc, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	switch loc.Kind {
	case Local:
		if r.Open {
			return r.Local(loc.Path), nil
		}
		root, rel, ok := Within(r.Roots, loc.Path)
		if !ok {
			return nil, fmt.Errorf("%w: '%s' is not under any artifact root of this server (--artifacts-destination, --default-artifact-root, --allowed-artifact-roots)", ErrForbidden, uri)
		}
		// Opened at the root, so a symlink on the way cannot lead out.
		return Sub(r.Local(root), rel), nil
	case Proxy:
		if r.Proxy == nil {
			return nil, fmt.Errorf("%w: '%s' is served by a tracking server's artifact proxy, which is not available here", ErrUnsupported, uri)
		}
		return r.Proxy(loc.Path)
	case S3:
		if r.S3 == nil {
			return nil, fmt.Errorf("%w: '%s' is in S3, which this mlrun does not read or write yet", ErrUnsupported, uri)
		}
		if !r.Open && !withinS3(r.S3Roots, loc) {
			return nil, fmt.Errorf("%w: '%s' is not under any S3 artifact root of this server (--artifacts-destination, --default-artifact-root, --allowed-artifact-roots)", ErrForbidden, uri)
		}
		return r.S3(loc.Base, loc.Path)
	default:
		if r.Remote == nil {
			return nil, fmt.Errorf("%w: '%s' is another server's artifact proxy", ErrUnsupported, uri)
		}
		return r.Remote(loc.Base, loc.Path)
	}
}

// Within returns the root of roots that holds dir (both absolute) and
// dir's '/'-separated path inside it. It compares cleaned paths only; a
// repository opened at the root confines symlinks.
func Within(roots []string, dir string) (root, rel string, ok bool) {
	dir = filepath.Clean(dir)
	for _, root := range roots {
		root = filepath.Clean(root)
		r, err := filepath.Rel(root, dir)
		if err != nil || !filepath.IsLocal(r) && r != "." {
			continue
		}
		if r == "." {
			r = ""
		}
		return root, filepath.ToSlash(r), true
	}
	return "", "", false
}

// withinS3 reports whether an S3 location lies in one of roots (s3://
// URIs): the same bucket, and a key prefix at or below the root's.
func withinS3(roots []string, loc Location) bool {
	for _, root := range roots {
		rl, err := ParseURI(root)
		if err != nil || rl.Kind != S3 || rl.Base != loc.Base {
			continue
		}
		if rl.Path == "" || loc.Path == rl.Path || strings.HasPrefix(loc.Path, rl.Path+"/") {
			return true
		}
	}
	return false
}

// Join returns the path p below prefix, both relative.
func join(prefix, p string) string {
	return strings.TrimPrefix(path.Join(prefix, p), "/")
}
