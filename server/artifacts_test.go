package server_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// snapshot lists every file under dir with its contents.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			b, _ := os.ReadFile(p)
			out[p] = string(b)
		}
		return nil
	})
	return out
}

// TestArtifactProxyRoundTrip: upload, download, list and delete through
// the proxy, on a local destination and on S3.
func TestArtifactProxyRoundTrip(t *testing.T) {
	t.Run("local", func(t *testing.T) {
		ts := newServer(t)
		proxyRoundTrip(t, ts, ts.artifacts)
	})
	t.Run("s3", func(t *testing.T) {
		ts, s3srv := s3Server(t)
		proxyRoundTrip(t, ts, filepath.Join(s3srv.Dir, s3srv.Bucket, "dest"))
	})
}

// proxyRoundTrip runs the round trip on ts, whose destination's files are
// in the folder dest.
func proxyRoundTrip(t *testing.T, ts *testServer, dest string) {
	const base = "/api/2.0/mlflow-artifacts/artifacts"
	payload := bytes.Repeat([]byte("0123456789"), 300000) // 3 MB, streamed
	if st, b := ts.do(t, "PUT", base+"/1/run/artifacts/model/weights.bin", "", payload); st != 200 || string(b) != "{}" {
		t.Fatalf("upload: %d %s", st, b)
	}
	if st, b := ts.do(t, "PUT", base+"/1/run/artifacts/notes%20v1.txt", "", []byte("hi")); st != 200 {
		t.Fatalf("upload with an encoded space: %d %s", st, b)
	}
	st, b := ts.do(t, "GET", base+"/1/run/artifacts/model/weights.bin", "", nil)
	if st != 200 || !bytes.Equal(b, payload) {
		t.Fatalf("download: %d, %d bytes", st, len(b))
	}
	st, b = ts.do(t, "GET", base+"?path=1/run/artifacts", "", nil)
	var list struct {
		Files []struct {
			Path     string `json:"path"`
			IsDir    bool   `json:"is_dir"`
			FileSize *int64 `json:"file_size"`
		} `json:"files"`
	}
	json.Unmarshal(b, &list)
	if st != 200 || len(list.Files) != 2 || list.Files[0].Path != "model" || !list.Files[0].IsDir || list.Files[0].FileSize != nil ||
		list.Files[1].Path != "notes v1.txt" || *list.Files[1].FileSize != 2 {
		t.Fatalf("list: %d %s", st, b)
	}
	if st, b := ts.do(t, "DELETE", base+"/1/run/artifacts/model", "", nil); st != 200 {
		t.Fatalf("delete: %d %s", st, b)
	}
	if st, b := ts.do(t, "GET", base+"/1/run/artifacts/model/weights.bin", "", nil); st != 404 || !bytes.Contains(b, []byte("RESOURCE_DOES_NOT_EXIST")) {
		t.Fatalf("download after delete: %d %s", st, b)
	}
	if _, err := os.Stat(filepath.Join(dest, "1", "run", "artifacts", "notes v1.txt")); err != nil {
		t.Fatalf("upload did not land in the destination: %v", err)
	}
}

// TestArtifactPathEscapesAreRefused tries every escape we know on upload,
// download, list and delete, and checks that each is refused with
// INVALID_PARAMETER_VALUE and that nothing outside the root changed, on a
// local destination (with symlinks leading out) and on S3 (keys outside
// the destination's prefix, in the same bucket and beside it).
func TestArtifactPathEscapesAreRefused(t *testing.T) {
	t.Run("local", func(t *testing.T) {
		ts := newServer(t)
		outside := filepath.Join(ts.dir, "outside")
		os.MkdirAll(outside, 0o755)
		os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o644)
		os.MkdirAll(ts.artifacts, 0o755)
		// A symlink inside the root that points outside it.
		if err := os.Symlink(outside, filepath.Join(ts.artifacts, "link")); err != nil {
			t.Fatal(err)
		}
		os.Symlink(filepath.Join(outside, "secret"), filepath.Join(ts.artifacts, "filelink"))
		refusesEscapes(t, ts, ts.dir, "/link/secret", "/link/new-file", "/filelink")
	})
	t.Run("s3", func(t *testing.T) {
		ts, s3srv := s3Server(t)
		os.MkdirAll(filepath.Join(s3srv.Dir, s3srv.Bucket, "outside"), 0o755)
		os.WriteFile(filepath.Join(s3srv.Dir, s3srv.Bucket, "outside", "secret"), []byte("secret"), 0o644)
		os.MkdirAll(filepath.Join(s3srv.Dir, "other-bucket"), 0o755)
		os.WriteFile(filepath.Join(s3srv.Dir, "other-bucket", "secret"), []byte("secret"), 0o644)
		refusesEscapes(t, ts, s3srv.Dir)
		if d := snapshot(t, ts.dir); len(d) == 0 {
			t.Fatal("no database files")
		}
	})
}

// refusesEscapes sends the escapes (and more) to ts and checks nothing
// under watch changed but the database.
func refusesEscapes(t *testing.T, ts *testServer, watch string, more ...string) {
	before := snapshot(t, watch)
	const base = "/api/2.0/mlflow-artifacts/artifacts"
	escapes := []string{
		"/../outside/secret",
		"/../../x",
		"/a/../../outside/secret",
		"/%2e%2e/outside/secret",
		"/%2E%2E%2Foutside%2Fsecret",
		"/a%2f..%2f..%2foutside%2fsecret",
		"/%252e%252e/outside/secret",
		"/..%5coutside%5csecret",
		"/a\\..\\..\\x",
		"//etc/passwd",
		"/%2fetc%2fpasswd",
		"/a%00b",
	}
	for _, p := range append(escapes, more...) {
		for _, method := range []string{"GET", "PUT", "DELETE"} {
			if method == "DELETE" && p == "/filelink" {
				continue // removing the link itself is inside the root
			}
			st, b := ts.do(t, method, base+p, "", []byte("pwned"))
			if st != 400 || !bytes.Contains(b, []byte(`"INVALID_PARAMETER_VALUE"`)) {
				t.Errorf("%s %s: got %d %s, want 400 INVALID_PARAMETER_VALUE", method, p, st, b)
			}
		}
	}
	lists := []string{"..", "../outside", "/etc", "a/../..", "%2e%2e", "..%2f..", "a\\..\\.."}
	if len(more) > 0 {
		lists = append(lists, "link") // the symlink leading out
	}
	for _, q := range lists {
		st, b := ts.do(t, "GET", base+"?path="+q, "", nil)
		if st != 400 || !bytes.Contains(b, []byte(`"INVALID_PARAMETER_VALUE"`)) {
			t.Errorf("list %q: got %d %s, want 400 INVALID_PARAMETER_VALUE", q, st, b)
		}
	}
	// The run-scoped listing and download refuse escapes too.
	r := newRun(t, ts)
	for _, q := range []string{"..", "../..", "/etc", "a/../../.."} {
		st, b := ts.do(t, "GET", "/api/2.0/mlflow/artifacts/list?run_id="+r.Info.RunID+"&path="+q, "", nil)
		if st != 400 {
			t.Errorf("artifacts/list %q: %d %s", q, st, b)
		}
		st, b = ts.do(t, "GET", "/get-artifact?run_id="+r.Info.RunID+"&path="+q, "", nil)
		if st != 400 {
			t.Errorf("get-artifact %q: %d %s", q, st, b)
		}
	}
	after := snapshot(t, watch)
	// Only the database files may have changed.
	var changed []string
	for p, v := range after {
		if strings.Contains(p, "mlflow.db") {
			continue
		}
		if before[p] != v {
			changed = append(changed, p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok && !strings.Contains(p, "mlflow.db") {
			changed = append(changed, p+" (deleted)")
		}
	}
	sort.Strings(changed)
	if len(changed) > 0 {
		t.Fatalf("files changed by refused requests: %v", changed)
	}
}

func TestUIUploadAndGetArtifact(t *testing.T) {
	ts := newServer(t)
	r := newRun(t, ts)
	if st, b := ts.do(t, "POST", "/ajax-api/2.0/mlflow/upload-artifact?run_uuid="+r.Info.RunID+"&path=dir/x.txt", "", []byte("data")); st != 200 {
		t.Fatalf("upload: %d %s", st, b)
	}
	if st, b := ts.do(t, "GET", "/get-artifact?run_id="+r.Info.RunID+"&path=dir/x.txt", "", nil); st != 200 || string(b) != "data" {
		t.Fatalf("get-artifact: %d %q", st, b)
	}
	if st, _ := ts.do(t, "POST", "/ajax-api/2.0/mlflow/upload-artifact?run_uuid="+r.Info.RunID+"&path=../x", "", []byte("data")); st != 400 {
		t.Fatalf("escaping upload: %d", st)
	}
	big := bytes.Repeat([]byte("x"), 10<<20+1)
	if st, _ := ts.do(t, "POST", "/ajax-api/2.0/mlflow/upload-artifact?run_uuid="+r.Info.RunID+"&path=big", "", big); st != 400 {
		t.Fatalf("oversized upload: %d", st)
	}
	if _, err := os.Stat(filepath.Join(ts.artifacts, "0", r.Info.RunID, "artifacts", "big")); !os.IsNotExist(err) {
		t.Fatalf("an oversized upload left a file: %v", err)
	}
}

func TestNoServeArtifacts(t *testing.T) {
	ts := newServerNoArtifacts(t)
	st, _ := ts.do(t, "GET", "/api/2.0/mlflow-artifacts/artifacts?path=", "", nil)
	if st != 503 {
		t.Fatalf("proxy without --serve-artifacts: %d, want 503", st)
	}
}

// TestArtifactUploadConflicts: a file over a folder, a file under a file
// and a name longer than the file system takes are the caller's mistakes
// (400 INVALID_PARAMETER_VALUE, found by FuzzArtifactPaths), not 500s, and
// the folder and file already there are kept.
func TestArtifactUploadConflicts(t *testing.T) {
	ts := newServer(t)
	const base = "/api/2.0/mlflow-artifacts/artifacts"
	if st, b := ts.do(t, "PUT", base+"/d/f", "", []byte("kept")); st != 200 {
		t.Fatalf("upload: %d %s", st, b)
	}
	long := "/" + strings.Repeat("x", 300)
	for _, tc := range []struct{ method, path, want string }{
		{"PUT", "/d", "it is a directory"},
		{"PUT", "/d/f/g", "a folder on its path is a file"},
		{"PUT", long, "too long"},
		{"GET", long, "too long"},
		{"DELETE", long, "too long"},
	} {
		st, b := ts.do(t, tc.method, base+tc.path, "", []byte("new"))
		if st != 400 || !bytes.Contains(b, []byte(`"INVALID_PARAMETER_VALUE"`)) || !bytes.Contains(b, []byte(tc.want)) {
			t.Errorf("%s %.40s: %d %s, want 400 %q", tc.method, tc.path, st, b, tc.want)
		}
	}
	if b, err := os.ReadFile(filepath.Join(ts.artifacts, "d", "f")); err != nil || string(b) != "kept" {
		t.Fatalf("d/f after refused uploads: %q %v", b, err)
	}
}
