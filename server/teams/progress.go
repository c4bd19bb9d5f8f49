package teams

import (
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/progress"
)

type memberModule struct {
	Slug        string `json:"slug"`
	Percent     int    `json:"percent"`
	Completed   bool   `json:"completed"`
	BestPercent *int   `json:"best_percent"`
}

type memberProgress struct {
	User        Member           `json:"user"`
	Modules     []memberModule   `json:"modules"`
	Skills      quizzes.Points   `json:"skills"`
	Assignments []AssignmentView `json:"assignments"`
}

type teamProgress struct {
	Team    TeamRef          `json:"team"`
	Members []memberProgress `json:"members"`
}

// teamProgress builds the report in a constant number of queries (team,
// members, lesson progress, scenario attempts, assignments), however many
// members the team has.
func (s *Service) teamProgress(ctx context.Context, p accounts.Principal, teamID string) (teamProgress, error) {
	t, err := s.managed(ctx, p, teamID)
	if err != nil {
		return teamProgress{}, err
	}
	members, err := s.members(ctx, t.ID)
	if err != nil {
		return teamProgress{}, err
	}
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.ID
	}
	st, err := s.standing(ctx, ids)
	if err != nil {
		return teamProgress{}, err
	}
	var rows []assignmentRow
	if len(ids) > 0 {
		if err := s.db.WithContext(ctx).Raw(`SELECT `+assignmentColumns+` FROM assignments
			WHERE user_id IN ? AND team_id = ? AND cancelled_at IS NULL ORDER BY due_at`, ids, t.ID).Scan(&rows).Error; err != nil {
			return teamProgress{}, err
		}
	}
	now := time.Now()
	byUser := map[string][]AssignmentView{}
	for _, r := range rows {
		byUser[r.UserID] = append(byUser[r.UserID], s.view(st, r, now))
	}
	out := teamProgress{Team: TeamRef{ID: t.ID, Name: t.Name}, Members: []memberProgress{}}
	for _, m := range members {
		mp := memberProgress{User: Member{ID: m.ID, Name: m.Name, Email: m.Email}, Modules: []memberModule{},
			Skills: progress.Skills(st.quizzes[m.ID]), Assignments: byUser[m.ID]}
		if mp.Assignments == nil {
			mp.Assignments = []AssignmentView{}
		}
		for _, mod := range s.course.Modules {
			r := st.Module(s, m.ID, mod)
			mp.Modules = append(mp.Modules, memberModule{Slug: mod.Slug, Percent: r.Percent, Completed: r.Completed, BestPercent: r.BestPercent})
		}
		out.Members = append(out.Members, mp)
	}
	return out, nil
}

// Progress answers the team report (that team's manager or an admin; else 404).
func (s *Service) Progress(c echo.Context) error {
	tp, err := s.teamProgress(c.Request().Context(), principalOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, tp)
}

// ProgressCSV answers the same report as CSV: a header row, then one row per
// member and module.
func (s *Service) ProgressCSV(c echo.Context) error {
	tp, err := s.teamProgress(c.Request().Context(), principalOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="team-progress.csv"`)
	res.WriteHeader(http.StatusOK)
	w := csv.NewWriter(res)
	_ = w.Write([]string{"team", "member_name", "member_email", "module", "percent", "completed", "best_percent",
		"vision", "alignment", "inspiration", "assignment_due_at", "assignment_status", "overdue"})
	for _, m := range tp.Members {
		due := map[string]AssignmentView{}
		for _, a := range m.Assignments {
			due[a.Module] = a
		}
		for _, mod := range m.Modules {
			best := ""
			if mod.BestPercent != nil {
				best = strconv.Itoa(*mod.BestPercent)
			}
			a, assigned := due[mod.Slug]
			dueAt, status, overdue := "", "", ""
			if assigned {
				dueAt, status, overdue = a.DueAt.UTC().Format(time.RFC3339), a.Status, strconv.FormatBool(a.Overdue)
			}
			_ = w.Write(safeCells(tp.Team.Name, m.User.Name, m.User.Email, mod.Slug, strconv.Itoa(mod.Percent),
				strconv.FormatBool(mod.Completed), best, strconv.Itoa(m.Skills.Vision), strconv.Itoa(m.Skills.Alignment),
				strconv.Itoa(m.Skills.Inspiration), dueAt, status, overdue))
		}
	}
	w.Flush()
	return w.Error()
}

// safeCells neutralises spreadsheet formulas: a cell that starts with = + -
// @ (or a tab or carriage return) gets a leading apostrophe, so a name like
// "=HYPERLINK(...)" is shown as text instead of being run.
func safeCells(cells ...string) []string {
	for i, c := range cells {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			cells[i] = "'" + c
		}
	}
	return cells
}

// minGroup is the smallest number of members whose choices are shown as a
// distribution, so no individual's answers can be singled out.
const minGroup = 3

type choiceCount struct {
	ID     string `json:"id"`
	Text   string `json:"text"`
	First  int    `json:"first_attempt"`
	Latest int    `json:"latest_attempt"`
}

type stepAnalytics struct {
	StepID     string        `json:"step_id"`
	Text       string        `json:"text"`
	Answered   int           `json:"members_answered"`
	Suppressed bool          `json:"suppressed"`
	Choices    []choiceCount `json:"choices"`
}

type scenarioAnalytics struct {
	Slug  string          `json:"slug"`
	Title string          `json:"title"`
	Steps []stepAnalytics `json:"steps"`
}

// Analytics shows, for every scenario step, how the team's choices are
// distributed on each member's first attempt and on their latest one, so a
// manager sees how the team leads and how that changes with practice. Steps
// answered by fewer than three members are suppressed.
func (s *Service) Analytics(c echo.Context) error {
	ctx := c.Request().Context()
	t, err := s.managed(ctx, principalOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	var rows []struct {
		UserID   string
		QuizSlug string
		Number   int
		StepID   string
		ChoiceID string
	}
	// From the team to its members' attempts to their answers, along the
	// lead of the attempts' unique key (user, scenario, number) and the
	// answers' primary key: the cost follows the team's history, not
	// everyone's.
	err = s.db.WithContext(ctx).Raw(`SELECT a.user_id, a.quiz_slug, a.number, x.step_id, x.choice_id
		FROM team_members m
		JOIN attempts a ON a.user_id = m.user_id
		JOIN attempt_answers x ON x.attempt_id = a.id
		WHERE m.team_id = ?`, t.ID).Scan(&rows).Error
	if err != nil {
		return err
	}
	// For each member and scenario: the answers of their first attempt and of
	// their latest attempt that reached the step.
	type key struct{ user, quiz, step string }
	type pick struct {
		attempt int
		choice  string
	}
	first, latest := map[key]pick{}, map[key]pick{}
	for _, r := range rows {
		k := key{r.UserID, r.QuizSlug, r.StepID}
		if f, ok := first[k]; !ok || r.Number < f.attempt {
			first[k] = pick{r.Number, r.ChoiceID}
		}
		if l, ok := latest[k]; !ok || r.Number > l.attempt {
			latest[k] = pick{r.Number, r.ChoiceID}
		}
	}
	out := []scenarioAnalytics{}
	for _, sc := range s.catalog.All() {
		sa := scenarioAnalytics{Slug: sc.Slug, Title: sc.Title, Steps: []stepAnalytics{}}
		for _, stepID := range sc.StepOrder {
			step := sc.Steps[stepID]
			counts := map[string]*choiceCount{}
			var choices []choiceCount
			for _, ch := range step.Choices {
				choices = append(choices, choiceCount{ID: ch.ID, Text: ch.Text})
			}
			for i := range choices {
				counts[choices[i].ID] = &choices[i]
			}
			answered := 0
			for k, f := range first {
				if k.quiz != sc.Slug || k.step != stepID {
					continue
				}
				answered++
				if cc := counts[f.choice]; cc != nil {
					cc.First++
				}
				if cc := counts[latest[k].choice]; cc != nil {
					cc.Latest++
				}
			}
			st := stepAnalytics{StepID: stepID, Text: step.Text, Answered: answered, Choices: choices}
			if answered < minGroup {
				st.Suppressed = true
				st.Choices = []choiceCount{}
			}
			sa.Steps = append(sa.Steps, st)
		}
		out = append(out, sa)
	}
	return c.JSON(http.StatusOK, map[string]any{"team": TeamRef{ID: t.ID, Name: t.Name}, "min_group": minGroup, "scenarios": out})
}
