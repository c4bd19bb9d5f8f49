package web_test

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestHealthReadyMetrics(t *testing.T) {
	t.Parallel()
	s, db := newTestServer(t)
	h := s.Handler()

	if r := call(t, h, "GET", "/healthz", nil); r.Status != 200 {
		t.Fatalf("healthz %d", r.Status)
	}
	r0 := call(t, h, "GET", "/readyz", nil)
	if r0.Status != 200 {
		t.Fatalf("readyz %d %s", r0.Status, r0.Body)
	}
	// The test cluster runs with fsync off: readiness says so loudly.
	if !strings.Contains(string(r0.Body), `"fsync":"off"`) || !strings.Contains(string(r0.Body), `"warning"`) {
		t.Fatalf("readyz hides unsafe durability settings: %s", r0.Body)
	}
	r := callWith(t, h, fromAddr("127.0.0.1:9090"), "GET", "/metrics", nil) // a scraper on this machine
	for _, want := range []string{"baton_http_requests_total", `route="/readyz"`, "baton_http_request_duration_seconds", `go_sql_max_open_connections{db_name="baton"}`, "go_goroutines", "baton_db_statements_total", "baton_db_pool_acquired_connections"} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// With the database gone, liveness stays up and readiness says 503.
	db.Close()
	if r := call(t, h, "GET", "/healthz", nil); r.Status != 200 {
		t.Fatalf("healthz after db close %d", r.Status)
	}
	p := assertProblem(t, call(t, h, "GET", "/readyz", nil), 503)
	if strings.Contains(p["detail"].(string), "sql") {
		t.Errorf("readyz leaks internals: %v", p["detail"])
	}
}

func TestErrorsAreProblems(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	h := s.Handler()
	big := `{"x":"` + strings.Repeat("a", 1<<20+10) + `"}`
	cases := []struct {
		name, method, path string
		body               any
		status             int
	}{
		{"unknown api path", "GET", "/api/no-such-thing", nil, 404},
		{"unknown api path, POST", "POST", "/api/no-such-thing", "{}", 404},
		{"wrong method on a non-api path", "DELETE", "/healthz", nil, 405},
		{"body over 1 MiB", "POST", "/api/no-such-thing", big, 413},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assertProblem(t, call(t, h, tc.method, tc.path, tc.body), tc.status)
		})
	}
}

func TestPanicBecomesSafe500(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	s.Echo().GET("/api/test-panic", func(echo.Context) error { panic("secret internal detail: SELECT * FROM users") })
	r := call(t, s.Handler(), "GET", "/api/test-panic", nil)
	p := assertProblem(t, r, 500)
	if strings.Contains(string(r.Body), "secret") || strings.Contains(string(r.Body), "SELECT") {
		t.Fatalf("500 leaks the cause: %s", r.Body)
	}
	if p["type"] != "urn:baton:problem:internal" {
		t.Fatalf("type %v", p["type"])
	}
}

func TestFrontendIsServedWithFallback(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	h := s.Handler()
	for _, path := range []string{"/", "/lessons/some-lesson", "/teams/42/progress"} {
		r := call(t, h, "GET", path, nil)
		if r.Status != 200 || !strings.Contains(string(r.Body), "<title>Baton") {
			t.Errorf("%s: %d %q", path, r.Status, r.Body)
		}
		if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", path)
		}
	}
}

// TestOpenAPIMatchesRoutes keeps the OpenAPI document true: every registered
// route is documented and every documented route exists.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	r := call(t, s.Handler(), "GET", "/api/openapi.json", nil)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	r.JSON(t, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	param := regexp.MustCompile(`:([a-zA-Z_]+)`)
	registered := map[string]bool{}
	for _, rt := range s.Echo().Routes() {
		if strings.HasSuffix(rt.Path, "*") || rt.Method == echo.RouteNotFound {
			continue // the frontend and not-found catch-alls are not API routes
		}
		registered[rt.Method+" "+param.ReplaceAllString(rt.Path, "{$1}")] = true
	}
	var missing, stale []string
	for k := range registered {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !registered[k] {
			stale = append(stale, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 {
		t.Errorf("routes missing from openapi.json: %v", missing)
	}
	if len(stale) > 0 {
		t.Errorf("openapi.json names routes that do not exist: %v", stale)
	}
}
