package accounts

import (
	"context"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/baton-course/baton/server/mail"
)

// Account mail (verification and reset links, password-change notices) goes
// through the account_emails outbox: a row is written in the transaction
// that creates what it announces, so a committed token always has its mail
// and a rolled-back one never does. The job queue sends it (mail.Drain) and
// deletes the row once the server accepted it.
const (
	maxAccountMailAttempts = 8
	// accountMailMaxAge drops mail nobody could use any more: no link
	// lives longer than a verification link.
	accountMailMaxAge = verifyTTL
)

// mailWaker is how a queued mail reaches the sender at once instead of at
// the next periodic run: the job queue registers a function that wakes it.
type mailWaker struct{ wake atomic.Pointer[func()] }

// OnMailQueued registers f to be called after a transaction that queued
// account mail commits (app: insert a River job). Without it mail waits for
// the periodic sender.
func (s *Service) OnMailQueued(f func()) { s.mail.wake.Store(&f) }

func (s *Service) mailQueued() {
	if f := s.mail.wake.Load(); f != nil {
		(*f)()
	}
}

// queueMail writes one mail to userID's address in tx.
func queueMail(tx *gorm.DB, userID, kind, subject, body string) error {
	return tx.Exec(`INSERT INTO account_emails (user_id, kind, to_email, to_name, subject, body)
		SELECT id, ?, email, name, ?, ? FROM users WHERE id = ?`, kind, subject, body, userID).Error
}

// link is an absolute address in the browser app.
func (s *Service) link(path string) string { return s.cfg.PublicURL + path }

// SendAccountMail delivers due account mail through d (SMTP, or the log
// when no SMTP server is configured) and returns how many were accepted.
func (s *Service) SendAccountMail(ctx context.Context, d mail.Deliverer) (int, error) {
	// Rows a dead instance claimed for their last attempt, and mail too old
	// to be of use, are dropped with their secrets.
	res := s.db.WithContext(ctx).Exec(`DELETE FROM account_emails
		WHERE (attempts >= ? AND lease_until < now()) OR created_at < now() - make_interval(secs => ?)`,
		maxAccountMailAttempts, accountMailMaxAge.Seconds())
	if res.Error != nil {
		return 0, res.Error
	}
	if res.RowsAffected > 0 {
		s.log.Warn("account mail given up", "count", res.RowsAffected)
	}
	return mail.Drain(ctx, accountQueue{s}, d)
}

// MailSendWindow is the longest SendAccountMail runs.
const MailSendWindow = mail.Lease

// accountQueue is the account_emails outbox as mail.Drain works it.
type accountQueue struct{ s *Service }

func (q accountQueue) Claim(ctx context.Context, limit int, lease time.Duration) ([]mail.Claimed, error) {
	var rows []struct {
		ID, ToEmail, ToName, Subject, Body string
		Attempts                           int
	}
	err := q.s.db.WithContext(ctx).Raw(`UPDATE account_emails SET attempts = attempts + 1,
		lease_until = now() + make_interval(secs => ?)
		WHERE id IN (SELECT id FROM account_emails WHERE next_attempt_at <= now() AND attempts < ?
			AND (lease_until IS NULL OR lease_until < now())
			ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED)
		RETURNING id, to_email, to_name, subject, body, attempts`,
		lease.Seconds(), maxAccountMailAttempts, limit).Scan(&rows).Error
	out := make([]mail.Claimed, len(rows))
	for i, r := range rows {
		out[i] = mail.Claimed{ID: r.ID, Attempt: r.Attempts,
			Message: mail.Message{To: r.ToEmail, ToName: r.ToName, Subject: r.Subject, Body: r.Body}}
	}
	return out, err
}

// Sent deletes the row: the link it carried must not stay in the database.
func (q accountQueue) Sent(ctx context.Context, c mail.Claimed) (bool, error) {
	res := q.s.db.WithContext(ctx).Exec(`DELETE FROM account_emails WHERE id = ? AND attempts = ?`, c.ID, c.Attempt)
	return res.RowsAffected == 1, res.Error
}

// Failed schedules another try with exponential backoff (15 s, 30 s, … up
// to an hour), or gives the mail up after its last attempt.
func (q accountQueue) Failed(ctx context.Context, c mail.Claimed) error {
	db := q.s.db.WithContext(ctx)
	if c.Attempt >= maxAccountMailAttempts {
		q.s.log.Warn("account mail given up after its last attempt", "id", c.ID)
		return db.Exec(`DELETE FROM account_emails WHERE id = ? AND attempts = ?`, c.ID, c.Attempt).Error
	}
	return db.Exec(`UPDATE account_emails SET lease_until = NULL,
		next_attempt_at = now() + make_interval(secs => least(3600, 15 * power(2, attempts - 1)))
		WHERE id = ? AND attempts = ?`, c.ID, c.Attempt).Error
}

func (q accountQueue) Release(ctx context.Context, c mail.Claimed) error {
	return q.s.db.WithContext(ctx).Exec(`UPDATE account_emails SET lease_until = NULL, attempts = attempts - 1
		WHERE id = ? AND attempts = ?`, c.ID, c.Attempt).Error
}
