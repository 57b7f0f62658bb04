package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// VersityGWInstall is how a developer gets the S3 server the tests use
// (.ci/run does the same, once, outside the clone).
const VersityGWInstall = "GOBIN=$HOME/.cache/mlrun-tools go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// S3 is a real S3-compatible server (versitygw, posix backend) on a
// loopback port, with one bucket.
type S3 struct {
	Endpoint string // http://127.0.0.1:PORT: MLFLOW_S3_ENDPOINT_URL
	Bucket   string
	Dir      string // the backend folder: Dir/Bucket/<key> are the objects
	Access   string
	Secret   string
}

// ciTool finds a test server's binary that .ci/run builds: $env, PATH
// (when onPath), or ~/.cache/mlrun-tools where .ci/run installs it; ""
// if none.
func ciTool(env, name string, onPath bool) string {
	if p := os.Getenv(env); p != "" {
		return p
	}
	if onPath {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	home, _ := os.UserHomeDir()
	p := filepath.Join(home, ".cache", "mlrun-tools", name)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

// StartS3 starts an S3 server with bucket "mlrun-test" for the test and
// points MLflow's S3 environment at it (MLFLOW_S3_ENDPOINT_URL,
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION), so that
// what the test runs reaches it as an MLflow user's process would.
func StartS3(t testing.TB) *S3 {
	t.Helper()
	bin := ciTool("MLRUN_VERSITYGW", "versitygw", true)
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("versitygw is missing under CI (.ci/run should install it: %s)", VersityGWInstall)
		}
		t.Skipf("versitygw not found: install it (%s) to run this test", VersityGWInstall)
	}
	s := &S3{Bucket: "mlrun-test", Dir: t.TempDir(), Access: "mlrun-test-key", Secret: "mlrun-test-secret"}
	if err := os.Mkdir(filepath.Join(s.Dir, s.Bucket), 0o755); err != nil {
		t.Fatal(err)
	}
	port := FreePort(t)
	cmd := exec.Command(bin, "-a", s.Access, "-s", s.Secret, "-p", "127.0.0.1:"+strconv.Itoa(port), "-q", "posix", s.Dir)
	startDaemon(t, cmd, port, "versitygw")
	s.Endpoint = "http://127.0.0.1:" + strconv.Itoa(port)
	t.Setenv("MLFLOW_S3_ENDPOINT_URL", s.Endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", s.Access)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s.Secret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_DEFAULT_REGION", "us-east-1")
	return s
}

// URI is s3://bucket/prefix.
func (s *S3) URI(prefix string) string {
	if prefix == "" {
		return "s3://" + s.Bucket
	}
	return "s3://" + s.Bucket + "/" + prefix
}
