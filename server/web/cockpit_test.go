package web_test

import (
	"strings"
	"testing"
	"time"
)

type notificationRow struct {
	ID, Kind, Title, Body, EmailStatus string
	AssignmentID                       *string
}

func notificationsOf(t testing.TB, w *world, userID, kind string) []notificationRow {
	t.Helper()
	var out []notificationRow
	if err := w.db.Gorm.Raw(`SELECT id, kind, title, body, email_status, assignment_id FROM notifications
		WHERE user_id = ? AND kind = ? ORDER BY created_at`, userID, kind).Scan(&out).Error; err != nil {
		t.Fatal(err)
	}
	return out
}

// A new assignment tells its learner at once, in the app and by email, once
// per assignment: assigning again (which moves the date) tells nobody again,
// and a learner who joins later hears of the team's open assignments too.
func TestNewAssignmentNotifiesAtOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	got := notificationsOf(t, w, w.other.ID, "assignment_assigned")
	if len(got) != 1 || got[0].AssignmentID == nil || *got[0].AssignmentID != w.otherAssignment ||
		got[0].EmailStatus != "pending" || !strings.Contains(got[0].Body, "User "+w.manager.Email) {
		t.Fatalf("assigned notices %+v", got)
	}
	later := time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)
	assign(t, w.h, w.manager, map[string]any{"module": "ceo-myth", "due_at": later, "team_id": w.team.ID})
	if r := call(t, w.h, "PATCH", "/api/assignments/"+w.otherAssignment, map[string]string{"due_at": later}, w.manager.auth()...); r.Status != 200 {
		t.Fatalf("move: %d %s", r.Status, r.Body)
	}
	if got := notificationsOf(t, w, w.other.ID, "assignment_assigned"); len(got) != 1 {
		t.Fatalf("assigning again or moving the date told again: %+v", got)
	}
	assign(t, w.h, w.manager, map[string]any{"module": "vision-and-narrative", "due_at": later, "user_ids": []string{w.other.ID}})
	if got := notificationsOf(t, w, w.other.ID, "assignment_assigned"); len(got) != 2 {
		t.Fatalf("a member's own assignment was not told: %+v", got)
	}
	late := signUp(t, w.h, w.db, "learner")
	joinTeam(t, w.h, late, w.team.InviteCode)
	if got := notificationsOf(t, w, late.ID, "assignment_assigned"); len(got) != 1 || !strings.Contains(got[0].Title, "New assignment") {
		t.Fatalf("a late joiner's notices %+v", got)
	}
	var listed []struct{ Kind string }
	call(t, w.h, "GET", "/api/notifications", nil, late.auth()...).JSON(t, &listed)
	if len(listed) != 1 || listed[0].Kind != "assignment_assigned" {
		t.Fatalf("the late joiner's notifications %+v", listed)
	}
}

// A nudge reaches the learner with the manager's note, in the app and by
// email, at most once a day per assignment, only from the assignment's
// team's manager, and is audited.
func TestNudge(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	path := "/api/assignments/" + w.otherAssignment + "/nudge"
	if r := call(t, w.h, "POST", path, map[string]string{"note": strings.Repeat("é", 281)}, w.manager.auth()...); r.Status != 422 {
		t.Fatalf("a long note: %d %s", r.Status, r.Body)
	}
	if r := call(t, w.h, "POST", path, map[string]any{"note": "hi", "urgent": true}, w.manager.auth()...); r.Status != 400 {
		t.Fatalf("an unknown field: %d %s", r.Status, r.Body)
	}
	if r := call(t, w.h, "POST", path, map[string]string{"note": "hi"}, w.other.auth()...); r.Status != 403 {
		t.Fatalf("a learner nudging: %d %s", r.Status, r.Body)
	}
	stranger := signUp(t, w.h, w.db, "manager")
	if r := call(t, w.h, "POST", path, map[string]string{"note": "hi"}, stranger.auth()...); r.Status != 404 {
		t.Fatalf("another team's manager: %d %s", r.Status, r.Body)
	}
	note := "Can we talk about <b>estimates</b> on Thursday?"
	if r := call(t, w.h, "POST", path, map[string]string{"note": note}, w.manager.auth()...); r.Status != 202 {
		t.Fatalf("nudge: %d %s", r.Status, r.Body)
	}
	got := notificationsOf(t, w, w.other.ID, "assignment_nudge")
	if len(got) != 1 || !strings.Contains(got[0].Body, note) || got[0].EmailStatus != "pending" || !strings.Contains(got[0].Title, "User "+w.manager.Email) {
		t.Fatalf("nudge notices %+v", got)
	}
	r := call(t, w.h, "POST", path, map[string]string{"note": "again"}, w.manager.auth()...)
	if r.Status != 429 {
		t.Fatalf("a second nudge the same day: %d %s", r.Status, r.Body)
	}
	if secs := retryAfter(t, r); secs < 23*3600 || secs > 24*3600 {
		t.Fatalf("Retry-After %d", secs)
	}
	if n := auditCount(t, w.db, "assignment.nudge", "assignment:"+w.otherAssignment); n != 1 {
		t.Fatalf("%d audit entries", n)
	}
	// A day later another nudge may go.
	if err := w.db.Gorm.Exec(`UPDATE assignment_nudges SET created_at = created_at - interval '25 hours'`).Error; err != nil {
		t.Fatal(err)
	}
	if r := call(t, w.h, "POST", path, map[string]string{}, w.manager.auth()...); r.Status != 202 {
		t.Fatalf("the next day's nudge: %d %s", r.Status, r.Body)
	}
	if got := notificationsOf(t, w, w.other.ID, "assignment_nudge"); len(got) != 2 {
		t.Fatalf("nudges %+v", got)
	}
	// A cancelled assignment is not found.
	if r := call(t, w.h, "DELETE", "/api/assignments/"+w.otherAssignment, nil, w.manager.auth()...); r.Status != 204 {
		t.Fatalf("cancel: %d", r.Status)
	}
	if r := call(t, w.h, "POST", path, map[string]string{"note": "hi"}, w.manager.auth()...); r.Status != 404 {
		t.Fatalf("nudging a cancelled assignment: %d %s", r.Status, r.Body)
	}
}

type memberDetailJSON struct {
	User    struct{ ID, Name string }
	Modules []struct {
		Slug, Title string
		Percent     int
		Completed   bool
	}
	Assignments []struct {
		ID      string
		Overdue bool
	}
	Scenarios []struct {
		Slug         string
		Attempts     int
		Best, Latest *struct {
			Number  int
			Percent int
			Variant struct{ ID, Title string }
		}
	}
	Skills   map[string]struct{ Score, Decisions int }
	Practice []struct{ Module, Note string }
}

// The drill-down shows a current member of the manager's own team: their
// modules, assignments, best and latest attempt per scenario, skills with
// the decisions behind them and shared notes, in the same number of
// statements however long their history, and never their choices.
func TestMemberDrillDown(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	path := "/api/teams/" + w.team.ID + "/members/" + w.other.ID
	measure := func() (memberDetailJSON, string, int64) {
		n := countQueries(w.db)
		r := call(t, w.h, "GET", path, nil, w.manager.auth()...)
		used := n()
		if r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		var d memberDetailJSON
		r.JSON(t, &d)
		return d, string(r.Body), used
	}
	fresh, _, small := measure()
	if fresh.User.ID != w.other.ID || len(fresh.Modules) != len(w.s.svc.Course.Modules) || len(fresh.Assignments) != 1 ||
		fresh.Skills["vision"].Decisions != 0 {
		t.Fatalf("a fresh member %+v", fresh)
	}
	playScenario(t, w, w.other, testQuiz, worstChoice)
	playScenario(t, w, w.other, testQuiz, bestChoice)
	playScenario(t, w, w.other, testQuiz, worstChoice)
	if r := call(t, w.h, "PUT", "/api/job-aids/ceo-myth/practice", map[string]any{"note": "Shared with my manager", "shared": true}, w.other.auth()...); r.Status != 200 {
		t.Fatalf("practice: %d %s", r.Status, r.Body)
	}
	d, body, large := measure()
	if large != small || large > 9 {
		t.Fatalf("the drill-down ran %d statements with no history and %d with three attempts; want the same, at most 9", small, large)
	}
	var played bool
	for _, s := range d.Scenarios {
		if s.Slug != testQuiz {
			continue
		}
		played = true
		if s.Attempts != 3 || s.Best == nil || s.Latest == nil || s.Best.Number != 2 || s.Latest.Number != 3 ||
			s.Best.Percent <= s.Latest.Percent || s.Latest.Variant.ID == "" || s.Latest.Variant.Title == "" {
			t.Fatalf("attempts at %s: %+v best %+v latest %+v", testQuiz, s, s.Best, s.Latest)
		}
	}
	decisions := d.Skills["vision"].Decisions + d.Skills["alignment"].Decisions + d.Skills["inspiration"].Decisions
	if !played || decisions == 0 || len(d.Practice) != 1 || d.Practice[0].Note != "Shared with my manager" {
		t.Fatalf("drill-down %+v", d)
	}
	if strings.Contains(body, "choice") || strings.Contains(body, "step_id") {
		t.Fatalf("the drill-down shows choices: %s", body)
	}

	// Not a member of this team, another manager's team, a learner: 404.
	for _, c := range []struct {
		path string
		who  account
	}{
		{"/api/teams/" + w.team.ID + "/members/" + w.stranger.ID, w.manager},
		{"/api/teams/" + w.team.ID + "/members/" + w.learner.ID, w.manager},
		{"/api/teams/" + w.foreign.ID + "/members/" + w.stranger.ID, w.manager},
		{"/api/teams/" + w.team.ID + "/members/not-a-uuid", w.manager},
		{path, w.other},
		{path, w.learner},
	} {
		if r := call(t, w.h, "GET", c.path, nil, c.who.auth()...); r.Status != 404 {
			t.Errorf("%s: %d %s", c.path, r.Status, r.Body)
		}
	}
	// A member who left is no longer shown.
	if r := call(t, w.h, "DELETE", "/api/teams/"+w.team.ID+"/membership", nil, w.other.auth()...); r.Status != 204 {
		t.Fatalf("leave: %d", r.Status)
	}
	if r := call(t, w.h, "GET", path, nil, w.manager.auth()...); r.Status != 404 {
		t.Fatalf("a former member: %d", r.Status)
	}
}
