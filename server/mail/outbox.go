package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Deliverer hands a message on: *Sender over SMTP, or LogDeliverer.
type Deliverer interface {
	Send(ctx context.Context, m Message) error
}

// LogDeliverer writes every message to the log instead of sending it, so a
// single-machine trial without an SMTP server still gets its links.
type LogDeliverer struct{ Log *slog.Logger }

// Send logs m whole: recipient, subject and body (with any link in it).
func (d LogDeliverer) Send(_ context.Context, m Message) error {
	d.Log.Info("email (BATON_SMTP_ADDR is unset, so it is logged instead of sent)",
		"to", m.To, "subject", oneLine(m.Subject), "body", m.Body)
	return nil
}

// Claimed is one outbox row a sender holds a lease on.
type Claimed struct {
	ID string
	// Attempt identifies the claim: every claim raises it, so it tells this
	// claim from a later one on the same row.
	Attempt int
	Message Message
}

// Queue is an outbox table as Drain works it. Every method acts on a claim
// only while it is still the row's, and reports nothing done otherwise.
type Queue interface {
	// Claim leases up to limit due rows for lease, in one statement that
	// commits at once.
	Claim(ctx context.Context, limit int, lease time.Duration) ([]Claimed, error)
	// Sent records that the server accepted the mail; false: the lease ran
	// out and another sender holds the row now.
	Sent(ctx context.Context, c Claimed) (bool, error)
	// Failed ends the lease after a failed delivery (the queue decides on
	// retries and when to give up).
	Failed(ctx context.Context, c Claimed) error
	// Release hands back a claim that was never tried, not counting it.
	Release(ctx context.Context, c Claimed) error
}

// Batch and Lease bound one Drain: a sender never starts a delivery its
// lease may not cover (a batch takes at most Batch times Timeout; the
// lease allows twice that).
const (
	Batch = 20
	Lease = 2 * Batch * Timeout
)

// Drain claims one batch of q, delivers each mail with no transaction
// open, and records the outcome: sent, failed, or handed back untried when
// ctx ends first. Outcomes are recorded even when ctx ends mid-batch (a
// mail the server accepted must not go out again), but not past the lease.
// It returns how many mails were accepted.
func Drain(ctx context.Context, q Queue, d Deliverer) (sent int, err error) {
	leaseEnd := time.Now().Add(Lease)
	batch, err := q.Claim(ctx, Batch, Lease)
	if err != nil {
		return 0, err
	}
	book, cancel := context.WithDeadline(context.WithoutCancel(ctx), leaseEnd)
	defer cancel()
	for _, c := range batch {
		if ctx.Err() != nil {
			err = errors.Join(err, q.Release(book, c))
			continue
		}
		send, cancelSend := context.WithDeadline(ctx, leaseEnd)
		sendErr := d.Send(send, c.Message)
		cancelSend()
		if sendErr != nil {
			err = errors.Join(err, fmt.Errorf("send %s: %w", c.ID, sendErr), q.Failed(book, c))
			continue
		}
		sent++
		marked, markErr := q.Sent(book, c)
		if markErr == nil && !marked {
			markErr = fmt.Errorf("mail %s: sent after its lease was taken over", c.ID)
		}
		err = errors.Join(err, markErr)
	}
	return sent, err
}
