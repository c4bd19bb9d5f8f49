package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/teams"
)

type meResponse struct {
	accounts.UserView
	EmailVerified bool               `json:"email_verified"`
	HasPassword   bool               `json:"has_password"` // false: the company's provider signs the person in
	Teams         []teams.Membership `json:"teams"`
}

// me answers with the caller's account as stored now (a role changed since
// the token was issued shows here at once).
func (s *Server) me(c echo.Context) error {
	ctx := c.Request().Context()
	u, err := s.Accounts.User(ctx, principalOf(c).UserID)
	if err != nil {
		return err
	}
	memberOf, err := s.Teams.MemberOf(ctx, u.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, meResponse{UserView: u.View(), EmailVerified: u.EmailVerifiedAt != nil, HasPassword: u.HasPassword(), Teams: memberOf})
}
