package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// The demo manager is told about their team: with the week's digest moment
// set to today's midnight (UTC) and the reminder job running every second,
// the weekly digest arrives on its own, and moving an unfinished
// assignment's due date four days back brings the escalation; both show in
// the manager's notifications as plain text, the digest in its lines.
func TestManagerDigestJourney(t *testing.T) {
	requireSetup(t)
	day := time.Now().UTC().Weekday().String()[:3]
	base := startServer(t, "BATON_DEMO=1", "BATON_REMINDER_INTERVAL=1s", "BATON_DIGEST_AT="+day+" 00:00")
	const managerEmail, password = "manager@demo.baton.local", "influence-not-authority"
	api := signIn(t, base, managerEmail, password)

	var teams []struct{ ID, Name string }
	if api.call("GET", "/api/teams", nil, &teams) != 200 || len(teams) != 1 {
		t.Fatalf("the demo manager's teams: %+v", teams)
	}
	var assigned []struct {
		ID, Module, Status string
	}
	api.call("GET", "/api/assignments?team_id="+teams[0].ID, nil, &assigned)
	moved := ""
	for _, a := range assigned {
		if a.Module == "ceo-myth" && a.Status != "completed" && moved == "" {
			moved = a.ID
		}
	}
	if moved == "" {
		t.Fatalf("no unfinished demo assignment to move: %+v", assigned)
	}
	due := time.Now().Add(-4*24*time.Hour - time.Hour).UTC().Format(time.RFC3339)
	if code := api.call("PATCH", "/api/assignments/"+moved, map[string]string{"due_at": due}, nil); code != 200 {
		t.Fatalf("move the due date: %d", code)
	}
	type note struct{ Kind, Title, Body, Link string }
	var digest, escalation note
	deadline := time.Now().Add(30 * time.Second)
	for digest.Kind == "" || escalation.Kind == "" {
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: digest %+v, escalation %+v", digest, escalation)
		}
		var notes []note
		api.call("GET", "/api/notifications", nil, &notes)
		for _, n := range notes {
			switch n.Kind {
			case "manager_digest":
				digest = n
			case "assignment_escalated":
				escalation = n
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if digest.Title != "Your team this week: Demo product pod" || digest.Link != "/teams/"+teams[0].ID ||
		!strings.Contains(digest.Body, "Ana Lima finished") || !strings.Contains(digest.Body, "\nOverdue:\n- ") {
		t.Errorf("digest %+v", digest)
	}
	if !strings.Contains(escalation.Title, "is 4 days overdue on “") || escalation.Link != "/teams/"+teams[0].ID {
		t.Errorf("escalation %+v", escalation)
	}

	mgr := newUser(t, newBrowser(t), base, "manager")
	mgr.signIn(managerEmail, password)
	list := `[...document.querySelectorAll(".notification-list li")]`
	mgr.waitFor("the digest in the notifications", fmt.Sprintf(`%s.some(li => li.querySelector(".note-title").textContent === %q)`, list, digest.Title))
	mgr.waitFor("the escalation in the notifications", fmt.Sprintf(`%s.some(li => li.querySelector(".note-title").textContent === %q)`, list, escalation.Title))
	// The digest reads in lines, as written (innerText follows the layout).
	shown := mgr.eval("digest as shown", fmt.Sprintf(`%s.find(li => li.querySelector(".note-title").textContent === %q).querySelector(".note-body").innerText`, list, digest.Title))
	if !strings.Contains(shown, "\nOverdue:\n- ") || !strings.Contains(shown, "Ana Lima finished") {
		t.Errorf("the digest shows as %q", shown)
	}
	mgr.axe("home with the manager's digest")
	mgr.shot("manager-digest")
	mgr.mobileShot("manager-digest-phone")
	mgr.click(fmt.Sprintf(`.notification-list a.note-title[href=%q]`, digest.Link))
	mgr.waitFor("the team page", fmt.Sprintf(`location.pathname === %q`, digest.Link))
}
