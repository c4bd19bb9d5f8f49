package quizzes

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/baton-course/baton/server/contentfile"
)

// MaxPaths bounds how many paths Check enumerates per variant: a graph with
// more is too large to check path by path and is reported as such.
const MaxPaths = 200_000

// ErrTooManyPaths is Check's answer for a variant over MaxPaths paths.
var ErrTooManyPaths = errors.New("more paths than the checker enumerates")

// The bar every variant of a shipped scenario meets.
const (
	minVariants       = 2
	minDecisions      = 4 // on the longest path
	minEndingsReached = 2
	minSpread         = 30 // best percent minus worst percent
	minSkillPoints    = 8  // per skill, on the best path
	maxCorrelation    = 0.6
)

// Report is what every path of every variant of a scenario earns, and
// everything wrong with it, for authors (check-content) and the loader.
type Report struct {
	Scenario *Scenario
	// TurnedRules lists the steps where variants disagree on the best move
	// from the start state of the best path: where a usual rule is wrong.
	TurnedRules []string
	Variants    []VariantReport
	// Endings counts, per ending id and over every variant, the passing and
	// failing paths that reach it.
	Endings  map[string]EndingPaths
	Problems contentfile.Problems
}

// VariantReport is the analysis of one variant's paths.
type VariantReport struct {
	Variant      *Variant
	Paths        int
	Passing      int
	BestPercent  int
	WorstPercent int
	Longest      int // decisions on the longest path
	Endings      map[string]EndingPaths
	// BestPathSkills is what the best path earns per skill, in points, and
	// BestPathDecisions how many of its decisions earn that skill anything.
	BestPathSkills    Points
	BestPathDecisions map[string]int
	// Correlation is Pearson's r between two skills' points across every
	// choice of the variant ("vision/alignment", ...): near 1 means the two
	// are not measured apart. NaN when a skill's points never vary.
	Correlation map[string]float64
	TooMany     bool
}

// EndingPaths counts the paths that reach one ending.
type EndingPaths struct{ Passing, Failing int }

// Shared reports an ending that passing and failing paths both reach: the
// ending then says nothing true about how the learner did.
func (e EndingPaths) Shared() bool { return e.Passing > 0 && e.Failing > 0 }

// PassingShare is the share of paths that pass.
func (r VariantReport) PassingShare() float64 {
	if r.Paths == 0 {
		return 0
	}
	return float64(r.Passing) / float64(r.Paths)
}

// SharedEndings lists the endings reached by passing and failing paths.
func (r Report) SharedEndings() []string {
	var out []string
	for id, e := range r.Endings {
		if e.Shared() {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// Check enumerates every path of every variant with its state and holds
// the scenario to the course's bar: the problems it finds are why Parse
// rejects a file. A format-1 file (read only for stored versions) gets the
// analysis without the bar.
func Check(sc *Scenario) Report {
	rep := Report{Scenario: sc, Endings: map[string]EndingPaths{}}
	stepsReached := map[string]bool{}
	for _, v := range sc.Variants {
		rep.Variants = append(rep.Variants, rep.checkVariant(v, stepsReached))
	}
	if sc.Format1 {
		rep.Problems.Add(sc.File, 1, "this is format 1 (choices name their endings, no state, no variants), read only for versions attempts are pinned to: declare variants, and let the endings' conditions choose (docs/authoring.md)")
		return rep
	}
	base := sc.Variants[0]
	rep.TurnedRules = turnedRules(sc)
	if len(sc.Variants) < minVariants {
		rep.Problems.Add(sc.File, 1, "a scenario needs at least %d variants, so a retake meets a new situation", minVariants)
	}
	for _, id := range base.StepOrder {
		if !stepsReached[id] {
			rep.Problems.Add(sc.File, base.Steps[id].line, "step %q cannot be reached in any variant", id)
		}
	}
	for _, e := range base.Endings {
		switch paths := rep.Endings[e.ID]; {
		case paths.Passing+paths.Failing == 0:
			rep.Problems.Add(sc.File, e.line, "ending %q cannot be reached in any variant", e.ID)
		case paths.Shared():
			rep.Problems.Add(sc.File, e.line, "ending %q is reached by %d passing and %d failing paths: an ending must tell the learner the truth, so give it a condition on passed",
				e.ID, paths.Passing, paths.Failing)
		}
	}
	return rep
}

func (rep *Report) checkVariant(v *Variant, stepsReached map[string]bool) VariantReport {
	sc := v.Scenario
	vr := VariantReport{Variant: v, Endings: map[string]EndingPaths{}, BestPercent: -1, WorstPercent: 101,
		BestPathDecisions: map[string]int{}, Longest: v.Remaining(v.Begin())}
	add := func(line int, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if len(sc.Variants) > 1 {
			msg = "variant " + v.ID + ": " + msg
		}
		if line == 0 { // the variant as a whole
			line = max(v.line, 1)
		}
		rep.Problems.Add(sc.File, line, "%s", msg)
	}
	type where struct {
		line int
		kind string
	}
	reported := map[where]bool{} // one problem of a kind per line and variant is enough
	once := func(line int, format string, args ...any) {
		if w := (where{line, format}); !reported[w] {
			reported[w] = true
			add(line, format, args...)
		}
	}
	assumed := func(t Text, st State, where string) {
		env := sc.state.env(st, nil)
		for _, f := range t {
			if f.When.holds(env) && !f.Assumes.holds(env) {
				once(f.line, "%s assumes %s, but it is shown when %s", where, f.Assumes.Source, sc.state.describe(st))
			}
		}
	}
	checkedNodes := map[string]bool{}
	offeredChoices := map[*Choice]bool{} // the choices some reachable state offers
	var walk func(stepID string, st State, earned Points, last *Choice) error
	walk = func(stepID string, st State, earned Points, last *Choice) error {
		if stepID == "" {
			if vr.Paths++; vr.Paths > MaxPaths {
				return ErrTooManyPaths
			}
			r, e := v.Finish(st, earned, last)
			counts, all := vr.Endings[e.ID], rep.Endings[e.ID]
			if r.Passed {
				vr.Passing++
				counts.Passing++
				all.Passing++
			} else {
				counts.Failing++
				all.Failing++
			}
			vr.Endings[e.ID], rep.Endings[e.ID] = counts, all
			vr.BestPercent, vr.WorstPercent = max(vr.BestPercent, r.Percent), min(vr.WorstPercent, r.Percent)
			env := sc.state.env(st, &resultFacts{Percent: r.Percent, Passed: r.Passed, Skills: r.Skills})
			for _, f := range e.Text {
				if f.When.holds(env) && !f.Assumes.holds(env) {
					once(f.line, "ending %q assumes %s, but it is shown when %s", e.ID, f.Assumes.Source, sc.state.describe(st))
				}
			}
			return nil
		}
		step := v.Steps[stepID]
		stepsReached[stepID] = true
		offered := v.Offered(step, st)
		if key := nodeKey(stepID, st); !checkedNodes[key] {
			checkedNodes[key] = true
			env := sc.state.env(st, nil)
			if !step.Assumes.holds(env) {
				once(step.line, "step %q assumes %s, but it is reached when %s", stepID, step.Assumes.Source, sc.state.describe(st))
			}
			if n := len(offered); !sc.Format1 && (n < minChoices || n > maxChoices) {
				once(step.line, "step %q offers %d choices when %s; every state it is reached in must offer %d to %d", stepID, n, sc.state.describe(st), minChoices, maxChoices)
			}
			assumed(step.Text, st, "step "+stepID+"'s text")
			if v.Render(step.Text, st) == "" {
				once(step.line, "step %q shows no text when %s: keep one fragment without when", stepID, sc.state.describe(st))
			}
			for _, c := range offered {
				after := sc.state.apply(st, c.Effects)
				assumed(c.Feedback, after, "the feedback of "+c.ID)
				if v.Render(c.Feedback, after) == "" {
					once(c.line, "choice %q gives no feedback when %s: keep one fragment without when", c.ID, sc.state.describe(after))
				}
			}
		}
		for _, c := range offered {
			offeredChoices[c] = true
			after := sc.state.apply(st, c.Effects)
			if err := walk(v.route(c, after), after, earned.Add(c.Points), c); err != nil {
				return err
			}
		}
		return nil
	}
	start, st := v.Begin()
	if err := walk(start, st, Points{}, nil); err != nil {
		vr.TooMany = true
		add(0, "more than %d paths: the checker cannot prove the endings; split the scenario or share fewer branches", MaxPaths)
		return vr
	}
	for _, d := range v.BestPath() {
		vr.BestPathSkills = vr.BestPathSkills.Add(d.Choice.Points)
		for _, skill := range Skills {
			if d.Choice.Points.Get(skill) > 0 {
				vr.BestPathDecisions[skill]++
			}
		}
	}
	vr.Correlation = correlations(v, offeredChoices)
	for _, skill := range Skills {
		if v.BestSkills.Get(skill) <= 0 {
			add(0, "no path earns any %s points, so that skill cannot be scored", skill)
		}
	}
	if v.BestTotal <= 0 {
		add(0, "the best path earns no points")
	}
	if sc.Format1 {
		return vr
	}
	reached := 0
	for _, e := range vr.Endings {
		if e.Passing+e.Failing > 0 {
			reached++
		}
	}
	if reached < minEndingsReached {
		add(0, "only %d ending(s) reached; a variant needs at least %d", reached, minEndingsReached)
	}
	if vr.Longest < minDecisions {
		add(0, "the longest path has %d decisions; a variant needs at least %d", vr.Longest, minDecisions)
	}
	if spread := vr.BestPercent - vr.WorstPercent; spread < minSpread {
		add(0, "paths score from %d%% to %d%%: a spread under %d points does not tell good judgement from poor", vr.WorstPercent, vr.BestPercent, minSpread)
	}
	if sc.MeasurementNote == "" {
		for _, skill := range Skills {
			if n := vr.BestPathSkills.Get(skill); n < minSkillPoints {
				add(0, "the best path earns %d %s points; a skill needs at least %d to be measured (or say why in measurement_note)", n, skill, minSkillPoints)
			}
		}
		for _, pair := range slices.Sorted(maps.Keys(vr.Correlation)) {
			switch r := vr.Correlation[pair]; {
			case math.IsNaN(r):
				add(0, "%s: one of the two skills' points never vary across the choices, so it is not measured (or say why in measurement_note)", pair)
			case r > maxCorrelation:
				add(0, "%s points correlate at %.2f across choices; above %.1f the skills are not measured apart (or say why in measurement_note)", pair, r, maxCorrelation)
			}
		}
	}
	return vr
}

// describe names a state for an author: "trust.ewan=3, brief_written=false".
func (s *schema) describe(st State) string {
	if len(st) == 0 {
		return "the scenario starts"
	}
	parts := make([]string, len(st))
	for i, v := range s.vars {
		if v.Flag {
			parts[i] = fmt.Sprintf("%s=%t", v.Name, st[i] != 0)
		} else {
			parts[i] = fmt.Sprintf("%s=%d", v.Name, st[i])
		}
	}
	return strings.Join(parts, ", ")
}

// correlations is Pearson's r for each pair of skills over every choice
// the variant can offer (a choice no reachable state offers measures
// nothing).
func correlations(v *Variant, offered map[*Choice]bool) map[string]float64 {
	var values [3][]float64
	for _, id := range v.StepOrder {
		for _, c := range v.Steps[id].Choices {
			if !offered[c] {
				continue
			}
			for i, skill := range Skills {
				values[i] = append(values[i], float64(c.Points.Get(skill)))
			}
		}
	}
	out := map[string]float64{}
	for i := range Skills {
		for j := i + 1; j < len(Skills); j++ {
			out[Skills[i]+"/"+Skills[j]] = pearson(values[i], values[j])
		}
	}
	return out
}

func pearson(x, y []float64) float64 {
	n := float64(len(x))
	var sx, sy, sxx, syy, sxy float64
	for i := range x {
		sx, sy = sx+x[i], sy+y[i]
		sxx, syy, sxy = sxx+x[i]*x[i], syy+y[i]*y[i], sxy+x[i]*y[i]
	}
	den := math.Sqrt((n*sxx - sx*sx) * (n*syy - sy*sy))
	if den == 0 {
		return math.NaN()
	}
	return (n*sxy - sx*sy) / den
}

// Describe names a state of sc for an author.
func (sc *Scenario) Describe(st State) string { return sc.state.describe(st) }

// turnedRules lists the steps at which some variant's best path takes
// another move than the first variant's best path does at the same step.
func turnedRules(sc *Scenario) []string {
	first := map[string]string{}
	for _, d := range sc.Variants[0].BestPath() {
		first[d.Step.ID] = d.Choice.ID
	}
	var out []string
	for _, v := range sc.Variants[1:] {
		for _, d := range v.BestPath() {
			if c, ok := first[d.Step.ID]; ok && c != d.Choice.ID && !slices.Contains(out, d.Step.ID) {
				out = append(out, d.Step.ID)
			}
		}
	}
	return out
}
