package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/server/problem"
)

// healthz answers while the process is up, whatever the database does.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 only when the database answers within a short timeout,
// so a load balancer stops sending traffic during an outage.
func (s *Server) readyz(c echo.Context) error {
	if err := s.DB.Ping(c.Request().Context(), 2*time.Second); err != nil {
		s.Log.Warn("readiness check failed", "cause", err)
		return &problem.Error{Code: problem.Unavailable, Detail: "The database does not answer.", RetryAfter: 2 * time.Second, Cause: err}
	}
	body := map[string]any{"status": "ready", "database": "ok", "durability": s.Durability}
	if s.Reads != nil {
		// A lagging or absent replica does not make this instance unready:
		// its reads go to the primary meanwhile.
		if st, configured := s.Reads.Replica(); configured {
			body["replica"] = st
		}
	}
	if !s.Durability.Safe() {
		body["warning"] = "durability settings are off (" + s.Durability.Problems() + "): a crash can lose acknowledged writes"
	}
	return c.JSON(http.StatusOK, body)
}
