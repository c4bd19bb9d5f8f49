package quizzes

import (
	"errors"
	"math"
	"slices"
)

// MaxPaths bounds how many paths Analyze enumerates: a graph with more is
// too large to check path by path and is reported as such.
const MaxPaths = 200_000

// ErrTooManyPaths is Analyze's answer for a graph over MaxPaths paths.
var ErrTooManyPaths = errors.New("more paths than the checker enumerates")

// Analysis is what every path through a scenario earns: what an author
// needs to see whether the scenario measures what it should.
type Analysis struct {
	Paths        int
	Passing      int
	BestPercent  int
	WorstPercent int
	// Endings counts, per ending id, the passing and failing paths that
	// reach it; an ending reached by both is Shared.
	Endings map[string]EndingPaths
	// BestPathSkills is what the best path earns per skill, in points, and
	// how many of its decisions earn that skill anything.
	BestPathSkills    Points
	BestPathDecisions map[string]int
	// Correlation is Pearson's r between two skills' points across every
	// choice of the scenario ("vision/alignment", ...): near 1 means the
	// two are not measured apart. NaN when a skill's points never vary.
	Correlation map[string]float64
}

// EndingPaths counts the paths that reach one ending.
type EndingPaths struct{ Passing, Failing int }

// Shared reports an ending that passing and failing paths both reach: the
// ending then says nothing about how the learner did.
func (e EndingPaths) Shared() bool { return e.Passing > 0 && e.Failing > 0 }

// PassingShare is the share of paths that pass.
func (a Analysis) PassingShare() float64 {
	if a.Paths == 0 {
		return 0
	}
	return float64(a.Passing) / float64(a.Paths)
}

// SharedEndings lists the endings reached by passing and failing paths.
func (a Analysis) SharedEndings() []string {
	var out []string
	for id, e := range a.Endings {
		if e.Shared() {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// Analyze enumerates every path of sc (up to MaxPaths) and scores each.
func Analyze(sc *Scenario) (Analysis, error) {
	a := Analysis{Endings: map[string]EndingPaths{}, BestPercent: -1, WorstPercent: 101, BestPathDecisions: map[string]int{}}
	var walk func(step string, earned Points) error
	walk = func(step string, earned Points) error {
		for _, c := range sc.Steps[step].Choices {
			sum := earned.Add(c.Points)
			if c.Next != "" {
				if err := walk(c.Next, sum); err != nil {
					return err
				}
				continue
			}
			if a.Paths++; a.Paths > MaxPaths {
				return ErrTooManyPaths
			}
			r := sc.Score(sum)
			e := a.Endings[c.Ending]
			if r.Passed {
				a.Passing++
				e.Passing++
			} else {
				e.Failing++
			}
			a.Endings[c.Ending] = e
			a.BestPercent, a.WorstPercent = max(a.BestPercent, r.Percent), min(a.WorstPercent, r.Percent)
		}
		return nil
	}
	if err := walk(sc.Start, Points{}); err != nil {
		return a, err
	}
	step := sc.Steps[sc.Start]
	for _, id := range sc.BestPath {
		c, _ := step.Choice(id)
		a.BestPathSkills = a.BestPathSkills.Add(c.Points)
		for _, skill := range Skills {
			if c.Points.Get(skill) > 0 {
				a.BestPathDecisions[skill]++
			}
		}
		step = sc.Steps[c.Next]
	}
	a.Correlation = correlations(sc)
	return a, nil
}

// correlations is Pearson's r for each pair of skills over every choice.
func correlations(sc *Scenario) map[string]float64 {
	var values [3][]float64
	for _, id := range sc.StepOrder {
		for _, c := range sc.Steps[id].Choices {
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
