package accounts

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"math"
	"net/netip"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/baton-course/baton/server/problem"
)

// A limit on failed sign-ins for one kind of key: after threshold failures
// inside window, each further failure blocks the key for base·2^k, capped.
type limit struct {
	prefix    string
	threshold int
	base, cap time.Duration
}

// These limits judge sign-ins from clients without a device cookie of the
// account (see device.go); they may block such clients, that is their point,
// but every block is capped, so none is permanent. The pair limit stops
// guessing at one account from one address; the account limit catches
// guessing spread over a few addresses, and can be strict because it never
// stands between the owner and a device they signed in from before; the
// address limit catches one address trying many accounts.
var (
	pairLimit    = limit{prefix: "pair:", threshold: 5, base: 30 * time.Second, cap: 15 * time.Minute}
	accountLimit = limit{prefix: "account:", threshold: 10, base: 30 * time.Second, cap: 5 * time.Minute}
	addressLimit = limit{prefix: "address:", threshold: 50, base: time.Minute, cap: 15 * time.Minute}
	failWindow   = 15 * time.Minute
)

// name is what the audit log calls the limit.
func (l limit) name() string { return strings.TrimSuffix(l.prefix, ":") }

type throttleKeys struct {
	email, ip              string // as counted and logged
	pair, account, address string
}

func keysFor(email, ip string) throttleKeys {
	email = throttleEmail(email)
	return throttleKeys{
		email:   email,
		ip:      ip,
		pair:    pairLimit.prefix + email + "|" + ip,
		account: accountLimit.prefix + email,
		address: addressLimit.prefix + ip,
	}
}

// throttleEmail is the email as keys and the audit log hold it: no account
// has an address over 254 bytes, so a longer one (a stranger's megabyte) is
// replaced by its digest rather than stored.
func throttleEmail(email string) string {
	if len(email) <= 254 {
		return email
	}
	sum := sha256.Sum256([]byte(email))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// verdict is how the limits judge a sign-in before its password is checked.
type verdict struct {
	trusted bool          // it presents a device token of the account, within the device limit
	wait    time.Duration // how long the account and address limits still block (0: not)
}

// refusal is the 429 for a sign-in the limits block, or nil.
func (v verdict) refusal() error {
	if v.trusted || v.wait <= 0 {
		return nil
	}
	return tooManySignIns(v.wait)
}

func tooManySignIns(wait time.Duration) error {
	return &problem.Error{Code: problem.TooMany, Detail: "Too many failed sign-ins. Wait before trying again.", RetryAfter: wait}
}

// judgeSignIn reads, in one statement, whether the device token (its SHA-256; nil
// for none) is trusted for the account of k and how long k's limits block.
func judgeSignIn(ctx context.Context, db *gorm.DB, k throttleKeys, device []byte) (verdict, error) {
	var row struct {
		Trusted      bool
		BlockedUntil sql.NullTime
	}
	err := db.WithContext(ctx).Raw(`
		SELECT EXISTS (SELECT 1 FROM device_tokens d JOIN users u ON u.id = d.user_id
		               WHERE d.token_hash = ? AND u.email = ? AND d.failures < ? AND d.expires_at > now()) AS trusted,
		       (SELECT max(blocked_until) FROM login_throttle
		        WHERE key IN (?, ?, ?) AND blocked_until > now()) AS blocked_until`,
		device, k.email, deviceFailureLimit, k.pair, k.account, k.address).Scan(&row).Error
	v := verdict{trusted: row.Trusted}
	if row.BlockedUntil.Valid {
		v.wait = time.Until(row.BlockedUntil.Time)
	}
	return v, err
}

// lock is a key that a failure just blocked, for the audit log.
type lock struct {
	limit string
	block time.Duration // 0: a device token, which is not blocked but distrusted
}

// recordFailure counts a failed sign-in against every key in one statement
// and blocks those past their threshold, answering which it blocked. Every
// recorded failure comes while no key of the sign-in blocks (a blocked one
// is refused before), so each block is a key becoming blocked.
func recordFailure(ctx context.Context, db *gorm.DB, k throttleKeys) ([]lock, error) {
	var counts []struct {
		Key      string
		Failures int
	}
	err := db.WithContext(ctx).Raw(`
		INSERT INTO login_throttle AS t (key, failures, window_started_at) VALUES (?, 1, now()), (?, 1, now()), (?, 1, now())
		ON CONFLICT (key) DO UPDATE SET
		  failures = CASE WHEN t.window_started_at < now() - make_interval(secs => ?) AND (t.blocked_until IS NULL OR t.blocked_until < now())
		                  THEN 1 ELSE t.failures + 1 END,
		  window_started_at = CASE WHEN t.window_started_at < now() - make_interval(secs => ?) AND (t.blocked_until IS NULL OR t.blocked_until < now())
		                  THEN now() ELSE t.window_started_at END
		RETURNING key, failures`, k.pair, k.account, k.address, failWindow.Seconds(), failWindow.Seconds()).Scan(&counts).Error
	if err != nil {
		return nil, err
	}
	limits := map[string]limit{k.pair: pairLimit, k.account: accountLimit, k.address: addressLimit}
	var locks []lock
	for _, c := range counts {
		l := limits[c.Key]
		if c.Failures < l.threshold {
			continue
		}
		block := backoff(l, c.Failures)
		if err := db.WithContext(ctx).Exec(
			`UPDATE login_throttle SET blocked_until = now() + make_interval(secs => ?) WHERE key = ?`,
			block.Seconds(), c.Key).Error; err != nil {
			return locks, err
		}
		locks = append(locks, lock{limit: l.name(), block: block})
	}
	return locks, nil
}

func backoff(l limit, failures int) time.Duration {
	exp := math.Min(float64(failures-l.threshold), 20)
	return min(time.Duration(float64(l.base)*math.Pow(2, exp)), l.cap)
}

// recordSuccess clears the counters a legitimate sign-in should reset; the
// address counter decays on its own so one good password cannot launder a
// spray of guesses. It runs in the sign-in's transaction.
func recordSuccess(tx *gorm.DB, k throttleKeys) error {
	return tx.Exec(`DELETE FROM login_throttle WHERE key IN (?, ?)`, k.pair, k.account).Error
}

// ClearThrottle forgets the failed sign-ins counted against the account of
// email, from every address. A password reset calls it: the owner has just
// proved they hold the mailbox, and the failures that may have led them to
// reset (theirs or a stranger's) must not keep them out. The address limits
// stay, being about the addresses rather than the account.
func ClearThrottle(ctx context.Context, db *gorm.DB, email string) error {
	k := keysFor(NormalizeEmail(email), "")
	return db.WithContext(ctx).Exec(`DELETE FROM login_throttle WHERE key = ? OR key LIKE ?`,
		k.account, escapeLike(k.pair)+"%").Error
}

// A token bucket per key: burst actions at once, then perSecond.
type bucket struct {
	prefix    string
	burst     float64
	perSecond float64
}

// signUpLimit keeps what API.md promises, that sign-ups from one address are
// not limited below 60 a minute (a classroom behind one NAT signs up at
// once), and refuses a script registering accounts by the thousand.
var signUpLimit = bucket{prefix: "signup:", burst: 60, perSecond: 1}

// ssoStartLimit bounds the single sign-ons one address can start: each
// stores a state row before anyone has signed in, so without a limit a
// script could fill the table. A company's office behind one NAT arriving
// at 9:00 is the burst it must allow, as for sign-ups.
var ssoStartLimit = bucket{prefix: "sso-start:", burst: 60, perSecond: 1}

// take spends one token of key's bucket, or answers how long until one is
// there. The bucket lives in PostgreSQL so the limit holds across instances;
// the upsert locks the row, so simultaneous requests cannot spend one token
// twice.
func take(ctx context.Context, db *gorm.DB, b bucket, key string) (time.Duration, error) {
	const refilled = `least(?::float8, b.tokens + greatest(extract(epoch FROM now() - b.updated_at)::float8, 0) * ?::float8)`
	var left []float64
	err := db.WithContext(ctx).Raw(`
		INSERT INTO rate_buckets AS b (key, tokens, updated_at) VALUES (?, ?::float8 - 1, now())
		ON CONFLICT (key) DO UPDATE SET tokens = `+refilled+` - 1, updated_at = now()
		WHERE `+refilled+` >= 1
		RETURNING tokens`, key, b.burst, b.burst, b.perSecond, b.burst, b.perSecond).Scan(&left).Error
	if err != nil || len(left) == 1 {
		return 0, err
	}
	var now float64
	if err := db.WithContext(ctx).Raw(`SELECT `+refilled+` FROM rate_buckets b WHERE key = ?`,
		b.burst, b.perSecond, key).Scan(&now).Error; err != nil {
		return 0, err
	}
	return time.Duration((1 - now) / b.perSecond * float64(time.Second)), nil
}

// AllowSignUp spends one sign-up of the client address ip, or answers 429
// with Retry-After. Every attempt counts, taken or not, so the limit also
// slows a script probing which emails have accounts.
func (s *Service) AllowSignUp(ctx context.Context, ip string) error {
	return s.allow(ctx, signUpLimit, ip, "Too many sign-ups from this address. Wait before trying again.")
}

// allow spends one token of ip's bucket b, or answers 429 saying refusal,
// with Retry-After.
func (s *Service) allow(ctx context.Context, b bucket, ip, refusal string) error {
	wait, err := take(ctx, s.db, b, b.prefix+addressOf(ip))
	if err != nil || wait <= 0 {
		return err
	}
	return &problem.Error{Code: problem.TooMany, Detail: refusal, RetryAfter: max(wait, time.Second)}
}

// AllowSSOStart spends one single sign-on start of the client address ip,
// or answers 429 with Retry-After.
func (s *Service) AllowSSOStart(ctx context.Context, ip string) error {
	return s.allow(ctx, ssoStartLimit, ip, "Too many sign-ins started from this address. Wait before trying again.")
}

// addressOf is the unit a per-address limit counts: the IPv4 address, or the
// IPv6 /64 (one site's prefix, whose 2^64 addresses one client can rotate
// through).
func addressOf(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	if a = a.Unmap(); a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}
