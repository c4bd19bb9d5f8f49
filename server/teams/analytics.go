package teams

import (
	"context"
	"slices"

	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/privacy"
	"gorm.io/gorm"
)

// MinGroup is the fewest members whose answers make a distribution: a
// variant played by fewer shows no step, and a step reported answered by
// fewer shows no choices.
const MinGroup = 3

// NoiseNote is what the analytics answer says about its counts, for people.
const NoiseNote = "Counts include deliberate noise to protect individuals: each member's answer is counted as given " +
	"with probability 0.5, otherwise as a random choice fixed for that member and question, so no one's answer can be " +
	"singled out, not even by comparing teams or repeating queries. Read them as team tendencies; estimated " +
	"percentages correct for the noise once enough members took part."

// Noise describes the deliberate noise in the counts.
type Noise struct {
	Noisy bool `json:"noisy"`
	// TruthProbability is the chance that a member's answer is counted as
	// given rather than as a random one.
	TruthProbability float64 `json:"truth_probability"`
	// EstimateMin is the fewest members an estimated percentage needs.
	EstimateMin int    `json:"estimate_min"`
	Note        string `json:"note"`
}

// ChoiceCount is how many members are counted as taking a choice of a step
// on their first attempt of the variant (noisy, see Noise).
type ChoiceCount struct {
	ID    string `json:"id"`
	Text  string `json:"text"`
	First int    `json:"first_attempt"`
	// Estimate is the share of the variant's members estimated to have
	// truly taken the choice, corrected for the noise; nil under
	// privacy.EstimateMin members.
	Estimate *int `json:"estimated_percent"`
	// Recommended marks the move the scenario recommends at the step
	// (quizzes.Variant.Recommended): content, not anyone's answer.
	Recommended bool `json:"recommended"`
}

// StepAnalytics is the distribution of the team's choices at one step, in
// the order learners meet the steps (quizzes.Variant.PathOrder).
// Answered is how many members are counted as answering it (noisy too: in a
// branching scenario reaching a step tells which way someone went);
// Suppressed (no choices shown) when that is under MinGroup.
type StepAnalytics struct {
	StepID     string        `json:"step_id"`
	Text       string        `json:"text"`
	Answered   int           `json:"members_answered"`
	Suppressed bool          `json:"suppressed"`
	Choices    []ChoiceCount `json:"choices"`
}

// CheckAnalytics is the team's first answers to one quick check. Answered
// is exact (answering is not a choice); FirstCorrect is noisy, and
// suppressed (0) when fewer than MinGroup members answered.
type CheckAnalytics struct {
	Lesson       string `json:"lesson"`
	CheckID      string `json:"check_id"`
	Question     string `json:"question"`
	Answered     int    `json:"members_answered"`
	Suppressed   bool   `json:"suppressed"`
	FirstCorrect int    `json:"first_correct"`
	// Estimate is the share of those who answered estimated to have been
	// right first time; nil under privacy.EstimateMin members.
	Estimate *int `json:"first_correct_percent"`
}

// ScenarioAnalytics is every step of one variant of a scenario. Members is
// how many members finished their first attempt of the variant; under
// MinGroup the variant is Suppressed and no step shows.
type ScenarioAnalytics struct {
	Slug       string          `json:"slug"`
	Title      string          `json:"title"`
	Variant    VariantRef      `json:"variant"`
	Members    int             `json:"members"`
	Suppressed bool            `json:"suppressed"`
	Steps      []StepAnalytics `json:"steps"`
}

// VariantRef names a scenario's variant.
type VariantRef struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// Analytics is a team's choice analytics. (Fields in this order: the
// answer has always listed them alphabetically.) Scenarios come in course
// order, each scenario's variants as written.
type Analytics struct {
	MinGroup int   `json:"min_group"`
	Noise    Noise `json:"noise"`
	// QuickChecks is, per lesson quick check, how many members answered it
	// and how many are counted right on their first answer (the one that
	// counts).
	QuickChecks []CheckAnalytics    `json:"quick_checks"`
	Scenarios   []ScenarioAnalytics `json:"scenarios"`
	Team        TeamRef             `json:"team"`
}

// Analytics shows, for every scenario variant and step, how the team's
// members chose on their first attempt of the variant, and how they did on
// the quick checks. Every member's answer is counted through privacy.Noise,
// so no combination of accounts a manager controls singles out one
// member's choice. Three statements, however large the team.
func (s *Service) Analytics(ctx context.Context, m Managed) (Analytics, error) {
	if err := m.valid(); err != nil {
		return Analytics{}, err
	}
	t := m.team
	noise, err := privacy.Load(ctx, s.db, s.sealer)
	if err != nil {
		return Analytics{}, err
	}
	firsts, err := s.firstAttempts(ctx, t.ID)
	if err != nil {
		return Analytics{}, err
	}
	out := []ScenarioAnalytics{}
	for _, sc := range s.courseScenarios() {
		for _, v := range sc.Variants {
			out = append(out, variantAnalytics(noise, v, firsts[variantKey{sc.Slug, v.ID}]))
		}
	}
	checks, err := s.checkAnalytics(ctx, noise, t.ID)
	if err != nil {
		return Analytics{}, err
	}
	return Analytics{MinGroup: MinGroup, Noise: Noise{Noisy: true, TruthProbability: privacy.TruthProbability,
		EstimateMin: privacy.EstimateMin, Note: NoiseNote}, QuickChecks: checks, Scenarios: out, Team: TeamRef{ID: t.ID, Name: t.Name}}, nil
}

type variantKey struct{ quiz, variant string }

// firstAttempts is, per scenario variant, each team member's first
// finished attempt of it.
func (s *Service) firstAttempts(ctx context.Context, teamID string) (map[variantKey]map[string]*firstAttempt, error) {
	var rows []struct {
		UserID          string
		QuizSlug        string
		ScenarioVersion string
		Variant         string
		Number          int
		StepID          string
		ChoiceID        string
	}
	// From the team to its members' finished attempts to their answers,
	// along the lead of the attempts' unique key (user, scenario, number)
	// and the answers' primary key: the cost follows the team's history,
	// not everyone's. Only finished attempts: a learner has one attempt
	// open at a time, so a variant's first attempt is finished once any
	// attempt of it is, and a finished path never changes, so neither does
	// its report.
	err := s.readLagging(ctx, func(db *gorm.DB) error {
		rows = rows[:0]
		return db.Raw(`SELECT a.user_id, a.quiz_slug, a.scenario_version, a.variant, a.number, x.step_id, x.choice_id
			FROM team_members m
			JOIN attempts a ON a.user_id = m.user_id AND a.status = 'finished'
			JOIN attempt_answers x ON x.attempt_id = a.id
			WHERE m.team_id = ?`, teamID).Scan(&rows).Error
	})
	if err != nil {
		return nil, err
	}
	// Each member's first attempt of each scenario variant. Attempts from
	// before variants ("") count with the first variant, which kept the
	// content they were played on.
	firsts := map[variantKey]map[string]*firstAttempt{}
	for _, r := range rows {
		variant := r.Variant
		if sc, ok := s.catalog.Get(r.QuizSlug); ok && variant == "" {
			variant = sc.Variants[0].ID
		}
		k := variantKey{r.QuizSlug, variant}
		if firsts[k] == nil {
			firsts[k] = map[string]*firstAttempt{}
		}
		f := firsts[k][r.UserID]
		if f == nil || r.Number < f.number {
			f = &firstAttempt{number: r.Number, version: r.ScenarioVersion, choices: map[string]string{}}
			firsts[k][r.UserID] = f
		}
		if r.Number == f.number {
			f.choices[r.StepID] = r.ChoiceID
		}
	}
	return firsts, nil
}

// firstAttempt is a member's first attempt of a variant: its number, the
// scenario version it pinned and its choice at every step it reached.
type firstAttempt struct {
	number  int
	version string
	choices map[string]string
}

// stepQuestion names a scenario step as a question for privacy.Noise: the
// step of the version a member's attempt played.
func stepQuestion(slug, version, variant, step string) privacy.Question {
	return privacy.Question{"scenario step", slug, version, variant, step}
}

// checkQuestion names a lesson's quick check for privacy.Noise.
func checkQuestion(lesson, check string) privacy.Question {
	return privacy.Question{"quick check", lesson, check}
}

// variantAnalytics counts one variant's steps. A step's outcomes are its
// choices as written plus one for "did not answer it" (last): every member
// who played the variant is counted at every step, so whether a step was
// reached, which in a branching scenario follows from earlier choices, is
// as deniable as the choices themselves.
func variantAnalytics(noise privacy.Noise, v *quizzes.Variant, members map[string]*firstAttempt) ScenarioAnalytics {
	sc := v.Scenario
	sa := ScenarioAnalytics{Slug: sc.Slug, Title: sc.Title, Variant: VariantRef{v.ID, v.Title}, Members: len(members),
		Suppressed: len(members) < MinGroup, Steps: []StepAnalytics{}}
	for _, stepID := range v.PathOrder() {
		step := v.Steps[stepID]
		st := StepAnalytics{StepID: stepID, Text: step.Text.Unconditional(), Suppressed: true, Choices: []ChoiceCount{}}
		if sa.Suppressed {
			sa.Steps = append(sa.Steps, st)
			continue
		}
		outcomes := len(step.Choices) + 1
		none := outcomes - 1
		counts := make([]int, outcomes)
		for user, f := range members {
			truth := none
			if chosen, ok := f.choices[stepID]; ok {
				// A choice a later version dropped counts as no answer.
				if i := slices.IndexFunc(step.Choices, func(c *quizzes.Choice) bool { return c.ID == chosen }); i >= 0 {
					truth = i
				}
			}
			counts[noise.Report(user, stepQuestion(sc.Slug, f.version, v.ID, stepID), truth, outcomes)]++
		}
		st.Answered = len(members) - counts[none]
		if st.Suppressed = st.Answered < MinGroup; !st.Suppressed {
			recommended := v.Recommended(stepID).ChoiceID
			for i, ch := range step.Choices {
				st.Choices = append(st.Choices, ChoiceCount{ID: ch.ID, Text: ch.Text, First: counts[i],
					Estimate: privacy.Estimate(counts[i], len(members), outcomes), Recommended: ch.ID == recommended})
			}
		}
		sa.Steps = append(sa.Steps, st)
	}
	return sa
}

// checkAnalytics counts the members' first answers to every quick check of
// the course, in course order, each member's through noise.
func (s *Service) checkAnalytics(ctx context.Context, noise privacy.Noise, teamID string) ([]CheckAnalytics, error) {
	var rows []struct {
		UserID       string
		LessonSlug   string
		CheckID      string
		FirstCorrect bool
	}
	err := s.readLagging(ctx, func(db *gorm.DB) error {
		rows = rows[:0]
		return db.Raw(`SELECT a.user_id, a.lesson_slug, a.check_id, a.first_correct
			FROM team_members m JOIN quick_check_answers a ON a.user_id = m.user_id
			WHERE m.team_id = ?`, teamID).Scan(&rows).Error
	})
	if err != nil {
		return nil, err
	}
	type key struct{ lesson, check string }
	type tally struct{ answered, firstCorrect int }
	counts := map[key]tally{}
	for _, r := range rows {
		k := key{r.LessonSlug, r.CheckID}
		c := counts[k]
		c.answered++
		if noise.ReportBool(r.UserID, checkQuestion(r.LessonSlug, r.CheckID), r.FirstCorrect) {
			c.firstCorrect++
		}
		counts[k] = c
	}
	out := []CheckAnalytics{}
	for _, l := range s.course.Lessons() {
		for _, q := range l.Checks {
			c := counts[key{l.Slug, q.ID}]
			ca := CheckAnalytics{Lesson: l.Slug, CheckID: q.ID, Question: q.Question, Answered: c.answered, Suppressed: c.answered < MinGroup}
			if !ca.Suppressed {
				ca.FirstCorrect, ca.Estimate = c.firstCorrect, privacy.Estimate(c.firstCorrect, c.answered, 2)
			}
			out = append(out, ca)
		}
	}
	return out, nil
}
