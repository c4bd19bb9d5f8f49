package app

import (
	"bufio"
	flagpkg "flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/baton-course/baton/quizzes"
)

// playCommand plays a scenario in the terminal for its author: each step
// as the learner sees it in that state, the choices numbered (in the order
// written, with their authoring ids, points and effects), the feedback,
// and at the end the score, the ending and the costly decision.
func playCommand(args []string, in io.Reader, out io.Writer) int {
	fs := flagpkg.NewFlagSet("play", flagpkg.ContinueOnError)
	fs.SetOutput(os.Stderr)
	variant := fs.String("variant", "", "the variant to play (default: the first)")
	slug := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		slug, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil || slug == "" {
		fmt.Fprintln(os.Stderr, "usage: baton play SLUG [--variant V]")
		return 2
	}
	c, err := checkContent()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var sc *quizzes.Scenario
	for _, s := range c.scenarios {
		if s.Slug == slug {
			sc = s
		}
	}
	if sc == nil {
		fmt.Fprintf(os.Stderr, "baton: no scenario %q\n", slug)
		return 1
	}
	v := sc.Variants[0]
	if *variant != "" {
		var ok bool
		if v, ok = sc.Variant(*variant); !ok {
			fmt.Fprintf(os.Stderr, "baton: %s has no variant %q\n", slug, *variant)
			return 1
		}
	}
	if err := play(v, bufio.NewScanner(in), out); err != nil {
		fmt.Fprintln(os.Stderr, "baton:", err)
		return 1
	}
	return 0
}

func play(v *quizzes.Variant, in *bufio.Scanner, out io.Writer) error {
	sc := v.Scenario
	fmt.Fprintf(out, "%s — variant %s: %s\n\n%s\n", sc.Title, v.ID, v.Title, sc.Intro)
	step, st := v.Begin()
	var earned quizzes.Points
	var answers []quizzes.Answer
	var last *quizzes.Choice
	for n := 1; step != ""; n++ {
		s := v.Steps[step]
		fmt.Fprintf(out, "\nDecision %d of about %d  [%s; %s]\n%s\n", n, n-1+v.Remaining(step, st), step, sc.Describe(st), v.Render(s.Text, st))
		offered := v.Offered(s, st)
		for i, c := range offered {
			fmt.Fprintf(out, "  %d. %s\n     (%s: %+d vision, %+d alignment, %+d inspiration)\n", i+1, c.Text, c.ID,
				c.Points.Vision, c.Points.Alignment, c.Points.Inspiration)
		}
		var pick int
		for pick == 0 {
			fmt.Fprintf(out, "> ")
			if !in.Scan() {
				return fmt.Errorf("input ended before the scenario did")
			}
			if k, err := strconv.Atoi(strings.TrimSpace(in.Text())); err == nil && k >= 1 && k <= len(offered) {
				pick = k
			} else {
				fmt.Fprintf(out, "type a number from 1 to %d\n", len(offered))
			}
		}
		c := offered[pick-1]
		o, err := v.Answer(step, st, step, c.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "\n%s\n", o.Feedback)
		answers = append(answers, quizzes.Answer{StepID: step, ChoiceID: c.ID})
		earned, st, last, step = earned.Add(c.Points), o.State, c, ""
		if o.Next != nil {
			step = o.Next.ID
		}
	}
	r, e := v.Finish(st, earned, last)
	fmt.Fprintf(out, "\n%d%% (%s) — vision %d%%, alignment %d%%, inspiration %d%%\nEnding %s: %s\n%s\n", r.Percent, passWord(r.Passed),
		r.Skills.Vision, r.Skills.Alignment, r.Skills.Inspiration, e.ID, e.Title, v.EndingText(e, st, r))
	start, st0 := v.Begin()
	path, err := v.Replay(start, st0, answers)
	if err != nil {
		return err
	}
	if costly, ok := v.CostliestDecision(path); ok {
		fmt.Fprintf(out, "\nThe costly decision (%d points): at %s you chose %s; %s kept the most within reach.\n",
			costly.Lost, costly.Decision.Step.ID, costly.Decision.Choice.ID, costly.Best.ID)
	}
	return nil
}

func passWord(passed bool) string {
	if passed {
		return "passed"
	}
	return "not passed"
}
