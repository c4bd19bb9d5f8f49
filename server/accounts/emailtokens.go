package accounts

import (
	"context"
	"math"
	"time"

	"gorm.io/gorm"

	"github.com/baton-course/baton/server/problem"
)

// What an emailed token is for, and how long it lives.
const (
	purposeVerify = "verify_email"
	purposeReset  = "password_reset"

	verifyTTL = 48 * time.Hour
	resetTTL  = 30 * time.Minute
)

// ErrLinkInvalid is the answer for a verification or reset token that is
// unknown, used or expired: which of these is not said.
var ErrLinkInvalid = &problem.Error{Code: problem.Malformed,
	Detail: "This link is not valid: it was already used, has expired or is unknown. Ask for a new one."}

// issueToken stores a new single-use token for userID's current address in
// tx and returns it: 256 random bits (as refresh tokens are), of which
// only the SHA-256 hash is kept.
func issueToken(tx *gorm.DB, userID, purpose string, ttl time.Duration) (string, error) {
	raw := newRefreshToken()
	// Not the hash right after "(": GORM would spread the byte slice.
	err := tx.Exec(`INSERT INTO account_tokens (user_id, purpose, email, expires_at, token_hash)
		SELECT id, ?, email, ?, ? FROM users WHERE id = ?`, purpose, time.Now().Add(ttl), hashToken(raw), userID).Error
	return raw, err
}

type usedToken struct {
	UserID string
	Email  string // the address the link was sent to
}

// useToken spends a token in tx: it reports the account and address it was
// issued for, or ErrLinkInvalid. A token spends once, under a row lock, so
// two requests with one link cannot both succeed.
func useToken(tx *gorm.DB, raw, purpose string) (usedToken, error) {
	var t usedToken
	res := tx.Raw(`UPDATE account_tokens SET used_at = now()
		WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > now()
		RETURNING user_id, email`, hashToken(raw), purpose).Scan(&t)
	if res.Error != nil {
		return t, res.Error
	}
	if res.RowsAffected != 1 {
		return t, ErrLinkInvalid
	}
	return t, nil
}

// endTokens spends every open token of a purpose for userID: a reset or a
// password change makes older reset links useless.
func endTokens(tx *gorm.DB, userID, purpose string) error {
	return tx.Exec(`UPDATE account_tokens SET used_at = now() WHERE user_id = ? AND purpose = ? AND used_at IS NULL`,
		userID, purpose).Error
}

// A limit on requests that send mail to someone, in fixed windows.
type mailLimit struct {
	prefix string
	max    int
}

// mailWindow is the window every mail limit counts in.
const mailWindow = time.Hour

// Reset links are limited per address asked for (so nobody can flood a
// mailbox, known or not: the count does not depend on the account
// existing) and per client address; verification resends per account.
var (
	resetPerEmail   = mailLimit{prefix: "reset-email:", max: 5}
	resetPerAddress = mailLimit{prefix: "reset-address:", max: 30}
	verifyPerUser   = mailLimit{prefix: "verify-user:", max: 5}
)

// countMail counts one request against l for subject in tx, answering 429
// once the window's allowance is spent. Refused requests roll back with
// their transaction, so they do not stretch the window.
func countMail(tx *gorm.DB, l mailLimit, subject string) error {
	var row struct {
		Count int
		Wait  float64
	}
	err := tx.Raw(`INSERT INTO mail_throttle AS t (key, count, window_started_at) VALUES (?, 1, now())
		ON CONFLICT (key) DO UPDATE SET
		  count = CASE WHEN t.window_started_at <= now() - make_interval(secs => ?) THEN 1 ELSE t.count + 1 END,
		  window_started_at = CASE WHEN t.window_started_at <= now() - make_interval(secs => ?) THEN now() ELSE t.window_started_at END
		RETURNING count, extract(epoch FROM window_started_at + make_interval(secs => ?) - now())::float8 AS wait`,
		l.prefix+subject, mailWindow.Seconds(), mailWindow.Seconds(), mailWindow.Seconds()).Scan(&row).Error
	if err != nil {
		return err
	}
	if row.Count > l.max {
		return &problem.Error{Code: problem.TooMany, Detail: "Too many emails asked for; wait before asking again.",
			RetryAfter: time.Duration(math.Max(row.Wait, 1)) * time.Second}
	}
	return nil
}

// inTx runs f in a transaction and, once it committed, runs afterCommit
// (e.g. dropping ended sessions from this instance's cache) and wakes the
// mail sender: every caller of inTx queues mail.
func (s *Service) inTx(ctx context.Context, f func(tx *gorm.DB) error, afterCommit ...func()) error {
	if err := s.db.WithContext(ctx).Transaction(f); err != nil {
		return err
	}
	for _, after := range afterCommit {
		after()
	}
	s.mailQueued()
	return nil
}
