package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Refresh-token lifetimes: a token is good for refreshTTL after it is issued,
// and no session outlives sessionTTL however often it is refreshed.
const (
	refreshTTL = 14 * 24 * time.Hour
	sessionTTL = 30 * 24 * time.Hour
)

type session struct {
	ID            string `gorm:"primaryKey;default:gen_random_uuid()"`
	UserID        string
	CreatedAt     time.Time
	ExpiresAt     time.Time
	RevokedAt     *time.Time
	RevokedReason *string
}

type refreshToken struct {
	TokenHash []byte `gorm:"primaryKey"`
	SessionID string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// ErrRefreshRejected covers every refresh failure: unknown, expired, reused
// or revoked. The client is told only that it must sign in again.
var ErrRefreshRejected = errors.New("refresh token rejected")

func hashToken(raw string) []byte {
	sum := sha256.Sum256([]byte(raw))
	return sum[:]
}

// newRefreshToken is 256 random bits, URL-safe for a cookie.
func newRefreshToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// startSession opens a session for a user and returns its id and first
// refresh token. It runs inside the caller's transaction.
func startSession(tx *gorm.DB, userID string) (string, string, error) {
	s := session{UserID: userID, ExpiresAt: time.Now().Add(sessionTTL)}
	if err := tx.Create(&s).Error; err != nil {
		return "", "", err
	}
	raw := newRefreshToken()
	err := tx.Create(&refreshToken{TokenHash: hashToken(raw), SessionID: s.ID, ExpiresAt: time.Now().Add(refreshTTL)}).Error
	return s.ID, raw, err
}

// rotate exchanges a refresh token for a new one in the same session. A token
// that was already used revokes the whole session: either the client is
// confused or someone else holds a copy, and the session cannot be trusted.
func rotate(ctx context.Context, db *gorm.DB, raw string) (userID, sessionID, next string, err error) {
	reused := false
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var tok refreshToken
		err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).
			Where("token_hash = ?", hashToken(raw)).Take(&tok).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrRefreshRejected
		} else if err != nil {
			return err
		}
		var s session
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", tok.SessionID).Take(&s).Error; err != nil {
			return err
		}
		now := time.Now()
		if tok.UsedAt != nil {
			reused = true
			return revokeTx(tx, s.ID, "refresh token reused")
		}
		if s.RevokedAt != nil || now.After(s.ExpiresAt) || now.After(tok.ExpiresAt) {
			return ErrRefreshRejected
		}
		if err := tx.Model(&tok).Update("used_at", now).Error; err != nil {
			return err
		}
		next = newRefreshToken()
		expires := min(now.Add(refreshTTL).Unix(), s.ExpiresAt.Unix())
		userID, sessionID = s.UserID, s.ID
		return tx.Create(&refreshToken{TokenHash: hashToken(next), SessionID: s.ID, ExpiresAt: time.Unix(expires, 0)}).Error
	})
	if reused && err == nil {
		err = ErrRefreshRejected
	}
	return userID, sessionID, next, err
}

func revokeTx(tx *gorm.DB, sessionID, reason string) error {
	return tx.Model(&session{}).Where("id = ? AND revoked_at IS NULL", sessionID).
		Updates(map[string]any{"revoked_at": time.Now(), "revoked_reason": reason}).Error
}

// revoke ends a user's session (logout). Someone else's session id does
// nothing.
func revoke(ctx context.Context, db *gorm.DB, userID, sessionID, reason string) error {
	return db.WithContext(ctx).Model(&session{}).
		Where("id = ? AND user_id = ? AND revoked_at IS NULL", sessionID, userID).
		Updates(map[string]any{"revoked_at": time.Now(), "revoked_reason": reason}).Error
}

// revokeByToken ends the session a refresh token belongs to, if it is the
// user's.
func revokeByToken(ctx context.Context, db *gorm.DB, userID, raw string) error {
	return db.WithContext(ctx).Exec(`UPDATE sessions SET revoked_at = now(), revoked_reason = 'logout'
		WHERE revoked_at IS NULL AND user_id = ? AND id = (SELECT session_id FROM refresh_tokens WHERE token_hash = ?)`,
		userID, hashToken(raw)).Error
}
