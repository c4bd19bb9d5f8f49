package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/baton-course/baton/lessons"
	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/auth"
	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/problem"
	"github.com/baton-course/baton/server/teams"
)

// Server is the HTTP side of Baton: the Echo router with its middleware and
// the handlers of every area, built on one database pool.
type Server struct {
	cfg     Config
	db      *database.DB
	log     *slog.Logger
	echo    *echo.Echo
	metrics *httpMetrics
	reg     *prometheus.Registry
	auth    *auth.Service

	content     content
	lessonStore *lessons.Store
	quizCatalog *quizzes.Catalog
	quizStore   *quizzes.Store
	teams       *teams.Service
	jobs        *jobs // nil until StartJobs
	durability  database.Durability
}

// maxBody is the largest request body accepted (API.md: 413 above 1 MiB).
const maxBody = "1M"

// NewServer builds the router. It does no I/O beyond what the areas need to
// load at start-up.
func NewServer(ctx context.Context, cfg Config, db *database.DB, log *slog.Logger) (*Server, error) {
	s := &Server{cfg: cfg, db: db, log: log, reg: prometheus.NewRegistry()}
	s.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db.SQL, "baton"),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "baton_db_statements_total",
			Help: "SQL statements sent to PostgreSQL, by every route (ORM, database/sql, pgx).",
		}, func() float64 { return float64(db.Statements()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "baton_db_pool_acquired_connections",
			Help: "Connections of the pool in use right now.",
		}, func() float64 { return float64(db.Pool.Stat().AcquiredConns()) }),
	)
	s.metrics = newHTTPMetrics(s.reg)

	var err error
	if s.durability, err = db.CheckDurability(ctx); err != nil {
		return nil, err
	}
	if !s.durability.Safe() {
		log.Warn("DATABASE DURABILITY IS OFF: a crash can lose writes Baton has acknowledged; turn these settings on",
			"settings", s.durability.Problems())
	}
	if s.content, err = loadContent(); err != nil {
		return nil, err
	}
	if err := lessons.Sync(ctx, db.Gorm, s.content.course); err != nil {
		return nil, fmt.Errorf("sync lessons: %w", err)
	}
	s.lessonStore = lessons.NewStore(db.Gorm, db.Pool)
	if s.quizCatalog, err = quizzes.NewCatalog(ctx, db.Gorm, s.content.scenarios); err != nil {
		return nil, err
	}
	s.quizStore = quizzes.NewStore(db.Gorm, db.Pool, s.quizCatalog)
	s.teams = teams.New(db.Gorm, s.content.course, s.quizCatalog, s.lessonStore, s.quizStore)
	if s.auth, err = auth.NewService(ctx, db.Gorm, auth.Config{
		AccessTTL: cfg.AccessTTL, AdminEmails: cfg.AdminEmails, SecureCookies: cfg.SecureCookies,
	}, log); err != nil {
		return nil, err
	}

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = problem.Handler(log)
	// Trust no forwarding header unless proxies are configured: otherwise a
	// client could rotate X-Forwarded-For to dodge per-address limits.
	e.IPExtractor = ipExtractor(cfg.TrustedProxies)

	e.Use(middleware.RequestID())
	e.Use(s.observe)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, DisablePrintStack: true}))
	e.Use(middleware.BodyLimit(maxBody))
	e.Use(requestTimeout(requestDeadline))
	e.Use(securityHeaders)
	s.echo = e
	s.routes()
	if cfg.Demo {
		if err := s.seedDemo(ctx); err != nil {
			return nil, fmt.Errorf("demo data: %w", err)
		}
	}
	return s, nil
}

// Handler is the server's http.Handler.
func (s *Server) Handler() http.Handler { return s.echo }

// Close stops background work the server started.
func (s *Server) Close() {
	if s.jobs != nil {
		s.jobs.stop()
		s.jobs = nil
	}
}
