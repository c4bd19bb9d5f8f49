package app

import (
	"bytes"
	"strings"
	"testing"

	"github.com/baton-course/baton/quizzes"
)

// check-content's report names the paths, each ending's passing and failing
// paths (marking one both reach) and the skills' statistics.
func TestPrintAnalysis(t *testing.T) {
	t.Parallel()
	c, err := checkContent()
	if err != nil {
		t.Fatal(err)
	}
	var sc *quizzes.Scenario
	for _, s := range c.scenarios {
		if s.Slug == "just-tell-them-to-build-it" {
			sc = s
		}
	}
	if sc == nil {
		t.Fatal("no just-tell-them-to-build-it")
	}
	a, err := quizzes.Analyze(sc)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := printAnalysis(&out, sc); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{"paths ", "ending ", "vision", "alignment", "inspiration", "r(vision/alignment)"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	if shared := len(a.SharedEndings()) > 0; shared != strings.Contains(text, "reached by passing and failing paths") {
		t.Errorf("shared endings %v but the report says otherwise:\n%s", a.SharedEndings(), text)
	}
}
