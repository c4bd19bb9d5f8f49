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

// Caps bound the memory the remembered states take, a few hundred bytes a
// finished standing and an open attempt (which carries the standing it
// began on; a standing's variant counts are a short list). Past its cap
// what nobody wrote for longest is forgotten (see remembered: an entry
// lives one to two generations after it was last put), and the request
// that would have used it simply takes one more round trip.
//
// openAttemptsCap (about 10 MB at most, by the sizes of the fields): the
// attempts being played on this instance now. It is generous because an
// attempt forgotten between its start and its first answer costs that
// answer a read, and a rush of starts (the bench stocks thousands before it
// answers them) would otherwise push out attempts about to be answered. A
// resumed attempt is not remembered until its next answer is written.
// finishedCap (1 MB): a retake follows its finish within minutes or not
// soon at all, and the standings of every learner who ever finished on the
// instance would grow with them.
const (
	openAttemptsCap = 20000
	finishedCap     = 2048
)

// remembered is a bounded map of states this process wrote last. What it
// holds only saves a read: every write that relies on it is guarded by
// what it assumed, so a stale entry fails its guard and is read afresh.
//
// It keeps two generations: entries are put in the young one, and when
// that holds half the cap it becomes the old one and the previous old one
// is forgotten. An entry in use is put again at each write, so it stays
// young, and what is forgotten is what nobody wrote for a generation
// (attempts abandoned midway, finishes not followed by a retake), not an
// arbitrary entry that the next request needs.
type remembered[K comparable, V any] struct {
	mu         sync.Mutex
	max        int
	young, old map[K]V
}

func newRemembered[K comparable, V any](max int) *remembered[K, V] {
	return &remembered[K, V]{max: max, young: make(map[K]V), old: make(map[K]V)}
}

func (r *remembered[K, V]) get(k K) (V, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if v, ok := r.young[k]; ok {
		return v, true
	}
	v, ok := r.old[k]
	return v, ok
}

// take gets and forgets: for a state that the request using it changes.
func (r *remembered[K, V]) take(k K) (V, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.young[k]
	if !ok {
		v, ok = r.old[k]
	}
	delete(r.young, k)
	delete(r.old, k)
	return v, ok
}

func (r *remembered[K, V]) put(k K, v V) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.young[k]; !ok && len(r.young) >= max(r.max/2, 1) {
		r.old, r.young = r.young, make(map[K]V, r.max/2)
	}
	delete(r.old, k)
	r.young[k] = v
}

func (r *remembered[K, V]) drop(k K) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.young, k)
	delete(r.old, k)
}
