package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/baton-course/baton/server/problem"
)

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baton_http_requests_total",
			Help: "HTTP requests answered, by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "baton_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by method and route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// observe answers errors through the error handler, then logs the request
// once and records its metrics, so status and duration are the final ones.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		took := time.Since(start)
		req, res := c.Request(), c.Response()
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		method := methodLabel(req.Method)
		s.metrics.requests.WithLabelValues(method, route, strconv.Itoa(res.Status)).Inc()
		s.metrics.duration.WithLabelValues(method, route).Observe(took.Seconds())
		s.Log.LogAttrs(req.Context(), levelFor(res.Status), "request",
			slog.String("request_id", res.Header().Get(echo.HeaderXRequestID)),
			slog.String("method", method),
			slog.String("route", route),
			slog.String("path", req.URL.Path),
			slog.Int("status", res.Status),
			slog.Duration("duration", took),
			slog.Int64("bytes", res.Size),
			slog.String("ip", c.RealIP()),
		)
		return nil
	}
}

// knownMethods are the method label's values besides "other": a label value
// a client chose would let anyone grow /metrics without bound.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true, http.MethodPatch: true,
	http.MethodDelete: true, http.MethodOptions: true, http.MethodConnect: true, http.MethodTrace: true,
}

func methodLabel(m string) string {
	if knownMethods[m] {
		return m
	}
	return "other"
}

// serveMetrics is /metrics for the scrapers allowed to read it; anyone else
// gets the 404 of a path that does not exist. The figures tell an attacker
// about load, accounts and timings, so they are not public.
func (s *Server) serveMetrics() echo.HandlerFunc {
	h := echo.WrapHandler(promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	var want []byte
	if s.MetricsToken != "" {
		sum := sha256.Sum256([]byte(s.MetricsToken))
		want = sum[:]
	}
	return func(c echo.Context) error {
		if !fromLoopback(c.Request()) && !bearerMatches(c.Request(), want) {
			return problem.New(problem.NotFound, "Not found.")
		}
		return h(c)
	}
}

// bearerMatches compares the request's bearer token with want (a SHA-256
// digest, so the comparison takes the same time whatever the length).
func bearerMatches(req *http.Request, want []byte) bool {
	scheme, raw, ok := strings.Cut(req.Header.Get(echo.HeaderAuthorization), " ")
	if want == nil || !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(raw)))
	return subtle.ConstantTimeCompare(got[:], want) == 1
}

// fromLoopback: the connection comes from this machine and not through a
// proxy. A reverse proxy on the same host also connects from loopback, but
// it says whom it forwards for; such requests need the token.
func fromLoopback(req *http.Request) bool {
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Real-Ip"} {
		if req.Header.Get(h) != "" {
			return false
		}
	}
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		return false
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}

// requestIDPattern is what a client's X-Request-Id must look like to be
// kept: a short token that is safe in a log line and a header. Anything
// else (3,000 characters of markup, say) is replaced by a generated id.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestID gives every request an id, the client's own when it is a safe
// token, else one Echo generates. It is echoed in the response, where the
// request log reads it, and replaces the request's header, so nothing later
// sees the client's original.
func requestID() echo.MiddlewareFunc {
	withID := middleware.RequestIDWithConfig(middleware.RequestIDConfig{
		RequestIDHandler: func(c echo.Context, id string) { c.Request().Header.Set(echo.HeaderXRequestID, id) },
	})
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		h := withID(next)
		return func(c echo.Context) error {
			if !requestIDPattern.MatchString(c.Request().Header.Get(echo.HeaderXRequestID)) {
				c.Request().Header.Del(echo.HeaderXRequestID) // Echo generates one when there is none
			}
			return h(c)
		}
	}
}

// appCSP is the app's Content-Security-Policy; formTarget, when set, is one
// more origin its forms may post to (the deep-linking picker's platform).
func appCSP(formTarget string) string {
	formAction := "'self'"
	if formTarget != "" {
		formAction += " " + formTarget
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action " + formAction + "; frame-ancestors 'none'"
}

// securityHeaders sets the headers every response carries. The CSP allows
// only the app's own scripts and styles: no inline script, no framing.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		for _, kv := range everyResponse {
			h[kv.key] = kv.values
		}
		if s.SecureCookies || c.Request().TLS != nil {
			// Served over HTTPS (here or at the proxy): the browser must not
			// try plain HTTP again, where a network attacker could answer.
			h["Strict-Transport-Security"] = strictTransport
		}
		if personal(c.Request().URL.Path) {
			// Accounts, progress and team data must not linger in a shared
			// browser's or proxy's cache. A handler may still set its own.
			h["Cache-Control"] = noStore
		}
		return next(c)
	}
}

// The security headers' values, built once and shared by every response
// (set per request they cost eight allocations each time). Sharing is safe:
// a handler replaces a header's values (Set) or appends to them (Add, which
// copies a full slice), never writes into them. The keys are canonical.
var (
	everyResponse = []struct {
		key    string
		values []string
	}{
		{"Content-Security-Policy", []string{appCSP("")}},
		{"X-Content-Type-Options", []string{"nosniff"}},
		{"X-Frame-Options", []string{"DENY"}},
		{"Referrer-Policy", []string{"no-referrer"}},
		{"Cross-Origin-Opener-Policy", []string{"same-origin"}},
		{"Permissions-Policy", []string{"camera=(), microphone=(), geolocation=()"}},
	}
	strictTransport = []string{"max-age=31536000; includeSubDomains"}
	noStore         = []string{"no-store"}
)

// personal says which responses may carry someone's data: every /api
// answer but the OpenAPI document (which sets its own caching).
func personal(path string) bool {
	return (path == "/api" || strings.HasPrefix(path, "/api/")) && path != "/api/openapi.json"
}

// ipExtractor reads the client address from the connection, or from
// X-Forwarded-For only when the request came through a trusted proxy.
func ipExtractor(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		opts = append(opts, echo.TrustIPRange(prefixToIPNet(p)))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// requestDeadline bounds how long a request may wait on the database: during
// an outage a request gets a prompt 503 instead of hanging.
const requestDeadline = 10 * time.Second

// requestTimeout gives every request a context deadline. (Echo's Timeout
// middleware is racy; a deadline on the context is all the handlers need.)
func requestTimeout(d time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx, cancel := context.WithTimeout(c.Request().Context(), d)
			defer cancel()
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}
