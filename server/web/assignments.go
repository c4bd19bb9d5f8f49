package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/server/teams"
	"github.com/baton-course/baton/server/web/bind"
)

type assignRequest struct {
	Module  string   `json:"module"`
	DueAt   string   `json:"due_at"`
	TeamID  *string  `json:"team_id"`
	UserIDs []string `json:"user_ids"`
}

type assignResponse struct {
	Assignments []teams.AssignmentView `json:"assignments"`
}

// createAssignments gives a module, with a due date, to a team or to chosen
// members of the caller's teams.
func (s *Server) createAssignments(c echo.Context) error {
	var req assignRequest
	if err := bind.JSON(c, &req); err != nil {
		return err
	}
	views, err := s.Teams.Assign(c.Request().Context(), principalOf(c), teams.NewAssignment{
		Module: req.Module, DueAt: req.DueAt, TeamID: req.TeamID, UserIDs: req.UserIDs,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, assignResponse{Assignments: views})
}

// listAssignments answers the caller's own assignments, or with ?team_id= a
// manager's view of that team's.
func (s *Server) listAssignments(c echo.Context) error {
	ctx := c.Request().Context()
	var out []teams.AssignmentView
	var err error
	if teamID := c.QueryParam("team_id"); teamID == "" {
		out, err = s.Teams.For(ctx, principalOf(c).UserID)
	} else {
		var m teams.Managed
		if m, err = s.Teams.Manage(ctx, principalOf(c), teamID); err == nil {
			out, err = s.Teams.TeamAssignments(ctx, m)
		}
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

type changeDueRequest struct {
	DueAt string `json:"due_at"`
}

// changeAssignmentDue moves an assignment's due date.
func (s *Server) changeAssignmentDue(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := s.Teams.ManageAssignment(ctx, principalOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	var req changeDueRequest
	if err := bind.JSON(c, &req); err != nil {
		return err
	}
	v, err := s.Teams.ChangeDue(ctx, a, req.DueAt)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// cancelAssignment withdraws an assignment; ?scope=team the whole team
// assignment it came from.
func (s *Server) cancelAssignment(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := s.Teams.ManageAssignment(ctx, principalOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.Teams.Cancel(ctx, a, c.QueryParam("scope") == "team"); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type nudgeRequest struct {
	Note string `json:"note"`
}

// nudgeAssignment sends the assignment's learner the manager's short note.
func (s *Server) nudgeAssignment(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := s.Teams.ManageAssignment(ctx, principalOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	var req nudgeRequest
	if err := bind.JSON(c, &req); err != nil {
		return err
	}
	if err := s.Teams.Nudge(ctx, a, req.Note); err != nil {
		return err
	}
	return c.NoContent(http.StatusAccepted)
}
