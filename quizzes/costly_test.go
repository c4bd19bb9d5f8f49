package quizzes

import "testing"

func TestCostliestDecision(t *testing.T) {
	sc := mustParse(t, tiny)
	cases := []struct {
		name    string
		variant string
		path    []string
		ok      bool
		at      int
		chosen  string
		best    string
		lost    int
	}{
		{"the best path costs nothing", "freeze", []string{"write-brief", "show-brief", "rally", "close"}, false, 0, "", "", 0},
		// write-brief keeps 18 within reach, skip-brief 5 (after it, show-brief is gone).
		{"the first move costs most", "freeze", []string{"skip-brief", "defer", "rally", "close"}, true, 0, "skip-brief", "write-brief", 13},
		{"the gap is judged in the state of the path", "freeze", []string{"write-brief", "talk", "order", "close"}, true, 2, "order", "rally", 8},
		// In budget the usually-wrong move is best: writing the brief is the costly one.
		{"a variant's own best move", "budget", []string{"write-brief", "show-brief", "rally", "close"}, true, 0, "write-brief", "skip-brief", 1},
	}
	for _, tc := range cases {
		v := mustVariant(t, sc, tc.variant)
		_, _, _, path := walk(t, v, tc.path...)
		c, ok := v.CostliestDecision(path)
		if ok != tc.ok {
			t.Errorf("%s: ok %v (%+v)", tc.name, ok, c)
			continue
		}
		if ok && (c.Position != tc.at || c.Decision.Choice.ID != tc.chosen || c.Best.ID != tc.best || c.Lost != tc.lost) {
			t.Errorf("%s: at %d %s→%s lost %d", tc.name, c.Position, c.Decision.Choice.ID, c.Best.ID, c.Lost)
		}
	}
}
