package testutil

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
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

// TrustRegistry lets the cluster's containerd pull from host (a
// StartRegistry) over plain HTTP.
func (k *KubeCluster) TrustRegistry(t testing.TB, host string) {
	t.Helper()
	dir := filepath.Join(k.Dir, "certs.d", host)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	hosts := "server = \"http://" + host + "\"\n\n[host.\"http://" + host + "\"]\n  capabilities = [\"pull\", \"resolve\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "hosts.toml"), []byte(hosts), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
}

// WaitListed waits (up to 2 minutes: the kubelet reports images with its
// node status, every 10 s or so) until the node lists an image whose name
// ends with ref (a tag, or "@sha256:…").
func (k *KubeCluster) WaitListed(t testing.TB, ref string) {
	t.Helper()
	cs := k.Client(t)
	for end := time.Now().Add(2 * time.Minute); ; time.Sleep(time.Second) {
		nodes, err := cs.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes.Items {
			for _, img := range n.Status.Images {
				for _, name := range img.Names {
					if strings.HasSuffix(name, ref) {
						return
					}
				}
			}
		}
		if time.Now().After(end) {
			t.Fatalf("after 2 minutes the node does not list image %s", ref)
		}
	}
}

// Client is a cluster-admin client of the cluster.
func (k *KubeCluster) Client(t testing.TB) kubernetes.Interface {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", k.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}
