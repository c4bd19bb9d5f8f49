package web_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/database"
)

// twoInstances is two Baton servers on one database, each with its own
// caches and its own notification listener, as two processes would be.
func twoInstances(t *testing.T) (a, b http.Handler, db *database.DB) {
	t.Helper()
	db = newTestDB(t)
	cfg := testConfig(t)
	return buildServer(t, cfg, db).Handler(), buildServer(t, cfg, db).Handler(), db
}

// revocationBound is the staleness Baton promises between instances: a
// change committed through one is refused by another once PostgreSQL's
// notification has arrived. It is milliseconds; the bound leaves room for a
// loaded test machine.
const revocationBound = 2 * time.Second

// refusedWithin polls h with the request until it answers want, and fails
// the test if that takes longer than revocationBound. It returns how long
// the instance went on honouring what was revoked.
func refusedWithin(t *testing.T, h http.Handler, want int, method, path string, body any, header ...string) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		r := call(t, h, method, path, body, header...)
		if r.Status == want {
			return time.Since(start)
		}
		if time.Since(start) > revocationBound {
			t.Fatalf("%s %s still answers %d after %v (want %d): %s", method, path, r.Status, revocationBound, want, r.Body)
		}
		time.Sleep(time.Millisecond)
	}
}

// H1: a demoted admin keeps no admin right, on any instance, beyond the
// notification's delay — not until the token expires.
func TestDemotedAdminLosesRightsOnEveryInstance(t *testing.T) {
	t.Parallel()
	a, b, db := twoInstances(t)
	admin := signUp(t, a, db, "admin")
	root := signUp(t, a, db, "admin")
	// Both instances have the admin's session warm in their caches.
	for _, h := range []http.Handler{a, b} {
		if r := call(t, h, "GET", "/api/users", nil, admin.auth()...); r.Status != 200 {
			t.Fatalf("admin list users: %d %s", r.Status, r.Body)
		}
	}
	if r := call(t, a, "PATCH", "/api/users/"+admin.ID, map[string]string{"role": "learner"}, root.auth()...); r.Status != 200 {
		t.Fatalf("demote: %d %s", r.Status, r.Body)
	}
	// Privileged routes judge from the database, so on both instances the
	// very next request is refused: the role change ended every session.
	if r := call(t, b, "PATCH", "/api/users/"+admin.ID, map[string]string{"role": "admin"}, admin.auth()...); r.Status != 401 {
		t.Fatalf("other instance let the demoted admin re-promote themselves: %d %s", r.Status, r.Body)
	}
	if r := call(t, a, "GET", "/api/users", nil, admin.auth()...); r.Status != 401 {
		t.Fatalf("same instance after demotion: %d, want 401", r.Status)
	}
	// Everything else (a learner's reads) follows within the bound.
	t.Logf("other instance refused the demoted admin's reads after %v",
		refusedWithin(t, b, 401, "GET", "/api/me", nil, admin.auth()...))
	var role string
	if err := db.Gorm.Raw(`SELECT role FROM users WHERE id = ?`, admin.ID).Scan(&role).Error; err != nil || role != "learner" {
		t.Fatalf("role is %q (%v): the demoted admin re-promoted themselves", role, err)
	}
	// Signing in again gives a learner's rights only.
	again := login(t, b, admin.Email)
	assertProblem(t, call(t, b, "GET", "/api/users", nil, again.auth()...), 403)
}

// Two admins demoting each other at the same moment on two instances:
// never both, so there is always an admin left.
func TestAdminsDemotingEachOtherLeaveOneAdmin(t *testing.T) {
	t.Parallel()
	a, b, db := twoInstances(t)
	for range 5 {
		x, y := signUp(t, a, db, "admin"), signUp(t, a, db, "admin")
		if err := db.Gorm.Exec(`UPDATE users SET role = 'learner' WHERE role = 'admin' AND id NOT IN (?, ?)`, x.ID, y.ID).Error; err != nil {
			t.Fatal(err)
		}
		done := make(chan int, 2)
		go func() {
			done <- call(t, a, "PATCH", "/api/users/"+y.ID, map[string]string{"role": "learner"}, x.auth()...).Status
		}()
		go func() {
			done <- call(t, b, "PATCH", "/api/users/"+x.ID, map[string]string{"role": "learner"}, y.auth()...).Status
		}()
		first, second := <-done, <-done
		var admins int64
		db.Gorm.Raw(`SELECT count(*) FROM users WHERE role = 'admin'`).Scan(&admins)
		if admins != 1 || (first == 200) == (second == 200) {
			t.Fatalf("answers %d and %d left %d admins; want exactly one demotion and one admin", first, second, admins)
		}
	}
}

// A role changed in the database by any means (not only the admin API)
// is what the next request is judged by: the token's role claim is not.
func TestRoleIsReadFromTheDatabaseNotTheToken(t *testing.T) {
	t.Parallel()
	a, b, db := twoInstances(t)
	manager := signUp(t, a, db, "manager")
	for _, h := range []http.Handler{a, b} {
		if r := call(t, h, "POST", "/api/teams", map[string]string{"name": "Pod"}, manager.auth()...); r.Status != 201 {
			t.Fatalf("create team: %d %s", r.Status, r.Body)
		}
	}
	if err := db.Gorm.Exec(`UPDATE users SET role = 'learner' WHERE id = ?`, manager.ID).Error; err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]http.Handler{"a": a, "b": b} {
		took := refusedWithin(t, h, 403, "POST", "/api/teams", map[string]string{"name": "Pod"}, manager.auth()...)
		t.Logf("instance %s refused the demoted manager after %v", name, took)
	}
	// Promotion works the same way, with no new token.
	if err := db.Gorm.Exec(`UPDATE users SET role = 'manager' WHERE id = ?`, manager.ID).Error; err != nil {
		t.Fatal(err)
	}
	refusedWithin(t, b, 201, "POST", "/api/teams", map[string]string{"name": "Pod"}, manager.auth()...)
}

// M3: an access token dies with its session — at logout, on refresh-token
// reuse and when its user is deleted — on every instance.
func TestAccessTokensDieWithTheirSession(t *testing.T) {
	t.Parallel()
	a, b, db := twoInstances(t)

	t.Run("logout", func(t *testing.T) {
		u := signUp(t, a, db, "learner")
		if r := call(t, b, "GET", "/api/me", nil, u.auth()...); r.Status != 200 {
			t.Fatalf("me: %d", r.Status)
		}
		if r := call(t, a, "POST", "/api/auth/logout", nil, append(u.auth(), "Cookie", "baton_refresh="+u.Refresh)...); r.Status != 204 {
			t.Fatalf("logout: %d %s", r.Status, r.Body)
		}
		assertProblem(t, call(t, a, "GET", "/api/me", nil, u.auth()...), 401)
		t.Logf("other instance refused after %v", refusedWithin(t, b, 401, "GET", "/api/me", nil, u.auth()...))
	})

	t.Run("refresh reuse", func(t *testing.T) {
		u := signUp(t, a, db, "learner")
		r := call(t, a, "POST", "/api/auth/refresh", nil, "Cookie", "baton_refresh="+u.Refresh)
		if r.Status != 200 {
			t.Fatalf("refresh: %d", r.Status)
		}
		newer := accountFrom(t, r, u.Email)
		if r := call(t, b, "GET", "/api/me", nil, newer.auth()...); r.Status != 200 {
			t.Fatalf("me: %d", r.Status)
		}
		// Someone replays the first refresh token: the whole session ends,
		// including the access token the rightful refresh issued.
		assertProblem(t, call(t, a, "POST", "/api/auth/refresh", nil, "Cookie", "baton_refresh="+u.Refresh), 401)
		refusedWithin(t, b, 401, "GET", "/api/me", nil, newer.auth()...)
		refusedWithin(t, b, 401, "GET", "/api/me", nil, u.auth()...)
		var events int64
		if err := db.Gorm.Raw(`SELECT count(*) FROM audit_events WHERE action = 'session.refresh_reused' AND actor_id = ?`, u.ID).Scan(&events).Error; err != nil {
			t.Fatal(err)
		}
		if events != 1 {
			t.Fatalf("%d refresh-reuse audit events, want 1", events)
		}
	})

	t.Run("user deleted", func(t *testing.T) {
		u := signUp(t, a, db, "learner")
		if r := call(t, b, "GET", "/api/progress", nil, u.auth()...); r.Status != 200 {
			t.Fatalf("progress: %d", r.Status)
		}
		if err := db.Gorm.Exec(`DELETE FROM users WHERE id = ?`, u.ID).Error; err != nil {
			t.Fatal(err)
		}
		refusedWithin(t, b, 401, "GET", "/api/progress", nil, u.auth()...)
	})

	t.Run("session revoked in SQL while the listener reconnects", func(t *testing.T) {
		u := signUp(t, a, db, "learner")
		if r := call(t, b, "GET", "/api/me", nil, u.auth()...); r.Status != 200 {
			t.Fatalf("me: %d", r.Status)
		}
		// Cut every instance's listening connection, then revoke: whether
		// the listener is back before the commit (and hears it) or after
		// (and starts from an empty cache), the revocation must bite.
		if err := db.Gorm.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Gorm.Exec(`UPDATE sessions SET revoked_at = now() WHERE user_id = ?`, u.ID).Error; err != nil {
			t.Fatal(err)
		}
		refusedWithin(t, b, 401, "GET", "/api/me", nil, u.auth()...)
		refusedWithin(t, a, 401, "GET", "/api/me", nil, u.auth()...)
	})
}

// M3: a key, once retired, verifies only tokens it signed before, and no
// token may live longer than the configured lifetime, whoever holds a key.
func TestSigningKeysSignNothingBeyondTheirRules(t *testing.T) {
	t.Parallel()
	a, b, db := twoInstances(t)
	u := signUp(t, a, db, "learner")
	var sid string
	if err := db.Gorm.Raw(`SELECT id FROM sessions WHERE user_id = ?`, u.ID).Scan(&sid).Error; err != nil {
		t.Fatal(err)
	}
	var key accounts.SigningKey
	if err := db.Gorm.Raw(`SELECT kid, secret FROM signing_keys WHERE retired_at IS NULL`).Row().Scan(&key.Kid, &key.Secret); err != nil {
		t.Fatal(err)
	}
	mint := func(issued time.Time, ttl time.Duration) account {
		tok, err := key.Sign(accounts.NewClaims(u.ID, accounts.RoleLearner, sid, issued, ttl))
		if err != nil {
			t.Fatal(err)
		}
		return account{ID: u.ID, Token: tok}
	}
	// A year-long token made with the live key: refused.
	assertProblem(t, call(t, b, "GET", "/api/me", nil, mint(time.Now(), 365*24*time.Hour).auth()...), 401)
	before := mint(time.Now().Add(-2*time.Minute), 15*time.Minute)
	if r := call(t, b, "GET", "/api/me", nil, before.auth()...); r.Status != 200 {
		t.Fatalf("token within the rules: %d %s", r.Status, r.Body)
	}
	admin := signUp(t, a, db, "admin")
	if r := call(t, a, "POST", "/api/admin/signing-keys", nil, admin.auth()...); r.Status/100 != 2 {
		t.Fatalf("rotate: %d %s", r.Status, r.Body)
	}
	// Say the key retired a minute ago: the other instance hears of it; the
	// retired key's older token still verifies, and one it "signs" after
	// retiring (someone holding a copy of the secret) does not.
	if err := db.Gorm.Exec(`UPDATE signing_keys SET retired_at = now() - interval '1 minute' WHERE kid = ?`, key.Kid).Error; err != nil {
		t.Fatal(err)
	}
	after := mint(time.Now(), 15*time.Minute)
	refusedWithin(t, b, 401, "GET", "/api/me", nil, after.auth()...)
	if r := call(t, b, "GET", "/api/me", nil, before.auth()...); r.Status != 200 {
		t.Fatalf("a token signed before the rotation: %d, want 200 until it expires", r.Status)
	}
	// A retired key leaves the ring one token lifetime after it retired.
	if err := db.Gorm.Exec(`UPDATE signing_keys SET retired_at = now() - interval '16 minutes' WHERE kid = ?`, key.Kid).Error; err != nil {
		t.Fatal(err)
	}
	refusedWithin(t, b, 401, "GET", "/api/me", nil, before.auth()...)
}
