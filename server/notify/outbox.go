package notify

import (
	"context"
	"time"

	"github.com/baton-course/baton/server/mail"
)

// maxEmailAttempts bounds retries of one reminder email.
const maxEmailAttempts = 5

// SendWindow is the longest SendPendingEmails runs: a job that calls it must
// allow that much (River's default job timeout is one minute).
const SendWindow = mail.Lease

// PendingEmail is a reminder email claimed for delivery.
type PendingEmail struct {
	ID, Email, Name, Title, Body, Link string
	// DueAt is the due date of the assignment the notification is about.
	DueAt *time.Time
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
		RETURNING n.id, u.email, u.name, n.title, n.body, n.link, n.email_attempts AS attempt,
			(SELECT a.due_at FROM assignments a WHERE a.id = n.assignment_id) AS due_at`,
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

// SendPendingEmails delivers queued reminder emails through mail.Drain: it
// claims a batch, sends each mail with no transaction open and marks it sent
// once the server accepted it. A failed mail is tried again on a later run,
// up to maxEmailAttempts times. It returns how many mails the server
// accepted.
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
	return mail.Drain(ctx, reminderQueue{s}, sender)
}

// reminderQueue is the notifications outbox as mail.Drain works it.
type reminderQueue struct{ s *Service }

func (q reminderQueue) Claim(ctx context.Context, limit int, lease time.Duration) ([]mail.Claimed, error) {
	batch, err := q.s.ClaimEmails(ctx, limit, lease)
	out := make([]mail.Claimed, len(batch))
	for i, e := range batch {
		out[i] = mail.Claimed{ID: e.ID, Attempt: e.Attempt, Message: mail.Message{
			To: e.Email, ToName: e.Name, Subject: e.Title, Body: emailBody(e.Body, e.Link, e.DueAt),
		}}
	}
	return out, err
}

func pending(c mail.Claimed) PendingEmail { return PendingEmail{ID: c.ID, Attempt: c.Attempt} }

func (q reminderQueue) Sent(ctx context.Context, c mail.Claimed) (bool, error) {
	return q.s.MarkEmailSent(ctx, pending(c))
}

func (q reminderQueue) Failed(ctx context.Context, c mail.Claimed) error {
	return q.s.markEmailFailed(ctx, pending(c))
}

func (q reminderQueue) Release(ctx context.Context, c mail.Claimed) error {
	return q.s.releaseEmail(ctx, pending(c))
}
