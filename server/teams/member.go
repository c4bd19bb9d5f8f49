package teams

import (
	"context"
	"time"

	"github.com/baton-course/baton/lessons"
	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/problem"
)

// MemberModule is a member's standing in one module, with its title.
type MemberModule struct {
	Slug      string `json:"slug"`
	Title     string `json:"title"`
	Percent   int    `json:"percent"`
	Completed bool   `json:"completed"`
	Started   bool   `json:"started"`
}

// AttemptResult is one finished attempt as a manager sees it: its number,
// variant, scenario version and percent, never its choices.
type AttemptResult struct {
	Number     int          `json:"number"`
	Version    string       `json:"version"`
	Variant    VariantTitle `json:"variant"`
	Percent    int          `json:"percent"`
	Passed     bool         `json:"passed"`
	FinishedAt time.Time    `json:"finished_at"`
}

// VariantTitle names a scenario variant.
type VariantTitle struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// MemberScenario is a member's attempts at one scenario: how many, and the
// best and the latest finished one (null before any finished).
type MemberScenario struct {
	Slug     string         `json:"slug"`
	Title    string         `json:"title"`
	Module   string         `json:"module"`
	Attempts int            `json:"attempts"`
	Passed   bool           `json:"passed"`
	Best     *AttemptResult `json:"best"`
	Latest   *AttemptResult `json:"latest"`
}

// SkillEvidence is one skill score of the profile with the number of
// decisions behind it: the decisions, in the attempts the profile averages
// (each scenario's latest finished one), whose choice moved that skill.
type SkillEvidence struct {
	Score     int `json:"score"`
	Decisions int `json:"decisions"`
}

// MemberSkills is the skill profile with its evidence.
type MemberSkills struct {
	Vision      SkillEvidence `json:"vision"`
	Alignment   SkillEvidence `json:"alignment"`
	Inspiration SkillEvidence `json:"inspiration"`
}

// MemberDetail is one member's drill-down for their team's manager.
type MemberDetail struct {
	Team        TeamRef                `json:"team"`
	User        Member                 `json:"user"`
	Modules     []MemberModule         `json:"modules"`
	Assignments []AssignmentView       `json:"assignments"`
	Scenarios   []MemberScenario       `json:"scenarios"`
	Skills      MemberSkills           `json:"skills"`
	Practice    []lessons.PracticeDone `json:"practice"`
}

var errNoMember = problem.New(problem.NotFound, "No such member.")

// finishedRow is a best or latest finished attempt of one scenario.
type finishedRow struct {
	Which      string
	QuizSlug   string
	Version    string
	Variant    string
	Number     int
	Percent    int
	Passed     bool
	FinishedAt time.Time
}

// Member builds one member's drill-down in a constant number of queries
// however long their history: the member, their standing (two), their
// best and latest attempts, the decisions behind their skills, their
// assignments from the team and their shared practice notes. Only a
// current (accepted) member of the team is found.
func (s *Service) Member(ctx context.Context, m Managed, userID string) (MemberDetail, error) {
	if err := m.valid(); err != nil {
		return MemberDetail{}, err
	}
	if !accounts.IsUUID(userID) {
		return MemberDetail{}, errNoMember
	}
	db := s.db.WithContext(ctx)
	var user Member
	if err := db.Raw(`SELECT u.id, u.name, u.email, m.joined_at FROM team_members m JOIN users u ON u.id = m.user_id
		WHERE m.team_id = ? AND m.user_id = ?`, m.team.ID, userID).Scan(&user).Error; err != nil {
		return MemberDetail{}, err
	}
	if user.ID == "" {
		return MemberDetail{}, errNoMember
	}
	all, err := s.progress.Standing(ctx, []string{userID})
	if err != nil {
		return MemberDetail{}, err
	}
	st := all[userID]
	var finished []finishedRow
	if err := db.Raw(`(SELECT DISTINCT ON (quiz_slug) 'latest' AS which, quiz_slug, scenario_version AS version, variant, number, percent, passed, finished_at
			FROM attempts WHERE user_id = @user AND status = 'finished' ORDER BY quiz_slug, finished_at DESC, number DESC)
		UNION ALL
		(SELECT DISTINCT ON (quiz_slug) 'best', quiz_slug, scenario_version, variant, number, percent, passed, finished_at
			FROM attempts WHERE user_id = @user AND status = 'finished' ORDER BY quiz_slug, percent DESC, finished_at DESC)`,
		map[string]any{"user": userID}).Scan(&finished).Error; err != nil {
		return MemberDetail{}, err
	}
	var decisions struct{ Vision, Alignment, Inspiration int }
	if err := db.Raw(`SELECT count(*) FILTER (WHERE vision <> 0) AS vision, count(*) FILTER (WHERE alignment <> 0) AS alignment,
			count(*) FILTER (WHERE inspiration <> 0) AS inspiration
		FROM attempt_answers WHERE attempt_id IN (SELECT DISTINCT ON (quiz_slug) id FROM attempts
			WHERE user_id = ? AND status = 'finished' ORDER BY quiz_slug, finished_at DESC, number DESC)`, userID).Scan(&decisions).Error; err != nil {
		return MemberDetail{}, err
	}
	var rows []assignmentRow
	if err := db.Raw(`SELECT `+assignmentColumns+` FROM assignments
		WHERE user_id = ? AND team_id = ? AND cancelled_at IS NULL ORDER BY due_at`, userID, m.team.ID).Scan(&rows).Error; err != nil {
		return MemberDetail{}, err
	}
	practice, err := s.progress.SharedPractice(ctx, []string{userID})
	if err != nil {
		return MemberDetail{}, err
	}

	out := MemberDetail{Team: TeamRef{ID: m.team.ID, Name: m.team.Name}, User: user, Modules: []MemberModule{},
		Assignments: []AssignmentView{}, Scenarios: []MemberScenario{}, Practice: practice[userID]}
	if out.Practice == nil {
		out.Practice = []lessons.PracticeDone{}
	}
	now := time.Now()
	for _, r := range rows {
		out.Assignments = append(out.Assignments, s.view(st, r, now))
	}
	for _, mod := range s.course.Modules {
		mp := s.progress.Module(st, mod)
		out.Modules = append(out.Modules, MemberModule{Slug: mod.Slug, Title: mod.Title, Percent: mp.Percent, Completed: mp.Completed, Started: mp.Started})
	}
	best, latest := map[string]*AttemptResult{}, map[string]*AttemptResult{}
	for _, f := range finished {
		r := &AttemptResult{Number: f.Number, Version: f.Version, Variant: VariantTitle{ID: f.Variant, Title: f.Variant},
			Percent: f.Percent, Passed: f.Passed, FinishedAt: f.FinishedAt}
		if f.Which == "latest" {
			latest[f.QuizSlug] = r
		} else {
			best[f.QuizSlug] = r
		}
	}
	// Scenarios in course order: module by module, as the catalog lists them.
	for _, mod := range s.course.Modules {
		for _, sc := range s.catalog.ForModule(mod.Slug) {
			ms := MemberScenario{Slug: sc.Slug, Title: sc.Title, Module: mod.Slug, Best: best[sc.Slug], Latest: latest[sc.Slug]}
			if q := st.Scenarios[sc.Slug]; q != nil {
				ms.Attempts, ms.Passed = q.AttemptsUsed, q.Passed
			}
			// Variant titles from the current version: variant ids are
			// stable across versions, and an old version is not loaded here
			// (that would cost a query per version in the member's history).
			for _, r := range []*AttemptResult{ms.Best, ms.Latest} {
				if r == nil {
					continue
				}
				if v, ok := sc.Variant(r.Variant.ID); ok && v.Title != "" {
					r.Variant.Title = v.Title
				}
			}
			out.Scenarios = append(out.Scenarios, ms)
		}
	}
	skills := st.Skills()
	out.Skills = MemberSkills{
		Vision:      SkillEvidence{Score: skills.Vision, Decisions: decisions.Vision},
		Alignment:   SkillEvidence{Score: skills.Alignment, Decisions: decisions.Alignment},
		Inspiration: SkillEvidence{Score: skills.Inspiration, Decisions: decisions.Inspiration},
	}
	return out, nil
}
