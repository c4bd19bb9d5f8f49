package accounts

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/baton-course/baton/server/audit"
	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/opaque"
)

// Refresh-token lifetimes: a token is good for refreshTTL after it is issued,
// and no session outlives sessionTTL however often it is refreshed.
const (
	refreshTTL = 14 * 24 * time.Hour
	sessionTTL = 30 * 24 * time.Hour
)

type session struct {
	ID        string
	UserID    string
	ExpiresAt time.Time
	RevokedAt *time.Time
}

type refreshToken struct {
	SessionID string
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// ErrRefreshRejected covers every refresh failure: unknown, expired, reused
// or revoked. The client is told only that it must sign in again.
var ErrRefreshRejected = errors.New("refresh token rejected")

func hashToken(raw string) []byte { return opaque.Hash(raw) }

// newRefreshToken is 256 random bits, URL-safe for a cookie.
func newRefreshToken() string { return opaque.New() }

// startedSession is a session just opened, with its user's role as read in
// the same statement.
type startedSession struct {
	ID        string
	ExpiresAt time.Time
	Role      string
	Refresh   string `gorm:"-"`
}

// startSession opens a session for a user and returns it with its first
// refresh token. It runs inside the caller's transaction.
//
// A deactivated account (SCIM active: false) gets none: ErrDeactivated. The
// account's row stays share-locked until the session's transaction ends, so
// a deactivation (which updates the row) waits for the session to commit
// and then revokes it too: no session slips past it. One statement, so a
// sign-in costs no more for the check.
func startSession(tx *gorm.DB, userID string) (startedSession, error) {
	var st startedSession
	res := tx.Raw(`INSERT INTO sessions (user_id, expires_at, user_agent, last_used_at)
		SELECT id, ?, ?, now() FROM users WHERE id = ? AND deactivated_at IS NULL FOR SHARE
		RETURNING id, expires_at, (SELECT role FROM users WHERE id = user_id) AS role`,
		time.Now().Add(sessionTTL), userAgentOf(tx.Statement.Context), userID).Scan(&st)
	if res.Error != nil {
		return st, res.Error
	} else if res.RowsAffected == 0 {
		return st, ErrDeactivated
	}
	st.Refresh = newRefreshToken()
	return st, insertRefreshToken(tx, st.Refresh, st.ID, time.Now().Add(refreshTTL))
}

func insertRefreshToken(tx *gorm.DB, raw, sessionID string, expires time.Time) error {
	// Not the hash first: GORM spreads a slice that follows "(" as an IN list.
	return tx.Exec(`INSERT INTO refresh_tokens (session_id, token_hash, expires_at) VALUES (?, ?, ?)`,
		sessionID, hashToken(raw), expires).Error
}

// rotate exchanges a refresh token for a new one in the same session. A token
// that was already used revokes the whole session: either the client is
// confused or someone else holds a copy, and the session cannot be trusted.
func rotate(ctx context.Context, db *gorm.DB, raw string) (s session, next string, err error) {
	reused := false
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var tok refreshToken
		res := tx.Raw(`SELECT session_id, expires_at, used_at FROM refresh_tokens WHERE token_hash = ? FOR UPDATE`,
			hashToken(raw)).Scan(&tok)
		if res.Error != nil {
			return res.Error
		} else if res.RowsAffected == 0 {
			return ErrRefreshRejected
		}
		if err := tx.Raw(`SELECT id, user_id, expires_at, revoked_at FROM sessions WHERE id = ? FOR UPDATE`,
			tok.SessionID).Scan(&s).Error; err != nil {
			return err
		}
		now := time.Now()
		if tok.UsedAt != nil {
			reused = true
			if err := revokeTx(tx, s.ID, "refresh token reused"); err != nil {
				return err
			}
			return audit.Append(ctx, database.GormExec(tx), audit.Entry{ActorID: s.UserID, Action: "session.refresh_reused",
				Subject: "session:" + s.ID, Details: map[string]any{"effect": "session revoked"}})
		}
		if s.RevokedAt != nil || now.After(s.ExpiresAt) || now.After(tok.ExpiresAt) {
			return ErrRefreshRejected
		}
		if err := tx.Exec(`UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ?`, now, hashToken(raw)).Error; err != nil {
			return err
		}
		if err := touchSession(tx, s.ID); err != nil {
			return err
		}
		next = newRefreshToken()
		expires := min(now.Add(refreshTTL).Unix(), s.ExpiresAt.Unix())
		return insertRefreshToken(tx, next, s.ID, time.Unix(expires, 0))
	})
	if reused && err == nil {
		err = ErrRefreshRejected
	}
	return s, next, err
}

func revokeTx(tx *gorm.DB, sessionID, reason string) error {
	return tx.Exec(`UPDATE sessions SET revoked_at = now(), revoked_reason = ? WHERE id = ? AND revoked_at IS NULL`,
		reason, sessionID).Error
}

// revoke ends a user's session (logout). Someone else's session id does
// nothing.
func revoke(ctx context.Context, db *gorm.DB, userID, sessionID, reason string) error {
	return db.WithContext(ctx).Exec(`UPDATE sessions SET revoked_at = now(), revoked_reason = ?
		WHERE id = ? AND user_id = ? AND revoked_at IS NULL`, reason, sessionID, userID).Error
}

// revokeByToken ends the session a refresh token belongs to, if it is the
// user's.
func revokeByToken(ctx context.Context, db *gorm.DB, userID, raw string) error {
	return db.WithContext(ctx).Exec(`UPDATE sessions SET revoked_at = now(), revoked_reason = 'logout'
		WHERE revoked_at IS NULL AND user_id = ? AND id = (SELECT session_id FROM refresh_tokens WHERE token_hash = ?)`,
		userID, hashToken(raw)).Error
}
