package accounts

import (
	"context"
	"database/sql"
	"math"
	"time"

	"gorm.io/gorm"
)

// A limit on failed sign-ins for one kind of key: after threshold failures
// inside window, each further failure blocks the key for base·2^k, capped.
type limit struct {
	prefix    string
	threshold int
	base, cap time.Duration
}

// The pair limit stops guessing at one account from one address without
// letting that attacker lock out the owner elsewhere; the account limit,
// higher and shorter, catches guessing spread over many addresses; the
// address limit catches one address trying many accounts.
var (
	pairLimit    = limit{prefix: "pair:", threshold: 5, base: 30 * time.Second, cap: 15 * time.Minute}
	accountLimit = limit{prefix: "account:", threshold: 20, base: 30 * time.Second, cap: 5 * time.Minute}
	addressLimit = limit{prefix: "address:", threshold: 50, base: time.Minute, cap: 15 * time.Minute}
	failWindow   = 15 * time.Minute
)

type throttleKeys struct{ pair, account, address string }

func keysFor(email, ip string) throttleKeys {
	return throttleKeys{
		pair:    pairLimit.prefix + email + "|" + ip,
		account: accountLimit.prefix + email,
		address: addressLimit.prefix + ip,
	}
}

// blockedFor returns how long sign-in stays blocked for these keys (0: not).
func blockedFor(ctx context.Context, db *gorm.DB, k throttleKeys) (time.Duration, error) {
	var until sql.NullTime
	err := db.WithContext(ctx).Raw(
		`SELECT max(blocked_until) FROM login_throttle WHERE key IN (?, ?, ?) AND blocked_until > now()`,
		k.pair, k.account, k.address).Scan(&until).Error
	if err != nil || !until.Valid {
		return 0, err
	}
	return time.Until(until.Time), nil
}

// recordFailure counts a failed sign-in against every key and blocks those
// past their threshold.
func recordFailure(ctx context.Context, db *gorm.DB, k throttleKeys) error {
	for _, item := range []struct {
		key string
		l   limit
	}{{k.pair, pairLimit}, {k.account, accountLimit}, {k.address, addressLimit}} {
		var failures int
		err := db.WithContext(ctx).Raw(`
			INSERT INTO login_throttle AS t (key, failures, window_started_at) VALUES (?, 1, now())
			ON CONFLICT (key) DO UPDATE SET
			  failures = CASE WHEN t.window_started_at < now() - make_interval(secs => ?) AND (t.blocked_until IS NULL OR t.blocked_until < now())
			                  THEN 1 ELSE t.failures + 1 END,
			  window_started_at = CASE WHEN t.window_started_at < now() - make_interval(secs => ?) AND (t.blocked_until IS NULL OR t.blocked_until < now())
			                  THEN now() ELSE t.window_started_at END
			RETURNING failures`, item.key, failWindow.Seconds(), failWindow.Seconds()).Scan(&failures).Error
		if err != nil {
			return err
		}
		if failures < item.l.threshold {
			continue
		}
		block := backoff(item.l, failures)
		if err := db.WithContext(ctx).Exec(
			`UPDATE login_throttle SET blocked_until = now() + make_interval(secs => ?) WHERE key = ?`,
			block.Seconds(), item.key).Error; err != nil {
			return err
		}
	}
	return nil
}

func backoff(l limit, failures int) time.Duration {
	exp := math.Min(float64(failures-l.threshold), 20)
	return min(time.Duration(float64(l.base)*math.Pow(2, exp)), l.cap)
}

// recordSuccess clears the counters a legitimate sign-in should reset; the
// address counter decays on its own so one good password cannot launder a
// spray of guesses.
func recordSuccess(ctx context.Context, db *gorm.DB, k throttleKeys) error {
	return db.WithContext(ctx).Exec(`DELETE FROM login_throttle WHERE key IN (?, ?)`, k.pair, k.account).Error
}
