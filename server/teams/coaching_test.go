package teams

import (
	"strings"
	"testing"

	"github.com/baton-course/baton/quizzes"
)

// The brief's sentence names the step where the team leans furthest away
// from the recommended move, the move it leans to and the recommended one,
// from the shares alone; ties and a team that took the best move
// everywhere are said as such.
func TestCoachingSentence(t *testing.T) {
	pct := func(n int) *int { return &n }
	step := func(pos int, text string, suppressed bool, shares ...int) CoachingStep {
		st := CoachingStep{Position: pos, StepID: "s" + string(rune('0'+pos)), Text: text, Suppressed: suppressed}
		for i, p := range shares {
			c := CoachingChoice{ID: string(rune('a' + i)), Text: []string{"Hold the line; then explain.", "Escalate to the VP when sales push", "Split the difference"}[i], Recommended: i == 0}
			if !suppressed {
				c.Percent = pct(p)
			}
			st.Choices = append(st.Choices, c)
		}
		return st
	}
	cases := []struct {
		name  string
		steps []CoachingStep
		want  string // "" when no step can be told
	}{
		{"the strongest pull wins", []CoachingStep{
			step(1, "Monday, 9:00. The launch slips. Everyone looks at you.", false, 40, 35, 25),
			step(2, "Sales pushes for the feature. Your lead objects.", false, 20, 60, 20),
			step(3, "Hidden step.", true, 0, 0, 0),
		}, "At step 2 (“Sales pushes for the feature”), most of the team chose “Escalate to the VP when sales push” (about 60%); the best move was “Hold the line” (about 20%)."},
		{"no majority", []CoachingStep{
			step(1, "The review.", false, 30, 45, 25),
		}, "At step 1 (“The review”), the team most often chose “Escalate to the VP when sales push” (about 45%); the best move was “Hold the line” (about 30%)."},
		{"a tie", []CoachingStep{
			step(1, "The review.", false, 40, 40, 20),
		}, "At step 1 (“The review”), the team split evenly between “Escalate to the VP when sales push” and the best move, “Hold the line” (about 40% each)."},
		{"best everywhere", []CoachingStep{
			step(1, "First.", false, 70, 20, 10),
			step(2, "Second.", false, 50, 40, 10),
		}, "The team most often took the best move at every step shown; the closest call was step 2 (“Second”), where “Escalate to the VP when sales push” drew about 40% against about 50% for the best move, “Hold the line”."},
		{"all hidden", []CoachingStep{step(1, "First.", true, 0, 0, 0)}, ""},
	}
	for _, c := range cases {
		tl, ok := tellingStep(c.steps)
		got := ""
		if ok {
			got = tl.sentence()
		}
		if got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
	// The estimate, once there is one, is what the sentence reads.
	st := step(1, "The review.", false, 40, 35, 25)
	st.Choices[0].Estimate, st.Choices[1].Estimate, st.Choices[2].Estimate = pct(10), pct(80), pct(10)
	if tl, _ := tellingStep([]CoachingStep{st}); !strings.Contains(tl.sentence(), "most of the team chose “Escalate to the VP when sales push” (about 80%)") {
		t.Errorf("the estimate is not used: %q", tl.sentence())
	}
}

// On a shipped scenario the brief's questions come from the telling step:
// its situation, the tempting move's feedback and the recommended move;
// with the floor hiding everything they come from the best path's closest
// call, and no sentence claims anything about the team.
func TestCoachingVariantFromContent(t *testing.T) {
	all, err := quizzes.LoadAll(quizzes.Content(), nil)
	if err != nil {
		t.Fatal(err)
	}
	v := all[0].Variants[0]
	order := v.PathOrder()
	a := ScenarioAnalytics{Variant: VariantRef{v.ID, v.Title}, Members: 5}
	for i, id := range order {
		st := StepAnalytics{StepID: id, Text: v.Steps[id].Text.Unconditional(), Answered: 5}
		rec := v.Recommended(id).ChoiceID
		for _, ch := range v.Steps[id].Choices {
			n := 0
			if (i == 1) != (ch.ID == rec) { // at the second step all five went another way
				n = 5 / (len(v.Steps[id].Choices) - 1)
			}
			st.Choices = append(st.Choices, ChoiceCount{ID: ch.ID, Text: ch.Text, First: n, Recommended: ch.ID == rec})
		}
		a.Steps = append(a.Steps, st)
	}
	cv := coachingVariant(v, a)
	if cv.TellingStep != order[1] || cv.Summary == "" || len(cv.Questions) != 3 {
		t.Fatalf("telling step %q (want %q), summary %q, questions %q", cv.TellingStep, order[1], cv.Summary, cv.Questions)
	}
	rec, _ := v.Steps[order[1]].Choice(v.Recommended(order[1]).ChoiceID)
	if !strings.Contains(cv.Summary, "step 2") || !strings.Contains(cv.Summary, gist(rec.Text, 16)) || !strings.Contains(cv.Questions[2], gist(rec.Text, 16)) {
		t.Errorf("the brief does not name the step and its recommended move %q:\n%s\n%q", rec.Text, cv.Summary, cv.Questions)
	}
	for i, st := range cv.Steps {
		marked := 0
		for _, c := range st.Choices {
			if c.Recommended {
				marked++
			}
		}
		if st.Position != i+1 || st.StepID != order[i] || marked != 1 {
			t.Errorf("step %d: %+v", i, st)
		}
	}

	hidden := ScenarioAnalytics{Variant: a.Variant, Members: 2, Suppressed: true}
	for _, id := range order {
		hidden.Steps = append(hidden.Steps, StepAnalytics{StepID: id, Text: v.Steps[id].Text.Unconditional(), Suppressed: true})
	}
	cv = coachingVariant(v, hidden)
	if cv.Summary != "" || len(cv.Questions) < 2 || cv.TellingStep == "" {
		t.Fatalf("hidden variant: summary %q, questions %q", cv.Summary, cv.Questions)
	}
	for _, st := range cv.Steps {
		for _, c := range st.Choices {
			if c.Percent != nil || c.Estimate != nil {
				t.Fatalf("a hidden step shows a share: %+v", st)
			}
		}
	}
}

func TestGist(t *testing.T) {
	for in, want := range map[string]string{
		"Tuesday, 8:40. Your manager calls.":          "Tuesday, 8:40",
		"Ask Daniel why; then decide.":                "Ask Daniel why",
		"one two three four five six seven":           "one two three…",
		"Reply in the channel: the lost work matters": "Reply in the channel: the lost work…",
	} {
		if got := gist(in, 3+4*btoi(!strings.HasPrefix(in, "one"))); got != want {
			t.Errorf("gist(%q) = %q, want %q", in, got, want)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
