// Package web is Baton's HTTP layer and the only code that imports Echo: the
// router and its middleware, the route table, strict JSON binding, the RFC
// 9457 rendering of domain errors, and one small handler file per area. A
// handler decodes the request, calls the area's package and encodes the
// answer; the rules live in the areas.
package web

import (
	"log/slog"
	"net/http"
	"net/netip"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/baton-course/baton/lessons"
	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/export"
	"github.com/baton-course/baton/server/lti"
	"github.com/baton-course/baton/server/notify"
	"github.com/baton-course/baton/server/progress"
	"github.com/baton-course/baton/server/sso"
	"github.com/baton-course/baton/server/teams"
)

// Deps is what the handlers work with: the domain areas, built by the
// caller on one database pool.
type Deps struct {
	DB *database.DB
	// Reads routes the reads that may lag; nil: all reads on DB.
	Reads      *database.Reads
	Log        *slog.Logger
	Durability database.Durability
	Course     *lessons.Course
	Lessons    *lessons.Store
	Catalog    *quizzes.Catalog
	Attempts   *quizzes.Store
	Accounts   *accounts.Service
	Teams      *teams.Service
	Notify     *notify.Service
	Progress   *progress.Reader
	// TrustedProxies are the addresses whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// SecureCookies sets the Secure flag on cookies even over plain HTTP
	// (behind a TLS-terminating proxy), and asks browsers for HTTPS only
	// (HSTS).
	SecureCookies bool
	// PublicOrigin is BATON_PUBLIC_URL's origin ("https://baton.example.com"):
	// besides the request's own host, the one origin the sign-in routes accept.
	PublicOrigin string
	// MetricsToken, when set, lets a scraper off loopback read /metrics.
	MetricsToken string
	// SSO is the company's OpenID provider; nil or not enabled: off.
	SSO *sso.Service
	// SCIMToken, when set, serves SCIM provisioning at /scim/v2 to callers
	// bearing it (else every /scim path is 404).
	SCIMToken string
	// LTI is Baton as an LTI 1.3 tool (platforms are registered at run time).
	LTI *lti.Service
}

// Server is the router with the handlers of every area.
type Server struct {
	Deps
	echo    *echo.Echo
	metrics *httpMetrics
	reg     *prometheus.Registry
	export  *export.Service
}

// maxBody is the largest request body accepted (docs/api.md: 413 above 1 MiB).
const maxBody = "1M"

// New builds the router; it does no I/O.
func New(d Deps) *Server {
	s := &Server{Deps: d, reg: prometheus.NewRegistry(), export: export.New(d.DB.Gorm, d.Catalog)}
	db := d.DB
	s.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db.SQL, "baton"),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "baton_db_statements_total",
			Help: "SQL statements sent to PostgreSQL through the pool: every route (ORM, database/sql, pgx) and the job queue.",
		}, func() float64 { return float64(db.Statements()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "baton_db_pool_acquired_connections",
			Help: "Connections of the pool in use right now (the job queue's listener holds one while it runs).",
		}, func() float64 { return float64(db.Pool.Stat().AcquiredConns()) }),
	)
	if reads := d.Reads; reads != nil {
		if _, configured := reads.Replica(); configured {
			s.reg.MustRegister(
				prometheus.NewGaugeFunc(prometheus.GaugeOpts{
					Name: "baton_db_replica_lag_seconds",
					Help: "How far the read replica's replay was behind at its last probe (once a second).",
				}, func() float64 { st, _ := reads.Replica(); return st.LagSeconds }),
				prometheus.NewGaugeFunc(prometheus.GaugeOpts{
					Name: "baton_db_replica_ok",
					Help: "1 while reads that may lag go to the replica; 0 while they fall back to the primary.",
				}, func() float64 {
					if st, _ := reads.Replica(); st.OK {
						return 1
					}
					return 0
				}),
				prometheus.NewCounterFunc(prometheus.CounterOpts{
					Name: "baton_db_replica_reads_total",
					Help: "Reads the replica answered.",
				}, func() float64 { return float64(reads.ReplicaReads()) }),
			)
		}
	}
	s.metrics = newHTTPMetrics(s.reg)

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = errorHandler(d.Log)
	// Trust no forwarding header unless proxies are configured: otherwise a
	// client could rotate X-Forwarded-For to dodge per-address limits.
	e.IPExtractor = ipExtractor(d.TrustedProxies)

	e.Use(requestID())
	e.Use(s.observe)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, DisablePrintStack: true}))
	e.Use(middleware.BodyLimit(maxBody))
	e.Use(requestTimeout(requestDeadline))

	e.Use(withUserAgent)
	e.Use(s.securityHeaders)
	e.Use(s.refuseCrossSite)
	s.echo = e
	s.routes()
	return s
}

// Register adds the metrics of another area (the xAPI sender) to /metrics.
func (s *Server) Register(c ...prometheus.Collector) { s.reg.MustRegister(c...) }

// Handler is the server's http.Handler.
func (s *Server) Handler() http.Handler { return s.echo }

// Echo is the router itself, for tests that add or list routes.
func (s *Server) Echo() *echo.Echo { return s.echo }
