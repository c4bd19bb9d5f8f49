package quizzes

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// A strategy picks a move from what a step offers, looking only at the
// choices' texts: the heuristics a learner could pass a scenario with
// without judging the situation.
type strategy struct {
	name string
	pick func(offered []*Choice) *Choice
}

var (
	askWords  = wordSet("ask", "asks", "asked", "asking", "listen", "listens", "listened", "listening", "together")
	tellWords = wordSet("tell", "tells", "told", "telling", "announce", "announces", "announced", "just")
	wordRe    = regexp.MustCompile(`[a-z']+`)
)

func wordSet(words ...string) map[string]bool {
	out := map[string]bool{}
	for _, w := range words {
		out[w] = true
	}
	return out
}

func countWords(text string, set map[string]bool) int {
	n := 0
	for _, w := range wordRe.FindAllString(strings.ToLower(text), -1) {
		if set[w] {
			n++
		}
	}
	return n
}

// best is the offered choice with the highest score (the first on a tie).
func best(offered []*Choice, score func(*Choice) int) *Choice {
	out := offered[0]
	for _, c := range offered[1:] {
		if score(c) > score(out) {
			out = c
		}
	}
	return out
}

var strategies = []strategy{
	{"always the longest", func(o []*Choice) *Choice { return best(o, func(c *Choice) int { return len(c.Text) }) }},
	{"always the shortest", func(o []*Choice) *Choice { return best(o, func(c *Choice) int { return -len(c.Text) }) }},
	{"the most ask/listen/together words", func(o []*Choice) *Choice {
		return best(o, func(c *Choice) int { return countWords(c.Text, askWords) })
	}},
	{"the fewest tell/announce/just words", func(o []*Choice) *Choice {
		return best(o, func(c *Choice) int { return -countWords(c.Text, tellWords) })
	}},
	{"always the first written", func(o []*Choice) *Choice { return o[0] }},
	{"always the last written", func(o []*Choice) *Choice { return o[len(o)-1] }},
}

// play follows a strategy through a variant and scores the path.
func play(v *Variant, s strategy) Result {
	step, st := v.Begin()
	var earned Points
	var last *Choice
	for step != "" {
		c := s.pick(v.Offered(v.Steps[step], st))
		o, err := v.Answer(step, st, step, c.ID)
		if err != nil {
			panic(err) // offered choices always answer
		}
		earned, st, last, step = earned.Add(c.Points), o.State, c, ""
		if o.Next != nil {
			step = o.Next.ID
		}
	}
	r, _ := v.Finish(st, earned, last)
	return r
}

// TestCourseTeachesJudgement holds every shipped scenario to the bar that
// makes it teach judgement rather than a rule: no heuristic on the choices'
// wording or place passes any variant, the best move does not stand out by
// its length, a step offers good moves and better ones, skills trade off
// against each other, some variant turns the usual rule around, and endings
// describe the path instead of listing possibilities.
func TestCourseTeachesJudgement(t *testing.T) {
	all, err := LoadAll(Content(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range all {
		t.Run(sc.Slug, func(t *testing.T) {
			rep := Check(sc)
			if len(sc.Variants) < 3 {
				t.Errorf("%d variants; the course gives each scenario at least 3", len(sc.Variants))
			}
			if sc.MeasurementNote != "" {
				t.Errorf("a measurement_note: every scenario of the course measures its skills apart")
			}
			if len(rep.TurnedRules) == 0 {
				t.Errorf("every variant has the same best moves: no variant where the usual rule is wrong")
			}
			for _, v := range sc.Variants {
				t.Run(v.ID, func(t *testing.T) { judge(t, v) })
			}
		})
	}
}

func judge(t *testing.T, v *Variant) {
	for _, s := range strategies {
		if r := play(v, s); r.Passed {
			t.Errorf("%q passes with %d%%", s.name, r.Percent)
		}
	}
	path := v.BestPath()
	longest, tradeOff := 0, false
	for _, d := range path {
		offered := v.Offered(d.Step, d.Before)
		strictlyLongest := true
		for _, c := range offered {
			if c != d.Choice && len(c.Text) >= len(d.Choice.Text) {
				strictlyLongest = false
			}
		}
		if strictlyLongest {
			longest++
		}
		vision := best(offered, func(c *Choice) int { return c.Points.Vision })
		alignment := best(offered, func(c *Choice) int { return c.Points.Alignment })
		inspiration := best(offered, func(c *Choice) int { return c.Points.Inspiration })
		tradeOff = tradeOff || vision != alignment || vision != inspiration
	}
	if 3*longest > len(path) {
		t.Errorf("the best move is the strictly longest at %d of the best path's %d steps (at most a third)", longest, len(path))
	}
	if !tradeOff {
		t.Errorf("no step on the best path where the move best for vision differs from the one best for alignment or inspiration")
	}
	// Over the steps as written (every choice a variant may offer there).
	steps, twoGood := 0, 0
	for _, id := range v.StepOrder {
		st := v.Steps[id]
		shortest, longest := 1<<30, 0
		good := 0
		for _, c := range st.Choices {
			shortest, longest = min(shortest, len(c.Text)), max(longest, len(c.Text))
			if c.Points.Total() > 0 {
				good++
			}
		}
		if float64(longest) > 1.6*float64(shortest) {
			t.Errorf("step %s: choice texts run from %d to %d characters (keep the longest within 1.6× the shortest)", id, shortest, longest)
		}
		steps++
		if good >= 2 {
			twoGood++
		}
	}
	if 2*twoGood < steps {
		t.Errorf("%d of %d steps have two or more choices that earn points (at least half should: a good move and a better one)", twoGood, steps)
	}
	for _, e := range v.Endings {
		for _, f := range e.Text {
			if strings.Contains(" "+strings.ToLower(f.Text)+" ", " either ") {
				t.Errorf("ending %s reads like a menu (%s): say what this path caused", e.ID, fmt.Sprintf("%.60q", f.Text))
			}
		}
	}
}
