package quizzes

import "testing"

// BenchmarkDecision is the engine's share of one answer: judge the choice,
// then show the next step (its text, the choices its state offers in the
// attempt's order, and how many decisions remain), along the best path of
// every variant of every shipped scenario.
func BenchmarkDecision(b *testing.B) {
	all, err := LoadAll(Content(), nil)
	if err != nil {
		b.Fatal(err)
	}
	type decision struct {
		v      *Variant
		d      PathStep
		nextID string
	}
	var path []decision
	for _, sc := range all {
		for _, v := range sc.Variants {
			for _, d := range v.BestPath() {
				path = append(path, decision{v: v, d: d, nextID: v.route(d.Choice, d.After)})
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		x := path[i%len(path)]
		o, err := x.v.Answer(x.d.Step.ID, x.d.Before, x.d.Step.ID, x.d.Choice.ID)
		if err != nil {
			b.Fatal(err)
		}
		if o.Next != nil {
			_ = x.v.Render(o.Next.Text, o.State)
			_ = x.v.ChoiceOrder(o.Next, o.State, 42)
			_ = x.v.Remaining(o.Next.ID, o.State)
		}
	}
}
