package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/server/audit"
)

// listAudit answers the newest audit events first (?limit, default 100, at
// most 1000; ?before=<id> pages back). Unreadable numbers mean the defaults.
func (s *Server) listAudit(c echo.Context) error {
	limit, _ := strconv.Atoi(c.QueryParam("limit"))
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	events, err := audit.List(c.Request().Context(), s.DB.Gorm, before, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, events)
}
