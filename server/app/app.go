package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/embeddedpg"
)

// App is one Baton process: its listener, its database (embedded or not) and
// the HTTP server. Tests start the same type on port 0.
type App struct {
	cfg      Config
	log      *slog.Logger
	cluster  *embeddedpg.Cluster
	db       *database.DB
	replica  *database.DB // nil without BATON_READ_DATABASE_URL
	listener net.Listener
	http     *http.Server
	services *Services
}

// shutdownGrace bounds how long in-flight requests may take to finish.
const shutdownGrace = 20 * time.Second

// Open gets everything ready to serve: it claims the port first (so a port in
// use fails before any slow work), then the database, migrations and content.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (_ *App, err error) {
	a := &App{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if a.listener, err = net.Listen("tcp", cfg.Addr); err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("BATON_ADDR %s is already in use by another program", cfg.Addr)
		}
		return nil, fmt.Errorf("BATON_ADDR %s: %w", cfg.Addr, err)
	}
	dbURL := cfg.DatabaseURL
	if dbURL == "" {
		started := time.Now()
		a.cluster, err = embeddedpg.Start(ctx, embeddedpg.Options{Dir: cfg.DataDir})
		if err != nil {
			return nil, fmt.Errorf("embedded PostgreSQL: %w", err)
		}
		dir, _ := filepath.Abs(cfg.DataDir)
		log.Info("embedded PostgreSQL started", "dir", dir, "took", time.Since(started).Round(time.Millisecond))
		if dbURL, err = ensureDatabase(ctx, a.cluster); err != nil {
			return nil, err
		}
	}
	if cfg.Pooled() {
		a.db, err = database.OpenPooled(ctx, dbURL, cfg.DirectURL, 5*time.Second)
	} else {
		a.db, err = database.Open(ctx, dbURL, 5*time.Second)
	}
	if err != nil {
		return nil, err
	}
	if err = database.Migrate(ctx, a.db, log); err != nil {
		return nil, err
	}
	if cfg.ReadURL != "" {
		if a.replica, err = database.OpenReplica(ctx, cfg.ReadURL, 5*time.Second); err != nil {
			return nil, err
		}
	}
	if a.services, err = BuildWithReplica(ctx, cfg, a.db, a.replica, log); err != nil {
		return nil, err
	}
	if err = a.services.StartJobs(ctx); err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	a.http = &http.Server{
		Handler:           a.services.Web.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return a, nil
}

// Addr is the address the app listens on (useful when started on port 0).
func (a *App) Addr() string { return a.listener.Addr().String() }

// Run serves until ctx is cancelled, then shuts down gracefully: it stops
// accepting, lets in-flight requests finish within shutdownGrace, and returns.
func (a *App) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- a.http.Serve(a.listener) }()
	a.log.Info("serving", "addr", "http://"+a.Addr())
	// Start-up's one-off work (rendering the course, the hasher's timing
	// hash, the demo accounts) leaves garbage that would otherwise stay
	// mapped for minutes: hand it back now, once.
	debug.FreeOSMemory()
	if a.cfg.PprofAddr != "" {
		go servePprof(a.cfg.PprofAddr, a.log)
	}

	var clusterExited <-chan struct{}
	if a.cluster != nil {
		clusterExited = a.cluster.Exited()
	}
	select {
	case err := <-errc:
		return err
	case <-clusterExited:
		return errors.New("embedded PostgreSQL exited unexpectedly; see postgres.log in BATON_DATA_DIR")
	case <-ctx.Done():
	}
	a.log.Info("shutting down", "grace", shutdownGrace)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := a.http.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	return nil
}

// Close releases everything Open acquired, in reverse order: background work,
// the pool, then the embedded cluster. It is safe on a half-opened App.
func (a *App) Close() {
	if a.services != nil {
		a.services.Close()
	}
	if a.replica != nil {
		_ = a.replica.Close()
	}
	if a.db != nil {
		_ = a.db.Close()
	}
	if a.cluster != nil {
		a.cluster.Stop()
		a.log.Info("embedded PostgreSQL stopped")
	}
	if a.listener != nil {
		_ = a.listener.Close()
	}
}

// ensureDatabase creates the application database in the embedded cluster on
// first start and returns its URL.
func ensureDatabase(ctx context.Context, c *embeddedpg.Cluster) (string, error) {
	admin, err := database.Open(ctx, c.URL("postgres"), 10*time.Second)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	var exists bool
	if err := admin.SQL.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'baton')").Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		if _, err := admin.SQL.ExecContext(ctx, "CREATE DATABASE baton"); err != nil {
			return "", fmt.Errorf("create database: %w", err)
		}
	}
	return c.URL("baton"), nil
}

// servePprof serves Go's profiler on a loopback address, for `make bench
// PROFILE=1`; it is off unless BATON_PPROF_ADDR is set.
func servePprof(addr string, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Info("pprof serving", "addr", "http://"+addr+"/debug/pprof/")
	if err := srv.ListenAndServe(); err != nil {
		log.Warn("pprof stopped", "cause", err)
	}
}
