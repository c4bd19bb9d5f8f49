package quizzes

import (
	"testing"
)

// tiny is a format-2 scenario small enough to reason about by hand, using
// every feature: a meter and a flag, effects, a conditional fragment with
// an assumption, a conditional choice, a conditional route, endings by
// condition, and two variants, the second overriding a choice so the
// usually-wrong move is right there.
//
// Variant freeze, best path: write-brief (3/1/0), show-brief (0/4/2),
// rally (1/0/4), close (1/1/1) = 18; trust ends at 7.
const tiny = `slug: tiny
module: basics
title: Tiny
pass_percent: 70
intro: A small scenario with state.
measurement_note: A test fixture, too small to measure skills apart.
state:
  trust.lead: {min: 0, max: 10, start: 5}
  brief_written: false
variants:
  - id: freeze
    title: "{lead} and the freeze"
    params: {lead: Ewan}
  - id: budget
    title: "{lead} and the budget"
    params: {lead: Yasmin}
    overrides:
      skip-brief:
        points: {vision: 4, alignment: 4, inspiration: 4}
        feedback: Here the brief would have been late; skipping it was right.
start: one
steps:
  - id: one
    text: "{lead} asks for a plan."
    choices:
      - id: write-brief
        text: Write a brief.
        feedback: Good.
        points: {vision: 3, alignment: 1}
        effects: {set: {brief_written: true}, add: {trust.lead: 2}}
        next: two
      - id: skip-brief
        text: Skip it.
        feedback: Risky.
        points: {vision: -2}
        effects: {add: {trust.lead: -3}}
        next: two
  - id: two
    text:
      - text: "The meeting starts."
      - text: "{lead} holds up your brief."
        when: brief_written
        assumes: trust.lead >= 6
    choices:
      - id: show-brief
        when: brief_written
        text: Show the brief.
        feedback: It lands.
        points: {alignment: 4, inspiration: 2}
        next: three
      - id: talk
        text: Talk it through.
        feedback: Fine.
        points: {alignment: 1, inspiration: 3}
        next:
          - {when: "trust.lead < 4", to: end}
          - {to: three}
      - id: defer
        text: Defer.
        feedback: Meh.
        points: {inspiration: -1}
        effects: {add: {trust.lead: -1}}
        next: three
  - id: three
    text: Rally the team?
    choices:
      - id: rally
        text: Rally.
        feedback: Yes.
        points: {inspiration: 4, vision: 1}
        next: four
      - id: order
        text: Order.
        feedback: No.
        points: {inspiration: -3}
        effects: {add: {trust.lead: -2}}
        next: four
  - id: four
    text: Close it out.
    choices:
      - id: close
        text: Close well.
        feedback: Done.
        points: {vision: 1, alignment: 1, inspiration: 1}
        next: end
      - id: drift
        text: Let it drift.
        feedback:
          - text: It drifts.
          - text: "{lead} stops trusting you."
            when: trust.lead < 3
        points: {vision: -1}
        next: end
endings:
  - id: good
    when: passed && trust.lead >= 5
    title: Good
    text: It worked, and {lead} trusts you.
  - id: lucky
    when: passed
    title: Lucky
    text: It worked despite {lead}.
  - id: bad
    title: Bad
    text: It did not.
`

func mustParse(t *testing.T, src string) *Scenario {
	t.Helper()
	sc, err := Parse("tiny.yaml", []byte(src), map[string]bool{"basics": true})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func mustVariant(t *testing.T, sc *Scenario, id string) *Variant {
	t.Helper()
	v, ok := sc.Variant(id)
	if !ok {
		t.Fatalf("no variant %q", id)
	}
	return v
}

// walk plays choice ids from the start through the engine, failing the
// test on any error; it returns the final state, points and last choice.
func walk(t *testing.T, v *Variant, ids ...string) (State, Points, *Choice, []PathStep) {
	t.Helper()
	step, st := v.Begin()
	var earned Points
	var last *Choice
	var answers []Answer
	for _, id := range ids {
		o, err := v.Answer(step, st, step, id)
		if err != nil {
			t.Fatalf("%s at %s: %v", id, step, err)
		}
		answers = append(answers, Answer{StepID: step, ChoiceID: id})
		earned, st, last, step = earned.Add(o.Choice.Points), o.State, o.Choice, ""
		if o.Next != nil {
			step = o.Next.ID
		}
	}
	if step != "" {
		t.Fatalf("path %v has not ended (at %s)", ids, step)
	}
	start, st0 := v.Begin()
	path, err := v.Replay(start, st0, answers)
	if err != nil {
		t.Fatal(err)
	}
	return st, earned, last, path
}
