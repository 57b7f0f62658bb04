package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/mlrun/mlrun/artifact"
	"github.com/mlrun/mlrun/artifact/local"
	"github.com/mlrun/mlrun/artifact/s3"
	"github.com/mlrun/mlrun/internal/wire"
)

const (
	artifactsPrefix = "/api/2.0/mlflow-artifacts/artifacts"
	mpuPrefix       = "/api/2.0/mlflow-artifacts/mpu/"
)

// runRepo returns the repository holding a run's artifacts, through the
// server's one resolver: mlflow-artifacts:/ and proxy URLs resolve into
// the proxied destination; local paths only under the server's roots.
func (s *Server) runRepo(uri string) (artifact.Repository, error) {
	return s.resolver.Resolve(uri)
}

// holdsFiles is registry.Exists over the server's artifact roots: whether
// the folder at uri holds anything.
func (s *Server) holdsFiles(ctx context.Context, uri string) (bool, error) {
	repo, err := s.runRepo(uri)
	if err != nil {
		return false, err
	}
	files, err := repo.List(ctx, "")
	return len(files) > 0, err
}

// newResolver is the server's artifact resolver.
func (s *Server) newResolver() *artifact.Resolver {
	r := &artifact.Resolver{Roots: s.opts.ArtifactRoots, Local: func(dir string) artifact.Repository { return local.New(dir) },
		S3Roots: s.opts.S3Roots, S3: s3.Open}
	if s.opts.Artifacts != nil {
		r.Proxy = func(prefix string) (artifact.Repository, error) { return artifact.Sub(s.opts.Artifacts, prefix), nil }
		// A proxy URL naming a server is taken as this server's own
		// (MLflow's clients store the URL they were given).
		r.Remote = func(_, prefix string) (artifact.Repository, error) { return r.Proxy(prefix) }
	} else {
		r.Proxy = func(string) (artifact.Repository, error) {
			return nil, &apiError{codeInvalidParameter, "this server does not serve artifacts (--no-serve-artifacts), so it cannot read mlflow-artifacts:/ locations"}
		}
		r.Remote = func(string, string) (artifact.Repository, error) { return r.Proxy("") }
	}
	return r
}

func (s *Server) listArtifacts(w http.ResponseWriter, r *http.Request) {
	handle(w, r, func(req *wire.ListArtifacts) (any, error) {
		if err := require("run_id", req.ID()); err != nil {
			return nil, err
		}
		rel, err := artifact.CleanPath(req.Path)
		if err != nil {
			return nil, err
		}
		run, err := s.store.GetRun(r.Context(), req.ID())
		if err != nil {
			return nil, err
		}
		repo, err := s.runRepo(run.Info.ArtifactURI)
		if err != nil {
			return nil, err
		}
		files, err := repo.List(r.Context(), rel)
		if err != nil {
			return nil, err
		}
		resp := wire.ListArtifactsResponse{RootURI: run.Info.ArtifactURI}
		for _, f := range files {
			resp.Files = append(resp.Files, fileInfo(f.Path, f))
		}
		return resp, nil
	})
}

func fileInfo(p string, f artifact.FileInfo) wire.FileInfo {
	fi := wire.FileInfo{Path: p, IsDir: f.IsDir}
	if !f.IsDir {
		n := wire.Int64(f.Size)
		fi.FileSize = &n
	}
	return fi
}

// runArtifact resolves the query's run (run_id or run_uuid) and path to
// the repository and full path of one of its artifacts.
func (s *Server) runArtifact(r *http.Request) (artifact.Repository, string, error) {
	q := r.URL.Query()
	id := firstNonEmpty(q.Get("run_id"), q.Get("run_uuid"))
	if id == "" {
		return nil, "", missingParam("run_id")
	}
	rel, err := artifact.CleanPath(q.Get("path"))
	if err != nil {
		return nil, "", err
	}
	run, err := s.store.GetRun(r.Context(), id)
	if err != nil {
		return nil, "", err
	}
	repo, err := s.runRepo(run.Info.ArtifactURI)
	if err != nil {
		return nil, "", err
	}
	if rel == "" {
		return repo, "", missingParam("path")
	}
	return repo, rel, nil
}

// getRunArtifact is the UI's /get-artifact?run_id=…&path=….
func (s *Server) getRunArtifact(w http.ResponseWriter, r *http.Request) {
	repo, p, err := s.runArtifact(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	serveFile(w, r, repo, p)
}

// uploadRunArtifact is the UI's POST /ajax-api/2.0/mlflow/upload-artifact
// ?run_uuid=…&path=…: the raw body (at most 10 MB) becomes a run artifact.
func (s *Server) uploadRunArtifact(w http.ResponseWriter, r *http.Request) {
	repo, p, err := s.runArtifact(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	body := http.MaxBytesReader(w, r.Body, 10<<20)
	if err := repo.Put(r.Context(), p, body); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = invalidParam("artifact upload is larger than 10 MB")
		}
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, empty{})
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// serveArtifacts serves the artifact proxy. It is dispatched before the
// mux so that a '..' in the URL is refused with INVALID_PARAMETER_VALUE
// rather than redirected.
func (s *Server) serveArtifacts(w http.ResponseWriter, r *http.Request) {
	if s.opts.Artifacts == nil {
		http.Error(w, "Endpoint disabled: this server was started with --no-serve-artifacts", http.StatusServiceUnavailable)
		return
	}
	esc := r.URL.EscapedPath()
	if strings.HasPrefix(esc, mpuPrefix) {
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		s.multipart(w, r, strings.TrimPrefix(esc, mpuPrefix))
		return
	}
	rest := strings.TrimPrefix(esc, artifactsPrefix)
	if rest == "" || rest == "/" {
		if r.Method != http.MethodGet {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		s.proxyList(w, r)
		return
	}
	if !strings.HasPrefix(rest, "/") {
		http.NotFound(w, r)
		return
	}
	raw, err := url.PathUnescape(rest[1:])
	if err != nil {
		writeError(w, r, fmt.Errorf("%w '%s': bad percent-encoding", artifact.ErrInvalidPath, rest[1:]))
		return
	}
	p, err := artifact.CleanPath(raw)
	if err != nil {
		writeError(w, r, err)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		serveFile(w, r, s.opts.Artifacts, p)
	case http.MethodPut:
		if p == "" {
			writeError(w, r, invalidParam("an artifact upload needs a file path"))
			return
		}
		if r.ContentLength > s.opts.UploadLimit {
			writeUploadTooLarge(w, s.opts.UploadLimit)
			return
		}
		if err := s.opts.Artifacts.Put(r.Context(), p, http.MaxBytesReader(w, r.Body, s.opts.UploadLimit)); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				writeUploadTooLarge(w, s.opts.UploadLimit)
				return
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				http.Error(w, "the upload stalled: nothing was kept", http.StatusRequestTimeout)
				return
			}
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, empty{})
	case http.MethodDelete:
		if p == "" {
			writeError(w, r, invalidParam("refusing to delete the artifact root"))
			return
		}
		if err := s.opts.Artifacts.Delete(r.Context(), p); err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, empty{})
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// proxyList lists one folder of the destination; paths are basenames.
func (s *Server) proxyList(w http.ResponseWriter, r *http.Request) {
	p, err := artifact.CleanPath(r.URL.Query().Get("path"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	files, err := s.opts.Artifacts.List(r.Context(), p)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var resp wire.ProxyListResponse
	for _, f := range files {
		resp.Files = append(resp.Files, fileInfo(path.Base(f.Path), f))
	}
	writeJSON(w, http.StatusOK, resp)
}

// serveFile streams one file with download headers.
func serveFile(w http.ResponseWriter, r *http.Request, repo artifact.Repository, p string) {
	rc, size, err := repo.Open(r.Context(), p)
	if err != nil {
		writeError(w, r, err)
		return
	}
	defer rc.Close()
	ct := mime.TypeByExtension(path.Ext(p))
	if ct == "" {
		ct = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(p)}))
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Method == http.MethodHead {
		return
	}
	io.Copy(w, rc)
}

// writeUploadTooLarge refuses an upload over the server's cap; nothing of
// it is kept (repositories write a file whole or not at all).
func writeUploadTooLarge(w http.ResponseWriter, limit int64) {
	writeJSON(w, http.StatusRequestEntityTooLarge, wire.ErrorBody{ErrorCode: codeInvalidParameter,
		Message: fmt.Sprintf("artifact upload is larger than this server's limit of %d bytes (mlrun server --max-upload-size)", limit)})
}

// mpuRequest is the body of MLflow's proxied multipart upload calls
// (mlflow_artifacts.proto CreateMultipartUpload, CompleteMultipartUpload,
// AbortMultipartUpload).
type mpuRequest struct {
	Path     string `json:"path"`
	NumParts *int64 `json:"num_parts"`
	UploadID string `json:"upload_id"`
	Parts    []struct {
		PartNumber int64  `json:"part_number"`
		ETag       string `json:"etag"`
		URL        string `json:"url"`
	} `json:"parts"`
}

type mpuCredential struct {
	URL        string            `json:"url"`
	PartNumber int64             `json:"part_number"`
	Headers    map[string]string `json:"headers"`
}

// multipart serves POST mlflow-artifacts/mpu/{create,complete,abort}/<dir>
// as MLflow does: the file is <dir>/<basename of the body's path> in the
// destination; parts go straight to the store through presigned URLs. A
// destination that cannot (a local folder) answers 501 with MLflow's exact
// message, on which MLflow's client falls back to one PUT.
func (s *Server) multipart(w http.ResponseWriter, r *http.Request, rest string) {
	op, rawDir, _ := strings.Cut(rest, "/")
	if op != "create" && op != "complete" && op != "abort" {
		http.NotFound(w, r)
		return
	}
	mp, ok := s.opts.Artifacts.(artifact.Multipart)
	if !ok {
		writeError(w, r, &apiError{codeNotImplemented, "Multipart upload is not supported for the current artifact repository"})
		return
	}
	dir, err := url.PathUnescape(rawDir)
	if err != nil {
		writeError(w, r, fmt.Errorf("%w '%s': bad percent-encoding", artifact.ErrInvalidPath, rawDir))
		return
	}
	if dir, err = artifact.CleanPath(dir); err != nil {
		writeError(w, r, err)
		return
	}
	var req mpuRequest
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.BodyLimit)
	if err := decode(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	if req.Path == "" {
		writeError(w, r, missingParam("path"))
		return
	}
	// The body's path is the client's local file: only its name is used.
	name := req.Path[strings.LastIndexAny(req.Path, "/\\")+1:]
	p, err := artifact.CleanPath(path.Join(dir, name))
	if err != nil || name == "" || name == "." || name == ".." {
		writeError(w, r, invalidParam(fmt.Sprintf("path %q: want a file name", req.Path)))
		return
	}
	switch op {
	case "create":
		n := int64(1)
		if req.NumParts != nil {
			n = *req.NumParts
		}
		if n < 1 || n > artifact.MaxParts {
			writeError(w, r, invalidParam(fmt.Sprintf("num_parts %d: want 1 to %d", n, artifact.MaxParts)))
			return
		}
		id, parts, err := mp.CreateMultipart(r.Context(), p, int(n))
		if err != nil {
			writeError(w, r, err)
			return
		}
		resp := struct {
			UploadID    string          `json:"upload_id"`
			Credentials []mpuCredential `json:"credentials"`
		}{UploadID: id}
		for _, pt := range parts {
			resp.Credentials = append(resp.Credentials, mpuCredential{URL: pt.URL, PartNumber: int64(pt.PartNumber), Headers: pt.Headers})
		}
		writeJSON(w, http.StatusOK, resp)
	case "complete":
		if req.UploadID == "" {
			writeError(w, r, missingParam("upload_id"))
			return
		}
		if len(req.Parts) == 0 {
			writeError(w, r, missingParam("parts"))
			return
		}
		parts := make([]artifact.Part, len(req.Parts))
		for i, pt := range req.Parts {
			if pt.PartNumber < 1 || pt.PartNumber > artifact.MaxParts || pt.ETag == "" {
				writeError(w, r, invalidParam(fmt.Sprintf("parts[%d]: want a part_number from 1 to %d and its etag", i, artifact.MaxParts)))
				return
			}
			parts[i] = artifact.Part{PartNumber: int(pt.PartNumber), ETag: pt.ETag}
		}
		if err := mp.CompleteMultipart(r.Context(), p, req.UploadID, parts); err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, empty{})
	case "abort":
		if req.UploadID == "" {
			writeError(w, r, missingParam("upload_id"))
			return
		}
		if err := mp.AbortMultipart(r.Context(), p, req.UploadID); err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, empty{})
	}
}
