// Package notify is what Baton tells learners: in-app notifications, the
// reminder rules that produce them, and the email outbox that delivers
// them.
package notify

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/problem"
	"github.com/baton-course/baton/server/teams"
)

// Service produces, delivers, lists and marks learners' notifications.
type Service struct {
	db    *gorm.DB
	teams *teams.Service // the assignments that reminders are about
}

// New builds the service.
func New(db *gorm.DB, ts *teams.Service) *Service { return &Service{db: db, teams: ts} }

// Notification is an in-app notification.
type Notification struct {
	ID        string     `json:"id"`
	Kind      string     `json:"kind"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	Link      string     `json:"link"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at"`
	// DueAt is the due date of the assignment the notification is about
	// (as it stands now), or null. The text carries no time: the app shows
	// this one in the viewer's own zone.
	DueAt *time.Time `json:"due_at"`
}

// errNoNotification is the answer for an id that is not one of the
// learner's notifications.
var errNoNotification = problem.New(problem.NotFound, "No such notification.")

// List answers a learner's notifications, newest first, at most 200; only
// the unread ones when unreadOnly.
func (s *Service) List(ctx context.Context, userID string, unreadOnly bool) ([]Notification, error) {
	out := []Notification{}
	err := s.db.WithContext(ctx).Raw(`SELECT n.id, n.kind, n.title, n.body, n.link, n.created_at, n.read_at,
			(SELECT a.due_at FROM assignments a WHERE a.id = n.assignment_id) AS due_at
		FROM notifications n WHERE n.user_id = ? AND (? = false OR n.read_at IS NULL) ORDER BY n.created_at DESC LIMIT 200`,
		userID, unreadOnly).Scan(&out).Error
	return out, err
}

// MarkRead marks one of a learner's notifications read.
func (s *Service) MarkRead(ctx context.Context, userID, id string) error {
	if !accounts.IsUUID(id) {
		return errNoNotification
	}
	res := s.db.WithContext(ctx).Exec(`UPDATE notifications SET read_at = coalesce(read_at, now())
		WHERE id = ? AND user_id = ?`, id, userID)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return errNoNotification
	}
	return nil
}

// MarkAllRead marks every notification of a learner read.
func (s *Service) MarkAllRead(ctx context.Context, userID string) error {
	return s.db.WithContext(ctx).Exec(`UPDATE notifications SET read_at = now() WHERE user_id = ? AND read_at IS NULL`, userID).Error
}
