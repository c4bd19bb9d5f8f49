// Package memlimit keeps the Go runtime's soft memory limit at a base for
// everything the server holds, plus what password hashes hold while they
// run.
//
// An argon2id hash allocates its 19 MiB at once and holds it for the whole
// hash. Under one fixed limit that memory comes out of the base: a server
// holding 40 MiB live under a 64 MiB limit is then left a few MiB of
// headroom for the length of every hash, and the collector runs back to
// back through a sign-in storm, slowing every request beside it (and the
// hashes themselves). Raising the limit by a hash's memory only while that
// hash runs keeps the base's headroom for everyone else; the extra memory
// is bounded by the hashing slots times the cost of the hashes they check.
package memlimit

import (
	"runtime/debug"
	"sync"
)

var (
	mu      sync.Mutex
	managed bool  // Manage was called
	epoch   int   // counts Manage calls: a hold from before one releases nothing
	base    int64 // the limit with nothing held
	held    int64 // bytes held by Hold calls not yet released
)

// Manage sets the soft limit to base and from then on raises it by what
// Hold calls hold. A server calls it once at start, unless the operator set
// GOMEMLIMIT (their limit then stands as given). Stop puts back the limit
// in force before and stops managing it (for tests; holds still out
// release nothing after it).
func Manage(limit int64) (stop func()) {
	mu.Lock()
	defer mu.Unlock()
	before := debug.SetMemoryLimit(-1)
	base, held, managed = limit, 0, true
	epoch++
	mine := epoch
	debug.SetMemoryLimit(base)
	return func() {
		mu.Lock()
		defer mu.Unlock()
		if epoch != mine || !managed {
			return // stopped already, or managed anew since
		}
		base, held, managed = 0, 0, false
		debug.SetMemoryLimit(before)
	}
}

// Hold raises the limit by n bytes until the returned release is called
// (once). Without Manage it changes nothing.
func Hold(n int64) (release func()) {
	mu.Lock()
	defer mu.Unlock()
	if !managed || n <= 0 {
		return func() {}
	}
	held += n
	debug.SetMemoryLimit(base + held)
	heldIn := epoch
	var once sync.Once
	return func() {
		once.Do(func() {
			mu.Lock()
			defer mu.Unlock()
			if managed && epoch == heldIn {
				held -= n
				debug.SetMemoryLimit(base + held)
			}
		})
	}
}

// Limit is the soft limit in force as this package set it (0 when not
// managed): the base plus what is held.
func Limit() int64 {
	mu.Lock()
	defer mu.Unlock()
	if !managed {
		return 0
	}
	return base + held
}
