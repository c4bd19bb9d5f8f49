package teams

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/problem"
	"github.com/baton-course/baton/server/progress"
)

// Assignment statuses, derived from the learner's real progress.
const (
	NotStarted = "not_started"
	InProgress = "in_progress"
	Completed  = "completed"
)

// AssignmentView is an assignment with its derived status.
type AssignmentView struct {
	ID         string    `json:"id"`
	UserID     string    `json:"user_id"`
	Module     string    `json:"module"`
	ModuleName string    `json:"module_title"`
	DueAt      time.Time `json:"due_at"`
	TeamID     *string   `json:"team_id"`
	Status     string    `json:"status"`
	Overdue    bool      `json:"overdue"`
	Percent    int       `json:"percent"`
}

type assignmentRow struct {
	ID         string
	UserID     string
	ModuleSlug string
	DueAt      time.Time
	TeamID     *string
}

const assignmentColumns = `id, user_id, module_slug, due_at, team_id`

func (s *Service) view(st progress.Standing, a assignmentRow, now time.Time) AssignmentView {
	v := AssignmentView{ID: a.ID, UserID: a.UserID, Module: a.ModuleSlug, DueAt: a.DueAt, TeamID: a.TeamID, Status: NotStarted}
	if m, ok := s.course.Module(a.ModuleSlug); ok {
		v.ModuleName = m.Title
		mp := s.progress.Module(st, m)
		v.Percent = mp.Percent
		switch {
		case mp.Completed:
			v.Status = Completed
		case mp.Started:
			v.Status = InProgress
		}
	}
	v.Overdue = v.Status != Completed && a.DueAt.Before(now)
	return v
}

// For lists a learner's active assignments with their status.
func (s *Service) For(ctx context.Context, userID string) ([]AssignmentView, error) {
	var rows []assignmentRow
	if err := s.db.WithContext(ctx).Raw(`SELECT `+assignmentColumns+` FROM assignments
		WHERE user_id = ? AND cancelled_at IS NULL ORDER BY due_at`, userID).Scan(&rows).Error; err != nil {
		return nil, err
	}
	return s.views(ctx, rows)
}

func (s *Service) views(ctx context.Context, rows []assignmentRow) ([]AssignmentView, error) {
	out := make([]AssignmentView, 0, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	ids := map[string]bool{}
	var users []string
	for _, r := range rows {
		if !ids[r.UserID] {
			ids[r.UserID] = true
			users = append(users, r.UserID)
		}
	}
	st, err := s.progress.Standing(ctx, users)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	for _, r := range rows {
		out = append(out, s.view(st[r.UserID], r, now))
	}
	return out, nil
}

// NewAssignment is a module to assign, due at a time, to a whole team or to
// chosen learners (exactly one of TeamID and UserIDs).
type NewAssignment struct {
	Module  string
	DueAt   string // RFC 3339, as the manager gave it
	TeamID  *string
	UserIDs []string
}

// Assign gives a module, with a due date, to a whole team (current members
// now, later joiners while it is open) or to chosen members of p's teams.
// Assigning a module a learner already has moves its due date. It answers
// the assignments made or moved.
func (s *Service) Assign(ctx context.Context, p accounts.Principal, in NewAssignment) ([]AssignmentView, error) {
	var fields []problem.FieldError
	if _, ok := s.course.Module(in.Module); !ok {
		fields = append(fields, problem.FieldError{Field: "module", Message: "is not a module of the course"})
	}
	due, err := time.Parse(time.RFC3339, strings.TrimSpace(in.DueAt))
	if err != nil {
		fields = append(fields, problem.FieldError{Field: "due_at", Message: "must be an RFC 3339 timestamp, e.g. 2026-12-01T17:00:00Z"})
	}
	if (in.TeamID == nil) == (len(in.UserIDs) == 0) {
		fields = append(fields, problem.FieldError{Field: "team_id", Message: "give either team_id or a non-empty user_ids"})
	}
	if len(in.UserIDs) > 1000 {
		fields = append(fields, problem.FieldError{Field: "user_ids", Message: "at most 1000 at once"})
	}
	if len(fields) > 0 {
		return nil, problem.Validation(fields...)
	}
	var rows []assignmentRow
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if in.TeamID != nil {
			rows, err = s.assignTeam(ctx, tx, p, *in.TeamID, in.Module, due)
		} else {
			rows, err = s.assignUsers(ctx, tx, p, in.UserIDs, in.Module, due)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.views(ctx, rows)
}

func (s *Service) assignTeam(ctx context.Context, tx *gorm.DB, p accounts.Principal, teamID, module string, due time.Time) ([]assignmentRow, error) {
	var t Team
	if accounts.IsUUID(teamID) {
		if err := tx.Raw(`SELECT id, manager_id FROM teams WHERE id = ?`, teamID).Scan(&t).Error; err != nil {
			return nil, err
		}
	}
	if t.ID == "" || (!p.IsAdmin() && t.ManagerID != p.UserID) {
		return nil, problem.New(problem.Forbidden, "You can assign only to your own teams.")
	}
	if err := lockTeam(tx, t.ID); err != nil {
		return nil, err
	}
	var taID string
	if err := tx.Raw(`INSERT INTO team_assignments (team_id, module_slug, due_at, assigned_by) VALUES (?, ?, ?, ?) RETURNING id`,
		t.ID, module, due, p.UserID).Scan(&taID).Error; err != nil {
		return nil, err
	}
	var rows []assignmentRow
	err := tx.Raw(`INSERT INTO assignments (user_id, module_slug, due_at, team_id, team_assignment_id, assigned_by)
		SELECT m.user_id, @module, @due, @team, @ta, @by FROM team_members m WHERE m.team_id = @team
		ON CONFLICT (user_id, module_slug) WHERE cancelled_at IS NULL
		DO UPDATE SET due_at = EXCLUDED.due_at, assigned_by = EXCLUDED.assigned_by, updated_at = now()
		WHERE assignments.team_id = EXCLUDED.team_id
		RETURNING `+assignmentColumns,
		map[string]any{"module": module, "due": due, "team": t.ID, "ta": taID, "by": p.UserID}).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	if err := noticeAssigned(tx, rowIDs(rows)); err != nil {
		return nil, err
	}
	return rows, record(ctx, tx, p.UserID, "assignment.create", "team:"+t.ID,
		map[string]any{"module": module, "due_at": due, "team_assignment_id": taID, "learners": len(rows)})
}

func (s *Service) assignUsers(ctx context.Context, tx *gorm.DB, p accounts.Principal, userIDs []string, module string, due time.Time) ([]assignmentRow, error) {
	unique := map[string]bool{}
	var ids []string
	for _, id := range userIDs {
		if !accounts.IsUUID(id) {
			return nil, problem.New(problem.Forbidden, "You can assign only members of your own teams.")
		}
		if !unique[id] {
			unique[id] = true
			ids = append(ids, id)
		}
	}
	// Each learner must be in a team the caller manages (any team, for an
	// admin); the team they share is recorded so the manager sees it.
	var allowed []struct {
		UserID string
		TeamID string
	}
	if err := tx.Raw(`SELECT DISTINCT ON (m.user_id) m.user_id, m.team_id FROM team_members m JOIN teams t ON t.id = m.team_id
		WHERE m.user_id IN ? AND (? OR t.manager_id = ?) ORDER BY m.user_id, m.joined_at`, ids, p.IsAdmin(), p.UserID).Scan(&allowed).Error; err != nil {
		return nil, err
	}
	if len(allowed) != len(ids) {
		return nil, problem.New(problem.Forbidden, "You can assign only members of your own teams.")
	}
	var rows []assignmentRow
	for _, a := range allowed {
		var row assignmentRow
		err := tx.Raw(`INSERT INTO assignments (user_id, module_slug, due_at, team_id, assigned_by) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (user_id, module_slug) WHERE cancelled_at IS NULL
			DO UPDATE SET due_at = EXCLUDED.due_at, assigned_by = EXCLUDED.assigned_by, updated_at = now()
			WHERE assignments.team_id = EXCLUDED.team_id
			RETURNING `+assignmentColumns, a.UserID, module, due, a.TeamID, p.UserID).Scan(&row).Error
		if err != nil {
			return nil, err
		}
		if row.ID != "" { // empty: the module is already assigned through another team, which keeps it
			rows = append(rows, row)
		}
	}
	if err := noticeAssigned(tx, rowIDs(rows)); err != nil {
		return nil, err
	}
	return rows, record(ctx, tx, p.UserID, "assignment.create", "users",
		map[string]any{"module": module, "due_at": due, "user_ids": ids})
}

func rowIDs(rows []assignmentRow) []string {
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids
}

// TeamAssignments is a manager's view of a managed team's active
// assignments, of its current members.
func (s *Service) TeamAssignments(ctx context.Context, m Managed) ([]AssignmentView, error) {
	if err := m.valid(); err != nil {
		return nil, err
	}
	var rows []assignmentRow
	if err := s.db.WithContext(ctx).Raw(`SELECT a.id, a.user_id, a.module_slug, a.due_at, a.team_id FROM assignments a
		JOIN team_members m ON m.user_id = a.user_id AND m.team_id = a.team_id
		WHERE a.team_id = ? AND a.cancelled_at IS NULL ORDER BY a.due_at, a.user_id`, m.team.ID).Scan(&rows).Error; err != nil {
		return nil, err
	}
	return s.views(ctx, rows)
}

// ManagedAssignment is an active assignment the acting principal may
// change, as ManageAssignment found it.
type ManagedAssignment struct {
	row assignmentRow
	by  accounts.Principal
}

func (a ManagedAssignment) valid() error {
	if a.row.ID == "" {
		return problem.New(problem.NotFound, "No such assignment.")
	}
	return nil
}

// ManageAssignment loads an active assignment p may change: one of a learner
// in a team p manages (an admin: any). Anything else is not found.
func (s *Service) ManageAssignment(ctx context.Context, p accounts.Principal, id string) (ManagedAssignment, error) {
	var row assignmentRow
	if !accounts.IsUUID(id) {
		return ManagedAssignment{}, problem.New(problem.NotFound, "No such assignment.")
	}
	// The assignment must come from a team the caller manages: sharing a
	// learner with another manager's team gives no say over its assignments.
	err := s.db.WithContext(ctx).Raw(`SELECT a.id, a.user_id, a.module_slug, a.due_at, a.team_id FROM assignments a
		WHERE a.id = ? AND a.cancelled_at IS NULL
		  AND (? OR EXISTS (SELECT 1 FROM teams t WHERE t.id = a.team_id AND t.manager_id = ?))`,
		id, p.IsAdmin(), p.UserID).Scan(&row).Error
	if err != nil {
		return ManagedAssignment{}, err
	}
	if row.ID == "" {
		return ManagedAssignment{}, problem.New(problem.NotFound, "No such assignment.")
	}
	return ManagedAssignment{row: row, by: p}, nil
}

// ChangeDue moves an assignment's due date (dueAt in RFC 3339).
func (s *Service) ChangeDue(ctx context.Context, a ManagedAssignment, dueAt string) (AssignmentView, error) {
	if err := a.valid(); err != nil {
		return AssignmentView{}, err
	}
	due, err := time.Parse(time.RFC3339, strings.TrimSpace(dueAt))
	if err != nil {
		return AssignmentView{}, problem.Validation(problem.FieldError{Field: "due_at", Message: "must be an RFC 3339 timestamp"})
	}
	row := a.row
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE assignments SET due_at = ?, updated_at = now() WHERE id = ? AND cancelled_at IS NULL`, due, row.ID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return problem.New(problem.NotFound, "No such assignment.")
		}
		// A new date deserves new reminders; the notice of the assignment
		// itself stays.
		if err := tx.Exec(`DELETE FROM notifications WHERE assignment_id = ? AND read_at IS NULL AND kind <> ?`, row.ID, KindAssigned).Error; err != nil {
			return err
		}
		return record(ctx, tx, a.by.UserID, "assignment.due_change", "assignment:"+row.ID,
			map[string]any{"from": row.DueAt, "to": due, "user_id": row.UserID, "module": row.ModuleSlug})
	})
	if err != nil {
		return AssignmentView{}, err
	}
	row.DueAt = due
	views, err := s.views(ctx, []assignmentRow{row})
	if err != nil {
		return AssignmentView{}, err
	}
	return views[0], nil
}

// Cancel withdraws an assignment. With wholeTeam it withdraws the whole team
// assignment it came from, so later joiners do not get it either.
func (s *Service) Cancel(ctx context.Context, a ManagedAssignment, wholeTeam bool) error {
	if err := a.valid(); err != nil {
		return err
	}
	row := a.row
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if wholeTeam {
			var ta struct{ ID *string }
			if err := tx.Raw(`SELECT team_assignment_id AS id FROM assignments WHERE id = ?`, row.ID).Scan(&ta).Error; err != nil {
				return err
			}
			if ta.ID == nil || row.TeamID == nil {
				return problem.New(problem.Conflict, "This assignment was not made to a team.")
			}
			if err := lockTeam(tx, *row.TeamID); err != nil {
				return err
			}
			if err := tx.Exec(`UPDATE team_assignments SET cancelled_at = now() WHERE id = ? AND team_id = ?`, *ta.ID, *row.TeamID).Error; err != nil {
				return err
			}
			if err := tx.Exec(`UPDATE assignments SET cancelled_at = now(), updated_at = now()
				WHERE team_assignment_id = ? AND cancelled_at IS NULL`, *ta.ID).Error; err != nil {
				return err
			}
			return record(ctx, tx, a.by.UserID, "assignment.cancel_team", "team_assignment:"+*ta.ID, map[string]any{"module": row.ModuleSlug})
		}
		if err := tx.Exec(`UPDATE assignments SET cancelled_at = now(), updated_at = now() WHERE id = ?`, row.ID).Error; err != nil {
			return err
		}
		return record(ctx, tx, a.by.UserID, "assignment.cancel", "assignment:"+row.ID,
			map[string]any{"user_id": row.UserID, "module": row.ModuleSlug})
	})
}

// DueBefore lists every open assignment due before t, whatever its team,
// with its status: the reminder job's input.
func (s *Service) DueBefore(ctx context.Context, t time.Time) ([]AssignmentView, error) {
	var rows []assignmentRow
	if err := s.db.WithContext(ctx).Raw(`SELECT `+assignmentColumns+` FROM assignments
		WHERE cancelled_at IS NULL AND due_at < ?`, t).Scan(&rows).Error; err != nil {
		return nil, err
	}
	return s.views(ctx, rows)
}
