// Package fernet encrypts and decrypts Fernet tokens
// (https://github.com/fernet/spec): AES-128-CBC with PKCS#7 padding,
// authenticated by HMAC-SHA256, in URL-safe base64. MLflow keeps its
// webhook secrets as such tokens (Python's cryptography.fernet, keyed by
// MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY), so one key reads what either wrote.
package fernet

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

const version = 0x80

// Key is a Fernet key: 16 bytes to sign, 16 to encrypt.
type Key struct{ sign, enc []byte }

// ErrInvalidToken is a token that is malformed, or was not made with the key.
var ErrInvalidToken = errors.New("fernet: invalid token (malformed, or made with another key)")

// ParseKey reads a key as Fernet writes it: 32 bytes in URL-safe base64.
func ParseKey(s string) (*Key, error) {
	b, err := base64.URLEncoding.DecodeString(s)
	if err != nil {
		if b, err = base64.StdEncoding.DecodeString(s); err != nil {
			return nil, fmt.Errorf("fernet key: not base64: %w", err)
		}
	}
	if len(b) != 32 {
		return nil, fmt.Errorf("fernet key: %d bytes, want 32", len(b))
	}
	return &Key{sign: b[:16], enc: b[16:]}, nil
}

// NewKey returns a random key.
func NewKey() *Key {
	b := make([]byte, 32)
	rand.Read(b)
	return &Key{sign: b[:16], enc: b[16:]}
}

// String is the key in Fernet's text form.
func (k *Key) String() string {
	return base64.URLEncoding.EncodeToString(append(append([]byte{}, k.sign...), k.enc...))
}

// Encrypt returns the token of msg, stamped now.
func (k *Key) Encrypt(msg []byte) string {
	iv := make([]byte, aes.BlockSize)
	rand.Read(iv)
	return k.encrypt(msg, iv, time.Now())
}

func (k *Key) encrypt(msg, iv []byte, now time.Time) string {
	pad := aes.BlockSize - len(msg)%aes.BlockSize
	plain := append(append([]byte{}, msg...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	block, _ := aes.NewCipher(k.enc)
	ct := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, plain)
	tok := make([]byte, 0, 1+8+len(iv)+len(ct)+sha256.Size)
	tok = append(tok, version)
	tok = binary.BigEndian.AppendUint64(tok, uint64(now.Unix()))
	tok = append(append(tok, iv...), ct...)
	mac := hmac.New(sha256.New, k.sign)
	mac.Write(tok)
	return base64.URLEncoding.EncodeToString(mac.Sum(tok))
}

// Decrypt returns the message of a token made with k (of any age).
func (k *Key) Decrypt(token string) ([]byte, error) {
	b, err := base64.URLEncoding.DecodeString(token)
	if err != nil || len(b) < 1+8+aes.BlockSize+aes.BlockSize+sha256.Size || b[0] != version {
		return nil, ErrInvalidToken
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	mac := hmac.New(sha256.New, k.sign)
	mac.Write(body)
	if !hmac.Equal(mac.Sum(nil), sum) {
		return nil, ErrInvalidToken
	}
	iv, ct := body[9:9+aes.BlockSize], body[9+aes.BlockSize:]
	if len(ct)%aes.BlockSize != 0 {
		return nil, ErrInvalidToken
	}
	block, _ := aes.NewCipher(k.enc)
	plain := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, ct)
	pad := int(plain[len(plain)-1])
	if pad == 0 || pad > aes.BlockSize || !bytes.Equal(plain[len(plain)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return nil, ErrInvalidToken
	}
	return plain[:len(plain)-pad], nil
}
