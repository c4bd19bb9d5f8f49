package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/baton-course/baton/server/app"
	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/mail"
	"github.com/baton-course/baton/server/mailtest"
	"github.com/baton-course/baton/server/testdb"
)

var linkToken = regexp.MustCompile(`token=([A-Za-z0-9_-]+)`)

// queuedLink is the token of the newest account mail of kind to email that
// the outbox still holds (these tests start no job queue, so it stays).
func queuedLink(t testing.TB, db *database.DB, email, kind string) string {
	t.Helper()
	var body string
	db.Gorm.Raw(`SELECT body FROM account_emails WHERE to_email = ? AND kind = ? ORDER BY created_at DESC LIMIT 1`, email, kind).Scan(&body)
	m := linkToken.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s mail with a link queued for %s: %q", kind, email, body)
	}
	return m[1]
}

func queuedCount(t testing.TB, db *database.DB, email string) int {
	t.Helper()
	var n int
	db.Gorm.Raw(`SELECT count(*) FROM account_emails WHERE to_email = ?`, email).Scan(&n)
	return n
}

type meJSON struct {
	ID, Email, Role string
	EmailVerified   bool `json:"email_verified"`
}

func me(t testing.TB, h http.Handler, a account) meJSON {
	t.Helper()
	r := call(t, h, "GET", "/api/me", nil, a.auth()...)
	if r.Status != 200 {
		t.Fatalf("me: %d %s", r.Status, r.Body)
	}
	var m meJSON
	r.JSON(t, &m)
	return m
}

func refreshWith(t testing.TB, h http.Handler, refresh string) response {
	t.Helper()
	return call(t, h, "POST", "/api/auth/refresh", nil, "Cookie", "baton_refresh="+refresh)
}

func auditCount(t testing.TB, db *database.DB, action, subject string) int {
	t.Helper()
	var n int
	db.Gorm.Raw(`SELECT count(*) FROM audit_events WHERE action = ? AND subject = ?`, action, subject).Scan(&n)
	return n
}

// Registration emails a link; the link verifies the address once; a used,
// expired or unknown link is a 400.
func TestVerifyEmail(t *testing.T) {
	t.Parallel()
	s, db := newTestServer(t)
	h := s.Handler()
	a := signUp(t, h, db, "")
	if me(t, h, a).EmailVerified {
		t.Fatal("verified before the link was used")
	}
	token := queuedLink(t, db, a.Email, "verify_email")
	assertProblem(t, call(t, h, "POST", "/api/auth/verify-email", map[string]string{"token": "not-a-token"}), 400)
	assertProblem(t, call(t, h, "POST", "/api/auth/verify-email", map[string]string{}), 400)
	assertProblem(t, call(t, h, "POST", "/api/auth/verify-email", map[string]string{"token": token, "extra": "x"}), 400)
	if r := call(t, h, "POST", "/api/auth/verify-email", map[string]string{"token": token}); r.Status != 204 {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
	if !me(t, h, a).EmailVerified {
		t.Fatal("not verified after the link")
	}
	assertProblem(t, call(t, h, "POST", "/api/auth/verify-email", map[string]string{"token": token}), 400) // single use
	if auditCount(t, db, "email.verify", "user:"+a.ID) != 1 {
		t.Fatal("verification not audited")
	}
	assertProblem(t, call(t, h, "POST", "/api/me/verification", nil, a.auth()...), 409)

	// An expired link is refused like a used one.
	b := signUp(t, h, db, "")
	token = queuedLink(t, db, b.Email, "verify_email")
	db.Gorm.Exec(`UPDATE account_tokens SET created_at = now() - interval '49 hours', expires_at = now() - interval '1 hour' WHERE user_id = ?`, b.ID)
	assertProblem(t, call(t, h, "POST", "/api/auth/verify-email", map[string]string{"token": token}), 400)
	if me(t, h, b).EmailVerified {
		t.Fatal("an expired link verified")
	}
	// Only hashes are stored: the emailed token is nowhere in the table.
	var stored int
	db.Gorm.Raw(`SELECT count(*) FROM account_tokens WHERE encode(token_hash, 'escape') LIKE ?`, "%"+token+"%").Scan(&stored)
	if stored != 0 {
		t.Fatal("a raw token is stored")
	}
}

// A new link can be asked for, a few an hour.
func TestResendVerification(t *testing.T) {
	t.Parallel()
	s, db := newTestServer(t)
	h := s.Handler()
	a := signUp(t, h, db, "")
	for i := range 5 {
		if r := call(t, h, "POST", "/api/me/verification", nil, a.auth()...); r.Status != 202 {
			t.Fatalf("resend %d: %d %s", i, r.Status, r.Body)
		}
	}
	r := call(t, h, "POST", "/api/me/verification", nil, a.auth()...)
	assertProblem(t, r, 429)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	if n := queuedCount(t, db, a.Email); n != 6 {
		t.Fatalf("%d mails queued, want the first and 5 resends", n)
	}
	if r := call(t, h, "POST", "/api/auth/verify-email", map[string]string{"token": queuedLink(t, db, a.Email, "verify_email")}); r.Status != 204 {
		t.Fatalf("verify with the newest link: %d", r.Status)
	}
}

// M5: an address in BATON_ADMIN_EMAILS is a learner until it is verified,
// so whoever registers it without reading its mail gains nothing.
func TestAdminEmailBecomesAdminOnlyOnceVerified(t *testing.T) {
	t.Parallel()
	db := newTestDB(t)
	cfg := testConfig(t)
	cfg.AdminEmails = []string{"boss@example.com"}
	s := buildServer(t, cfg, db)
	h := s.Handler()
	r := call(t, h, "POST", "/api/auth/register", map[string]string{"email": "Boss@Example.com", "password": testPassword, "name": "Boss"})
	if r.Status != 201 || !strings.Contains(string(r.Body), `"role":"learner"`) {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	squatter := login(t, h, "boss@example.com")
	if m := me(t, h, squatter); m.Role != "learner" {
		t.Fatalf("unverified admin address has role %s", m.Role)
	}
	assertProblem(t, call(t, h, "GET", "/api/users", nil, squatter.auth()...), 403)
	// Asking for more links or a reset does not verify anything either.
	call(t, h, "POST", "/api/me/verification", nil, squatter.auth()...)
	call(t, h, "POST", "/api/auth/password-reset", map[string]string{"email": "boss@example.com"})
	if m := me(t, h, squatter); m.Role != "learner" || m.EmailVerified {
		t.Fatalf("after resend and reset request: %+v", m)
	}

	// The owner of the mailbox follows the link and is admin at once.
	if r := call(t, h, "POST", "/api/auth/verify-email", map[string]string{"token": queuedLink(t, db, "boss@example.com", "verify_email")}); r.Status != 204 {
		t.Fatalf("verify: %d", r.Status)
	}
	boss := login(t, h, "boss@example.com")
	if m := me(t, h, boss); m.Role != "admin" || !m.EmailVerified {
		t.Fatalf("verified admin address: %+v", m)
	}
	if auditCount(t, db, "user.role", "user:"+boss.ID) != 1 {
		t.Fatal("promotion not audited")
	}
}

// A reset request answers the same for known and unknown addresses, and
// only a known one gets mail.
func TestPasswordResetDoesNotEnumerate(t *testing.T) {
	t.Parallel()
	s, db := newTestServer(t)
	h := s.Handler()
	a := signUp(t, h, db, "")
	known := call(t, h, "POST", "/api/auth/password-reset", map[string]string{"email": strings.ToUpper(a.Email)})
	unknown := call(t, h, "POST", "/api/auth/password-reset", map[string]string{"email": "nobody-here@example.com"})
	if known.Status != 202 || unknown.Status != 202 || !bytes.Equal(known.Body, unknown.Body) {
		t.Fatalf("known %d %q, unknown %d %q", known.Status, known.Body, unknown.Status, unknown.Body)
	}
	for _, k := range []string{"Content-Type", "Content-Length", "Set-Cookie", "Retry-After"} {
		if known.Header.Get(k) != unknown.Header.Get(k) {
			t.Fatalf("header %s differs: %q vs %q", k, known.Header.Get(k), unknown.Header.Get(k))
		}
	}
	queuedLink(t, db, a.Email, "password_reset")
	if n := queuedCount(t, db, "nobody-here@example.com"); n != 0 {
		t.Fatalf("%d mails for an address without an account", n)
	}
	assertProblem(t, call(t, h, "POST", "/api/auth/password-reset", map[string]string{"email": "not an address"}), 422)
	assertProblem(t, call(t, h, "POST", "/api/auth/password-reset", `{"email": 7}`), 400)

	// Nobody can flood a mailbox: after 5 requests an hour for one address
	// the answer is 429, known or not, from any client address.
	for range 4 {
		call(t, h, "POST", "/api/auth/password-reset", map[string]string{"email": a.Email})
		call(t, h, "POST", "/api/auth/password-reset", map[string]string{"email": "nobody-here@example.com"})
	}
	k := callFrom(t, h, "198.51.100.1:1000", "POST", "/api/auth/password-reset", map[string]string{"email": a.Email})
	u := callFrom(t, h, "198.51.100.1:1000", "POST", "/api/auth/password-reset", map[string]string{"email": "nobody-here@example.com"})
	assertProblem(t, k, 429)
	assertProblem(t, u, 429)
	if !bytes.Equal(k.Body, u.Body) || k.Header.Get("Retry-After") == "" {
		t.Fatalf("throttled answers differ: %s / %s", k.Body, u.Body)
	}
	if n := queuedCount(t, db, a.Email); n != 1+5 {
		t.Fatalf("%d mails queued, want the verification and 5 reset links", n)
	}
	// And one client cannot ask for many addresses' links.
	var last response
	for i := range 31 {
		last = callFrom(t, h, "203.0.113.50:1000", "POST", "/api/auth/password-reset", map[string]string{"email": "spray" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "@example.com"})
	}
	assertProblem(t, last, 429)
}

// A reset link sets a new password once, within 30 minutes, and ends every
// session of the account.
func TestPasswordReset(t *testing.T) {
	t.Parallel()
	s, db := newTestServer(t)
	h := s.Handler()
	a := signUp(t, h, db, "")
	other := login(t, h, a.Email)
	// Someone else's wrong guesses have blocked the account's sign-in.
	for range 6 {
		call(t, h, "POST", "/api/auth/login", map[string]string{"email": a.Email, "password": "a-wrong-guess-here"})
	}
	assertProblem(t, call(t, h, "POST", "/api/auth/login", map[string]string{"email": a.Email, "password": testPassword}), 429)

	call(t, h, "POST", "/api/auth/password-reset", map[string]string{"email": a.Email})
	older := queuedLink(t, db, a.Email, "password_reset")
	call(t, h, "POST", "/api/auth/password-reset", map[string]string{"email": a.Email})
	token := queuedLink(t, db, a.Email, "password_reset")
	const fresh = "a-brand-new-passphrase"

	assertProblem(t, call(t, h, "POST", "/api/auth/password-reset/confirm", map[string]string{"token": "unknown", "password": fresh}), 400)
	r := call(t, h, "POST", "/api/auth/password-reset/confirm", map[string]string{"token": token, "password": "short"})
	if doc := assertProblem(t, r, 422); !strings.Contains(string(r.Body), `"password"`) {
		t.Fatalf("weak password: %v", doc)
	}
	if r := call(t, h, "POST", "/api/auth/password-reset/confirm", map[string]string{"token": token, "password": fresh}); r.Status != 204 {
		t.Fatalf("confirm after a refused password: %d %s", r.Status, r.Body)
	}
	assertProblem(t, call(t, h, "POST", "/api/auth/password-reset/confirm", map[string]string{"token": token, "password": fresh + "x"}), 400)
	assertProblem(t, call(t, h, "POST", "/api/auth/password-reset/confirm", map[string]string{"token": older, "password": fresh + "y"}), 400)

	// Every session ended; the old password is gone; the new one signs in
	// at once, the block notwithstanding; the mailbox counts as verified.
	for _, refresh := range []string{a.Refresh, other.Refresh} {
		assertProblem(t, refreshWith(t, h, refresh), 401)
	}
	// Their access tokens too, at the very next request.
	assertProblem(t, call(t, h, "GET", "/api/me", nil, a.auth()...), 401)
	assertProblem(t, call(t, h, "GET", "/api/me", nil, other.auth()...), 401)
	var live int
	db.Gorm.Raw(`SELECT count(*) FROM sessions WHERE user_id = ? AND revoked_at IS NULL`, a.ID).Scan(&live)
	if live != 0 {
		t.Fatalf("%d sessions live after a reset", live)
	}
	assertProblem(t, call(t, h, "POST", "/api/auth/login", map[string]string{"email": a.Email, "password": testPassword}), 401)
	r = call(t, h, "POST", "/api/auth/login", map[string]string{"email": a.Email, "password": fresh})
	if r.Status != 200 {
		t.Fatalf("sign in with the new password: %d %s", r.Status, r.Body)
	}
	if !me(t, h, accountFrom(t, r, a.Email)).EmailVerified {
		t.Fatal("a reset did not verify the address")
	}
	if auditCount(t, db, "password.reset", "user:"+a.ID) != 1 || auditCount(t, db, "password.reset_requested", "user:"+a.ID) != 2 {
		t.Fatal("reset not audited")
	}
	if auditCount(t, db, "password.reset_requested", "user:unknown") != 0 {
		t.Fatal("an unknown-address request was counted for nobody")
	}

	// A link older than 30 minutes is refused.
	call(t, h, "POST", "/api/auth/password-reset", map[string]string{"email": a.Email})
	token = queuedLink(t, db, a.Email, "password_reset")
	db.Gorm.Exec(`UPDATE account_tokens SET created_at = now() - interval '31 minutes', expires_at = now() - interval '1 minute'
		WHERE user_id = ? AND purpose = 'password_reset' AND used_at IS NULL`, a.ID)
	assertProblem(t, call(t, h, "POST", "/api/auth/password-reset/confirm", map[string]string{"token": token, "password": fresh + "z"}), 400)
}

// Changing the password needs the current one and ends every other session.
func TestChangePassword(t *testing.T) {
	t.Parallel()
	s, db := newTestServer(t)
	h := s.Handler()
	a := signUp(t, h, db, "")
	other := login(t, h, a.Email)
	const fresh = "another-fine-passphrase"

	assertProblem(t, call(t, h, "PUT", "/api/me/password", map[string]string{"current_password": "not-my-password", "new_password": fresh}, a.auth()...), 403)
	var failures int
	db.Gorm.Raw(`SELECT coalesce(sum(failures), 0) FROM login_throttle WHERE key LIKE ?`, "%"+a.Email+"%").Scan(&failures)
	if failures == 0 {
		t.Fatal("a wrong current password did not count as a failed sign-in")
	}
	assertProblem(t, call(t, h, "PUT", "/api/me/password", map[string]string{"current_password": testPassword, "new_password": "short"}, a.auth()...), 422)
	assertProblem(t, call(t, h, "PUT", "/api/me/password", map[string]string{"current_password": testPassword}, a.auth()...), 422)
	assertProblem(t, call(t, h, "PUT", "/api/me/password", `{"current_password": "x", "new_password": "y", "more": 1}`, a.auth()...), 400)
	if r := call(t, h, "PUT", "/api/me/password", map[string]string{"current_password": testPassword, "new_password": fresh}, a.auth()...); r.Status != 204 {
		t.Fatalf("change: %d %s", r.Status, r.Body)
	}
	assertProblem(t, refreshWith(t, h, other.Refresh), 401)
	if r := refreshWith(t, h, a.Refresh); r.Status != 200 {
		t.Fatalf("the session that changed it ended: %d %s", r.Status, r.Body)
	}
	assertProblem(t, call(t, h, "POST", "/api/auth/login", map[string]string{"email": a.Email, "password": testPassword}), 401)
	if r := call(t, h, "POST", "/api/auth/login", map[string]string{"email": a.Email, "password": fresh}); r.Status != 200 {
		t.Fatalf("new password: %d", r.Status)
	}
	if auditCount(t, db, "password.change", "user:"+a.ID) != 1 || queuedCount(t, db, a.Email) != 2 {
		t.Fatal("change not audited, or no notice mailed")
	}
}

type sessionJSON struct {
	ID         string
	Current    bool
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	UserAgent  string    `json:"user_agent"`
}

func sessionsOf(t testing.TB, h http.Handler, a account) []sessionJSON {
	t.Helper()
	r := call(t, h, "GET", "/api/me/sessions", nil, a.auth()...)
	if r.Status != 200 {
		t.Fatalf("sessions: %d %s", r.Status, r.Body)
	}
	var list []sessionJSON
	r.JSON(t, &list)
	return list
}

// The session list shows each live session's device and use; revoking one
// ends it, and nobody can revoke another person's.
func TestSessionsListAndRevoke(t *testing.T) {
	t.Parallel()
	s, db := newTestServer(t)
	h := s.Handler()
	a := signUp(t, h, db, "")
	stranger := signUp(t, h, db, "")
	hostile := "Phone\u202e\x1b[31m" + strings.Repeat("x", 300)
	r := callWith(t, h, func(r *http.Request) { r.Header.Set("User-Agent", hostile) }, "POST", "/api/auth/login",
		map[string]string{"email": a.Email, "password": testPassword})
	if r.Status != 200 {
		t.Fatalf("login: %d", r.Status)
	}
	phoneAccess := accountFrom(t, r, a.Email)
	phoneRefresh := phoneAccess.Refresh
	if r := call(t, h, "GET", "/api/me", nil, phoneAccess.auth()...); r.Status != 200 {
		t.Fatalf("phone's access token before the revocation: %d", r.Status)
	}

	list := sessionsOf(t, h, a)
	if len(list) != 2 {
		t.Fatalf("%d sessions, want 2: %+v", len(list), list)
	}
	var current, phone sessionJSON
	for _, x := range list {
		if x.Current {
			current = x
		} else {
			phone = x
		}
	}
	if current.ID == "" || phone.ID == "" {
		t.Fatalf("current flag: %+v", list)
	}
	if !strings.HasPrefix(phone.UserAgent, "Phone[31m") || len([]rune(phone.UserAgent)) != 200 || strings.ContainsAny(phone.UserAgent, "\u202e\x1b") {
		t.Fatalf("user agent %q", phone.UserAgent)
	}

	// A refresh counts as use.
	db.Gorm.Exec(`UPDATE sessions SET last_used_at = now() - interval '1 day' WHERE id = ?`, phone.ID)
	if r := refreshWith(t, h, phoneRefresh); r.Status != 200 {
		t.Fatalf("refresh: %d", r.Status)
	} else {
		phoneRefresh = refreshCookie(t, r)
	}
	for _, x := range sessionsOf(t, h, a) {
		if x.ID == phone.ID && time.Since(x.LastUsedAt) > time.Minute {
			t.Fatalf("refresh did not touch last_used_at: %v", x.LastUsedAt)
		}
	}

	for _, id := range []string{sessionOf(&world{db: db}, stranger), "not-a-uuid", "00000000-0000-0000-0000-000000000000"} {
		assertProblem(t, call(t, h, "DELETE", "/api/me/sessions/"+id, nil, a.auth()...), 404)
	}
	if len(sessionsOf(t, h, stranger)) != 1 {
		t.Fatal("the stranger's session was touched")
	}
	if r := call(t, h, "DELETE", "/api/me/sessions/"+phone.ID, nil, a.auth()...); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	assertProblem(t, call(t, h, "DELETE", "/api/me/sessions/"+phone.ID, nil, a.auth()...), 404)
	assertProblem(t, refreshWith(t, h, phoneRefresh), 401)
	assertProblem(t, call(t, h, "GET", "/api/me", nil, phoneAccess.auth()...), 401)
	if r := call(t, h, "GET", "/api/me", nil, a.auth()...); r.Status != 200 {
		t.Fatalf("the session that revoked the other lost its own access: %d", r.Status)
	}
	if list := sessionsOf(t, h, a); len(list) != 1 || list[0].ID != current.ID {
		t.Fatalf("after revoke: %+v", list)
	}
	if auditCount(t, db, "session.revoke", "user:"+a.ID) != 1 {
		t.Fatal("revocation not audited")
	}
	// Revoked and expired sessions are not listed.
	db.Gorm.Exec(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = ?`, current.ID)
	if list := sessionsOf(t, h, a); len(list) != 0 {
		t.Fatalf("an expired session is listed: %+v", list)
	}
}

// The export holds the caller's data, choices in words, and nothing of
// anyone else.
func TestExport(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	h := w.h
	me, other := w.learner, w.other
	call(t, h, "PUT", "/api/lessons/"+testLesson+"/reflections/"+firstReflection(w), map[string]string{"body": "MY-OWN-REFLECTION"}, me.auth()...)
	call(t, h, "PUT", "/api/lessons/"+testLesson+"/reflections/"+firstReflection(w), map[string]string{"body": "OTHER-PRIVATE-REFLECTION"}, other.auth()...)
	call(t, h, "PUT", "/api/lessons/"+testLesson+"/progress", map[string]int{"percent": 40}, me.auth()...)
	call(t, h, "POST", "/api/lessons/"+testLesson+"/checks/"+firstCheck(w)+"/answers", map[string]string{"option": "a"}, me.auth()...)
	joinTeam(t, h, me, w.team.InviteCode)
	playScenario(t, w, me, testQuiz, bestChoice)

	r := call(t, h, "GET", "/api/me/export", nil, me.auth()...)
	if r.Status != 200 {
		t.Fatalf("export: %d %s", r.Status, r.Body)
	}
	if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("headers %v", r.Header)
	}
	body := string(r.Body)
	for _, want := range []string{me.Email, "MY-OWN-REFLECTION", `"percent":40`, w.team.Name, testQuiz} {
		if !strings.Contains(body, want) {
			t.Errorf("export lacks %q", want)
		}
	}
	// The manager's name is in the notices the learner was sent (and these
	// tests name people after their emails), so the manager is checked by id.
	for _, leak := range []string{other.ID, other.Email, "OTHER-PRIVATE-REFLECTION", w.manager.ID, w.otherAttempt} {
		if strings.Contains(body, leak) {
			t.Errorf("export holds someone else's %q", leak)
		}
	}
	var doc struct {
		Profile  struct{ ID string }
		Sessions []map[string]any
		Attempts []struct {
			QuizSlug string `json:"quiz_slug"`
			Variant  string
			Answers  []struct {
				Choice string
				Vision int
			}
		}
		QuickChecks []map[string]any `json:"quick_check_answers"`
	}
	r.JSON(t, &doc)
	if doc.Profile.ID != me.ID || len(doc.Sessions) == 0 || len(doc.QuickChecks) != 1 || len(doc.Attempts) != 1 {
		t.Fatalf("export %s", body)
	}
	if a := doc.Attempts[0]; a.Variant == "" || len(a.Answers) == 0 || a.Answers[0].Choice == "" {
		t.Fatalf("attempt without its choices in words: %+v", a)
	}
}

// Deleting an account needs the password; afterwards the person is gone
// from every manager and admin view, and the address registers anew.
func TestDeleteAccount(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	h := w.h
	gone := w.other // a member of the manager's team, with an attempt and an assignment
	playScenario(t, w, gone, testQuiz, bestChoice)
	// A role change names the person's email in the audit trail.
	call(t, h, "PATCH", "/api/users/"+gone.ID, map[string]string{"role": "learner"}, w.admin.auth()...)
	if !strings.Contains(string(call(t, h, "GET", "/api/teams/"+w.team.ID+"/progress", nil, w.manager.auth()...).Body), gone.ID) {
		t.Fatal("the member is not in team progress to begin with")
	}

	assertProblem(t, call(t, h, "DELETE", "/api/me", map[string]string{"password": "not-my-password"}, gone.auth()...), 403)
	assertProblem(t, call(t, h, "DELETE", "/api/me", map[string]string{}, gone.auth()...), 422)
	r := call(t, h, "DELETE", "/api/me", map[string]string{"password": testPassword}, gone.auth()...)
	if r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	assertProblem(t, call(t, h, "GET", "/api/me", nil, gone.auth()...), 401)
	assertProblem(t, refreshWith(t, h, gone.Refresh), 401)

	for _, view := range []string{"/api/teams/" + w.team.ID + "/progress", "/api/teams/" + w.team.ID + "/progress.csv",
		"/api/teams/" + w.team.ID + "/analytics", "/api/teams/" + w.team.ID, "/api/assignments?team_id=" + w.team.ID} {
		r := call(t, h, "GET", view, nil, w.manager.auth()...)
		if r.Status != 200 || strings.Contains(string(r.Body), gone.ID) || strings.Contains(string(r.Body), gone.Email) {
			t.Fatalf("%s still shows the person: %d %s", view, r.Status, r.Body)
		}
	}
	if r := call(t, h, "GET", "/api/users?q="+gone.Email, nil, w.admin.auth()...); strings.TrimSpace(string(r.Body)) != "[]" {
		t.Fatalf("admin list: %s", r.Body)
	}
	for _, table := range []string{"attempts", "attempt_answers", "scenario_standings", "sessions", "team_members", "assignments", "notifications", "account_tokens", "account_emails"} {
		var n int
		w.db.Gorm.Raw(`SELECT count(*) FROM `+table+` WHERE user_id = ?`, gone.ID).Scan(&n)
		if n != 0 {
			t.Errorf("%d rows of %s left", n, table)
		}
	}
	var withEmail, deleted int
	w.db.Gorm.Raw(`SELECT count(*) FROM audit_events WHERE details::text LIKE ?`, "%"+gone.Email+"%").Scan(&withEmail)
	w.db.Gorm.Raw(`SELECT count(*) FROM audit_events WHERE action = 'user.delete' AND subject = ? AND actor_id IS NULL`, "user:"+gone.ID).Scan(&deleted)
	if withEmail != 0 || deleted != 1 {
		t.Fatalf("audit: %d entries name the email, %d deletion entries", withEmail, deleted)
	}
	if r := call(t, h, "POST", "/api/auth/register", map[string]string{"email": gone.Email, "password": testPassword, "name": "Anew"}); r.Status != 201 {
		t.Fatalf("register the address anew: %d %s", r.Status, r.Body)
	}
}

// The last admin cannot delete themselves; a manager who leaves takes their
// teams along, and what they assigned is cancelled, not lost.
func TestDeleteAccountAdminsAndManagers(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	h := w.h
	assertProblem(t, call(t, h, "DELETE", "/api/me", map[string]string{"password": testPassword}, w.admin.auth()...), 409)

	if r := call(t, h, "DELETE", "/api/me", map[string]string{"password": testPassword}, w.manager.auth()...); r.Status != 204 {
		t.Fatalf("manager delete: %d %s", r.Status, r.Body)
	}
	assertProblem(t, call(t, h, "GET", "/api/teams/"+w.team.ID, nil, w.admin.auth()...), 404)
	var cancelled bool
	w.db.Gorm.Raw(`SELECT cancelled_at IS NOT NULL FROM assignments WHERE id = ?`, w.otherAssignment).Scan(&cancelled)
	if !cancelled {
		t.Fatal("the deleted manager's assignment is still open")
	}
	if m := me(t, h, w.other); len(m.ID) == 0 {
		t.Fatal("the member went with the manager")
	}

	second := signUp(t, h, w.db, "admin")
	if r := call(t, h, "DELETE", "/api/me", map[string]string{"password": testPassword}, w.admin.auth()...); r.Status != 204 {
		t.Fatalf("an admin with another admin left: %d %s", r.Status, r.Body)
	}
	assertProblem(t, call(t, h, "DELETE", "/api/me", map[string]string{"password": testPassword}, second.auth()...), 409)
}

// The whole way through a real SMTP server: the verification and reset
// mails arrive within seconds (the job queue is woken, not waited for),
// their links work, and the outbox forgets each mail once it is sent.
func TestAccountMailThroughSMTP(t *testing.T) {
	t.Parallel()
	mp := mailtest.Start(t)
	db := newTestDB(t)
	cfg := testConfig(t)
	cfg.SMTP = mail.Config{Addr: mp.SMTPAddr, From: "Baton <baton@example.com>"}
	cfg.PublicURL = "https://baton.example.com"
	s := buildServer(t, cfg, db)
	if err := s.svc.StartJobs(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	a := signUp(t, h, db, "")
	msgs := mp.WaitFor(t, 1, 10*time.Second)
	link := linkIn(t, msgs[0], a.Email, "https://baton.example.com/verify-email?token=")
	if r := call(t, h, "POST", "/api/auth/verify-email", map[string]string{"token": link}); r.Status != 204 {
		t.Fatalf("verify from the mail: %d %s", r.Status, r.Body)
	}

	call(t, h, "POST", "/api/auth/password-reset", map[string]string{"email": a.Email})
	msgs = mp.WaitFor(t, 2, 10*time.Second)
	token := linkIn(t, msgs[1], a.Email, "https://baton.example.com/reset-password?token=")
	if r := call(t, h, "POST", "/api/auth/password-reset/confirm", map[string]string{"token": token, "password": "mailed-and-reset-ok"}); r.Status != 204 {
		t.Fatalf("reset from the mail: %d %s", r.Status, r.Body)
	}
	if r := call(t, h, "POST", "/api/auth/login", map[string]string{"email": a.Email, "password": "mailed-and-reset-ok"}); r.Status != 200 {
		t.Fatalf("sign in after the reset: %d", r.Status)
	}
	msgs = mp.WaitFor(t, 3, 10*time.Second)
	if !strings.Contains(msgs[2].Subject, "password was changed") {
		t.Fatalf("third mail %q", msgs[2].Subject)
	}
	deadline := time.Now().Add(5 * time.Second)
	for queuedCount(t, db, a.Email) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("sent mail (and its link) stays in the outbox")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// linkIn checks m went to email and returns the token of its link, which
// must start with prefix.
func linkIn(t testing.TB, m mailtest.Message, email, prefix string) string {
	t.Helper()
	if len(m.To) != 1 || m.To[0].Address != email || !strings.Contains(m.Text, prefix) {
		t.Fatalf("mail to %v: %q", m.To, m.Text)
	}
	return linkToken.FindStringSubmatch(m.Text[strings.Index(m.Text, prefix):])[1]
}

// A mail that fails is tried again later (backoff), not lost and not sent
// twice.
func TestAccountMailRetries(t *testing.T) {
	t.Parallel()
	mp := mailtest.Start(t)
	s, db := newTestServer(t)
	h := s.Handler()
	a := signUp(t, h, db, "")
	down, err := mail.New(mail.Config{Addr: testdb.FreeAddr(t), From: "baton@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if sent, err := s.svc.Accounts.SendAccountMail(ctx, down); err == nil || sent != 0 {
		t.Fatalf("sent %d through a server that is down, %v", sent, err)
	}
	up, err := mail.New(mail.Config{Addr: mp.SMTPAddr, From: "baton@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if sent, err := s.svc.Accounts.SendAccountMail(ctx, up); err != nil || sent != 0 {
		t.Fatalf("sent %d before the backoff ran out, %v", sent, err)
	}
	db.Gorm.Exec(`UPDATE account_emails SET next_attempt_at = now() WHERE to_email = ?`, a.Email)
	if sent, err := s.svc.Accounts.SendAccountMail(ctx, up); err != nil || sent != 1 {
		t.Fatalf("sent %d after the backoff, %v", sent, err)
	}
	if sent, _ := s.svc.Accounts.SendAccountMail(ctx, up); sent != 0 || mp.Count(t) != 1 || queuedCount(t, db, a.Email) != 0 {
		t.Fatal("a mail went twice or stayed queued")
	}
}

// Without SMTP every account mail is written to the log, link and all, so
// a single-machine trial still works.
func TestAccountMailWithoutSMTPGoesToTheLog(t *testing.T) {
	t.Parallel()
	db := newTestDB(t)
	var logs lockedBuffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	svc, err := app.Build(context.Background(), testConfig(t), db, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	if err := svc.StartJobs(context.Background()); err != nil {
		t.Fatal(err)
	}
	a := signUp(t, svc.Web.Handler(), db, "")
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, line := range strings.Split(logs.String(), "\n") {
			var e struct{ To, Subject, Body string }
			if json.Unmarshal([]byte(line), &e) == nil && e.To == a.Email && strings.Contains(e.Body, "http://127.0.0.1:8080/verify-email?token=") {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no logged mail for %s in:\n%s", a.Email, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// One reset link used by several requests at once sets one password.
func TestPasswordResetLinkRacesOnce(t *testing.T) {
	t.Parallel()
	s, db := newTestServer(t)
	h := s.Handler()
	a := signUp(t, h, db, "")
	call(t, h, "POST", "/api/auth/password-reset", map[string]string{"email": a.Email})
	token := queuedLink(t, db, a.Email, "password_reset")
	var wg sync.WaitGroup
	statuses := make([]int, 6)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = call(t, h, "POST", "/api/auth/password-reset/confirm",
				map[string]string{"token": token, "password": "racing-passphrase-" + string(rune('a'+i))}).Status
		}()
	}
	wg.Wait()
	ok := 0
	for _, st := range statuses {
		if st == 204 {
			ok++
		} else if st != 400 {
			t.Fatalf("statuses %v", statuses)
		}
	}
	if ok != 1 || auditCount(t, db, "password.reset", "user:"+a.ID) != 1 {
		t.Fatalf("%d requests set a password with one link: %v", ok, statuses)
	}
}
