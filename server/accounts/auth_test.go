package accounts

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/baton-course/baton/server/memlimit"
	"github.com/baton-course/baton/server/problem"
	"github.com/baton-course/baton/server/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

func TestPasswordRules(t *testing.T) {
	cases := []struct {
		password, email, name string
		ok                    bool
	}{
		{"correct-llama-timetable", "ann@example.com", "Ann", true},
		{"short1!", "ann@example.com", "Ann", false},
		{strings.Repeat("x", 129), "ann@example.com", "Ann", false},
		{"password1234", "ann@example.com", "Ann", false},
		{"Password!!2024", "ann@example.com", "Ann", false}, // a common stem padded
		{"qwertyuiop123", "ann@example.com", "Ann", false},
		{"123456789012", "ann@example.com", "Ann", false},
		{"zzzzzzzzzzzzzz", "ann@example.com", "Ann", false},
		{"abcdefghijklmn", "ann@example.com", "Ann", false},
		{"annabelle-rocks-9", "annabelle@example.com", "Ann", false}, // contains the email's local part
		{"Ann Jones Smith", "x@example.com", "Ann Jones Smith", false},
		{"ünïcödé-pässwörd", "ann@example.com", "Ann", true},
	}
	for _, tc := range cases {
		got := PasswordProblem(tc.password, tc.email, tc.name)
		if (got == "") != tc.ok {
			t.Errorf("%q: problem %q, want ok=%v", tc.password, got, tc.ok)
		}
	}
}

func TestHashAndVerify(t *testing.T) {
	h := NewHasher(HashCost{})
	ctx := context.Background()
	enc, err := h.Hash(ctx, "a long enough secret")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash format %q", enc)
	}
	if ok, _ := h.Verify(ctx, "a long enough secret", enc); !ok {
		t.Fatal("right password rejected")
	}
	if ok, _ := h.Verify(ctx, "a long enough secreT", enc); ok {
		t.Fatal("wrong password accepted")
	}
	if ok, _ := h.Verify(ctx, "anything", ""); ok {
		t.Fatal("missing user accepted")
	}
	if _, err := h.Verify(ctx, "x", "$argon2id$garbage"); err == nil {
		t.Fatal("malformed hash accepted")
	}
}

// While a hash runs, the soft memory limit is raised by the hash's memory
// (argon2id allocates it all at once), and put back when it ends, for
// hashing a new password and for checking one alike.
func TestHashRaisesTheMemoryLimitWhileItRuns(t *testing.T) {
	const base = 64 << 20
	hashMem := int64(DefaultHashCost.MemoryKiB) * 1024
	stop := memlimit.Manage(base)
	defer stop()
	h := NewHasher(HashCost{})
	ctx := context.Background()
	var enc string
	for _, hash := range []struct {
		name string
		run  func()
	}{
		{"hash", func() { enc, _ = h.Hash(ctx, "a long enough secret") }},
		{"verify", func() { _, _ = h.Verify(ctx, "a long enough secret", enc) }},
	} {
		done := make(chan struct{})
		go func() { defer close(done); hash.run() }()
		raised := false
		for finished := false; !finished; {
			select {
			case <-done:
				finished = true
			case <-time.After(50 * time.Microsecond):
			}
			raised = raised || memlimit.Limit() == base+hashMem
		}
		if !raised {
			t.Errorf("%s: the limit never rose to the base plus %d bytes while it ran", hash.name, hashMem)
		}
		if got := memlimit.Limit(); got != base {
			t.Errorf("%s: after it the limit is %d, want the base %d", hash.name, got, base)
		}
	}
}

// The hasher never runs more hashes at once than its bound, however many
// callers of either priority arrive together.
func TestHasherBoundsConcurrency(t *testing.T) {
	h := NewHasher(HashCost{})
	var mu sync.Mutex
	running, peak := 0, 0
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.acquire(context.Background(), Priority(i%2), ""); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			running++
			peak = max(peak, running)
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
			mu.Lock()
			running--
			mu.Unlock()
			h.release(time.Now())
		}()
	}
	wg.Wait()
	if peak > h.MaxConcurrent() {
		t.Fatalf("peak %d above bound %d", peak, h.MaxConcurrent())
	}
	// A caller that gives up while waiting leaves without a slot.
	for range h.MaxConcurrent() {
		_, _ = h.acquire(context.Background(), PrioritySignIn, "")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "x"); err == nil {
		t.Fatal("hash ran past the bound")
	}
	if _, err := h.Verify(ctx, "x", ""); err == nil {
		t.Fatal("verify ran past the bound")
	}
	if in, up := h.Waiting(); in != 0 || up != 0 {
		t.Fatalf("callers that gave up still wait: %d sign-ins, %d sign-ups", in, up)
	}
	for range h.MaxConcurrent() {
		h.release(time.Now())
	}
	if _, err := h.Hash(context.Background(), "x"); err != nil {
		t.Fatalf("the slots were not all freed: %v", err)
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	prev := time.Duration(0)
	for f := pairLimit.threshold; f < pairLimit.threshold+30; f++ {
		b := backoff(pairLimit, f)
		if b < prev || b > pairLimit.cap {
			t.Fatalf("failures %d: backoff %s after %s", f, b, prev)
		}
		prev = b
	}
	if prev != pairLimit.cap {
		t.Fatalf("backoff never reaches the cap: %s", prev)
	}
}

func newRing(t *testing.T) *KeyRing {
	t.Helper()
	db := testdb.New(t)
	k, err := NewKeyRing(context.Background(), db.Gorm, 15*time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func validClaims() Claims {
	now := time.Now()
	return Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: Issuer, Audience: jwt.ClaimStrings{Audience}, Subject: "00000000-0000-0000-0000-000000000001",
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute)), IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ID: "j",
		},
		Role: RoleLearner, Session: "00000000-0000-0000-0000-000000000002",
	}
}

func sign(t *testing.T, method jwt.SigningMethod, claims jwt.Claims, kid string, key any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestVerifyRejectsForgeries covers RFC 8725's attacks: every one is refused.
func TestVerifyRejectsForgeries(t *testing.T) {
	k := newRing(t)
	ctx := context.Background()
	kid, secret := k.current, k.keys[k.current].secret

	good := sign(t, jwt.SigningMethodHS256, validClaims(), kid, secret)
	if _, err := k.Verify(ctx, good); err != nil {
		t.Fatalf("a valid token was refused: %v", err)
	}
	issued, _, err := k.Issue(ctx, "00000000-0000-0000-0000-000000000001", RoleManager, "00000000-0000-0000-0000-000000000002")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := k.Verify(ctx, issued); err != nil || c.Role != RoleManager || c.ID == "" || c.IssuedAt == nil {
		t.Fatalf("issued token: %+v %v", c, err)
	}

	with := func(mut func(*Claims)) Claims { c := validClaims(); mut(&c); return c }
	parts := strings.Split(good, ".")
	tampered := with(func(c *Claims) { c.Role = RoleAdmin })
	tamperedPayload := sign(t, jwt.SigningMethodHS256, tampered, kid, []byte("whatever"))
	forgedBody := parts[0] + "." + strings.Split(tamperedPayload, ".")[1] + "." + parts[2]
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"` + kid + `"}`))

	cases := map[string]string{
		"alg none":           noneHeader + "." + parts[1] + ".",
		"alg none signed":    sign(t, jwt.SigningMethodNone, validClaims(), kid, jwt.UnsafeAllowNoneSignatureType),
		"HS512 with the key": sign(t, jwt.SigningMethodHS512, validClaims(), kid, secret),
		"guessed key":        sign(t, jwt.SigningMethodHS256, validClaims(), kid, []byte("secretsecretsecretsecretsecret00")),
		"unknown kid":        sign(t, jwt.SigningMethodHS256, validClaims(), "nope", secret),
		"no kid":             sign(t, jwt.SigningMethodHS256, validClaims(), "", secret),
		"tampered payload":   forgedBody,
		"expired":            sign(t, jwt.SigningMethodHS256, with(func(c *Claims) { c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Minute)) }), kid, secret),
		"not yet valid":      sign(t, jwt.SigningMethodHS256, with(func(c *Claims) { c.NotBefore = jwt.NewNumericDate(time.Now().Add(time.Hour)) }), kid, secret),
		"issued in future":   sign(t, jwt.SigningMethodHS256, with(func(c *Claims) { c.IssuedAt = jwt.NewNumericDate(time.Now().Add(time.Hour)) }), kid, secret),
		"wrong issuer":       sign(t, jwt.SigningMethodHS256, with(func(c *Claims) { c.Issuer = "evil" }), kid, secret),
		"wrong audience":     sign(t, jwt.SigningMethodHS256, with(func(c *Claims) { c.Audience = jwt.ClaimStrings{"other-api"} }), kid, secret),
		"missing exp":        sign(t, jwt.SigningMethodHS256, with(func(c *Claims) { c.ExpiresAt = nil }), kid, secret),
		"missing subject":    sign(t, jwt.SigningMethodHS256, with(func(c *Claims) { c.Subject = "" }), kid, secret),
		"unknown role":       sign(t, jwt.SigningMethodHS256, with(func(c *Claims) { c.Role = "root" }), kid, secret),
		"garbage":            "not.a.token",
		"empty":              "",
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := k.Verify(ctx, tok); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// A token minted outside the ring with the ring's current key (as the load
// benchmark does) verifies through the ring; VerifyAccessToken refuses a kid
// it does not know.
func TestSigningKeyMintsRingTokens(t *testing.T) {
	k := newRing(t)
	ctx := context.Background()
	key := SigningKey{Kid: k.current, Secret: k.keys[k.current].secret}
	now := time.Now()
	tok, err := key.Sign(NewClaims("00000000-0000-0000-0000-000000000001", RoleLearner, "00000000-0000-0000-0000-000000000002", now, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	c, err := k.Verify(ctx, tok)
	if err != nil || c.Issuer != Issuer || c.Audience[0] != Audience || c.ID == "" || !c.ExpiresAt.After(now.Add(58*time.Second)) {
		t.Fatalf("minted token: %+v %v", c, err)
	}
	other := NewSigningKey()
	if _, err := VerifyAccessToken(tok, func(kid string) ([]byte, bool) { return other.Secret, kid == other.Kid }, time.Minute); err == nil {
		t.Fatal("a token verified against a key with another kid")
	}
}

// After a rotation, new tokens carry the new kid and old tokens still verify
// until they expire, on this instance and on one that loaded the keys later.
func TestKeyRotation(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	a, err := NewKeyRing(ctx, db.Gorm, time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	old, _, _ := a.Issue(ctx, "00000000-0000-0000-0000-000000000001", RoleLearner, "00000000-0000-0000-0000-000000000002")
	newKid, err := a.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewKeyRing(ctx, db.Gorm, time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.current != newKid {
		t.Fatalf("current kid %s, want %s", b.current, newKid)
	}
	fresh, _, _ := b.Issue(ctx, "00000000-0000-0000-0000-000000000001", RoleLearner, "00000000-0000-0000-0000-000000000002")
	for name, ring := range map[string]*KeyRing{"old instance": a, "new instance": b} {
		if _, err := ring.Verify(ctx, old); err != nil {
			t.Errorf("%s: token from the retired key refused: %v", name, err)
		}
	}
	// The instance that loaded before the rotation learns the new kid on sight.
	a.loadedAt = time.Now().Add(-2 * time.Second)
	if _, err := a.Verify(ctx, fresh); err != nil {
		t.Errorf("old instance refused a token from the new key: %v", err)
	}
	// Two instances starting on an empty database agree on one key.
	db2 := testdb.New(t)
	var wg sync.WaitGroup
	rings := make([]*KeyRing, 4)
	for i := range rings {
		wg.Add(1)
		go func() { defer wg.Done(); rings[i], _ = NewKeyRing(ctx, db2.Gorm, time.Minute, nil) }()
	}
	wg.Wait()
	for _, r := range rings {
		if r == nil || r.current != rings[0].current {
			t.Fatal("instances disagree on the signing key")
		}
	}
}

// A remembered token is honoured only while it is unexpired and its key is
// still in the ring; a caller changing the claims it got changes nothing.
func TestVerifiedTokensAreRememberedWithinLimits(t *testing.T) {
	k := newRing(t)
	ctx := context.Background()
	kid, secret := k.current, k.keys[k.current].secret
	good := sign(t, jwt.SigningMethodHS256, validClaims(), kid, secret)
	c, err := k.Verify(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	c.Role, c.Audience[0] = RoleAdmin, "other-api"
	c.ExpiresAt.Time = c.ExpiresAt.Add(time.Hour)
	again, ok := k.verified.get(good, time.Now(), k.hasKey)
	if !ok || again.Role != RoleLearner || again.Audience[0] != Audience || !again.ExpiresAt.Before(time.Now().Add(2*time.Minute)) {
		t.Fatalf("remembered claims %+v %v", again, ok)
	}
	again.Audience[0] = "changed"
	if third, _ := k.verified.get(good, time.Now(), k.hasKey); third.Audience[0] != Audience {
		t.Fatal("claims handed out share memory with the remembered entry")
	}
	if _, ok := k.verified.get(good, again.ExpiresAt.Add(time.Second), k.hasKey); ok {
		t.Fatal("an expired token was taken from memory")
	}
	k.mu.Lock()
	delete(k.keys, kid)
	k.loadedAt = time.Now() // no reload: the key is gone for this test
	k.mu.Unlock()
	if _, err := k.Verify(ctx, good); err == nil {
		t.Fatal("a token whose key left the ring still verified")
	}
}

func TestIsUUID(t *testing.T) {
	for s, want := range map[string]bool{
		"0190c1b2-7a3e-4f5d-9abc-DEF012345678":    true,
		"00000000-0000-0000-0000-000000000000":    true,
		"0190c1b2-7a3e-4f5d-9abc-def01234567":     false, // one short
		"0190c1b2-7a3e-4f5d-9abc-def0123456789":   false,
		"0190c1b27a3e-4f5d-9abc-def0123456789":    false, // dash moved
		"0190c1b2-7a3e-4f5d-9abc-def01234567g":    false,
		"0190c1b2-7a3e-4f5d-9abc\x00def012345678": false,
		"": false,
	} {
		if got := IsUUID(s); got != want {
			t.Errorf("IsUUID(%q) = %v", s, got)
		}
	}
}

// A sign-in storm larger than the machine can hash before the requests'
// deadline is refused at once, with when to try again (503, Retry-After),
// instead of queueing until its requests give up after their hash: a
// request that cannot be served in time costs no hash, and the ones that
// can are served.
func TestHasherRefusesWaitsPastTheDeadline(t *testing.T) {
	h := NewHasher(CheapHashCost)
	h.held = 200 * time.Millisecond // as if each sign-in held its slot that long
	for range h.MaxConcurrent() {
		if _, err := h.acquire(context.Background(), PrioritySignIn, ""); err != nil {
			t.Fatal(err)
		}
	}
	// Room for the wait (one slot's hold), the hash and the margin: it queues.
	roomy, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	queued := make(chan error, 1)
	go func() {
		_, err := h.acquire(roomy, PrioritySignIn, "")
		queued <- err
	}()
	waitFor(t, "the sign-in with time to queue", func() bool { in, _ := h.Waiting(); return in == 1 })
	// Behind it, a request with 600 ms left cannot get through in time.
	tight, cancel2 := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel2()
	began := time.Now()
	_, err := h.acquire(tight, PrioritySignIn, "")
	var pe *problem.Error
	if !errors.As(err, &pe) || pe.Code != problem.Unavailable || pe.RetryAfter < time.Second {
		t.Fatalf("a wait past the deadline: %v, want 503 with Retry-After", err)
	}
	if pe.RetryAfter > 2*time.Second {
		t.Errorf("Retry-After %s: past the moment the queue will have moved by what the request lacked", pe.RetryAfter)
	}
	if waited := time.Since(began); waited > 100*time.Millisecond {
		t.Errorf("the refusal took %s, want it at once", waited)
	}
	if in, _ := h.Waiting(); in != 1 {
		t.Errorf("%d sign-ins wait, want only the one with time", in)
	}
	h.release(time.Now())
	if err := <-queued; err != nil {
		t.Errorf("the sign-in with time to wait: %v", err)
	}
}

// A sign-in deferred in a storm keeps its turn: its Retry-After names the
// moment those ahead of it will have been served, later arrivals get later
// turns, coming back early keeps the turn, and coming back at it goes ahead
// of everyone who queued since. Without kept turns, a retried sign-in met
// the queue as a newcomer each time, and some were refused until their
// patience ran out while newcomers got through.
func TestHasherKeepsDeferredTurns(t *testing.T) {
	h := NewHasher(CheapHashCost)
	h.slots = 1          // one at a time, so each turn is a slot's hold after the last
	h.held = time.Second // as if each sign-in held its slot that long
	var held []time.Time
	for range h.MaxConcurrent() {
		granted, err := h.acquire(context.Background(), PrioritySignIn, "")
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, granted)
	}
	tight := func() context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	refused := func(key string) time.Duration {
		t.Helper()
		_, err := h.acquire(tight(), PrioritySignIn, key)
		var pe *problem.Error
		if !errors.As(err, &pe) || pe.Code != problem.Unavailable || pe.RetryAfter < time.Second {
			t.Fatalf("%s past its deadline: %v, want 503 with Retry-After", key, err)
		}
		return pe.RetryAfter
	}
	refused("ann@example.com")
	annTurn := h.turns[turnKeyOf("ann@example.com")]
	refused("bob@example.com")
	bobTurn := h.turns[turnKeyOf("bob@example.com")]
	if annTurn.IsZero() || !bobTurn.After(annTurn) {
		t.Fatalf("turns ann %v, bob %v: want bob's after ann's", annTurn, bobTurn)
	}
	if retry := refused("ann@example.com"); retry > time.Until(annTurn)+time.Second || h.turns[turnKeyOf("ann@example.com")] != annTurn {
		t.Errorf("back early: Retry-After %s, turn %v; want the same turn (%v) kept", retry, h.turns[turnKeyOf("ann@example.com")], annTurn)
	}

	// A newcomer with time to wait queues; then ann comes back at her turn.
	order := make(chan string, 2)
	acquire := func(key, name string) { serveInTurn(h, PrioritySignIn, key, name, order) }
	acquire("", "newcomer")
	waitFor(t, "the newcomer to queue", func() bool { in, _ := h.Waiting(); return in == 1 })
	h.mu.Lock()
	h.turns[turnKeyOf("ann@example.com")] = time.Now()
	h.mu.Unlock()
	acquire("ann@example.com", "ann")
	waitFor(t, "ann to queue at her turn", func() bool { in, _ := h.Waiting(); return in == 2 })
	for _, g := range held {
		h.release(g)
	}
	if first, second := <-order, <-order; first != "ann" || second != "newcomer" {
		t.Errorf("served %q then %q, want ann (back at her kept turn) before the newcomer", first, second)
	}

	// A turn nobody came back for is forgotten.
	h.mu.Lock()
	h.turns[turnKeyOf("bob@example.com")] = time.Now().Add(-turnGrace - time.Second)
	h.swept = time.Time{}
	_, kept, others := h.keptTurn(nil, time.Now())
	h.mu.Unlock()
	if kept || others != 0 {
		t.Errorf("an expired turn still counts (%d others)", others)
	}
}

// serveInTurn waits for a slot (10 s at most) in the background, says
// name on served once it has one (or why not), and frees it.
func serveInTurn(h *Hasher, p Priority, key, name string, served chan<- string) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		granted, err := h.acquire(ctx, p, key)
		if err != nil {
			served <- name + ": " + err.Error()
			return
		}
		served <- name
		h.release(granted)
	}()
}

// Retries back at their kept turns go first, but not forever: a waiting
// sign-up is served after signInsPerSignUp of them, as after as many
// sign-ins.
func TestHasherKeptTurnsDoNotStarveSignUps(t *testing.T) {
	h := NewHasher(CheapHashCost)
	h.slots = 1
	held, err := h.acquire(context.Background(), PrioritySignIn, "")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan string, 16)
	wait := func(p Priority, key, name string) { serveInTurn(h, p, key, name, served) }
	wait(PrioritySignUp, "", "sign-up")
	waitFor(t, "the sign-up to queue", func() bool { _, up := h.Waiting(); return up == 1 })
	const retries = 3 * signInsPerSignUp
	for i := range retries {
		key := fmt.Sprintf("retry%d@example.com", i)
		h.mu.Lock()
		h.turns[turnKeyOf(key)] = time.Now()
		h.mu.Unlock()
		wait(PrioritySignIn, key, "retry")
		waitFor(t, "the retry to queue at its turn", func() bool { in, _ := h.Waiting(); return in == i+1 })
	}
	h.release(held)
	for i := range retries + 1 {
		if name := <-served; name == "sign-up" {
			if i > signInsPerSignUp {
				t.Errorf("the sign-up was served after %d retries, want at most %d", i, signInsPerSignUp)
			}
			return
		} else if name != "retry" {
			t.Fatal(name)
		}
	}
	t.Error("the sign-up was never served")
}
