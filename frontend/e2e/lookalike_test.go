package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestLookalikeWarning: a manager and an admin see, in words, that a
// member's email mixes alphabets (a Cyrillic "а" standing in for a Latin
// "a"), on the team page, in the team progress table and in the users list,
// and the name's right-to-left override is gone. Pages stay free of axe
// violations and fit 360 px.
func TestLookalikeWarning(t *testing.T) {
	requireSetup(t)
	base, mp := startServerWithMail(t, "BATON_ADMIN_EMAILS=admin@e2e.test")
	browser := newBrowser(t)
	admin := verifiedAdmin(t, base, mp, "admin@e2e.test", "Amber-rowing-kettle-8841")
	managerID := newAPIClient(t, base).register("Morgan Manager", "morgan@e2e.test", "Copper-meadow-signal-5512").ID
	if code := admin.call("PATCH", "/api/users/"+managerID, map[string]string{"role": "manager"}, nil); code != 200 {
		t.Fatalf("promote manager: %d", code)
	}
	manager := signIn(t, base, "morgan@e2e.test", "Copper-meadow-signal-5512")
	var team struct {
		ID         string `json:"id"`
		InviteCode string `json:"invite_code"`
	}
	if code := manager.call("POST", "/api/teams", map[string]string{"name": "Pod"}, &team); code != 201 {
		t.Fatalf("create team: %d", code)
	}
	// The real Ana, and someone passing for her with a Cyrillic "а".
	for _, p := range []struct{ email, name string }{
		{"ana@e2e.test", "Ana Real"},
		{"\u0430na@e2e.test", "Ana Real\u202E\u2066"},
	} {
		c := signedUp(t, base, p.name, p.email, "Velvet-canyon-orbit-3390")
		if code := c.call("POST", "/api/teams/join", map[string]string{"invite_code": team.InviteCode}, nil); code != 200 {
			t.Fatalf("%s joins: %d", p.email, code)
		}
	}

	// warned lists, for each row, whether it carries the warning.
	warned := func(u *user, rows string) string {
		return u.eval("warnings in "+rows, fmt.Sprintf(`[...document.querySelectorAll(%q)].map(r =>
			r.querySelector(".meta").textContent.trim() + "=" + (r.querySelector("[data-testid=lookalike]") ? "warned" : "plain")).sort().join(",")`, rows))
	}

	mgr := newUser(t, browser, base, "manager")
	mgr.signIn("morgan@e2e.test", "Copper-meadow-signal-5512")
	mgr.do("signed in", chromedp.WaitVisible(chromedp.CSS(`.main-nav a[href="/teams"]`)))
	mgr.open("/teams/"+team.ID, ".member-list")
	mgr.waitFor("both members", `document.querySelectorAll(".member-list li").length === 2`)
	if got := warned(mgr, ".member-list li"); got != "ana@e2e.test=plain,\u0430na@e2e.test=warned" {
		t.Errorf("team members: %s", got)
	}
	if txt := mgr.text(".member-list"); !strings.Contains(txt, "mixes alphabets") || strings.ContainsAny(txt, "\u202E\u2066") {
		t.Errorf("member list %q: no explanation, or the override survived", trim(txt, 300))
	}
	mgr.waitFor("progress rows", `document.querySelectorAll("[data-testid=team-progress] tbody tr").length === 2`)
	if got := warned(mgr, "[data-testid=team-progress] tbody tr"); !strings.Contains(got, "\u0430na@e2e.test") || strings.Count(got, "warned") != 1 {
		t.Errorf("team progress: %s", got)
	}
	mgr.axe("team with a look-alike member")
	mgr.mobileShot("team-lookalike")

	adm := newUser(t, browser, base, "admin")
	adm.signIn("admin@e2e.test", "Amber-rowing-kettle-8841")
	adm.do("signed in", chromedp.WaitVisible(chromedp.CSS(`.main-nav a[href="/admin/users"]`)))
	adm.open("/admin/users", ".users-table")
	adm.waitFor("all users", `document.querySelectorAll(".users-table tbody tr").length === 4`)
	rows := adm.eval("flagged rows", `[...document.querySelectorAll(".users-table tbody tr")].filter(r => r.querySelector("[data-testid=lookalike]")).map(r => r.querySelector("td:nth-child(2)").textContent).join("|")`)
	if !strings.HasPrefix(rows, "\u0430na@e2e.test") || strings.Count(rows, "@") != 1 {
		t.Errorf("users list flags %q, want only the Cyrillic address", rows)
	}
	adm.axe("users with a look-alike")
	adm.mobileShot("users-lookalike")
}
