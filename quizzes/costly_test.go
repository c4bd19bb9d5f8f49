package quizzes

import "testing"

func TestCostliestDecision(t *testing.T) {
	sc := mustParse(t, tiny)
	// one: good keeps 7 within reach, bad 1; two: well earns 4, badly 1.
	cases := []struct {
		name     string
		path     []Answer
		ok       bool
		step     string
		chosen   string
		best     string
		lostWant int
	}{
		{"the best path costs nothing", []Answer{{StepID: "one", ChoiceID: "good"}, {StepID: "two", ChoiceID: "finish-well"}}, false, "", "", "", 0},
		{"the first move costs most", []Answer{{StepID: "one", ChoiceID: "bad"}, {StepID: "two", ChoiceID: "finish-badly"}}, true, "one", "bad", "good", 6},
		{"only the last move cost", []Answer{{StepID: "one", ChoiceID: "good"}, {StepID: "two", ChoiceID: "finish-badly"}}, true, "two", "finish-badly", "finish-well", 3},
		{"unknown steps and choices are passed over", []Answer{{StepID: "gone", ChoiceID: "x"}, {StepID: "one", ChoiceID: "nope"}}, false, "", "", "", 0},
	}
	for _, tc := range cases {
		c, ok := sc.CostliestDecision(tc.path)
		if ok != tc.ok {
			t.Errorf("%s: ok %v", tc.name, ok)
			continue
		}
		if !ok {
			continue
		}
		if c.Step.ID != tc.step || c.Chosen.ID != tc.chosen || c.Best.ID != tc.best || c.Lost != tc.lostWant {
			t.Errorf("%s: %s %s→%s lost %d", tc.name, c.Step.ID, c.Chosen.ID, c.Best.ID, c.Lost)
		}
	}
}
