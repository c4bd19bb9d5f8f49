package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/baton-course/baton/server/mail"
)

// Outbox settings. A sender never starts a delivery its lease may not
// cover: a whole batch takes at most emailBatch times mail.Timeout, and the
// lease allows twice that.
const (
	maxEmailAttempts = 5 // bounds retries of one reminder email
	emailBatch       = 20
	emailLease       = 2 * emailBatch * mail.Timeout
)

// SendWindow is the longest SendPendingEmails runs: a job that calls it must
// allow that much (River's default job timeout is one minute).
const SendWindow = emailLease

// PendingEmail is a reminder email claimed for delivery.
type PendingEmail struct {
	ID, Email, Name, Title, Body, Link string
	// Attempt is email_attempts as the claim set it. Every claim raises it,
	// so it tells this claim from a later one on the same row.
	Attempt int
}

// ClaimEmails leases up to limit pending reminder emails for lease, in one
// statement that commits at once: rows another sender is claiming at that
// moment are skipped, rows under a live lease are not offered, and a row
// whose lease ran out (its instance died mid-send) is offered again.
func (s *Service) ClaimEmails(ctx context.Context, limit int, lease time.Duration) ([]PendingEmail, error) {
	var batch []PendingEmail
	err := s.db.WithContext(ctx).Raw(`UPDATE notifications n SET email_attempts = n.email_attempts + 1,
		email_lease_until = now() + make_interval(secs => ?)
		FROM users u WHERE u.id = n.user_id AND n.id IN (
			SELECT id FROM notifications WHERE email_status = 'pending' AND email_attempts < ?
				AND (email_lease_until IS NULL OR email_lease_until < now())
			ORDER BY created_at LIMIT ? FOR UPDATE SKIP LOCKED)
		RETURNING n.id, u.email, u.name, n.title, n.body, n.link, n.email_attempts AS attempt`,
		lease.Seconds(), maxEmailAttempts, limit).Scan(&batch).Error
	return batch, err
}

// MarkEmailSent records that the server accepted e's mail. It reports false,
// and changes nothing, when e's claim is no longer the row's: the lease ran
// out and another sender claimed the row.
func (s *Service) MarkEmailSent(ctx context.Context, e PendingEmail) (bool, error) {
	res := s.db.WithContext(ctx).Exec(`UPDATE notifications SET email_status = 'sent', email_sent_at = now(), email_lease_until = NULL
		WHERE id = ? AND email_attempts = ? AND email_status = 'pending'`, e.ID, e.Attempt)
	return res.RowsAffected == 1, res.Error
}

// markEmailFailed ends e's lease after a failed delivery, giving up on the
// mail once it has had its attempts.
func (s *Service) markEmailFailed(ctx context.Context, e PendingEmail) error {
	return s.db.WithContext(ctx).Exec(`UPDATE notifications SET email_lease_until = NULL,
		email_status = CASE WHEN email_attempts >= ? THEN 'failed' ELSE 'pending' END
		WHERE id = ? AND email_attempts = ? AND email_status = 'pending'`, maxEmailAttempts, e.ID, e.Attempt).Error
}

// releaseEmail hands back a claimed mail that was never tried, without
// counting the claim as an attempt.
func (s *Service) releaseEmail(ctx context.Context, e PendingEmail) error {
	return s.db.WithContext(ctx).Exec(`UPDATE notifications SET email_lease_until = NULL, email_attempts = email_attempts - 1
		WHERE id = ? AND email_attempts = ? AND email_status = 'pending'`, e.ID, e.Attempt).Error
}

// SendPendingEmails delivers queued reminder emails: it claims a batch, sends
// each mail with no transaction open and marks it sent once the server
// accepted it. A failed mail is tried again on a later run, up to
// maxEmailAttempts times. It returns how many mails the server accepted.
func (s *Service) SendPendingEmails(ctx context.Context, sender *mail.Sender) (sent int, err error) {
	if sender == nil {
		return 0, nil
	}
	// A row a dead instance claimed for its last attempt is given up, as a
	// failed last attempt would be.
	if err := s.db.WithContext(ctx).Exec(`UPDATE notifications SET email_status = 'failed', email_lease_until = NULL
		WHERE email_status = 'pending' AND email_attempts >= ? AND email_lease_until < now()`, maxEmailAttempts).Error; err != nil {
		return 0, err
	}
	leaseEnd := time.Now().Add(emailLease)
	batch, err := s.ClaimEmails(ctx, emailBatch, emailLease)
	if err != nil {
		return 0, err
	}
	// Outcomes are recorded even when ctx ends mid-batch (a mail the server
	// accepted must not go out again), but not past the lease.
	book, cancel := context.WithDeadline(context.WithoutCancel(ctx), leaseEnd)
	defer cancel()
	for _, e := range batch {
		if ctx.Err() != nil {
			err = errors.Join(err, s.releaseEmail(book, e))
			continue
		}
		send, cancelSend := context.WithDeadline(ctx, leaseEnd)
		sendErr := sender.Send(send, mail.Message{
			To: e.Email, ToName: e.Name, Subject: e.Title, Body: e.Body + "\n\nOpen Baton to continue: " + e.Link + "\n",
		})
		cancelSend()
		if sendErr != nil {
			err = errors.Join(err, fmt.Errorf("send reminder %s: %w", e.ID, sendErr), s.markEmailFailed(book, e))
			continue
		}
		sent++
		marked, markErr := s.MarkEmailSent(book, e)
		if markErr == nil && !marked {
			markErr = fmt.Errorf("reminder %s: sent after its lease was taken over", e.ID)
		}
		err = errors.Join(err, markErr)
	}
	return sent, err
}
