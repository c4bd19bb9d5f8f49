package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/problem"
)

const principalKey = "baton.principal"

// principalOf returns the request's principal; routes behind authenticate
// always have one.
func principalOf(c echo.Context) accounts.Principal {
	p, _ := c.Get(principalKey).(accounts.Principal)
	return p
}

// authenticate is the one place that decides who a request is: it requires
// a valid bearer access token of a live session and answers 401 otherwise.
// The principal carries the user's current role, not the token's.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		scheme, raw, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="baton"`)
			return problem.New(problem.Unauthorized, "Sign in: this needs a bearer access token.")
		}
		p, err := s.Accounts.Authenticate(c.Request().Context(), strings.TrimSpace(raw))
		if err != nil {
			if pe, ok := errors.AsType[*problem.Error](err); ok && pe.Code == problem.Unauthorized {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="baton", error="invalid_token"`)
			}
			return err
		}
		c.Set(principalKey, p)
		return s.readOwnWrites(c, p.UserID, next)
	}
}

// readOwnWrites keeps a user who writes reading from the primary for the
// read-your-writes window (database.Reads): a request that may change data
// opens the window before it runs and again once it has committed, and a
// request inside the window has its reads sent to the primary.
func (s *Server) readOwnWrites(c echo.Context, userID string, next echo.HandlerFunc) error {
	if s.Reads == nil {
		return next(c)
	}
	req := c.Request()
	writes := req.Method != http.MethodGet && req.Method != http.MethodHead && req.Method != http.MethodOptions
	if writes {
		s.Reads.Wrote(userID)
	}
	c.SetRequest(req.WithContext(s.Reads.ForUser(req.Context(), userID)))
	err := next(c)
	if writes {
		s.Reads.Wrote(userID)
	}
	return err
}

// requireRole lets through principals holding one of roles (admin always),
// judged from the database at this very request (see Reconfirm).
func (s *Server) requireRole(roles ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p, err := s.Accounts.Reconfirm(c.Request().Context(), principalOf(c))
			if err != nil {
				return err
			}
			c.Set(principalKey, p)
			if p.Role == accounts.RoleAdmin || slices.Contains(roles, p.Role) {
				return next(c)
			}
			return problem.New(problem.Forbidden, "Your role (%s) may not do this.", p.Role)
		}
	}
}
