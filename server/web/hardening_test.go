package web_test

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/server/app"
	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/web"
)

// TestCrossSiteSignIn: the L1 finding. Another site could post a login or
// sign-up form (or a text/plain fetch, which needs no CORS preflight) that
// parsed as JSON, or ride the refresh cookie from its own origin. Now a
// foreign Origin is 403 on the four cookie and password routes, and a body
// that is not application/json is 415 everywhere.
func TestCrossSiteSignIn(t *testing.T) {
	t.Parallel()
	db := newTestDB(t)
	cfg := testConfig(t)
	cfg.PublicURL = "https://baton.example.org"
	h := buildServer(t, cfg, db).Handler()
	a := signUp(t, h, db, "learner")
	creds := map[string]string{"email": a.Email, "password": testPassword}
	fresh := func() map[string]string {
		return map[string]string{"email": fmt.Sprintf("xsite%d@example.com", emailSeq.Add(1)), "password": testPassword, "name": "Cross"}
	}
	cookie := func(a account) string { return "baton_refresh=" + a.Refresh }

	type attempt struct {
		path   string
		body   any
		header []string
	}
	routes := func() []attempt {
		b := login(t, h, a.Email) // a session of its own for refresh and logout
		return []attempt{
			{"/api/auth/login", creds, nil},
			{"/api/auth/register", fresh(), nil},
			{"/api/auth/refresh", nil, []string{"Cookie", cookie(b)}},
			{"/api/auth/logout", nil, append(b.auth(), "Cookie", cookie(b))},
		}
	}
	for _, foreign := range [][]string{
		{"Origin", "https://evil.example"},
		{"Origin", "null"},
		{"Origin", "https://example.com.evil.example"},
		{"Origin", "https://baton.example.org.evil.example"},
		{"Sec-Fetch-Site", "cross-site"},
		{"Origin", "http://example.com", "Sec-Fetch-Site", "cross-site"},
	} {
		for _, r := range routes() {
			res := call(t, h, "POST", r.path, r.body, append(append([]string{}, r.header...), foreign...)...)
			assertProblem(t, res, 403)
			if refreshCookie(t, res) != "" {
				t.Errorf("%s from %v set a refresh cookie", r.path, foreign)
			}
		}
	}
	// The app's own pages: the request's host (httptest's example.com), or
	// BATON_PUBLIC_URL's origin behind a proxy that rewrites Host; and
	// clients that send no Origin at all.
	for _, own := range [][]string{{"Origin", "http://example.com"}, {"Origin", "https://EXAMPLE.com"}, {"Origin", "https://baton.example.org"}, {"Sec-Fetch-Site", "same-origin"}, nil} {
		for _, r := range routes() {
			res := call(t, h, "POST", r.path, r.body, append(append([]string{}, r.header...), own...)...)
			if res.Status >= 300 {
				t.Errorf("%s with %v: %d %s", r.path, own, res.Status, res.Body)
			}
		}
	}

	// The form posts of the finding: a JSON-shaped body as text/plain, and
	// an urlencoded form, are refused before the password is looked at.
	body, _ := json.Marshal(creds)
	for _, ct := range []string{"text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""} {
		res := callWith(t, h, func(r *http.Request) {
			r.Header.Set("Content-Type", ct)
			if ct == "" {
				r.Header.Del("Content-Type")
			}
		}, "POST", "/api/auth/login", string(body))
		assertProblem(t, res, 415)
		if refreshCookie(t, res) != "" {
			t.Errorf("%q login set a refresh cookie", ct)
		}
	}
	if res := call(t, h, "POST", "/api/auth/login", string(body), "Content-Type", "application/json; charset=utf-8"); res.Status != 200 {
		t.Errorf("login as application/json; charset=utf-8: %d %s", res.Status, res.Body)
	}
}

// TestEveryJSONBodyNeedsJSONType: every route that reads a body answers a
// text/plain one with 415 and changes nothing; routes with no body are
// unaffected.
func TestEveryJSONBodyNeedsJSONType(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	before := tableCounts(t, w)
	// The routes that read a body are the operations openapi.json gives a
	// requestBody (TestOpenAPIMatchesRoutes keeps it true to the router).
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(web.OpenAPIDocument(), &doc); err != nil {
		t.Fatal(err)
	}
	// (A form a platform posts, the LTI login and launch, is not JSON.)
	takesBody := func(r echo.Route) bool {
		var op struct {
			RequestBody struct {
				Content map[string]json.RawMessage `json:"content"`
			} `json:"requestBody"`
		}
		raw := doc.Paths[routeParam.ReplaceAllStringFunc(r.Path, func(p string) string { return "{" + p[1:] + "}" })][strings.ToLower(r.Method)]
		return raw != nil && json.Unmarshal(raw, &op) == nil && op.RequestBody.Content["application/json"] != nil
	}
	checked := 0
	for _, r := range apiRoutes(w.s) {
		if !takesBody(r) {
			continue
		}
		path := r.Path
		path = strings.ReplaceAll(path, ":slug", map[bool]string{true: testQuiz, false: testLesson}[strings.HasPrefix(path, "/api/quizzes")])
		path = strings.ReplaceAll(path, ":check", firstCheck(w))
		path = strings.ReplaceAll(path, ":prompt", firstReflection(w))
		switch {
		case strings.HasPrefix(path, "/api/attempts"):
			path = strings.ReplaceAll(path, ":id", w.otherAttempt)
		case strings.HasPrefix(path, "/api/assignments"):
			path = strings.ReplaceAll(path, ":id", w.otherAssignment)
		default:
			path = strings.ReplaceAll(path, ":id", w.team.ID)
		}
		path = strings.ReplaceAll(path, ":user_id", w.other.ID)
		path = strings.ReplaceAll(path, ":module", "ceo-myth")
		for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded"} {
			res := call(t, w.h, r.Method, path, `{}`, append(w.admin.auth(), "Content-Type", ct)...)
			if res.Status != 415 {
				t.Errorf("%s %s as %s: %d %.200s", r.Method, r.Path, ct, res.Status, res.Body)
				continue
			}
			assertProblem(t, res, 415)
			checked++
		}
	}
	if checked < 2*14 {
		t.Errorf("only %d route checks: the walk lost its routes", checked)
	}
	for tb, n := range tableCounts(t, w) {
		if before[tb] != n {
			t.Errorf("table %s changed: %d rows, then %d", tb, before[tb], n)
		}
	}
	// A route with no body still works whatever the type says.
	if res := call(t, w.h, "POST", "/api/notifications/read-all", "ignored", append(w.learner.auth(), "Content-Type", "text/plain")...); res.Status != 204 {
		t.Errorf("body-less route: %d %s", res.Status, res.Body)
	}
}

func fromAddr(remote string, header ...string) func(*http.Request) {
	return func(r *http.Request) {
		r.RemoteAddr = remote
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
	}
}

// TestMetricsAccess: the L2 finding. /metrics answers loopback clients that
// come straight, not through a proxy, and scrapers with the token; anyone
// else sees a 404, as if there were nothing there.
func TestMetricsAccess(t *testing.T) {
	t.Parallel()
	db := newTestDB(t)
	const token = "a-metrics-token-0123456789"
	open := newServerWith(t, db, func(c *app.Config) {}).Handler()
	tokened := newServerWith(t, db, func(c *app.Config) { c.MetricsToken = token }).Handler()

	cases := []struct {
		name   string
		h      http.Handler
		adjust func(*http.Request)
		status int
	}{
		{"remote", open, fromAddr("203.0.113.9:4000"), 404},
		{"remote with a token none is configured for", open, fromAddr("203.0.113.9:4000", "Authorization", "Bearer "), 404},
		{"loopback", open, fromAddr("127.0.0.1:4000"), 200},
		{"loopback IPv6", open, fromAddr("[::1]:4000"), 200},
		{"through a proxy on loopback", open, fromAddr("127.0.0.1:4000", "X-Forwarded-For", "203.0.113.9"), 404},
		{"through a proxy on loopback (Forwarded)", open, fromAddr("127.0.0.1:4000", "Forwarded", "for=203.0.113.9"), 404},
		{"remote with the token", tokened, fromAddr("203.0.113.9:4000", "Authorization", "Bearer "+token), 200},
		{"remote with the token, lower-case scheme", tokened, fromAddr("203.0.113.9:4000", "Authorization", "bearer "+token), 200},
		{"remote with a wrong token", tokened, fromAddr("203.0.113.9:4000", "Authorization", "Bearer "+token+"x"), 404},
		{"remote with a prefix of the token", tokened, fromAddr("203.0.113.9:4000", "Authorization", "Bearer "+token[:10]), 404},
		{"remote with the token as Basic", tokened, fromAddr("203.0.113.9:4000", "Authorization", "Basic "+token), 404},
		{"proxied with the token", tokened, fromAddr("127.0.0.1:4000", "X-Forwarded-For", "203.0.113.9", "Authorization", "Bearer "+token), 200},
	}
	for _, tc := range cases {
		res := callWith(t, tc.h, tc.adjust, "GET", "/metrics", nil)
		if res.Status != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, res.Status, tc.status)
			continue
		}
		if tc.status == 404 {
			assertProblem(t, res, 404)
			if strings.Contains(string(res.Body), "baton_") {
				t.Errorf("%s: the 404 shows metrics", tc.name)
			}
		} else if !strings.Contains(string(res.Body), "baton_db_statements_total") {
			t.Errorf("%s: no metrics in %.200s", tc.name, res.Body)
		}
	}
}

// newServerWith builds the router on db with an adjusted configuration.
func newServerWith(t *testing.T, db *database.DB, adjust func(*app.Config)) *testServer {
	t.Helper()
	cfg := testConfig(t)
	adjust(&cfg)
	return buildServer(t, cfg, db)
}

// lockedBuffer is a log destination tests can read while the server writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// take returns what was written since the last take.
func (b *lockedBuffer) take() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	b.buf.Reset()
	return s
}

var seriesLine = regexp.MustCompile(`(?m)^baton_http_requests_total\{.*$`)

// TestMetricsLabelsBounded: the M6 finding. 20 odd methods used to make 320
// new series; now a method outside the known ones is "other" and an
// unmatched path "unmatched", so they make none.
func TestMetricsLabelsBounded(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	h := s.Handler()
	scrape := func() []string {
		t.Helper()
		res := callWith(t, h, fromAddr("127.0.0.1:9"), "GET", "/metrics", nil)
		return seriesLine.FindAllString(string(res.Body), -1)
	}
	paths := []string{"/api/me", "/api/no-such-thing", "/healthz", "/definitely/not/here", "/api/lessons/x"}
	send := func(method string) {
		for _, p := range paths {
			call(t, h, method, p, nil)
		}
	}
	send("BREW") // the first odd method makes the "other" series
	scrape()     // and the scrape its own
	before := scrape()
	var odd []string
	for i := range 20 {
		m := fmt.Sprintf("X-ODD-%d", i)
		odd = append(odd, m)
		send(m)
		send(strings.ToLower(m))
	}
	after := scrape()
	if len(after) != len(before) {
		t.Errorf("odd methods grew the series from %d to %d:\n%s", len(before), len(after), strings.Join(after, "\n"))
	}
	all := strings.Join(after, "\n")
	for _, m := range append(odd, "BREW") {
		if strings.Contains(strings.ToUpper(all), `METHOD="`+m+`"`) {
			t.Errorf("method %s became a label value", m)
		}
	}
	if !strings.Contains(all, `method="other"`) {
		t.Errorf("odd requests are not counted as other:\n%s", all)
	}
}

// TestNoStoreAndHSTS: the L3 finding. Every /api answer (personal data,
// errors too) says no-store; the OpenAPI document and the app's files keep
// their own caching. HSTS is sent over TLS or with BATON_SECURE_COOKIES=1.
func TestNoStoreAndHSTS(t *testing.T) {
	t.Parallel()
	db := newTestDB(t)
	plain := newServerWith(t, db, func(c *app.Config) {}).Handler()
	behindProxy := newServerWith(t, db, func(c *app.Config) { c.SecureCookies = true }).Handler()
	a := signUp(t, plain, db, "learner")

	for _, tc := range []struct {
		path   string
		header []string
		want   string
	}{
		{"/api/me", a.auth(), "no-store"},
		{"/api/progress", a.auth(), "no-store"},
		{"/api/me", nil, "no-store"}, // a 401
		{"/api/no-such-thing", nil, "no-store"},
		{"/api/openapi.json", nil, "no-cache"},
		{"/", nil, "no-cache"},
	} {
		res := call(t, plain, "GET", tc.path, nil, tc.header...)
		if got := res.Header.Get("Cache-Control"); got != tc.want {
			t.Errorf("GET %s (%d): Cache-Control %q, want %q", tc.path, res.Status, got, tc.want)
		}
	}
	res := call(t, plain, "POST", "/api/auth/login", map[string]string{"email": a.Email, "password": testPassword})
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("login: Cache-Control %q", res.Header.Get("Cache-Control"))
	}

	const hsts = "max-age=31536000; includeSubDomains"
	if got := call(t, plain, "GET", "/api/me", nil, a.auth()...).Header.Get("Strict-Transport-Security"); got != "" {
		t.Errorf("plain HTTP sent HSTS %q: a browser would be stuck if there is no HTTPS", got)
	}
	overTLS := callWith(t, plain, func(r *http.Request) { r.TLS = &tls.ConnectionState{} }, "GET", "/", nil)
	if got := overTLS.Header.Get("Strict-Transport-Security"); got != hsts {
		t.Errorf("over TLS: HSTS %q", got)
	}
	for _, p := range []string{"/", "/api/me", "/healthz"} {
		if got := call(t, behindProxy, "GET", p, nil).Header.Get("Strict-Transport-Security"); got != hsts {
			t.Errorf("BATON_SECURE_COOKIES=1, GET %s: HSTS %q", p, got)
		}
	}
	// The cookies a sign-in sets are Secure behind a TLS proxy, and only then.
	for name, h := range map[string]http.Handler{"plain": plain, "behind a TLS proxy": behindProxy} {
		r := call(t, h, "POST", "/api/auth/login", map[string]string{"email": a.Email, "password": testPassword})
		cookies := (&http.Response{Header: r.Header}).Cookies()
		if len(cookies) < 2 {
			t.Fatalf("%s: sign-in set %d cookies, want the refresh and device cookies", name, len(cookies))
		}
		for _, c := range cookies {
			// The session hint is readable by script on purpose: it holds "1".
			httpOnlyOK := c.HttpOnly || c.Name == "baton_session" && c.Value == "1"
			if c.Secure != (h == behindProxy) || !httpOnlyOK || c.SameSite != http.SameSiteStrictMode {
				t.Errorf("%s: cookie %s Secure=%v HttpOnly=%v SameSite=%v", name, c.Name, c.Secure, c.HttpOnly, c.SameSite)
			}
		}
	}
}

// TestRequestIDIsSafe: the L4 finding. A client's X-Request-Id was logged and
// echoed verbatim (3,000 characters of markup); now only a short token of
// safe characters is kept, anything else is replaced, and the id logged is
// the id echoed.
func TestRequestIDIsSafe(t *testing.T) {
	t.Parallel()
	logged := &lockedBuffer{}
	db := newTestDB(t)
	svc, err := app.Build(t.Context(), testConfig(t), db, slog.New(slog.NewJSONHandler(logged, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	h := svc.Web.Handler()
	generated := regexp.MustCompile(`^[A-Za-z0-9]{32}$`)
	for _, tc := range []struct{ sent, want string }{
		{"abc-123_DEF.7", "abc-123_DEF.7"},
		{strings.Repeat("a", 64), strings.Repeat("a", 64)},
		{strings.Repeat("a", 65), ""},
		{"<script>alert(1)</script>" + strings.Repeat("x", 3000), ""},
		{"two words", ""},
		{"line\r\nInjected: yes", ""},
		{"ünïcode", ""},
		{"", ""},
	} {
		logged.take()
		res := call(t, h, "GET", "/healthz", nil, "X-Request-Id", tc.sent)
		got := res.Header.Get("X-Request-Id")
		if tc.want != "" && got != tc.want || tc.want == "" && (!generated.MatchString(got) || got == tc.sent) {
			t.Errorf("sent %.40q: echoed %.80q", tc.sent, got)
		}
		out := logged.take()
		var requests []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var line struct {
				Msg       string `json:"msg"`
				RequestID string `json:"request_id"`
			}
			if json.Unmarshal([]byte(l), &line) == nil && line.Msg == "request" {
				requests = append(requests, line.RequestID)
			}
		}
		if len(requests) != 1 || requests[0] != got {
			t.Errorf("sent %.40q: logged ids %q, echoed %q", tc.sent, requests, got)
		}
		if tc.sent != "" && tc.want == "" && strings.Contains(out, tc.sent[:min(len(tc.sent), 9)]) {
			t.Errorf("sent %.40q: the log carries it: %.300s", tc.sent, out)
		}
	}
}

// TestLookalikeIdentities: the L5 finding. Full-width letters no longer make
// a second account that looks like the first; a name's bidi overrides are
// stripped; and an address mixing scripts ("аna@" with a Cyrillic а) is
// marked in the team views and the admin list.
func TestLookalikeIdentities(t *testing.T) {
	t.Parallel()
	s, db := newTestServer(t)
	h := s.Handler()
	register := func(email, name string) response {
		return call(t, h, "POST", "/api/auth/register", map[string]string{"email": email, "password": testPassword, "name": name})
	}
	n := emailSeq.Add(1)
	ascii := fmt.Sprintf("ana%d@example.com", n)
	if r := register(ascii, "Ana"); r.Status != 201 {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	fullWidth := fmt.Sprintf("ａｎａ%d@ｅｘａｍｐｌｅ．ｃｏｍ", n) // the same address in full-width letters
	assertProblem(t, register(fullWidth, "Ana"), 409)
	if r := call(t, h, "POST", "/api/auth/login", map[string]string{"email": fullWidth, "password": testPassword}); r.Status != 200 {
		t.Errorf("full-width sign-in to the ASCII account: %d %s", r.Status, r.Body)
	}

	cyrillic := fmt.Sprintf("\u0430na%d@example.com", n) // Cyrillic а, then Latin
	r := register(cyrillic, "Ana\u202E\u2066nimda\u2069")
	if r.Status != 201 {
		t.Fatalf("register look-alike: %d %s", r.Status, r.Body)
	}
	var signed struct {
		User struct{ ID, Email, Name string }
		// AccessToken signs the look-alike in.
		AccessToken string `json:"access_token"`
	}
	r.JSON(t, &signed)
	if signed.User.Name != "Ananimda" || signed.User.Email != cyrillic {
		t.Errorf("stored as %q <%s>", signed.User.Name, signed.User.Email)
	}
	impostor := account{ID: signed.User.ID, Email: cyrillic, Token: signed.AccessToken}
	plain := signUp(t, h, db, "learner")
	manager := signUp(t, h, db, "manager")
	admin := signUp(t, h, db, "admin")
	team := createTeam(t, h, manager, "Pod")
	joinTeam(t, h, impostor, team.InviteCode)
	joinTeam(t, h, plain, team.InviteCode)

	type marked struct {
		ID        string
		Lookalike *bool
	}
	var detail struct{ Members []marked }
	var progress struct{ Members []struct{ User marked } }
	var listed []marked
	call(t, h, "GET", "/api/teams/"+team.ID, nil, manager.auth()...).JSON(t, &detail)
	call(t, h, "GET", "/api/teams/"+team.ID+"/progress", nil, manager.auth()...).JSON(t, &progress)
	call(t, h, "GET", "/api/users", nil, admin.auth()...).JSON(t, &listed)
	views := map[string][]marked{"team detail": detail.Members, "admin list": listed}
	for _, m := range progress.Members {
		views["team progress"] = append(views["team progress"], m.User)
	}
	for view, people := range views {
		seen := 0
		for _, p := range people {
			if p.Lookalike == nil {
				t.Errorf("%s: %s has no lookalike field", view, p.ID)
				continue
			}
			if p.ID == impostor.ID || p.ID == plain.ID {
				seen++
				if *p.Lookalike != (p.ID == impostor.ID) {
					t.Errorf("%s: %s marked %v", view, p.ID, *p.Lookalike)
				}
			}
		}
		if seen != 2 {
			t.Errorf("%s shows %d of the two members", view, seen)
		}
	}
}
