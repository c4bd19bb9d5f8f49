package accounts

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/baton-course/baton/server/sealing"

	"github.com/golang-jwt/jwt/v5"
	"gorm.io/gorm"
)

// Issuer and Audience are checked on every access token (RFC 8725 §3.8–3.9).
const (
	Issuer   = "baton"
	Audience = "baton-api"
)

// Claims are the access token's claims: the registered ones plus the role
// and the session (refresh-token family) the token was issued for.
type Claims struct {
	jwt.RegisteredClaims
	Role    string `json:"role"`
	Session string `json:"sid"`
}

// SigningKey is one HS256 secret, named by kid in the token header.
type SigningKey struct {
	Kid    string
	Secret []byte
}

// NewSigningKey makes a random key.
func NewSigningKey() SigningKey {
	secret := make([]byte, 32)
	id := make([]byte, 8)
	_, _ = rand.Read(secret)
	_, _ = rand.Read(id)
	return SigningKey{Kid: hex.EncodeToString(id), Secret: secret}
}

// NewClaims returns the claims of an access token for a user's session,
// issued at now and valid for ttl.
func NewClaims(userID, role, session string, now time.Time, ttl time.Duration) Claims {
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	return Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Audience:  jwt.ClaimStrings{Audience},
			Subject:   userID,
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ID:        hex.EncodeToString(jti),
		},
		Role:    role,
		Session: session,
	}
}

// Sign mints an access token carrying c, signed with k and naming it by kid.
func (k SigningKey) Sign(c Claims) (string, error) {
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	tok.Header["kid"] = k.Kid
	return tok.SignedString(k.Secret)
}

var errUnknownKey = errors.New("unknown signing key")

// leeway is the clock skew allowed between instances on iat, nbf and exp.
const leeway = 5 * time.Second

// VerifyAccessToken checks an access token by the server's rules: HS256
// only, a kid secretOf knows, issuer, audience, an expiry no further than
// maxLifetime after its iat, iat and nbf (5 s leeway), and a subject, session
// and known role. It returns the claims.
func VerifyAccessToken(raw string, secretOf func(kid string) ([]byte, bool), maxLifetime time.Duration) (*Claims, error) {
	var claims Claims
	keyFor := func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		secret, ok := secretOf(kid)
		if !ok {
			return nil, errUnknownKey
		}
		return secret, nil
	}
	_, err := jwt.ParseWithClaims(raw, &claims, keyFor,
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
	)
	if err != nil {
		return nil, err
	}
	if claims.Subject == "" || claims.Session == "" || !validRole(claims.Role) {
		return nil, errors.New("token lacks subject, session or role")
	}
	// A token that claims to live longer than the server issues them was not
	// issued by this server's rules: a stolen key could otherwise mint one
	// for a year.
	if claims.IssuedAt == nil || claims.ExpiresAt.Sub(claims.IssuedAt.Time) > maxLifetime+leeway {
		return nil, errors.New("token lives longer than the server issues them")
	}
	return &claims, nil
}

// signingKeyRow is a SigningKey as kept in PostgreSQL; a sealed secret is
// encrypted with BATON_SECRET_KEY.
type signingKeyRow struct {
	Kid       string
	Secret    []byte
	Sealed    bool
	RetiredAt *time.Time
}

// ringKey is a verifying key: a retired one verifies only tokens issued
// before it retired, and only until they expire.
type ringKey struct {
	secret    []byte
	retiredAt *time.Time
}

// KeyRing holds the signing keys shared through PostgreSQL, so a token
// issued by one instance verifies on every other. The newest active key
// signs; a retired key verifies what it signed before it retired, for one
// access-token lifetime. Every instance rereads the keys when PostgreSQL
// announces a change (see Watch), and every keyRefresh besides.
type KeyRing struct {
	db       *gorm.DB
	ttl      time.Duration
	sealer   *sealing.Sealer // nil: secrets are stored in plain text
	mu       sync.RWMutex
	keys     map[string]ringKey
	current  string
	loadedAt time.Time
	verified verifiedTokens
}

// keyRefresh is how often an instance rereads the keys even without a
// notification.
const keyRefresh = 30 * time.Second

// NewKeyRing loads the keys, creating the first one if there is none. With
// a sealer, secrets are stored encrypted, and any still in plain text are
// sealed now.
func NewKeyRing(ctx context.Context, db *gorm.DB, ttl time.Duration, sealer *sealing.Sealer) (*KeyRing, error) {
	k := &KeyRing{db: db, ttl: ttl, sealer: sealer}
	if err := ensureKey(ctx, db, sealer); err != nil {
		return nil, err
	}
	return k, k.load(ctx)
}

// ensureKey creates a key when none is active and seals plain-text secrets
// when a sealer is configured. The advisory lock makes instances that start
// together agree on one.
func ensureKey(ctx context.Context, db *gorm.DB, sealer *sealing.Sealer) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext('baton.signing_keys'))").Error; err != nil {
			return err
		}
		if sealer != nil {
			if err := sealPlainKeys(tx, sealer); err != nil {
				return err
			}
		}
		var n int64
		if err := tx.Raw(`SELECT count(*) FROM signing_keys WHERE retired_at IS NULL`).Scan(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		return insertSigningKey(tx, NewSigningKey(), sealer)
	})
}

func sealPlainKeys(tx *gorm.DB, sealer *sealing.Sealer) error {
	var plain []signingKeyRow
	if err := tx.Raw(`SELECT kid, secret FROM signing_keys WHERE NOT sealed FOR UPDATE`).Scan(&plain).Error; err != nil {
		return err
	}
	for _, r := range plain {
		if err := tx.Exec(`UPDATE signing_keys SET secret = ?, sealed = true WHERE kid = ?`,
			sealer.Seal(r.Secret, r.Kid), r.Kid).Error; err != nil {
			return err
		}
	}
	return nil
}

func insertSigningKey(tx *gorm.DB, k SigningKey, sealer *sealing.Sealer) error {
	secret, sealed := k.Secret, false
	if sealer != nil {
		secret, sealed = sealer.Seal(k.Secret, k.Kid), true
	}
	return tx.Exec(`INSERT INTO signing_keys (kid, secret, sealed) VALUES (?, ?, ?)`, k.Kid, secret, sealed).Error
}

// Rotate makes a new key current and retires the others; tokens they signed
// keep verifying until they expire.
func (k *KeyRing) Rotate(ctx context.Context) (string, error) {
	key := NewSigningKey()
	err := k.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext('baton.signing_keys'))").Error; err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE signing_keys SET retired_at = now() WHERE retired_at IS NULL`).Error; err != nil {
			return err
		}
		return insertSigningKey(tx, key, k.sealer)
	})
	if err != nil {
		return "", err
	}
	return key.Kid, k.load(ctx)
}

// ErrSealedKeys is start-up's answer when the keys are sealed and no
// BATON_SECRET_KEY (or another one) is given.
var ErrSealedKeys = errors.New("the signing keys in the database are encrypted: set BATON_SECRET_KEY to the key they were sealed with")

func (k *KeyRing) load(ctx context.Context) error {
	var rows []signingKeyRow
	err := k.db.WithContext(ctx).Raw(`SELECT kid, secret, sealed, retired_at FROM signing_keys
		WHERE retired_at IS NULL OR retired_at > ? ORDER BY created_at`, time.Now().Add(-k.ttl-leeway)).Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("load signing keys: %w", err)
	}
	keys := make(map[string]ringKey, len(rows))
	current := ""
	for _, r := range rows {
		secret := r.Secret
		if r.Sealed {
			if k.sealer == nil {
				return ErrSealedKeys
			}
			if secret, err = k.sealer.Open(r.Secret, r.Kid); err != nil {
				return ErrSealedKeys
			}
		}
		keys[r.Kid] = ringKey{secret: secret, retiredAt: r.RetiredAt}
		if r.RetiredAt == nil {
			current = r.Kid
		}
	}
	if current == "" {
		return errors.New("no active signing key")
	}
	k.mu.Lock()
	changed := !maps.EqualFunc(k.keys, keys, sameKey)
	k.keys, k.current, k.loadedAt = keys, current, time.Now()
	k.mu.Unlock()
	if changed {
		// Tokens verified under the old keys are judged again under the new
		// ones (a retirement can make one invalid).
		k.verified.clear()
	}
	return nil
}

// refreshIfStale rereads the keys when they are older than keyRefresh or when
// force is set (an unknown kid), at most once per second.
func (k *KeyRing) refreshIfStale(ctx context.Context, force bool) {
	k.mu.RLock()
	age := time.Since(k.loadedAt)
	k.mu.RUnlock()
	if age > keyRefresh || (force && age > time.Second) {
		_ = k.load(ctx) // on failure the keys we have stay in use
	}
}

// Issue signs an access token for a user's session.
func (k *KeyRing) Issue(ctx context.Context, userID, role, session string) (string, time.Time, error) {
	k.refreshIfStale(ctx, false)
	k.mu.RLock()
	key := SigningKey{Kid: k.current, Secret: k.keys[k.current].secret}
	k.mu.RUnlock()
	now := time.Now()
	signed, err := key.Sign(NewClaims(userID, role, session, now, k.ttl))
	return signed, now.Add(k.ttl), err
}

// Verify checks a token by VerifyAccessToken's rules against the ring's
// keys, rereading them on an unknown kid, and returns its claims. A token
// naming a retired key must have been issued before the key retired.
func (k *KeyRing) Verify(ctx context.Context, raw string) (*Claims, error) {
	if c, ok := k.verified.get(raw, time.Now(), k.hasKey); ok {
		return c, nil
	}
	var kid string
	var key ringKey
	claims, err := VerifyAccessToken(raw, func(id string) ([]byte, bool) {
		kid = id
		var ok bool
		if key, ok = k.key(id); !ok {
			k.refreshIfStale(ctx, true)
			key, ok = k.key(id)
		}
		return key.secret, ok
	}, k.ttl)
	if err != nil {
		return nil, err
	}
	if key.retiredAt != nil && claims.IssuedAt.After(key.retiredAt.Add(leeway)) {
		return nil, errors.New("token issued by a key after it retired")
	}
	k.verified.put(raw, kid, claims)
	return claims, nil
}

func sameKey(a, b ringKey) bool {
	return (a.retiredAt == nil) == (b.retiredAt == nil) && (a.retiredAt == nil || a.retiredAt.Equal(*b.retiredAt))
}

func (k *KeyRing) key(kid string) (ringKey, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	key, ok := k.keys[kid]
	return key, ok
}

func (k *KeyRing) hasKey(kid string) bool {
	_, ok := k.key(kid)
	return ok
}
