package accounts

import (
	"testing"
	"time"
)

// The cache's invalidation rules, without a database: what a notification
// drops, and when a read that raced a notification may be kept.
func TestLiveSessionsInvalidation(t *testing.T) {
	l := newLiveSessions(nil)
	l.setListening(true)
	hour := time.Now().Add(time.Hour)
	has := func(sid string) bool { _, ok := l.entries[sid]; return ok }

	gen := l.generation()
	l.remember("s1", "u1", RoleManager, hour, gen)
	l.remember("s2", "u1", RoleManager, hour, gen)
	l.remember("s3", "u2", RoleLearner, hour, gen)
	if !has("s1") || !has("s2") || !has("s3") {
		t.Fatal("fresh reads not cached")
	}
	// A late notification of the role the entries already hold drops nothing.
	l.notified("u:u1:manager")
	if !has("s1") || !has("s2") {
		t.Fatal("a notification of the role already cached dropped it")
	}
	// A demotion drops every session of that user, and only theirs.
	l.notified("u:u1:learner")
	if has("s1") || has("s2") || !has("s3") {
		t.Fatalf("after a demotion: %v", l.entries)
	}
	// One session's revocation drops that session.
	l.notified("s:s3")
	if has("s3") {
		t.Fatal("a revoked session stayed cached")
	}

	// A read taken before a notification it did not see is kept only if the
	// notification does not contradict it.
	gen = l.generation()
	l.notified("u:u1:admin")
	l.remember("s4", "u1", RoleManager, hour, gen) // read "manager", then u1 became admin
	if has("s4") {
		t.Fatal("a read older than a role change was cached")
	}
	l.remember("s5", "u1", RoleAdmin, hour, gen) // read after the change committed
	if !has("s5") {
		t.Fatal("a read agreeing with the late notification was not cached")
	}
	gen = l.generation()
	l.notified("s:s6")
	l.remember("s6", "u3", RoleLearner, hour, gen)
	if has("s6") {
		t.Fatal("a session read live before its revocation arrived was cached")
	}
	l.remember("s7", "u3", RoleLearner, hour, gen)
	if !has("s7") {
		t.Fatal("an unrelated session was not cached")
	}
	// A deleted user ("u:<id>:") drops every session, whatever its role.
	l.notified("u:u3:")
	if has("s7") {
		t.Fatal("a deleted user's session stayed cached")
	}

	// Too many notifications since the read: cannot tell, so not cached.
	gen = l.generation()
	for range recentChanges {
		l.notified("s:other")
	}
	l.remember("s8", "u4", RoleLearner, hour, gen)
	if has("s8") {
		t.Fatal("cached a read whose notifications fell out of the ring")
	}
	// Not listening: nothing is cached, and turning listening on starts empty.
	l.setListening(false)
	l.remember("s9", "u4", RoleLearner, hour, l.generation())
	if has("s9") {
		t.Fatal("cached while not listening")
	}
	l.setListening(true)
	if len(l.entries) != 0 {
		t.Fatal("listening again kept old entries")
	}
}
