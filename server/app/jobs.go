package app

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/mail"
	"github.com/baton-course/baton/server/notify"
	"github.com/baton-course/baton/server/xapi"
)

// reminderArgs is the periodic job that produces what Baton tells people
// about assignments (learners' due-soon and overdue reminders, managers'
// escalations and weekly digests) and sends their emails. River runs
// periodic jobs from the elected leader only, so it fires once per interval
// however many instances run; each producer is idempotent besides (unique
// keys in PostgreSQL), so a run on two instances at once still tells
// everyone once.
type reminderArgs struct{}

func (reminderArgs) Kind() string { return "assignment_reminders" }

type reminderWorker struct {
	river.WorkerDefaults[reminderArgs]
	s    *Services
	mail *mail.Sender // nil: notices are in-app only
}

// Timeout lets a batch of reminder mail run its course instead of River's
// one-minute default cutting it short.
func (w *reminderWorker) Timeout(*river.Job[reminderArgs]) time.Duration {
	return notify.SendWindow + time.Minute
}

func (w *reminderWorker) Work(ctx context.Context, _ *river.Job[reminderArgs]) error {
	return w.s.notices(ctx, w.mail)
}

// notices runs every notice producer at the services' clock, each whatever
// the others did, then sends the queued emails (none without a sender).
func (s *Services) notices(ctx context.Context, sender *mail.Sender) error {
	now, email := s.now(), sender != nil
	reminders, err := s.Notify.Reminders(ctx, now, email)
	escalations, escErr := s.Notify.Escalations(ctx, now, email)
	digests, digestErr := s.Notify.Digests(ctx, now, s.cfg.DigestAt, email)
	sent, mailErr := s.Notify.SendPendingEmails(ctx, sender)
	if reminders+escalations+digests+sent > 0 {
		s.log.Info("notices", "reminders", reminders, "escalations", escalations, "digests", digests, "emailed", sent)
	}
	return errors.Join(err, escErr, digestErr, mailErr)
}

// now is the services' clock: the time, unless a test set another.
func (s *Services) now() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now()
}

// accountMailArgs sends queued account mail (verification and reset links,
// password notices). A job is inserted after every transaction that queues
// such mail, so a link arrives within seconds; the periodic one retries
// failed mail (the outbox keeps its backoff). Spent tokens go with the
// daily prune job.
type accountMailArgs struct{}

func (accountMailArgs) Kind() string { return "account_mail" }

// accountMailSweep is how often the periodic account-mail job runs.
const accountMailSweep = 15 * time.Second

type accountMailWorker struct {
	river.WorkerDefaults[accountMailArgs]
	s    *Services
	mail mail.Deliverer // SMTP, or the log when BATON_SMTP_ADDR is unset
}

func (w *accountMailWorker) Timeout(*river.Job[accountMailArgs]) time.Duration {
	return accounts.MailSendWindow + time.Minute
}

func (w *accountMailWorker) Work(ctx context.Context, _ *river.Job[accountMailArgs]) error {
	var err error
	// Whole batches mean more may be due: keep going, within the timeout.
	for range 10 {
		sent, sendErr := w.s.Accounts.SendAccountMail(ctx, w.mail)
		err = errors.Join(err, sendErr)
		if sent < mail.Batch || sendErr != nil {
			break
		}
	}
	return err
}

// xapiArgs sends queued xAPI statements to the LRS. It is periodic, so it
// runs on the elected leader only, and often enough that a statement
// reaches the LRS within seconds of its event: a wake-up from the answer
// path would cost that path Go code (or a NOTIFY, whose commit-time lock
// serialises every answer), and a sweep costs one indexed read when the
// outbox is empty. The outbox's leases keep two runs from sending a row
// twice; its backoff, not River's retries, paces an LRS outage.
type xapiArgs struct{}

func (xapiArgs) Kind() string { return "xapi_statements" }

// xapiSweep is how often the xAPI job runs.
const xapiSweep = 5 * time.Second

type xapiWorker struct {
	river.WorkerDefaults[xapiArgs]
	s *Services
}

func (w *xapiWorker) Timeout(*river.Job[xapiArgs]) time.Duration {
	return xapi.SendWindow + time.Minute
}

func (w *xapiWorker) Work(ctx context.Context, _ *river.Job[xapiArgs]) error {
	_, err := w.s.XAPI.Drain(ctx)
	return err
}

// pruneArgs is the daily job that deletes expired sessions, tokens and
// throttle rows (accounts.Prune says which and when). Like the reminders it
// runs on the elected leader only.
type pruneArgs struct{}

func (pruneArgs) Kind() string { return "prune_expired" }

// pruneInterval is how often expired rows are deleted.
const pruneInterval = 24 * time.Hour

type pruneWorker struct {
	river.WorkerDefaults[pruneArgs]
	s *Services
}

func (w *pruneWorker) Work(ctx context.Context, _ *river.Job[pruneArgs]) error {
	deleted, err := accounts.Prune(ctx, w.s.db.Gorm, time.Now())
	var total int64
	for _, n := range deleted {
		total += n
	}
	if total > 0 {
		w.s.log.Info("pruned expired rows", "deleted", deleted)
	}
	return err
}

// pgxTx is the job queue's transaction type.
type pgxTx = pgx.Tx

// jobs is the running job queue of this instance.
type jobs struct {
	client *river.Client[pgx.Tx]
}

// StartJobs starts the PostgreSQL-backed job queue for this instance, on
// the same pool as everything else. Behind a transaction-mode pooler River
// polls instead of listening (LISTEN needs a session the pooler does not
// keep): a queued job then waits up to River's fetch interval (a second),
// and a resigned leader's successor up to five seconds.
func (s *Services) StartJobs(ctx context.Context) error {
	var sender *mail.Sender
	if s.cfg.SMTP.Enabled() {
		var err error
		if sender, err = mail.New(s.cfg.SMTP); err != nil {
			return err
		}
	}
	var accountMail mail.Deliverer = mail.LogDeliverer{Log: s.log}
	if sender != nil {
		accountMail = sender
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &reminderWorker{s: s, mail: sender})
	river.AddWorker(workers, &accountMailWorker{s: s, mail: accountMail})
	river.AddWorker(workers, &pruneWorker{s: s})
	river.AddWorker(workers, &xapiWorker{s: s})
	river.AddWorker(workers, &ltiScoresWorker{s: s})
	periodic := []*river.PeriodicJob{river.NewPeriodicJob(
		river.PeriodicInterval(s.cfg.ReminderInterval),
		func() (river.JobArgs, *river.InsertOpts) { return reminderArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true},
	), river.NewPeriodicJob(
		river.PeriodicInterval(accountMailSweep),
		func() (river.JobArgs, *river.InsertOpts) { return accountMailArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true},
	), river.NewPeriodicJob(
		river.PeriodicInterval(pruneInterval),
		func() (river.JobArgs, *river.InsertOpts) { return pruneArgs{}, nil },
		// On start too: instances redeployed more often than daily
		// would otherwise never reach the first interval.
		&river.PeriodicJobOpts{RunOnStart: true},
	), ltiScoresJob()}
	if s.cfg.XAPI.Enabled() {
		// Without an LRS there is no xAPI job at all.
		periodic = append(periodic, river.NewPeriodicJob(
			river.PeriodicInterval(xapiSweep),
			func() (river.JobArgs, *river.InsertOpts) { return xapiArgs{}, &river.InsertOpts{MaxAttempts: 1} },
			&river.PeriodicJobOpts{RunOnStart: true},
		))
	}
	client, err := river.NewClient(riverpgxv5.New(s.db.Pool), &river.Config{
		Logger:       s.log,
		Queues:       map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}},
		Workers:      workers,
		PeriodicJobs: periodic,
		PollOnly:     s.db.Pooled(),
	})
	if err != nil {
		return err
	}
	if err := client.Start(ctx); err != nil {
		return err
	}
	s.jobs = &jobs{client: client}
	s.LTI.OnScoresQueued(s.wakeLTIScores(client))
	s.Accounts.OnMailQueued(func() {
		// After the mail's transaction committed; a lost wake-up only
		// delays the mail until the next sweep.
		insertCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := client.Insert(insertCtx, accountMailArgs{}, &river.InsertOpts{MaxAttempts: 1}); err != nil {
			s.log.Warn("account mail job not queued; the sweep will send it", "err", err)
		}
	})
	return nil
}

// stop lets running jobs finish for a while, then cancels them, so that a
// mail being sent is recorded (sent, or handed back) before the pool closes.
func (j *jobs) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := j.client.Stop(ctx); err != nil {
		cancelCtx, cancelled := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancelled()
		_ = j.client.StopAndCancel(cancelCtx)
	}
}
