package notify

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// notice is a notification to write: to whom, what kind, about which
// assignment (nil: none), and what it says.
type notice struct {
	UserID       string
	Kind         string
	AssignmentID *string
	Title, Body  string
	Link         string
}

// insert writes n, queued for email when email is on, unless a notification
// with the same unique key exists (for an assignment: one per kind), and
// answers the new row's id, or "" when there was one already.
func insert(ctx context.Context, db *gorm.DB, n notice, email bool) (string, error) {
	status := "none"
	if email {
		status = "pending"
	}
	var id string
	err := db.WithContext(ctx).Raw(`INSERT INTO notifications (user_id, kind, assignment_id, title, body, link, email_status)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
		n.UserID, n.Kind, n.AssignmentID, n.Title, n.Body, n.Link, status).Scan(&id).Error
	return id, err
}

// quoted puts a title in typographic quotes: plain text, never escaped.
func quoted(title string) string { return "“" + title + "”" }

// lateBy says how long past a moment now is: "5 hours", "1 day", "3 days".
func lateBy(d time.Duration) string {
	switch {
	case d < time.Hour:
		return "less than an hour"
	case d < 24*time.Hour:
		return plural(int(d/time.Hour), "hour")
	}
	return plural(int(d/(24*time.Hour)), "day")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
