// Package opaque makes the secrets Baton hands out and looks up again:
// refresh and device tokens, emailed links, single sign-on and LTI states
// and nonces. Each is 256 random bits, URL-safe, and stored only as its
// SHA-256, so a copy of the database opens nothing.
package opaque

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// New is a fresh token: 256 random bits, base64url without padding.
func New() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux
	return base64.RawURLEncoding.EncodeToString(b)
}

// Hash is what is stored of a token: its SHA-256.
func Hash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// Valid reports whether s has the shape New makes.
func Valid(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == 32
}
