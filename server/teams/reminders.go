package teams

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"strings"
	"time"

	"gorm.io/gorm"
)

// DueSoonWindow is how long before its due date an unfinished assignment
// produces a "due soon" reminder.
const DueSoonWindow = 48 * time.Hour

// Notification kinds.
const (
	KindDueSoon = "assignment_due_soon"
	KindOverdue = "assignment_overdue"
)

// Mailer sends reminder emails through an SMTP server. A zero Mailer sends
// nothing: reminders are then in-app only.
type Mailer struct {
	Addr     string // host:port
	From     string
	Username string // optional PLAIN auth
	Password string
}

// Enabled reports whether email is configured.
func (m Mailer) Enabled() bool { return m.Addr != "" && m.From != "" }

// mailTimeout bounds one delivery, so an unresponsive mail server cannot
// hold the reminder job (and the rows it has claimed) for long.
const mailTimeout = 15 * time.Second

// Send delivers one plain-text message, upgrading to TLS when the server
// offers STARTTLS.
func (m Mailer) Send(to, subject, body string) error {
	conn, err := net.DialTimeout("tcp", m.Addr, mailTimeout)
	if err != nil {
		return err
	}
	_ = conn.SetDeadline(time.Now().Add(mailTimeout))
	host, _, _ := net.SplitHostPort(m.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		_ = conn.Close()
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}); err != nil {
			return err
		}
	}
	if m.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", m.Username, m.Password, host)); err != nil {
			return err
		}
	}
	if err := c.Mail(m.From); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	msg := "From: " + m.From + "\r\nTo: " + to + "\r\nSubject: " + headerSafe(subject) +
		"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + strings.ReplaceAll(body, "\n", "\r\n") + "\r\n"
	if _, err := w.Write([]byte(msg)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// headerSafe keeps user-influenced text (module titles) from breaking out of
// a mail header.
func headerSafe(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }

// Reminders produces due-soon and overdue notifications for unfinished
// assignments. Each (assignment, kind) is produced once however often this
// runs and on however many instances: the unique key decides. It returns how
// many notifications were created.
func (s *Service) Reminders(ctx context.Context, now time.Time, email bool) (int, error) {
	var rows []assignmentRow
	if err := s.db.WithContext(ctx).Raw(`SELECT `+assignmentColumns+` FROM assignments
		WHERE cancelled_at IS NULL AND due_at < ?`, now.Add(DueSoonWindow)).Scan(&rows).Error; err != nil {
		return 0, err
	}
	views, err := s.views(ctx, rows)
	if err != nil {
		return 0, err
	}
	status := "none"
	if email {
		status = "pending"
	}
	created := 0
	for _, v := range views {
		if v.Status == Completed {
			continue
		}
		kind, title := KindDueSoon, fmt.Sprintf("Due soon: %s", v.ModuleName)
		body := fmt.Sprintf("Your assignment %q is due %s. Finish its lessons and pass its scenario to complete it.",
			v.ModuleName, v.DueAt.UTC().Format("Mon 2 Jan 2006 15:04 MST"))
		if v.DueAt.Before(now) {
			kind, title = KindOverdue, fmt.Sprintf("Overdue: %s", v.ModuleName)
			body = fmt.Sprintf("Your assignment %q was due %s and is not complete yet. You are at %d%%.",
				v.ModuleName, v.DueAt.UTC().Format("Mon 2 Jan 2006 15:04 MST"), v.Percent)
		}
		res := s.db.WithContext(ctx).Exec(`INSERT INTO notifications (user_id, kind, assignment_id, title, body, link, email_status)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (assignment_id, kind) DO NOTHING`,
			v.UserID, kind, v.ID, title, body, "/modules/"+v.Module, status)
		if res.Error != nil {
			return created, res.Error
		}
		created += int(res.RowsAffected)
	}
	return created, nil
}

// maxEmailAttempts bounds retries of one reminder email.
const maxEmailAttempts = 5

// SendPendingEmails delivers queued reminder emails. Rows are claimed with
// SKIP LOCKED, so several instances never send the same mail at once; a mail
// is marked sent only after the server accepted it.
func (s *Service) SendPendingEmails(ctx context.Context, m Mailer) (sent int, err error) {
	if !m.Enabled() {
		return 0, nil
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var batch []struct {
			ID, Email, Title, Body, Link string
		}
		if err := tx.Raw(`SELECT n.id, u.email, n.title, n.body, n.link FROM notifications n JOIN users u ON u.id = n.user_id
			WHERE n.email_status = 'pending' ORDER BY n.created_at LIMIT 20 FOR UPDATE OF n SKIP LOCKED`).Scan(&batch).Error; err != nil {
			return err
		}
		for _, n := range batch {
			sendErr := m.Send(n.Email, n.Title, n.Body+"\n\nOpen Baton to continue: "+n.Link+"\n")
			if sendErr == nil {
				sent++
				if err := tx.Exec(`UPDATE notifications SET email_status = 'sent', email_attempts = email_attempts + 1 WHERE id = ?`, n.ID).Error; err != nil {
					return err
				}
				continue
			}
			if err := tx.Exec(`UPDATE notifications SET email_attempts = email_attempts + 1,
				email_status = CASE WHEN email_attempts + 1 >= ? THEN 'failed' ELSE 'pending' END WHERE id = ?`,
				maxEmailAttempts, n.ID).Error; err != nil {
				return err
			}
			err = errors.Join(err, fmt.Errorf("send reminder %s: %w", n.ID, sendErr))
		}
		return nil
	})
	return sent, err
}
