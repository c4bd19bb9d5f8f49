package quizzes

import (
	"strings"
	"testing"
)

// TestParseRejections: every rule, reported as file:line.
func TestParseRejections(t *testing.T) {
	cases := []struct {
		name     string
		old, new string
		want     string
	}{
		{"invalid yaml", "title: Tiny", "title: Tiny: again", "tiny.yaml:3: invalid YAML"},
		{"unknown field", "title: Tiny", "title: Tiny\ncolour: blue", `tiny.yaml:4: unknown field "colour"`},
		{"slug must match file", "slug: tiny", "slug: small", `tiny.yaml:1: slug "small" must match the file name`},
		{"unknown module", "module: basics", "module: advanced", `tiny.yaml:2: unknown module "advanced"`},
		{"pass percent range", "pass_percent: 70", "pass_percent: 170", "tiny.yaml:4: pass_percent must be a whole number from 1 to 100"},
		{"bad cooldown", "pass_percent: 70", "pass_percent: 70\ncooldown: soon", `tiny.yaml:5: cooldown "soon"`},
		{"start unknown", "start: one", "start: zero", `tiny.yaml:6: start "zero" is not a step`},
		{"duplicate step id", "  - id: two\n", "  - id: one\n", `tiny.yaml:21: duplicate step id "one"`},
		{"duplicate choice id", "      - id: bad\n", "      - id: good\n", `tiny.yaml:16: duplicate choice id "good" (also line 11)`},
		{"unknown target step", "        next: two\n      - id: bad", "        next: three\n      - id: bad", `tiny.yaml:11: choice "good" leads to unknown step "three"`},
		{"unknown ending", "ending: sad", "ending: glad", `choice "finish-badly" leads to unknown ending "glad"`},
		{"both next and ending", "        ending: happy", "        ending: happy\n        next: one", `choice "finish-well" needs exactly one of next or ending`},
		{"missing feedback", "        feedback: Yes.\n", "", `tiny.yaml:24: choice "finish-well" has no feedback`},
		{"unknown skill", "{alignment: 1, inspiration: 3}", "{alignment: 1, charisma: 3}", `tiny.yaml:27: unknown skill "charisma"`},
		{"points not a number", "{vision: 1}", "{vision: lots}", "points for vision must be a whole number"},
		{"too few choices", "      - id: bad\n        text: Bad move.\n        feedback: Backfires because.\n        points: {vision: -1, inspiration: -2}\n        next: two\n", "", `step "one" has 1 choices; a step needs 2 to 4`},
		{"cycle", "        points: {vision: 1}\n        ending: sad", "        points: {vision: 1}\n        next: one", `choice "finish-badly" leads back to step "one": scenarios must not loop`},
		{"unreachable step", "endings:", "  - id: island\n    text: Nobody comes here.\n    choices:\n      - id: x1\n        text: a\n        feedback: b\n        points: {vision: 1}\n        ending: sad\n      - id: x2\n        text: a\n        feedback: b\n        points: {vision: 1}\n        ending: sad\nendings:", `step "island" cannot be reached from start`},
		{"unreachable ending", "    text: It did not.\n", "    text: It did not.\n  - id: lost\n    title: Lost\n    text: Never reached.\n", `ending "lost" cannot be reached`},
		{"ending without text", "    text: It did not.\n", "", `ending "sad" needs a title and a text`},
		{"skill nobody earns", "points: {alignment: 1, inspiration: 3}", "points: {alignment: 1}", "no path earns any inspiration points"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(tiny, tc.old) {
				t.Fatalf("fixture lacks %q", tc.old)
			}
			src := strings.Replace(tiny, tc.old, tc.new, 1)
			_, err := Parse("tiny.yaml", []byte(src), map[string]bool{"basics": true})
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("problems:\n%v\nwant one containing %q", err, tc.want)
			}
		})
	}
}

// paths enumerates every path from start: the choices taken and the points.
func paths(sc *Scenario) [][]Choice {
	var out [][]Choice
	var walk func(id string, so []Choice)
	walk = func(id string, so []Choice) {
		for _, c := range sc.Steps[id].Choices {
			p := append(append([]Choice(nil), so...), c)
			if c.Ending != "" {
				out = append(out, p)
			} else {
				walk(c.Next, p)
			}
		}
	}
	walk(sc.Start, nil)
	return out
}

func sum(p []Choice) Points {
	var s Points
	for _, c := range p {
		s = s.Add(c.Points)
	}
	return s
}

// TestShippedScenarios holds the real scenarios to the course's bar and to
// the engine's properties on every possible path.
func TestShippedScenarios(t *testing.T) {
	all, err := LoadAll(Content(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 7 {
		t.Fatalf("%d scenarios; the course needs one per module and a capstone", len(all))
	}
	for _, sc := range all {
		t.Run(sc.Slug, func(t *testing.T) {
			ps := paths(sc)
			longest, best, worst := 0, 0, 100
			endings := map[string]bool{}
			for _, p := range ps {
				longest = max(longest, len(p))
				r := sc.Score(sum(p))
				if r.Percent < 0 || r.Percent > 100 {
					t.Fatalf("percent %d out of range", r.Percent)
				}
				for _, skill := range Skills {
					if v := r.Skills.Get(skill); v < 0 || v > 100 {
						t.Fatalf("%s %d out of range", skill, v)
					}
				}
				best, worst = max(best, r.Percent), min(worst, r.Percent)
				endings[p[len(p)-1].Ending] = true
				// Stepping the path through the engine ends at its ending.
				cur := sc.Start
				for i, c := range p {
					out, err := sc.Answer(cur, cur, c.ID)
					if err != nil {
						t.Fatalf("path step %d: %v", i, err)
					}
					if out.Ending != nil {
						cur = ""
						break
					}
					cur = out.Next.ID
				}
				if cur != "" {
					t.Fatal("a path did not end")
				}
			}
			if best != 100 {
				t.Errorf("the best path scores %d, not 100", best)
			}
			if r := sc.Score(sumIDs(sc, sc.BestPath)); r.Percent != 100 || !r.Passed {
				t.Errorf("BestPath scores %+v", r)
			}
			if longest < 4 {
				t.Errorf("longest path has %d decisions, needs 4", longest)
			}
			if len(endings) < 2 {
				t.Errorf("%d distinct endings", len(endings))
			}
			if best-worst < 30 {
				t.Errorf("spread %d–%d under 30 points", worst, best)
			}
			t.Logf("%d paths, longest %d, worst %d%%, %d endings", len(ps), longest, worst, len(endings))
		})
	}
}

func sumIDs(sc *Scenario, ids []string) Points {
	var s Points
	cur := sc.Start
	for _, id := range ids {
		c, _ := sc.Steps[cur].Choice(id)
		s = s.Add(c.Points)
		cur = c.Next
	}
	return s
}
