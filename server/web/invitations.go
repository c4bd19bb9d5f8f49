package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/server/teams"
	"github.com/baton-course/baton/server/web/bind"
)

type inviteRequest struct {
	Email string `json:"email"`
}

type inviteResponse struct {
	Invitation teams.InvitationStatus `json:"invitation"`
}

// inviteToTeam invites an email address to a managed team: 202 whether or
// not the address has an account.
func (s *Server) inviteToTeam(c echo.Context) error {
	m, err := s.managedTeam(c)
	if err != nil {
		return err
	}
	var req inviteRequest
	if err := bind.JSON(c, &req); err != nil {
		return err
	}
	inv, err := s.Teams.Invite(c.Request().Context(), m, req.Email)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, inviteResponse{Invitation: inv})
}

// teamInvitations lists a managed team's pending invitations.
func (s *Server) teamInvitations(c echo.Context) error {
	return answerManaged(s, c, s.Teams.SentInvitations)
}

// withdrawInvitation takes back one of a managed team's pending invitations.
func (s *Server) withdrawInvitation(c echo.Context) error {
	m, err := s.managedTeam(c)
	if err != nil {
		return err
	}
	if err := s.Teams.Withdraw(c.Request().Context(), m, c.Param("invitation_id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// myInvitations lists the caller's pending invitations.
func (s *Server) myInvitations(c echo.Context) error {
	out, err := s.Teams.Invitations(c.Request().Context(), principalOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// acceptInvitation makes the caller a member of the invitation's team.
func (s *Server) acceptInvitation(c echo.Context) error {
	ref, err := s.Teams.Accept(c.Request().Context(), principalOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ref)
}

// declineInvitation turns one of the caller's invitations down.
func (s *Server) declineInvitation(c echo.Context) error {
	if err := s.Teams.Decline(c.Request().Context(), principalOf(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// leaveTeam takes the caller out of a team they are a member of.
func (s *Server) leaveTeam(c echo.Context) error {
	if err := s.Teams.Leave(c.Request().Context(), principalOf(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
