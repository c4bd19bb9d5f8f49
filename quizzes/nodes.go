package quizzes

import "fmt"

// node is what can still happen from one step in one state: every path's
// outcome there depends on nothing else, so it is computed once per
// reachable (step, state) at load time.
type node struct {
	longest    int    // decisions on the longest way to the end, this one included
	best       int    // the most points any way from here earns
	skills     Points // per skill, the most any way from here earns on it
	bestChoice string // the choice on the best way
}

func nodeKey(step string, st State) string { return step + "\x00" + st.key() }

// MaxNodes bounds the (step, state) pairs a variant may reach: independent
// flags multiply them, and past this the graph is too large to reason about.
const MaxNodes = MaxPaths

// computeNodes fills v.nodes for every (step, state) reachable from the
// start, and the variant's best totals; false when there are more than
// MaxNodes.
func (v *Variant) computeNodes() bool {
	v.nodes = map[string]node{}
	step, st := v.Begin()
	n := v.visit(v.nodes, step, st)
	v.BestTotal, v.BestSkills = n.best, n.skills
	return len(v.nodes) <= MaxNodes
}

// visit computes the node of (stepID, st), memoised in memo; once memo
// holds more than MaxNodes it stops exploring.
func (v *Variant) visit(memo map[string]node, stepID string, st State) node {
	key := nodeKey(stepID, st)
	if n, ok := memo[key]; ok {
		return n
	}
	if len(memo) > MaxNodes {
		return node{}
	}
	step := v.Steps[stepID]
	out := node{best: minInt, skills: Points{minInt, minInt, minInt}}
	for _, c := range v.Offered(step, st) {
		after := v.Scenario.state.apply(st, c.Effects)
		total, skills, longest := c.Points.Total(), c.Points, 1
		if to := v.route(c, after); to != "" {
			next := v.visit(memo, to, after)
			total, longest = total+next.best, longest+next.longest
			skills = skills.Add(next.skills)
		}
		if total > out.best {
			out.best, out.bestChoice = total, c.ID
		}
		out.longest = max(out.longest, longest)
		out.skills = Points{max(out.skills.Vision, skills.Vision), max(out.skills.Alignment, skills.Alignment),
			max(out.skills.Inspiration, skills.Inspiration)}
	}
	if out.bestChoice == "" { // nothing offered: the checks report the dead end
		out = node{}
	}
	memo[key] = out
	return out
}

// nodeAt is the node of a step in a state: computed at load for every
// reachable one; any other (a stored attempt's state from an older rule)
// is computed afresh, without touching the shared memo.
func (v *Variant) nodeAt(stepID string, st State) node {
	if n, ok := v.nodes[nodeKey(stepID, st)]; ok {
		return n
	}
	return v.visit(map[string]node{}, stepID, st)
}

// Remaining is how many decisions the longest way from this step in state
// st to the end takes, this one included.
func (v *Variant) Remaining(stepID string, st State) int { return v.nodeAt(stepID, st).longest }

// PathStep is one decision of a path: the step, the choice, and the state
// the step was met in.
type PathStep struct {
	Step   *Step
	Choice *Choice
	Before State
	After  State
}

// BestPath is the path that earns the most from the start.
func (v *Variant) BestPath() []PathStep { return v.BestPathFrom(v.Begin()) }

// BestPathFrom is the path that earns the most from a step in a state.
func (v *Variant) BestPathFrom(stepID string, st State) []PathStep {
	var out []PathStep
	for stepID != "" {
		step := v.Steps[stepID]
		c, ok := step.Choice(v.nodeAt(stepID, st).bestChoice)
		if !ok {
			break
		}
		after := v.Scenario.state.apply(st, c.Effects)
		out = append(out, PathStep{Step: step, Choice: c, Before: st, After: after})
		stepID, st = v.route(c, after), after
	}
	return out
}

// Replay walks recorded answers from a step in a state (Begin, for a whole
// attempt), rebuilding the state each decision was made in. An answer that
// does not fit the variant (a step off the path, a choice not offered) is
// an error: stored history must never be shown wrong.
func (v *Variant) Replay(stepID string, st State, answers []Answer) ([]PathStep, error) {
	out := make([]PathStep, 0, len(answers))
	for i, a := range answers {
		if a.StepID != stepID {
			return out, fmt.Errorf("answer %d is for step %q, but the path is at %q", i+1, a.StepID, stepID)
		}
		o, err := v.Answer(stepID, st, a.StepID, a.ChoiceID)
		if err != nil {
			return out, fmt.Errorf("answer %d (%s/%s): %w", i+1, a.StepID, a.ChoiceID, err)
		}
		out = append(out, PathStep{Step: v.Steps[stepID], Choice: o.Choice, Before: st, After: o.State})
		stepID, st = "", o.State
		if o.Next != nil {
			stepID = o.Next.ID
		}
	}
	return out, nil
}

// BestChoice is the id of the choice on the best way from a step in a state.
func (v *Variant) BestChoice(stepID string, st State) string { return v.nodeAt(stepID, st).bestChoice }

// After is the state a choice leaves behind when taken in st.
func (v *Variant) After(c *Choice, st State) State { return v.Scenario.state.apply(st, c.Effects) }

// Ending finds an ending of the variant by id; nil when none has it.
func (v *Variant) Ending(id string) *Ending { return v.ending(id) }
