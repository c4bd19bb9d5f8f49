package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/app"
	"github.com/baton-course/baton/server/mail"
	"github.com/baton-course/baton/server/mailtest"
)

type assignmentJSON struct {
	ID      string
	UserID  string `json:"user_id"`
	Module  string
	Status  string
	Overdue bool
	DueAt   time.Time `json:"due_at"`
}

func myAssignments(t *testing.T, w *world, a account) []assignmentJSON {
	t.Helper()
	var out []assignmentJSON
	r := call(t, w.h, "GET", "/api/assignments", nil, a.auth()...)
	if r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	r.JSON(t, &out)
	return out
}

func assignmentFor(t *testing.T, w *world, a account, module string) assignmentJSON {
	t.Helper()
	for _, x := range myAssignments(t, w, a) {
		if x.Module == module {
			return x
		}
	}
	t.Fatalf("%s has no assignment of %s", a.Email, module)
	return assignmentJSON{}
}

// Status is derived from real progress at read time: not started, in
// progress after the first lesson progress, completed once every lesson is
// read and the scenario passed; a past due date is overdue until then.
func TestAssignmentStatusFollowsProgress(t *testing.T) {
	w := newWorld(t)
	module, quiz := "vision-and-narrative", "the-budget-cut"
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	assign(t, w.h, w.manager, map[string]any{"module": module, "due_at": past, "user_ids": []string{w.other.ID}})
	a := assignmentFor(t, w, w.other, module)
	if a.Status != "not_started" || !a.Overdue {
		t.Fatalf("fresh past-due assignment: %+v", a)
	}
	m, _ := w.s.svc.Course.Module(module)
	call(t, w.h, "PUT", "/api/lessons/"+m.Lessons[0].Slug+"/progress", map[string]int{"percent": 40}, w.other.auth()...)
	if a = assignmentFor(t, w, w.other, module); a.Status != "in_progress" || !a.Overdue {
		t.Fatalf("after reading: %+v", a)
	}
	for _, l := range m.Lessons {
		call(t, w.h, "PUT", "/api/lessons/"+l.Slug+"/progress", map[string]int{"percent": 100}, w.other.auth()...)
	}
	if a = assignmentFor(t, w, w.other, module); a.Status != "in_progress" {
		t.Fatalf("lessons done but scenario not passed: %+v", a)
	}
	playScenario(t, w, w.other, quiz, bestChoice)
	if a = assignmentFor(t, w, w.other, module); a.Status != "completed" || a.Overdue {
		t.Fatalf("after passing: %+v", a)
	}
	// The manager's view and the learner's dashboard agree.
	var team []assignmentJSON
	call(t, w.h, "GET", "/api/assignments?team_id="+w.team.ID, nil, w.manager.auth()...).JSON(t, &team)
	found := false
	for _, x := range team {
		found = found || (x.UserID == w.other.ID && x.Module == module && x.Status == "completed")
	}
	if !found {
		t.Fatalf("manager view: %+v", team)
	}
	var p struct{ Assignments []assignmentJSON }
	call(t, w.h, "GET", "/api/progress", nil, w.other.auth()...).JSON(t, &p)
	if len(p.Assignments) != 2 {
		t.Fatalf("dashboard assignments: %+v", p.Assignments)
	}
}

func TestAssignValidation(t *testing.T) {
	w := newWorld(t)
	future := "2031-05-01T09:00:00Z"
	cases := []struct {
		name   string
		body   any
		status int
	}{
		{"unparseable date", map[string]any{"module": "ceo-myth", "due_at": "next friday", "team_id": w.team.ID}, 422},
		{"unknown module", map[string]any{"module": "juggling", "due_at": future, "team_id": w.team.ID}, 422},
		{"neither team nor users", map[string]any{"module": "ceo-myth", "due_at": future}, 422},
		{"both team and users", map[string]any{"module": "ceo-myth", "due_at": future, "team_id": w.team.ID, "user_ids": []string{w.other.ID}}, 422},
		{"not a member of my teams", map[string]any{"module": "capstone", "due_at": future, "user_ids": []string{w.other.ID, w.stranger.ID}}, 403},
		{"someone else's team", map[string]any{"module": "capstone", "due_at": future, "team_id": w.foreign.ID}, 403},
		{"not a uuid", map[string]any{"module": "capstone", "due_at": future, "user_ids": []string{"1; DROP TABLE users"}}, 403},
		{"unknown field", `{"module":"capstone","due_at":"` + future + `","team_id":"` + w.team.ID + `","priority":1}`, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assertProblem(t, call(t, w.h, "POST", "/api/assignments", tc.body, w.manager.auth()...), tc.status)
		})
	}
	var n int64
	w.db.Gorm.Raw("SELECT count(*) FROM assignments WHERE module_slug = 'capstone'").Scan(&n)
	if n != 0 {
		t.Fatalf("rejected requests created %d assignments", n)
	}
	// Assigning again moves the due date instead of duplicating.
	assign(t, w.h, w.manager, map[string]any{"module": "ceo-myth", "due_at": future, "user_ids": []string{w.other.ID}})
	if a := assignmentFor(t, w, w.other, "ceo-myth"); !a.DueAt.Equal(time.Date(2031, 5, 1, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("due date not moved: %+v", a)
	}
	if got := len(myAssignments(t, w, w.other)); got != 1 {
		t.Fatalf("%d assignments", got)
	}
	// Change the date, then cancel.
	a := assignmentFor(t, w, w.other, "ceo-myth")
	if r := call(t, w.h, "PATCH", "/api/assignments/"+a.ID, map[string]string{"due_at": "2032-01-01T00:00:00Z"}, w.manager.auth()...); r.Status != 200 {
		t.Fatalf("patch %d %s", r.Status, r.Body)
	}
	assertProblem(t, call(t, w.h, "PATCH", "/api/assignments/"+a.ID, map[string]string{"due_at": "soon"}, w.manager.auth()...), 422)
	if r := call(t, w.h, "DELETE", "/api/assignments/"+a.ID, nil, w.manager.auth()...); r.Status != 204 {
		t.Fatalf("cancel %d", r.Status)
	}
	if got := len(myAssignments(t, w, w.other)); got != 0 {
		t.Fatalf("%d assignments after cancel", got)
	}
	var audit []struct{ Action string }
	call(t, w.h, "GET", "/api/audit", nil, w.admin.auth()...).JSON(t, &audit)
	actions := map[string]bool{}
	for _, e := range audit {
		actions[e.Action] = true
	}
	for _, want := range []string{"assignment.create", "assignment.due_change", "assignment.cancel", "team.create", "team.join"} {
		if !actions[want] {
			t.Errorf("audit lacks %s: %v", want, actions)
		}
	}
}

// A learner who joins later gets the team's open assignments, not cancelled
// or already past ones.
func TestLateJoinerInheritsOpenAssignments(t *testing.T) {
	w := newWorld(t)
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	future := time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)
	assign(t, w.h, w.manager, map[string]any{"module": "vision-and-narrative", "due_at": future, "team_id": w.team.ID})
	assign(t, w.h, w.manager, map[string]any{"module": "capstone", "due_at": past, "team_id": w.team.ID})
	cancelled := assign(t, w.h, w.manager, map[string]any{"module": "inspiration-over-direction", "due_at": future, "team_id": w.team.ID})
	if r := call(t, w.h, "DELETE", "/api/assignments/"+cancelled[0]+"?scope=team", nil, w.manager.auth()...); r.Status != 204 {
		t.Fatalf("cancel team assignment %d %s", r.Status, r.Body)
	}
	joinTeam(t, w.h, w.learner, w.team.InviteCode)
	got := map[string]bool{}
	for _, a := range myAssignments(t, w, w.learner) {
		got[a.Module] = true
	}
	if !got["vision-and-narrative"] || !got["ceo-myth"] || got["capstone"] || got["inspiration-over-direction"] || len(got) != 2 {
		t.Fatalf("late joiner got %v", got)
	}
	for _, a := range myAssignments(t, w, w.other) {
		if a.Module == "inspiration-over-direction" {
			t.Fatal("team-scope cancel left a member's assignment")
		}
	}
	var me struct{ Teams []struct{ ID, Name string } }
	call(t, w.h, "GET", "/api/me", nil, w.learner.auth()...).JSON(t, &me)
	if len(me.Teams) != 1 || me.Teams[0].ID != w.team.ID {
		t.Fatalf("me.teams %+v", me.Teams)
	}
}

func TestInviteCodes(t *testing.T) {
	w := newWorld(t)
	old := w.team.InviteCode
	var fresh teamJSON
	call(t, w.h, "POST", "/api/teams/"+w.team.ID+"/invite-code", nil, w.manager.auth()...).JSON(t, &fresh)
	if fresh.InviteCode == old || fresh.InviteCode == "" {
		t.Fatal("code not replaced")
	}
	assertProblem(t, call(t, w.h, "POST", "/api/teams/join", map[string]string{"invite_code": old}, w.learner.auth()...), 404)
	joinTeam(t, w.h, w.learner, strings.ToLower(fresh.InviteCode))
	joinTeam(t, w.h, w.learner, fresh.InviteCode) // joining twice is harmless
	assertProblem(t, call(t, w.h, "POST", "/api/teams/join", map[string]string{"invite_code": fresh.InviteCode}, w.manager.auth()...), 409)
	var detail struct{ Members []struct{ ID string } }
	call(t, w.h, "GET", "/api/teams/"+w.team.ID, nil, w.manager.auth()...).JSON(t, &detail)
	if len(detail.Members) != 2 {
		t.Fatalf("members %+v", detail.Members)
	}
}

// addMembers signs up n learners and adds them to the team.
func addMembers(t *testing.T, w *world, team teamJSON, n int, name func(int) string) []account {
	t.Helper()
	var out []account
	for i := range n {
		email := fmt.Sprintf("member%d-%d@example.com", i, emailSeq.Add(1))
		r := call(t, w.h, "POST", "/api/auth/register", map[string]string{"email": email, "password": testPassword, "name": name(i)})
		if r.Status != 201 {
			t.Fatalf("register %d %s", r.Status, r.Body)
		}
		a := accountFrom(t, r, email)
		joinTeam(t, w.h, a, team.InviteCode)
		out = append(out, a)
	}
	return out
}

func TestTeamProgressAndCSV(t *testing.T) {
	w := newWorld(t)
	measure := func() int64 {
		n := countQueries(w.db)
		if r := call(t, w.h, "GET", "/api/teams/"+w.team.ID+"/progress", nil, w.manager.auth()...); r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		return n()
	}
	small := measure()
	members := addMembers(t, w, w.team, 25, func(i int) string { return fmt.Sprintf("Member %d", i) })
	for _, m := range members[:5] {
		playScenario(t, w, m, testQuiz, bestChoice)
	}
	if large := measure(); small == 0 || large != small || large > 6 {
		t.Fatalf("team progress ran %d statements for 1 member and %d for 26; want the same, at most 6", small, large)
	}

	evil := addMembers(t, w, w.team, 1, func(int) string { return `=HYPERLINK("http://evil.example","click")` })[0]
	_ = evil
	// The zone must be an IANA name; the browser sends its own.
	for _, bad := range []string{"Nowhere/City", "Local", "..%2Fetc"} {
		if r := call(t, w.h, "GET", "/api/teams/"+w.team.ID+"/progress.csv?tz="+bad, nil, w.manager.auth()...); r.Status != 422 || !strings.Contains(string(r.Body), `"tz"`) {
			t.Fatalf("tz=%s: %d %s, want 422 naming tz", bad, r.Status, r.Body)
		}
	}
	if r := call(t, w.h, "GET", "/api/teams/"+w.team.ID+"/progress.csv", nil, w.manager.auth()...); !strings.HasPrefix(string(r.Body), "Team,Member,Email,Module,") || !strings.Contains(strings.SplitN(string(r.Body), "\n", 2)[0], "Due (UTC)") {
		t.Fatalf("without tz the header is %q, want times in UTC", strings.SplitN(string(r.Body), "\n", 2)[0])
	}
	r := call(t, w.h, "GET", "/api/teams/"+w.team.ID+"/progress.csv?tz=America/New_York", nil, w.manager.auth()...)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + 27*len(w.s.svc.Course.Modules); len(rows) != want {
		t.Fatalf("%d rows, want %d", len(rows), want)
	}
	if rows[0][1] != "Member" || rows[0][3] != "Module" || rows[0][8] != "Due (America/New_York)" {
		t.Fatalf("header %v", rows[0])
	}
	titles := map[string]bool{}
	for _, m := range w.s.svc.Course.Modules {
		titles[m.Title] = true
	}
	for _, row := range rows[1:] {
		if !titles[row[3]] {
			t.Fatalf("module cell %q is not a module title", row[3])
		}
	}
	for _, row := range rows[1:] {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Fatalf("formula cell reached the CSV: %q", cell)
			}
		}
	}
	if !strings.Contains(string(r.Body), `'=HYPERLINK`) {
		t.Fatal("the formula name was not kept as text")
	}
}

// shownAll is a step as it shows in the start state, for strategies.
func shownAll(v *quizzes.Variant, stepID string) *stepJSON {
	out := &stepJSON{ID: stepID}
	_, st := v.Begin()
	for _, c := range v.Offered(v.Steps[stepID], st) {
		out.Choices = append(out.Choices, struct{ ID, Text string }{c.ID, c.Text})
	}
	return out
}

// Reminders fire once per assignment even with two server instances running
// the job at once, in-app and by email.
func TestRemindersOnceAcrossInstances(t *testing.T) {
	w := newWorld(t)
	mp := mailtest.Start(t)
	cfg := testConfig(t)
	cfg.SMTP = mail.Config{Addr: mp.SMTPAddr, From: "baton@example.com"}
	cfg.ReminderInterval = time.Second
	w.db.Gorm.Exec("DELETE FROM notifications")
	w.db.Gorm.Exec("DELETE FROM account_emails") // the world's verification mail is not what this counts
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	assign(t, w.h, w.manager, map[string]any{"module": "capstone", "due_at": past, "team_id": w.team.ID})
	// other: the notice of the capstone assignment itself (told at once),
	// ceo-myth due soon + capstone overdue; the world's foreign team
	// (stranger: ceo-myth due soon).
	const want = 4

	for range 2 {
		if err := buildServer(t, cfg, w.db).svc.StartJobs(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	mp.WaitFor(t, want, 30*time.Second)
	time.Sleep(1500 * time.Millisecond) // another interval: nothing new may appear
	var rows []struct {
		Kind, EmailStatus string
	}
	// The learners' reminders; the manager's digest (due by the default
	// schedule most of the week) is server/notify's and server/app's to count.
	w.db.Gorm.Raw("SELECT kind, email_status FROM notifications WHERE user_id <> ?", w.manager.ID).Scan(&rows)
	var mails []mailtest.Message
	for _, m := range mp.Messages(t) {
		if m.To[0].Address != w.manager.Email {
			mails = append(mails, m)
		}
	}
	if len(rows) != want || len(mails) != want {
		t.Fatalf("%d notifications, %d emails; want %d of each: %+v", len(rows), len(mails), want, rows)
	}
	for _, r := range rows {
		if r.EmailStatus != "sent" {
			t.Fatalf("email status %+v", r)
		}
	}
	var ns []struct {
		ID, Kind, Title string
		ReadAt          *time.Time `json:"read_at"`
	}
	call(t, w.h, "GET", "/api/notifications", nil, w.other.auth()...).JSON(t, &ns)
	if len(ns) != 3 || !strings.Contains(ns[0].Title+ns[1].Title+ns[2].Title, "Overdue") {
		t.Fatalf("other's notifications %+v", ns)
	}
	if r := call(t, w.h, "POST", "/api/notifications/"+ns[0].ID+"/read", nil, w.other.auth()...); r.Status != 204 {
		t.Fatal(r.Status)
	}
	call(t, w.h, "GET", "/api/notifications?unread=1", nil, w.other.auth()...).JSON(t, &ns)
	if len(ns) != 2 {
		t.Fatalf("unread %d", len(ns))
	}
	var overdue []mailtest.Message
	for _, m := range mails {
		if strings.HasPrefix(m.Subject, "Overdue: Capstone") {
			overdue = append(overdue, m)
		}
	}
	if len(overdue) != 1 || overdue[0].To[0].Address != w.other.Email || !strings.Contains(overdue[0].Text, "Open Baton to continue: /modules/capstone") {
		t.Fatalf("mail: %+v", mails)
	}
}

// Demo mode seeds a manager with a team, assignments and some progress, once,
// however often or concurrently it starts.
func TestDemoData(t *testing.T) {
	db := newTestDB(t)
	cfg := testConfig(t)
	cfg.Demo = true
	var wg sync.WaitGroup
	servers := make([]*app.Services, 2)
	for i := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := app.Build(context.Background(), cfg, db, testLog(t))
			if err != nil {
				t.Error(err)
				return
			}
			t.Cleanup(s.Close)
			servers[i] = s
		}()
	}
	wg.Wait()
	if servers[0] == nil || servers[1] == nil {
		t.FailNow()
	}
	h := servers[0].Web.Handler()
	r := call(t, h, "POST", "/api/auth/login", map[string]string{"email": "manager@demo.baton.local", "password": app.DemoPassword})
	var body struct {
		AccessToken string `json:"access_token"`
	}
	r.JSON(t, &body)
	auth := []string{"Authorization", "Bearer " + body.AccessToken}
	var teamsList []struct {
		ID      string
		Members int
	}
	call(t, h, "GET", "/api/teams", nil, auth...).JSON(t, &teamsList)
	if len(teamsList) != 1 || teamsList[0].Members != 3 {
		t.Fatalf("demo teams %+v", teamsList)
	}
	var tp struct {
		Members []struct {
			User        struct{ Email string }
			Assignments []assignmentJSON
			Modules     []struct {
				Slug      string
				Completed bool
			}
		}
	}
	call(t, h, "GET", "/api/teams/"+teamsList[0].ID+"/progress", nil, auth...).JSON(t, &tp)
	statuses := map[string]string{}
	for _, m := range tp.Members {
		for _, a := range m.Assignments {
			if a.Module == "ceo-myth" {
				statuses[m.User.Email] = a.Status
			}
		}
	}
	if statuses["ana@demo.baton.local"] != "completed" || statuses["ben@demo.baton.local"] != "in_progress" || statuses["chloe@demo.baton.local"] != "in_progress" {
		t.Fatalf("demo statuses %v", statuses)
	}
}

// A manager whose team another team's learner joins to their own team gains no say
// over that team's assignments, and sees none of them.
func TestManagersCannotTouchOtherTeamsAssignments(t *testing.T) {
	w := newWorld(t)
	rival := signUp(t, w.h, w.db, "manager")
	rivalTeam := createTeam(t, w.h, rival, "Rival pod")
	inviteAndAccept(t, w, rival, rivalTeam, w.other)
	before := assignmentFor(t, w, w.other, "ceo-myth")
	assertProblem(t, call(t, w.h, "PATCH", "/api/assignments/"+w.otherAssignment, map[string]string{"due_at": "2040-01-01T00:00:00Z"}, rival.auth()...), 404)
	assertProblem(t, call(t, w.h, "DELETE", "/api/assignments/"+w.otherAssignment+"?scope=team", nil, rival.auth()...), 404)
	assertProblem(t, call(t, w.h, "DELETE", "/api/assignments/"+w.otherAssignment, nil, rival.auth()...), 404)
	r := call(t, w.h, "POST", "/api/assignments", map[string]any{"module": "ceo-myth", "due_at": "2040-01-01T00:00:00Z", "user_ids": []string{w.other.ID}}, rival.auth()...)
	if r.Status != 201 || strings.Contains(string(r.Body), w.otherAssignment) {
		t.Fatalf("re-assigning another team's module: %d %s", r.Status, r.Body)
	}
	if after := assignmentFor(t, w, w.other, "ceo-myth"); !after.DueAt.Equal(before.DueAt) {
		t.Fatalf("another manager moved the due date: %v → %v", before.DueAt, after.DueAt)
	}
	for _, path := range []string{"/api/assignments?team_id=" + rivalTeam.ID, "/api/teams/" + rivalTeam.ID + "/progress"} {
		if r := call(t, w.h, "GET", path, nil, rival.auth()...); strings.Contains(string(r.Body), w.otherAssignment) {
			t.Fatalf("%s shows another team's assignment", path)
		}
	}
}

// NUL bytes in fields that reach the database are the client's mistake: a
// 4xx, never a 500.
func TestNULBytesAreClientErrors(t *testing.T) {
	w := newWorld(t)
	cases := []struct {
		method, path string
		body         any
		who          []string
	}{
		{"POST", "/api/auth/login", map[string]string{"email": "a\u0000@x.test", "password": "whatever-it-is"}, nil},
		{"POST", "/api/auth/register", map[string]string{"email": "a\u0000@x.test", "password": testPassword, "name": "A"}, nil},
		{"POST", "/api/teams/join", map[string]string{"invite_code": "AB\u0000"}, w.learner.auth()},
		{"POST", "/api/teams/" + w.team.ID + "/members", map[string]string{"email": "x\u0000@y.z"}, w.manager.auth()},
		{"GET", "/api/users?q=%00", nil, w.admin.auth()},
		{"POST", "/api/attempts/" + w.otherAttempt + "/answers", map[string]string{"step_id": "a\u0000", "choice_id": "b"}, w.other.auth()},
	}
	for _, tc := range cases {
		if r := call(t, w.h, tc.method, tc.path, tc.body, tc.who...); r.Status >= 500 {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, r.Status, r.Body)
		}
	}
}

// Learners joining while a team assignment is made all end up with it.
func TestJoinsRacingATeamAssignment(t *testing.T) {
	w := newWorld(t)
	var learners []account
	for range 20 {
		learners = append(learners, signUp(t, w.h, w.db, ""))
	}
	due := time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)
	var wg sync.WaitGroup
	for i, l := range learners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == len(learners)/2 {
				assign(t, w.h, w.manager, map[string]any{"module": "capstone", "due_at": due, "team_id": w.team.ID})
			}
			joinTeam(t, w.h, l, w.team.InviteCode)
		}()
	}
	wg.Wait()
	for _, l := range learners {
		assignmentFor(t, w, l, "capstone")
	}
}
