package teams

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/baton-course/baton/lessons"
	"github.com/baton-course/baton/quizzes"
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
		if err := s.db.WithContext(ctx).Raw(`SELECT `+assignmentColumns+` FROM assignments
			WHERE user_id IN ? AND team_id = ? AND cancelled_at IS NULL ORDER BY due_at`, ids, t.ID).Scan(&rows).Error; err != nil {
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

// WriteCSV writes the report as CSV: a header row, then one row per member
// and module, with spreadsheet formulas neutralised.
func (r Report) WriteCSV(out io.Writer) error {
	w := csv.NewWriter(out)
	_ = w.Write([]string{"team", "member_name", "member_email", "module", "percent", "completed", "best_percent",
		"vision", "alignment", "inspiration", "assignment_due_at", "assignment_status", "overdue"})
	for _, m := range r.Members {
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
			_ = w.Write(safeCells(r.Team.Name, m.User.Name, m.User.Email, mod.Slug, strconv.Itoa(mod.Percent),
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

// MinGroup is the smallest number of members whose choices are shown as a
// distribution, so no individual's answers can be singled out.
const MinGroup = 3

// ChoiceCount is how many members chose a choice of a step.
type ChoiceCount struct {
	ID     string `json:"id"`
	Text   string `json:"text"`
	First  int    `json:"first_attempt"`
	Latest int    `json:"latest_attempt"`
}

// StepAnalytics is the distribution of the team's choices at one step;
// Suppressed (no choices shown) when fewer than MinGroup members answered.
type StepAnalytics struct {
	StepID     string        `json:"step_id"`
	Text       string        `json:"text"`
	Answered   int           `json:"members_answered"`
	Suppressed bool          `json:"suppressed"`
	Choices    []ChoiceCount `json:"choices"`
}

// CheckAnalytics is the team's first answers to one quick check,
// suppressed (FirstCorrect 0) when fewer than MinGroup members answered.
type CheckAnalytics struct {
	Lesson       string `json:"lesson"`
	CheckID      string `json:"check_id"`
	Question     string `json:"question"`
	Answered     int    `json:"members_answered"`
	Suppressed   bool   `json:"suppressed"`
	FirstCorrect int    `json:"first_correct"`
}

// ScenarioAnalytics is every step of one scenario.
type ScenarioAnalytics struct {
	Slug    string          `json:"slug"`
	Title   string          `json:"title"`
	Variant VariantRef      `json:"variant"`
	Steps   []StepAnalytics `json:"steps"`
}

// VariantRef names a scenario's variant.
type VariantRef struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// Analytics is a team's choice analytics. (Fields in this order: the
// answer has always listed them alphabetically.)
type Analytics struct {
	MinGroup int `json:"min_group"`
	// QuickChecks is, per lesson quick check, how many members answered it
	// and how many were right on their first answer (the one that counts).
	QuickChecks []CheckAnalytics    `json:"quick_checks"`
	Scenarios   []ScenarioAnalytics `json:"scenarios"`
	Team        TeamRef             `json:"team"`
}

// Analytics shows, for every scenario step, how the team's choices are
// distributed on each member's first attempt and on their latest one, so a
// manager sees how the team leads and how that changes with practice. Steps
// answered by fewer than three members are suppressed.
func (s *Service) Analytics(ctx context.Context, m Managed) (Analytics, error) {
	if err := m.valid(); err != nil {
		return Analytics{}, err
	}
	t := m.team
	var rows []struct {
		UserID   string
		QuizSlug string
		Variant  string
		Number   int
		StepID   string
		ChoiceID string
	}
	// From the team to its members' attempts to their answers, along the
	// lead of the attempts' unique key (user, scenario, number) and the
	// answers' primary key: the cost follows the team's history, not
	// everyone's.
	err := s.db.WithContext(ctx).Raw(`SELECT a.user_id, a.quiz_slug, a.variant, a.number, x.step_id, x.choice_id
		FROM team_members m
		JOIN attempts a ON a.user_id = m.user_id
		JOIN attempt_answers x ON x.attempt_id = a.id
		WHERE m.team_id = ?`, t.ID).Scan(&rows).Error
	if err != nil {
		return Analytics{}, err
	}
	// For each member, scenario and variant: the answers of their first
	// attempt and of their latest attempt that reached the step. Attempts
	// from before variants ("") count with the first variant, which kept
	// the content they were played on.
	first, latest := map[answerKey]pick{}, map[answerKey]pick{}
	for _, r := range rows {
		variant := r.Variant
		if sc, ok := s.catalog.Get(r.QuizSlug); ok && variant == "" {
			variant = sc.Variants[0].ID
		}
		k := answerKey{r.UserID, r.QuizSlug, variant, r.StepID}
		if f, ok := first[k]; !ok || r.Number < f.attempt {
			first[k] = pick{r.Number, r.ChoiceID}
		}
		if l, ok := latest[k]; !ok || r.Number > l.attempt {
			latest[k] = pick{r.Number, r.ChoiceID}
		}
	}
	out := []ScenarioAnalytics{}
	for _, sc := range s.catalog.All() {
		for _, v := range sc.Variants {
			out = append(out, variantAnalytics(v, first, latest))
		}
	}
	checks, err := s.checkAnalytics(ctx, t.ID)
	if err != nil {
		return Analytics{}, err
	}
	return Analytics{MinGroup: MinGroup, QuickChecks: checks, Scenarios: out, Team: TeamRef{ID: t.ID, Name: t.Name}}, nil
}

// checkAnalytics counts the members' first answers to every quick check of
// the course, in course order.
func (s *Service) checkAnalytics(ctx context.Context, teamID string) ([]CheckAnalytics, error) {
	var rows []struct {
		LessonSlug   string
		CheckID      string
		Answered     int
		FirstCorrect int
	}
	err := s.db.WithContext(ctx).Raw(`SELECT a.lesson_slug, a.check_id, count(*) AS answered, count(*) FILTER (WHERE a.first_correct) AS first_correct
		FROM team_members m JOIN quick_check_answers a ON a.user_id = m.user_id
		WHERE m.team_id = ? GROUP BY a.lesson_slug, a.check_id`, teamID).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	type key struct{ lesson, check string }
	counts := map[key][2]int{}
	for _, r := range rows {
		counts[key{r.LessonSlug, r.CheckID}] = [2]int{r.Answered, r.FirstCorrect}
	}
	out := []CheckAnalytics{}
	for _, l := range s.course.Lessons() {
		for _, q := range l.Checks {
			c := counts[key{l.Slug, q.ID}]
			ca := CheckAnalytics{Lesson: l.Slug, CheckID: q.ID, Question: q.Question, Answered: c[0], FirstCorrect: c[1]}
			if ca.Answered < MinGroup {
				ca.Suppressed, ca.FirstCorrect = true, 0
			}
			out = append(out, ca)
		}
	}
	return out, nil
}

type answerKey struct{ user, quiz, variant, step string }

type pick struct {
	attempt int
	choice  string
}

// variantAnalytics counts one variant's steps.
func variantAnalytics(v *quizzes.Variant, first, latest map[answerKey]pick) ScenarioAnalytics {
	sc := v.Scenario
	sa := ScenarioAnalytics{Slug: sc.Slug, Title: sc.Title, Variant: VariantRef{v.ID, v.Title}, Steps: []StepAnalytics{}}
	for _, stepID := range v.StepOrder {
		step := v.Steps[stepID]
		counts := map[string]*ChoiceCount{}
		var choices []ChoiceCount
		for _, ch := range step.Choices {
			choices = append(choices, ChoiceCount{ID: ch.ID, Text: ch.Text})
		}
		for i := range choices {
			counts[choices[i].ID] = &choices[i]
		}
		answered := 0
		for k, f := range first {
			if k.quiz != sc.Slug || k.variant != v.ID || k.step != stepID {
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
		st := StepAnalytics{StepID: stepID, Text: step.Text.Unconditional(), Answered: answered, Choices: choices}
		if answered < MinGroup {
			st.Suppressed = true
			st.Choices = []ChoiceCount{}
		}
		sa.Steps = append(sa.Steps, st)
	}
	return sa
}
