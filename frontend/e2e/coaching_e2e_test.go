package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// A manager whose team played a scenario sees the analytics as percents
// with the recommended move marked, opens the scenario's coaching brief
// from there, and finds the team's tendency in one sentence, the marked
// recommended move and questions for one-to-ones; printed, the brief
// drops the app's navigation. Axe-clean, and it fits 360 px.
func TestCoachingBriefJourney(t *testing.T) {
	requireSetup(t)
	base, mp := startServerWithMail(t, "BATON_ADMIN_EMAILS=admin@e2e.test")
	browser := newBrowser(t)
	admin := verifiedAdmin(t, base, mp, "admin@e2e.test", "Amber-rowing-kettle-8841")
	const password = "Quartz-harbor-lantern-7713"
	signedUp(t, base, "Cora Coach", "cora@e2e.test", password)
	var users []struct {
		ID string `json:"id"`
	}
	admin.call("GET", "/api/users?q=cora", nil, &users)
	if len(users) != 1 {
		t.Fatalf("admin finds %d users for cora, want 1", len(users))
	}
	if code := admin.call("PATCH", "/api/users/"+users[0].ID, map[string]string{"role": "manager"}, nil); code != 200 {
		t.Fatalf("promote manager: %d", code)
	}
	mgrAPI := signIn(t, base, "cora@e2e.test", password)
	var team struct {
		ID         string `json:"id"`
		InviteCode string `json:"invite_code"`
	}
	if code := mgrAPI.call("POST", "/api/teams", map[string]string{"name": "Coaching pod"}, &team); code != 201 {
		t.Fatalf("create team: %d", code)
	}
	// As in TestTeamAnalyticsJourney: seven on one variant make at least
	// one step show whatever the noise (all but once in a thousand).
	const quiz, enough = "the-impossible-date", 7
	byVariant := map[string]int{}
	for i, done := 0, false; !done; i++ {
		if i > 40 {
			t.Fatal("no variant reached seven learners")
		}
		l := signedUp(t, base, fmt.Sprintf("Coached %d", i), fmt.Sprintf("coached%d@e2e.test", i), password)
		if code := l.call("POST", "/api/teams/join", map[string]string{"invite_code": team.InviteCode}, nil); code != 200 {
			t.Fatalf("join: %d", code)
		}
		v := finishAttempt(t, l, quiz)
		byVariant[v]++
		done = byVariant[v] == enough
	}

	mgr := newUser(t, browser, base, "manager")
	mgr.signIn("cora@e2e.test", password)
	mgr.do("signed in", chromedp.WaitVisible(chromedp.CSS(`.main-nav a[href="/teams"]`)))
	mgr.open("/teams/"+team.ID, "[data-testid=analytics-noise]")
	mgr.waitFor("a step chart", `document.querySelector(".analytics-scenario[open] .an-step:not(.suppressed) [data-recommended=true]")`)
	if vals := mgr.eval("bar values", `[...document.querySelectorAll(".analytics-scenario[open] .an-bar-val")].map(e => e.textContent).join(" ")`); !strings.Contains(vals, "%") {
		t.Errorf("the analytics show %q, want percents", vals)
	}
	if rec := normal(mgr.text(".analytics-scenario[open] [data-recommended=true] .an-choice")); !strings.Contains(rec, "Recommended move") {
		t.Errorf("the recommended choice reads %q", rec)
	}

	link := fmt.Sprintf(`.analytics-scenario[open] a[data-testid=coaching-link][href="/teams/%s/coaching/%s"]`, team.ID, quiz)
	mgr.click(link)
	mgr.do("the brief", chromedp.WaitVisible(chromedp.CSS("[data-testid=coaching-questions]")))
	if summary := normal(mgr.text("[data-testid=coaching-summary]")); !strings.Contains(summary, "best move") {
		t.Errorf("the brief's sentence is %q, want it to name the best move", summary)
	}
	if n := mgr.eval("questions", `String(document.querySelector("[data-testid=coaching-questions]").children.length)`); n != "3" && n != "2" {
		t.Errorf("%s one-to-one questions, want two or three", n)
	}
	if n := mgr.eval("marked steps", `String(document.querySelectorAll("[data-testid=coaching-variant] [data-testid=coaching-step]").length - document.querySelectorAll("[data-testid=coaching-variant] [data-testid=coaching-recommended]").length)`); n != "0" {
		t.Errorf("%s steps without exactly one recommended move marked", n)
	}
	if txt := normal(mgr.text("[data-testid=coaching-brief]")); !strings.Contains(txt, "deliberate noise") || !strings.Contains(txt, "scenario version") {
		t.Errorf("the brief lacks the noise note or its version: %q", trim(txt, 400))
	}
	mgr.axe("coaching brief")
	mgr.mobileShot("coaching-brief")
	// The README's picture of a brief: this journey's team is the one large
	// enough for the analytics floor (TestDocScreenshots' is not).
	if os.Getenv("BATON_SCREENSHOTS") != "" {
		mgr.docShot("coaching-brief", `!!document.querySelector("[data-testid=coaching-summary]")`)
	}

	mgr.do("print media", emulateMedia("print"))
	for _, sel := range []string{".site-header", "nav.breadcrumb", ".coaching-page .actions"} {
		if shown := mgr.eval("printed "+sel, fmt.Sprintf(`getComputedStyle(document.querySelector(%q)).display`, sel)); shown != "none" {
			t.Errorf("the printed brief shows %s (display %s)", sel, shown)
		}
	}
	if shown := mgr.eval("printed brief", `getComputedStyle(document.querySelector("[data-testid=coaching-brief]")).display`); shown == "none" {
		t.Error("the printed brief hides the brief itself")
	}
	mgr.shot("coaching-brief-print")
	mgr.do("screen media", emulateMedia(""))
}
