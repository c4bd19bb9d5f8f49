package quizzes

import (
	"slices"
	"strings"
)

// Recommendation is the move a variant recommends at one step, for people
// who look at a step without a learner's state (a manager's analytics, a
// coaching brief).
type Recommendation struct {
	// ChoiceID is the recommended choice: on the best path, the best path's
	// move; elsewhere the move that is best from the most states the step
	// can be reached in. Empty when the step offers nothing anywhere.
	ChoiceID string
	// OnBestPath says the step lies on the variant's best path.
	OnBestPath bool
	// Always says the choice is the best move in every state the step can
	// be reached in; otherwise earlier moves can make another one better.
	Always bool
}

// Recommended is the move to recommend at a step of the variant.
func (v *Variant) Recommended(stepID string) Recommendation {
	// How often each choice is the best move over the reachable states.
	prefix := stepID + "\x00"
	best := map[string]int{}
	for key, n := range v.nodes {
		if strings.HasPrefix(key, prefix) && n.bestChoice != "" {
			best[n.bestChoice]++
		}
	}
	r := Recommendation{Always: len(best) == 1}
	for _, d := range v.BestPath() {
		if d.Step.ID == stepID {
			r.ChoiceID, r.OnBestPath = d.Choice.ID, true
			r.Always = r.Always && best[d.Choice.ID] > 0
			return r
		}
	}
	// Off the best path: the most frequent best move, ties to the one
	// written first.
	if step := v.Steps[stepID]; step != nil {
		most := 0
		for _, c := range step.Choices {
			if best[c.ID] > most {
				r.ChoiceID, most = c.ID, best[c.ID]
			}
		}
	}
	return r
}

// PathOrder lists the variant's steps in the order a learner meets them:
// every step after all the steps that can lead to it, from the start, ties
// kept in written order. A step nothing leads to in this variant comes
// where it is written among those left.
func (v *Variant) PathOrder() []string {
	written := map[string]int{}
	for i, id := range v.StepOrder {
		written[id] = i
	}
	incoming := map[string]int{}
	for _, id := range v.StepOrder {
		for _, to := range v.successors(id) {
			incoming[to]++
		}
	}
	out := make([]string, 0, len(v.StepOrder))
	placed := map[string]bool{}
	// ready holds the steps whose predecessors are all placed, in written
	// order; the start goes first.
	ready := []string{v.Start}
	for len(out) < len(v.StepOrder) {
		if len(ready) == 0 {
			// A cycle or an unreachable step: take the first one left.
			for _, id := range v.StepOrder {
				if !placed[id] {
					ready = append(ready, id)
					break
				}
			}
		}
		id := ready[0]
		ready = ready[1:]
		if placed[id] {
			continue
		}
		placed[id] = true
		out = append(out, id)
		for _, to := range v.successors(id) {
			if incoming[to]--; incoming[to] == 0 && !placed[to] {
				ready = append(ready, to)
			}
		}
		slices.SortStableFunc(ready, func(a, b string) int { return written[a] - written[b] })
	}
	return out
}

// successors lists the distinct steps any route of a step's choices leads
// to, whatever the state.
func (v *Variant) successors(stepID string) []string {
	var out []string
	step := v.Steps[stepID]
	if step == nil {
		return nil
	}
	for _, c := range step.Choices {
		for _, rt := range c.Next {
			if rt.To != "" && v.Steps[rt.To] != nil && !slices.Contains(out, rt.To) {
				out = append(out, rt.To)
			}
		}
	}
	return out
}
