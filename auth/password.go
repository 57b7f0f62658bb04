package auth

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"golang.org/x/crypto/scrypt"
)

// HashIterations is what HashPassword writes: werkzeug 2.2's default,
// pbkdf2:sha256:260000, which every MLflow release's werkzeug verifies.
const HashIterations = 260000

const saltChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// HashPassword returns werkzeug's generate_password_hash form,
// pbkdf2:sha256:260000$<16-char salt>$<64 hex>.
func HashPassword(password string) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	salt := make([]byte, 16)
	for i, c := range b {
		salt[i] = saltChars[int(c)%len(saltChars)]
	}
	method := "pbkdf2:sha256:" + strconv.Itoa(HashIterations)
	h, err := derive(method, password, string(salt))
	if err != nil {
		return "", err
	}
	return method + "$" + string(salt) + "$" + h, nil
}

// CheckPassword reports whether password matches a werkzeug hash:
// pbkdf2:<sha1|sha256|sha512>[:<iterations>] and scrypt[:N:r:p]. Anything
// else, or a malformed hash, does not match.
func CheckPassword(hashed, password string) bool {
	method, rest, ok := strings.Cut(hashed, "$")
	if !ok {
		return false
	}
	salt, want, ok := strings.Cut(rest, "$")
	if !ok {
		return false
	}
	got, err := derive(method, password, salt)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// derive computes the hex digest werkzeug's _hash_internal does.
func derive(method, password, salt string) (string, error) {
	parts := strings.Split(method, ":")
	num := func(i int, def int) (int, error) {
		if len(parts) <= i {
			return def, nil
		}
		n, err := strconv.Atoi(parts[i])
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("bad number in %q", method)
		}
		return n, nil
	}
	switch parts[0] {
	case "pbkdf2":
		if len(parts) < 2 || len(parts) > 3 {
			return "", fmt.Errorf("bad method %q", method)
		}
		var h func() hash.Hash
		switch parts[1] {
		case "sha256":
			h = sha256.New
		case "sha512":
			h = sha512.New
		case "sha1":
			h = sha1.New
		default:
			return "", fmt.Errorf("unsupported hash %q", parts[1])
		}
		iter, err := num(2, HashIterations)
		if err != nil || iter > 10_000_000 {
			return "", fmt.Errorf("bad iterations in %q", method)
		}
		k, err := pbkdf2.Key(h, password, []byte(salt), iter, h().Size())
		if err != nil {
			return "", err
		}
		return hex.EncodeToString(k), nil
	case "scrypt":
		if len(parts) != 1 && len(parts) != 4 {
			return "", fmt.Errorf("bad method %q", method)
		}
		n, err1 := num(1, 32768)
		r, err2 := num(2, 8)
		p, err3 := num(3, 1)
		if err1 != nil || err2 != nil || err3 != nil || n > 1<<20 || r > 64 || p > 16 {
			return "", fmt.Errorf("bad parameters in %q", method)
		}
		k, err := scrypt.Key([]byte(password), []byte(salt), n, r, p, 64)
		if err != nil {
			return "", err
		}
		return hex.EncodeToString(k), nil
	}
	return "", fmt.Errorf("unsupported method %q", method)
}
