package quizzes

import (
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary scenario files to the loader: it must never
// panic, and a scenario whose structure it accepts must check (every path
// of every variant) without panicking, score every path within 0–100, and
// score each variant's best path 100.
func FuzzParse(f *testing.F) {
	f.Add(tiny)
	f.Add("slug: tiny\nstart: a\nsteps: []\n")
	f.Add("slug: tiny\nsteps:\n  - id: a\n    choices:\n      - {id: x, next: a}\n")
	f.Add("[1, 2")
	f.Add("slug: &x [*x]\n")
	f.Add("steps: !!binary aGVsbG8=\n")
	f.Add("state:\n  a.b.c: true\n  x: {min: 5, max: 1, start: 9}\n")
	f.Add(strings.Replace(tiny, "  brief_written: false", "  brief_written: false\n  brief_written: {min: 0, max: 3, start: 0}", 1))
	f.Fuzz(func(t *testing.T, src string) {
		sc, err := parse("tiny.yaml", []byte(src), map[string]bool{"basics": true})
		if err != nil {
			return
		}
		rep := Check(sc)
		for _, vr := range rep.Variants {
			if vr.TooMany || vr.Paths == 0 {
				continue
			}
			if vr.BestPercent > 100 || vr.WorstPercent < 0 {
				t.Fatalf("percent %d–%d", vr.WorstPercent, vr.BestPercent)
			}
			v := vr.Variant
			var earned Points
			for _, d := range v.BestPath() {
				earned = earned.Add(d.Choice.Points)
			}
			if r := v.Score(earned); v.BestTotal > 0 && r.Percent != 100 {
				t.Fatalf("best path scores %d", r.Percent)
			}
		}
	})
}
