package web

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/server/teams"
)

// teamCoaching answers the coaching brief of one scenario for a team the
// caller manages.
func (s *Server) teamCoaching(c echo.Context) error {
	slug := c.Param("scenario")
	return answerManaged(s, c, func(ctx context.Context, m teams.Managed) (teams.CoachingBrief, error) {
		return s.Teams.Coaching(ctx, m, slug)
	})
}
