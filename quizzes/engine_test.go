package quizzes

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// State carries: effects set flags and move meters (clamped), later text
// and choices depend on them, routes follow them, and the ending is chosen
// by the final state and score, not by the last choice.
func TestStateCarries(t *testing.T) {
	sc := mustParse(t, tiny)
	v := mustVariant(t, sc, "freeze")
	step, st := v.Begin()
	if sc.Describe(st) != "trust.lead=5, brief_written=false" {
		t.Fatalf("start %s", sc.Describe(st))
	}
	o, err := v.Answer(step, st, "one", "write-brief")
	if err != nil {
		t.Fatal(err)
	}
	if got := sc.Describe(o.State); got != "trust.lead=7, brief_written=true" {
		t.Fatalf("after write-brief: %s", got)
	}
	if got := v.Render(o.Next.Text, o.State); got != "The meeting starts. Ewan holds up your brief." {
		t.Fatalf("text with the brief: %q", got)
	}
	if n := len(v.Offered(o.Next, o.State)); n != 3 {
		t.Fatalf("%d choices offered with the brief", n)
	}
	o2, _ := v.Answer(step, st, "one", "skip-brief")
	if got := v.Render(o2.Next.Text, o2.State); got != "The meeting starts." {
		t.Fatalf("text without the brief: %q", got)
	}
	if _, err := v.Answer("two", o2.State, "two", "show-brief"); !errors.Is(err, ErrUnknownChoice) {
		t.Fatalf("a choice the state does not offer: %v", err)
	}
	// skip-brief leaves trust at 2, so talking it through ends at once.
	o3, err := v.Answer("two", o2.State, "two", "talk")
	if err != nil || o3.Next != nil {
		t.Fatalf("talk at low trust should end: %+v %v", o3.Next, err)
	}

	cases := []struct {
		name    string
		variant string
		path    []string
		percent int
		passed  bool
		ending  string
		state   string
	}{
		{"best path of freeze", "freeze", []string{"write-brief", "show-brief", "rally", "close"}, 100, true, "good", "trust.lead=7, brief_written=true"},
		{"passing without trust", "budget", []string{"skip-brief", "defer", "rally", "close"}, 100, true, "lucky", "trust.lead=1, brief_written=false"},
		{"the same moves fail in freeze", "freeze", []string{"skip-brief", "defer", "rally", "close"}, 28, false, "bad", "trust.lead=1, brief_written=false"},
		{"meters clamp at their minimum", "freeze", []string{"skip-brief", "defer", "order", "drift"}, 0, false, "bad", "trust.lead=0, brief_written=false"},
		{"a route ends early", "budget", []string{"skip-brief", "talk"}, 84, true, "lucky", "trust.lead=2, brief_written=false"},
	}
	for _, tc := range cases {
		v := mustVariant(t, sc, tc.variant)
		st, earned, last, _ := walk(t, v, tc.path...)
		r, e := v.Finish(st, earned, last)
		if r.Percent != tc.percent || r.Passed != tc.passed || e.ID != tc.ending || sc.Describe(st) != tc.state {
			t.Errorf("%s: %d%% passed=%v ending %s, %s", tc.name, r.Percent, r.Passed, e.ID, sc.Describe(st))
		}
	}
}

// A variant resolves its parameters into every text and its overrides into
// the graph, so its best path and totals are its own.
func TestVariantsResolve(t *testing.T) {
	sc := mustParse(t, tiny)
	freeze, budget := mustVariant(t, sc, "freeze"), mustVariant(t, sc, "budget")
	if freeze.Title != "Ewan and the freeze" || budget.Title != "Yasmin and the budget" {
		t.Fatalf("titles %q %q", freeze.Title, budget.Title)
	}
	if got := budget.Render(budget.Steps["one"].Text, nil); got != "Yasmin asks for a plan." {
		t.Fatalf("budget text %q", got)
	}
	if c, _ := budget.Steps["one"].Choice("skip-brief"); c.Points.Total() != 12 || budget.Render(c.Feedback, nil) == "Risky." {
		t.Fatalf("override not applied: %+v", c)
	}
	if c, _ := freeze.Steps["one"].Choice("skip-brief"); c.Points.Total() != -2 {
		t.Fatal("an override leaked into another variant")
	}
	ids := func(p []PathStep) (out []string) {
		for _, d := range p {
			out = append(out, d.Choice.ID)
		}
		return out
	}
	if got := ids(freeze.BestPath()); !equal(got, []string{"write-brief", "show-brief", "rally", "close"}) {
		t.Fatalf("freeze best path %v", got)
	}
	if got := ids(budget.BestPath()); !equal(got, []string{"skip-brief", "defer", "rally", "close"}) {
		t.Fatalf("budget best path %v", got)
	}
	if freeze.BestTotal != 18 || budget.BestTotal != 19 {
		t.Fatalf("best totals %d %d", freeze.BestTotal, budget.BestTotal)
	}
	if got := freeze.Remaining(freeze.Begin()); got != 4 {
		t.Fatalf("longest %d", got)
	}
	if got := Check(sc).TurnedRules; !equal(got, []string{"one", "two"}) {
		t.Fatalf("variants disagree at %v, want [one two]", got)
	}
}

func TestUnusedParameter(t *testing.T) {
	src := strings.Replace(strings.Replace(tiny, "params: {lead: Ewan}", "params: {lead: Ewan, boss: Ann}", 1),
		"params: {lead: Yasmin}", "params: {lead: Yasmin, boss: Bo}", 1)
	_, err := Parse("tiny.yaml", []byte(src), nil)
	if err == nil || !strings.Contains(err.Error(), "tiny.yaml:11: parameter boss is declared but no text uses {boss}") {
		t.Fatalf("an unused parameter: %v", err)
	}
	// Used in a variant title, or only in an override, it is used.
	inTitle := strings.Replace(src, `title: "{lead} and the freeze"`, `title: "{lead} and {boss}"`, 1)
	inOverride := strings.Replace(src, "feedback: Here the brief would have been late; skipping it was right.", "feedback: Here {boss} was right.", 1)
	for name, src := range map[string]string{"title": inTitle, "override": inOverride} {
		if _, err := Parse("tiny.yaml", []byte(src), nil); err != nil {
			t.Errorf("a parameter used only in a %s: %v", name, err)
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestAnswerErrors(t *testing.T) {
	v := mustVariant(t, mustParse(t, tiny), "freeze")
	step, st := v.Begin()
	if _, err := v.Answer("", st, step, "write-brief"); !errors.Is(err, ErrFinished) {
		t.Errorf("finished: %v", err)
	}
	if _, err := v.Answer(step, st, "two", "talk"); !errors.Is(err, ErrNotCurrent) {
		t.Errorf("not current: %v", err)
	}
	if _, err := v.Answer(step, st, step, "rally"); !errors.Is(err, ErrUnknownChoice) {
		t.Errorf("another step's choice: %v", err)
	}
}

func TestChoiceOrderIsStablePerAttempt(t *testing.T) {
	v := mustVariant(t, mustParse(t, tiny), "freeze")
	step := v.Steps["two"]
	withBrief := State{7, 1}
	first := v.ChoiceOrder(step, withBrief, 42)
	for range 5 {
		again := v.ChoiceOrder(step, withBrief, 42)
		for i := range first {
			if first[i].ID != again[i].ID {
				t.Fatal("order changed on resume")
			}
		}
	}
	differs := false
	for seed := uint64(1); seed < 50 && !differs; seed++ {
		o := v.ChoiceOrder(step, withBrief, seed)
		differs = o[0].ID != first[0].ID
	}
	if !differs {
		t.Fatal("the order never changes between attempts")
	}
	if n := len(v.ChoiceOrder(step, State{2, 0}, 42)); n != 2 {
		t.Fatalf("%d choices shown without the brief; show-brief is not offered", n)
	}
}

func TestScoring(t *testing.T) {
	v := mustVariant(t, mustParse(t, tiny), "freeze")
	cases := []struct {
		earned  Points
		percent int
		passed  bool
	}{
		{Points{5, 6, 7}, 100, true},
		{Points{5, 6, 2}, 72, true}, // 13/18 = 72.2
		{Points{3, 3, 3}, 50, false},
		{Points{-5, 0, 0}, 0, false},
		{Points{9, 9, 9}, 100, true}, // never above 100
	}
	for _, tc := range cases {
		r := v.Score(tc.earned)
		if r.Percent != tc.percent || r.Passed != tc.passed {
			t.Errorf("%+v: %+v", tc.earned, r)
		}
	}
	if got := percentOf(1, 8); got != 13 { // 12.5 rounds half up
		t.Errorf("percentOf(1, 8) = %d", got)
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
