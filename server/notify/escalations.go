package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/baton-course/baton/server/teams"
)

// EscalateAfter is how long past its due date an unfinished assignment is
// before its team's manager is told.
const EscalateAfter = 72 * time.Hour

// KindEscalation is the manager's notice of an assignment EscalateAfter
// overdue.
const KindEscalation = "assignment_escalated"

// escalationTarget is who an overdue assignment is escalated to, and what
// the notice names.
type escalationTarget struct {
	ID, ManagerID, TeamID, TeamName, Learner string
}

// Escalations tells each team's manager, in-app and by email when email is
// on, about every unfinished assignment of a current member that is
// EscalateAfter past its due date. Each assignment is escalated once
// however often this runs and on however many instances: the notification's
// unique (assignment, kind) decides. A moved due date clears an unread
// escalation with the learner's reminders (teams.ChangeDue), so a new date
// can be escalated again. It returns how many notices were created.
func (s *Service) Escalations(ctx context.Context, now time.Time, email bool) (int, error) {
	due, err := s.teams.DueBefore(ctx, now.Add(-EscalateAfter))
	if err != nil {
		return 0, err
	}
	var ids []string
	views := map[string]teams.AssignmentView{}
	for _, v := range due {
		if v.Status != teams.Completed && v.TeamID != nil {
			ids = append(ids, v.ID)
			views[v.ID] = v
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	// Only assignments from a team the learner is still in, not yet
	// escalated: the team's manager is who is told.
	var targets []escalationTarget
	if err := s.db.WithContext(ctx).Raw(`SELECT a.id, t.manager_id, t.id AS team_id, t.name AS team_name, u.name AS learner
		FROM assignments a JOIN teams t ON t.id = a.team_id
		JOIN team_members m ON m.team_id = a.team_id AND m.user_id = a.user_id
		JOIN users u ON u.id = a.user_id
		WHERE a.id IN ? AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.assignment_id = a.id AND n.kind = ?)`,
		ids, KindEscalation).Scan(&targets).Error; err != nil {
		return 0, err
	}
	created := 0
	for _, t := range targets {
		v := views[t.ID]
		late := lateBy(now.Sub(v.DueAt))
		id, err := insert(ctx, s.db, notice{
			UserID: t.ManagerID, Kind: KindEscalation, AssignmentID: &t.ID,
			Title: fmt.Sprintf("%s is %s overdue on %s", t.Learner, late, quoted(v.ModuleName)),
			// No clock time in the text: the notice carries the assignment's
			// due_at, which the app shows in the reader's zone (and the email
			// states with its zone named).
			Body: fmt.Sprintf("%s (%s) has not finished %s: %s overdue, at %d%%. "+
				"A word from you may help; you can also move the due date on the team page.",
				t.Learner, t.TeamName, quoted(v.ModuleName), late, v.Percent),
			Link: "/teams/" + t.TeamID,
		}, email)
		if err != nil {
			return created, err
		}
		if id != "" {
			created++
		}
	}
	return created, nil
}
