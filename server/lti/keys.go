package lti

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"gorm.io/gorm"
)

// Baton's RSA keys as a tool sign its deep-linking answers and its client
// assertions at platforms' token endpoints. They live in PostgreSQL, sealed
// with BATON_SECRET_KEY like the access-token signing keys, so every
// instance signs with the same current key and publishes the same set.
// Rotate makes a new current key; the old ones stay in the published set
// for retiredKeysPublished, so a platform that cached the set still
// verifies what they signed.

type toolKey struct {
	kid string
	key *rsa.PrivateKey
}

type toolKeyRow struct {
	Kid        string
	PrivateKey []byte
	Sealed     bool
	RetiredAt  *time.Time
}

// ErrSealedToolKeys: the keys are sealed and no (or another) secret key.
var ErrSealedToolKeys = errors.New("the LTI tool keys in the database are encrypted: set BATON_SECRET_KEY to the key they were sealed with")

// EnsureKey creates the first tool key when there is none, and seals keys
// still in plain text when a sealer is configured; instances starting
// together agree on one under the advisory lock. Keys that cannot be opened
// (sealed with another BATON_SECRET_KEY) are ErrSealedToolKeys.
func (s *Service) EnsureKey(ctx context.Context) error {
	if err := s.ensureKey(ctx); err != nil {
		return err
	}
	_, err := s.keys(ctx)
	return err
}

func (s *Service) ensureKey(ctx context.Context) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext('baton.lti_tool_keys'))").Error; err != nil {
			return err
		}
		if s.sealer != nil {
			var plain []toolKeyRow
			if err := tx.Raw(`SELECT kid, private_key FROM lti_tool_keys WHERE NOT sealed FOR UPDATE`).Scan(&plain).Error; err != nil {
				return err
			}
			for _, r := range plain {
				if err := tx.Exec(`UPDATE lti_tool_keys SET private_key = ?, sealed = true WHERE kid = ?`,
					s.sealer.Seal(r.PrivateKey, "lti:"+r.Kid), r.Kid).Error; err != nil {
					return err
				}
			}
		}
		var n int64
		if err := tx.Raw(`SELECT count(*) FROM lti_tool_keys WHERE retired_at IS NULL`).Scan(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		return s.insertKey(tx)
	})
}

func (s *Service) insertKey(tx *gorm.DB) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	kid := hex.EncodeToString(id)
	sealed := false
	if s.sealer != nil {
		der, sealed = s.sealer.Seal(der, "lti:"+kid), true
	}
	return tx.Exec(`INSERT INTO lti_tool_keys (kid, private_key, sealed) VALUES (?, ?, ?)`, kid, der, sealed).Error
}

// RotateKey makes a new key current; the others retire (still published).
func (s *Service) RotateKey(ctx context.Context) (string, error) {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext('baton.lti_tool_keys'))").Error; err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE lti_tool_keys SET retired_at = now() WHERE retired_at IS NULL`).Error; err != nil {
			return err
		}
		return s.insertKey(tx)
	})
	if err != nil {
		return "", err
	}
	k, err := s.currentKey(ctx)
	return k.kid, err
}

// keys loads the published keys, the current one (newest unretired) first.
func (s *Service) keys(ctx context.Context) ([]toolKey, error) {
	var rows []toolKeyRow
	if err := s.db.WithContext(ctx).Raw(`SELECT kid, private_key, sealed, retired_at FROM lti_tool_keys
		WHERE retired_at IS NULL OR retired_at > now() - make_interval(secs => ?)
		ORDER BY retired_at DESC NULLS FIRST, created_at DESC`, retiredKeysPublished.Seconds()).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]toolKey, 0, len(rows))
	for _, r := range rows {
		der := r.PrivateKey
		if r.Sealed {
			if s.sealer == nil {
				return nil, ErrSealedToolKeys
			}
			var err error
			if der, err = s.sealer.Open(r.PrivateKey, "lti:"+r.Kid); err != nil {
				return nil, ErrSealedToolKeys
			}
		}
		parsed, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("tool key %s: %w", r.Kid, err)
		}
		rk, ok := parsed.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("tool key %s is not RSA", r.Kid)
		}
		out = append(out, toolKey{kid: r.Kid, key: rk})
	}
	return out, nil
}

func (s *Service) currentKey(ctx context.Context) (toolKey, error) {
	ks, err := s.keys(ctx)
	if err != nil {
		return toolKey{}, err
	}
	if len(ks) == 0 {
		if err := s.ensureKey(ctx); err != nil {
			return toolKey{}, err
		}
		if ks, err = s.keys(ctx); err != nil || len(ks) == 0 {
			return toolKey{}, errors.Join(errors.New("no LTI tool key"), err)
		}
	}
	return ks[0], nil
}

// JWKS is the public key set platforms verify Baton's signatures with.
func (s *Service) JWKS(ctx context.Context) (jose.JSONWebKeySet, error) {
	ks, err := s.keys(ctx)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(ks))}
	for _, k := range ks {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.key.PublicKey, KeyID: k.kid, Algorithm: string(jose.RS256), Use: "sig"})
	}
	return set, nil
}

// signer signs JWTs with the current tool key, naming it by kid.
func (s *Service) signer(ctx context.Context) (jose.Signer, error) {
	k, err := s.currentKey(ctx)
	if err != nil {
		return nil, err
	}
	return jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k.key, KeyID: k.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
}
