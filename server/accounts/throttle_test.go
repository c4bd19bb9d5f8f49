package accounts

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/baton-course/baton/server/testdb"
)

// waitFor polls cond (the hasher's own counters) until it holds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// M7: sign-ups and sign-ins share the hashing slots, and 120 sign-ups in
// the queue made a real sign-in wait 8 s. Now a sign-in that arrives behind
// 120 queued sign-ups takes the next free slot, and sign-ins waiting
// together with sign-ups take at most signInsPerSignUp slots in a row, so
// sign-ups are slowed but never starved. The order is the hasher's own:
// every slot is handed over by the test, one at a time.
func TestHasherServesSignInsFirst(t *testing.T) {
	h := NewHasher(CheapHashCost)
	ctx := context.Background()
	for range h.MaxConcurrent() {
		if _, err := h.acquire(ctx, PrioritySignIn, ""); err != nil {
			t.Fatal(err)
		}
	}
	granted := make(chan string, 200)
	queue := func(p Priority, label string) {
		go func() {
			if _, err := h.acquire(ctx, p, ""); err != nil {
				t.Error(err)
				return
			}
			granted <- label // keeps the slot: the test hands slots over
		}()
	}
	for i := range 120 {
		queue(PrioritySignUp, fmt.Sprint("up", i))
	}
	waitFor(t, "120 queued sign-ups", func() bool { _, up := h.Waiting(); return up == 120 })
	queue(PrioritySignIn, "owner")
	waitFor(t, "the sign-in to queue", func() bool { in, _ := h.Waiting(); return in == 1 })

	h.release(time.Now())
	if got := <-granted; got != "owner" {
		t.Fatalf("the first free slot went to %s, not to the sign-in behind 120 sign-ups", got)
	}
	if in, up := h.Waiting(); in != 0 || up != 120 {
		t.Fatalf("after the sign-in: %d sign-ins and %d sign-ups wait, want 0 and 120", in, up)
	}

	// Sign-ins and sign-ups both waiting: sign-ins first, but a sign-up at
	// least every signInsPerSignUp+1 slots.
	for i := range 12 {
		queue(PrioritySignIn, fmt.Sprint("in", i))
	}
	waitFor(t, "12 queued sign-ins", func() bool { in, _ := h.Waiting(); return in == 12 })
	run, ins, ups := 1, 0, 0 // the owner's grant began a run of sign-ins
	for ins < 12 {
		h.release(time.Now())
		if got := <-granted; got[:2] == "in" {
			ins++
			if run++; run > signInsPerSignUp {
				t.Fatalf("%d sign-ins in a row while sign-ups waited", run)
			}
		} else {
			ups++
			run = 0
		}
	}
	if ups < 12/signInsPerSignUp || ups > 12/signInsPerSignUp+1 {
		t.Fatalf("%d sign-ups served among 12 sign-ins", ups)
	}
	for range 120 - ups {
		h.release(time.Now())
		if got := <-granted; got[:2] != "up" {
			t.Fatalf("unexpected grant %s", got)
		}
	}
	if in, up := h.Waiting(); in != 0 || up != 0 {
		t.Fatalf("still waiting: %d, %d", in, up)
	}
}

// BenchmarkSignInBehindSignUps is one password check at the real argon2id
// cost while sign-ups keep four per slot queued: a sign-in (first in line)
// costs about one hash plus the wait for a slot to free, whatever the
// queue; a hash of the sign-up class, for comparison, waits behind the
// queue as every sign-in did before sign-ins went first.
func BenchmarkSignInBehindSignUps(b *testing.B) {
	h := NewHasher(DefaultHashCost)
	enc := h.hashNow("the owner's password")
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var wg sync.WaitGroup
	for range 5 * h.MaxConcurrent() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				_, _ = h.Hash(ctx, "a sign-up's new password")
			}
		}()
	}
	waitFor(b, "a full queue", func() bool { _, up := h.Waiting(); return up >= 4*h.MaxConcurrent() })
	b.Run("sign-in", func(b *testing.B) {
		for b.Loop() {
			if ok, err := h.Verify(context.Background(), "the owner's password", enc); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
	b.Run("sign-up", func(b *testing.B) {
		for b.Loop() {
			if _, err := h.Hash(context.Background(), "another new password"); err != nil {
				b.Fatal(err)
			}
		}
	})
	stop()
	wg.Wait()
}

// M7: one address may sign up 60 times at once (API.md: "not limited below
// 60 a minute"); the 61st in the same instant waits about a second, one
// token's refill; the bucket refills at one a second up to 60; another
// address has its own bucket. Inside one transaction now() stands still,
// so "the same instant" is exact.
func TestSignUpBucket(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	err := db.Gorm.Transaction(func(tx *gorm.DB) error {
		for i := range 60 {
			if wait, err := take(ctx, tx, signUpLimit, "signup:192.0.2.1"); err != nil || wait != 0 {
				return fmt.Errorf("sign-up %d refused: %s %v", i+1, wait, err)
			}
		}
		wait, err := take(ctx, tx, signUpLimit, "signup:192.0.2.1")
		if err != nil || wait < 990*time.Millisecond || wait > time.Second {
			return fmt.Errorf("61st sign-up: wait %s %v, want a second", wait, err)
		}
		if wait, err := take(ctx, tx, signUpLimit, "signup:192.0.2.2"); err != nil || wait != 0 {
			return fmt.Errorf("another address refused: %s %v", wait, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Thirty seconds later: thirty more, then a wait again.
	db.Gorm.Exec(`UPDATE rate_buckets SET updated_at = updated_at - interval '30 seconds'`)
	err = db.Gorm.Transaction(func(tx *gorm.DB) error {
		for i := range 30 {
			if wait, err := take(ctx, tx, signUpLimit, "signup:192.0.2.1"); err != nil || wait != 0 {
				return fmt.Errorf("refilled sign-up %d refused: %s %v", i+1, wait, err)
			}
		}
		if wait, _ := take(ctx, tx, signUpLimit, "signup:192.0.2.1"); wait == 0 {
			return fmt.Errorf("more than the refill was allowed")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A bucket never holds more than the burst, however long it rested.
	db.Gorm.Exec(`UPDATE rate_buckets SET updated_at = updated_at - interval '1 day'`)
	n := 0
	_ = db.Gorm.Transaction(func(tx *gorm.DB) error {
		for {
			if wait, err := take(ctx, tx, signUpLimit, "signup:192.0.2.1"); err != nil || wait != 0 {
				return err
			}
			n++
		}
	})
	if n != 60 {
		t.Fatalf("after a day's rest %d sign-ups at once, want 60", n)
	}
	// Pruning drops buckets that are full again.
	if n, err := Prune(ctx, db.Gorm, time.Now()); err != nil || n["rate_buckets"] != 1 {
		t.Fatalf("pruned %v (%v), want the one full bucket", n, err)
	}
}

// Sign-ups count per IPv4 address and per IPv6 /64.
func TestAddressOf(t *testing.T) {
	for ip, want := range map[string]string{
		"192.0.2.7":            "192.0.2.7",
		"::ffff:192.0.2.7":     "192.0.2.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2::ffff":   "2001:db8:1:2::/64",
		"not an address":       "not an address",
	} {
		if got := addressOf(ip); got != want {
			t.Errorf("addressOf(%q) = %q, want %q", ip, got, want)
		}
	}
}
