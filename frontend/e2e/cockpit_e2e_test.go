package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The manager's cockpit: the manager assigns a module to one chosen member,
// is asked about a date in the past, moves the due date, cancels, sorts and
// filters the progress table, opens a member's drill-down and nudges them;
// the learner sees the nudge arrive in their notifications. The team and
// member pages pass axe and do not scroll sideways at 360 px.
func TestCockpitJourney(t *testing.T) {
	requireSetup(t)
	base, mp := startServerWithMail(t, "BATON_ADMIN_EMAILS=admin@cockpit.test")
	browser := newBrowser(t)
	admin := verifiedAdmin(t, base, mp, "admin@cockpit.test", "Amber-rowing-kettle-8841")

	const mgrPassword = "Copper-meadow-signal-5512"
	mgrAPI := newAPIClient(t, base)
	mgrUser := mgrAPI.register("Morgan Manager", "morgan@cockpit.test", mgrPassword)
	if code := admin.call("PATCH", "/api/users/"+mgrUser.ID, map[string]string{"role": "manager"}, nil); code != 200 {
		t.Fatalf("promote the manager: %d", code)
	}
	mgrAPI.login("morgan@cockpit.test", mgrPassword)
	var team struct {
		ID         string `json:"id"`
		InviteCode string `json:"invite_code"`
	}
	if code := mgrAPI.call("POST", "/api/teams", map[string]string{"name": "Checkout squad with a rather long name for a phone"}, &team); code != 201 {
		t.Fatalf("create team: %d", code)
	}
	const lrnPassword = "Velvet-canyon-orbit-3390"
	join := func(name, email string) *apiClient {
		c := signedUp(t, base, name, email, lrnPassword)
		if code := c.call("POST", "/api/teams/join", map[string]string{"invite_code": team.InviteCode}, nil); code != 200 {
			t.Fatalf("%s joins: %d", name, code)
		}
		return c
	}
	join("Jo Joiner", "jo@cockpit.test")
	join("Bea Bystander", "bea@cockpit.test")

	mgr := newUser(t, browser, base, "manager")
	mgr.signIn("morgan@cockpit.test", mgrPassword)
	mgr.do("signed in", chromedp.WaitVisible(chromedp.CSS(`.main-nav a[href="/teams"]`)))
	mgr.open("/teams/"+team.ID, "[data-testid=team-summary]")
	if f := mgr.text("[data-testid=overdue-figure]"); !strings.Contains(f, "0 of 2") {
		t.Errorf("overdue figure %q, want 0 of 2", f)
	}
	mgr.axe("cockpit (nothing assigned)")

	// Assign module 2 to Jo only, with a date in the past: asked first.
	assign := "section[aria-labelledby=h-assign] "
	mgr.setInput(assign+"select", "what-you-dont-control")
	mgr.click(assign + "input[name=assign_who][value=chosen]")
	mgr.do("member checkboxes", chromedp.WaitVisible(chromedp.CSS("[data-testid=assign-members]")))
	mgr.click(`[data-testid=assign-members] li:first-child input`) // Bea, then Jo (by name)
	mgr.click(`[data-testid=assign-members] li:first-child input`) // changed my mind
	mgr.eval("choose Jo", `(() => { const l = [...document.querySelectorAll("[data-testid=assign-members] label")].find(l => l.textContent.includes("Jo Joiner")); l.querySelector("input").click(); return "ok"; })()`)
	yesterday := time.Now().Add(-24 * time.Hour).Format("2006-01-02T15:04")
	mgr.setInput(assign+"input[type=datetime-local]", yesterday)
	mgr.click(assign + "button[type=submit]")
	mgr.do("past-date warning", chromedp.WaitVisible(chromedp.CSS(assign+"[data-testid=past-date-warning]")))
	if w := mgr.text(assign + "[data-testid=past-date-warning]"); !strings.Contains(w, "This date has passed: the assignment will be overdue at once") {
		t.Fatalf("past-date warning %q", w)
	}
	mgr.axe("past-date warning")
	mgr.click(assign + "[data-testid=past-date-warning] .btn-primary")
	mgr.waitFor("assigned to one", `document.querySelector("section[aria-labelledby=h-assign] .success-text").textContent.includes("to 1 member")`)
	mgr.waitFor("one assignment row", `document.querySelectorAll("[data-testid=assignment-row]").length === 1`)
	if row := mgr.text("[data-testid=assignment-row]"); !strings.Contains(row, "Jo Joiner") || !strings.Contains(row, "Overdue") {
		t.Fatalf("assignment row %q", row)
	}
	mgr.waitFor("overdue figure", `document.querySelector("[data-testid=overdue-figure]").textContent.includes("1 of 2")`)

	// Sort and filter: overdue first by default; overdue only shows Jo.
	firstRow := `document.querySelector("[data-testid=team-progress] tbody tr th .member-name").textContent`
	if got := mgr.eval("first row", firstRow); got != "Jo Joiner" {
		t.Errorf("overdue-first puts %q first", got)
	}
	mgr.setInput("select[name=sort]", "name")
	mgr.waitFor("sorted by name", firstRow+` === "Bea Bystander"`)
	mgr.setInput("select[name=filter]", "overdue")
	mgr.waitFor("overdue only", `document.querySelectorAll("[data-testid=team-progress] tbody tr").length === 1 && `+firstRow+` === "Jo Joiner"`)
	mgr.setInput("select[name=filter]", "not_started")
	mgr.waitFor("not started", `document.querySelectorAll("[data-testid=team-progress] tbody tr").length === 2`)
	mgr.setInput("select[name=filter]", "all")
	if legend := mgr.text("[data-testid=heat-legend]"); !strings.Contains(legend, "1–24%") || !strings.Contains(legend, "50–74%") {
		t.Errorf("legend %q lacks a band", legend)
	}
	if skills := mgr.text("[data-testid=skills-legend]"); !strings.Contains(skills, "Vision, Alignment and Inspiration") {
		t.Errorf("skills legend %q", skills)
	}
	if cell := mgr.text("[data-testid=skills-cell]"); !strings.HasPrefix(cell, "—") {
		t.Errorf("never tried shows %q, want —", cell)
	}
	mgr.axe("cockpit with an assignment")
	mgr.mobileShot("manager-cockpit")

	// Move the due date to next week.
	row := "[data-testid=assignment-row] "
	mgr.click(row + ".actions button:nth-child(1)")
	nextWeek := time.Now().Add(7 * 24 * time.Hour).Format("2006-01-02T15:04")
	mgr.setInput(row+"input[type=datetime-local]", nextWeek)
	mgr.click(row + "button[type=submit]")
	mgr.waitFor("moved", `document.querySelector("[data-testid=assignment-row]") && !document.querySelector("[data-testid=assignment-row]").textContent.includes("Overdue")`)
	mgr.waitFor("not overdue any more", `document.querySelector("[data-testid=overdue-figure]").textContent.includes("0 of 2")`)
	// Moving it into the past asks again; "Change the date" keeps it.
	mgr.click(row + ".actions button:nth-child(1)")
	mgr.setInput(row+"input[type=datetime-local]", yesterday)
	mgr.click(row + "button[type=submit]")
	mgr.do("past-date warning on move", chromedp.WaitVisible(chromedp.CSS(row+"[data-testid=past-date-warning]")))
	mgr.click(row + "[data-testid=past-date-warning] .btn-ghost")
	mgr.click(row + ".btn-ghost") // keep the date

	// The drill-down, from the member's name; then a nudge from there.
	mgr.click(row + "a.member-name")
	mgr.do("member page", chromedp.WaitVisible(chromedp.CSS("[data-testid=member-scenarios]")))
	if h := mgr.text("h1"); h != "Jo Joiner" {
		t.Fatalf("member page heading %q", h)
	}
	mgr.axe("member drill-down")
	mgr.mobileShot("member-drill-down")
	mrow := "[data-testid=member-assignments] [data-testid=assignment-row] "
	mgr.click(mrow + ".actions button:nth-child(2)") // Nudge
	note := "Shall we go over this on Thursday?"
	mgr.typeInto(mrow+"textarea", note)
	mgr.click(mrow + "button[type=submit]")
	mgr.waitFor("nudge sent", `document.querySelector("[data-testid=member-assignments] .success-text").textContent.includes("Nudge sent")`)
	// A second nudge the same day is refused, with a plain reason.
	mgr.click(mrow + ".actions button:nth-child(2)")
	mgr.click(mrow + "button[type=submit]")
	mgr.waitFor("second nudge refused", `document.querySelector("[data-testid=member-assignments]").textContent.includes("already nudged")`)
	mgr.click(mrow + ".btn-ghost")

	// The learner sees the nudge arrive.
	lrn := newUser(t, browser, base, "learner")
	lrn.signIn("jo@cockpit.test", lrnPassword)
	lrn.do("home", chromedp.WaitVisible(chromedp.CSS(".notification-list")))
	lrn.waitFor("nudge arrived", fmt.Sprintf(`document.querySelector(".notification-list").textContent.includes(%q)`, note))
	if txt := lrn.text(".notification-list"); !strings.Contains(txt, "Morgan Manager") || !strings.Contains(txt, "New assignment") {
		t.Errorf("notifications %q lack the nudge's sender or the assignment notice", trim(txt, 400))
	}
	lrn.axe("learner home with a nudge")

	// Back on the team page, cancel the assignment after confirming.
	mgr.open("/teams/"+team.ID, "[data-testid=assignment-row]")
	mgr.click(row + ".actions button:nth-child(3)") // Cancel
	mgr.do("cancel confirmation", chromedp.WaitVisible(chromedp.CSS(row+".confirm-box")))
	mgr.axe("cancel confirmation")
	mgr.click(row + ".confirm-box .btn-danger")
	mgr.waitFor("cancelled", `document.querySelectorAll("[data-testid=assignment-row]").length === 0`)
	// Removing a member says their open assignments end.
	mgr.click(".member-list li:first-child .btn-link")
	if w := mgr.text("[data-testid=remove-warning]"); !strings.Contains(w, "open assignments from this team end") {
		t.Errorf("remove warning %q", w)
	}
}
