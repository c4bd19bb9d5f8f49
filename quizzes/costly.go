package quizzes

// Costly is the decision of a path that cost the most points: the gap
// between the best that could still be earned at that step and what the
// choice made (with the best that remained after it) could earn.
type Costly struct {
	Step   *Step
	Chosen Choice
	Best   Choice // the choice that keeps the most within reach
	Lost   int
}

// worth is the most a path that takes c can still earn from c's step on.
func (sc *Scenario) worth(c Choice) int {
	if next := sc.Steps[c.Next]; next != nil {
		return c.Points.Total() + next.BestFrom
	}
	return c.Points.Total()
}

// CostliestDecision finds the answer of a path that lost the most against
// the best move available at its step (the first, on a tie); false when
// every answer was a best move.
func (sc *Scenario) CostliestDecision(answers []Answer) (Costly, bool) {
	var out Costly
	for _, a := range answers {
		step := sc.Steps[a.StepID]
		if step == nil {
			continue
		}
		chosen, ok := step.Choice(a.ChoiceID)
		if !ok {
			continue
		}
		best := step.Choices[0]
		for _, c := range step.Choices[1:] {
			if sc.worth(c) > sc.worth(best) {
				best = c
			}
		}
		if lost := sc.worth(best) - sc.worth(chosen); lost > out.Lost {
			out = Costly{Step: step, Chosen: chosen, Best: best, Lost: lost}
		}
	}
	return out, out.Lost > 0
}
