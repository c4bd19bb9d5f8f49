package lti

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/baton-course/baton/server/opaque"
)

// LoginRequest is a platform's third-party login initiation (LTI Security
// Framework §5.1.1), from the query or the form.
type LoginRequest struct {
	Issuer, LoginHint, TargetLinkURI, MessageHint, ClientID, DeploymentID string
}

// BrowserKey is the random value of the cookie that binds a login to the
// browser that started it; empty when Baton cannot set one that would ride
// the platform's cross-site POST back (plain HTTP: no SameSite=None).
type BrowserKey string

// NewBrowserKey makes one, when Baton is served over HTTPS.
func (s *Service) NewBrowserKey() BrowserKey {
	if !s.cfg.Secure {
		return ""
	}
	return BrowserKey(opaque.New())
}

// BeginLogin checks the initiation and returns the platform's authorization
// URL: a fresh state (kept as a hash, bound to browserKey when there is
// one) and nonce, stored for whichever instance receives the launch.
func (s *Service) BeginLogin(ctx context.Context, r LoginRequest, browserKey BrowserKey) (string, error) {
	if r.Issuer == "" || r.LoginHint == "" || r.TargetLinkURI == "" {
		return "", refuse(FailRequest, errors.New("login initiation without iss, login_hint or target_link_uri"))
	}
	if unreadable(r.Issuer, r.LoginHint, r.TargetLinkURI, r.ClientID, r.DeploymentID, r.MessageHint) {
		return "", refuse(FailRequest, errors.New("login initiation with unreadable text (invalid UTF-8 or NUL)"))
	}
	p, err := s.platformFor(ctx, r.Issuer, r.ClientID)
	if err != nil {
		return "", unavailable(err)
	}
	if r.DeploymentID != "" && !containsString(p.DeploymentIDs, r.DeploymentID) {
		return "", refuse(FailDeployment, errors.New("deployment "+r.DeploymentID+" is not registered"))
	}
	if !s.ours(r.TargetLinkURI) {
		return "", refuse(FailTarget, errors.New("target_link_uri "+r.TargetLinkURI+" is not under BATON_PUBLIC_URL"))
	}
	state, nonce := opaque.New(), opaque.New()
	var browser any
	if browserKey != "" {
		browser = opaque.Hash(string(browserKey))
	}
	// Not a hash right after "(": GORM would spread the byte slice.
	if err := s.db.WithContext(ctx).Exec(`INSERT INTO lti_logins (platform_id, nonce, expires_at, state_hash, browser_hash)
		VALUES (?, ?, now() + make_interval(secs => ?), ?, ?)`, p.ID, nonce, loginTTL.Seconds(), opaque.Hash(state), browser).Error; err != nil {
		return "", refuse(FailUnavailable, err)
	}
	q := url.Values{
		"scope": {"openid"}, "response_type": {"id_token"}, "response_mode": {"form_post"}, "prompt": {"none"},
		"client_id": {p.ClientID}, "redirect_uri": {s.url(LaunchPath)}, "login_hint": {r.LoginHint},
		"state": {state}, "nonce": {nonce},
	}
	if r.MessageHint != "" {
		q.Set("lti_message_hint", r.MessageHint)
	}
	sep := "?"
	if strings.Contains(p.AuthURL, "?") {
		sep = "&"
	}
	return p.AuthURL + sep + q.Encode(), nil
}

// ours reports whether a URL is Baton's own (under BATON_PUBLIC_URL).
func (s *Service) ours(raw string) bool {
	u, err := url.Parse(raw)
	base, berr := url.Parse(s.cfg.PublicURL)
	return err == nil && berr == nil && strings.EqualFold(u.Scheme, base.Scheme) && strings.EqualFold(u.Host, base.Host) &&
		strings.HasPrefix(u.Path+"/", strings.TrimRight(base.Path, "/")+"/")
}

// unavailable keeps a refusal as it is and makes anything else (the
// database) FailUnavailable.
func unavailable(err error) error {
	if _, ok := errors.AsType[*Failure](err); ok {
		return err
	}
	return refuse(FailUnavailable, err)
}

type login struct {
	PlatformID string
	Nonce      string
}

// spendLogin marks the login with this state used, once, for its browser.
func (s *Service) spendLogin(ctx context.Context, state string, browserKey BrowserKey) (login, error) {
	var l login
	if state == "" {
		return l, refuse(FailState, errors.New("no state"))
	}
	res := s.db.WithContext(ctx).Raw(`UPDATE lti_logins SET used_at = now()
		WHERE state_hash = ? AND (browser_hash IS NULL OR browser_hash = ?) AND used_at IS NULL AND expires_at > now()
		RETURNING platform_id, nonce`, opaque.Hash(state), opaque.Hash(string(browserKey))).Scan(&l)
	if res.Error != nil {
		return l, refuse(FailUnavailable, res.Error)
	}
	if res.RowsAffected == 1 {
		return l, nil
	}
	var why struct{ Used, Expired, OtherBrowser bool }
	res = s.db.WithContext(ctx).Raw(`SELECT used_at IS NOT NULL AS used, expires_at <= now() AS expired,
		browser_hash IS NOT NULL AND browser_hash <> ? AS other_browser FROM lti_logins WHERE state_hash = ?`,
		opaque.Hash(string(browserKey)), opaque.Hash(state)).Scan(&why)
	switch {
	case res.Error != nil:
		return l, refuse(FailUnavailable, res.Error)
	case res.RowsAffected == 0, why.OtherBrowser:
		return l, refuse(FailState, errors.New("no login with this state was started in this browser"))
	default:
		return l, refuse(FailExpired, errors.New("login used or expired"))
	}
}
