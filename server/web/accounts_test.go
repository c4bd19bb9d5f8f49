package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/baton-course/baton/server/database"
)

const testPassword = "correct-llama-timetable"

var emailSeq atomic.Int64

// account is a signed-up user as tests drive them.
type account struct {
	ID, Email, Token, Refresh string
}

func (a account) auth() []string { return []string{"Authorization", "Bearer " + a.Token} }

// cookieOf is the Set-Cookie of name in r, or nil.
func cookieOf(r response, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// refreshCookie is the refresh token r sets, or "".
func refreshCookie(t testing.TB, r response) string {
	t.Helper()
	if c := cookieOf(r, "baton_refresh"); c != nil {
		return c.Value
	}
	return ""
}

// accountFrom is the account of email as a sign-up, sign-in or refresh
// answer r carries it: its id, access token and refresh cookie.
func accountFrom(t testing.TB, r response, email string) account {
	t.Helper()
	var body struct {
		User        struct{ ID string }
		AccessToken string `json:"access_token"`
	}
	r.JSON(t, &body)
	return account{ID: body.User.ID, Email: email, Token: body.AccessToken, Refresh: refreshCookie(t, r)}
}

// signUp registers a fresh account and gives it role (set in the database,
// then signed in again so the token carries it).
func signUp(t testing.TB, h http.Handler, db *database.DB, role string) account {
	t.Helper()
	email := fmt.Sprintf("user%d@example.com", emailSeq.Add(1))
	r := call(t, h, "POST", "/api/auth/register", map[string]string{"email": email, "password": testPassword, "name": "User " + email})
	if r.Status != 201 {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	a := accountFrom(t, r, email)
	if role != "" && role != "learner" {
		if err := db.Gorm.Exec("UPDATE users SET role = ? WHERE id = ?", role, a.ID).Error; err != nil {
			t.Fatal(err)
		}
		a = login(t, h, email)
	}
	return a
}

func login(t testing.TB, h http.Handler, email string) account {
	t.Helper()
	r := call(t, h, "POST", "/api/auth/login", map[string]string{"email": email, "password": testPassword})
	if r.Status != 200 {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	return accountFrom(t, r, email)
}

func TestAccountLifecycle(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	h := s.Handler()

	r := call(t, h, "POST", "/api/auth/register", map[string]string{"email": "  Ada@Example.COM ", "password": testPassword, "name": "Ada <b>Lovelace</b>"})
	if r.Status != 201 {
		t.Fatalf("register %d %s", r.Status, r.Body)
	}
	var reg struct {
		User struct {
			ID, Email, Name, Role string
		}
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	r.JSON(t, &reg)
	if reg.User.Email != "ada@example.com" || reg.User.Role != "learner" || reg.TokenType != "Bearer" || reg.ExpiresIn != 900 || reg.User.Name != "Ada <b>Lovelace</b>" {
		t.Fatalf("register body %+v", reg)
	}
	assertProblem(t, call(t, h, "POST", "/api/auth/register", map[string]string{"email": "ada@example.com", "password": testPassword, "name": "Again"}), 409)

	r = call(t, h, "POST", "/api/auth/login", map[string]string{"email": "ADA@example.com", "password": testPassword})
	if r.Status != 200 {
		t.Fatalf("login %d %s", r.Status, r.Body)
	}
	setCookie := r.Header.Get("Set-Cookie")
	for _, want := range []string{"baton_refresh=", "Path=/api/auth", "HttpOnly", "SameSite=Strict"} {
		if !strings.Contains(setCookie, want) {
			t.Errorf("refresh cookie %q lacks %s", setCookie, want)
		}
	}
	var li struct {
		AccessToken string `json:"access_token"`
	}
	r.JSON(t, &li)
	refresh := refreshCookie(t, r)

	me := call(t, h, "GET", "/api/me", nil, "Authorization", "Bearer "+li.AccessToken)
	if me.Status != 200 || !strings.Contains(string(me.Body), `"teams":[]`) || !strings.Contains(string(me.Body), `"email":"ada@example.com"`) {
		t.Fatalf("me %d %s", me.Status, me.Body)
	}

	r = call(t, h, "POST", "/api/auth/refresh", nil, "Cookie", "baton_refresh="+refresh)
	if r.Status != 200 {
		t.Fatalf("refresh %d %s", r.Status, r.Body)
	}
	rotated := refreshCookie(t, r)
	if rotated == "" || rotated == refresh {
		t.Fatal("refresh did not rotate the cookie")
	}
	r.JSON(t, &li)

	if r := call(t, h, "POST", "/api/auth/logout", nil, "Authorization", "Bearer "+li.AccessToken, "Cookie", "baton_refresh="+rotated); r.Status != 204 {
		t.Fatalf("logout %d %s", r.Status, r.Body)
	}
	assertProblem(t, call(t, h, "POST", "/api/auth/refresh", nil, "Cookie", "baton_refresh="+rotated), 401)
}

// A refresh token presented twice revokes its whole family: the attacker's
// copy and the legitimate newer token both stop working.
func TestRefreshReuseRevokesFamily(t *testing.T) {
	t.Parallel()
	s, db := newTestServer(t)
	h := s.Handler()
	a := signUp(t, h, db, "")
	first := call(t, h, "POST", "/api/auth/refresh", nil, "Cookie", "baton_refresh="+a.Refresh)
	if first.Status != 200 {
		t.Fatalf("refresh %d", first.Status)
	}
	newer := refreshCookie(t, first)
	assertProblem(t, call(t, h, "POST", "/api/auth/refresh", nil, "Cookie", "baton_refresh="+a.Refresh), 401)
	assertProblem(t, call(t, h, "POST", "/api/auth/refresh", nil, "Cookie", "baton_refresh="+newer), 401)
	// Another session of the same user is unaffected.
	other := login(t, h, a.Email)
	if r := call(t, h, "POST", "/api/auth/refresh", nil, "Cookie", "baton_refresh="+other.Refresh); r.Status != 200 {
		t.Fatalf("unrelated session broken: %d", r.Status)
	}
	assertProblem(t, call(t, h, "POST", "/api/auth/refresh", nil), 401)
	assertProblem(t, call(t, h, "POST", "/api/auth/refresh", nil, "Cookie", "baton_refresh=made-up"), 401)
}

func TestRefreshRejectsCrossSiteOrigin(t *testing.T) {
	t.Parallel()
	s, db := newTestServer(t)
	h := s.Handler()
	a := signUp(t, h, db, "")
	assertProblem(t, call(t, h, "POST", "/api/auth/refresh", nil, "Cookie", "baton_refresh="+a.Refresh, "Origin", "https://evil.example"), 403)
	assertProblem(t, call(t, h, "POST", "/api/auth/logout", nil, append(a.auth(), "Origin", "https://evil.example")...), 403)
	// The same origin is fine (httptest's Host is example.com).
	if r := call(t, h, "POST", "/api/auth/refresh", nil, "Cookie", "baton_refresh="+a.Refresh, "Origin", "http://example.com"); r.Status != 200 {
		t.Fatalf("same-origin refresh %d %s", r.Status, r.Body)
	}
}

func TestRegisterAndLoginValidation(t *testing.T) {
	t.Parallel()
	s, db := newTestServer(t)
	h := s.Handler()
	existing := signUp(t, h, db, "")
	long := strings.Repeat("é", 101)
	cases := []struct {
		name   string
		path   string
		body   any
		status int
		field  string
	}{
		{"short password", "/api/auth/register", map[string]string{"email": "a@example.com", "password": "short", "name": "A"}, 422, "password"},
		{"common password", "/api/auth/register", map[string]string{"email": "a@example.com", "password": "Password1234!", "name": "A"}, 422, "password"},
		{"bad email", "/api/auth/register", map[string]string{"email": "not-an-email", "password": testPassword, "name": "A"}, 422, "email"},
		{"empty name", "/api/auth/register", map[string]string{"email": "a@example.com", "password": testPassword, "name": "   "}, 422, "name"},
		{"long name", "/api/auth/register", map[string]string{"email": "a@example.com", "password": testPassword, "name": long}, 422, "name"},
		{"unknown field", "/api/auth/register", `{"email":"a@example.com","password":"` + testPassword + `","name":"A","role":"admin"}`, 400, "role"},
		{"malformed", "/api/auth/register", `{"email":`, 400, ""},
		{"wrong type", "/api/auth/register", `{"email":1,"password":"x","name":"A"}`, 400, "email"},
		{"not an object", "/api/auth/register", `[1,2]`, 400, ""},
		{"two values", "/api/auth/register", `{} {}`, 400, ""},
		{"empty body", "/api/auth/login", ``, 400, ""},
		{"login missing password", "/api/auth/login", map[string]string{"email": existing.Email}, 422, "password"},
		{"login unknown field", "/api/auth/login", `{"email":"a@b.co","password":"x","remember":true}`, 400, "remember"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := assertProblem(t, call(t, h, "POST", tc.path, tc.body), tc.status)
			if tc.field != "" && !strings.Contains(fmt.Sprint(p["errors"]), tc.field) {
				t.Errorf("errors %v do not name %s", p["errors"], tc.field)
			}
		})
	}
	var n int64
	db.Gorm.Raw("SELECT count(*) FROM users").Scan(&n)
	if n != 1 {
		t.Fatalf("rejected requests created users: %d", n)
	}
	// A name of any characters is kept as given (escaping is the client's job).
	r := call(t, h, "POST", "/api/auth/register", map[string]string{"email": "odd@example.com", "password": testPassword, "name": `<script>alert(1)</script> '; DROP TABLE users; --`})
	if r.Status != 201 || !strings.Contains(string(r.Body), `DROP TABLE users`) {
		t.Fatalf("odd name: %d %s", r.Status, r.Body)
	}
}

// Wrong password and unknown email get the same answer; repeated failures
// reach 429 with Retry-After; the right password then still waits.
func TestLoginFailuresAndThrottling(t *testing.T) {
	t.Parallel()
	s, db := newTestServer(t)
	h := s.Handler()
	a := signUp(t, h, db, "")
	wrong := call(t, h, "POST", "/api/auth/login", map[string]string{"email": a.Email, "password": "not-the-password"})
	unknown := call(t, h, "POST", "/api/auth/login", map[string]string{"email": "nobody@example.com", "password": "not-the-password"})
	assertProblem(t, wrong, 401)
	assertProblem(t, unknown, 401)
	if string(wrong.Body) != string(unknown.Body) {
		t.Fatalf("answers differ: %s vs %s", wrong.Body, unknown.Body)
	}
	var throttled response
	for i := 0; i < 10; i++ {
		throttled = call(t, h, "POST", "/api/auth/login", map[string]string{"email": a.Email, "password": "not-the-password"})
		if throttled.Status == 429 {
			break
		}
	}
	assertProblem(t, throttled, 429)
	if secs, err := strconv.Atoi(throttled.Header.Get("Retry-After")); err != nil || secs < 1 {
		t.Fatalf("Retry-After %q", throttled.Header.Get("Retry-After"))
	}
	assertProblem(t, call(t, h, "POST", "/api/auth/login", map[string]string{"email": a.Email, "password": testPassword}), 429)
	// The block is for this account from this address: the owner signing in
	// from elsewhere is not locked out by the attacker.
	req := map[string]string{"email": a.Email, "password": testPassword}
	if r := callFrom(t, h, "198.51.100.7:5555", "POST", "/api/auth/login", req); r.Status != 200 {
		t.Fatalf("owner from another address: %d %s", r.Status, r.Body)
	}
	// Forwarding headers are not believed without trusted proxies.
	assertProblem(t, call(t, h, "POST", "/api/auth/login", req, "X-Forwarded-For", "203.0.113.9"), 429)
	_ = context.Background()
}

func callFrom(t testing.TB, h http.Handler, remote, method, path string, body any) response {
	t.Helper()
	return callWith(t, h, func(r *http.Request) { r.RemoteAddr = remote }, method, path, body)
}

func TestRoleChanges(t *testing.T) {
	t.Parallel()
	s, db := newTestServer(t)
	h := s.Handler()
	admin := signUp(t, h, db, "admin")
	manager := signUp(t, h, db, "manager")
	learner := signUp(t, h, db, "")

	assertProblem(t, call(t, h, "PATCH", "/api/users/"+learner.ID, map[string]string{"role": "manager"}, learner.auth()...), 403)
	assertProblem(t, call(t, h, "PATCH", "/api/users/"+learner.ID, map[string]string{"role": "manager"}, manager.auth()...), 403)
	assertProblem(t, call(t, h, "PATCH", "/api/users/"+learner.ID, map[string]string{"role": "king"}, admin.auth()...), 422)
	assertProblem(t, call(t, h, "PATCH", "/api/users/00000000-0000-0000-0000-000000000000", map[string]string{"role": "manager"}, admin.auth()...), 404)
	assertProblem(t, call(t, h, "PATCH", "/api/users/not-a-uuid", map[string]string{"role": "manager"}, admin.auth()...), 404)
	assertProblem(t, call(t, h, "PATCH", "/api/users/"+admin.ID, map[string]string{"role": "learner"}, admin.auth()...), 409)

	r := call(t, h, "PATCH", "/api/users/"+learner.ID, map[string]string{"role": "manager"}, admin.auth()...)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"role":"manager"`) {
		t.Fatalf("promote %d %s", r.Status, r.Body)
	}
	// A new privilege level means a new session: the old one ends, and
	// signing in again carries the new role.
	assertProblem(t, call(t, h, "POST", "/api/auth/refresh", nil, "Cookie", "baton_refresh="+learner.Refresh), 401)
	assertProblem(t, call(t, h, "GET", "/api/me", nil, learner.auth()...), 401)
	if r := call(t, h, "POST", "/api/auth/login", map[string]string{"email": learner.Email, "password": testPassword}); r.Status != 200 || !strings.Contains(string(r.Body), `"role":"manager"`) {
		t.Fatalf("sign-in after promotion %d %s", r.Status, r.Body)
	}
	if r := call(t, h, "GET", "/api/users", nil, admin.auth()...); r.Status != 200 || !strings.Contains(string(r.Body), learner.Email) {
		t.Fatalf("list users %d", r.Status)
	}
	assertProblem(t, call(t, h, "GET", "/api/users", nil, manager.auth()...), 403)
	if r := call(t, h, "GET", "/api/audit", nil, admin.auth()...); !strings.Contains(string(r.Body), `"action":"user.role"`) {
		t.Fatalf("role change not audited: %s", r.Body)
	}
}

// A burst of simultaneous wrong guesses cannot exceed the limit by queueing
// behind the hashing slots: at most the pair limit are checked.
func TestThrottlingHoldsUnderABurst(t *testing.T) {
	t.Parallel()
	s, db := newTestServer(t)
	h := s.Handler()
	a := signUp(t, h, db, "")
	var wg sync.WaitGroup
	var unauthorized, limited atomic.Int32
	for range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch call(t, h, "POST", "/api/auth/login", map[string]string{"email": a.Email, "password": "a-wrong-guess-here"}).Status {
			case 401:
				unauthorized.Add(1)
			case 429:
				limited.Add(1)
			}
		}()
	}
	wg.Wait()
	if unauthorized.Load() > 5+int32(s.svc.Accounts.Hasher().MaxConcurrent()) || limited.Load() == 0 {
		t.Fatalf("%d guesses checked, %d limited; the limit is 5", unauthorized.Load(), limited.Load())
	}
}
