// Package sealing encrypts the secrets Baton keeps in PostgreSQL (the token
// signing keys, the analytics secret) with a key that is not in the
// database: BATON_SECRET_KEY.
package sealing

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
)

// Sealer encrypts secrets kept in PostgreSQL with a key that is not in the
// database: BATON_SECRET_KEY. A copy of the database (a backup, a replica, a
// stolen dump) then does not let anyone mint access tokens or undo the
// analytics' noise. AES-256-GCM, the row's id as associated data so a
// sealed secret cannot be moved to another row.
type Sealer struct {
	aead cipher.AEAD
}

// MinKeyLen is the shortest BATON_SECRET_KEY accepted.
const MinKeyLen = 32

// ErrShortKey is NewSealer's answer for a key too short to be a secret.
var ErrShortKey = errors.New("BATON_SECRET_KEY must be at least 32 characters (e.g. `openssl rand -base64 32`)")

// New derives the encryption key from secretKey with HKDF-SHA256.
func New(secretKey string) (*Sealer, error) {
	if len(secretKey) < MinKeyLen {
		return nil, ErrShortKey
	}
	key, err := hkdf.Key(sha256.New, []byte(secretKey), nil, "baton signing keys v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal returns nonce ‖ ciphertext of secret, bound to id.
func (s *Sealer) Seal(secret []byte, id string) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(secret)+s.aead.Overhead())
	_, _ = rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, secret, []byte(id))
}

// Open reverses Seal; a wrong key, a tampered value or another row's value
// is an error.
func (s *Sealer) Open(sealed []byte, id string) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, errors.New("sealed secret too short")
	}
	return s.aead.Open(nil, sealed[:n], sealed[n:], []byte(id))
}
