package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/baton-course/baton/server/app"
	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/idptest"
	"github.com/baton-course/baton/server/sso"
)

// These tests drive single sign-on end to end against real OpenID
// providers the test starts (idptest: the zitadel/oidc example provider
// in-process, and oidc-provider in Node), with a browser-like client that
// follows every redirect and fills in the provider's login form. Baton runs
// on a real listener at 127.0.0.1, the providers' issuers say "localhost":
// two sites, each with its own cookies, and SameSite applied between them
// as Chromium applies it.

const ssoSecret = "baton-sso-test-secret-0123456789"

type providerStart func(t testing.TB, clients []idptest.Client, users []idptest.User, opts ...idptest.Option) idptest.Provider

var ssoProviders = []struct {
	name  string
	start providerStart
}{
	{"zitadel", idptest.StartZitadel},
	{"oidc-provider", idptest.StartNode},
}

// ssoWorld is a Baton with single sign-on through one provider.
type ssoWorld struct {
	ts   *testServer
	db   *database.DB
	base string // Baton's public URL
	idp  idptest.Provider
	skew atomic.Int64 // how far Baton's clock for ID tokens runs ahead, in nanoseconds
}

var ssoUserSeq atomic.Int64

// newPerson is someone the provider knows, with a fresh address.
func newPerson(name string) idptest.User {
	n := ssoUserSeq.Add(1)
	return idptest.User{Subject: fmt.Sprintf("sub-%d-%d", time.Now().UnixNano(), n), Email: fmt.Sprintf("%s%d@acme.example", strings.ToLower(name), n),
		Name: name + " Example", Password: "provider-password-" + name, EmailVerified: true}
}

func newSSOWorld(t *testing.T, start providerStart, users ...idptest.User) *ssoWorld {
	t.Helper()
	return newSSOWorldWith(t, start, nil, users...)
}

// newSSOWorldWith is newSSOWorld with the configuration adjusted first.
func newSSOWorldWith(t *testing.T, start providerStart, adjust func(*app.Config), users ...idptest.User) *ssoWorld {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	base := "http://127.0.0.1:" + port
	idp := start(t, []idptest.Client{
		{ID: "baton", Secret: ssoSecret, RedirectURIs: []string{base + sso.CallbackPath}},
		{ID: "other-app", Secret: ssoSecret, RedirectURIs: []string{base + sso.CallbackPath}},
	}, users)
	cfg := testConfig(t)
	cfg.PublicURL = base
	cfg.OIDC = app.OIDCConfig{Issuer: idp.Issuer(), ClientID: "baton", ClientSecret: ssoSecret, Name: "Acme SSO"}
	if adjust != nil {
		adjust(&cfg)
	}
	db := newTestDB(t)
	ts := buildServer(t, cfg, db)
	w := &ssoWorld{ts: ts, db: db, base: base, idp: idp}
	// The same relying party, with a clock the test can move.
	ts.SSO = sso.New(sso.Config{Issuer: idp.Issuer(), ClientID: "baton", ClientSecret: ssoSecret, Name: "Acme SSO", PublicURL: base,
		Now: func() time.Time { return time.Now().Add(time.Duration(w.skew.Load())) }}, db.Gorm, ts.Accounts, testLog(t))
	srv.Config.Handler = ts.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return w
}

func (w *ssoWorld) loginURL() string { return w.base + sso.LoginPath + "?next=/modules/x" }

// atBaton stops at the first redirect back to Baton that is not the
// single sign-on flow itself: where the browser lands.
func (w *ssoWorld) atBaton(u *url.URL) bool {
	return "http://"+u.Host == w.base && !strings.HasPrefix(u.Path, "/api/auth/oidc/")
}

// landing signs person in from Baton's login route and returns where the
// browser lands.
func (w *ssoWorld) landing(t *testing.T, b *idptest.Browser, person idptest.User) *url.URL {
	t.Helper()
	to, err := b.SignInUntil(w.loginURL(), person, w.atBaton)
	if err != nil {
		t.Fatalf("sign in as %s: %v", person.Email, err)
	}
	return to
}

// deliver hands Baton a callback in b, as the provider's cross-site
// redirect it was, and returns where Baton sends the browser.
func (w *ssoWorld) deliver(t *testing.T, b *idptest.Browser, cb *url.URL) *url.URL {
	t.Helper()
	to, err := b.ContinueUntil(cb, w.atBaton)
	if err != nil {
		t.Fatalf("deliver %s: %v", cb, err)
	}
	return to
}

// refresh is what the app does after landing: trade the refresh cookie the
// callback set for an access token.
func (w *ssoWorld) refresh(t *testing.T, b *idptest.Browser) account {
	t.Helper()
	req, _ := http.NewRequest("POST", w.base+"/api/auth/refresh", nil)
	resp, err := b.Fetch(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("refresh after single sign-on: %d %s", resp.StatusCode, body)
	}
	var out struct {
		User        struct{ ID, Email string }
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return account{ID: out.User.ID, Email: out.User.Email, Token: out.AccessToken}
}

func wantFailure(t *testing.T, to *url.URL, code string) {
	t.Helper()
	if to.Path != "/login" || to.Query().Get("sso_error") != code {
		t.Fatalf("landed on %s, want /login?sso_error=%s", to, code)
	}
}

func TestSingleSignOnCreatesThenSignsIn(t *testing.T) {
	for _, p := range ssoProviders {
		t.Run(p.name, func(t *testing.T) {
			ada := newPerson("Ada")
			w := newSSOWorld(t, p.start, ada)
			h := w.ts.Handler()

			r := call(t, h, "GET", "/api/auth/providers", nil)
			if r.Status != 200 || !strings.Contains(string(r.Body), `"name":"Acme SSO"`) || !strings.Contains(string(r.Body), sso.LoginPath) {
				t.Fatalf("providers: %d %s", r.Status, r.Body)
			}

			b := idptest.NewBrowser()
			if to := w.landing(t, b, ada); to.Path != "/modules/x" {
				t.Fatalf("first sign-in landed on %s, want the page asked for", to)
			}
			first := w.refresh(t, b)
			var me struct {
				ID, Email, Name, Role string
				EmailVerified         bool `json:"email_verified"`
				HasPassword           bool `json:"has_password"`
			}
			call(t, h, "GET", "/api/me", nil, first.auth()...).JSON(t, &me)
			if me.Email != ada.Email || me.Name != ada.Name || me.Role != "learner" || !me.EmailVerified || me.HasPassword {
				t.Fatalf("the account made at the first sign-in: %+v", me)
			}

			// A second sign-in, in another browser, is the same account.
			b2 := idptest.NewBrowser()
			w.landing(t, b2, ada)
			second := w.refresh(t, b2)
			if second.ID != first.ID {
				t.Fatalf("second sign-in made account %s, want %s", second.ID, first.ID)
			}
			var n int64
			w.db.Gorm.Raw(`SELECT count(*) FROM users WHERE email = ?`, ada.Email).Scan(&n)
			if n != 1 {
				t.Fatalf("%d accounts for one person", n)
			}

			// Signing out ends the Baton session: its access token at once.
			if r := call(t, h, "POST", "/api/auth/logout", nil, second.auth()...); r.Status != 204 {
				t.Fatalf("logout: %d %s", r.Status, r.Body)
			}
			if r := call(t, h, "GET", "/api/me", nil, second.auth()...); r.Status != 401 {
				t.Fatalf("after sign-out: %d", r.Status)
			}
			if r := call(t, h, "GET", "/api/me", nil, first.auth()...); r.Status != 200 {
				t.Fatalf("the other browser's session: %d", r.Status)
			}

			// The provider rotates its signing key: Baton fetches the new
			// key set for the unknown key and signs people in as before.
			if _, err := w.idp.Rotate(); err != nil {
				t.Fatal(err)
			}
			b3 := idptest.NewBrowser()
			w.landing(t, b3, ada)
			if again := w.refresh(t, b3); again.ID != first.ID {
				t.Fatalf("after key rotation: account %s", again.ID)
			}
		})
	}
}

// TestSingleSignOnRefusals covers every answer Baton must refuse, against
// the real provider, and checks none is a 500 and none signs anyone in.
func TestSingleSignOnRefusals(t *testing.T) {
	for _, p := range ssoProviders {
		t.Run(p.name, func(t *testing.T) {
			ada := newPerson("Ada")
			w := newSSOWorld(t, p.start, ada)
			callback := idptest.StopAt(w.base + sso.CallbackPath)

			t.Run("tampered state", func(t *testing.T) {
				b := idptest.NewBrowser()
				cb, err := b.SignInUntil(w.loginURL(), ada, callback)
				if err != nil {
					t.Fatal(err)
				}
				q := cb.Query()
				q.Set("state", q.Get("state")+"x")
				cb.RawQuery = q.Encode()
				wantFailure(t, w.deliver(t, b, cb), sso.FailState)
			})

			t.Run("answer delivered to another browser", func(t *testing.T) {
				cb, err := idptest.NewBrowser().SignInUntil(w.loginURL(), ada, callback)
				if err != nil {
					t.Fatal(err)
				}
				// The victim's browser never started this sign-in (login CSRF).
				wantFailure(t, w.deliver(t, idptest.NewBrowser(), cb), sso.FailState)
			})

			t.Run("replayed answer and replayed code", func(t *testing.T) {
				b := idptest.NewBrowser()
				cb, err := b.SignInUntil(w.loginURL(), ada, callback)
				if err != nil {
					t.Fatal(err)
				}
				if to := w.deliver(t, b, cb); to.Query().Get("sso_error") != "" {
					t.Fatalf("first delivery: %s", to)
				}
				wantFailure(t, w.deliver(t, b, cb), sso.FailExpired)
				// The used code with a fresh sign-in's state: the provider
				// refuses the code (used, and PKCE for another verifier).
				fresh, err := b.SignInUntil(w.loginURL(), ada, callback)
				if err != nil {
					t.Fatal(err)
				}
				q := fresh.Query()
				q.Set("code", cb.Query().Get("code"))
				fresh.RawQuery = q.Encode()
				wantFailure(t, w.deliver(t, b, fresh), sso.FailExpired)
			})

			t.Run("wrong nonce", func(t *testing.T) {
				b := idptest.NewBrowser()
				auth, err := b.FollowUntil(w.loginURL(), func(u *url.URL) bool { return u.Query().Get("nonce") != "" })
				if err != nil {
					t.Fatal(err)
				}
				q := auth.Query()
				q.Set("nonce", "an-attackers-nonce")
				auth.RawQuery = q.Encode()
				to, err := b.SignInUntil(auth.String(), ada, w.atBaton)
				if err != nil {
					t.Fatal(err)
				}
				wantFailure(t, to, sso.FailToken)
			})

			// The provider refuses to exchange a code issued to another client;
			// Baton's own audience check is TestIDTokenChecks' (server/sso).
			t.Run("code issued to another client", func(t *testing.T) {
				b := idptest.NewBrowser()
				auth, err := b.FollowUntil(w.loginURL(), func(u *url.URL) bool { return u.Query().Get("client_id") != "" })
				if err != nil {
					t.Fatal(err)
				}
				q := auth.Query()
				q.Set("client_id", "other-app")
				auth.RawQuery = q.Encode()
				to, err := b.SignInUntil(auth.String(), ada, w.atBaton)
				if err != nil {
					t.Fatal(err)
				}
				if to.Path != "/login" || to.Query().Get("sso_error") == "" {
					t.Fatalf("a code issued to another client signed in: %s", to)
				}
			})

			t.Run("expired ID token", func(t *testing.T) {
				// Baton's clock two hours ahead: the provider's fresh token is
				// long expired by it.
				w.skew.Store(int64(2 * time.Hour))
				defer w.skew.Store(0)
				wantFailure(t, w.landing(t, idptest.NewBrowser(), ada), sso.FailExpired)
			})

			t.Run("hand-made callbacks", func(t *testing.T) {
				noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
				for _, q := range []string{"", "?code=x", "?state=", "?state=nope&code=x", "?error=access_denied", "?state=%ff&error=server_error"} {
					resp, err := noFollow.Get(w.base + sso.CallbackPath + q)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					to, _ := url.Parse(resp.Header.Get("Location"))
					if resp.StatusCode != http.StatusFound || to == nil || to.Query().Get("sso_error") != sso.FailState {
						t.Fatalf("callback%s: %d to %s, want a redirect with sso_error=state", q, resp.StatusCode, to)
					}
				}
			})

			var n int64
			w.db.Gorm.Raw(`SELECT count(*) FROM sessions`).Scan(&n)
			if n != 1 { // only the replay case's first, genuine delivery
				t.Fatalf("%d sessions opened; the refused answers must open none", n)
			}
		})
	}
}

// TestSingleSignOnDeclined: the person declines at the provider
// (oidc-provider's Deny on its consent page, zitadel's Cancel on its login).
func TestSingleSignOnDeclined(t *testing.T) {
	for _, p := range ssoProviders {
		t.Run(p.name, func(t *testing.T) {
			ada := newPerson("Ada")
			w := newSSOWorld(t, p.start, ada)
			to, err := idptest.NewBrowser().Deny(w.loginURL(), ada, w.atBaton)
			if err != nil {
				t.Fatal(err)
			}
			wantFailure(t, to, sso.FailDenied)
		})
	}
}

// TestSingleSignOnWhenTheProviderIsDown: the button still leads somewhere
// readable, and Baton keeps serving.
func TestSingleSignOnWhenTheProviderIsDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + l.Addr().String()
	l.Close() // nothing listens there now
	cfg := testConfig(t)
	cfg.OIDC = app.OIDCConfig{Issuer: issuer, ClientID: "baton", ClientSecret: ssoSecret}
	ts := buildServer(t, cfg, newTestDB(t))
	r := call(t, ts.Handler(), "GET", sso.LoginPath, nil)
	if r.Status != 302 || r.Header.Get("Location") != "/login?sso_error=provider" {
		t.Fatalf("login with the provider down: %d %s", r.Status, r.Header.Get("Location"))
	}

	// Starts are limited per address (each stores a state row before anyone
	// signed in): an office's burst of 60 passes, a script's flood does not.
	for i := 1; i < 60; i++ {
		call(t, ts.Handler(), "GET", sso.LoginPath, nil)
	}
	if r := call(t, ts.Handler(), "GET", sso.LoginPath, nil); r.Header.Get("Location") != "/login?sso_error=busy" {
		t.Fatalf("the 61st start from one address: %d %s", r.Status, r.Header.Get("Location"))
	}
	if r := callFrom(t, ts.Handler(), "198.51.100.7:4000", "GET", sso.LoginPath, nil); r.Header.Get("Location") != "/login?sso_error=provider" {
		t.Fatalf("another address: %d %s", r.Status, r.Header.Get("Location"))
	}
}

var mailedLink = regexp.MustCompile(`/sso/link\?token=([A-Za-z0-9_-]+)`)

// mailedLinkToken reads the token of the newest link mail to email from the
// outbox (the web tests run no mail sender, so it waits there).
func mailedLinkToken(t *testing.T, db *database.DB, email string) string {
	t.Helper()
	var body string
	db.Gorm.Raw(`SELECT body FROM account_emails WHERE to_email = ? AND kind = 'sso_link' ORDER BY created_at DESC LIMIT 1`, email).Scan(&body)
	m := mailedLink.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no link mail to %s: %q", email, body)
	}
	return m[1]
}

// TestSingleSignOnLinksPasswordAccountsOnlyWithProof: an account that
// registered the address with a password is not taken over by whoever the
// provider vouches for until they prove they own it.
func TestSingleSignOnLinksPasswordAccountsOnlyWithProof(t *testing.T) {
	ada, bob := newPerson("Ada"), newPerson("Bob")
	w := newSSOWorld(t, idptest.StartNode, ada, bob)
	h := w.ts.Handler()
	for _, p := range []idptest.User{ada, bob} {
		if r := call(t, h, "POST", "/api/auth/register", map[string]string{"email": p.Email, "password": testPassword, "name": p.Name}); r.Status != 201 {
			t.Fatalf("register: %d %s", r.Status, r.Body)
		}
	}
	w.db.Gorm.Exec(`UPDATE users SET email_verified_at = now() WHERE email = ?`, ada.Email)
	adaID := login(t, h, ada.Email).ID

	// Ada proves it with her password.
	to := w.landing(t, idptest.NewBrowser(), ada)
	token := to.Query().Get("sso_link")
	if to.Path != "/login" || token == "" || to.Query().Get("email") != ada.Email {
		t.Fatalf("a password account's address landed on %s, want a pending link", to)
	}
	if r := call(t, h, "POST", "/api/auth/oidc/link", map[string]string{"token": token, "password": "not-her-password"}); r.Status != 401 {
		t.Fatalf("link with a wrong password: %d %s", r.Status, r.Body)
	}
	if r := call(t, h, "POST", "/api/auth/oidc/link", map[string]string{"token": "made-up", "password": testPassword}); r.Status != 400 {
		t.Fatalf("link with an unknown token: %d %s", r.Status, r.Body)
	}
	r := call(t, h, "POST", "/api/auth/oidc/link", map[string]string{"token": token, "password": testPassword})
	if r.Status != 200 || accountFrom(t, r, ada.Email).ID != adaID {
		t.Fatalf("link with the password: %d %s", r.Status, r.Body)
	}
	if r := call(t, h, "POST", "/api/auth/oidc/link", map[string]string{"token": token, "password": testPassword}); r.Status != 400 {
		t.Fatalf("the link token spent twice: %d", r.Status)
	}
	// From now on the provider signs her in directly, into the same account.
	b := idptest.NewBrowser()
	if to := w.landing(t, b, ada); to.Path != "/modules/x" {
		t.Fatalf("after linking: landed on %s", to)
	}
	if got := w.refresh(t, b); got.ID != adaID {
		t.Fatalf("after linking: account %s, want %s", got.ID, adaID)
	}

	// Bob never verified his address (anyone could have registered it):
	// the mailed link proves the mailbox, ends every other session and
	// removes the password whoever registered it chose.
	squatter := login(t, h, bob.Email)
	to = w.landing(t, idptest.NewBrowser(), bob)
	if to.Query().Get("sso_link") == "" {
		t.Fatalf("bob landed on %s", to)
	}
	mailed := mailedLinkToken(t, w.db, bob.Email)
	// The page first asks which account the link connects (spending
	// nothing), so the person confirms before being signed in to it.
	var preview struct{ Email, Provider string }
	if r := call(t, h, "POST", "/api/auth/oidc/link", map[string]any{"token": mailed, "preview": true}); r.Status != 200 {
		t.Fatalf("preview: %d %s", r.Status, r.Body)
	} else if r.JSON(t, &preview); preview.Email != bob.Email || preview.Provider != "Acme SSO" {
		t.Fatalf("preview: %+v", preview)
	}
	r = call(t, h, "POST", "/api/auth/oidc/link", map[string]string{"token": mailed})
	if r.Status != 200 {
		t.Fatalf("link by mail: %d %s", r.Status, r.Body)
	}
	bobNow := accountFrom(t, r, bob.Email)
	if r := call(t, h, "GET", "/api/me", nil, squatter.auth()...); r.Status != 401 {
		t.Fatalf("the other session after linking by mail: %d", r.Status)
	}
	if r := call(t, h, "POST", "/api/auth/login", map[string]string{"email": bob.Email, "password": testPassword}); r.Status != 401 {
		t.Fatalf("the unverified account's password after linking by mail: %d", r.Status)
	}
	var me struct {
		HasPassword   bool `json:"has_password"`
		EmailVerified bool `json:"email_verified"`
	}
	call(t, h, "GET", "/api/me", nil, bobNow.auth()...).JSON(t, &me)
	if me.HasPassword || !me.EmailVerified {
		t.Fatalf("bob after linking by mail: %+v", me)
	}
	// A passwordless account confirms deletion by a fresh sign-in.
	if r := call(t, h, "DELETE", "/api/me", map[string]string{}, bobNow.auth()...); r.Status != 204 {
		t.Fatalf("delete a passwordless account just signed in: %d %s", r.Status, r.Body)
	}
}

// TestSSORequiredDomains: once an admin requires single sign-on for a
// domain, its addresses cannot use passwords, and the refusal says where
// to sign in; an address the provider did not verify counts as verified
// only for such a domain (Microsoft Entra ID sends no email_verified).
func TestSSORequiredDomains(t *testing.T) {
	carol := newPerson("Carol")
	carol.EmailVerified = false
	w := newSSOWorld(t, idptest.StartZitadel, carol)
	h := w.ts.Handler()
	admin := signUp(t, h, w.db, "admin")
	if r := call(t, h, "POST", "/api/auth/register", map[string]string{"email": "dan@acme.example", "password": testPassword, "name": "Dan"}); r.Status != 201 {
		t.Fatalf("register: %d", r.Status)
	}

	wantFailure(t, w.landing(t, idptest.NewBrowser(), carol), sso.FailUnverified)
	dansPasswordSession := login(t, h, "dan@acme.example")

	if r := call(t, h, "PUT", "/api/admin/sso-domains/not_a..domain", nil, admin.auth()...); r.Status != 422 {
		t.Fatalf("a bad domain: %d %s", r.Status, r.Body)
	}
	r := call(t, h, "PUT", "/api/admin/sso-domains/ACME.example", nil, admin.auth()...)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"domain":"acme.example"`) {
		t.Fatalf("require: %d %s", r.Status, r.Body)
	}
	for _, c := range []struct{ path, body string }{
		{"/api/auth/login", `{"email":"dan@acme.example","password":"` + testPassword + `"}`},
		{"/api/auth/register", `{"email":"erin@acme.example","password":"` + testPassword + `","name":"Erin"}`},
		{"/api/auth/password-reset", `{"email":"dan@acme.example"}`},
	} {
		var body map[string]any
		r := call(t, h, "POST", c.path, json.RawMessage(c.body))
		r.JSON(t, &body)
		if r.Status != 403 || body["login_url"] != sso.LoginPath || !strings.Contains(fmt.Sprint(body["detail"]), "single sign-on") {
			t.Fatalf("%s for an SSO domain: %d %s", c.path, r.Status, r.Body)
		}
	}
	// Sessions a password opened on the domain end with the rule.
	if r := call(t, h, "GET", "/api/me", nil, dansPasswordSession.auth()...); r.Status != 401 {
		t.Fatalf("a password session on the domain after requiring single sign-on: %d", r.Status)
	}
	// Other domains keep their passwords, and their sessions.
	if r := call(t, h, "GET", "/api/me", nil, admin.auth()...); r.Status != 200 {
		t.Fatalf("the admin's session: %d", r.Status)
	}
	login(t, h, admin.Email)

	if to := w.landing(t, idptest.NewBrowser(), carol); to.Query().Get("sso_error") != "" {
		t.Fatalf("carol, unverified by the provider, on a domain it is the authority for: %s", to)
	}

	var list []struct{ Domain string }
	call(t, h, "GET", "/api/admin/sso-domains", nil, admin.auth()...).JSON(t, &list)
	if len(list) != 1 || list[0].Domain != "acme.example" {
		t.Fatalf("domains: %+v", list)
	}
	if r := call(t, h, "DELETE", "/api/admin/sso-domains/acme.example", nil, admin.auth()...); r.Status != 204 {
		t.Fatalf("drop: %d", r.Status)
	}
	login(t, h, "dan@acme.example")
}

// TestSingleSignOnWithSCIM: when the company provisions accounts (SCIM on),
// single sign-on creates none, signs provisioned people into the account
// the company made, refuses the deactivated, and does not bring back the
// deleted. An explicit email_verified false is never trusted, not even on
// a domain that must use single sign-on (the "nOAuth" takeover).
func TestSingleSignOnWithSCIM(t *testing.T) {
	const token = "scim-token-for-the-sso-tests-0123456789"
	ada, eve := newPerson("Ada"), newPerson("Eve")
	eve.EmailVerified = false // oidc-provider says so: email_verified false
	w := newSSOWorldWith(t, idptest.StartNode, func(c *app.Config) { c.SCIMToken = token }, ada, eve)
	h := w.ts.Handler()
	scim := func(method, path string, body any) response {
		t.Helper()
		return call(t, h, method, "/scim/v2"+path, body, "Authorization", "Bearer "+token, "Content-Type", "application/scim+json")
	}
	provision := func(p idptest.User) string {
		t.Helper()
		r := scim("POST", "/Users", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
			"userName": p.Email, "name": map[string]any{"formatted": p.Name}, "active": true})
		var out struct{ ID string }
		if r.JSON(t, &out); r.Status != 201 || out.ID == "" {
			t.Fatalf("provision %s: %d %s", p.Email, r.Status, r.Body)
		}
		return out.ID
	}

	wantFailure(t, w.landing(t, idptest.NewBrowser(), ada), sso.FailNotProvisioned)

	adaID := provision(ada)
	b := idptest.NewBrowser()
	w.landing(t, b, ada)
	if got := w.refresh(t, b); got.ID != adaID {
		t.Fatalf("signed in as %s, want the provisioned account %s", got.ID, adaID)
	}

	// Eve's account is provisioned and her domain must use single sign-on,
	// but the provider says her address is unverified: an address anyone
	// can type into a profile there, so it signs nobody in.
	admin := signUp(t, h, w.db, "admin")
	if r := call(t, h, "PUT", "/api/admin/sso-domains/acme.example", nil, admin.auth()...); r.Status != 200 {
		t.Fatalf("require: %d", r.Status)
	}
	provision(eve)
	wantFailure(t, w.landing(t, idptest.NewBrowser(), eve), sso.FailUnverified)

	// Deactivated: refused at the callback. Deleted: not recreated.
	if r := scim("PATCH", "/Users/"+adaID, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": "replace", "path": "active", "value": false}}}); r.Status != 200 {
		t.Fatalf("deactivate: %d %s", r.Status, r.Body)
	}
	wantFailure(t, w.landing(t, idptest.NewBrowser(), ada), sso.FailDeactivated)
	if r := scim("DELETE", "/Users/"+adaID, nil); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	wantFailure(t, w.landing(t, idptest.NewBrowser(), ada), sso.FailNotProvisioned)
}
