package web_test

import (
	"testing"
)

// The session hint cookie lives and dies with the refresh cookie, readable
// by the app (so a first visit skips the refresh probe) and holding no
// secret.
func TestSessionHintFollowsTheRefreshCookie(t *testing.T) {
	s, db := newTestServer(t)
	h := s.Handler()
	a := signUp(t, h, db, "learner")

	r := call(t, h, "POST", "/api/auth/login", map[string]string{"email": a.Email, "password": testPassword})
	hint := cookieOf(r, "baton_session")
	if r.Status != 200 || hint == nil {
		t.Fatalf("login %d sets no hint: %v", r.Status, r.Header.Values("Set-Cookie"))
	}
	if hint.Value != "1" || hint.Path != "/" || hint.HttpOnly || hint.MaxAge <= 0 {
		t.Fatalf("hint %+v: want value 1, path /, readable by script, with a lifetime", hint)
	}
	refresh := refreshCookie(t, r)
	if ref := cookieOf(r, "baton_refresh"); ref == nil || ref.MaxAge != hint.MaxAge {
		t.Fatalf("the hint's lifetime %d is not the refresh cookie's %+v", hint.MaxAge, ref)
	}

	// A refresh with no cookie (a stale hint) clears the hint.
	r = call(t, h, "POST", "/api/auth/refresh", nil)
	if hint := cookieOf(r, "baton_session"); r.Status != 401 || hint == nil || hint.MaxAge >= 0 {
		t.Fatalf("refresh without a cookie: %d, hint %+v", r.Status, hint)
	}

	r = call(t, h, "POST", "/api/auth/logout", nil, append(a.auth(), "Cookie", "baton_refresh="+refresh)...)
	if hint := cookieOf(r, "baton_session"); r.Status != 204 || hint == nil || hint.MaxAge >= 0 {
		t.Fatalf("logout: %d, hint %+v", r.Status, hint)
	}
}
