package accounts

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/baton-course/baton/server/testdb"
)

// TestPrune: the L7 finding. Rows aged in SQL past their keep go; rows
// that still matter (live sessions, used refresh tokens that could still
// reveal a stolen copy, fresh or blocking throttle rows) stay.
func TestPrune(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	user, _ := testdb.User(t, db, RoleLearner, "Pruned")
	exec := func(sql string, args ...any) {
		t.Helper()
		if err := db.Gorm.Exec(sql, args...).Error; err != nil {
			t.Fatal(err)
		}
	}
	session := func(expires, revoked string) string {
		t.Helper()
		var id string
		if err := db.Gorm.Raw(`INSERT INTO sessions (user_id, expires_at, revoked_at) VALUES (?, now() + ?::interval, now() + NULLIF(?, '')::interval) RETURNING id`,
			user, expires, revoked).Scan(&id).Error; err != nil {
			t.Fatal(err)
		}
		return id
	}
	live := session("20 days", "")
	expiredLongAgo := session("-8 days", "")
	expiredRecently := session("-2 days", "")
	revokedLongAgo := session("20 days", "-8 days")
	revokedRecently := session("20 days", "-1 hour")

	token := func(name, sessionID, expires string, used bool) {
		t.Helper()
		// Not the hash first: GORM spreads a slice that follows "(" as a list.
		exec(`INSERT INTO refresh_tokens (session_id, token_hash, expires_at, used_at) VALUES (?, ?, now() + ?::interval, CASE WHEN ? THEN now() ELSE NULL END)`,
			sessionID, hashToken(name), expires, used)
	}
	token("current", live, "10 days", false)
	token("used, unexpired", live, "3 days", true) // a reuse of it must still be caught
	token("used, expired", live, "-2 days", true)
	token("unused, expired", live, "-2 days", false)
	token("expired an hour ago", live, "-1 hour", false)
	token("of revoked session", revokedLongAgo, "5 days", false)

	throttle := func(key, window, blocked string) {
		t.Helper()
		exec(`INSERT INTO login_throttle (key, failures, window_started_at, blocked_until) VALUES (?, 3, now() + ?::interval, now() + NULLIF(?, '')::interval)`,
			key, window, blocked)
	}
	throttle("stale", "-3 days", "")
	throttle("stale, block long over", "-3 days", "-2 days")
	throttle("fresh window", "-10 minutes", "")
	throttle("old window, blocked now", "-3 days", "10 minutes")
	throttle("old window, block ended recently", "-3 days", "-1 hour")

	var teamID string
	if err := db.Gorm.Raw(`INSERT INTO teams (name, manager_id, invite_code) VALUES ('Pod', ?, 'PRUNE-TEST-0001') RETURNING id`, user).Scan(&teamID).Error; err != nil {
		t.Fatal(err)
	}
	invitation := func(email, expires, answered string) {
		t.Helper()
		exec(`INSERT INTO team_invitations (team_id, email, invited_by, expires_at, answered_at, answer)
			VALUES (?, ?, ?, now() + ?::interval, now() + NULLIF(?, '')::interval, CASE WHEN ? = '' THEN NULL ELSE 'declined' END)`,
			teamID, email, user, expires, answered, answered)
	}
	invitation("expired-long-ago@example.com", "-100 days", "")
	invitation("answered-long-ago@example.com", "-95 days", "-99 days")
	invitation("pending@example.com", "5 days", "")
	invitation("expired-recently@example.com", "-10 days", "")
	invitation("answered-recently@example.com", "-100 days", "-1 day")

	deleted, err := Prune(ctx, db.Gorm, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if deleted["sessions"] != 2 || deleted["login_throttle"] != 2 || deleted["team_invitations"] != 2 {
		t.Errorf("deleted %v, want 2 sessions, 2 throttle rows and 2 invitations", deleted)
	}
	var invited []string
	db.Gorm.Raw(`SELECT email FROM team_invitations ORDER BY email`).Scan(&invited)
	if strings.Join(invited, " ") != "answered-recently@example.com expired-recently@example.com pending@example.com" {
		t.Errorf("invitations left %v", invited)
	}

	var sessions []string
	db.Gorm.Raw(`SELECT id FROM sessions ORDER BY id`).Scan(&sessions)
	want := map[string]bool{live: true, expiredRecently: true, revokedRecently: true}
	if len(sessions) != len(want) {
		t.Errorf("sessions left %v, want live, recently expired and recently revoked", sessions)
	}
	for _, id := range sessions {
		if !want[id] {
			t.Errorf("session %s should have gone (expired %v, revoked %v ago)", id, id == expiredLongAgo, id == revokedLongAgo)
		}
	}
	for name, keep := range map[string]bool{"current": true, "used, unexpired": true, "expired an hour ago": true,
		"used, expired": false, "unused, expired": false, "of revoked session": false} {
		var n int64
		db.Gorm.Raw(`SELECT count(*) FROM refresh_tokens WHERE token_hash = ?`, hashToken(name)).Scan(&n)
		if (n == 1) != keep {
			t.Errorf("refresh token %q: %d rows, keep=%v", name, n, keep)
		}
	}
	var keys []string
	db.Gorm.Raw(`SELECT key FROM login_throttle ORDER BY key`).Scan(&keys)
	if len(keys) != 3 || keys[0] != "fresh window" || keys[1] != "old window, block ended recently" || keys[2] != "old window, blocked now" {
		t.Errorf("throttle rows left %q", keys)
	}

	// Nothing stale is left, so a second run deletes nothing.
	again, err := Prune(ctx, db.Gorm, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for table, n := range again {
		if n != 0 {
			t.Errorf("second run deleted %d from %s", n, table)
		}
	}
}

// TestPruneBatches: a backlog larger than one batch is pruned in full.
func TestPruneBatches(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	if err := db.Gorm.Exec(`INSERT INTO login_throttle (key, failures, window_started_at)
		SELECT 'k' || g, 1, now() - interval '3 days' FROM generate_series(1, ?) g`, pruneBatch*2+7).Error; err != nil {
		t.Fatal(err)
	}
	deleted, err := Prune(context.Background(), db.Gorm, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var left int64
	db.Gorm.Raw(`SELECT count(*) FROM login_throttle`).Scan(&left)
	if deleted["login_throttle"] != pruneBatch*2+7 || left != 0 {
		t.Errorf("deleted %d, %d left", deleted["login_throttle"], left)
	}
}
