package accounts

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// Device tokens follow OWASP's "Slow down online guessing with device
// cookies": a sign-in that succeeds hands the browser a random token bound
// to the account (kept in an HttpOnly cookie; stored only as its SHA-256).
// A later sign-in to that account presenting it is judged by that token's
// own failures alone, never by the account and address limits that
// strangers can trip, so nobody can lock the owner out of a device they
// signed in from before. A token that fails deviceFailureLimit times in a
// row is trusted no more: whoever holds it meets the ordinary limits.
const (
	deviceTTL          = 180 * 24 * time.Hour // renewed at every sign-in with it
	deviceFailureLimit = 5
	devicesPerUser     = 20 // the most recently used are kept
)

// DeviceTTL is how long a device token is good for after its last sign-in.
func DeviceTTL() time.Duration { return deviceTTL }

// deviceHash is what the database holds for a device token; nil for none.
func deviceHash(raw string) []byte {
	if raw == "" {
		return nil
	}
	return hashToken(raw)
}

// keepDevice runs in a sign-in's transaction: a trusted token (raw, the
// client's) starts counting failures afresh and lives another deviceTTL; a
// new one is stored for the user, and the user's tokens beyond the newest
// devicesPerUser, or expired, go.
func keepDevice(tx *gorm.DB, userID, raw string, trusted bool) error {
	expires := time.Now().Add(deviceTTL)
	if trusted {
		return tx.Exec(`UPDATE device_tokens SET failures = 0, used_at = now(), expires_at = ? WHERE token_hash = ?`,
			expires, hashToken(raw)).Error
	}
	// The DELETE sees the table as it was before the INSERT, so it keeps
	// devicesPerUser-1 older tokens beside the new one. It skips the rows
	// that simultaneous sign-ins of the same account are deleting: waiting
	// for them could deadlock, and they are going anyway.
	return tx.Exec(`
		WITH fresh AS (INSERT INTO device_tokens (user_id, expires_at, token_hash) VALUES (?, ?, ?)),
		gone AS (SELECT token_hash FROM device_tokens WHERE user_id = ? AND (expires_at < now() OR token_hash NOT IN (
		           SELECT token_hash FROM device_tokens WHERE user_id = ? ORDER BY used_at DESC LIMIT ?))
		         FOR UPDATE SKIP LOCKED)
		DELETE FROM device_tokens WHERE token_hash IN (SELECT token_hash FROM gone)`,
		userID, expires, hashToken(raw), userID, userID, devicesPerUser-1).Error
}

// recordDeviceFailure counts a failed sign-in against a trusted device token;
// a lock is returned when the failure used up the token's trust.
func recordDeviceFailure(ctx context.Context, db *gorm.DB, hash []byte) ([]lock, error) {
	var failures []int
	err := db.WithContext(ctx).Raw(`UPDATE device_tokens SET failures = failures + 1 WHERE token_hash = ? RETURNING failures`,
		hash).Scan(&failures).Error
	if err != nil || len(failures) == 0 || failures[0] < deviceFailureLimit {
		return nil, err
	}
	return []lock{{limit: "device"}}, nil
}
