package web

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/server/lti"
	"github.com/baton-course/baton/server/problem"
	"github.com/baton-course/baton/server/web/bind"
)

// Baton as an LTI 1.3 tool (server/lti; docs/lti.md). The platform-facing
// routes (login, launch, registration) answer people with HTML pages, never
// a problem document or a 500: they run in the learner's browser, between
// the LMS and Baton.

// ltiBrowserCookie binds a login initiation to the browser that started it.
// The launch comes back as a cross-site form POST from the platform, which
// only a SameSite=None cookie rides, and SameSite=None needs Secure: so it
// is set only when Baton is served over HTTPS (BATON_SECURE_COOKIES or TLS).
// Over plain HTTP (loopback development and tests) the login is not bound to
// the browser; it is still single-use and lives ten minutes, and the
// id_token's nonce must be the login's.
const (
	ltiBrowserCookie = "baton_lti"
	ltiCookiePath    = "/api/lti"
)

func (s *Server) listLTIPlatforms(c echo.Context) error {
	ps, err := s.LTI.Platforms(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ps)
}

type platformRequest struct {
	Issuer        string   `json:"issuer"`
	ClientID      string   `json:"client_id"`
	DeploymentIDs []string `json:"deployment_ids"`
	Name          string   `json:"name"`
	AuthURL       string   `json:"auth_url"`
	TokenURL      string   `json:"token_url"`
	JWKSURL       string   `json:"jwks_url"`
}

func (s *Server) registerLTIPlatform(c echo.Context) error {
	var req platformRequest
	if err := bind.JSON(c, &req); err != nil {
		return err
	}
	p, err := s.LTI.Register(c.Request().Context(), principalOf(c), lti.Platform{Issuer: req.Issuer, ClientID: req.ClientID,
		DeploymentIDs: req.DeploymentIDs, Name: req.Name, AuthURL: req.AuthURL, TokenURL: req.TokenURL, JWKSURL: req.JWKSURL})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, p)
}

func (s *Server) deleteLTIPlatform(c echo.Context) error {
	if err := s.LTI.Delete(c.Request().Context(), principalOf(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) newLTIRegistration(c echo.Context) error {
	r, err := s.LTI.NewRegistration(c.Request().Context(), principalOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, r)
}

func (s *Server) rotateLTIKey(c echo.Context) error {
	kid, err := s.LTI.RotateKey(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]string{"kid": kid})
}

func (s *Server) ltiJWKS(c echo.Context) error {
	set, err := s.LTI.JWKS(c.Request().Context())
	if err != nil {
		return err
	}
	// Platforms cache the set; a rotation's new key is fetched on its
	// unknown kid, and the retired one stays published meanwhile.
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.JSON(http.StatusOK, set)
}

// formOnly refuses a POST whose body is not a form (the platform's
// auto-submitted form): JSON and the rest are 415 problems, as elsewhere.
func formOnly(c echo.Context) error {
	if c.Request().Method != http.MethodPost {
		return nil
	}
	mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil || mt != echo.MIMEApplicationForm {
		return problem.New(problem.MediaType, "Send the launch as an HTML form (application/x-www-form-urlencoded).")
	}
	return nil
}

// ltiLogin is the platform's third-party login initiation: a redirect to
// the platform's authorization endpoint.
func (s *Server) ltiLogin(c echo.Context) error {
	if err := formOnly(c); err != nil {
		return err
	}
	key := lti.BrowserKey("")
	if ck, err := c.Cookie(ltiBrowserCookie); err == nil && len(ck.Value) == 43 {
		key = lti.BrowserKey(ck.Value) // several launches in tabs of one browser all stay valid
	} else {
		key = s.LTI.NewBrowserKey()
	}
	to, err := s.LTI.BeginLogin(c.Request().Context(), lti.LoginRequest{
		Issuer: c.FormValue("iss"), LoginHint: c.FormValue("login_hint"), TargetLinkURI: c.FormValue("target_link_uri"),
		MessageHint: c.FormValue("lti_message_hint"), ClientID: c.FormValue("client_id"), DeploymentID: c.FormValue("lti_deployment_id"),
	}, key)
	if err != nil {
		return s.ltiRefused(c, err)
	}
	if key != "" {
		c.SetCookie(&http.Cookie{ // #nosec G124 -- HttpOnly, Secure; SameSite=None on purpose: the launch is the platform's cross-site POST
			Name: ltiBrowserCookie, Value: string(key), Path: ltiCookiePath, HttpOnly: true, Secure: true,
			SameSite: http.SameSiteNoneMode, MaxAge: 24 * 60 * 60,
		})
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Redirect(http.StatusFound, to)
}

// ltiLaunch receives the platform's id_token: signed in, the browser goes
// to the module or scenario the link names (or the deep-linking page); a
// password account with the address waits for its owner's proof, on the
// sign-in page, as single sign-on's does.
func (s *Server) ltiLaunch(c echo.Context) error {
	if err := formOnly(c); err != nil {
		return err
	}
	key := lti.BrowserKey("")
	if ck, err := c.Cookie(ltiBrowserCookie); err == nil {
		key = lti.BrowserKey(ck.Value)
	}
	res, err := s.LTI.Launch(c.Request().Context(), c.FormValue("id_token"), c.FormValue("state"), key)
	if err != nil {
		return s.ltiRefused(c, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	if res.SignedIn == nil {
		q := url.Values{"sso_link": {res.LinkToken}, "email": {res.LinkEmail}}
		return c.Redirect(http.StatusFound, signInPage+"?"+q.Encode())
	}
	s.setSessionCookies(c, *res.SignedIn)
	return c.Redirect(http.StatusFound, res.Next)
}

// ltiPageStyle is the refusal and registration pages' only style: inline,
// allowed by its hash, so the page stands alone (no app assets, no other
// source) and reads well at a phone's width, in the app's colours.
const ltiPageStyle = `body{margin:0;font:1rem/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1c2533;background:#f5f7fa}` +
	`main{box-sizing:border-box;max-width:36rem;margin:3rem auto;padding:1.5rem 1.25rem;background:#fff;border:1px solid #d5dbe3;border-radius:.75rem}` +
	`.brand{margin:0 0 1rem;font-weight:700;color:#1f3a5f;letter-spacing:.02em}` +
	`h1{margin:0 0 .75rem;font-size:1.5rem;line-height:1.25;color:#1f3a5f}` +
	`p{margin:0 0 .75rem;overflow-wrap:anywhere}.reason{margin:1rem 0 0;font-size:.875rem;color:#4a5567}` +
	`@media (max-width:40rem){main{margin:0;border:0;border-radius:0;min-height:100vh}}`

var ltiPageStyleHash = func() string {
	sum := sha256.Sum256([]byte(ltiPageStyle))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

var ltiPage = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · Baton</title><style>{{.Style}}</style></head>
<body><main><p class="brand">Baton</p><h1>{{.Title}}</h1><p>{{.Detail}}</p>{{if .Code}}<p class="reason">Reason: {{.Code}}</p>{{end}}
{{if .Nonce}}<script nonce="{{.Nonce}}">(window.opener || window.parent).postMessage({subject: "org.imsglobal.lti.close"}, {{.Origin}});</script>{{end}}
</main></body></html>
`))

type ltiPageData struct {
	Title, Detail, Code, Nonce, Origin string
	Style                              template.CSS
}

// ltiFrameAncestors is the context key under which the registration route
// names the platform origin that may frame its page.
const ltiFrameAncestors = "lti_frame_ancestors"

// ltiPageCSP allows the page's own style (by hash) and, with a nonce, its
// one script; framing only by the registering platform.
func ltiPageCSP(c echo.Context, nonce string) string {
	frame := "'none'"
	if origin, ok := c.Get(ltiFrameAncestors).(string); ok && origin != "" {
		frame = origin
	}
	script := ""
	if nonce != "" {
		script = "; script-src 'nonce-" + nonce + "'"
	}
	return "default-src 'none'; style-src " + ltiPageStyleHash + script + "; frame-ancestors " + frame + "; base-uri 'none'; form-action 'none'"
}

// ltiRefused answers a refused login, launch or registration with a page
// that says why (the status as PageFor says; logged with its cause).
func (s *Server) ltiRefused(c echo.Context, err error) error {
	code := lti.FailUnavailable
	if f, ok := errors.AsType[*lti.Failure](err); ok {
		code = f.Code
	}
	level := s.Log.Info
	if code == lti.FailUnavailable || code == lti.FailPlatform {
		level = s.Log.Warn
	}
	level("LTI refused", "code", code, "cause", err, "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	p := lti.PageFor(code)
	return s.ltiHTML(c, p.Status, ltiPageData{Title: p.Title, Detail: p.Detail, Code: code})
}

func (s *Server) ltiHTML(c echo.Context, status int, d ltiPageData) error {
	var b strings.Builder
	d.Style = template.CSS(ltiPageStyle) // #nosec G203 -- a constant of this file
	if err := ltiPage.Execute(&b, d); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", ltiPageCSP(c, d.Nonce))
	return c.HTML(status, b.String())
}

// ltiRegister is a platform's dynamic registration, opened (often in a
// frame of the platform's admin page) with the admin's one-time token. The
// page may be framed by the platform, and tells it to close when done.
func (s *Server) ltiRegister(c echo.Context) error {
	configURL := c.QueryParam("openid_configuration")
	origin := ""
	if u, err := url.Parse(configURL); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		origin = u.Scheme + "://" + u.Host
		c.Response().Header().Del("X-Frame-Options")
		c.Set(ltiFrameAncestors, origin) // a refusal page may be framed by the platform too
	}
	reg, err := s.LTI.DynamicRegister(c.Request().Context(), c.QueryParam("token"), configURL, c.QueryParam("registration_token"))
	if err != nil {
		return s.ltiRefused(c, err)
	}
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	n := base64.RawStdEncoding.EncodeToString(nonce)
	c.Set(ltiFrameAncestors, reg.Origin)
	return s.ltiHTML(c, http.StatusOK, ltiPageData{Title: "Baton is registered",
		Detail: "Baton is now a tool of " + reg.Platform.Name + ". You can close this window.", Nonce: n, Origin: reg.Origin})
}

func (s *Server) getLTIDeepLink(c echo.Context) error {
	d, err := s.LTI.DeepLink(c.Request().Context(), principalOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

type deepLinkRequest struct {
	Items []lti.Pick `json:"items"`
}

func (s *Server) answerLTIDeepLink(c echo.Context) error {
	var req deepLinkRequest
	if err := bind.JSON(c, &req); err != nil {
		return err
	}
	r, err := s.LTI.RespondDeepLink(c.Request().Context(), principalOf(c), c.Param("id"), req.Items)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// deepLinkPage serves the app's deep-linking picker. The picker form-POSTs
// the signed answer to the platform's return URL (top-level, as Deep
// Linking 2.0 asks), which the app's form-action 'self' would block: this
// one page, for an open request, may also post to that request's platform
// origin. Any other id gets the app's page with the usual policy (the app
// then shows why the request is gone).
func (s *Server) deepLinkPage(c echo.Context, id string) error {
	if origin, ok := s.LTI.DeepLinkReturnOrigin(c.Request().Context(), id); ok {
		c.Response().Header().Set("Content-Security-Policy", appCSP(origin))
	}
	return serveIndex(c)
}
