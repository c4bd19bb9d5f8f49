package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/database"
)

// signInFrom signs in to email with password from the address remote,
// presenting device as the device cookie unless it is "".
func signInFrom(t testing.TB, h http.Handler, remote, email, password, device string) response {
	t.Helper()
	return callWith(t, h, func(r *http.Request) {
		r.RemoteAddr = remote
		if device != "" {
			r.AddCookie(&http.Cookie{Name: "baton_device", Value: device})
		}
	}, "POST", "/api/auth/login", map[string]string{"email": email, "password": password})
}

// retryAfter is the Retry-After of a 429, in seconds.
func retryAfter(t testing.TB, r response) int {
	t.Helper()
	assertProblem(t, r, 429)
	secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || secs < 1 {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	return secs
}

// attackerRound lets the blocks lapse, as if minutes had passed, then fails
// once more from a fresh address: the account key is blocked again.
func attackerRound(t *testing.T, h http.Handler, db *database.DB, email string, round int) {
	t.Helper()
	if err := db.Gorm.Exec(`UPDATE login_throttle SET blocked_until = now() - interval '1 second',
		window_started_at = window_started_at - interval '4 minutes'`).Error; err != nil {
		t.Fatal(err)
	}
	r := signInFrom(t, h, fmt.Sprintf("203.0.113.%d:4000", 100+round), email, "attacker-guess-here", "")
	assertProblem(t, r, 401)
}

// M4: an attacker failing 5 times from each of 3 addresses, and then once
// every few minutes, used to lock the owner out everywhere. Now the owner
// signing in with a device cookie from an earlier sign-in gets in whatever
// the attacker does; the owner without one waits at most the account
// limit's cap (untrusted clients are slowed, by design, never for good);
// after a password reset the owner gets in and is given a device cookie.
func TestNobodyCanLockTheOwnerOut(t *testing.T) {
	t.Parallel()
	s, db := newTestServer(t)
	h := s.Handler()
	owner := signUp(t, h, db, "")
	const laptop, phone = "198.51.100.20:1000", "198.51.100.30:1000"
	r := signInFrom(t, h, laptop, owner.Email, testPassword, "")
	device := cookieOf(r, "baton_device")
	if r.Status != 200 || device == nil || device.Value == "" {
		t.Fatalf("sign-in: %d, device cookie %v", r.Status, device)
	}
	if !device.HttpOnly || device.SameSite != http.SameSiteStrictMode || device.Path != "/api/auth/login" || device.MaxAge < 24*3600 {
		t.Fatalf("device cookie %+v", device)
	}

	for i := 1; i <= 3; i++ {
		for range 5 {
			r := signInFrom(t, h, fmt.Sprintf("203.0.113.%d:4000", i), owner.Email, "attacker-guess-here", "")
			if r.Status != 401 && r.Status != 429 {
				t.Fatalf("attacker's guess: %d %s", r.Status, r.Body)
			}
		}
	}
	for round := range 3 {
		if round > 0 {
			attackerRound(t, h, db, owner.Email, round)
		}
		if secs := retryAfter(t, signInFrom(t, h, phone, owner.Email, testPassword, "")); secs > 300 {
			t.Fatalf("round %d: the owner without a device cookie waits %d s, beyond the account limit's 5 min cap", round, secs)
		}
		r := signInFrom(t, h, laptop, owner.Email, testPassword, device.Value)
		if r.Status != 200 {
			t.Fatalf("round %d: the owner with a device cookie: %d %s", round, r.Status, r.Body)
		}
		if again := cookieOf(r, "baton_device"); again == nil || again.Value != device.Value {
			t.Fatalf("round %d: the device cookie was not renewed: %v", round, again)
		}
		// The cookie works from any address, the attacker's own included.
		if r := signInFrom(t, h, "203.0.113.1:4000", owner.Email, testPassword, device.Value); r.Status != 200 {
			t.Fatalf("round %d: the owner with a device cookie on the attacker's network: %d", round, r.Status)
		}
	}

	// A device cookie counts for its own account only.
	other := signUp(t, h, db, "")
	retryAfter(t, signInFrom(t, h, laptop, owner.Email, testPassword, other.device(t, h)))

	// A password reset forgets the account's failures: the owner gets in
	// from the phone and is given a device cookie, which then holds when
	// the attacker blocks the account again.
	if err := accounts.ClearThrottle(context.Background(), db.Gorm, strings.ToUpper(owner.Email)); err != nil {
		t.Fatal(err)
	}
	r = signInFrom(t, h, phone, owner.Email, testPassword, "")
	phoneDevice := cookieOf(r, "baton_device")
	if r.Status != 200 || phoneDevice == nil || phoneDevice.Value == device.Value {
		t.Fatalf("after the reset: %d, device cookie %v", r.Status, phoneDevice)
	}
	for _, ip := range []string{"203.0.113.50", "203.0.113.51"} {
		for range 5 {
			signInFrom(t, h, ip+":4000", owner.Email, "attacker-guess-here", "")
		}
	}
	retryAfter(t, signInFrom(t, h, "198.51.100.99:1", owner.Email, testPassword, ""))
	if r := signInFrom(t, h, phone, owner.Email, testPassword, phoneDevice.Value); r.Status != 200 {
		t.Fatalf("after the reset, with the new device cookie: %d", r.Status)
	}
}

// device signs a in again to get a device cookie.
func (a account) device(t testing.TB, h http.Handler) string {
	t.Helper()
	r := signInFrom(t, h, "198.51.100.200:1", a.Email, testPassword, "")
	if c := cookieOf(r, "baton_device"); r.Status == 200 && c != nil {
		return c.Value
	}
	t.Fatalf("no device cookie: %d", r.Status)
	return ""
}

// Someone holding the owner's device cookie gets the device limit's guesses
// and no more, even all at once; then the cookie is worth nothing and
// sign-ins with it meet the ordinary limits.
func TestADeviceCookieGivesFewGuesses(t *testing.T) {
	t.Parallel()
	s, db := newTestServer(t)
	h := s.Handler()
	owner := signUp(t, h, db, "")
	device := owner.device(t, h)
	var wg sync.WaitGroup
	var checked atomic.Int32
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := signInFrom(t, h, fmt.Sprintf("203.0.113.%d:1", i), owner.Email, "a-wrong-guess-here", device)
			switch r.Status {
			case 401:
				checked.Add(1)
			case 429:
			default:
				t.Errorf("guess: %d %s", r.Status, r.Body)
			}
		}()
	}
	wg.Wait()
	// Five failures spend the cookie's trust; the rest count as untrusted
	// guesses (up to the account limit's ten).
	if n := checked.Load(); n > 5+10+int32(s.svc.Accounts.Hasher().MaxConcurrent()) {
		t.Fatalf("%d guesses were checked", n)
	}
	var failures int
	db.Gorm.Raw(`SELECT failures FROM device_tokens WHERE user_id = ?`, owner.ID).Scan(&failures)
	if failures != 5 {
		t.Fatalf("the device token counted %d failures, want exactly its limit of 5", failures)
	}
	retryAfter(t, signInFrom(t, h, "198.51.100.1:1", owner.Email, testPassword, device))
	var locks int64
	db.Gorm.Raw(`SELECT count(*) FROM audit_events WHERE action = 'auth.lock' AND details->>'limit' = 'device' AND subject = ?`,
		"user:"+owner.ID).Scan(&locks)
	if locks != 1 {
		t.Fatalf("%d device locks in the audit log, want 1", locks)
	}
}

// M7: one address signs up 60 times, as fast as it can, and every one is
// taken; the next are refused with 429 and Retry-After, bar the one-a-second
// refill of the time the 60 took. Another address is not affected.
func TestSignUpsArePerAddressLimited(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	h := s.Handler()
	register := func(remote string, i int) response {
		return callFrom(t, h, remote, "POST", "/api/auth/register",
			map[string]string{"email": fmt.Sprintf("burst%d-%d@example.com", i, emailSeq.Add(1)), "password": testPassword, "name": "Burst"})
	}
	start := time.Now()
	for i := range 60 {
		if r := register("203.0.113.77:1", i); r.Status != 201 {
			t.Fatalf("sign-up %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	refilled := 0
	for {
		r := register("203.0.113.77:1", 60+refilled)
		if r.Status == 429 {
			if secs := retryAfter(t, r); secs > 60 {
				t.Fatalf("Retry-After %d s", secs)
			}
			break
		}
		if r.Status != 201 {
			t.Fatalf("sign-up past 60: %d %s", r.Status, r.Body)
		}
		if refilled++; refilled > int(time.Since(start).Seconds())+1 {
			t.Fatalf("%d sign-ups past 60 within %s", refilled, time.Since(start))
		}
	}
	if r := register("203.0.113.78:1", 0); r.Status != 201 {
		t.Fatalf("another address: %d", r.Status)
	}
}

// M7: 120 sign-ups from 120 addresses at once used to make a real sign-in
// wait 8 s behind them for a hashing slot. The test holds every slot, lets
// the sign-ups and then the sign-in queue, and frees one slot: the sign-in
// takes it and completes while all 120 sign-ups still wait (the slot comes
// back to the test's own waiter, queued after the sign-in). Then every
// sign-up completes too.
func TestSignUpStormLeavesSignInsFirst(t *testing.T) {
	t.Parallel()
	s, db := newTestServer(t)
	h := s.Handler()
	owner := signUp(t, h, db, "")
	hasher := s.svc.Accounts.Hasher()
	ctx := context.Background()
	var held []func()
	for range hasher.MaxConcurrent() {
		release, err := hasher.Hold(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, release)
	}
	waitUntil := func(what string, cond func(in, up int) bool) {
		t.Helper()
		for deadline := time.Now().Add(8 * time.Second); !cond(hasher.Waiting()); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				in, up := hasher.Waiting()
				t.Fatalf("timed out waiting for %s (%d sign-ins, %d sign-ups wait)", what, in, up)
			}
		}
	}
	var wg sync.WaitGroup
	statuses := make(chan int, 120)
	for i := range 120 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- callFrom(t, h, fmt.Sprintf("10.0.%d.%d:1", i/200, i%200+1), "POST", "/api/auth/register",
				map[string]string{"email": fmt.Sprintf("storm%d-%d@example.com", i, emailSeq.Add(1)), "password": testPassword, "name": "Storm"}).Status
		}()
	}
	waitUntil("120 queued sign-ups", func(_, up int) bool { return up == 120 })
	signedIn := make(chan response, 1)
	go func() { signedIn <- signInFrom(t, h, "198.51.100.5:1", owner.Email, testPassword, "") }()
	waitUntil("the sign-in to queue", func(in, _ int) bool { return in == 1 })
	reclaimed := make(chan func(), 1)
	go func() {
		release, err := hasher.Hold(ctx, "")
		if err != nil {
			t.Error(err)
		}
		reclaimed <- release
	}()
	waitUntil("the test's waiter to queue", func(in, _ int) bool { return in == 2 })

	held[0]()
	if r := <-signedIn; r.Status != 200 {
		t.Fatalf("sign-in: %d %s", r.Status, r.Body)
	}
	held[0] = <-reclaimed
	if in, up := hasher.Waiting(); in != 0 || up != 120 {
		t.Fatalf("when the sign-in was done, %d sign-ins and %d sign-ups waited; want 0 and all 120", in, up)
	}
	for _, release := range held {
		release()
	}
	wg.Wait()
	close(statuses)
	for st := range statuses {
		if st != 201 {
			t.Fatalf("a sign-up of the storm got %d", st)
		}
	}
}

// Sign-ins are security events with the account and address: success,
// failure and a limit becoming blocked; an admin reads them in the audit log.
// The sign-in path stays a handful of statements, and a refused attempt costs
// one.
func TestSignInSecurityEventsAndStatements(t *testing.T) {
	t.Parallel()
	s, db := newTestServer(t)
	h := s.Handler()
	admin := signUp(t, h, db, "admin")
	owner := signUp(t, h, db, "")

	n := countQueries(db)
	r := signInFrom(t, h, "198.51.100.1:1", owner.Email, testPassword, "")
	untrusted := n()
	device := cookieOf(r, "baton_device").Value
	n = countQueries(db)
	signInFrom(t, h, "198.51.100.1:1", owner.Email, testPassword, device)
	trusted := n()
	for range 5 {
		signInFrom(t, h, "203.0.113.9:1", owner.Email, "attacker-guess-here", "")
	}
	n = countQueries(db)
	retryAfter(t, signInFrom(t, h, "203.0.113.9:1", owner.Email, testPassword, ""))
	refused := n()
	t.Logf("statements: sign-in %d, with a device cookie %d, refused %d", untrusted, trusted, refused)
	if untrusted > 10 || trusted > 9 || refused != 1 {
		t.Fatalf("statements: sign-in %d (want ≤ 10), with a device cookie %d (≤ 9), refused %d (1)", untrusted, trusted, refused)
	}

	type event struct {
		Action, Subject string
		Email, IP       string
		Device          bool
		Limit           string
	}
	var events []event
	db.Gorm.Raw(`SELECT action, subject, details->>'email' AS email, details->>'ip' AS ip,
		coalesce((details->>'device')::boolean, false) AS device, coalesce(details->>'limit', '') AS limit
		FROM audit_events WHERE action LIKE 'auth.%' ORDER BY id`).Scan(&events)
	want := []event{
		{"auth.sign_in", "user:" + admin.ID, admin.Email, "192.0.2.1", false, ""}, // signUp signs the admin in again for the role
		{"auth.sign_in", "user:" + owner.ID, owner.Email, "198.51.100.1", false, ""},
		{"auth.sign_in", "user:" + owner.ID, owner.Email, "198.51.100.1", true, ""},
	}
	for range 4 {
		want = append(want, event{"auth.sign_in_failed", "user:" + owner.ID, owner.Email, "203.0.113.9", false, ""})
	}
	want = append(want,
		event{"auth.sign_in_failed", "user:" + owner.ID, owner.Email, "203.0.113.9", false, ""},
		event{"auth.lock", "user:" + owner.ID, owner.Email, "203.0.113.9", false, "pair"})
	if fmt.Sprint(events) != fmt.Sprint(want) {
		t.Fatalf("security events\n got %v\nwant %v", events, want)
	}
	// A stranger's email is logged as tried, bounded.
	signInFrom(t, h, "203.0.113.10:1", strings.Repeat("x", 300)+"@example.com", "whatever-it-is", "")
	var subject string
	db.Gorm.Raw(`SELECT subject FROM audit_events ORDER BY id DESC LIMIT 1`).Scan(&subject)
	if !strings.HasPrefix(subject, "email:sha256:") || len(subject) > 80 {
		t.Fatalf("unknown long email logged as %q", subject)
	}
	if r := call(t, h, "GET", "/api/audit", nil, admin.auth()...); !strings.Contains(string(r.Body), `"action":"auth.lock"`) ||
		!strings.Contains(string(r.Body), `"ip":"203.0.113.9"`) {
		t.Fatalf("the audit log does not show the sign-in events: %.300s", r.Body)
	}
}

// Simultaneous sign-ins of one account from clients without a cookie jar
// all succeed (pruning old device tokens never makes them wait for, or
// deadlock with, each other), and the account keeps at most 20 device
// tokens.
func TestSimultaneousSignInsKeepFewDevices(t *testing.T) {
	t.Parallel()
	s, db := newTestServer(t)
	h := s.Handler()
	owner := signUp(t, h, db, "")
	for round := range 2 {
		var wg sync.WaitGroup
		for i := range 30 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if r := signInFrom(t, h, fmt.Sprintf("198.51.100.%d:1", i+1), owner.Email, testPassword, ""); r.Status != 200 {
					t.Errorf("round %d, sign-in %d: %d %s", round, i, r.Status, r.Body)
				}
			}()
		}
		wg.Wait()
	}
	signInFrom(t, h, "198.51.100.1:1", owner.Email, testPassword, "") // one alone prunes what the others skipped
	var n int64
	db.Gorm.Raw(`SELECT count(*) FROM device_tokens WHERE user_id = ?`, owner.ID).Scan(&n)
	if n > 20 {
		t.Fatalf("%d device tokens kept, want at most 20", n)
	}
}
