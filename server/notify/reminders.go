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
