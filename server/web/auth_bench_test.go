package web_test

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/database"
)

// loginMemoryBound is the heap ceiling for 200 simultaneous sign-ins stated
// in the README: hashing is bounded to a few 19 MiB argon2id runs at a time,
// so the storm queues instead of allocating 200 × 19 MiB.
const loginMemoryBound = 256 << 20

// newRealHashingServer is newTestServer at argon2id's real cost, for what
// measures hashing.
func newRealHashingServer(t testing.TB) (*testServer, *database.DB) {
	t.Helper()
	cfg := testConfig(t)
	cfg.HashCost = accounts.DefaultHashCost
	db := newTestDB(t)
	return buildServer(t, cfg, db), db
}

func TestConcurrentLoginsStayWithinMemoryBound(t *testing.T) {
	if testing.Short() {
		t.Skip("200 argon2id hashes")
	}
	s, db := newRealHashingServer(t)
	h := s.Handler()
	a := signUp(t, h, db, "")
	runtime.GC()

	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	var wg sync.WaitGroup
	var ok, shed, failed atomic.Int32
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := callFrom(t, h, "192.0.2.10:1234", "POST", "/api/auth/login", map[string]string{"email": a.Email, "password": testPassword})
			switch r.Status {
			case 200:
				ok.Add(1)
			case 503: // queued past the request deadline: shed, by design
				shed.Add(1)
			default:
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled
	t.Logf("%d signed in, %d shed after waiting", ok.Load(), shed.Load())
	if failed.Load() > 0 || ok.Load() < 50 {
		t.Fatalf("%d logins failed, %d succeeded", failed.Load(), ok.Load())
	}
	t.Logf("peak heap during 200 concurrent logins: %d MiB (bound %d MiB, %d hashes at once)",
		peak.Load()>>20, loginMemoryBound>>20, s.svc.Accounts.Hasher().MaxConcurrent())
	if peak.Load() > loginMemoryBound {
		t.Fatalf("peak heap %d MiB above the %d MiB bound", peak.Load()>>20, loginMemoryBound>>20)
	}
}

// BenchmarkLogin is the cost of one sign-in through the real router: the
// argon2id verification dominates, by design.
func BenchmarkLogin(b *testing.B) {
	s, db := newRealHashingServer(b)
	h := s.Handler()
	a := signUp(b, h, db, "")
	body := map[string]string{"email": a.Email, "password": testPassword}
	b.ResetTimer()
	for b.Loop() {
		if r := call(b, h, "POST", "/api/auth/login", body); r.Status != 200 {
			b.Fatal(r.Status)
		}
	}
}

// BenchmarkVerifyToken is the per-request cost of authentication: a token
// the server has verified before (every request after a learner's first),
// and one it sees for the first time.
func BenchmarkVerifyToken(b *testing.B) {
	s, db := newTestServer(b)
	a := signUp(b, s.Handler(), db, "")
	ctx := context.Background()
	keys := s.svc.Accounts.Keys()
	b.Run("remembered", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := keys.Verify(ctx, a.Token); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("first-sight", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			tok, _, err := keys.Issue(ctx, a.ID, accounts.RoleLearner, "00000000-0000-0000-0000-000000000002")
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if _, err := keys.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}
