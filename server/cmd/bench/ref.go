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

	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
)

// The reference handler is the floor for an authenticated read: Echo, an
// HS256 JWT verified with the same checks as the server, and one row by
// primary key through pgx, no ORM. It runs as a child process of the bench
// (the bench's own binary with refModeEnv set) so that it has its own
// runtime and its CPU time can be measured like the server's.
const (
	refModeEnv = "BATON_BENCH_REF"
	refAddrEnv = "BATON_BENCH_REF_ADDR"
	refDSNEnv  = "BATON_BENCH_REF_DSN"
	refKeyEnv  = "BATON_BENCH_REF_KEY" // kid:hexsecret
	refPool    = 16
	issuer     = "baton"
	audience   = "baton-api"
)

type refClaims struct {
	jwt.RegisteredClaims
	Role    string `json:"role"`
	Session string `json:"sid"`
}

// refKey is the bench's own signing key for reference tokens.
type refKey struct {
	Kid    string
	Secret []byte
}

func newRefKey() refKey {
	secret := make([]byte, 32)
	id := make([]byte, 8)
	_, _ = rand.Read(secret)
	_, _ = rand.Read(id)
	return refKey{Kid: hex.EncodeToString(id), Secret: secret}
}

func (k refKey) env() string { return k.Kid + ":" + hex.EncodeToString(k.Secret) }

func parseRefKey(s string) (refKey, error) {
	kid, secret, ok := strings.Cut(s, ":")
	b, err := hex.DecodeString(secret)
	if !ok || err != nil || len(b) == 0 {
		return refKey{}, errors.New("bad reference key")
	}
	return refKey{Kid: kid, Secret: b}, nil
}

// sign issues a token shaped like the server's access tokens.
func (k refKey) sign(subject string, ttl time.Duration) (string, error) {
	now := time.Now()
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, refClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: issuer, Audience: jwt.ClaimStrings{audience}, Subject: subject,
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)), IssuedAt: jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now), ID: hex.EncodeToString(jti),
		},
		Role: "learner", Session: hex.EncodeToString(jti[:8]),
	})
	tok.Header["kid"] = k.Kid
	return tok.SignedString(k.Secret)
}

// verify applies the server's checks: HS256 only, a known kid, issuer,
// audience, expiry required, iat, 5 s leeway, subject/session/role present.
func (k refKey) verify(raw string) (*refClaims, error) {
	var claims refClaims
	_, err := jwt.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		if kid, _ := t.Header["kid"].(string); kid != k.Kid {
			return nil, errors.New("unknown signing key")
		}
		return k.Secret, nil
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(5*time.Second),
	)
	if err != nil {
		return nil, err
	}
	if claims.Subject == "" || claims.Session == "" || claims.Role == "" {
		return nil, errors.New("token lacks subject, session or role")
	}
	return &claims, nil
}

// refHandler builds the reference Echo app over a pool.
func refHandler(pool *pgxpool.Pool, key refKey) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/ref/healthz", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	e.GET("/ref/lessons/:slug", func(c echo.Context) error {
		scheme, raw, ok := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return echo.NewHTTPError(http.StatusUnauthorized)
		}
		if _, err := key.verify(strings.TrimSpace(raw)); err != nil {
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
	key, err := parseRefKey(os.Getenv(refKeyEnv))
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
