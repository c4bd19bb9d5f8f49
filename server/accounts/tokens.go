package accounts

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

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

// VerifyAccessToken checks an access token by the server's rules: HS256
// only, a kid secretOf knows, issuer, audience, an expiry, iat and nbf (5 s
// leeway), and a subject, session and known role. It returns the claims.
func VerifyAccessToken(raw string, secretOf func(kid string) ([]byte, bool)) (*Claims, error) {
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
		jwt.WithLeeway(5*time.Second),
	)
	if err != nil {
		return nil, err
	}
	if claims.Subject == "" || claims.Session == "" || !validRole(claims.Role) {
		return nil, errors.New("token lacks subject, session or role")
	}
	return &claims, nil
}

// signingKeyRow is a SigningKey as kept in PostgreSQL.
type signingKeyRow struct {
	Kid       string
	Secret    []byte
	RetiredAt *time.Time
}

// KeyRing holds the signing keys shared through PostgreSQL, so a token
// issued by one instance verifies on every other. The newest active key
// signs; retired keys still verify until tokens signed with them expire.
type KeyRing struct {
	db       *gorm.DB
	ttl      time.Duration
	mu       sync.RWMutex
	keys     map[string][]byte
	current  string
	loadedAt time.Time
	verified verifiedTokens
}

// keyRefresh is how often an instance rereads the keys (to pick up a rotation).
const keyRefresh = 30 * time.Second

// NewKeyRing loads the keys, creating the first one if there is none.
func NewKeyRing(ctx context.Context, db *gorm.DB, ttl time.Duration) (*KeyRing, error) {
	k := &KeyRing{db: db, ttl: ttl}
	if err := ensureKey(ctx, db); err != nil {
		return nil, err
	}
	return k, k.load(ctx)
}

// ensureKey creates a key when none is active. The advisory lock makes
// instances that start together agree on one.
func ensureKey(ctx context.Context, db *gorm.DB) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext('baton.signing_keys'))").Error; err != nil {
			return err
		}
		var n int64
		if err := tx.Raw(`SELECT count(*) FROM signing_keys WHERE retired_at IS NULL`).Scan(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		return insertSigningKey(tx, NewSigningKey())
	})
}

func insertSigningKey(tx *gorm.DB, k SigningKey) error {
	return tx.Exec(`INSERT INTO signing_keys (kid, secret) VALUES (?, ?)`, k.Kid, k.Secret).Error
}

// Rotate makes a new key current and retires the others; tokens they signed
// keep verifying until they expire.
func Rotate(ctx context.Context, db *gorm.DB) (string, error) {
	key := NewSigningKey()
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext('baton.signing_keys'))").Error; err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE signing_keys SET retired_at = now() WHERE retired_at IS NULL`).Error; err != nil {
			return err
		}
		return insertSigningKey(tx, key)
	})
	return key.Kid, err
}

// maxTokenLifetime bounds how long a retired key must stay usable.
const maxTokenLifetime = 24 * time.Hour

func (k *KeyRing) load(ctx context.Context) error {
	var rows []signingKeyRow
	err := k.db.WithContext(ctx).Raw(`SELECT kid, secret, retired_at FROM signing_keys
		WHERE retired_at IS NULL OR retired_at > ? ORDER BY created_at`, time.Now().Add(-maxTokenLifetime)).Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("load signing keys: %w", err)
	}
	keys := make(map[string][]byte, len(rows))
	current := ""
	for _, r := range rows {
		keys[r.Kid] = r.Secret
		if r.RetiredAt == nil {
			current = r.Kid
		}
	}
	if current == "" {
		return errors.New("no active signing key")
	}
	k.mu.Lock()
	k.keys, k.current, k.loadedAt = keys, current, time.Now()
	k.mu.Unlock()
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
	key := SigningKey{Kid: k.current, Secret: k.keys[k.current]}
	k.mu.RUnlock()
	now := time.Now()
	signed, err := key.Sign(NewClaims(userID, role, session, now, k.ttl))
	return signed, now.Add(k.ttl), err
}

// Verify checks a token by VerifyAccessToken's rules against the ring's
// keys, rereading them on an unknown kid, and returns its claims.
func (k *KeyRing) Verify(ctx context.Context, raw string) (*Claims, error) {
	if c, ok := k.verified.get(raw, time.Now(), k.hasKey); ok {
		return c, nil
	}
	var kid string
	claims, err := VerifyAccessToken(raw, func(id string) ([]byte, bool) {
		kid = id
		k.mu.RLock()
		secret, ok := k.keys[id]
		k.mu.RUnlock()
		if !ok {
			k.refreshIfStale(ctx, true)
			k.mu.RLock()
			secret, ok = k.keys[id]
			k.mu.RUnlock()
		}
		return secret, ok
	})
	if err != nil {
		return nil, err
	}
	k.verified.put(raw, kid, claims)
	return claims, nil
}

func (k *KeyRing) hasKey(kid string) bool {
	k.mu.RLock()
	defer k.mu.RUnlock()
	_, ok := k.keys[kid]
	return ok
}
