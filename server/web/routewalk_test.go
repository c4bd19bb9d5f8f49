package web_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// publicRoutes may be called without a token (docs/api.md); every other /api
// route must answer 401 to a request without a valid one.
var publicRoutes = map[string]bool{
	"GET /api/openapi.json":   true,
	"POST /api/auth/register": true,
	"POST /api/auth/login":    true,
	"POST /api/auth/refresh":  true,

	"POST /api/auth/verify-email":           true,
	"POST /api/auth/password-reset":         true,
	"POST /api/auth/password-reset/confirm": true,

	"GET /api/auth/providers":     true,
	"GET /api/auth/oidc/login":    true,
	"GET /api/auth/oidc/callback": true,
	"POST /api/auth/oidc/link":    true,

	"GET /api/lti/jwks":     true,
	"GET /api/lti/register": true,
	"GET /api/lti/login":    true,
	"POST /api/lti/login":   true,
	"POST /api/lti/launch":  true,
}

var routeParam = regexp.MustCompile(`:[a-zA-Z_]+`)

// apiRoutes lists every registered /api route with ids filled in.
func apiRoutes(s *testServer) []echo.Route {
	var out []echo.Route
	for _, r := range s.Echo().Routes() {
		if !strings.HasPrefix(r.Path, "/api/") || strings.HasSuffix(r.Path, "*") || r.Method == echo.RouteNotFound {
			continue
		}
		out = append(out, *r)
	}
	return out
}

func fillIDs(path string) string {
	return routeParam.ReplaceAllString(path, "00000000-0000-0000-0000-000000000001")
}

// TestEveryRouteNeedsAToken walks every /api route, including ones added
// after this test was written, with no token and with forged ones.
func TestEveryRouteNeedsAToken(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	h := s.Handler()
	forged := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDEiLCJyb2xlIjoiYWRtaW4ifQ."
	for _, r := range apiRoutes(s) {
		key := r.Method + " " + r.Path
		if publicRoutes[key] {
			continue
		}
		t.Run(key, func(t *testing.T) {
			path := fillIDs(r.Path)
			assertProblem(t, call(t, h, r.Method, path, "{}"), 401)
			assertProblem(t, call(t, h, r.Method, path, "{}", "Authorization", "Bearer "+forged), 401)
			assertProblem(t, call(t, h, r.Method, path, "{}", "Authorization", "Basic dXNlcjpwYXNz"), 401)
		})
	}
}
