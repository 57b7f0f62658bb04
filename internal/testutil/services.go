package testutil

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Require checks that a program the test needs is installed. Under CI
// ($CI set, where .ci/run installs it) a missing program fails the test;
// locally the test is skipped with a message saying what to install.
func Require(t testing.TB, program, install string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is missing under CI (.ci/run should install it: %s)", program, install)
	}
	t.Skipf("%s not found: install it (%s) to run this test", program, install)
	return ""
}

// FreePort returns a free loopback TCP port.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startDaemon starts cmd, a server that listens on the loopback port,
// for the test: it is killed when the test ends (its output logged if the
// test failed), and the test fails if it does not start listening.
func startDaemon(t testing.TB, cmd *exec.Cmd, port int, what string) {
	t.Helper()
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", what, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s's log:\n%s", what, log.String())
		}
	})
	waitPort(t, port, what)
}

// waitPort waits until something listens on the loopback port.
func waitPort(t testing.TB, port int, what string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not start listening on 127.0.0.1:%d", what, port)
}

// GitDaemon serves the repositories below base with `git daemon` on a
// loopback port and returns git://127.0.0.1:PORT.
func GitDaemon(t testing.TB, base string) string {
	t.Helper()
	Require(t, "git", "apt-get install git")
	port := FreePort(t)
	cmd := exec.Command("git", "daemon", "--reuseaddr", "--export-all", "--base-path="+base,
		"--listen=127.0.0.1", "--port="+strconv.Itoa(port), base)
	if err := cmd.Start(); err != nil {
		t.Fatalf("git daemon: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitPort(t, port, "git daemon")
	return fmt.Sprintf("git://127.0.0.1:%d", port)
}

// SSHD starts Debian's sshd on a loopback port with a fresh host key and
// a fresh client key for the current user. It writes the client key to
// home/.ssh/id_ed25519 and the host key to home/.ssh/known_hosts, so a
// client with HOME=home trusts the server and is trusted by it. It
// returns the port.
func SSHD(t testing.TB, home string) int {
	t.Helper()
	sshd := "/usr/sbin/sshd"
	if _, err := os.Stat(sshd); err != nil {
		Require(t, "sshd", "apt-get install openssh-server")
	}
	Require(t, "ssh-keygen", "apt-get install openssh-client")
	dir := t.TempDir()
	sshDir := filepath.Join(home, ".ssh")
	os.MkdirAll(sshDir, 0o700)
	run := func(name string, args ...string) {
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	hostKey := filepath.Join(dir, "host_ed25519")
	run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey)
	clientKey := filepath.Join(sshDir, "id_ed25519")
	run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", clientKey)
	pub, _ := os.ReadFile(clientKey + ".pub")
	auth := filepath.Join(dir, "authorized_keys")
	os.WriteFile(auth, pub, 0o600)
	hostPub, _ := os.ReadFile(hostKey + ".pub")
	port := FreePort(t)
	os.WriteFile(filepath.Join(sshDir, "known_hosts"), []byte(fmt.Sprintf("[127.0.0.1]:%d %s", port, hostPub)), 0o600)
	os.MkdirAll("/run/sshd", 0o755)
	cfg := filepath.Join(dir, "sshd_config")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
AuthorizedKeysFile %s
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
PidFile %s
`, port, hostKey, auth, filepath.Join(dir, "sshd.pid"))), 0o600)
	cmd := exec.Command(sshd, "-D", "-e", "-f", cfg)
	out, _ := os.Create(filepath.Join(dir, "sshd.log"))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("sshd: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); out.Close() })
	waitPort(t, port, "sshd")
	return port
}
