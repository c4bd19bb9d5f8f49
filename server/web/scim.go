package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/server/problem"
	"github.com/baton-course/baton/server/scim"
)

// scim serves SCIM 2.0 provisioning (server/scim) under /scim/v2 when
// BATON_SCIM_TOKEN is set; otherwise, and for any other /scim path, 404.
func (s *Server) scim() echo.HandlerFunc {
	off := func(echo.Context) error { return problem.New(problem.NotFound, "Not found.") }
	if s.SCIMToken == "" {
		return off
	}
	h, err := scim.Handler(scim.Deps{DB: s.DB.Gorm, Accounts: s.Accounts, Teams: s.Teams, Log: s.Log}, s.SCIMToken)
	if err != nil {
		s.Log.Error("SCIM is off: the service provider did not start", "err", err)
		return off
	}
	h = http.StripPrefix("/scim", h)
	return func(c echo.Context) error {
		if p := c.Request().URL.Path; p != "/scim/v2" && !strings.HasPrefix(p, "/scim/v2/") {
			return off(c)
		}
		h.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}
