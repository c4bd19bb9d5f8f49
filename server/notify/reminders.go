package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/baton-course/baton/server/teams"
)

// DueSoonWindow is how long before its due date an unfinished assignment
// produces a "due soon" reminder.
const DueSoonWindow = 48 * time.Hour

// Notification kinds.
const (
	KindDueSoon = "assignment_due_soon"
	KindOverdue = "assignment_overdue"
)

// Reminders produces due-soon and overdue notifications for unfinished
// assignments, queued for email when email is on. Each (assignment, kind)
// is produced once however often this runs and on however many instances:
// the unique key decides. It returns how many notifications were created.
func (s *Service) Reminders(ctx context.Context, now time.Time, email bool) (int, error) {
	due, err := s.teams.DueBefore(ctx, now.Add(DueSoonWindow))
	if err != nil {
		return 0, err
	}
	status := "none"
	if email {
		status = "pending"
	}
	created := 0
	for _, v := range due {
		if v.Status == teams.Completed {
			continue
		}
		// Names go in as plain text between typographic quotes (%q would
		// escape the title's own quotes), and no time goes into the text:
		// due_at travels beside it, so the app shows the viewer's local time
		// and the email names its zone (see emailBody).
		kind, title := KindDueSoon, "Due soon: "+v.ModuleName
		body := fmt.Sprintf("Your assignment “%s” is due soon. Finish its lessons and pass its scenario to complete it.", v.ModuleName)
		if v.DueAt.Before(now) {
			kind, title = KindOverdue, "Overdue: "+v.ModuleName
			body = fmt.Sprintf("Your assignment “%s” is past its due date and not complete yet. You are at %d%%.", v.ModuleName, v.Percent)
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

// emailTimeLayout writes a due date in an email. Mail readers are anywhere
// and the server does not know their zone, so the zone is always named.
const emailTimeLayout = "Monday 2 January 2006, 15:04 UTC"

// emailBody is a notification as an email says it: its text, the due date
// of the assignment it is about (in UTC, said so), and the way back in.
func emailBody(body, link string, dueAt *time.Time) string {
	out := body
	if dueAt != nil {
		out += "\n\nDue: " + dueAt.UTC().Format(emailTimeLayout)
	}
	return out + "\n\nOpen Baton to continue: " + link + "\n"
}
