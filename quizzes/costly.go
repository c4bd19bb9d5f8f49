package quizzes

// Costly is the decision of a path that cost the most points: the gap
// between the best that could still be earned at that step in that state
// and what the choice made (with the best that remained after it) could
// earn.
type Costly struct {
	Position int // the decision's index in the path
	Decision PathStep
	Best     *Choice // the choice that keeps the most within reach
	Lost     int
}

// worth is the most a path that takes c in state st can still earn from
// c's step on.
func (v *Variant) worth(c *Choice, st State) int {
	after := v.Scenario.state.apply(st, c.Effects)
	if to := v.route(c, after); to != "" {
		return c.Points.Total() + v.nodeAt(to, after).best
	}
	return c.Points.Total()
}

// CostliestDecision finds the decision of a replayed path that lost the
// most against the best move open at its step in its state (the first, on
// a tie); false when every decision was a best move.
func (v *Variant) CostliestDecision(path []PathStep) (Costly, bool) {
	var out Costly
	for i, d := range path {
		var best *Choice
		for _, c := range v.Offered(d.Step, d.Before) {
			if best == nil || v.worth(c, d.Before) > v.worth(best, d.Before) {
				best = c
			}
		}
		if best == nil {
			continue
		}
		if lost := v.worth(best, d.Before) - v.worth(d.Choice, d.Before); lost > out.Lost {
			out = Costly{Position: i, Decision: d, Best: best, Lost: lost}
		}
	}
	return out, out.Lost > 0
}
