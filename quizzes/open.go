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
}

// openAttemptsCap bounds the memory the remembered states take (a few
// hundred bytes each, so a few MB at most). Beyond it an arbitrary state is
// forgotten, as are attempts abandoned midway, and their next answer simply
// takes one more round trip. A resumed attempt is not remembered until its
// next answer is written.
const openAttemptsCap = 20000

// openAttempts is a bounded map of remembered attempt states.
type openAttempts struct {
	mu   sync.Mutex
	max  int
	byID map[string]openAttempt
}

func newOpenAttempts(max int) *openAttempts {
	return &openAttempts{max: max, byID: make(map[string]openAttempt)}
}

func (o *openAttempts) get(id string) (openAttempt, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	st, ok := o.byID[id]
	return st, ok
}

func (o *openAttempts) put(id string, st openAttempt) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.byID[id]; !ok && len(o.byID) >= o.max {
		for old := range o.byID { // full: forget an arbitrary one
			delete(o.byID, old)
			break
		}
	}
	o.byID[id] = st
}

func (o *openAttempts) drop(id string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.byID, id)
}
