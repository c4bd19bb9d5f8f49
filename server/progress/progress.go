// Package progress derives a learner's standing from what they did: module
// completion from lesson progress and scenario results, the skill profile
// from their scenario choices, and the reviews that are due. Nothing here is
// stored, so it can never go stale.
package progress

import (
	"time"

	"github.com/baton-course/baton/lessons"
	"github.com/baton-course/baton/quizzes"
)

// Module is a learner's standing in one module.
type Module struct {
	Slug          string `json:"slug"`
	Percent       int    `json:"percent"`
	Completed     bool   `json:"completed"`
	LessonsDone   int    `json:"lessons_completed"`
	Lessons       int    `json:"lessons"`
	QuizzesPassed int    `json:"quizzes_passed"`
	Quizzes       int    `json:"quizzes"`
	BestPercent   *int   `json:"best_percent"` // best scenario result in the module
	Started       bool   `json:"started"`
}

// ForModule rolls a module up. Each lesson counts its reading percent and
// each scenario counts 100 once passed; the module's percent is their mean.
// A module is completed when every lesson is completed and every scenario
// passed.
func ForModule(m *lessons.Module, scenarios []*quizzes.Scenario, lp map[string]lessons.Progress, qs map[string]*quizzes.Status) Module {
	out := Module{Slug: m.Slug, Lessons: len(m.Lessons), Quizzes: len(scenarios)}
	sum := 0
	for _, l := range m.Lessons {
		p := lp[l.Slug]
		sum += p.Percent
		if p.Completed {
			out.LessonsDone++
		}
		out.Started = out.Started || p.Percent > 0
	}
	for _, sc := range scenarios {
		st := qs[sc.Slug]
		if st == nil {
			continue
		}
		out.Started = out.Started || st.AttemptsUsed > 0
		if st.Passed {
			out.QuizzesPassed++
			sum += 100
		}
		if st.BestPercent != nil && (out.BestPercent == nil || *st.BestPercent > *out.BestPercent) {
			v := *st.BestPercent
			out.BestPercent = &v
		}
	}
	if items := out.Lessons + out.Quizzes; items > 0 {
		out.Percent = (2*sum + items) / (2 * items) // mean, rounded half up
	}
	out.Completed = out.LessonsDone == out.Lessons && out.QuizzesPassed == out.Quizzes
	return out
}

// Skills is a learner's skill profile: for each scenario they have finished,
// the skill scores of their most recent attempt (how they lead now, not at
// their best or worst), averaged over those scenarios. Zero with no
// finished scenario.
func Skills(qs map[string]*quizzes.Status) quizzes.Points {
	var sum quizzes.Points
	n := 0
	for _, st := range qs {
		if st.LatestSkills == nil {
			continue
		}
		sum = sum.Add(*st.LatestSkills)
		n++
	}
	if n == 0 {
		return quizzes.Points{}
	}
	round := func(v int) int { return (2*v + n) / (2 * n) }
	return quizzes.Points{Vision: round(sum.Vision), Alignment: round(sum.Alignment), Inspiration: round(sum.Inspiration)}
}

// ReviewsDue lists, in catalog order, the scenarios whose review is due.
func ReviewsDue(all []*quizzes.Scenario, qs map[string]*quizzes.Status, now time.Time) []string {
	out := []string{}
	for _, sc := range all {
		if st := qs[sc.Slug]; st != nil && st.NextReview != nil && !st.NextReview.After(now) {
			out = append(out, sc.Slug)
		}
	}
	return out
}
