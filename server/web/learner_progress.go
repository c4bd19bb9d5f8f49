package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/progress"
	"github.com/baton-course/baton/server/teams"
)

type skillPoint struct {
	At     time.Time      `json:"at"`
	Quiz   string         `json:"quiz"`
	Skills quizzes.Points `json:"skills"`
}

type learnerProgress struct {
	Modules      []progress.Module      `json:"modules"`
	Skills       quizzes.Points         `json:"skills"`
	SkillHistory []skillPoint           `json:"skill_history"`
	ReviewsDue   []string               `json:"reviews_due"`
	Assignments  []teams.AssignmentView `json:"assignments"`
}

// myProgress is the caller's dashboard: module completion, the skill profile
// (and how it moved over time), reviews due, and assignments.
func (s *Server) myProgress(c echo.Context) error {
	ctx := c.Request().Context()
	uid := principalOf(c).UserID
	lp, qs, err := s.standing(ctx, uid)
	if err != nil {
		return err
	}
	out := learnerProgress{Modules: []progress.Module{}, SkillHistory: []skillPoint{}, Skills: progress.Skills(qs),
		ReviewsDue: progress.ReviewsDue(s.Catalog.All(), qs, time.Now())}
	for _, m := range s.Course.Modules {
		out.Modules = append(out.Modules, progress.ForModule(m, s.Catalog.ForModule(m.Slug), lp, qs))
	}
	finished, err := s.Attempts.Finished(ctx, uid)
	if err != nil {
		return err
	}
	for _, a := range finished {
		out.SkillHistory = append(out.SkillHistory, skillPoint{At: *a.FinishedAt, Quiz: a.QuizSlug, Skills: a.Skills()})
	}
	if out.Assignments, err = s.Teams.For(ctx, uid); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
