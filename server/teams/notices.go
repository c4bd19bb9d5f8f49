package teams

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/problem"
)

// Notification kinds the teams area produces itself (the reminder kinds
// are server/notify's).
const (
	// KindAssigned tells a learner at once that a module was assigned to
	// them: one per assignment (the notifications' unique key).
	KindAssigned = "assignment_assigned"
	// KindNudge carries a manager's short note about an assignment. It is
	// not tied to the assignment's unique key, so each day may have one.
	KindNudge = "assignment_nudge"
)

// MaxNudgeNote bounds a nudge's note, in characters.
const MaxNudgeNote = 280

// NudgeInterval is how long an assignment's nudge holds off the next one.
const NudgeInterval = 24 * time.Hour

// noticeAssigned tells each learner of the given assignments, in the app and
// by email, that they have one, in one statement; an assignment already
// told about (a due date moved by assigning again) is not told again.
func noticeAssigned(tx *gorm.DB, assignmentIDs []string) error {
	if len(assignmentIDs) == 0 {
		return nil
	}
	return noticeWhere(tx, assignmentIDs, nil, nil)
}

// noticeJoined tells a learner who just joined a team about the team's open
// assignments they were given on joining.
func noticeJoined(tx *gorm.DB, teamID, userID string) error {
	return noticeWhere(tx, nil, &userID, &teamID)
}

// noticeWhere inserts the "new assignment" notice, naming who assigned it,
// for the open assignments with one of ids or of userID from teamID.
func noticeWhere(tx *gorm.DB, ids []string, userID, teamID *string) error {
	if ids == nil {
		ids = []string{}
	}
	return tx.Exec(`INSERT INTO notifications (user_id, kind, assignment_id, title, body, link, email_status)
		SELECT a.user_id, @kind, a.id, 'New assignment: ' || m.title,
			coalesce(u.name, 'Your manager') || ' assigned you the module “' || m.title ||
			'”. Its due date is on your home page, with the rest of what is due.',
			'/modules/' || a.module_slug, 'pending'
		FROM assignments a JOIN modules m ON m.slug = a.module_slug LEFT JOIN users u ON u.id = a.assigned_by
		WHERE a.cancelled_at IS NULL AND (a.id IN @ids OR (a.user_id = @user AND a.team_id = @team))
		ON CONFLICT (assignment_id, kind) DO NOTHING`,
		map[string]any{"kind": KindAssigned, "ids": ids, "user": userID, "team": teamID}).Error
}

// Nudge sends the learner of an assignment the manager's short note, in the
// app and by email: at most one a day per assignment (429 with the wait
// after that), never about a completed one (409). It is audited.
func (s *Service) Nudge(ctx context.Context, a ManagedAssignment, note string) error {
	if err := a.valid(); err != nil {
		return err
	}
	note = accounts.CleanName(note) // one line, no control or hidden characters
	if utf8.RuneCountInString(note) > MaxNudgeNote {
		return problem.Validation(problem.FieldError{Field: "note", Message: fmt.Sprintf("must be at most %d characters", MaxNudgeNote)})
	}
	views, err := s.views(ctx, []assignmentRow{a.row})
	if err != nil {
		return err
	}
	v := views[0]
	if v.Status == Completed {
		return problem.New(problem.Conflict, "This assignment is already completed.")
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The assignment's row lock makes two nudges at once wait for each
		// other, so the second sees the first.
		var live []string
		if err := tx.Raw(`SELECT id FROM assignments WHERE id = ? AND cancelled_at IS NULL FOR UPDATE`, v.ID).Scan(&live).Error; err != nil {
			return err
		}
		if len(live) == 0 {
			return problem.New(problem.NotFound, "No such assignment.")
		}
		var last struct{ At *time.Time }
		if err := tx.Raw(`SELECT max(created_at) AS at FROM assignment_nudges WHERE assignment_id = ?`, v.ID).Scan(&last).Error; err != nil {
			return err
		}
		if last.At != nil {
			if wait := time.Until(last.At.Add(NudgeInterval)); wait > 0 {
				return &problem.Error{Code: problem.TooMany, RetryAfter: max(wait, time.Second),
					Detail: "This assignment was nudged in the last day; one nudge a day is enough."}
			}
		}
		if err := tx.Exec(`INSERT INTO assignment_nudges (assignment_id, nudged_by, note) VALUES (?, ?, ?)`,
			v.ID, a.by.UserID, note).Error; err != nil {
			return err
		}
		var manager string
		if err := tx.Raw(`SELECT name FROM users WHERE id = ?`, a.by.UserID).Scan(&manager).Error; err != nil {
			return err
		}
		title := "A reminder from " + manager + ": " + v.ModuleName
		body := manager + " reminded you of your assignment “" + v.ModuleName + "”."
		if v.Overdue {
			body = manager + " reminded you of your assignment “" + v.ModuleName + "”, which is past its due date."
		}
		if note != "" {
			body += " Their note: “" + note + "”"
		}
		if err := tx.Exec(`INSERT INTO notifications (user_id, kind, title, body, link, email_status)
			VALUES (?, ?, ?, ?, ?, 'pending')`, v.UserID, KindNudge, title, body, "/modules/"+v.Module).Error; err != nil {
			return err
		}
		return record(ctx, tx, a.by.UserID, "assignment.nudge", "assignment:"+v.ID,
			map[string]any{"user_id": v.UserID, "module": v.Module, "note": note})
	})
}
