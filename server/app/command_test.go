package app

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/baton-course/baton/quizzes"
)

// check-content's report names, per variant, the paths, each ending's
// passing and failing paths and the skills' statistics.
func TestPrintReport(t *testing.T) {
	t.Parallel()
	_, modules, err := loadCourse()
	if err != nil {
		t.Fatal(err)
	}
	reports, problems := quizzes.CheckAll(quizzes.Content(), modules)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	for _, r := range reports {
		var out bytes.Buffer
		printReport(&out, r)
		text := out.String()
		wants := []string{"paths ", "ending ", "vision", "alignment", "inspiration", "r(vision/alignment)"}
		for _, v := range r.Scenario.Variants {
			wants = append(wants, "variant "+v.ID+": "+v.Title)
		}
		for _, want := range wants {
			if !strings.Contains(text, want) {
				t.Errorf("%s: report lacks %q:\n%s", r.Scenario.Slug, want, text)
			}
		}
		if strings.Contains(text, "reached by passing and failing paths") {
			t.Errorf("%s: a shipped scenario shares an ending:\n%s", r.Scenario.Slug, text)
		}
	}
}

// baton play walks a variant in the terminal: typing the best path's
// numbers scores 100% and shows the ending; a bad number is asked again.
func TestPlay(t *testing.T) {
	t.Parallel()
	c, err := checkContent()
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range c.scenarios {
		v := sc.Variants[len(sc.Variants)-1]
		var in strings.Builder
		in.WriteString("0\nnine\n") // refused: asked again
		for _, d := range v.BestPath() {
			for i, o := range v.Offered(d.Step, d.Before) {
				if o == d.Choice {
					fmt.Fprintf(&in, "%d\n", i+1)
				}
			}
		}
		var out bytes.Buffer
		if err := play(v, bufio.NewScanner(strings.NewReader(in.String())), &out); err != nil {
			t.Fatalf("%s: %v\n%s", sc.Slug, err, out.String())
		}
		text := out.String()
		for _, want := range []string{"variant " + v.ID, "Decision 1 of about", "type a number from 1 to", "100% (passed)", "Ending "} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: play output lacks %q:\n%s", sc.Slug, want, text)
			}
		}
	}
}
