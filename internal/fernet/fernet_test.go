package fernet

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestInteropWithPython: tokens made here decrypt with Python's
// cryptography.fernet (what MLflow uses for webhook secrets) and its
// tokens decrypt here, with the same key.
func TestInteropWithPython(t *testing.T) {
	k := NewKey()
	tok := k.Encrypt([]byte("s3cr3t-é"))
	out, err := exec.Command("python3", "-c", `import sys
from cryptography.fernet import Fernet
f = Fernet(sys.argv[1].encode())
sys.stdout.write(f.decrypt(sys.argv[2].encode()).decode() + "\n" + f.encrypt("from python ü".encode()).decode())`, k.String(), tok).CombinedOutput()
	if err != nil {
		t.Fatalf("python3 with cryptography (Debian: python3-cryptography): %v\n%s", err, out)
	}
	lines := strings.Split(string(out), "\n")
	if len(lines) != 2 || lines[0] != "s3cr3t-é" {
		t.Fatalf("Python read our token as %q", out)
	}
	msg, err := k.Decrypt(lines[1])
	if err != nil || string(msg) != "from python ü" {
		t.Fatalf("Python's token: %q %v", msg, err)
	}
	k2, err := ParseKey(k.String())
	if err != nil {
		t.Fatal(err)
	}
	if msg, err := k2.Decrypt(tok); err != nil || string(msg) != "s3cr3t-é" {
		t.Fatalf("with the key parsed back: %q %v", msg, err)
	}
}

// TestRejects: another key, a flipped byte, garbage, a short key.
func TestRejects(t *testing.T) {
	k := NewKey()
	tok := k.encrypt([]byte("x"), make([]byte, 16), time.Unix(1, 0))
	if _, err := NewKey().Decrypt(tok); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("another key: %v", err)
	}
	b := []byte(tok)
	b[20] ^= 1
	if _, err := k.Decrypt(string(b)); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("a flipped byte: %v", err)
	}
	for _, bad := range []string{"", "not base64 !", "gAAAAA=="} {
		if _, err := k.Decrypt(bad); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if _, err := ParseKey("c2hvcnQ="); err == nil || !strings.Contains(err.Error(), "want 32") {
		t.Errorf("a short key: %v", err)
	}
}
