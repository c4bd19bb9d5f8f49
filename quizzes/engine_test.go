package quizzes

import (
	"strings"
	"testing"
	"time"
)

const tiny = `slug: tiny
module: basics
title: Tiny
pass_percent: 70
intro: A tiny scenario.
start: one
steps:
  - id: one
    text: First.
    choices:
      - id: good
        text: Good move.
        feedback: Works because.
        points: {vision: 2, alignment: 1}
        next: two
      - id: bad
        text: Bad move.
        feedback: Backfires because.
        points: {vision: -1, inspiration: -2}
        next: two
  - id: two
    text: Second.
    choices:
      - id: finish-well
        text: Finish well.
        feedback: Yes.
        points: {alignment: 1, inspiration: 3}
        ending: happy
      - id: finish-badly
        text: Finish badly.
        feedback: No.
        points: {vision: 1}
        ending: sad
endings:
  - id: happy
    title: Happy
    text: It went well.
  - id: sad
    title: Sad
    text: It did not.
`

func mustParse(t *testing.T, src string) *Scenario {
	t.Helper()
	sc, err := Parse("tiny.yaml", []byte(src), map[string]bool{"basics": true})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestScoring(t *testing.T) {
	sc := mustParse(t, tiny)
	if sc.BestTotal != 7 || sc.BestSkills != (Points{Vision: 3, Alignment: 2, Inspiration: 3}) {
		t.Fatalf("best %d %+v", sc.BestTotal, sc.BestSkills)
	}
	if strings.Join(sc.BestPath, ",") != "good,finish-well" {
		t.Fatalf("best path %v", sc.BestPath)
	}
	cases := []struct {
		name   string
		earned Points
		want   Result
	}{
		{"best path", Points{2, 2, 3}, Result{Percent: 100, Passed: true, Skills: Points{67, 100, 100}}},
		{"worst path", Points{0, 0, -2}, Result{Percent: 0, Passed: false, Skills: Points{0, 0, 0}}},
		{"half rounds up", Points{Vision: 1, Alignment: 2, Inspiration: 1}, Result{Percent: 57, Skills: Points{33, 100, 33}}}, // 4/7 = 57.1
		{"negative total is zero", Points{-5, 0, 0}, Result{Percent: 0}},
		{"never above 100", Points{10, 10, 10}, Result{Percent: 100, Passed: true, Skills: Points{100, 100, 100}}},
	}
	for _, tc := range cases {
		if got := sc.Score(tc.earned); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if percentOf(1, 8) != 13 || percentOf(3, 8) != 38 || percentOf(1, 3) != 33 || percentOf(2, 3) != 67 {
		t.Error("percentOf does not round half up")
	}
}

func TestAnswer(t *testing.T) {
	sc := mustParse(t, tiny)
	out, err := sc.Answer("one", "one", "good")
	if err != nil || out.Next == nil || out.Next.ID != "two" || out.Ending != nil {
		t.Fatalf("%+v %v", out, err)
	}
	out, err = sc.Answer("two", "two", "finish-badly")
	if err != nil || out.Ending == nil || out.Ending.ID != "sad" {
		t.Fatalf("%+v %v", out, err)
	}
	if _, err := sc.Answer("two", "one", "good"); err != ErrNotCurrent {
		t.Fatalf("stale step: %v", err)
	}
	if _, err := sc.Answer("two", "two", "good"); err != ErrUnknownChoice {
		t.Fatalf("choice of another step: %v", err)
	}
	if _, err := sc.Answer("", "two", "finish-well"); err != ErrFinished {
		t.Fatalf("finished: %v", err)
	}
}

func TestChoiceOrderIsStablePerAttempt(t *testing.T) {
	sc := mustParse(t, strings.Replace(tiny, "        next: two\n  - id: two", "        next: two\n      - id: c3\n        text: c\n        feedback: f\n        points: {vision: 0}\n        next: two\n      - id: c4\n        text: d\n        feedback: f\n        points: {vision: 0}\n        next: two\n  - id: two", 1))
	step := sc.Steps["one"]
	ids := func(cs []Choice) string {
		var s []string
		for _, c := range cs {
			s = append(s, c.ID)
		}
		return strings.Join(s, ",")
	}
	first := ids(ChoiceOrder(step, 42))
	if ids(ChoiceOrder(step, 42)) != first {
		t.Fatal("same seed, different order")
	}
	differs := false
	for seed := uint64(1); seed < 50 && !differs; seed++ {
		differs = ids(ChoiceOrder(step, seed)) != first
	}
	if !differs {
		t.Fatal("order never changes between attempts")
	}
	if len(ChoiceOrder(step, 7)) != len(step.Choices) {
		t.Fatal("choices lost")
	}
}

func TestCanStart(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	two := 2
	sc := &Scenario{MaxAttempts: &two, Cooldown: time.Hour}
	recent := now.Add(-10 * time.Minute)
	old := now.Add(-2 * time.Hour)
	if a := sc.CanStart(0, nil, now); !a.Allowed || *a.AttemptsLeft != 2 {
		t.Fatalf("%+v", a)
	}
	if a := sc.CanStart(1, &recent, now); a.Allowed || a.NextAttemptAt == nil || !a.NextAttemptAt.Equal(recent.Add(time.Hour)) {
		t.Fatalf("cooldown: %+v", a)
	}
	if a := sc.CanStart(1, &old, now); !a.Allowed {
		t.Fatalf("after cooldown: %+v", a)
	}
	if a := sc.CanStart(2, &old, now); a.Allowed || *a.AttemptsLeft != 0 {
		t.Fatalf("cap: %+v", a)
	}
	unlimited := &Scenario{}
	if a := unlimited.CanStart(500, &recent, now); !a.Allowed || a.AttemptsLeft != nil {
		t.Fatalf("unlimited: %+v", a)
	}
}

// TestReviewSchedule replays finished attempts, oldest first, as the store
// does one finish at a time.
func TestReviewSchedule(t *testing.T) {
	day := 24 * time.Hour
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	at := func(d int) time.Time { return t0.Add(time.Duration(d) * day) }
	run := func(start int, passed bool) AttemptSummary {
		return AttemptSummary{StartedAt: at(start), FinishedAt: at(start).Add(10 * time.Minute), Passed: passed}
	}
	end := func(a AttemptSummary, d time.Duration) time.Time { return a.FinishedAt.Add(d) }
	cases := []struct {
		name     string
		attempts []AttemptSummary
		want     func() *time.Time
	}{
		{"never passed", []AttemptSummary{run(0, false), run(1, false)}, func() *time.Time { return nil }},
		{"first pass: 2 days", []AttemptSummary{run(0, false), run(1, true)}, func() *time.Time { t := end(run(1, true), 2*day); return &t }},
		{"reviews passed: 7 then 21 then 60 then 60", []AttemptSummary{run(0, true), run(3, true), run(11, true), run(40, true), run(101, true)},
			func() *time.Time { t := end(run(101, true), 60*day); return &t }},
		{"second review passed: 7 days", []AttemptSummary{run(0, true), run(3, true)}, func() *time.Time { t := end(run(3, true), 7*day); return &t }},
		{"practice before due changes nothing", []AttemptSummary{run(0, true), run(1, false), run(1, true)},
			func() *time.Time { t := end(run(0, true), 2*day); return &t }},
		{"failed review is due at once", []AttemptSummary{run(0, true), run(3, false)}, func() *time.Time { t := run(3, false).FinishedAt; return &t }},
		{"pass after a failed review restarts at 2 days", []AttemptSummary{run(0, true), run(3, true), run(12, false), run(13, true)},
			func() *time.Time { t := end(run(13, true), 2*day); return &t }},
	}
	for _, tc := range cases {
		var r ReviewState
		for _, a := range tc.attempts {
			r = r.After(a)
		}
		got, want := r.Due, tc.want()
		if (got == nil) != (want == nil) || (got != nil && !got.Equal(*want)) {
			t.Errorf("%s: got %v, want %v", tc.name, got, want)
		}
	}
}

// Longest counts the decisions on the longest way from a step to an ending,
// the step's own included: a shortcut on one branch does not shorten it.
func TestLongestRemaining(t *testing.T) {
	src := strings.Replace(tiny, "        points: {vision: -1, inspiration: -2}\n        next: two",
		"        points: {vision: -1, inspiration: -2}\n        ending: sad", 1)
	cases := []struct {
		name string
		src  string
		want map[string]int
	}{
		{"two steps in a row", tiny, map[string]int{"one": 2, "two": 1}},
		{"one choice ends at once", src, map[string]int{"one": 2, "two": 1}},
	}
	for _, tc := range cases {
		sc := mustParse(t, tc.src)
		for id, want := range tc.want {
			if got := sc.Steps[id].Longest; got != want {
				t.Errorf("%s: step %s longest %d, want %d", tc.name, id, got, want)
			}
		}
	}
}
