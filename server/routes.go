package main

import (
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes is the one table of every endpoint. Each /api route names who may
// call it, so who-may-call-what can be audited on one screen.
func (s *Server) routes() {
	e := s.echo
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{})))

	api := e.Group("/api")
	api.GET("/openapi.json", serveOpenAPI)

	// Everything else is the browser app; unknown /api paths are 404 problems.
	e.GET("/*", s.frontend)
	e.HEAD("/*", s.frontend)
	e.Any("/api/*", apiNotFound)
}
