package memlimit_test

import (
	"runtime/debug"
	"sync"
	"testing"

	"github.com/baton-course/baton/server/memlimit"
)

// Before Manage (GOMEMLIMIT set by the operator) a hold leaves their limit
// alone.
func TestHoldWithoutManageChangesNothing(t *testing.T) {
	was := debug.SetMemoryLimit(-1)
	release := memlimit.Hold(19 << 20)
	if got := debug.SetMemoryLimit(-1); got != was || memlimit.Limit() != 0 {
		t.Fatalf("an unmanaged hold moved the runtime limit from %d to %d (Limit %d)", was, got, memlimit.Limit())
	}
	release()
}

// The runtime's own limit (read back with SetMemoryLimit(-1)) follows the
// holds: up while hashes run, back to the base when the last one ends,
// whatever the order they end in and however often a release is called;
// stopping puts back the limit from before.
func TestHoldRaisesTheRuntimeLimitWhileHeld(t *testing.T) {
	was := debug.SetMemoryLimit(-1)
	const base, hash = 64 << 20, 19 << 20

	stop := memlimit.Manage(base)
	if got := debug.SetMemoryLimit(-1); got != base {
		t.Fatalf("after Manage the runtime limit is %d, want the base %d", got, base)
	}
	first, second := memlimit.Hold(hash), memlimit.Hold(hash)
	if got := debug.SetMemoryLimit(-1); got != base+2*hash {
		t.Fatalf("two holds: runtime limit %d, want %d", got, base+2*hash)
	}
	first()
	first() // a second call releases nothing more
	if got := debug.SetMemoryLimit(-1); got != base+hash {
		t.Fatalf("one released (twice): runtime limit %d, want %d", got, base+hash)
	}
	second()
	if got, lim := debug.SetMemoryLimit(-1), memlimit.Limit(); got != base || lim != base {
		t.Fatalf("all released: runtime limit %d, Limit %d, want the base %d", got, lim, base)
	}

	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			release := memlimit.Hold(hash)
			release()
		}()
	}
	wg.Wait()
	if got := debug.SetMemoryLimit(-1); got != base {
		t.Fatalf("after 50 concurrent holds and releases the runtime limit is %d, want the base %d", got, base)
	}

	late := memlimit.Hold(hash)
	stop()
	late() // released after the stop: changes nothing
	if got := debug.SetMemoryLimit(-1); got != was || memlimit.Limit() != 0 {
		t.Fatalf("after stop the runtime limit is %d (Limit %d), want the one from before, %d", got, memlimit.Limit(), was)
	}
}
