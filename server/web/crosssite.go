package web

import (
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/server/problem"
)

// originChecked are the routes another site could make a browser call to
// act on someone's behalf: sign-in and sign-up take a typed password (a
// forged one signs the victim into the attacker's account), refresh and
// logout ride on the refresh cookie; the password-reset and verification
// routes are public too, and another site has no business sending a
// browser's reset request or spending its link. Every other /api route needs
// a bearer token, which no other site can attach.
var originChecked = map[string]bool{
	"/api/auth/register":               true,
	"/api/auth/login":                  true,
	"/api/auth/refresh":                true,
	"/api/auth/logout":                 true,
	"/api/auth/password-reset":         true,
	"/api/auth/password-reset/confirm": true,
	"/api/auth/verify-email":           true,
	"/api/auth/oidc/link":              true,
}

// refuseCrossSite answers 403 when a browser sends one of the originChecked
// routes from another origin. It runs as middleware, before authentication
// and the body are looked at.
func (s *Server) refuseCrossSite(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if originChecked[c.Path()] && !s.sameOrigin(c) {
			return problem.New(problem.Forbidden, "Cross-site requests are not allowed here.")
		}
		return next(c)
	}
}

// sameOrigin reports whether a request comes from Baton's own pages: its
// Origin is the request's own host or BATON_PUBLIC_URL's origin. Clients that
// send no Origin (not browsers, or same-origin GETs) pass; SameSite=Strict
// already keeps the cookie off cross-site requests, and the JSON-only bodies
// keep forms from posting a password.
func (s *Server) sameOrigin(c echo.Context) bool {
	req := c.Request()
	if req.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return false
	}
	origin := req.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if s.PublicOrigin != "" && strings.EqualFold(origin, s.PublicOrigin) {
		return true
	}
	u, err := url.Parse(origin)
	// The scheme is not compared with the request's: behind a proxy that
	// ends TLS the request arrives over plain HTTP from an https:// page.
	return err == nil && u.Host != "" && (u.Scheme == "http" || u.Scheme == "https") && strings.EqualFold(u.Host, req.Host)
}
