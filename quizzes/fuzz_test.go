package quizzes

import "testing"

// FuzzParse feeds arbitrary scenario files to the loader: it must never
// panic, and a scenario it accepts must score every path within 0–100 with
// the best path at 100.
func FuzzParse(f *testing.F) {
	f.Add(tiny)
	f.Add("slug: tiny\nstart: a\nsteps: []\n")
	f.Add("slug: tiny\nsteps:\n  - id: a\n    choices:\n      - {id: x, next: a}\n")
	f.Add("[1, 2")
	f.Add("slug: &x [*x]\n")
	f.Add("steps: !!binary aGVsbG8=\n")
	f.Fuzz(func(t *testing.T, src string) {
		sc, err := Parse("tiny.yaml", []byte(src), map[string]bool{"basics": true})
		if err != nil {
			return
		}
		for _, p := range paths(sc) {
			r := sc.Score(sum(p))
			if r.Percent < 0 || r.Percent > 100 {
				t.Fatalf("percent %d", r.Percent)
			}
		}
		if r := sc.Score(sumIDs(sc, sc.BestPath)); r.Percent != 100 {
			t.Fatalf("best path scores %d", r.Percent)
		}
	})
}
