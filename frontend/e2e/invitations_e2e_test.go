package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// A manager invites a learner by email; the learner sees the invitation on
// the home page, accepts it (and the team's assignment appears at once);
// the manager then sees them; the learner leaves the team after a
// confirmation, and the manager no longer sees them.
func TestInvitationJourney(t *testing.T) {
	requireSetup(t)
	base, mp := startServerWithMail(t, "BATON_ADMIN_EMAILS=admin@invite.test")
	browser := newBrowser(t)
	admin := verifiedAdmin(t, base, mp, "admin@invite.test", "Amber-rowing-kettle-8841")

	const mgrPassword = "Copper-meadow-signal-5512"
	mgr := newUser(t, browser, base, "manager")
	mgr.signUp("Morgan Manager", "morgan@invite.test", mgrPassword)
	var users []struct{ ID string }
	admin.call("GET", "/api/users?q=morgan", nil, &users)
	if len(users) != 1 || admin.call("PATCH", "/api/users/"+users[0].ID, map[string]string{"role": "manager"}, nil) != 200 {
		t.Fatalf("promote the manager: %+v", users)
	}
	// The promotion ended the manager's session: they sign in again.
	mgr.do("reload after promotion", chromedp.Reload())
	mgr.signInAgain("morgan@invite.test", mgrPassword, `.main-nav a[href="/teams"]`)
	mgr.click(`.main-nav a[href="/teams"]`)
	mgr.do("teams page", chromedp.WaitVisible(chromedp.CSS("input[name=team_name]")))
	mgr.typeInto("input[name=team_name]", "Growth pod")
	mgr.click(".col-side form button[type=submit]")
	mgr.do("team page", chromedp.WaitVisible(chromedp.CSS("input[name=member_email]")))
	teamID := mgr.eval("team id", `location.pathname.split("/").pop()`)

	lrn := newUser(t, browser, base, "learner")
	lrn.signUp("Ines Invitee", "ines@invite.test", "Velvet-canyon-orbit-3390")
	// Invitations are shown only to an address its owner has confirmed:
	// the learner follows the link Baton mailed.
	lrn.open(linkFrom(t, mp, 0, "ines@invite.test", "Confirm your email", base), ".account-link-page .alert-success")

	// Inviting someone with an account and someone without reads the same.
	invite := func(email string) string {
		mgr.setInput("input[name=member_email]", email)
		mgr.click("section[aria-labelledby=h-members] form button[type=submit]")
		mgr.waitFor("invited "+email, fmt.Sprintf(`document.querySelector("[data-testid=invite-status]").textContent.includes(%q)`, email))
		return strings.ReplaceAll(mgr.text("[data-testid=invite-status]"), email, "…")
	}
	if known, unknown := invite("ines@invite.test"), invite("nobody@invite.test"); known != unknown || !strings.HasPrefix(known, "Invitation sent") {
		t.Fatalf("the page told an account from none: %q vs %q", known, unknown)
	}
	mgr.waitFor("pending list", `document.querySelectorAll(".pending-list li").length === 2`)
	if txt := mgr.text("section[aria-labelledby=h-members]"); strings.Contains(txt, "Ines Invitee") {
		t.Fatalf("the manager sees the invitee's name before they accept: %q", txt)
	}
	mgr.axe("team with pending invitations")
	mgr.shot("team-invitations")

	// A team assignment is waiting for whoever joins.
	manager := signIn(t, base, "morgan@invite.test", mgrPassword)
	due := time.Now().Add(14 * 24 * time.Hour).UTC().Format(time.RFC3339)
	if code := manager.call("POST", "/api/assignments", map[string]any{"module": "ceo-myth", "due_at": due, "team_id": teamID}, nil); code != 201 {
		t.Fatalf("assign the team: %d", code)
	}

	// The learner answers on the home page.
	lrn.open("/", "#invitations")
	if txt := lrn.text("#invitations"); !strings.Contains(txt, "Morgan Manager") || !strings.Contains(txt, "Growth pod") || !strings.Contains(txt, "will see your course progress") {
		t.Fatalf("invitation reads %q", txt)
	}
	lrn.waitFor("no assignment before accepting", `document.querySelector("section[aria-labelledby=h-assign] .empty")`)
	lrn.axe("home with an invitation")
	lrn.mobileShot("home-invitation")
	lrn.click("#invitations .btn-primary")
	lrn.waitFor("accepted", `document.querySelector("#invitations .success-text").textContent.includes("You joined Growth pod")`)
	lrn.waitFor("assignment shown", `document.querySelectorAll(".assignment-list li").length === 1`)
	lrn.waitFor("team listed", `[...document.querySelectorAll(".my-teams .team-name")].some(e => e.textContent === "Growth pod")`)

	mgr.do("reload team", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(".member-list:not(.pending-list)")))
	if m := mgr.text(".member-list:not(.pending-list)"); !strings.Contains(m, "Ines Invitee") {
		t.Fatalf("members %q lack the learner who accepted", m)
	}
	mgr.waitFor("one invitation left", `document.querySelectorAll(".pending-list li").length === 1`)
	mgr.waitFor("progress row", `[...document.querySelectorAll("[data-testid=team-progress] tbody th")].some(th => th.textContent.includes("Ines Invitee"))`)

	// Leaving takes a confirmation that says what it means.
	lrn.click(".my-teams .btn-link")
	lrn.waitFor("confirmation", `document.querySelector(".leave-confirm")`)
	if txt := lrn.text(".leave-confirm"); !strings.Contains(txt, "no longer see your progress") || !strings.Contains(txt, "open assignments from this team end") {
		t.Fatalf("confirmation reads %q", txt)
	}
	lrn.axe("home, leaving a team")
	lrn.click(".leave-confirm .btn-danger")
	lrn.waitFor("left", `[...document.querySelectorAll(".success-text")].some(e => e.textContent.includes("You left Growth pod"))`)
	lrn.waitFor("assignment ended", `document.querySelectorAll(".assignment-list li").length === 0`)

	mgr.do("reload team after leaving", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("section[aria-labelledby=h-members]")))
	mgr.waitFor("team loaded", `document.querySelector("section[aria-labelledby=h-progress]") && !document.querySelector("section[aria-labelledby=h-progress] .loading")`)
	if txt := mgr.text("main"); strings.Contains(txt, "Ines Invitee") {
		t.Fatalf("the manager still sees the learner who left: %q", trim(txt, 400))
	}
	mgr.axe("team after the member left")
}
