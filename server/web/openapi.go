package web

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPIDocument describes every /api route; TestOpenAPIMatchesRoutes keeps
// it true to the router in both directions.
//
//go:embed openapi.json
var openAPIDocument []byte

func serveOpenAPI(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPIDocument)
}

// OpenAPIDocument is the OpenAPI document the server serves, for tests that
// hold responses against it.
func OpenAPIDocument() []byte { return openAPIDocument }
