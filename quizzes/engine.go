package quizzes

import (
	"errors"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Errors of stepping through a scenario.
var (
	ErrNotCurrent    = errors.New("that step is not the current step of the attempt")
	ErrFinished      = errors.New("the attempt is finished")
	ErrUnknownChoice = errors.New("no such choice in this step")
)

// Outcome is what one answer leads to: the choice taken, the state after
// it, and either the next step or the end of the path.
type Outcome struct {
	Choice   *Choice
	Feedback string // rendered in the state after the choice
	State    State
	Next     *Step // nil when the path ends
}

// Answer applies a choice to the current step in state st. It is a pure
// function: the caller supplies the attempt's position and stores the
// outcome.
func (v *Variant) Answer(current string, st State, stepID, choiceID string) (Outcome, error) {
	if current == "" {
		return Outcome{}, ErrFinished
	}
	if stepID != current {
		return Outcome{}, ErrNotCurrent
	}
	step := v.Steps[current]
	c, ok := step.Choice(choiceID)
	if !ok || !c.When.holds(v.Scenario.state.env(st, nil)) {
		return Outcome{}, ErrUnknownChoice
	}
	after := v.Scenario.state.apply(st, c.Effects)
	out := Outcome{Choice: c, State: after, Feedback: v.Render(c.Feedback, after)}
	if to := v.route(c, after); to != "" {
		out.Next = v.Steps[to]
	}
	return out, nil
}

// Begin is where every path starts: the first step, in the start state.
func (v *Variant) Begin() (string, State) { return v.Start, v.Scenario.state.start() }

// route is the step a choice leads to in the state after it ("" ends).
func (v *Variant) route(c *Choice, after State) string {
	if len(c.Next) == 1 {
		return c.Next[0].To
	}
	env := v.Scenario.state.env(after, nil)
	for _, rt := range c.Next {
		if rt.When.holds(env) {
			return rt.To
		}
	}
	return "" // format 1 endings; format 2 always has an unconditional last route
}

// Offered is the step's choices that state st offers, as written.
func (v *Variant) Offered(step *Step, st State) []*Choice {
	env := v.Scenario.state.env(st, nil)
	out := make([]*Choice, 0, len(step.Choices))
	for _, c := range step.Choices {
		if c.When.holds(env) {
			out = append(out, c)
		}
	}
	return out
}

// Render is the text as state st shows it: the fragments whose conditions
// hold, joined by spaces.
func (v *Variant) Render(t Text, st State) string {
	if len(t) == 1 && t[0].When == nil {
		return t[0].Text
	}
	return render(t, v.Scenario.state.env(st, nil))
}

func render(t Text, env any) string {
	var parts []string
	for _, f := range t {
		if f.When.holds(env) {
			parts = append(parts, f.Text)
		}
	}
	return strings.Join(parts, " ")
}

// Finish ends a path: its score, and the first ending whose condition
// holds over the final state and the score (format 1: the ending the last
// choice named).
func (v *Variant) Finish(st State, earned Points, last *Choice) (Result, *Ending) {
	r := v.Score(earned)
	if last != nil && last.Ending != "" {
		return r, v.ending(last.Ending)
	}
	env := v.Scenario.state.env(st, &resultFacts{Percent: r.Percent, Passed: r.Passed, Skills: r.Skills})
	for _, e := range v.Endings {
		if e.When.holds(env) {
			return r, e
		}
	}
	return r, v.Endings[len(v.Endings)-1]
}

// EndingText is an ending's text as the final state and the result show it.
func (v *Variant) EndingText(e *Ending, st State, r Result) string {
	return render(e.Text, v.Scenario.state.env(st, &resultFacts{Percent: r.Percent, Passed: r.Passed, Skills: r.Skills}))
}

// ChoiceOrder is the order a step's choices are shown in one attempt: a
// shuffle seeded by the attempt, so it differs between attempts and stays the
// same when an attempt is resumed; only the choices st offers are kept.
func (v *Variant) ChoiceOrder(step *Step, st State, seed uint64) []*Choice {
	h := fnv.New64a()
	_, _ = h.Write([]byte(step.ID))
	rng := rand.New(rand.NewPCG(seed, h.Sum64())) // #nosec G404 -- display order, not a secret: it must be reproducible from the seed
	out := append([]*Choice(nil), step.Choices...)
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	env := v.Scenario.state.env(st, nil)
	return slices.DeleteFunc(out, func(c *Choice) bool { return !c.When.holds(env) })
}

// Result is the score of a finished path.
type Result struct {
	Percent int    `json:"percent"`
	Passed  bool   `json:"passed"`
	Skills  Points `json:"skills"`
}

// Score turns the points a path earned into percentages: the total as a
// share of the variant's best path's total, and each skill as a share of
// the most any path earns on it. Negative totals count as zero; nothing
// exceeds 100.
func (v *Variant) Score(earned Points) Result {
	r := Result{Percent: percentOf(earned.Total(), v.BestTotal)}
	for _, skill := range Skills {
		r.Skills.set(skill, percentOf(earned.Get(skill), v.BestSkills.Get(skill)))
	}
	r.Passed = r.Percent >= v.Scenario.PassPercent
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

// Unconditional is the text every state shows: the fragments without a
// condition (for listings that speak of a step, not of one path through it).
func (t Text) Unconditional() string {
	var parts []string
	for _, f := range t {
		if f.When == nil {
			parts = append(parts, f.Text)
		}
	}
	return strings.Join(parts, " ")
}
