package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

func (s *Server) listNotifications(c echo.Context) error {
	out, err := s.Notify.List(c.Request().Context(), principalOf(c).UserID, c.QueryParam("unread") == "1")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) markNotificationRead(c echo.Context) error {
	if err := s.Notify.MarkRead(c.Request().Context(), principalOf(c).UserID, c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) markAllNotificationsRead(c echo.Context) error {
	if err := s.Notify.MarkAllRead(c.Request().Context(), principalOf(c).UserID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
