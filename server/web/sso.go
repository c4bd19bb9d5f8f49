package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/problem"
	"github.com/baton-course/baton/server/sso"
	"github.com/baton-course/baton/server/web/bind"
)

// oidcBrowserCookie ties a single sign-on to the browser that started it:
// a callback arriving in another browser (a forged or stolen answer) finds
// no sign-in of its own. SameSite=Lax, unlike Baton's other cookies: the
// provider's redirect back is a cross-site navigation, which a Strict
// cookie would not ride.
const (
	oidcBrowserCookie = "baton_oidc"
	oidcCookiePath    = "/api/auth/oidc"
)

// signInPage is where a failed or unfinished single sign-on lands; the app
// reads the query and says what happened.
const signInPage = "/login"

type provider struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	LoginURL string `json:"login_url"`
}

// providers lists the sign-in providers for the sign-in page's button.
func (s *Server) providers(c echo.Context) error {
	out := []provider{}
	if s.SSO.Enabled() {
		out = append(out, provider{ID: "oidc", Name: s.SSO.Name(), LoginURL: sso.LoginPath})
	}
	return c.JSON(http.StatusOK, out)
}

// oidcLogin sends the browser to the provider. Nothing here answers 500:
// a provider that cannot be reached lands on the sign-in page with a
// message.
func (s *Server) oidcLogin(c echo.Context) error {
	if !s.SSO.Enabled() {
		return problem.New(problem.NotFound, "Single sign-on is not configured.")
	}
	if err := s.Accounts.AllowSSOStart(c.Request().Context(), c.RealIP()); err != nil {
		return s.ssoFailed(c, &sso.Failure{Code: sso.FailBusy, Cause: err})
	}
	key := ""
	if ck, err := c.Cookie(oidcBrowserCookie); err == nil && sso.ValidBrowserKey(ck.Value) {
		key = ck.Value // several sign-ins in tabs of one browser all stay valid
	} else {
		key = sso.NewBrowserKey()
	}
	to, err := s.SSO.Begin(c.Request().Context(), key, c.QueryParam("next"))
	if err != nil {
		return s.ssoFailed(c, err)
	}
	c.SetCookie(&http.Cookie{ // #nosec G124 -- HttpOnly; SameSite=Lax on purpose (the provider redirects back cross-site); Secure as the other cookies
		Name: oidcBrowserCookie, Value: key, Path: oidcCookiePath, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.SecureCookies || c.Request().TLS != nil, MaxAge: 24 * 60 * 60,
	})
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Redirect(http.StatusFound, to)
}

// oidcCallback is where the provider sends the browser back: signed in,
// the app opens the page the person wanted; a password account with the
// same address waits for its owner's proof; anything else lands on the
// sign-in page with a code the app explains.
func (s *Server) oidcCallback(c echo.Context) error {
	if !s.SSO.Enabled() {
		return problem.New(problem.NotFound, "Single sign-on is not configured.")
	}
	key := ""
	if ck, err := c.Cookie(oidcBrowserCookie); err == nil {
		key = ck.Value
	}
	res, err := s.SSO.Finish(c.Request().Context(), c.QueryParams(), key)
	if err != nil {
		return s.ssoFailed(c, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	if res.SignedIn == nil {
		q := url.Values{"sso_link": {res.LinkToken}, "email": {res.LinkEmail}}
		return c.Redirect(http.StatusFound, signInPage+"?"+q.Encode())
	}
	s.setSessionCookies(c, *res.SignedIn)
	return c.Redirect(http.StatusFound, res.Next)
}

// ssoFailed lands the browser on the sign-in page with the failure's code.
func (s *Server) ssoFailed(c echo.Context, err error) error {
	code := sso.FailUnavailable
	if f, ok := errors.AsType[*sso.Failure](err); ok {
		code = f.Code
	}
	level := s.Log.Info
	if code == sso.FailUnavailable || code == sso.FailProvider {
		level = s.Log.Warn
	}
	level("single sign-on refused", "code", code, "cause", err, "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Redirect(http.StatusFound, signInPage+"?"+url.Values{"sso_error": {code}}.Encode())
}

type linkRequest struct {
	Token    string `json:"token"`
	Password string `json:"password"`
	// Preview: only say which account the mailed link connects.
	Preview bool `json:"preview"`
}

type linkPreview struct {
	Email    string `json:"email"`
	Provider string `json:"provider"`
}

// oidcLink completes a pending link: with the account's password (the
// browser's token) or with the token mailed to its address.
func (s *Server) oidcLink(c echo.Context) error {
	var req linkRequest
	if err := bind.JSON(c, &req); err != nil {
		return err
	}
	// No "is single sign-on on?" check: an LTI launch starts links too, and
	// only a pending link's token gets anywhere.
	if err := problem.Fields("token", problem.Required(req.Token)); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if req.Preview {
		email, provider, err := s.Accounts.PreviewMailedLink(ctx, req.Token)
		if err != nil {
			return err
		}
		c.Response().Header().Set("Cache-Control", "no-store")
		return c.JSON(http.StatusOK, linkPreview{Email: email, Provider: provider})
	}
	var in accounts.SignedIn
	var err error
	if req.Password != "" {
		var device string
		if ck, cerr := c.Cookie(deviceCookie); cerr == nil {
			device = ck.Value
		}
		in, err = s.Accounts.LinkWithPassword(ctx, req.Token, req.Password, c.RealIP(), device)
	} else {
		in, err = s.Accounts.LinkByMail(ctx, req.Token)
	}
	if err != nil {
		return err
	}
	return s.signedIn(c, http.StatusOK, in)
}

// ssoDomains lists the domains that must sign in through the provider.
func (s *Server) ssoDomains(c echo.Context) error {
	ds, err := s.Accounts.SSODomains(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ds)
}

func (s *Server) requireSSODomain(c echo.Context) error {
	if !s.SSO.Enabled() {
		return problem.New(problem.Conflict, "Single sign-on is not configured (BATON_OIDC_ISSUER): requiring it would lock these people out.")
	}
	d, err := s.Accounts.RequireSSO(c.Request().Context(), principalOf(c), c.Param("domain"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (s *Server) dropSSODomain(c echo.Context) error {
	if err := s.Accounts.DropSSODomain(c.Request().Context(), principalOf(c), c.Param("domain")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// ssoRefusal adds where to sign in instead to a password sign-in refused
// because the address's domain must use single sign-on.
func ssoRefusal(err error) error {
	if errors.Is(err, accounts.ErrSSORequired) {
		pe := *accounts.ErrSSORequired
		pe.LoginURL = sso.LoginPath
		return &pe
	}
	return err
}
