package teams

import (
	"context"
	"time"

	"github.com/baton-course/baton/lessons"
	"github.com/baton-course/baton/quizzes"
	"gorm.io/gorm"
)

// ReportModule is a member's standing in one module, in a team report.
type ReportModule struct {
	Slug        string `json:"slug"`
	Percent     int    `json:"percent"`
	Completed   bool   `json:"completed"`
	BestPercent *int   `json:"best_percent"`
}

// MemberReport is one member's line of a team report.
type MemberReport struct {
	User        Member           `json:"user"`
	Modules     []ReportModule   `json:"modules"`
	Skills      quizzes.Points   `json:"skills"`
	Assignments []AssignmentView `json:"assignments"`
	// Practice is the "try it this week" notes the member chose to share.
	Practice []lessons.PracticeDone `json:"practice"`
}

// Report is a team's progress: every member's standing in every module,
// skill profile and assignments from the team.
type Report struct {
	Team    TeamRef        `json:"team"`
	Members []MemberReport `json:"members"`
}

// Report builds the report in a constant number of queries (members, lesson
// progress, scenario attempts, assignments, shared practice notes), however
// many members the team has.
func (s *Service) Report(ctx context.Context, m Managed) (Report, error) {
	if err := m.valid(); err != nil {
		return Report{}, err
	}
	t := m.team
	members, err := s.members(ctx, t.ID)
	if err != nil {
		return Report{}, err
	}
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.ID
	}
	st, err := s.progress.Standing(ctx, ids)
	if err != nil {
		return Report{}, err
	}
	var rows []assignmentRow
	if len(ids) > 0 {
		if err := s.readLagging(ctx, func(db *gorm.DB) error {
			rows = rows[:0]
			return db.Raw(`SELECT `+assignmentColumns+` FROM assignments
				WHERE user_id IN ? AND team_id = ? AND cancelled_at IS NULL ORDER BY due_at`, ids, t.ID).Scan(&rows).Error
		}); err != nil {
			return Report{}, err
		}
	}
	practice, err := s.progress.SharedPractice(ctx, ids)
	if err != nil {
		return Report{}, err
	}
	now := time.Now()
	byUser := map[string][]AssignmentView{}
	for _, r := range rows {
		byUser[r.UserID] = append(byUser[r.UserID], s.view(st[r.UserID], r, now))
	}
	out := Report{Team: TeamRef{ID: t.ID, Name: t.Name}, Members: []MemberReport{}}
	for _, m := range members {
		mine := st[m.ID]
		mp := MemberReport{User: Member{ID: m.ID, Name: m.Name, Email: m.Email}, Modules: []ReportModule{},
			Skills: mine.Skills(), Assignments: byUser[m.ID], Practice: practice[m.ID]}
		if mp.Assignments == nil {
			mp.Assignments = []AssignmentView{}
		}
		if mp.Practice == nil {
			mp.Practice = []lessons.PracticeDone{}
		}
		for _, mod := range s.progress.Modules(mine) {
			mp.Modules = append(mp.Modules, ReportModule{Slug: mod.Slug, Percent: mod.Percent, Completed: mod.Completed, BestPercent: mod.BestPercent})
		}
		out.Members = append(out.Members, mp)
	}
	return out, nil
}
