package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/baton-course/baton/server/memlimit"
	"github.com/baton-course/baton/server/problem"
	"golang.org/x/crypto/argon2"
)

// HashCost is what one argon2id hash costs: memory, passes and lanes. A
// hash records its cost, so verifying follows the hash, whatever the
// hasher's own cost is now.
type HashCost struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// CheapHashCost is for tests that sign people up and in without measuring
// hashing: a fraction of a millisecond instead of seconds under -race.
var CheapHashCost = HashCost{MemoryKiB: 64, Time: 1, Threads: 1}

// DefaultHashCost is what OWASP recommends (m=19 MiB, t=2, p=1). Each hash
// holds 19 MiB while it runs, which is why hashing is bounded below.
var DefaultHashCost = HashCost{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

const (
	argonKeyLen  = 32
	argonSaltLen = 16
)

// Password length limits: long enough to resist guessing, short enough that
// hashing cost cannot be abused with megabyte passwords.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 128
)

// Hasher hashes and verifies passwords with argon2id, at most `slots` at a
// time: a login storm queues instead of exhausting memory. Waiters are served
// by priority, so a storm of sign-ups cannot starve people signing in: a
// free slot goes to a waiting sign-in first, except that after
// signInsPerSignUp sign-ins in a row a waiting sign-up gets one, so
// sign-ups slow down under a sign-in storm but are never starved either.
type Hasher struct {
	cost  HashCost
	dummy string

	mu      sync.Mutex
	slots   int
	running int                         // slots held; below slots only while nobody waits
	waiting [priorities][]chan struct{} // FIFO per priority; a slot is handed over by closing
	streak  int                         // sign-ins granted in a row while a sign-up waited
	held    time.Duration               // how long a slot is held, on average of late (see busy)
	turns   map[turnKey]time.Time       // turns kept for deferred requests, by their key (see keptTurn)
	swept   time.Time                   // when turns nobody came back for were last forgotten
}

// turnKey is a digest of the key a turn is kept for: fixed in size however
// long the email, so the turns' memory is bounded by their count.
type turnKey [16]byte

func turnKeyOf(key string) turnKey {
	sum := sha256.Sum256([]byte(key))
	return turnKey(sum[:16])
}

// Priority is which queue a hash waits in for a slot.
type Priority int

const (
	// PrioritySignIn is for checking an existing account's password: people
	// signing in are served first.
	PrioritySignIn Priority = iota
	// PrioritySignUp is for hashing a new password (sign-ups, and password
	// changes), which can wait behind sign-ins.
	PrioritySignUp
	// priorityKept is for a request deferred in a storm that came back at
	// the turn it was given: it goes ahead of every sign-in queued without
	// a turn.
	priorityKept
	priorities
)

// signInsPerSignUp bounds how long waiting sign-ups yield to sign-ins.
const signInsPerSignUp = 4

// NewHasher bounds concurrent hashing to half the CPUs (at least one), so a
// sign-in storm can keep at most half the machine busy hashing and the other
// half keeps serving everyone already signed in. A zero cost is the
// default; only tests that do not measure hashing choose a cheaper one.
func NewHasher(cost HashCost) *Hasher {
	if cost == (HashCost{}) {
		cost = DefaultHashCost
	}
	h := &Hasher{cost: cost, slots: hashSlots(), turns: make(map[turnKey]time.Time)}
	began := time.Now()
	h.dummy = h.hashNow("a password nobody has, for timing equality")
	h.held = time.Since(began)
	return h
}

// slotMargin is what a request needs after its hash, to record the
// sign-in and answer, within its deadline.
const slotMargin = 100 * time.Millisecond

// busy refuses a request that would wait for a slot past its deadline,
// telling it when to try again: in a sign-in storm larger than the machine
// can hash before the deadline, the queue would otherwise grow until
// requests give up after their slot came, each having cost a hash nobody
// used, and most sign-ins fail instead of some waiting (h.mu held).
//
// A request with a key is given a turn: the moment the requests ahead of
// it (those queued and those given turns before it) will have been served.
// Its Retry-After names that moment, and when the same key comes back then,
// it is served ahead of every sign-in queued without a turn, so a storm is
// served in the order people arrived and nobody is refused again and again
// while newcomers get through. A request without a key, or whose turn would
// lie past turnHorizon (longer than anyone waits) or past maxKeptTurns, is
// told to come back once the queue has moved by what it lacked.
func (h *Hasher) busy(ctx context.Context, key *turnKey, ahead int, now time.Time) error {
	deadline, ok := ctx.Deadline()
	if !ok {
		return nil
	}
	wait := time.Duration(ahead/h.slots+1) * h.held
	short := wait + h.held + slotMargin - deadline.Sub(now)
	if short <= 0 {
		return nil
	}
	if key == nil || wait > turnHorizon || len(h.turns) >= maxKeptTurns {
		return deferred(short, false)
	}
	h.turns[*key] = now.Add(wait)
	return deferred(wait, true)
}

// deferred is the 503 telling a request to try again after wait.
func deferred(wait time.Duration, turnKept bool) error {
	detail := "Many people are signing in at this moment; try again in a few seconds."
	if turnKept {
		detail = "Many people are signing in at this moment; your turn is kept: try again after the time given."
	}
	return &problem.Error{Code: problem.Unavailable, RetryAfter: max(wait, time.Second), Detail: detail}
}

// Kept turns: a request may come back up to turnEarly before its turn
// (Retry-After is whole seconds), and a turn nobody came back for is
// forgotten turnGrace after it. None lies further ahead than turnHorizon:
// the app waits 90 s from its first try, and a turn it would give up on
// would still count for everyone deferred after it, whose longer waits
// would make them give up too, until the slots idled behind turns nobody
// came back for (a full bench run's synchronized start lost a third of its
// sign-ins so). maxKeptTurns bounds their memory (a few hundred KB), and
// with it what a client inventing emails could make everyone else wait for.
const (
	turnEarly    = 500 * time.Millisecond
	turnGrace    = 10 * time.Second
	turnHorizon  = 80 * time.Second
	maxKeptTurns = 10000
)

// keptTurn takes the turn kept for key, if any, and counts the turns kept
// for others that are still to come; at most once a second it forgets those
// nobody came back for (h.mu held).
func (h *Hasher) keptTurn(key *turnKey, now time.Time) (turn time.Time, kept bool, others int) {
	if key != nil {
		turn, kept = h.turns[*key]
		delete(h.turns, *key)
	}
	if now.Sub(h.swept) >= time.Second {
		h.swept = now
		for k, t := range h.turns {
			if now.After(t.Add(turnGrace)) {
				delete(h.turns, k)
			}
		}
	}
	return turn, kept, len(h.turns)
}

func hashSlots() int { return max(runtime.GOMAXPROCS(0)/2, 1) }

// MaxConcurrent is how many hashes may run at once.
func (h *Hasher) MaxConcurrent() int { return h.slots }

// Waiting is how many callers of each priority wait for a slot now (a
// sign-in back at its kept turn counts as a sign-in).
func (h *Hasher) Waiting() (signIns, signUps int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.waiting[PrioritySignIn]) + len(h.waiting[priorityKept]), len(h.waiting[PrioritySignUp])
}

// acquire waits for a slot at priority p. key names the request across
// its retries (the email signing in and its address), so that a storm
// keeps its turn (see busy); "" keeps none.
func (h *Hasher) acquire(ctx context.Context, p Priority, key string) (granted time.Time, err error) {
	var tk *turnKey // digested once, outside the lock
	if key != "" {
		k := turnKeyOf(key)
		tk = &k
	}
	h.mu.Lock()
	now := time.Now()
	turn, kept, others := h.keptTurn(tk, now)
	if h.running < h.slots {
		h.running++
		h.mu.Unlock()
		return now, nil
	}
	var ahead int
	switch {
	case kept && now.Before(turn.Add(-turnEarly)):
		h.turns[*tk] = turn // back before its turn: it keeps it
		h.mu.Unlock()
		return time.Time{}, deferred(turn.Sub(now), true)
	case kept:
		p, ahead = priorityKept, len(h.waiting[priorityKept])
	default:
		ahead = len(h.waiting[priorityKept]) + len(h.waiting[PrioritySignIn]) + others
		if p == PrioritySignUp {
			ahead += len(h.waiting[PrioritySignUp])
		}
	}
	if err := h.busy(ctx, tk, ahead, now); err != nil {
		h.mu.Unlock()
		return time.Time{}, err
	}
	ready := make(chan struct{})
	h.waiting[p] = append(h.waiting[p], ready)
	h.mu.Unlock()
	select {
	case <-ready:
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < slotMargin {
			// Too late to use it: the next waiter may still have time.
			h.mu.Lock()
			h.handOver()
			h.mu.Unlock()
			return time.Time{}, ctx.Err()
		}
		return time.Now(), nil
	case <-ctx.Done():
		h.mu.Lock()
		defer h.mu.Unlock()
		if i := slices.Index(h.waiting[p], ready); i >= 0 {
			h.waiting[p] = slices.Delete(h.waiting[p], i, i+1)
		} else {
			h.handOver() // the slot came as the caller gave up: pass it on
		}
		return time.Time{}, ctx.Err()
	}
}

// release frees the slot taken at granted, learning how long slots are held.
func (h *Hasher) release(granted time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if took := time.Since(granted); took > 0 {
		h.held += (took - h.held) / 8
	}
	h.handOver()
}

// handOver gives a held slot to the next waiter, or frees it: those back
// at their kept turn first, then sign-ins, and sign-ups between them. A
// waiting sign-up is served after signInsPerSignUp grants of either kind,
// so neither a storm of sign-ins nor one of retries at their turns starves it.
func (h *Hasher) handOver() {
	kept, in, up := len(h.waiting[priorityKept]), len(h.waiting[PrioritySignIn]), len(h.waiting[PrioritySignUp])
	var p Priority
	switch {
	case kept == 0 && in == 0 && up == 0:
		h.running--
		return
	case up > 0 && (h.streak >= signInsPerSignUp || kept+in == 0):
		p = PrioritySignUp
	case kept > 0:
		p = priorityKept
	default:
		p = PrioritySignIn
	}
	if p != PrioritySignUp && up > 0 {
		h.streak++
	} else {
		h.streak = 0
	}
	next := h.waiting[p][0]
	h.waiting[p] = slices.Delete(h.waiting[p], 0, 1)
	close(next)
}

// Hash returns the PHC-format argon2id hash of a new password; it waits
// behind sign-ins for a slot.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	granted, err := h.acquire(ctx, PrioritySignUp, "")
	if err != nil {
		return "", err
	}
	defer h.release(granted)
	return h.hashNow(password), nil
}

// argonKey is argon2.IDKey with the memory it allocates for the hash (all
// at once, held to the end) added to the runtime's soft limit meanwhile, so
// it does not come out of everyone else's headroom (see package memlimit).
func argonKey(password, salt []byte, passes, memoryKiB uint32, threads uint8, keyLen uint32) []byte {
	release := memlimit.Hold(int64(memoryKiB) * 1024)
	defer release()
	return argon2.IDKey(password, salt, passes, memoryKiB, threads, keyLen)
}

func (h *Hasher) hashNow(password string) string {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	c := h.cost
	key := argonKey([]byte(password), salt, c.Time, c.MemoryKiB, c.Threads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, c.MemoryKiB, c.Time, c.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify reports whether password matches encoded. An empty encoded hash (no
// such user) is checked against a dummy so it costs the same time. It waits
// for a slot as a sign-in.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (bool, error) {
	granted, err := h.acquire(ctx, PrioritySignIn, "")
	if err != nil {
		return false, err
	}
	defer h.release(granted)
	return h.verifyHeld(password, encoded)
}

// Hold takes a hashing slot for a caller that must check something just
// before hashing (sign-in limits); it verifies with VerifyHeld and calls
// release when done. It waits for the slot as a sign-in; turn names the
// sign-in across its retries (its email and client address), so that one
// deferred in a storm keeps its turn ("" keeps none).
func (h *Hasher) Hold(ctx context.Context, turn string) (release func(), err error) {
	granted, err := h.acquire(ctx, PrioritySignIn, turn)
	if err != nil {
		return nil, err
	}
	return func() { h.release(granted) }, nil
}

// VerifyHeld is Verify for a caller that holds a slot from Hold.
func (h *Hasher) VerifyHeld(password, encoded string) (bool, error) {
	return h.verifyHeld(password, encoded)
}

func (h *Hasher) verifyHeld(password, encoded string) (bool, error) {
	if encoded == "" {
		_, _ = verifyPHC(password, h.dummy)
		return false, nil
	}
	return verifyPHC(password, encoded)
}

var errBadHash = errors.New("malformed password hash")

func verifyPHC(password, encoded string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	var mem, iters uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iters, &threads); err != nil {
		return false, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil {
		return false, errBadHash
	}
	if len(want) < 16 || len(want) > 64 || mem > 1<<22 || iters > 16 {
		return false, errBadHash // refuse parameters no hash of ours has
	}
	got := argonKey([]byte(password), salt, iters, mem, threads, uint32(len(want))) // #nosec G115 -- bounded to 64 above
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

//go:embed common-passwords.txt
var commonPasswordList string

var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(commonPasswordList, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			m[strings.ToLower(line)] = true
		}
	}
	return m
}()

// PasswordProblem says what is wrong with a new password, or "" when it is
// acceptable. email and name are the account's, which must not be the password.
func PasswordProblem(password, email, name string) string {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLen:
		return fmt.Sprintf("must be at least %d characters", MinPasswordLen)
	case n > MaxPasswordLen:
		return fmt.Sprintf("must be at most %d characters", MaxPasswordLen)
	case isCommon(password):
		return "is too common; choose a password that is not on lists of often-used passwords"
	}
	lower := strings.ToLower(password)
	local, _, _ := strings.Cut(strings.ToLower(email), "@")
	if lower == strings.ToLower(email) || (len(local) >= 4 && strings.Contains(lower, local)) ||
		lower == strings.ToLower(strings.TrimSpace(name)) {
		return "must not contain your email address or be your name"
	}
	return ""
}

// isCommon matches the embedded list, also after stripping the digits and
// symbols people add to a common word to reach the minimum length.
func isCommon(password string) bool {
	lower := strings.ToLower(password)
	if commonPasswords[lower] || isMonotonous(lower) {
		return true
	}
	base := strings.TrimRightFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) })
	base = strings.TrimLeftFunc(base, func(r rune) bool { return !unicode.IsLetter(r) })
	return base != "" && commonPasswords[base]
}

// isMonotonous catches one repeated character, or a run of consecutive
// characters ("123456789012", "abcdefghijkl").
func isMonotonous(s string) bool {
	r := []rune(s)
	same, up, down := true, true, true
	for i := 1; i < len(r); i++ {
		same = same && r[i] == r[0]
		up = up && (r[i] == r[i-1]+1 || (r[i-1] == '9' && r[i] == '0'))
		down = down && (r[i] == r[i-1]-1 || (r[i-1] == '0' && r[i] == '9'))
	}
	return same || up || down
}
