package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/server/progress"
	"github.com/baton-course/baton/server/teams"
)

type learnerProgress struct {
	progress.Dashboard
	Assignments []teams.AssignmentView `json:"assignments"`
}

// myProgress is the caller's dashboard: module completion, the skill profile
// (and how it moved over time), reviews due, and assignments.
func (s *Server) myProgress(c echo.Context) error {
	ctx := c.Request().Context()
	uid := principalOf(c).UserID
	d, err := s.Progress.Dashboard(ctx, uid, time.Now())
	if err != nil {
		return err
	}
	out := learnerProgress{Dashboard: d}
	if out.Assignments, err = s.Teams.For(ctx, uid); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
