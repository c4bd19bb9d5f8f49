package xapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/baton-course/baton/quizzes"
)

const (
	// BatchEvents is how many outbox rows one request carries: at most
	// twice as many statements (a finish is two).
	BatchEvents = 25
	// lease is how long a claim lasts: past it, a claim of an instance that
	// died mid-send is taken over.
	lease = 2 * time.Minute
	// SendWindow is the longest one Drain runs.
	SendWindow = 20 * 30 * time.Second
)

// Enable tells the capture triggers whether to record events: on at the
// start-up of an instance with an LRS configured, off otherwise. Events
// already queued stay either way, to be sent once an LRS is configured.
func Enable(ctx context.Context, pool *pgxpool.Pool, on bool) error {
	_, err := pool.Exec(ctx, `UPDATE xapi_settings SET enabled = $1 WHERE id AND enabled <> $1`, on)
	return err
}

// Sender sends the outbox to the LRS.
type Sender struct {
	pool  *pgxpool.Pool
	build *Builder
	lrs   *client
	log   *slog.Logger

	sent, failed prometheus.Counter
}

// NewSender sends through cfg's LRS, building statements with b.
func NewSender(pool *pgxpool.Pool, b *Builder, cfg Config, log *slog.Logger) *Sender {
	return &Sender{pool: pool, build: b, lrs: newClient(cfg), log: log,
		sent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "baton_xapi_statements_sent_total",
			Help: "xAPI statements the LRS accepted from this instance.",
		}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "baton_xapi_statements_failed_total",
			Help: "xAPI statements this instance failed to deliver on a try (they stay queued and are tried again).",
		}),
	}
}

// Collectors are the sender's metrics for /metrics: the two counters, and
// the statements queued and refused, read from the outbox.
func (s *Sender) Collectors() []prometheus.Collector {
	count := func(where string) func() float64 {
		return func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			var n int64
			// A finish is two statements.
			if err := s.pool.QueryRow(ctx, `SELECT coalesce(sum(CASE WHEN kind IN ('attempt_finished', 'practice_finished') THEN 2 ELSE 1 END), 0)
				FROM xapi_outbox WHERE `+where).Scan(&n); err != nil {
				return -1
			}
			return float64(n)
		}
	}
	return []prometheus.Collector{s.sent, s.failed,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "baton_xapi_statements_pending",
			Help: "xAPI statements waiting to be sent to the LRS.",
		}, count("rejected_at IS NULL")),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "baton_xapi_statements_rejected",
			Help: "xAPI statements the LRS refused as invalid (400), kept in xapi_outbox for an operator.",
		}, count("rejected_at IS NOT NULL")),
	}
}

// claimed is an outbox row this sender holds, with its statements.
type claimed struct {
	Event
	claim      int
	statements []Statement
}

// Drain sends due statements, batch after batch, until the outbox is empty,
// the LRS fails (the queue then waits out its backoff) or the window ends.
// It returns how many statements the LRS accepted; an LRS failure is
// logged, not returned, since the outbox keeps its own backoff.
func (s *Sender) Drain(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, SendWindow)
	defer cancel()
	total := 0
	for {
		n, more, err := s.batch(ctx)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

// batch claims and sends one batch; more says another may be due.
func (s *Sender) batch(ctx context.Context) (sent int, more bool, err error) {
	var waiting bool
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(retry_at > now(), false) FROM xapi_settings WHERE id`).Scan(&waiting); err != nil {
		return 0, false, err
	}
	if waiting {
		return 0, false, nil
	}
	rows, err := s.claim(ctx)
	if err != nil || len(rows) == 0 {
		return 0, false, err
	}
	var ready []*claimed
	for _, r := range rows {
		r.statements, err = s.build.Statements(ctx, r.Event)
		switch {
		case err == nil:
			ready = append(ready, r)
		case errors.Is(err, errGone):
			if err := s.done(ctx, r); err != nil {
				return 0, false, err
			}
		case errors.Is(err, quizzes.ErrUnknownVersion) || errors.Is(err, errBuild):
			if err := s.reject(ctx, r, err); err != nil {
				return 0, false, err
			}
		default:
			s.release(rows)
			return 0, false, err
		}
	}
	var all []Statement
	for _, r := range ready {
		all = append(all, r.statements...)
	}
	if len(all) == 0 {
		return 0, len(rows) == BatchEvents, nil
	}
	status, err := s.lrs.post(ctx, all)
	if err == nil {
		for _, r := range ready {
			if err := s.done(ctx, r); err != nil {
				return 0, false, err
			}
		}
		s.sent.Add(float64(len(all)))
		return len(all), len(rows) == BatchEvents, s.recovered(ctx)
	}
	if status != 400 && status != 409 {
		return 0, false, s.backoff(ctx, ready, len(all), err)
	}
	// A batch the LRS refused as a whole: one of its statements is invalid
	// (400), or the LRS holds one already (409: a claim that timed out
	// after the LRS took the batch). One by one, each is then settled.
	for i, r := range ready {
		rowOK := true
		for _, st := range r.statements {
			status, err := s.lrs.put(ctx, st)
			switch {
			case err == nil:
				s.sent.Inc()
				sent++
			case status == 409:
				// Ids are derived from the source row: what the LRS holds
				// under this one came from Baton for this event.
				s.log.Warn("xAPI statement already in the LRS, differing from the one rebuilt now; keeping the LRS's", "id", st.ID, "event", r.ID)
			case status == 400:
				rowOK = false
				if err := s.reject(ctx, r, err); err != nil {
					return sent, false, err
				}
			default:
				return sent, false, s.backoff(ctx, ready[i:], len(r.statements), err)
			}
			if !rowOK {
				break
			}
		}
		if rowOK {
			if err := s.done(ctx, r); err != nil {
				return sent, false, err
			}
		}
	}
	return sent, len(rows) == BatchEvents, s.recovered(ctx)
}

func (s *Sender) claim(ctx context.Context) ([]*claimed, error) {
	rows, err := s.pool.Query(ctx, `UPDATE xapi_outbox SET claims = claims + 1, lease_until = now() + make_interval(secs => $1)
		WHERE id IN (SELECT id FROM xapi_outbox WHERE rejected_at IS NULL AND (lease_until IS NULL OR lease_until < now())
			ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING id, kind, source_id, position, lesson_slug, occurred_at, claims`, lease.Seconds(), BatchEvents)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*claimed, error) {
		var c claimed
		err := row.Scan(&c.ID, &c.Kind, &c.SourceID, &c.Position, &c.LessonSlug, &c.OccurredAt, &c.claim)
		return &c, err
	})
	// In outbox order, so an attempt's start reaches the LRS before its answers.
	for i := 1; i < len(list); i++ {
		for j := i; j > 0 && list[j].ID < list[j-1].ID; j-- {
			list[j], list[j-1] = list[j-1], list[j]
		}
	}
	return list, err
}

// done deletes a row the LRS has (or that has nothing left to send); the
// claim count keeps a sender whose lease was taken over from touching it.
func (s *Sender) done(ctx context.Context, r *claimed) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM xapi_outbox WHERE id = $1 AND claims = $2`, r.ID, r.claim)
	return err
}

// reject takes a row out of the queue for good, keeping it and why.
func (s *Sender) reject(ctx context.Context, r *claimed, cause error) error {
	s.log.Error("xAPI statement refused; kept in xapi_outbox, out of the queue", "event", r.ID, "kind", r.Kind, "err", cause)
	// Only the status is kept: an LRS's error body often quotes the
	// statement, personal data the outbox must not keep beside it.
	why := cause.Error()
	if se, ok := errors.AsType[*statusError](cause); ok {
		why = fmt.Sprintf("LRS answered %d", se.status)
	}
	_, err := s.pool.Exec(ctx, `UPDATE xapi_outbox SET rejected_at = now(), last_error = $3, lease_until = NULL
		WHERE id = $1 AND claims = $2`, r.ID, r.claim, why)
	return err
}

// release hands claimed rows back at once (the next run may take them).
func (s *Sender) release(rows []*claimed) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, r := range rows {
		_, _ = s.pool.Exec(ctx, `UPDATE xapi_outbox SET lease_until = NULL WHERE id = $1 AND claims = $2`, r.ID, r.claim)
	}
}

// backoff records a failed send: the rows go back to the queue, and the
// whole queue waits 5 s, then twice as long after each further failure, up
// to 5 minutes, so statements keep their order and an LRS that is down is
// not hammered.
func (s *Sender) backoff(ctx context.Context, rows []*claimed, statements int, cause error) error {
	s.failed.Add(float64(statements))
	s.release(rows)
	var wait float64
	err := s.pool.QueryRow(ctx, `UPDATE xapi_settings SET failures = failures + 1,
		retry_at = now() + make_interval(secs => least(300, 5 * power(2, failures)))
		WHERE id RETURNING extract(epoch FROM retry_at - now())`).Scan(&wait)
	s.log.Warn("xAPI statements not delivered; retrying later", "statements", statements, "retry_in", time.Duration(wait*float64(time.Second)).Round(time.Second), "err", cause)
	return err
}

// recovered clears the backoff after a batch went through.
func (s *Sender) recovered(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `UPDATE xapi_settings SET failures = 0, retry_at = NULL WHERE id AND (failures > 0 OR retry_at IS NOT NULL)`)
	return err
}

// errBuild marks a statement that cannot be built from its source (content
// that no longer matches it): retrying would not help.
var errBuild = errors.New("xapi: cannot build the statement")

func buildError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBuild, fmt.Sprintf(format, args...))
}
