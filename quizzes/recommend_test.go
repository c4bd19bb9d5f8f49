package quizzes

import (
	"slices"
	"strings"
	"testing"
)

// The recommended move at a step is the best path's there, or the move
// best from most states off it; Always says whether earlier moves can
// change it.
func TestRecommended(t *testing.T) {
	sc := mustParse(t, tiny)
	freeze, budget := mustVariant(t, sc, "freeze"), mustVariant(t, sc, "budget")
	cases := []struct {
		v      *Variant
		step   string
		want   Recommendation
		reason string
	}{
		{freeze, "one", Recommendation{"write-brief", true, true}, "the start has one state"},
		// After skipping the brief (trust 2) talking ends the scenario
		// early, so deferring earns more there.
		{freeze, "two", Recommendation{"show-brief", true, false}, "the best path shows the brief; without one, defer is best"},
		{freeze, "three", Recommendation{"rally", true, true}, "rallying is best in every state"},
		{budget, "one", Recommendation{"skip-brief", true, true}, "the override makes skipping right"},
		{budget, "two", Recommendation{"defer", true, false}, "no brief and low trust: defer"},
	}
	for _, c := range cases {
		if got := c.v.Recommended(c.step); got != c.want {
			t.Errorf("%s/%s: %+v, want %+v (%s)", c.v.ID, c.step, got, c.want, c.reason)
		}
	}
	if got := freeze.Recommended("no-such-step"); got.ChoiceID != "" {
		t.Errorf("an unknown step recommends %+v", got)
	}
}

// PathOrder puts every step after the steps that lead to it, whatever
// order the file writes them in.
func TestPathOrder(t *testing.T) {
	block := tiny[strings.Index(tiny, "  - id: four\n"):strings.Index(tiny, "endings:\n")]
	shuffled := strings.Replace(strings.Replace(tiny, block, "", 1), "steps:\n", "steps:\n"+block, 1)
	v := mustVariant(t, mustParse(t, shuffled), "freeze")
	if v.StepOrder[0] != "four" {
		t.Fatalf("the fixture did not move step four first: %v", v.StepOrder)
	}
	if got, want := v.PathOrder(), []string{"one", "two", "three", "four"}; !slices.Equal(got, want) {
		t.Fatalf("path order %v, want %v", got, want)
	}

	all, err := LoadAll(Content(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range all {
		for _, v := range sc.Variants {
			order := v.PathOrder()
			if order[0] != v.Start || !slices.Equal(slices.Sorted(slices.Values(order)), slices.Sorted(slices.Values(v.StepOrder))) {
				t.Fatalf("%s/%s: path order %v is not the steps %v from the start", sc.Slug, v.ID, order, v.StepOrder)
			}
			for i, id := range order {
				for _, to := range v.successors(id) {
					if slices.Index(order, to) <= i {
						t.Errorf("%s/%s: %s leads to %s, listed before it: %v", sc.Slug, v.ID, id, to, order)
					}
				}
			}
		}
	}
}
