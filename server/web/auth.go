package web

import (
	"net/url"
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
// a valid bearer access token and answers 401 otherwise.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	keys := s.Accounts.Keys()
	return func(c echo.Context) error {
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		scheme, raw, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="baton"`)
			return problem.New(problem.Unauthorized, "Sign in: this needs a bearer access token.")
		}
		claims, err := keys.Verify(c.Request().Context(), strings.TrimSpace(raw))
		if err != nil {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="baton", error="invalid_token"`)
			return &problem.Error{Code: problem.Unauthorized, Detail: "The access token is invalid or expired.", Cause: err}
		}
		c.Set(principalKey, accounts.Principal{UserID: claims.Subject, Role: claims.Role, Session: claims.Session})
		return next(c)
	}
}

// requireRole lets through principals holding one of roles (admin always).
func requireRole(roles ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := principalOf(c)
			if p.Role == accounts.RoleAdmin {
				return next(c)
			}
			for _, r := range roles {
				if p.Role == r {
					return next(c)
				}
			}
			return problem.New(problem.Forbidden, "Your role (%s) may not do this.", p.Role)
		}
	}
}

// sameOrigin rejects a browser request sent from another site to the
// cookie-authenticated endpoints. Clients that send no Origin (not browsers)
// pass; SameSite=Strict already keeps the cookie off cross-site requests.
func sameOrigin(c echo.Context) error {
	req := c.Request()
	if site := req.Header.Get("Sec-Fetch-Site"); site == "cross-site" {
		return problem.New(problem.Forbidden, "Cross-site requests are not allowed here.")
	}
	origin := req.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || !strings.EqualFold(u.Host, req.Host) {
		return problem.New(problem.Forbidden, "Cross-site requests are not allowed here.")
	}
	return nil
}
