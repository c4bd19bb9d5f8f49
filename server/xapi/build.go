package xapi

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/baton-course/baton/quizzes"
)

// The kinds of outbox rows the triggers write.
const (
	KindAttemptStarted   = "attempt_started"
	KindAttemptAnswered  = "attempt_answered"
	KindAttemptFinished  = "attempt_finished"
	KindLessonCompleted  = "lesson_completed"
	KindPracticeStarted  = "practice_started"
	KindPracticeAnswered = "practice_answered"
	KindPracticeFinished = "practice_finished"
)

// Event is one outbox row: what happened, the key of its source row, when.
type Event struct {
	ID         int64
	Kind       string
	SourceID   string
	Position   *int
	LessonSlug *string
	OccurredAt time.Time
}

// errGone is an event whose source row no longer exists: its learner's
// account was deleted (the rows cascade), so there is no one to speak of.
var errGone = errors.New("the event's source is gone")

// Builder turns events into statements.
type Builder struct {
	pool    *pgxpool.Pool
	catalog *quizzes.Catalog
	iri     iris
	mbox    bool
}

// NewBuilder builds statements for the Baton at publicURL; with mbox,
// actors are named by their email address instead of their account.
func NewBuilder(pool *pgxpool.Pool, catalog *quizzes.Catalog, publicURL string, mbox bool) *Builder {
	return &Builder{pool: pool, catalog: catalog, iri: iris{base: publicURL}, mbox: mbox}
}

// iris are the profile's IRIs, all under BATON_PUBLIC_URL + "/xapi".
type iris struct{ base string }

func (i iris) activity(path ...string) string {
	s := i.base + "/xapi/activities"
	for _, p := range path {
		s += "/" + url.PathEscape(p)
	}
	return s
}
func (i iris) Extension(name string) string { return i.base + "/xapi/extensions/" + name }
func (i iris) practiceProfile() string      { return i.base + "/xapi/profiles/practice" }

// Statements builds the statements of e: one per event, two for a finish
// (passed or failed, then completed).
func (b *Builder) Statements(ctx context.Context, e Event) ([]Statement, error) {
	var (
		out []Statement
		err error
	)
	switch e.Kind {
	case KindAttemptStarted, KindAttemptAnswered, KindAttemptFinished:
		out, err = b.attempt(ctx, e)
	case KindPracticeStarted, KindPracticeAnswered, KindPracticeFinished:
		out, err = b.practice(ctx, e)
	case KindLessonCompleted:
		out, err = b.lesson(ctx, e)
	default:
		return nil, buildError("unknown event kind %q", e.Kind)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errGone
	}
	return out, err
}

// run is what an attempt's and a practice run's statements share.
type run struct {
	registration, userID, email, slug, version, variant string
	number                                              int
	practice                                            bool
	practiceFrom                                        int
	percent                                             *int
	passed                                              *bool
	skills                                              Skills
	points                                              Skills
	startedAt                                           time.Time
	finishedAt                                          *time.Time
}

func (b *Builder) attempt(ctx context.Context, e Event) ([]Statement, error) {
	var r run
	var vision, alignment, inspiration *int
	err := b.pool.QueryRow(ctx, `SELECT a.id, a.user_id, u.email, a.quiz_slug, a.scenario_version, a.variant, a.number,
		  a.percent, a.passed, a.vision, a.alignment, a.inspiration, a.points_vision, a.points_alignment, a.points_inspiration,
		  a.started_at, a.finished_at
		FROM attempts a JOIN users u ON u.id = a.user_id WHERE a.id = $1`, e.SourceID).Scan(
		&r.registration, &r.userID, &r.email, &r.slug, &r.version, &r.variant, &r.number,
		&r.percent, &r.passed, &vision, &alignment, &inspiration, &r.points.Vision, &r.points.Alignment, &r.points.Inspiration,
		&r.startedAt, &r.finishedAt)
	if err != nil {
		return nil, err
	}
	v, done, out, err := b.startOrFinish(ctx, &r, e, [3]*int{vision, alignment, inspiration}, KindAttemptStarted, KindAttemptFinished)
	if done || err != nil {
		return out, err
	}
	if e.Position == nil {
		return nil, buildError("answer event %d has no position", e.ID)
	}
	var stepID, choiceID string
	if err := b.pool.QueryRow(ctx, `SELECT step_id, choice_id FROM attempt_answers WHERE attempt_id = $1 AND position = $2`,
		e.SourceID, *e.Position).Scan(&stepID, &choiceID); err != nil {
		return nil, err
	}
	s, err := b.answered(r, v, e, *e.Position, stepID, choiceID)
	return []Statement{s}, err
}

func (b *Builder) practice(ctx context.Context, e Event) ([]Statement, error) {
	r := run{practice: true}
	var vision, alignment, inspiration *int
	var answers []struct {
		StepID   string `json:"step_id"`
		ChoiceID string `json:"choice_id"`
	}
	err := b.pool.QueryRow(ctx, `SELECT p.id, p.user_id, u.email, p.quiz_slug, p.scenario_version, p.variant, a.number,
		  p.from_position, p.percent, p.passed, p.vision, p.alignment, p.inspiration,
		  p.points_vision, p.points_alignment, p.points_inspiration, p.answers, p.started_at, p.finished_at
		FROM practice_runs p JOIN attempts a ON a.id = p.attempt_id JOIN users u ON u.id = p.user_id WHERE p.id = $1`, e.SourceID).Scan(
		&r.registration, &r.userID, &r.email, &r.slug, &r.version, &r.variant, &r.number,
		&r.practiceFrom, &r.percent, &r.passed, &vision, &alignment, &inspiration,
		&r.points.Vision, &r.points.Alignment, &r.points.Inspiration, &answers, &r.startedAt, &r.finishedAt)
	if err != nil {
		return nil, err
	}
	v, done, out, err := b.startOrFinish(ctx, &r, e, [3]*int{vision, alignment, inspiration}, KindPracticeStarted, KindPracticeFinished)
	if done || err != nil {
		return out, err
	}
	if e.Position == nil || *e.Position < 0 || *e.Position >= len(answers) {
		return nil, buildError("practice answer event %d names no answer of its run", e.ID)
	}
	a := answers[*e.Position]
	s, err := b.answered(r, v, e, *e.Position, a.StepID, a.ChoiceID)
	return []Statement{s}, err
}

// startOrFinish completes r (its skill totals) and finds its pinned
// variant; for the run's start or finish event it also builds that
// statement (done). Attempts and practice runs share it: only their kinds
// and the query that read r differ.
func (b *Builder) startOrFinish(ctx context.Context, r *run, e Event, skills [3]*int, started, finished string) (*quizzes.Variant, bool, []Statement, error) {
	r.skills = Skills{deref(skills[0]), deref(skills[1]), deref(skills[2])}
	v, err := b.catalog.Pinned(ctx, r.slug, r.version, r.variant)
	if err != nil {
		return nil, true, nil, err
	}
	switch e.Kind {
	case started:
		return v, true, []Statement{b.started(*r, v, e)}, nil
	case finished:
		out, err := b.finished(*r, v, e)
		return v, true, out, err
	}
	return v, false, nil, nil
}

// name is the statement-id name of a run's event: practice runs have their
// own, so a run's first answer never collides with its attempt's.
func (r run) name(what string) string {
	if r.practice {
		return "practice-" + what + ":" + r.registration
	}
	return "attempt-" + what + ":" + r.registration
}

func (b *Builder) actor(userID, email string) Actor {
	if b.mbox {
		return Actor{ObjectType: "Agent", Mbox: "mailto:" + email}
	}
	return Actor{ObjectType: "Agent", Account: &Account{HomePage: b.iri.base, Name: userID}}
}

func (b *Builder) scenarioActivity(v *quizzes.Variant) Activity {
	sc := v.Scenario
	return Activity{ObjectType: "Activity", ID: b.iri.activity("scenarios", sc.Slug), Definition: &Definition{
		Type: TypeAssessment, Name: lang(sc.Title), Description: lang(sc.Intro),
	}}
}

func (b *Builder) moduleActivity(slug string) Activity {
	return Activity{ObjectType: "Activity", ID: b.iri.activity("modules", slug), Definition: &Definition{Type: TypeModule}}
}

// context is a run's statement context: the attempt (or practice run) as
// the registration, the scenario and module it belongs to, and Baton's
// extensions; practice runs are marked twice (an extension and a category).
func (b *Builder) context(r run, v *quizzes.Variant, parent bool) *Context {
	ca := &ContextActivities{Grouping: []Activity{b.moduleActivity(v.Scenario.Module)}}
	if parent {
		ca.Parent = []Activity{b.scenarioActivity(v)}
	}
	ext := map[string]any{
		b.iri.Extension("scenario-version"): r.version,
		b.iri.Extension("variant"):          r.variant,
		b.iri.Extension("attempt-number"):   r.number,
	}
	if r.practice {
		ext[b.iri.Extension("practice")] = true
		ext[b.iri.Extension("practice-run-id")] = r.registration
		ext[b.iri.Extension("practice-from-decision")] = r.practiceFrom
		ca.Category = []Activity{{ObjectType: "Activity", ID: b.iri.practiceProfile(), Definition: &Definition{Type: TypeProfile}}}
	} else {
		ext[b.iri.Extension("attempt-id")] = r.registration
	}
	return &Context{Registration: r.registration, Platform: "Baton", Language: "en", ContextActivities: ca, Extensions: ext}
}

func (b *Builder) started(r run, v *quizzes.Variant, e Event) Statement {
	return Statement{
		ID: StatementID(r.name("started")), Actor: b.actor(r.userID, r.email), Verb: Attempted,
		Object: b.scenarioActivity(v), Context: b.context(r, v, false), Timestamp: timestamp(e.OccurredAt),
	}
}

// answered is a decision: the step as a choice interaction (every choice it
// has, as written), the choice as the response, its points per skill and
// its feedback. Texts are the ones every path shows (a fragment shown under
// a condition is left out: the statement speaks of the step).
func (b *Builder) answered(r run, v *quizzes.Variant, e Event, position int, stepID, choiceID string) (Statement, error) {
	step := v.Steps[stepID]
	if step == nil {
		return Statement{}, buildError("%s@%s has no step %q", r.slug, r.version, stepID)
	}
	choice, ok := step.Choice(choiceID)
	if !ok {
		return Statement{}, buildError("step %q of %s@%s has no choice %q", stepID, r.slug, r.version, choiceID)
	}
	def := &Definition{
		Type: TypeInteraction, InteractionType: "choice",
		Name:        lang(fmt.Sprintf("%s: %s", v.Scenario.Title, stepID)),
		Description: lang(step.Text.Unconditional()),
	}
	for _, c := range step.Choices {
		def.Choices = append(def.Choices, Component{ID: c.ID, Description: lang(c.Text)})
	}
	p := choice.Points
	return Statement{
		ID: StatementID(fmt.Sprintf("%s:%d", r.name("answer"), position)), Actor: b.actor(r.userID, r.email), Verb: Answered,
		Object: Activity{ObjectType: "Activity", ID: b.iri.activity("scenarios", r.slug, "steps", stepID), Definition: def},
		Result: &Result{Response: choiceID, Extensions: map[string]any{
			b.iri.Extension("points"):   Skills{p.Vision, p.Alignment, p.Inspiration},
			b.iri.Extension("feedback"): choice.Feedback.Unconditional(),
		}},
		Context: b.context(r, v, true), Timestamp: timestamp(e.OccurredAt),
	}, nil
}

// finished is passed or failed with the score, then completed.
func (b *Builder) finished(r run, v *quizzes.Variant, e Event) ([]Statement, error) {
	if r.percent == nil || r.passed == nil || r.finishedAt == nil {
		return nil, buildError("finish event %d: %s is not finished", e.ID, r.registration)
	}
	verb := Failed
	if *r.passed {
		verb = Passed
	}
	duration := isoDuration(r.finishedAt.Sub(r.startedAt))
	scored := Statement{
		ID: StatementID(r.name("finished")), Actor: b.actor(r.userID, r.email), Verb: verb, Object: b.scenarioActivity(v),
		Result: &Result{
			Score:   &Score{Scaled: float64(*r.percent) / 100, Raw: *r.percent, Min: 0, Max: 100},
			Success: r.passed, Completion: yes(), Duration: duration,
			Extensions: map[string]any{b.iri.Extension("skills"): r.skills, b.iri.Extension("points"): r.points},
		},
		Context: b.context(r, v, false), Timestamp: timestamp(e.OccurredAt),
	}
	completed := scored
	completed.ID, completed.Verb = StatementID(r.name("completed")), Completed
	completed.Result = &Result{Completion: yes(), Duration: duration}
	return []Statement{scored, completed}, nil
}

func (b *Builder) lesson(ctx context.Context, e Event) ([]Statement, error) {
	if e.LessonSlug == nil {
		return nil, buildError("lesson event %d has no lesson", e.ID)
	}
	var email, title, module, moduleTitle string
	var version int
	err := b.pool.QueryRow(ctx, `SELECT u.email, l.title, l.version, l.module_slug, m.title
		FROM lesson_progress p JOIN users u ON u.id = p.user_id JOIN lessons l ON l.slug = p.lesson_slug
		JOIN modules m ON m.slug = l.module_slug
		WHERE p.user_id = $1 AND p.lesson_slug = $2 AND p.completed_at IS NOT NULL`, e.SourceID, *e.LessonSlug).Scan(
		&email, &title, &version, &module, &moduleTitle)
	if err != nil {
		return nil, err
	}
	mod := b.moduleActivity(module)
	mod.Definition.Name = lang(moduleTitle)
	return []Statement{{
		ID: StatementID("lesson-completed:" + e.SourceID + ":" + *e.LessonSlug), Actor: b.actor(e.SourceID, email), Verb: Completed,
		Object: Activity{ObjectType: "Activity", ID: b.iri.activity("lessons", *e.LessonSlug), Definition: &Definition{
			Type: TypeLesson, Name: lang(title),
		}},
		Result: &Result{Completion: yes()},
		Context: &Context{Platform: "Baton", Language: "en", ContextActivities: &ContextActivities{
			Parent: []Activity{mod},
		}, Extensions: map[string]any{b.iri.Extension("lesson-version"): version}},
		Timestamp: timestamp(e.OccurredAt),
	}}, nil
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}
