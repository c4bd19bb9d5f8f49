package quizzes

import (
	"fmt"
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
		{"parameters in the intro", "intro: A small scenario with state.", "intro: A small scenario with {lead}.", "tiny.yaml:5: the intro is shown before a variant is chosen"},
		{"parameters in the title", "title: Tiny", "title: Tiny for {lead}", "tiny.yaml:3: the title is shown before a variant is chosen"},
		{"a step that shows no text", "    text: \"{lead} asks for a plan.\"", "    text:\n      - {text: \"{lead} asks.\", when: brief_written}", `tiny.yaml:23: variant freeze: step "one" shows no text when trust.lead=5, brief_written=false`},
		{"a state name written twice", "  brief_written: false", "  brief_written: false\n  brief_written: {min: 0, max: 3, start: 0}", `tiny.yaml:10: "brief_written" is written twice (also line 9)`},
		{"a grouped name written twice", "  brief_written: false", "  brief_written: false\n  trust.lead: {min: 0, max: 10, start: 1}", `tiny.yaml:10: "trust.lead" is written twice (also line 8)`},
		{"a field written twice", "        feedback: Good.\n", "        feedback: Good.\n        feedback: Better.\n", `tiny.yaml:29: "feedback" is written twice (also line 28)`},
		{"conditions cannot read the clock", "          - {when: \"trust.lead < 4\", to: end}", "          - {when: \"trust.lead < 4 || now().Year() > 2100\", to: end}", `tiny.yaml:56: condition "trust.lead < 4 || now().Year() > 2100"`},
		{"an empty route", "        next: four\n      - id: order", "        next: \"\"\n      - id: order", `tiny.yaml:71: choice "rally": a route needs a step id or end`},
		{"set outside the range", "add: {trust.lead: -3}", "set: {trust.lead: 30}", "tiny.yaml:36: set trust.lead to 30: outside its range 0 to 10"},
		{"an override blanks a choice", "        points: {vision: 4, alignment: 4, inspiration: 4}\n", "        points: {vision: 4, alignment: 4, inspiration: 4}\n        text: \"\"\n", `tiny.yaml:20: override of "skip-brief": a choice needs text`},
		{"reserved state name", "  brief_written: false", "  passed: false", `tiny.yaml:9: state name "passed" is reserved`},
		{"meter range", "{min: 0, max: 10, start: 5}", "{min: 0, max: 10, start: 50}", "tiny.yaml:8: meter trust.lead needs min < max and a start between them"},
		{"a name and a group", "  brief_written: false", "  trust: false", `tiny.yaml:9: "trust" is used both as a state name and as a group of names`},
		{"unknown state in a condition", "when: brief_written\n        assumes", "when: brief_writen\n        assumes", "tiny.yaml:42: condition \"brief_writen\": unknown name brief_writen"},
		{"unknown member of a group", "assumes: trust.lead >= 6", "assumes: trust.boss >= 6", "tiny.yaml:43: condition \"trust.boss >= 6\": no such state: boss"},
		{"a condition of the wrong type", "assumes: trust.lead >= 6", "assumes: trust.lead", "tiny.yaml:43: condition \"trust.lead\": expected bool"},
		{"step conditions cannot see the score", "assumes: trust.lead >= 6", "assumes: percent > 50", "tiny.yaml:43: condition \"percent > 50\": unknown name percent"},
		{"effect on unknown state", "add: {trust.lead: -3}", "add: {trust.boss: -3}", `tiny.yaml:36: no such state "trust.boss"`},
		{"adding to a flag", "add: {trust.lead: -3}", "add: {brief_written: 1}", "tiny.yaml:36: brief_written is a flag"},
		{"unknown parameter", "text: \"{lead} asks for a plan.\"", "text: \"{boss} asks for a plan.\"", "tiny.yaml:24: {boss}: no such parameter"},
		{"lone brace", "text: Rally the team?", "text: Rally the team {now?", "tiny.yaml:65: a lone brace"},
		{"variants declare the same parameters", "params: {lead: Yasmin}", "params: {lead: Yasmin, boss: Ann}", `tiny.yaml:14: variant "budget" declares parameters`},
		{"override of nothing", "      skip-brief:\n", "      skip-briefing:\n", `tiny.yaml:18: override of "skip-briefing": no step or choice has that id`},
		{"a route list ends without a fallback", "          - {to: three}", "          - {when: \"trust.lead >= 4\", to: three}", "tiny.yaml:57: choice \"talk\": every route but the last needs when"},
		{"format 2 choices name no ending", "        next: four\n      - id: order", "        ending: good\n      - id: order", `tiny.yaml:71: choice "rally" names an ending`},
		{"route to unknown step", "        next: four\n      - id: order", "        next: five\n      - id: order", `tiny.yaml:71: choice "rally" leads to unknown step "five"`},
		{"a loop", "        next: four\n      - id: order", "        next: two\n      - id: order", `choice "rally" leads back to step "two": scenarios must not loop`},
		{"the fallback ending has no condition", "    title: Bad\n", "    when: \"!passed\"\n    title: Bad\n", `tiny.yaml:103: ending "bad": every ending but the last needs when, and the last has none`},
		{"every other ending has one", "    when: passed\n", "", `tiny.yaml:99: ending "lucky": every ending but the last needs when`},
		{"an ending reached by passing and failing paths", "when: passed && trust.lead >= 5", "when: trust.lead >= 5", `tiny.yaml:95: ending "good" is reached by 6 passing and 14 failing paths`},
		{"an ending nobody reaches", "when: passed && trust.lead >= 5", "when: passed && trust.lead >= 11", `tiny.yaml:95: ending "good" cannot be reached in any variant`},
		{"an assumption a path breaks", "assumes: trust.lead >= 6", "assumes: trust.lead >= 8", "tiny.yaml:41: variant freeze: step two's text assumes trust.lead >= 8, but it is shown when trust.lead=7, brief_written=true"},
		{"a state that offers one choice", "      - id: defer\n", "      - id: defer\n        when: brief_written\n", "tiny.yaml:38: variant freeze: step \"two\" offers 1 choices when trust.lead=2, brief_written=false"},
		{"one variant is not enough", "  - id: budget\n    title: \"{lead} and the budget\"\n    params: {lead: Yasmin}\n    overrides:\n      skip-brief:\n        points: {vision: 4, alignment: 4, inspiration: 4}\n        feedback: Here the brief would have been late; skipping it was right.\n", "", "tiny.yaml:1: a scenario needs at least 2 variants"},
		{"skills must be measured apart", "measurement_note: A test fixture, too small to measure skills apart.\n", "", "tiny.yaml:10: variant freeze: the best path earns 5 vision points; a skill needs at least 8"},
		{"too short", "        next: four\n      - id: order\n        text: Order.\n        feedback: No.\n        points: {inspiration: -3}\n        effects: {add: {trust.lead: -2}}\n        next: four",
			"        next: end\n      - id: order\n        text: Order.\n        feedback: No.\n        points: {inspiration: -3}\n        effects: {add: {trust.lead: -2}}\n        next: end",
			"variant freeze: the longest path has 3 decisions; a variant needs at least 4"},
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

// TestShippedScenarios holds every shipped scenario to the course's bar
// (Parse runs every check over every path of every variant) and plays
// every variant's best path through the engine.
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
			rep := Check(sc)
			if len(rep.Problems) > 0 || len(rep.SharedEndings()) > 0 {
				t.Fatalf("problems %v, shared endings %v", rep.Problems, rep.SharedEndings())
			}
			for _, v := range sc.Variants {
				var ids []string
				for _, d := range v.BestPath() {
					ids = append(ids, d.Choice.ID)
				}
				st, earned, last, _ := walk(t, v, ids...)
				if r, e := v.Finish(st, earned, last); r.Percent != 100 || !r.Passed || e == nil {
					t.Errorf("variant %s: the best path scores %+v", v.ID, r)
				}
			}
		})
	}
}

// TestNodeBound: independent flags multiply the states a variant reaches;
// past MaxNodes the loader refuses the file quickly instead of exploring
// them all.
func TestNodeBound(t *testing.T) {
	const flags = 20 // 2^20 states at the last step
	src := "slug: flags\nmodule: basics\ntitle: Flags\npass_percent: 50\nintro: Many states.\nmeasurement_note: A test.\n" +
		"variants:\n  - {id: one, title: One}\n  - {id: two, title: Two}\nstate:\n"
	for i := range flags {
		src += fmt.Sprintf("  f%d: false\n", i)
	}
	src += "start: s0\nsteps:\n"
	for i := range flags {
		next := fmt.Sprintf("s%d", i+1)
		if i == flags-1 {
			next = "end"
		}
		src += fmt.Sprintf("  - id: s%d\n    text: Step.\n    choices:\n", i)
		src += fmt.Sprintf("      - {id: a%d, text: A., feedback: A., points: {vision: 1, alignment: 1, inspiration: 1}, effects: {set: {f%d: true}}, next: %s}\n", i, i, next)
		src += fmt.Sprintf("      - {id: b%d, text: B., feedback: B., points: {vision: -1}, next: %s}\n", i, next)
	}
	src += "endings:\n  - {id: won, when: passed, title: Won, text: Done.}\n  - {id: lost, title: Lost, text: Not done.}\n"
	_, err := Parse("flags.yaml", []byte(src), map[string]bool{"basics": true})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("reaches more than %d (step, state) pairs", MaxNodes)) {
		t.Fatalf("2^%d states: %v", flags, err)
	}
}

// A version stored before format 2 still reads, plays and scores: its
// choices name their endings and it has one variant, "".
func TestParseStoredFormat1(t *testing.T) {
	const old = `slug: old
module: basics
title: Old
pass_percent: 70
intro: Before state.
start: one
steps:
  - id: one
    text: First.
    choices:
      - {id: good, text: Good., feedback: Yes., points: {vision: 2, alignment: 1}, next: two}
      - {id: bad, text: Bad., feedback: No., points: {vision: -1}, ending: sad}
  - id: two
    text: Second.
    choices:
      - {id: well, text: Well., feedback: Yes., points: {inspiration: 3}, ending: happy}
      - {id: badly, text: Badly., feedback: No., points: {vision: 1}, ending: sad}
endings:
  - {id: happy, title: Happy, text: It went well.}
  - {id: sad, title: Sad, text: It did not.}
`
	sc, err := ParseStored("old.yaml", []byte(old))
	if err != nil {
		t.Fatal(err)
	}
	v, ok := sc.Variant("")
	if !sc.Format1 || !ok || len(sc.Variants) != 1 {
		t.Fatalf("format 1 read as %+v", sc)
	}
	st, earned, last, _ := walk(t, v, "good", "badly")
	if r, e := v.Finish(st, earned, last); e.ID != "sad" || r.Percent != 67 {
		t.Fatalf("format 1 path: %+v %s", r, e.ID)
	}
	if _, err := Parse("old.yaml", []byte(old), nil); err == nil || !strings.Contains(err.Error(), "format 1") {
		t.Fatalf("format 1 must not ship: %v", err)
	}
}

// TestCheckBound: a variant with more paths than the checker enumerates is
// rejected with a clear problem, not checked for ever.
func TestCheckBound(t *testing.T) {
	src := "slug: wide\nmodule: basics\ntitle: Wide\npass_percent: 50\nintro: Many paths.\nmeasurement_note: A test.\n" +
		"variants:\n  - {id: one, title: One}\n  - {id: two, title: Two}\nstart: s0\nsteps:\n"
	const steps = 18 // 2^18 paths
	for i := range steps {
		next := fmt.Sprintf("next: s%d", i+1)
		if i == steps-1 {
			next = "next: end"
		}
		src += fmt.Sprintf("  - id: s%d\n    text: Step.\n    choices:\n", i)
		src += fmt.Sprintf("      - {id: a%d, text: A., feedback: A because., points: {vision: 1, alignment: 1, inspiration: 1}, %s}\n", i, next)
		src += fmt.Sprintf("      - {id: b%d, text: B., feedback: B because., points: {vision: -1}, %s}\n", i, next)
	}
	src += "endings:\n  - {id: won, when: passed, title: Won, text: Done.}\n  - {id: lost, title: Lost, text: Not done.}\n"
	_, err := Parse("wide.yaml", []byte(src), map[string]bool{"basics": true})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("more than %d paths", MaxPaths)) {
		t.Fatalf("2^%d paths: %v", steps, err)
	}
}
