package web

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/server/problem"
	"github.com/baton-course/baton/server/teams"
	"github.com/baton-course/baton/server/web/bind"
)

// managedTeam loads the team of the path's :id that the caller manages;
// any other is a 404, before the body is even read.
func (s *Server) managedTeam(c echo.Context) (teams.Managed, error) {
	return s.Teams.Manage(c.Request().Context(), principalOf(c), c.Param("id"))
}

// answerManaged answers 200 with what read makes of the team of the path's
// :id that the caller manages.
func answerManaged[T any](s *Server, c echo.Context, read func(context.Context, teams.Managed) (T, error)) error {
	m, err := s.managedTeam(c)
	if err != nil {
		return err
	}
	v, err := read(c.Request().Context(), m)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

type createTeamRequest struct {
	Name string `json:"name"`
}

// createTeam makes a team managed by the caller.
func (s *Server) createTeam(c echo.Context) error {
	var req createTeamRequest
	if err := bind.JSON(c, &req); err != nil {
		return err
	}
	t, err := s.Teams.Create(c.Request().Context(), principalOf(c), teams.NewTeam{Name: req.Name})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, t)
}

// listTeams answers the teams the caller manages (an admin: all teams).
func (s *Server) listTeams(c echo.Context) error {
	out, err := s.Teams.List(c.Request().Context(), principalOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// getTeam answers a managed team with its members.
func (s *Server) getTeam(c echo.Context) error { return answerManaged(s, c, s.Teams.Detail) }

// regenerateInviteCode replaces the team's invite code.
func (s *Server) regenerateInviteCode(c echo.Context) error {
	return answerManaged(s, c, s.Teams.RegenerateCode)
}

type joinTeamRequest struct {
	InviteCode string `json:"invite_code"`
}

// joinTeam adds the caller to the team whose invite code they give.
func (s *Server) joinTeam(c echo.Context) error {
	var req joinTeamRequest
	if err := bind.JSON(c, &req); err != nil {
		return err
	}
	ref, err := s.Teams.Join(c.Request().Context(), principalOf(c), req.InviteCode)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ref)
}

// removeTeamMember takes a learner out of a managed team.
func (s *Server) removeTeamMember(c echo.Context) error {
	m, err := s.managedTeam(c)
	if err != nil {
		return err
	}
	if err := s.Teams.RemoveMember(c.Request().Context(), m, c.Param("user_id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// teamProgress answers the team report.
func (s *Server) teamProgress(c echo.Context) error { return answerManaged(s, c, s.Teams.Report) }

// teamProgressCSV answers the same report as a CSV download, its times in
// the zone the tz parameter names (the browser sends its own).
func (s *Server) teamProgressCSV(c echo.Context) error {
	m, err := s.managedTeam(c)
	if err != nil {
		return err
	}
	loc, err := teams.CSVZone(c.QueryParam("tz"))
	if err != nil {
		return problem.Validation(problem.FieldError{Field: "tz", Message: err.Error()})
	}
	r, err := s.Teams.Report(c.Request().Context(), m)
	if err != nil {
		return err
	}
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="team-progress.csv"`)
	res.WriteHeader(http.StatusOK)
	return s.Teams.WriteCSV(res, r, loc)
}

// teamAnalytics answers how the team's members chose, step by step.
func (s *Server) teamAnalytics(c echo.Context) error { return answerManaged(s, c, s.Teams.Analytics) }

// teamMember answers one member's drill-down: their modules, assignments
// from the team, attempts per scenario, skills with their evidence and
// shared practice notes.
func (s *Server) teamMember(c echo.Context) error {
	return answerManaged(s, c, func(ctx context.Context, m teams.Managed) (teams.MemberDetail, error) {
		return s.Teams.Member(ctx, m, c.Param("user_id"))
	})
}
