package quizzes

import (
	"errors"
	"hash/fnv"
	"math/rand/v2"
	"time"
)

// Errors of stepping through a scenario.
var (
	ErrNotCurrent    = errors.New("that step is not the current step of the attempt")
	ErrFinished      = errors.New("the attempt is finished")
	ErrUnknownChoice = errors.New("no such choice in this step")
)

// Outcome is what one answer leads to: the choice taken and either the next
// step or the ending.
type Outcome struct {
	Choice Choice
	Next   *Step   // nil when the path ends
	Ending *Ending // set when the path ends
}

// Answer applies a choice to the current step. It is a pure function: the
// caller supplies the attempt's current step and stores the outcome.
func (sc *Scenario) Answer(current, stepID, choiceID string) (Outcome, error) {
	if current == "" {
		return Outcome{}, ErrFinished
	}
	if stepID != current {
		return Outcome{}, ErrNotCurrent
	}
	step := sc.Steps[current]
	c, ok := step.Choice(choiceID)
	if !ok {
		return Outcome{}, ErrUnknownChoice
	}
	if c.Ending != "" {
		return Outcome{Choice: c, Ending: sc.Endings[c.Ending]}, nil
	}
	return Outcome{Choice: c, Next: sc.Steps[c.Next]}, nil
}

// ChoiceOrder is the order a step's choices are shown in one attempt: a
// shuffle seeded by the attempt, so it differs between attempts and stays the
// same when an attempt is resumed.
func ChoiceOrder(step *Step, seed uint64) []Choice {
	h := fnv.New64a()
	_, _ = h.Write([]byte(step.ID))
	rng := rand.New(rand.NewPCG(seed, h.Sum64())) // #nosec G404 -- display order, not a secret: it must be reproducible from the seed
	out := append([]Choice(nil), step.Choices...)
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// Result is the score of a finished path.
type Result struct {
	Percent int    `json:"percent"`
	Passed  bool   `json:"passed"`
	Skills  Points `json:"skills"`
}

// Score turns the points a path earned into percentages: the total as a
// share of the best path's total, and each skill as a share of the most any
// path earns on it. Negative totals count as zero; nothing exceeds 100.
func (sc *Scenario) Score(earned Points) Result {
	r := Result{Percent: percentOf(earned.Total(), sc.BestTotal)}
	for _, skill := range Skills {
		r.Skills.set(skill, percentOf(earned.Get(skill), sc.BestSkills.Get(skill)))
	}
	r.Passed = r.Percent >= sc.PassPercent
	return r
}

// percentOf is 100·part/whole as an integer rounded half up, within 0–100.
func percentOf(part, whole int) int {
	if whole <= 0 || part <= 0 {
		return 0
	}
	p := (200*part + whole) / (2 * whole) // round half up in integers
	return min(p, 100)
}

// Availability says whether a learner may start an attempt now.
type Availability struct {
	AttemptsLeft  *int       // nil: unlimited
	NextAttemptAt *time.Time // set while a cooldown runs
	Allowed       bool
}

// CanStart applies the retake rules: the attempt cap and the cooldown after
// the last finished attempt.
func (sc *Scenario) CanStart(attemptsUsed int, lastFinished *time.Time, now time.Time) Availability {
	a := Availability{Allowed: true}
	if sc.MaxAttempts != nil {
		left := max(*sc.MaxAttempts-attemptsUsed, 0)
		a.AttemptsLeft = &left
		a.Allowed = left > 0
	}
	if sc.Cooldown > 0 && lastFinished != nil {
		if at := lastFinished.Add(sc.Cooldown); at.After(now) {
			a.NextAttemptAt = &at
			a.Allowed = false
		}
	}
	return a
}

// ReviewIntervals are the gaps before a passed scenario comes back for
// review, for the first, second, third and later successful reviews.
var ReviewIntervals = []time.Duration{2 * 24 * time.Hour, 7 * 24 * time.Hour, 21 * 24 * time.Hour, 60 * 24 * time.Hour}

// AttemptSummary is what review scheduling needs of a finished attempt.
type AttemptSummary struct {
	StartedAt  time.Time
	FinishedAt time.Time
	Passed     bool
}

// ReviewState is where a learner stands in a scenario's review schedule:
// when it is next due (nil: never passed, so not in review) and how many
// reviews in a row they have passed.
type ReviewState struct {
	Due    *time.Time
	Streak int
}

// After is the schedule once attempt a has finished. An attempt started
// once the review was due is a review: passing it moves to the next
// interval, failing it resets the streak and leaves it due now. Attempts
// started earlier are practice and change nothing, except that the very
// first pass starts the schedule.
func (r ReviewState) After(a AttemptSummary) ReviewState {
	isReview := r.Due != nil && !a.StartedAt.Before(*r.Due)
	switch {
	case r.Due == nil && a.Passed:
		r.Streak = 1
	case isReview && a.Passed:
		r.Streak++
	case isReview:
		at := a.FinishedAt
		return ReviewState{Due: &at, Streak: 0}
	default:
		return r
	}
	at := a.FinishedAt.Add(ReviewIntervals[min(r.Streak, len(ReviewIntervals))-1])
	r.Due = &at
	return r
}
