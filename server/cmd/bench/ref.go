package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/server/accounts"
)

// The reference handler is the floor for an authenticated read: Echo, an
// HS256 JWT verified by the server's own rules (accounts.VerifyAccessToken), and
// one row by primary key through pgx, no ORM. It runs as a child process of
// the bench (the bench's own binary with refModeEnv set) so that it has its
// own runtime and its CPU time can be measured like the server's.
const (
	refModeEnv = "BATON_BENCH_REF"
	refAddrEnv = "BATON_BENCH_REF_ADDR"
	refDSNEnv  = "BATON_BENCH_REF_DSN"
	refKeyEnv  = "BATON_BENCH_REF_KEY" // kid:hexsecret
	refPool    = 16
)

func keyEnv(k accounts.SigningKey) string { return k.Kid + ":" + hex.EncodeToString(k.Secret) }

func parseKeyEnv(s string) (accounts.SigningKey, error) {
	kid, secret, ok := strings.Cut(s, ":")
	b, err := hex.DecodeString(secret)
	if !ok || err != nil || len(b) == 0 {
		return accounts.SigningKey{}, errors.New("bad reference key")
	}
	return accounts.SigningKey{Kid: kid, Secret: b}, nil
}

// learnerToken mints an access token for a learner with k for the
// reference handler, which checks no session: the session is made up.
func learnerToken(k accounts.SigningKey, userID string, ttl time.Duration) (string, error) {
	session := make([]byte, 8)
	_, _ = rand.Read(session)
	return sessionToken(k, userID, hex.EncodeToString(session), ttl)
}

// sessionToken mints an access token for a learner's session with k, as the
// server does at sign-in.
func sessionToken(k accounts.SigningKey, userID, session string, ttl time.Duration) (string, error) {
	return k.Sign(accounts.NewClaims(userID, accounts.RoleLearner, session, time.Now(), ttl))
}

// verifyWith checks a token by the server's rules with k as the only key.
func verifyWith(k accounts.SigningKey, raw string) (*accounts.Claims, error) {
	return accounts.VerifyAccessToken(raw, func(kid string) ([]byte, bool) { return k.Secret, kid == k.Kid }, time.Hour)
}

// refHandler builds the reference Echo app over a pool.
func refHandler(pool *pgxpool.Pool, key accounts.SigningKey) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/ref/healthz", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	e.GET("/ref/lessons/:slug", func(c echo.Context) error {
		scheme, raw, ok := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return echo.NewHTTPError(http.StatusUnauthorized)
		}
		if _, err := verifyWith(key, strings.TrimSpace(raw)); err != nil {
			return echo.NewHTTPError(http.StatusUnauthorized)
		}
		var body []byte
		err := pool.QueryRow(c.Request().Context(), "SELECT body FROM ref_lessons WHERE slug = $1", c.Param("slug")).Scan(&body)
		if errors.Is(err, pgx.ErrNoRows) {
			return echo.NewHTTPError(http.StatusNotFound)
		}
		if err != nil {
			return err
		}
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
	})
	return e
}

// serveRef is the child process's main.
func serveRef() int {
	key, err := parseKeyEnv(os.Getenv(refKeyEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench ref:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cfg, err := pgxpool.ParseConfig(os.Getenv(refDSNEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench ref:", err)
		return 2
	}
	cfg.MaxConns, cfg.MinConns = refPool, refPool
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench ref:", err)
		return 1
	}
	defer pool.Close()
	srv := &http.Server{Addr: os.Getenv(refAddrEnv), Handler: refHandler(pool, key), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "bench ref:", err)
		return 1
	}
	return 0
}
