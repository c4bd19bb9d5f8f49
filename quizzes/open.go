package quizzes

import (
	"sync"
	"time"
)

// openAttempt is what answering needs to know about an unfinished attempt.
// The store remembers it after each write it makes, so the next answer can go
// straight to the guarded write; the database stays the judge.
type openAttempt struct {
	userID   string
	slug     string
	version  string
	variant  string
	seed     int64
	state    State
	step     string // the current step; "" once finished
	answered int
	sum      Points

	// What finishing needs to move the review schedule on. Only this
	// attempt's finish changes the schedule while it is open (a learner has
	// one open attempt per scenario), so it cannot go stale.
	startedAt time.Time
	review    ReviewState

	// standing is the learner's standing on the scenario once this attempt
	// began, when this process started it (nil after a resume): its finish
	// remembers the standing for the learner's next start.
	standing *standing
}

// Caps bound the memory the remembered states take, about 500 bytes an
// entry. Beyond its cap an arbitrary entry is forgotten, and the request
// that would have used it simply takes one more round trip.
//
// openAttemptsCap (10 MB at most): attempts abandoned midway are never
// dropped, and a resumed attempt is not remembered until its next answer
// is written. finishedCap (1 MB): a retake follows its finish within
// minutes or not soon at all, so the last couple of thousand finishes are
// enough, and an instance's memory does not grow with every learner who
// ever finished a scenario on it (the bench's 1,000 open sessions count it).
const (
	openAttemptsCap = 20000
	finishedCap     = 2048
)

// remembered is a bounded map of states this process wrote last. What it
// holds only saves a read: every write that relies on it is guarded by
// what it assumed, so a stale entry fails its guard and is read afresh.
type remembered[K comparable, V any] struct {
	mu  sync.Mutex
	max int
	m   map[K]V
}

func newRemembered[K comparable, V any](max int) *remembered[K, V] {
	return &remembered[K, V]{max: max, m: make(map[K]V)}
}

func (r *remembered[K, V]) get(k K) (V, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.m[k]
	return v, ok
}

// take gets and forgets: for a state that the request using it changes.
func (r *remembered[K, V]) take(k K) (V, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.m[k]
	delete(r.m, k)
	return v, ok
}

func (r *remembered[K, V]) put(k K, v V) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.m[k]; !ok && len(r.m) >= r.max {
		for old := range r.m { // full: forget an arbitrary one
			delete(r.m, old)
			break
		}
	}
	r.m[k] = v
}

func (r *remembered[K, V]) drop(k K) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, k)
}
