package notify

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/mail"
	"github.com/baton-course/baton/server/mailtest"
	"github.com/baton-course/baton/server/testdb"
)

// outboxRow is a notification as the email outbox sees it.
type outboxRow struct {
	ID, UserID, EmailStatus string
	EmailAttempts           int
	EmailLeaseUntil         *time.Time
	EmailSentAt             *time.Time
}

// outboxWorld is a database with two learners, other and stranger, and the
// notify service on it.
type outboxWorld struct {
	db              *database.DB
	n               *Service
	other, stranger learner
}

type learner struct{ ID, Email string }

func newOutboxWorld(t *testing.T) *outboxWorld {
	t.Helper()
	w := &outboxWorld{db: testdb.New(t)}
	w.n = New(w.db.Gorm, nil)
	for _, l := range []*learner{&w.other, &w.stranger} {
		l.ID, l.Email = testdb.User(t, w.db, "learner", "Learner")
	}
	return w
}

func outbox(t *testing.T, w *outboxWorld) []outboxRow {
	t.Helper()
	var rows []outboxRow
	if err := w.db.Gorm.Raw(`SELECT id, user_id, email_status, email_attempts, email_lease_until, email_sent_at
		FROM notifications ORDER BY id`).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

// queueReminderEmails replaces the world's notifications with two queued
// for email: other's and stranger's "due soon".
func queueReminderEmails(t *testing.T, w *outboxWorld) {
	t.Helper()
	w.db.Gorm.Exec("DELETE FROM notifications")
	for _, l := range []learner{w.other, w.stranger} {
		if err := w.db.Gorm.Exec(`INSERT INTO notifications (user_id, kind, title, body, link, email_status)
			VALUES (?, 'assignment_due_soon', 'Due soon: Capstone', 'Your assignment is due.', '/modules/capstone', 'pending')`, l.ID).Error; err != nil {
			t.Fatal(err)
		}
	}
}

func newSender(t *testing.T, addr string) *mail.Sender {
	t.Helper()
	s, err := mail.New(mail.Config{Addr: addr, From: "Baton <baton@example.com>"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A module title and a learner's name outside ASCII reach the inbox as
// written.
func TestReminderEmailNonASCII(t *testing.T) {
	t.Parallel()
	w := newOutboxWorld(t)
	mp := mailtest.Start(t)
	queueReminderEmails(t, w)
	w.db.Gorm.Exec("UPDATE users SET name = ? WHERE id = ?", "Zoë Ångström", w.other.ID)
	const title = "Bald fällig: „Führen ohne Weisung“ – Überzeugen 🚀"
	w.db.Gorm.Exec("UPDATE notifications SET title = ? WHERE user_id = ?", title, w.other.ID)

	if sent, err := w.n.SendPendingEmails(context.Background(), newSender(t, mp.SMTPAddr)); err != nil || sent != 2 {
		t.Fatalf("sent %d, %v", sent, err)
	}
	for _, m := range mp.WaitFor(t, 2, 10*time.Second) {
		if m.To[0].Address != w.other.Email {
			continue
		}
		if m.Subject != title || m.To[0].Name != "Zoë Ångström" || m.From.Name != "Baton" {
			t.Fatalf("received %+v", m)
		}
		return
	}
	t.Fatal("no mail for other")
}

// A sender that claimed mails and died holds them only until its lease runs
// out; then another sends each exactly once, and the dead one's late marks
// change nothing.
func TestReminderEmailLeaseExpires(t *testing.T) {
	t.Parallel()
	w := newOutboxWorld(t)
	mp := mailtest.Start(t)
	queueReminderEmails(t, w)
	ctx := context.Background()
	sender := newSender(t, mp.SMTPAddr)

	dead, err := w.n.ClaimEmails(ctx, 20, time.Second)
	if err != nil || len(dead) != 2 {
		t.Fatalf("claimed %d, %v", len(dead), err)
	}
	if sent, err := w.n.SendPendingEmails(ctx, sender); err != nil || sent != 0 {
		t.Fatalf("sent %d under a live lease, %v", sent, err)
	}
	time.Sleep(1200 * time.Millisecond)
	if sent, err := w.n.SendPendingEmails(ctx, sender); err != nil || sent != 2 {
		t.Fatalf("sent %d after the lease ran out, %v", sent, err)
	}
	if sent, err := w.n.SendPendingEmails(ctx, sender); err != nil || sent != 0 {
		t.Fatalf("sent %d more, %v", sent, err)
	}
	for _, e := range dead {
		if marked, err := w.n.MarkEmailSent(ctx, e); err != nil || marked {
			t.Fatalf("a taken-over claim marked its row: %v %v", marked, err)
		}
	}
	for _, r := range outbox(t, w) {
		if r.EmailStatus != "sent" || r.EmailAttempts != 2 || r.EmailSentAt == nil || r.EmailLeaseUntil != nil {
			t.Fatalf("row %+v", r)
		}
	}
	time.Sleep(200 * time.Millisecond) // a late duplicate would have landed by now
	mails := mp.Messages(t)
	if len(mails) != 2 || mails[0].To[0].Address == mails[1].To[0].Address {
		t.Fatalf("%d mails: %+v", len(mails), mails)
	}
}

// smtpGate forwards connections to a real SMTP server, each only once the
// test releases the gate: while it holds one, a sender is mid-delivery.
type smtpGate struct {
	addr    string
	held    chan struct{}
	release func()
}

func newSMTPGate(t *testing.T, upstream string) *smtpGate {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	open := make(chan struct{})
	var once sync.Once
	g := &smtpGate{addr: l.Addr().String(), held: make(chan struct{}, 64), release: func() { once.Do(func() { close(open) }) }}
	t.Cleanup(func() { l.Close(); g.release() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				g.held <- struct{}{}
				<-open
				up, err := net.Dial("tcp", upstream)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { _, _ = io.Copy(up, conn); _ = up.Close() }()
				_, _ = io.Copy(conn, up)
			}()
		}
	}()
	return g
}

func (g *smtpGate) waitHeld(t *testing.T) {
	t.Helper()
	select {
	case <-g.held:
	case <-time.After(10 * time.Second):
		t.Fatal("no sender reached the SMTP server")
	}
}

// While the SMTP server holds a delivery, no session of this database is
// inside a transaction, and the claim is already visible to others.
func TestReminderEmailNoTransactionWhileSending(t *testing.T) {
	t.Parallel()
	w := newOutboxWorld(t)
	mp := mailtest.Start(t)
	gate := newSMTPGate(t, mp.SMTPAddr)
	queueReminderEmails(t, w)

	type result struct {
		sent int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		sent, err := w.n.SendPendingEmails(context.Background(), newSender(t, gate.addr))
		done <- result{sent, err}
	}()
	gate.waitHeld(t)
	var inTx []struct{ Pid, State, Query string }
	if err := w.db.Gorm.Raw(`SELECT pid, state, query FROM pg_stat_activity
		WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND xact_start IS NOT NULL`).Scan(&inTx).Error; err != nil {
		t.Fatal(err)
	}
	if len(inTx) != 0 {
		t.Errorf("sessions in a transaction while mail is sent: %+v", inTx)
	}
	var leased int
	w.db.Gorm.Raw("SELECT count(*) FROM notifications WHERE email_status = 'pending' AND email_lease_until > now()").Scan(&leased)
	if leased != 2 {
		t.Errorf("%d leased rows visible to another session, want the claim's 2", leased)
	}
	gate.release()
	if r := <-done; r.err != nil || r.sent != 2 {
		t.Fatalf("sent %d, %v", r.sent, r.err)
	}
	mp.WaitFor(t, 2, 10*time.Second)
}

// A job stopped mid-batch counts the interrupted delivery as an attempt and
// hands back the mails it never tried; nothing stays leased.
func TestReminderEmailJobStopsMidBatch(t *testing.T) {
	t.Parallel()
	w := newOutboxWorld(t)
	mp := mailtest.Start(t)
	gate := newSMTPGate(t, mp.SMTPAddr)
	queueReminderEmails(t, w)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := w.n.SendPendingEmails(ctx, newSender(t, gate.addr))
		done <- err
	}()
	gate.waitHeld(t)
	cancel()
	if err := <-done; err == nil {
		t.Fatal("an interrupted delivery reported no error")
	}
	attempts := map[int]int{}
	for _, r := range outbox(t, w) {
		if r.EmailStatus != "pending" || r.EmailLeaseUntil != nil {
			t.Fatalf("row %+v", r)
		}
		attempts[r.EmailAttempts]++
	}
	if attempts[0] != 1 || attempts[1] != 1 {
		t.Fatalf("attempts %v, want one tried and one handed back", attempts)
	}
	gate.release()
	if sent, err := w.n.SendPendingEmails(context.Background(), newSender(t, mp.SMTPAddr)); err != nil || sent != 2 {
		t.Fatalf("sent %d, %v", sent, err)
	}
}

// An unreachable SMTP server leaves mails unsent and claimable by the next
// run; after maxEmailAttempts failures a mail is given up.
func TestReminderEmailUnreachableServer(t *testing.T) {
	t.Parallel()
	w := newOutboxWorld(t)
	mp := mailtest.Start(t)
	queueReminderEmails(t, w)
	ctx := context.Background()
	down := newSender(t, testdb.FreeAddr(t))

	if sent, err := w.n.SendPendingEmails(ctx, down); err == nil || sent != 0 {
		t.Fatalf("sent %d to a closed port, %v", sent, err)
	}
	for _, r := range outbox(t, w) {
		if r.EmailStatus != "pending" || r.EmailAttempts != 1 || r.EmailLeaseUntil != nil || r.EmailSentAt != nil {
			t.Fatalf("row after a failed delivery %+v", r)
		}
	}
	if sent, err := w.n.SendPendingEmails(ctx, newSender(t, mp.SMTPAddr)); err != nil || sent != 2 {
		t.Fatalf("sent %d once the server is back, %v", sent, err)
	}
	mp.WaitFor(t, 2, 10*time.Second)

	queueReminderEmails(t, w)
	for range 5 {
		if _, err := w.n.SendPendingEmails(ctx, down); err == nil {
			t.Fatal("no error from a closed port")
		}
	}
	for _, r := range outbox(t, w) {
		if r.EmailStatus != "failed" || r.EmailAttempts != 5 {
			t.Fatalf("row after 5 failures %+v", r)
		}
	}
	if sent, err := w.n.SendPendingEmails(ctx, newSender(t, mp.SMTPAddr)); err != nil || sent != 0 {
		t.Fatalf("sent %d given-up mails, %v", sent, err)
	}
}

// Senders running at once share the outbox: every mail goes out once.
func TestReminderEmailConcurrentSenders(t *testing.T) {
	t.Parallel()
	w := newOutboxWorld(t)
	mp := mailtest.Start(t)
	w.db.Gorm.Exec("DELETE FROM notifications")
	const n = 30
	if err := w.db.Gorm.Exec(`INSERT INTO notifications (user_id, kind, title, body, email_status)
		SELECT ?, 'test', 'Reminder ' || i, 'body', 'pending' FROM generate_series(1, ?) i`, w.other.ID, n).Error; err != nil {
		t.Fatal(err)
	}
	sender := newSender(t, mp.SMTPAddr)
	var mu sync.Mutex
	total := 0
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				sent, err := w.n.SendPendingEmails(context.Background(), sender)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				total += sent
				mu.Unlock()
				if sent == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	if total != n {
		t.Fatalf("senders report %d mails, want %d", total, n)
	}
	mails := mp.WaitFor(t, n, 20*time.Second)
	seen := map[string]bool{}
	for _, m := range mails {
		if seen[m.Subject] {
			t.Fatalf("%q sent twice", m.Subject)
		}
		seen[m.Subject] = true
	}
	if len(mails) != n {
		t.Fatalf("%d mails, want %d", len(mails), n)
	}
}
