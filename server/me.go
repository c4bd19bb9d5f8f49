package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/server/auth"
)

type teamRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type meResponse struct {
	auth.UserView
	Teams []teamRef `json:"teams"`
}

// me answers with the caller's account as stored now (a role changed since
// the token was issued shows here at once).
func (s *Server) me(c echo.Context) error {
	u, err := s.auth.User(c.Request().Context(), auth.PrincipalOf(c).UserID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, meResponse{UserView: u.View(), Teams: []teamRef{}})
}
