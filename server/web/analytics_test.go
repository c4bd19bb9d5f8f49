package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/app"
	"github.com/baton-course/baton/server/privacy"
)

// Analytics count, per scenario variant and step, each member's first
// attempt of the variant through deliberate noise the answer declares; a
// variant shows once three members finished it; and a member playing again
// changes nothing.
func TestChoiceAnalytics(t *testing.T) {
	w := newWorld(t)
	secret := []byte("the web analytics test's secret")
	if _, err := w.db.Pool.Exec(context.Background(), `UPDATE analytics_secret SET secret = $1`, secret); err != nil {
		t.Fatal(err)
	}
	noise := privacy.New(secret)
	type step struct {
		StepID     string `json:"step_id"`
		Answered   int    `json:"members_answered"`
		Suppressed bool
		Choices    []struct {
			ID       string
			First    int  `json:"first_attempt"`
			Estimate *int `json:"estimated_percent"`
		}
	}
	type variantJSON struct {
		Slug       string
		Variant    struct{ ID, Title string }
		Members    int
		Suppressed bool
		Steps      []step
	}
	get := func(variant string) variantJSON {
		r := call(t, w.h, "GET", "/api/teams/"+w.team.ID+"/analytics", nil, w.manager.auth()...)
		if strings.Contains(string(r.Body), "latest_attempt") {
			t.Fatal("analytics count latest attempts, which change with every retake")
		}
		var out struct {
			Noise struct {
				Noisy            bool
				TruthProbability float64 `json:"truth_probability"`
				Note             string
			}
			Scenarios []variantJSON
		}
		r.JSON(t, &out)
		if !out.Noise.Noisy || out.Noise.TruthProbability != privacy.TruthProbability || !strings.Contains(out.Noise.Note, "deliberate noise") {
			t.Fatalf("the answer does not say its counts are noisy: %+v", out.Noise)
		}
		for _, sc := range out.Scenarios {
			if sc.Slug == testQuiz && sc.Variant.ID == variant && sc.Variant.Title != "" {
				return sc
			}
		}
		t.Fatalf("scenario %s variant %s missing", testQuiz, variant)
		return variantJSON{}
	}
	// Members play their first attempt (variants are drawn per learner)
	// until three of them met the same variant; w.other's attempt in
	// progress counts nowhere.
	byVariant := map[string][]account{}
	var v *quizzes.Variant
	for i := 0; v == nil; i++ {
		if i > 12 {
			t.Fatal("no variant reached three members")
		}
		m := addMembers(t, w, w.team, 1, func(int) string { return fmt.Sprintf("M%d", i) })[0]
		_, played, _ := playVariant(t, w, m, testQuiz, worstChoice)
		byVariant[played.ID] = append(byVariant[played.ID], m)
		a := get(played.ID)
		switch n := len(byVariant[played.ID]); {
		case n < 3:
			if !a.Suppressed || a.Members != n || slices.ContainsFunc(a.Steps, func(s step) bool { return len(s.Choices) > 0 }) {
				t.Fatalf("%d members must be suppressed: %+v", n, a)
			}
		default:
			v = played
		}
	}
	a := get(v.ID)
	if a.Suppressed || a.Members != 3 {
		t.Fatalf("three members: %+v", a)
	}
	// The start step's counts are the three members' reports of their worst
	// choice there (the outcomes: its choices as written, then "none").
	start := v.Steps[v.Start]
	worst := worstChoice(v, shownAll(v, v.Start), 0)
	truth, k := slices.IndexFunc(start.Choices, func(c *quizzes.Choice) bool { return c.ID == worst }), len(start.Choices)+1
	want := make([]int, k)
	for _, m := range byVariant[v.ID] {
		want[noise.Report(m.ID, privacy.Question{"scenario step", testQuiz, v.Scenario.Version, v.ID, v.Start}, truth, k)]++
	}
	for _, st := range a.Steps {
		sum := 0
		for _, c := range st.Choices {
			sum += c.First
		}
		if st.Suppressed != (st.Answered < 3) || (!st.Suppressed && sum != st.Answered) {
			t.Fatalf("step %+v", st)
		}
		if st.StepID != v.Start {
			continue
		}
		if st.Answered != 3-want[k-1] {
			t.Fatalf("start step %+v, want reports %v", st, want)
		}
		for i, c := range st.Choices {
			if c.ID != start.Choices[i].ID || c.First != want[i] {
				t.Fatalf("start step %+v, want reports %v", st, want)
			}
		}
	}
	// One of the three comes back to that variant and plays it well.
	learner := byVariant[v.ID][0]
	for again := 0; ; again++ {
		if again > 4*len(v.Scenario.Variants) {
			t.Fatal("never met the variant again")
		}
		if _, played, _ := playVariant(t, w, learner, testQuiz, bestChoice); played.ID == v.ID {
			break
		}
	}
	if after := get(v.ID); !reflect.DeepEqual(after, a) {
		before, _ := json.Marshal(a)
		now, _ := json.Marshal(after)
		t.Fatalf("a retake changed the first attempts' counts:\n%s\n%s", before, now)
	}
}

// With BATON_SECRET_KEY, start-up seals the analytics secret and the
// analytics still answer; another key refuses to start.
func TestAnalyticsWithASealedSecret(t *testing.T) {
	t.Parallel()
	db := newTestDB(t)
	cfg := testConfig(t)
	cfg.SecretKey = "a-secret-key-of-at-least-32-characters!"
	h := buildServer(t, cfg, db).Handler()
	var sealed bool
	if err := db.Gorm.Raw(`SELECT sealed FROM analytics_secret`).Scan(&sealed).Error; err != nil || !sealed {
		t.Fatalf("the analytics secret is not sealed (%v)", err)
	}
	manager := signUp(t, h, db, "manager")
	team := createTeam(t, h, manager, "Sealed pod")
	if r := call(t, h, "GET", "/api/teams/"+team.ID+"/analytics", nil, manager.auth()...); r.Status != 200 {
		t.Fatalf("analytics with a sealed secret: %d %s", r.Status, r.Body)
	}
	cfg.SecretKey = "another-secret-key-of-32-characters-or-more"
	if _, err := app.Build(context.Background(), cfg, db, testLog(t)); err == nil {
		t.Fatal("started with another BATON_SECRET_KEY")
	}
}
