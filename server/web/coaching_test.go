package web_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/privacy"
)

type coachingJSON struct {
	Team     struct{ ID, Name string }
	Scenario struct {
		Slug, Title, Module, Version string
		ModuleTitle                  string `json:"module_title"`
	}
	MinGroup int `json:"min_group"`
	Noise    struct {
		Noisy bool
		Note  string
	}
	Hidden   bool
	Message  string
	Variants []coachingVariantJSON
}

type coachingVariantJSON struct {
	Variant        struct{ ID, Title string }
	Members        int
	EarlierVersion int `json:"members_on_earlier_versions"`
	Suppressed     bool
	Summary        string
	TellingStep    string `json:"telling_step"`
	Steps          []struct {
		Position   int
		StepID     string `json:"step_id"`
		Text       string
		OnBestPath bool `json:"on_best_path"`
		Suppressed bool
		Choices    []struct {
			ID, Text    string
			Recommended bool
			Percent     *int
			Estimate    *int `json:"estimated_percent"`
		}
	}
	Questions []string
}

// The coaching brief: the team's manager or an admin only, per variant
// the team met, pinned to the scenario version, steps in the order
// learners meet them with one recommended move each, shares as percents of
// the same noisy counts the analytics give, and a plain message while the
// floor hides everything.
func TestCoachingBrief(t *testing.T) {
	w := newWorld(t)
	secret := []byte("the coaching brief test's secret")
	if _, err := w.db.Pool.Exec(context.Background(), `UPDATE analytics_secret SET secret = $1`, secret); err != nil {
		t.Fatal(err)
	}
	noise := privacy.New(secret)
	path := "/api/teams/" + w.team.ID + "/coaching/" + testQuiz
	get := func() coachingJSON {
		t.Helper()
		r := call(t, w.h, "GET", path, nil, w.manager.auth()...)
		if r.Status != 200 {
			t.Fatalf("brief: %d %s", r.Status, r.Body)
		}
		var out coachingJSON
		r.JSON(t, &out)
		return out
	}
	assertProblem(t, call(t, w.h, "GET", "/api/teams/"+w.foreign.ID+"/coaching/"+testQuiz, nil, w.manager.auth()...), 404)
	assertProblem(t, call(t, w.h, "GET", "/api/teams/"+w.team.ID+"/coaching/no-such-scenario", nil, w.manager.auth()...), 404)
	assertProblem(t, call(t, w.h, "GET", path, nil, w.other.auth()...), 404) // a member of the team

	sc, _ := w.s.Catalog.Get(testQuiz)
	b := get()
	if !b.Hidden || len(b.Variants) != 0 || !strings.Contains(b.Message, "No member") || b.Scenario.Version != sc.Version ||
		b.Scenario.ModuleTitle == "" || !b.Noise.Noisy || !strings.Contains(b.Noise.Note, "deliberate noise") {
		t.Fatalf("before anyone finished: %+v", b)
	}

	// Members play (badly) until three met one variant; until then the
	// floor hides everything and the brief says so.
	byVariant := map[string][]account{}
	var v *quizzes.Variant
	for i := 0; v == nil; i++ {
		if i > 12 {
			t.Fatal("no variant reached three members")
		}
		m := addMembers(t, w, w.team, 1, func(int) string { return fmt.Sprintf("C%d", i) })[0]
		_, played, _ := playVariant(t, w, m, testQuiz, worstChoice)
		byVariant[played.ID] = append(byVariant[played.ID], m)
		if len(byVariant[played.ID]) == 3 {
			v = played
			break
		}
		b := get()
		if !b.Hidden || !strings.Contains(b.Message, "Too few members") || len(b.Variants) != len(byVariant) {
			t.Fatalf("%d variants met, none by three: %+v", len(byVariant), b)
		}
		for _, cv := range b.Variants {
			if !cv.Suppressed || cv.Summary != "" || len(cv.Questions) < 2 {
				t.Fatalf("a suppressed variant: %+v", cv)
			}
			for _, st := range cv.Steps {
				for _, c := range st.Choices {
					if c.Percent != nil || c.Estimate != nil {
						t.Fatalf("a suppressed variant shows a share: %+v", st)
					}
				}
			}
		}
	}

	b = get()
	i := slices.IndexFunc(b.Variants, func(cv coachingVariantJSON) bool {
		return cv.Variant.ID == v.ID
	})
	if i < 0 {
		t.Fatalf("variant %s missing: %+v", v.ID, b)
	}
	cv := b.Variants[i]
	if cv.Suppressed || cv.Members != 3 || cv.EarlierVersion != 0 || cv.Variant.Title != v.Title {
		t.Fatalf("three members: %+v", cv)
	}
	var order []string // the steps the variant can reach, in path order
	for _, id := range v.PathOrder() {
		if v.Recommended(id).ChoiceID != "" {
			order = append(order, id)
		}
	}
	if len(cv.Steps) != len(order) {
		t.Fatalf("%d steps, want %d", len(cv.Steps), len(order))
	}
	shown := false
	for j, st := range cv.Steps {
		if st.Position != j+1 || st.StepID != order[j] {
			t.Fatalf("step %d is %s (position %d), want %s: not in path order", j, st.StepID, st.Position, order[j])
		}
		rec, marked := v.Recommended(st.StepID).ChoiceID, 0
		for _, c := range st.Choices {
			if c.Recommended {
				marked++
				if c.ID != rec {
					t.Fatalf("step %s marks %s, the engine recommends %s", st.StepID, c.ID, rec)
				}
			}
			if (c.Percent == nil) != st.Suppressed {
				t.Fatalf("step %s: shares shown %v, suppressed %v", st.StepID, c.Percent != nil, st.Suppressed)
			}
		}
		if marked != 1 {
			t.Fatalf("step %s marks %d recommended choices", st.StepID, marked)
		}
		shown = shown || !st.Suppressed
	}
	// The start step's shares are the three members' noisy reports of
	// their worst move there, as percents of the three.
	start := v.Steps[v.Start]
	worst := worstChoice(v, shownAll(v, v.Start), 0)
	truth, k := slices.IndexFunc(start.Choices, func(c *quizzes.Choice) bool { return c.ID == worst }), len(start.Choices)+1
	want := make([]int, k)
	for _, m := range byVariant[v.ID] {
		want[noise.Report(m.ID, privacy.Question{"scenario step", testQuiz, sc.Version, v.ID, v.Start}, truth, k)]++
	}
	if first := cv.Steps[0]; !first.Suppressed {
		for j, c := range first.Choices {
			if wantPct := (100*want[j] + 1) / 3; *c.Percent != wantPct {
				t.Fatalf("start step choice %s: %d%%, want %d%% of reports %v", c.ID, *c.Percent, wantPct, want)
			}
		}
	}
	if shown && (b.Hidden || cv.Summary == "" || !strings.Contains(cv.Summary, "best move") || len(cv.Questions) < 2 || len(cv.Questions) > 3) {
		t.Fatalf("a step shows, yet: hidden %v, summary %q, questions %q", b.Hidden, cv.Summary, cv.Questions)
	}
	if !shown && (!b.Hidden || b.Message == "") {
		t.Fatalf("every step hidden, yet: %+v", b)
	}

	// Pinned to the version: a first attempt of an earlier version is
	// counted as such.
	ctx := context.Background()
	if _, err := w.db.Pool.Exec(ctx, `INSERT INTO scenario_versions (quiz_slug, version, module_slug, source)
		SELECT quiz_slug, 'earlier', module_slug, source FROM scenario_versions WHERE quiz_slug = $1 AND version = $2`, testQuiz, sc.Version); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.Pool.Exec(ctx, `UPDATE attempts SET scenario_version = 'earlier' WHERE user_id = $1 AND quiz_slug = $2`,
		byVariant[v.ID][0].ID, testQuiz); err != nil {
		t.Fatal(err)
	}
	for _, cv := range get().Variants {
		if cv.Variant.ID == v.ID && cv.EarlierVersion != 1 {
			t.Fatalf("one member on an earlier version: %+v", cv)
		}
	}
}

// Analytics list scenarios in course order, module by module, and mark
// each shown step's recommended move.
func TestAnalyticsCourseOrder(t *testing.T) {
	w := newWorld(t)
	r := call(t, w.h, "GET", "/api/teams/"+w.team.ID+"/analytics", nil, w.manager.auth()...)
	var out struct {
		Scenarios []struct {
			Slug    string
			Variant struct{ ID string }
		}
	}
	r.JSON(t, &out)
	var got, want []string
	for _, s := range out.Scenarios {
		if len(got) == 0 || got[len(got)-1] != s.Slug {
			got = append(got, s.Slug)
		}
	}
	for _, m := range w.s.Course.Modules {
		for _, sc := range w.s.Catalog.ForModule(m.Slug) {
			want = append(want, sc.Slug)
		}
	}
	if !slices.Equal(got, want) || slices.IsSorted(want) {
		t.Fatalf("scenarios %v, want course order %v (which is not alphabetical)", got, want)
	}
}
