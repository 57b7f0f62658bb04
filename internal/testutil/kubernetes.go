package testutil

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// KubeCluster is the single-node test cluster .ci/k8s/cluster.sh runs.
type KubeCluster struct {
	Dir        string // its state folder (MLRUN_TEST_K8S_DIR)
	Kubeconfig string // cluster-admin's kubeconfig
}

// RequireKubernetes returns the test cluster named by MLRUN_TEST_K8S_DIR
// and points KUBECONFIG at it for the test. Under CI (where .ci/run
// starts the cluster) a missing one fails the test; locally the test is
// skipped with a message saying how to start it.
func RequireKubernetes(t testing.TB) *KubeCluster {
	t.Helper()
	dir := os.Getenv("MLRUN_TEST_K8S_DIR")
	why := "MLRUN_TEST_K8S_DIR is not set"
	if dir != "" {
		k := &KubeCluster{Dir: dir, Kubeconfig: filepath.Join(dir, "admin.kubeconfig")}
		c, err := net.DialTimeout("tcp", "127.0.0.1:6443", 2*time.Second)
		if _, serr := os.Stat(k.Kubeconfig); serr == nil && err == nil {
			c.Close()
			t.Setenv("KUBECONFIG", k.Kubeconfig)
			return k
		} else if serr != nil {
			why = serr.Error()
		} else {
			why = "its API server does not answer: " + err.Error()
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("no test Kubernetes cluster under CI (.ci/run starts it with .ci/k8s/cluster.sh up): %s", why)
	}
	t.Skipf("no test Kubernetes cluster (%s): as root, run .ci/k8s/cluster.sh up, then export MLRUN_TEST_K8S_DIR=/tmp/mlrun-k8s", why)
	return nil
}

// LoadImage copies images from the Docker daemon into the cluster's
// containerd (there is no registry here), as kind's load does.
func (k *KubeCluster) LoadImage(t testing.TB, tags ...string) {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", ".ci", "k8s", "cluster.sh")
	cmd := exec.Command("bash", append([]string{script, "load-image"}, tags...)...)
	cmd.Env = append(os.Environ(), "MLRUN_K8S_DIR="+k.Dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("load images %v into the test cluster: %v\n%s", tags, err, out)
	}
}
