package progress

import (
	"context"
	"time"

	"github.com/baton-course/baton/lessons"
	"github.com/baton-course/baton/quizzes"
)

// Standing is what one learner did: reading progress by lesson slug and
// scenario status by scenario slug. A learner who did nothing has empty
// (nil) maps, which read as nothing done.
type Standing struct {
	Lessons   map[string]lessons.Progress
	Scenarios map[string]*quizzes.Status
}

// Skills is the learner's skill profile (see Skills).
func (st Standing) Skills() quizzes.Points { return Skills(st.Scenarios) }

// Reader loads learners' standings and rolls them up against the course.
type Reader struct {
	course  *lessons.Course
	catalog *quizzes.Catalog
	lessons *lessons.Store
	quizzes *quizzes.Store
	reads   quizzes.Reads // where scenario standings are read; nil: the store's pool
}

// ReadsFrom reads the scenario standings through r (a replica when one is
// configured); lesson progress follows the lesson store's own reads.
func (r *Reader) ReadsFrom(reads quizzes.Reads) { r.reads = reads }

// NewReader builds a reader on the lesson and scenario stores.
func NewReader(course *lessons.Course, catalog *quizzes.Catalog, ls *lessons.Store, qs *quizzes.Store) *Reader {
	return &Reader{course: course, catalog: catalog, lessons: ls, quizzes: qs}
}

// Standing loads the standing of every learner in userIDs, by user id, in
// two queries however many learners there are.
func (r *Reader) Standing(ctx context.Context, userIDs []string) (map[string]Standing, error) {
	lp, err := r.lessons.ProgressFor(ctx, userIDs)
	if err != nil {
		return nil, err
	}
	var qs map[string]map[string]*quizzes.Status
	if r.reads != nil {
		qs, err = r.quizzes.StatusesVia(ctx, r.reads, userIDs)
	} else {
		qs, err = r.quizzes.Statuses(ctx, userIDs)
	}
	if err != nil {
		return nil, err
	}
	out := make(map[string]Standing, len(userIDs))
	for _, id := range userIDs {
		out[id] = Standing{Lessons: lp[id], Scenarios: qs[id]}
	}
	return out, nil
}

// Module rolls up a learner's standing in one module of the course.
func (r *Reader) Module(st Standing, m *lessons.Module) Module {
	return ForModule(m, r.catalog.ForModule(m.Slug), st.Lessons, st.Scenarios)
}

// Modules rolls up a learner's standing in every module, in course order.
func (r *Reader) Modules(st Standing) []Module {
	out := make([]Module, 0, len(r.course.Modules))
	for _, m := range r.course.Modules {
		out = append(out, r.Module(st, m))
	}
	return out
}

// SkillPoint is the skill scores of one finished attempt.
type SkillPoint struct {
	At     time.Time      `json:"at"`
	Quiz   string         `json:"quiz"`
	Skills quizzes.Points `json:"skills"`
}

// Dashboard is a learner's own overview: module completion, the skill
// profile and how it moved over time, and the reviews due.
type Dashboard struct {
	Modules      []Module            `json:"modules"`
	QuickChecks  lessons.CheckTotals `json:"quick_checks"`
	Skills       quizzes.Points      `json:"skills"`
	SkillHistory []SkillPoint        `json:"skill_history"`
	ReviewsDue   []string            `json:"reviews_due"`
}

// Dashboard builds a learner's dashboard in three queries: the standing and
// the finished attempts.
func (r *Reader) Dashboard(ctx context.Context, userID string, now time.Time) (Dashboard, error) {
	all, err := r.Standing(ctx, []string{userID})
	if err != nil {
		return Dashboard{}, err
	}
	st := all[userID]
	checks, err := r.lessons.CheckTotalsFor(ctx, []string{userID})
	if err != nil {
		return Dashboard{}, err
	}
	totals := checks[userID]
	for _, l := range r.course.Lessons() {
		totals.Of += len(l.Checks)
	}
	out := Dashboard{Modules: r.Modules(st), QuickChecks: totals, Skills: st.Skills(), SkillHistory: []SkillPoint{},
		ReviewsDue: ReviewsDue(r.catalog.All(), st.Scenarios, now)}
	finished, err := r.quizzes.Finished(ctx, userID)
	if err != nil {
		return Dashboard{}, err
	}
	for _, a := range finished {
		out.SkillHistory = append(out.SkillHistory, SkillPoint{At: *a.FinishedAt, Quiz: a.QuizSlug, Skills: a.Skills()})
	}
	return out, nil
}

// SharedPractice is the practice-task notes the learners chose to share
// with their managers, by user id.
func (r *Reader) SharedPractice(ctx context.Context, userIDs []string) (map[string][]lessons.PracticeDone, error) {
	return r.lessons.SharedPractice(ctx, userIDs)
}
