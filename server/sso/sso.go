// Package sso signs people in through their company's OpenID Connect
// provider (BATON_OIDC_*): the relying party's half of the authorization
// code flow with PKCE, state and nonce, built on go-oidc (discovery, ID
// token verification against the provider's rotating keys) and x/oauth2
// (the authorization URL, the code exchange). Who the verified person is in
// Baton (first sign-in, linking, refusals) is the accounts area's call.
package sso

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"gorm.io/gorm"

	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/opaque"
)

// Config is the provider Baton trusts, from BATON_OIDC_*.
type Config struct {
	Issuer, ClientID, ClientSecret string
	// Name is the provider as people know it, for "Sign in with <Name>";
	// empty: the issuer's host.
	Name string
	// PublicURL is where people reach Baton: the redirect URI the provider
	// must know is PublicURL + CallbackPath.
	PublicURL string
	// HTTPClient talks to the provider; nil: one with a 10-second timeout.
	HTTPClient *http.Client
	// Now is the clock ID tokens' expiry is judged by; nil: the real one.
	// Only tests set it.
	Now func() time.Time
}

// Enabled reports whether single sign-on is configured.
func (c Config) Enabled() bool { return c.Issuer != "" }

// Paths of the two routes of the flow, as the provider and the app know them.
const (
	LoginPath    = "/api/auth/oidc/login"
	CallbackPath = "/api/auth/oidc/callback"
)

// loginTTL is how long a person has at the provider before the sign-in
// must start again.
const loginTTL = 10 * time.Minute

// rediscoverAfter spaces out discovery attempts while the provider cannot
// be reached, so a down provider costs one request per interval, not one
// per sign-in.
const rediscoverAfter = 5 * time.Second

// Service is the relying party.
type Service struct {
	cfg      Config
	db       *gorm.DB
	accounts *accounts.Service
	log      *slog.Logger

	mu        sync.Mutex
	found     *discovered // nil until discovery succeeds
	lastTry   time.Time
	lastError error
}

// discovered is what the provider's discovery document configures.
type discovered struct {
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// New makes the relying party; it does no I/O (discovery happens at the
// first sign-in, so a provider that is down does not stop Baton starting).
func New(cfg Config, db *gorm.DB, acc *accounts.Service, log *slog.Logger) *Service {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return &Service{cfg: cfg, db: db, accounts: acc, log: log}
}

// Enabled reports whether single sign-on is configured.
func (s *Service) Enabled() bool { return s != nil && s.cfg.Enabled() }

// Name is the provider's name for the sign-in button.
func (s *Service) Name() string {
	if s.cfg.Name != "" {
		return s.cfg.Name
	}
	if u, err := url.Parse(s.cfg.Issuer); err == nil && u.Host != "" {
		return u.Hostname()
	}
	return "single sign-on"
}

// discover fetches the provider's configuration once and keeps it; go-oidc's
// key set then fetches the provider's keys again whenever a token names a
// key it does not know (the provider rotated its keys).
func (s *Service) discover() (*discovered, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.found != nil {
		return s.found, nil
	}
	if time.Since(s.lastTry) < rediscoverAfter && s.lastError != nil {
		return nil, s.lastError
	}
	s.lastTry = time.Now()
	// The key set keeps this context for its later fetches: never a
	// request's, which ends with the request (the client has a timeout).
	p, err := oidc.NewProvider(oidc.ClientContext(context.Background(), s.cfg.HTTPClient), s.cfg.Issuer)
	if err != nil {
		s.lastError = fmt.Errorf("discover %s: %w", s.cfg.Issuer, err)
		return nil, s.lastError
	}
	s.found = &discovered{
		oauth: oauth2.Config{
			ClientID: s.cfg.ClientID, ClientSecret: s.cfg.ClientSecret, Endpoint: p.Endpoint(),
			RedirectURL: s.cfg.PublicURL + CallbackPath,
			Scopes:      []string{oidc.ScopeOpenID, "email", "profile"},
		},
		verifier: p.Verifier(&oidc.Config{ClientID: s.cfg.ClientID, Now: s.cfg.Now}),
	}
	s.lastError = nil
	return s.found, nil
}

// Failure is a sign-in that did not complete; Code is what the app shows
// a message for (docs/api.md lists them).
type Failure struct {
	Code  string
	Cause error
}

func (f *Failure) Error() string {
	return "single sign-on failed: " + f.Code + ": " + fmt.Sprint(f.Cause)
}
func (f *Failure) Unwrap() error { return f.Cause }

// The failure codes.
const (
	FailDenied         = "denied"           // the person or the provider declined
	FailExpired        = "expired"          // too slow, or this answer was used already
	FailState          = "state"            // not a sign-in this browser started
	FailToken          = "invalid_token"    // the ID token failed a check
	FailUnverified     = "unverified_email" // the provider has not verified the address
	FailNoEmail        = "no_email"         // the provider gave no address
	FailDeactivated    = "deactivated"      // the company turned the account off
	FailConflict       = "conflict"         // the account is linked to another provider account
	FailProvider       = "provider"         // the provider could not be reached or refused
	FailUnavailable    = "unavailable"      // Baton itself could not finish (database)
	FailBusy           = "busy"             // too many sign-ins started from this address
	FailNotProvisioned = "not_provisioned"  // SCIM is on and the company has not provisioned this person
)

func fail(code string, cause error) error { return &Failure{Code: code, Cause: cause} }

// NewBrowserKey is the random value of the cookie that ties a sign-in to
// the browser that started it.
func NewBrowserKey() string { return opaque.New() }

// ValidBrowserKey reports whether a cookie value has the browser key's shape.
func ValidBrowserKey(k string) bool { return opaque.Valid(k) }

// SafeNext keeps next only when it is a path inside the app (not the API,
// not another host): where the person goes after signing in.
func SafeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\\r\n\t") || u.Host != "" || u.Scheme != "" ||
		strings.HasPrefix(path.Clean(u.Path)+"/", "/api/") { // as a browser resolves /./api or /%2e%2e/api
		return "/"
	}
	return next
}

// Begin starts a sign-in for the browser holding browserKey and returns
// the provider's authorization URL: a fresh state (kept only as a hash),
// nonce and PKCE verifier, stored for whichever instance gets the answer.
func (s *Service) Begin(ctx context.Context, browserKey, next string) (string, error) {
	d, err := s.discover()
	if err != nil {
		return "", fail(FailProvider, err)
	}
	state, nonce, verifier := opaque.New(), opaque.New(), oauth2.GenerateVerifier()
	// Not a hash right after "(": GORM would spread the byte slice.
	err = s.db.WithContext(ctx).Exec(`INSERT INTO oidc_logins (nonce, verifier, next_path, expires_at, state_hash, browser_hash)
		VALUES (?, ?, ?, now() + make_interval(secs => ?), ?, ?)`,
		nonce, verifier, SafeNext(next), loginTTL.Seconds(), opaque.Hash(state), opaque.Hash(browserKey)).Error
	if err != nil {
		return "", fail(FailUnavailable, err)
	}
	return d.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// Result is a completed sign-in: signed in, or a link waiting for proof.
type Result struct {
	accounts.IdentitySignIn
	Next string // where the app goes now
}

// login is a sign-in under way, spent by the answer that finishes it.
type login struct {
	Nonce, Verifier, NextPath string
}

// Finish checks the provider's answer (the callback's query) for the
// browser holding browserKey, exchanges the code and verifies the ID token,
// then signs the person in. Every refusal is a *Failure.
func (s *Service) Finish(ctx context.Context, q url.Values, browserKey string) (Result, error) {
	state := q.Get("state")
	if state == "" {
		return Result{}, fail(FailState, errors.New("no state in the answer"))
	}
	l, err := s.spend(ctx, state, browserKey)
	if err != nil {
		return Result{}, err
	}
	if e := q.Get("error"); e != "" {
		code := FailProvider
		switch e {
		case "access_denied", "consent_required", "login_required", "interaction_required", "account_selection_required":
			code = FailDenied
		}
		return Result{}, fail(code, fmt.Errorf("provider answered %s: %.200s", e, q.Get("error_description")))
	}
	d, err := s.discover()
	if err != nil {
		return Result{}, fail(FailProvider, err)
	}
	code := q.Get("code")
	if code == "" {
		return Result{}, fail(FailProvider, errors.New("no code in the answer"))
	}
	tok, err := d.oauth.Exchange(oidc.ClientContext(ctx, s.cfg.HTTPClient), code, oauth2.VerifierOption(l.Verifier))
	if err != nil {
		if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok && re.ErrorCode == "invalid_grant" {
			return Result{}, fail(FailExpired, err) // used already or timed out at the provider
		}
		return Result{}, fail(FailProvider, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Result{}, fail(FailProvider, errors.New("the token answer has no id_token"))
	}
	id, err := s.verify(ctx, d, raw, l.Nonce)
	if err != nil {
		return Result{}, err
	}
	in, err := s.accounts.SignInWithIdentity(ctx, id)
	if err != nil {
		return Result{}, accountFailure(err)
	}
	return Result{IdentitySignIn: in, Next: l.NextPath}, nil
}

// spend marks the sign-in with this state used, once, for its browser;
// what is wrong with it otherwise decides the failure code.
func (s *Service) spend(ctx context.Context, state, browserKey string) (login, error) {
	var l login
	res := s.db.WithContext(ctx).Raw(`UPDATE oidc_logins SET used_at = now()
		WHERE state_hash = ? AND browser_hash = ? AND used_at IS NULL AND expires_at > now()
		RETURNING nonce, verifier, next_path`, opaque.Hash(state), opaque.Hash(browserKey)).Scan(&l)
	if res.Error != nil {
		return l, fail(FailUnavailable, res.Error)
	}
	if res.RowsAffected == 1 {
		return l, nil
	}
	var why struct{ Used, Expired, OtherBrowser bool }
	res = s.db.WithContext(ctx).Raw(`SELECT used_at IS NOT NULL AS used, expires_at <= now() AS expired, browser_hash <> ? AS other_browser
		FROM oidc_logins WHERE state_hash = ?`, opaque.Hash(browserKey), opaque.Hash(state)).Scan(&why)
	switch {
	case res.Error != nil:
		return l, fail(FailUnavailable, res.Error)
	case res.RowsAffected == 0, why.OtherBrowser:
		return l, fail(FailState, errors.New("no sign-in with this state was started in this browser"))
	default:
		return l, fail(FailExpired, fmt.Errorf("sign-in used %v, expired %v", why.Used, why.Expired))
	}
}

// claims are the ID token's claims Baton reads. email_verified is read
// leniently: some providers send it as the string "true".
type claims struct {
	Email             string          `json:"email"`
	EmailVerified     json.RawMessage `json:"email_verified"`
	Name              string          `json:"name"`
	GivenName         string          `json:"given_name"`
	FamilyName        string          `json:"family_name"`
	PreferredUsername string          `json:"preferred_username"`
}

func (c claims) verified() bool {
	v := strings.Trim(string(c.EmailVerified), `"`)
	return v == "true"
}

// saysNothingOfVerification: the token has no email_verified at all (as
// Microsoft Entra ID's), which is not the same as saying false.
func (c claims) saysNothingOfVerification() bool {
	return len(c.EmailVerified) == 0 || string(c.EmailVerified) == "null"
}

// verify checks the ID token (signature against the provider's keys,
// issuer, audience, expiry: go-oidc) and its nonce, and reads who it names.
// An address whose domain must sign in through this provider counts as
// verified even without email_verified (Microsoft Entra ID sends none):
// the admin made the provider the authority for that domain.
func (s *Service) verify(ctx context.Context, d *discovered, raw, nonce string) (accounts.Identity, error) {
	t, err := d.verifier.Verify(oidc.ClientContext(ctx, s.cfg.HTTPClient), raw)
	if err != nil {
		if _, expired := errors.AsType[*oidc.TokenExpiredError](err); expired {
			return accounts.Identity{}, fail(FailExpired, err)
		}
		return accounts.Identity{}, fail(FailToken, err)
	}
	if subtle.ConstantTimeCompare([]byte(t.Nonce), []byte(nonce)) != 1 {
		return accounts.Identity{}, fail(FailToken, errors.New("the ID token's nonce is not this sign-in's"))
	}
	var c claims
	if err := t.Claims(&c); err != nil {
		return accounts.Identity{}, fail(FailToken, err)
	}
	email := accounts.NormalizeEmail(c.Email)
	if email == "" && strings.Contains(c.PreferredUsername, "@") {
		email = accounts.NormalizeEmail(c.PreferredUsername) // Entra ID's user principal name
	}
	if email == "" || accounts.EmailProblem(email) != "" {
		return accounts.Identity{}, fail(FailNoEmail, errors.New("the ID token carries no usable email"))
	}
	verified := c.verified() && c.Email != ""
	// Only silence about verification defers to the domain rule: a token
	// saying email_verified false is an address anyone may have typed into
	// their profile at the provider (the "nOAuth" takeover), whatever its
	// domain.
	if !verified && c.saysNothingOfVerification() {
		if verified, err = s.accounts.SSORequired(ctx, email); err != nil {
			return accounts.Identity{}, fail(FailUnavailable, err)
		}
	}
	name := c.Name
	if name == "" {
		name = strings.TrimSpace(c.GivenName + " " + c.FamilyName)
	}
	return accounts.Identity{Issuer: t.Issuer, Subject: t.Subject, Email: email, EmailVerified: verified,
		Name: name, Provider: s.Name()}, nil
}

// accountFailure names the code of a refusal from the accounts area.
func accountFailure(err error) error {
	switch {
	case errors.Is(err, accounts.ErrEmailUnverified):
		return fail(FailUnverified, err)
	case errors.Is(err, accounts.ErrIdentityConflict):
		return fail(FailConflict, err)
	case errors.Is(err, accounts.ErrDeactivated):
		return fail(FailDeactivated, err)
	case errors.Is(err, accounts.ErrNotProvisioned):
		return fail(FailNotProvisioned, err)
	}
	return fail(FailUnavailable, err)
}
