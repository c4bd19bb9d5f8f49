package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// finishAttempt plays one attempt of the scenario through the API, taking
// the first choice shown at every step, and returns the variant's id.
func finishAttempt(t *testing.T, c *apiClient, quiz string) string {
	t.Helper()
	type step struct {
		ID      string `json:"id"`
		Choices []struct {
			ID string `json:"id"`
		} `json:"choices"`
	}
	var started struct {
		ID      string `json:"id"`
		Variant struct {
			ID string `json:"id"`
		} `json:"variant"`
		Step step `json:"step"`
	}
	if code := c.call("POST", "/api/quizzes/"+quiz+"/attempts", nil, &started); code != 201 {
		t.Fatalf("start %s: %d", quiz, code)
	}
	s := started.Step
	for range 50 {
		var ans struct {
			Finished bool `json:"finished"`
			Step     step `json:"step"`
		}
		if code := c.call("POST", "/api/attempts/"+started.ID+"/answers", map[string]string{"step_id": s.ID, "choice_id": s.Choices[0].ID}, &ans); code != 200 {
			t.Fatalf("answer: %d", code)
		}
		if ans.Finished {
			return started.Variant.ID
		}
		s = ans.Step
	}
	t.Fatal("the attempt never finished")
	return ""
}

// A manager whose team played a scenario sees the choice analytics with the
// statement that the counts include deliberate noise, the scenario's
// variant with how many finished it, and at least one step's chart; the
// page passes axe and fits 360 px.
func TestTeamAnalyticsJourney(t *testing.T) {
	requireSetup(t)
	base, mp := startServerWithMail(t, "BATON_ADMIN_EMAILS=admin@e2e.test")
	browser := newBrowser(t)
	admin := verifiedAdmin(t, base, mp, "admin@e2e.test", "Amber-rowing-kettle-8841")
	const password = "Quartz-harbor-lantern-7713"
	signedUp(t, base, "Mira Manager", "mira@e2e.test", password)
	var users []struct {
		ID string `json:"id"`
	}
	admin.call("GET", "/api/users?q=mira", nil, &users)
	if len(users) != 1 {
		t.Fatalf("admin finds %d users for mira, want 1", len(users))
	}
	if code := admin.call("PATCH", "/api/users/"+users[0].ID, map[string]string{"role": "manager"}, nil); code != 200 {
		t.Fatalf("promote manager: %d", code)
	}
	// The manager signs in after the promotion, in the browser and the API.
	mgrAPI := signIn(t, base, "mira@e2e.test", password)
	var team struct {
		ID         string `json:"id"`
		InviteCode string `json:"invite_code"`
	}
	if code := mgrAPI.call("POST", "/api/teams", map[string]string{"name": "Analytics pod"}, &team); code != 201 {
		t.Fatalf("create team: %d", code)
	}

	// Learners join and finish their first attempt until seven met the same
	// variant: with seven, at least one step is counted as answered by three
	// or more whatever the noise (all but once in a thousand).
	const quiz, enough = "the-impossible-date", 7
	byVariant := map[string]int{}
	variant := ""
	for i := 0; variant == ""; i++ {
		if i > 40 {
			t.Fatal("no variant reached seven learners")
		}
		l := signedUp(t, base, fmt.Sprintf("Learner %d", i), fmt.Sprintf("learner%d@e2e.test", i), password)
		if code := l.call("POST", "/api/teams/join", map[string]string{"invite_code": team.InviteCode}, nil); code != 200 {
			t.Fatalf("join: %d", code)
		}
		v := finishAttempt(t, l, quiz)
		if byVariant[v]++; byVariant[v] == enough {
			variant = v
		}
	}

	mgr := newUser(t, browser, base, "manager")
	mgr.signIn("mira@e2e.test", password)
	mgr.do("signed in", chromedp.WaitVisible(chromedp.CSS(`.main-nav a[href="/teams"]`)))
	mgr.open("/teams/"+team.ID, "[data-testid=analytics-noise]")
	if note := normal(mgr.text("[data-testid=analytics-noise]")); !strings.Contains(note, "Counts include deliberate noise to protect individuals") {
		t.Errorf("the analytics section says %q, want the noise stated", note)
	}
	mgr.waitFor("a step chart", `document.querySelector(".analytics-scenario .an-step:not(.suppressed) .an-bar")`)
	if txt := normal(mgr.text(".analytics")); !strings.Contains(txt, fmt.Sprintf("%d members finished their first attempt", enough)) {
		t.Errorf("the analytics lack the variant's %d members: %q", enough, trim(txt, 400))
	}
	if strings.Contains(mgr.text(".analytics"), "Latest") {
		t.Error("the analytics still show latest attempts")
	}
	mgr.axe("team analytics")
	mgr.mobileShot("team-analytics")
}
