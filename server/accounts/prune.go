package accounts

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// A pruneRule says which rows of one table have outlived any use: Stale is
// a condition on them with @cutoff standing for now minus Keep. Keep is
// past the point where the row can matter, with a margin for looking into
// an incident; docs/operations.md lists the same figures.
type pruneRule struct {
	Table string
	Keep  time.Duration
	Stale string
}

const day = 24 * time.Hour

// pruneRules are every expiring table. A new table of expiring tokens adds
// its rule here; TestPrune then checks it runs against the real schema.
var pruneRules = []pruneRule{
	// A session ends when it expires or is revoked; a week on, nothing
	// can use it, and its refresh tokens go with it (ON DELETE CASCADE).
	// An access token naming a session that is gone is as dead as one
	// naming a revoked session.
	{Table: "sessions", Keep: 7 * day, Stale: "expires_at < @cutoff OR revoked_at < @cutoff"},
	// A used refresh token is kept until it would have expired: presenting
	// it again is how a stolen copy is detected (reuse revokes the session).
	{Table: "refresh_tokens", Keep: day, Stale: "expires_at < @cutoff"},
	// A throttle row whose counting window and block are both long over
	// counts for nothing: the next failure starts afresh either way.
	{Table: "login_throttle", Keep: day, Stale: "window_started_at < @cutoff AND (blocked_until IS NULL OR blocked_until < @cutoff)"},
	// Team invitations, answered or not, once they expired and any answer
	// is a quarter old: past the per-manager invitation limit's window and
	// an audit's usual look-back. Their in-app notice goes with them.
	{Table: "team_invitations", Keep: 90 * day, Stale: "expires_at < @cutoff AND (answered_at IS NULL OR answered_at < @cutoff)"},
	// Emailed verification and reset tokens: a day's grace past expiry, so a
	// late click still gets a clear "expired".
	{Table: "account_tokens", Keep: day, Stale: "expires_at < @cutoff"},
	// Mail limits whose window is over count for nothing.
	{Table: "mail_throttle", Keep: mailWindow, Stale: "window_started_at < @cutoff"},
	// Device tokens past their life.
	{Table: "device_tokens", Keep: 0, Stale: "expires_at < @cutoff"},
	// A sign-up bucket untouched for as long as it takes to refill is full
	// again: the same as no row.
	{Table: "rate_buckets", Keep: signUpRefill, Stale: "updated_at < @cutoff"},
	// Single sign-ons under way and pending account links: a day's grace
	// past expiry, so a late return still gets "expired" rather than
	// "unknown".
	{Table: "oidc_logins", Keep: day, Stale: "expires_at < @cutoff"},
	{Table: "oidc_links", Keep: day, Stale: "expires_at < @cutoff"},
	// LTI: logins under way, deep-linking requests and one-time
	// registration URLs, past their expiry with the same grace.
	{Table: "lti_logins", Keep: day, Stale: "expires_at < @cutoff"},
	{Table: "lti_deep_links", Keep: day, Stale: "expires_at < @cutoff"},
	{Table: "lti_registration_tokens", Keep: day, Stale: "expires_at < @cutoff"},
}

// signUpRefill is how long an emptied sign-up bucket takes to fill again.
var signUpRefill = time.Duration(signUpLimit.burst / signUpLimit.perSecond * float64(time.Second))

// pruneBatch bounds one DELETE, so pruning a large backlog holds no lock
// for long and never fills the WAL in one go.
const pruneBatch = 5000

// Prune deletes what pruneRules call stale as of now and returns how many
// rows went from each table. A daily job calls it; it is safe to run on
// every instance at once.
func Prune(ctx context.Context, db *gorm.DB, now time.Time) (map[string]int64, error) {
	deleted := map[string]int64{}
	for _, r := range pruneRules {
		query := fmt.Sprintf( // #nosec G201 -- table and condition are constants of this file, never input
			`DELETE FROM %[1]s WHERE ctid IN (SELECT ctid FROM %[1]s WHERE %[2]s LIMIT %[3]d)`, r.Table, r.Stale, pruneBatch)
		for {
			res := db.WithContext(ctx).Exec(query, sql.Named("cutoff", now.Add(-r.Keep)))
			if res.Error != nil {
				return deleted, fmt.Errorf("prune %s: %w", r.Table, res.Error)
			}
			deleted[r.Table] += res.RowsAffected
			if res.RowsAffected < pruneBatch {
				break
			}
		}
	}
	return deleted, nil
}
