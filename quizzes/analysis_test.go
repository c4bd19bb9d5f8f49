package quizzes

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestAnalyze(t *testing.T) {
	sc := mustParse(t, tiny)
	a, err := Analyze(sc)
	if err != nil {
		t.Fatal(err)
	}
	// good+well 7 (100%), good+badly 4 (57%), bad+well 1 (14%), bad+badly -2 (0%).
	if a.Paths != 4 || a.Passing != 1 || a.BestPercent != 100 || a.WorstPercent != 0 || a.PassingShare() != 0.25 {
		t.Fatalf("paths %+v", a)
	}
	if a.Endings["happy"] != (EndingPaths{Passing: 1, Failing: 1}) || a.Endings["sad"] != (EndingPaths{Failing: 2}) {
		t.Fatalf("endings %+v", a.Endings)
	}
	if got := a.SharedEndings(); !slices.Equal(got, []string{"happy"}) {
		t.Fatalf("shared endings %v", got)
	}
	if a.BestPathSkills != (Points{Vision: 2, Alignment: 2, Inspiration: 3}) {
		t.Fatalf("best path skills %+v", a.BestPathSkills)
	}
	if d := a.BestPathDecisions; d["vision"] != 1 || d["alignment"] != 2 || d["inspiration"] != 1 {
		t.Fatalf("decisions per skill %v", d)
	}
	for pair, r := range a.Correlation {
		if math.IsNaN(r) || r < -1 || r > 1 {
			t.Fatalf("%s: r = %v", pair, r)
		}
	}
}

func TestPearson(t *testing.T) {
	cases := []struct {
		name string
		x, y []float64
		want float64
	}{
		{"moving together", []float64{1, 2, 3}, []float64{2, 4, 6}, 1},
		{"moving apart", []float64{1, 2, 3}, []float64{3, 2, 1}, -1},
		{"unrelated", []float64{1, -1, 1, -1}, []float64{1, 1, -1, -1}, 0},
	}
	for _, tc := range cases {
		if got := pearson(tc.x, tc.y); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if !math.IsNaN(pearson([]float64{1, 1}, []float64{1, 2})) {
		t.Error("a skill that never varies has no correlation")
	}
}

// Every shipped scenario can be enumerated within the bound.
func TestAnalyzeShippedScenarios(t *testing.T) {
	all, err := LoadAll(Content(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range all {
		a, err := Analyze(sc)
		if err != nil || a.Paths == 0 || a.BestPercent != 100 {
			t.Errorf("%s: %v %+v", sc.Slug, err, a)
		}
	}
}

// A graph with more paths than MaxPaths is refused, not enumerated for ever.
func TestAnalyzeBound(t *testing.T) {
	src := "slug: wide\nmodule: basics\ntitle: Wide\npass_percent: 50\nintro: Many paths.\nstart: s0\nsteps:\n"
	const steps = 18 // 2^18 paths
	for i := range steps {
		next := fmt.Sprintf("next: s%d", i+1)
		if i == steps-1 {
			next = "ending: end"
		}
		src += fmt.Sprintf("  - id: s%d\n    text: Step.\n    choices:\n", i)
		src += fmt.Sprintf("      - id: a%d\n        text: A.\n        feedback: A because.\n        points: {vision: 1, alignment: 1, inspiration: 1}\n        %s\n", i, next)
		src += fmt.Sprintf("      - id: b%d\n        text: B.\n        feedback: B because.\n        points: {vision: -1}\n        %s\n", i, strings.Replace(next, "ending: end", "ending: other", 1))
	}
	src += "endings:\n  - id: end\n    title: End\n    text: Done.\n  - id: other\n    title: Other\n    text: Done too.\n"
	sc, err := Parse("wide.yaml", []byte(src), map[string]bool{"basics": true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Analyze(sc); !errors.Is(err, ErrTooManyPaths) {
		t.Fatalf("2^%d paths: %v", steps, err)
	}
}
