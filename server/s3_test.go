package server_test

import (
	"bytes"
	"crypto/sha256"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/artifact/s3"
	"github.com/mlrun/mlrun/internal/testutil"
	"github.com/mlrun/mlrun/server"
)

// s3Server is an in-process mlrun server whose artifact destination is
// s3://<bucket>/dest on a real S3 server.
func s3Server(t *testing.T) (*testServer, *testutil.S3) {
	t.Helper()
	s3srv := testutil.StartS3(t)
	repo, err := s3.Open(s3srv.Bucket, "dest")
	if err != nil {
		t.Fatal(err)
	}
	s := testutil.StartServer(t, false, func(o *server.Options) { o.Artifacts = repo })
	return &testServer{url: s.URL, store: s.Store, dir: s.Dir}, s3srv
}

// TestProxiedMultipartUpload follows MLflow's client with
// MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true against an S3 destination:
// mpu/create/<dir> with the local file's path and num_parts, each part PUT
// to its presigned URL (no credentials), mpu/complete with the ETags; the
// file is then whole in the bucket and served by the proxy. Abort drops an
// upload (completing it afterwards is 404), escapes and bad counts are
// refused, and a local destination keeps MLflow's exact 501.
func TestProxiedMultipartUpload(t *testing.T) {
	ts, s3srv := s3Server(t)
	part1 := bytes.Repeat([]byte("a"), 5<<20) // S3's smallest non-last part
	part2 := []byte("and the tail")
	code, out := ts.post(t, "/api/2.0/mlflow-artifacts/mpu/create/0/run1/artifacts/model", map[string]any{"path": "/home/me/work/weights.bin", "num_parts": 2})
	if code != 200 {
		t.Fatalf("mpu/create: %d %v", code, out)
	}
	creds, _ := out["credentials"].([]any)
	uploadID, _ := out["upload_id"].(string)
	if len(creds) != 2 || uploadID == "" {
		t.Fatalf("mpu/create answered %v", out)
	}
	var parts []map[string]any
	for i, body := range [][]byte{part1, part2} {
		c := creds[i].(map[string]any)
		if c["part_number"] != float64(i+1) {
			t.Fatalf("credential %d: %v", i, c)
		}
		req, _ := http.NewRequest("PUT", c["url"].(string), bytes.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("ETag") == "" {
			t.Fatalf("PUT part %d to its presigned URL: %d", i+1, resp.StatusCode)
		}
		parts = append(parts, map[string]any{"part_number": i + 1, "etag": resp.Header.Get("ETag"), "url": c["url"]})
	}
	code, out = ts.post(t, "/api/2.0/mlflow-artifacts/mpu/complete/0/run1/artifacts/model", map[string]any{"path": "/home/me/work/weights.bin", "upload_id": uploadID, "parts": parts})
	if code != 200 {
		t.Fatalf("mpu/complete: %d %v", code, out)
	}
	want := append(append([]byte{}, part1...), part2...)
	onDisk, err := os.ReadFile(filepath.Join(s3srv.Dir, s3srv.Bucket, "dest", "0", "run1", "artifacts", "model", "weights.bin"))
	if err != nil || sha256.Sum256(onDisk) != sha256.Sum256(want) {
		t.Fatalf("the object in the bucket (%d bytes, want %d): %v", len(onDisk), len(want), err)
	}
	code, got := ts.do(t, "GET", "/api/2.0/mlflow-artifacts/artifacts/0/run1/artifacts/model/weights.bin", "", nil)
	if code != 200 || !bytes.Equal(got, want) {
		t.Fatalf("the proxy serves %d bytes (%d), want %d", len(got), code, len(want))
	}

	// Abort: the upload is gone (completing it is the client's error).
	_, out = ts.post(t, "/api/2.0/mlflow-artifacts/mpu/create/0/run1/artifacts", map[string]any{"path": "big.bin", "num_parts": 1})
	id, _ := out["upload_id"].(string)
	if code, out := ts.post(t, "/api/2.0/mlflow-artifacts/mpu/abort/0/run1/artifacts", map[string]any{"path": "big.bin", "upload_id": id}); code != 200 {
		t.Fatalf("mpu/abort: %d %v", code, out)
	}
	code, out = ts.post(t, "/api/2.0/mlflow-artifacts/mpu/complete/0/run1/artifacts", map[string]any{"path": "big.bin", "upload_id": id, "parts": []map[string]any{{"part_number": 1, "etag": "x"}}})
	if code != 400 || out["error_code"] != "INVALID_PARAMETER_VALUE" {
		t.Fatalf("completing an aborted upload: %d %v", code, out)
	}

	// Refused before anything reaches S3.
	before := snapshot(t, s3srv.Dir)
	for _, c := range []struct {
		path string
		body map[string]any
	}{
		{"/api/2.0/mlflow-artifacts/mpu/create/..%2F..%2Fescape", map[string]any{"path": "x.bin", "num_parts": 1}},
		{"/api/2.0/mlflow-artifacts/mpu/create/a", map[string]any{"path": "..", "num_parts": 1}},
		{"/api/2.0/mlflow-artifacts/mpu/create/a", map[string]any{"path": "x.bin", "num_parts": 0}},
		{"/api/2.0/mlflow-artifacts/mpu/create/a", map[string]any{"path": "x.bin", "num_parts": 10001}},
		{"/api/2.0/mlflow-artifacts/mpu/create/a", map[string]any{"num_parts": 1}},
		{"/api/2.0/mlflow-artifacts/mpu/complete/a", map[string]any{"path": "x.bin", "upload_id": "u"}},
	} {
		if code, out := ts.post(t, c.path, c.body); code != 400 || out["error_code"] != "INVALID_PARAMETER_VALUE" {
			t.Errorf("POST %s %v: %d %v, want 400 INVALID_PARAMETER_VALUE", c.path, c.body, code, out)
		}
	}
	if after := snapshot(t, s3srv.Dir); len(after) != len(before) {
		t.Fatalf("refused requests changed the bucket: %d files before, %d after", len(before), len(after))
	}

	// A local destination cannot: MLflow's exact 501, on which its client
	// falls back to one PUT.
	local := newServer(t)
	code, out = local.post(t, "/api/2.0/mlflow-artifacts/mpu/create/0/r", map[string]any{"path": "x.bin", "num_parts": 2})
	if code != 501 || out["error_code"] != "NOT_IMPLEMENTED" || !strings.HasPrefix(out["message"].(string), "Multipart upload is not supported for the current artifact repository") {
		t.Fatalf("mpu on a local destination: %d %v", code, out)
	}
}
