package accounts

import (
	"context"
	"strings"
	"time"
	"unicode"

	"gorm.io/gorm"

	"github.com/baton-course/baton/server/problem"
)

// maxUserAgent bounds the device description a session keeps.
const maxUserAgent = 200

type userAgentKey struct{}

// WithUserAgent carries the client's User-Agent to where a session starts
// or is refreshed (the web layer sets it on the auth routes).
func WithUserAgent(ctx context.Context, ua string) context.Context {
	return context.WithValue(ctx, userAgentKey{}, ua)
}

// userAgentOf is the cleaned User-Agent carried by ctx: control and
// formatting characters (bidi overrides among them) removed, at most
// maxUserAgent characters, so the session list shows what was sent and
// nothing that rearranges the page.
func userAgentOf(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	ua, _ := ctx.Value(userAgentKey{}).(string)
	var b strings.Builder
	n := 0
	for _, r := range ua {
		if n == maxUserAgent {
			break
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar {
			continue
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

// touchSession records that a session was used (a refresh) from the device
// in ctx.
func touchSession(tx *gorm.DB, sessionID string) error {
	ua := userAgentOf(tx.Statement.Context)
	return tx.Exec(`UPDATE sessions SET last_used_at = now(), user_agent = CASE WHEN ? = '' THEN user_agent ELSE ? END
		WHERE id = ?`, ua, ua, sessionID).Error
}

// SessionView is one live session as its owner sees it.
type SessionView struct {
	ID         string    `json:"id"`
	Current    bool      `json:"current"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	UserAgent  string    `json:"user_agent"`
}

// liveSessionCond is the condition a session row meets while its refresh token
// can still be used: not revoked, not past its end, used within a refresh
// token's lifetime.
const liveSessionCond = `revoked_at IS NULL AND expires_at > now()
	AND coalesce(last_used_at, created_at) > now() - make_interval(secs => ?)`

// Sessions lists the caller's live sessions, the most recently used first.
func (s *Service) Sessions(ctx context.Context, p Principal) ([]SessionView, error) {
	list := []SessionView{}
	err := s.db.WithContext(ctx).Raw(`SELECT id, created_at, coalesce(last_used_at, created_at) AS last_used_at, user_agent
		FROM sessions WHERE user_id = ? AND `+liveSessionCond+` ORDER BY last_used_at DESC, created_at DESC`,
		p.UserID, refreshTTL.Seconds()).Scan(&list).Error
	for i := range list {
		list[i].Current = list[i].ID == p.Session
	}
	return list, err
}

// RevokeSession ends one of the caller's live sessions; anything else
// (someone else's, ended already, not an id) is not found.
func (s *Service) RevokeSession(ctx context.Context, p Principal, id string) error {
	if !IsUUID(id) {
		return problem.New(problem.NotFound, "No such session.")
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE sessions SET revoked_at = now(), revoked_reason = 'revoked by owner'
			WHERE id = ? AND user_id = ? AND `+liveSessionCond, id, p.UserID, refreshTTL.Seconds())
		if res.Error != nil {
			return res.Error
		} else if res.RowsAffected == 0 {
			return problem.New(problem.NotFound, "No such session.")
		}
		return appendAudit(ctx, tx, p.UserID, "session.revoke", p.UserID,
			map[string]any{"session": id, "current": id == p.Session})
	})
	if err == nil {
		s.live.forgetSession(id) // this instance at once; the others on the notification
	}
	return err
}
