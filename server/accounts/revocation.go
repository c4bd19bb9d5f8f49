package accounts

import (
	"context"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
)

// liveSessions answers, for a session named by an access token, whether it
// is still live and what its user's role is now, so that every request is
// judged by the current state of the database and not by what the token
// said when it was issued.
//
// It caches the answer per session. The triggers of migration 00013 notify
// on every revocation, deletion and role change, and Watch feeds those
// notifications here, so a change takes effect on every instance as soon as
// its notification arrives (about a millisecond; the tests allow two
// seconds on a loaded machine). While the instance is not listening (before
// the first LISTEN, after a lost connection) the cache is off and every
// request reads the database. An entry also expires after maxSessionAge,
// bounding staleness even if a notification were lost without the
// connection failing.
type liveSessions struct {
	db *gorm.DB

	mu        sync.Mutex
	listening bool
	entries   map[string]liveSession
	byUser    map[string]map[string]struct{}
	// gen counts notifications; recent keeps the last ones, so that a
	// lookup that read the database before a notification arrived can tell
	// whether that notification makes what it read stale.
	gen    uint64
	recent [recentChanges]change
}

// liveSession is a session's cached state. A zero Role means the session is
// dead (revoked, expired, or its user is gone): that never changes back.
type liveSession struct {
	UserID    string
	Role      string
	ExpiresAt time.Time
	loadedAt  time.Time
}

// change is one notification: a session ended, or a user's role is now
// role ("" when the user is gone).
type change struct {
	gen           uint64
	session, user string
	role          string
}

const (
	maxSessionAge      = time.Minute
	maxCachedSessions  = 20000
	recentChanges      = 256
	notifyChannel      = "baton_auth"
	sessionPayloadHead = "s:"
	userPayloadHead    = "u:"
	keysPayload        = "k"
)

func newLiveSessions(db *gorm.DB) *liveSessions {
	return &liveSessions{db: db, entries: map[string]liveSession{}, byUser: map[string]map[string]struct{}{}}
}

// lookup returns the session's current state. found is false for a session
// that is unknown, revoked or expired, or whose user is gone.
// With fresh set it reads the database whatever the cache holds.
func (l *liveSessions) lookup(ctx context.Context, sessionID string, fresh bool) (liveSession, bool, error) {
	now := time.Now()
	l.mu.Lock()
	e, ok := l.entries[sessionID]
	listening, gen := l.listening, l.gen
	l.mu.Unlock()
	if ok && listening && !fresh && now.Sub(e.loadedAt) < maxSessionAge {
		return e, e.Role != "" && now.Before(e.ExpiresAt), nil
	}
	var row liveSession
	res := l.db.WithContext(ctx).Raw(`SELECT s.user_id, u.role, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id = ? AND s.revoked_at IS NULL AND s.expires_at > now()`, sessionID).Scan(&row)
	if res.Error != nil {
		return liveSession{}, false, res.Error
	}
	row.loadedAt = now
	l.store(sessionID, row, gen)
	return row, row.Role != "", nil
}

// remember caches a session this instance has just issued a token for,
// with the role read after generation gen was taken.
func (l *liveSessions) remember(sessionID, userID, role string, expires time.Time, gen uint64) {
	l.store(sessionID, liveSession{UserID: userID, Role: role, ExpiresAt: expires, loadedAt: time.Now()}, gen)
}

func (l *liveSessions) generation() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.gen
}

// store caches e, read from the database after generation gen, unless a
// notification since then says it may be stale.
func (l *liveSessions) store(sessionID string, e liveSession, gen uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.listening || !l.stillTrueLocked(sessionID, e, gen) {
		return // the next lookup reads again
	}
	if len(l.entries) >= maxCachedSessions {
		l.clearLocked() // start over rather than grow
	}
	l.entries[sessionID] = e
	if e.UserID != "" {
		if l.byUser[e.UserID] == nil {
			l.byUser[e.UserID] = map[string]struct{}{}
		}
		l.byUser[e.UserID][sessionID] = struct{}{}
	}
}

// stillTrueLocked reports whether no notification after gen contradicts e.
// A dead session stays dead, so only a live one can be contradicted: by its
// own revocation, or by its user's new role (or deletion). A late
// notification of the very role e holds contradicts nothing.
func (l *liveSessions) stillTrueLocked(sessionID string, e liveSession, gen uint64) bool {
	if l.gen-gen >= recentChanges {
		return false // too much happened to tell
	}
	if e.Role == "" {
		return true
	}
	for g := gen + 1; g <= l.gen; g++ {
		c := l.recent[g%recentChanges]
		if c.session == sessionID || (c.user == e.UserID && c.role != e.Role) {
			return false
		}
	}
	return true
}

// notified applies one payload from the channel.
func (l *liveSessions) notified(payload string) {
	var c change
	switch {
	case strings.HasPrefix(payload, sessionPayloadHead):
		c.session = strings.TrimPrefix(payload, sessionPayloadHead)
	case strings.HasPrefix(payload, userPayloadHead):
		c.user, c.role, _ = strings.Cut(strings.TrimPrefix(payload, userPayloadHead), ":")
	default:
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.gen++
	c.gen = l.gen
	l.recent[l.gen%recentChanges] = c
	if c.session != "" {
		l.dropLocked(c.session)
		return
	}
	for id := range l.byUser[c.user] {
		if e := l.entries[id]; e.Role != c.role {
			l.dropLocked(id)
		}
	}
}

// forgetSession and forgetUser apply a change this instance has just
// committed without waiting for its notification.
func (l *liveSessions) forgetSession(sessionID string) { l.notified(sessionPayloadHead + sessionID) }
func (l *liveSessions) forgetUser(userID string)       { l.notified(userPayloadHead + userID + ":") }

func (l *liveSessions) dropLocked(sessionID string) {
	if e, ok := l.entries[sessionID]; ok {
		delete(l.byUser[e.UserID], sessionID)
		if len(l.byUser[e.UserID]) == 0 {
			delete(l.byUser, e.UserID)
		}
	}
	delete(l.entries, sessionID)
}

// setListening turns the cache on (LISTEN is in place: start from empty, as
// anything may have changed while off) or off.
func (l *liveSessions) setListening(on bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.listening = on
	l.gen += recentChanges // what was read before cannot be trusted
	l.clearLocked()
}

func (l *liveSessions) clearLocked() {
	clear(l.entries)
	clear(l.byUser)
}
