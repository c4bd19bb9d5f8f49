package web_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/baton-course/baton/server/database"
)

// world is a small population for authorization tests: one account per role
// plus a second learner whose things the others try to reach.
type world struct {
	s                              *testServer
	h                              http.Handler
	db                             *database.DB
	learner, other, manager, admin account
	otherAttempt                   string // an attempt of other's that nobody else may see

	// team is manager's, with other as a member; foreign is admin's, with
	// stranger as a member. Each has a module assigned.
	stranger                           account
	team, foreign                      teamJSON
	otherAssignment, foreignAssignment string
	otherNotification                  string
	// foreignInvitation is a pending invitation of the foreign team to an
	// address none of the world's accounts has.
	foreignInvitation string
}

type teamJSON struct {
	ID, Name   string
	InviteCode string `json:"invite_code"`
}

func newWorld(t *testing.T) *world {
	t.Helper()
	s, db := newTestServer(t)
	h := s.Handler()
	w := &world{
		s: s, h: h, db: db,
		learner: signUp(t, h, db, "learner"),
		other:   signUp(t, h, db, "learner"),
		manager: signUp(t, h, db, "manager"),
		admin:   signUp(t, h, db, "admin"),
	}
	r := call(t, h, "POST", "/api/quizzes/"+testQuiz+"/attempts", nil, w.other.auth()...)
	var started struct{ ID string }
	r.JSON(t, &started)
	w.otherAttempt = started.ID

	w.stranger = signUp(t, h, db, "learner")
	// The world's people have verified their emails (invitations need it).
	if err := db.Gorm.Exec(`UPDATE users SET email_verified_at = now()`).Error; err != nil {
		t.Fatal(err)
	}
	w.team = createTeam(t, h, w.manager, "Product pod")
	w.foreign = createTeam(t, h, w.admin, "Someone else's pod")
	joinTeam(t, h, w.other, w.team.InviteCode)
	joinTeam(t, h, w.stranger, w.foreign.InviteCode)
	soon := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	w.otherAssignment = assign(t, h, w.manager, map[string]any{"module": "ceo-myth", "due_at": soon, "team_id": w.team.ID})[0]
	w.foreignAssignment = assign(t, h, w.admin, map[string]any{"module": "ceo-myth", "due_at": soon, "team_id": w.foreign.ID})[0]
	r = call(t, h, "POST", "/api/teams/"+w.foreign.ID+"/members", map[string]string{"email": fmt.Sprintf("invitee%d@example.com", emailSeq.Add(1))}, w.admin.auth()...)
	var sent struct{ Invitation struct{ ID string } }
	if r.JSON(t, &sent); r.Status != 202 || sent.Invitation.ID == "" {
		t.Fatalf("invite: %d %s", r.Status, r.Body)
	}
	w.foreignInvitation = sent.Invitation.ID
	if _, err := s.svc.Notify.Reminders(context.Background(), time.Now(), false); err != nil {
		t.Fatal(err)
	}
	db.Gorm.Raw("SELECT id FROM notifications WHERE user_id = ?", w.other.ID).Scan(&w.otherNotification)
	if w.otherNotification == "" {
		t.Fatal("no reminder for other")
	}
	return w
}

func createTeam(t testing.TB, h http.Handler, by account, name string) teamJSON {
	t.Helper()
	r := call(t, h, "POST", "/api/teams", map[string]string{"name": name}, by.auth()...)
	if r.Status != 201 {
		t.Fatalf("create team: %d %s", r.Status, r.Body)
	}
	var tm teamJSON
	r.JSON(t, &tm)
	return tm
}

func joinTeam(t testing.TB, h http.Handler, who account, code string) {
	t.Helper()
	if r := call(t, h, "POST", "/api/teams/join", map[string]string{"invite_code": code}, who.auth()...); r.Status != 200 {
		t.Fatalf("join: %d %s", r.Status, r.Body)
	}
}

// assign posts an assignment and returns the ids created.
func assign(t testing.TB, h http.Handler, by account, body map[string]any) []string {
	t.Helper()
	r := call(t, h, "POST", "/api/assignments", body, by.auth()...)
	if r.Status != 201 {
		t.Fatalf("assign: %d %s", r.Status, r.Body)
	}
	var out struct{ Assignments []struct{ ID string } }
	r.JSON(t, &out)
	var ids []string
	for _, a := range out.Assignments {
		ids = append(ids, a.ID)
	}
	return ids
}

// The lesson and scenario the HTTP tests use.
const (
	testLesson = "who-owns-engineering-estimates"
	testQuiz   = "the-impossible-date"
)

// accessCase is one route called by each role; want gives the status per
// role name. A route is registered once: the path names the echo pattern.
type accessCase struct {
	method, pattern, path string
	body                  any
	want                  map[string]int
}

func roles(learner, manager, admin int) map[string]int {
	return map[string]int{"learner": learner, "manager": manager, "admin": admin}
}

func all(status int) map[string]int {
	return map[string]int{"learner": status, "manager": status, "admin": status}
}

// accessCases is the table every protected route must appear in.
func accessCases(w *world) []accessCase {
	return []accessCase{
		{method: "GET", pattern: "/api/me", path: "/api/me", want: all(200)},
		{method: "POST", pattern: "/api/me/verification", path: "/api/me/verification", want: all(409)}, // the world's emails are verified
		{method: "PUT", pattern: "/api/me/password", path: "/api/me/password", body: map[string]string{"current_password": "not-the-password", "new_password": "another-long-password"}, want: all(403)},
		{method: "GET", pattern: "/api/me/sessions", path: "/api/me/sessions", want: all(200)},
		// Another person's session is not found, whoever asks.
		{method: "DELETE", pattern: "/api/me/sessions/:id", path: "/api/me/sessions/" + sessionOf(w, w.other), want: all(404)},
		{method: "GET", pattern: "/api/me/export", path: "/api/me/export", want: all(200)},
		{method: "DELETE", pattern: "/api/me", path: "/api/me", body: map[string]string{"password": "not-the-password"}, want: all(403)},
		{method: "GET", pattern: "/api/users", path: "/api/users", want: map[string]int{"learner": 403, "manager": 403, "admin": 200}},
		{method: "PATCH", pattern: "/api/users/:id", path: "/api/users/" + w.other.ID, body: map[string]string{"role": "learner"},
			want: map[string]int{"learner": 403, "manager": 403, "admin": 200}},
		{method: "POST", pattern: "/api/admin/signing-keys", path: "/api/admin/signing-keys", want: map[string]int{"learner": 403, "manager": 403, "admin": 201}},
		{method: "GET", pattern: "/api/admin/sso-domains", path: "/api/admin/sso-domains", want: roles(403, 403, 200)},
		// The access world has no provider configured: requiring it is refused.
		{method: "PUT", pattern: "/api/admin/sso-domains/:domain", path: "/api/admin/sso-domains/example.com", want: roles(403, 403, 409)},
		{method: "DELETE", pattern: "/api/admin/sso-domains/:domain", path: "/api/admin/sso-domains/example.com", want: roles(403, 403, 404)},
		{method: "GET", pattern: "/api/admin/lti/platforms", path: "/api/admin/lti/platforms", want: roles(403, 403, 200)},
		{method: "POST", pattern: "/api/admin/lti/platforms", path: "/api/admin/lti/platforms", body: map[string]any{"issuer": "https://lms.example.com"}, want: roles(403, 403, 422)},
		{method: "DELETE", pattern: "/api/admin/lti/platforms/:id", path: "/api/admin/lti/platforms/" + w.team.ID, want: roles(403, 403, 404)},
		{method: "POST", pattern: "/api/admin/lti/registrations", path: "/api/admin/lti/registrations", want: roles(403, 403, 201)},
		{method: "POST", pattern: "/api/admin/lti/keys", path: "/api/admin/lti/keys", want: roles(403, 403, 201)},
		// Nobody's deep-linking request but the launcher's is found.
		{method: "GET", pattern: "/api/lti/deep-links/:id", path: "/api/lti/deep-links/" + w.team.ID, want: all(404)},
		{method: "POST", pattern: "/api/lti/deep-links/:id", path: "/api/lti/deep-links/" + w.team.ID, body: map[string]any{"items": []map[string]string{{"kind": "scenario", "slug": testQuiz}}}, want: all(404)},
		{method: "POST", pattern: "/api/auth/logout", path: "/api/auth/logout", want: all(204)},
		{method: "GET", pattern: "/api/modules", path: "/api/modules", want: all(200)},
		{method: "GET", pattern: "/api/lessons/:slug", path: "/api/lessons/" + testLesson, want: all(200)},
		{method: "PUT", pattern: "/api/lessons/:slug/progress", path: "/api/lessons/" + testLesson + "/progress", body: map[string]int{"percent": 10}, want: all(200)},
		{method: "POST", pattern: "/api/lessons/:slug/checks/:check/answers", path: "/api/lessons/" + testLesson + "/checks/" + firstCheck(w) + "/answers", body: map[string]string{"option": "a"}, want: all(200)},
		{method: "PUT", pattern: "/api/lessons/:slug/reflections/:prompt", path: "/api/lessons/" + testLesson + "/reflections/" + firstReflection(w), body: map[string]string{"body": "mine"}, want: all(200)},
		{method: "GET", pattern: "/api/quizzes/:slug", path: "/api/quizzes/" + testQuiz, want: all(200)},
		{method: "GET", pattern: "/api/quizzes/:slug/attempts", path: "/api/quizzes/" + testQuiz + "/attempts", want: all(200)},
		{method: "POST", pattern: "/api/quizzes/:slug/attempts", path: "/api/quizzes/" + testQuiz + "/attempts", want: map[string]int{"learner": 201, "manager": 201, "admin": 201}},
		// Another learner's attempt is not found, whoever asks: even an admin.
		{method: "GET", pattern: "/api/attempts/:id", path: "/api/attempts/" + w.otherAttempt, want: all(404)},
		{method: "POST", pattern: "/api/attempts/:id/answers", path: "/api/attempts/" + w.otherAttempt + "/answers", body: map[string]string{"step_id": "x", "choice_id": "y"}, want: all(404)},
		{method: "POST", pattern: "/api/attempts/:id/practice", path: "/api/attempts/" + w.otherAttempt + "/practice", want: all(404)},
		// A practice run nobody has (another learner's is TestPracticeRun's).
		{method: "GET", pattern: "/api/practice/:id", path: "/api/practice/" + w.team.ID, want: all(404)},
		{method: "POST", pattern: "/api/practice/:id/answers", path: "/api/practice/" + w.team.ID + "/answers", body: map[string]string{"step_id": "x", "choice_id": "y"}, want: all(404)},
		{method: "GET", pattern: "/api/progress", path: "/api/progress", want: all(200)},
		{method: "GET", pattern: "/api/job-aids", path: "/api/job-aids", want: all(200)},
		{method: "GET", pattern: "/api/job-aids/:module", path: "/api/job-aids/ceo-myth", want: all(200)},
		{method: "PUT", pattern: "/api/job-aids/:module/practice", path: "/api/job-aids/ceo-myth/practice", body: map[string]any{"note": "done", "shared": false}, want: all(200)},
		{method: "DELETE", pattern: "/api/job-aids/:module/practice", path: "/api/job-aids/ceo-myth/practice", want: all(204)},

		{method: "POST", pattern: "/api/teams", path: "/api/teams", body: map[string]string{"name": "New"}, want: roles(403, 201, 201)},
		{method: "GET", pattern: "/api/teams", path: "/api/teams", want: roles(403, 200, 200)},
		{method: "POST", pattern: "/api/teams/join", path: "/api/teams/join", body: map[string]string{"invite_code": w.foreign.InviteCode}, want: roles(200, 200, 409)},
		{method: "GET", pattern: "/api/teams/:id", path: "/api/teams/" + w.team.ID, want: roles(404, 200, 200)},
		{method: "GET", pattern: "/api/teams/:id", path: "/api/teams/" + w.foreign.ID, want: roles(404, 404, 200)},
		{method: "POST", pattern: "/api/teams/:id/invite-code", path: "/api/teams/" + w.foreign.ID + "/invite-code", want: roles(403, 404, 200)},
		{method: "POST", pattern: "/api/teams/:id/members", path: "/api/teams/" + w.team.ID + "/members", body: map[string]string{"email": w.learner.Email}, want: roles(403, 202, 202)},
		{method: "POST", pattern: "/api/teams/:id/members", path: "/api/teams/" + w.foreign.ID + "/members", body: map[string]string{"email": w.learner.Email}, want: roles(403, 404, 202)},
		{method: "GET", pattern: "/api/teams/:id/invitations", path: "/api/teams/" + w.team.ID + "/invitations", want: roles(403, 200, 200)},
		{method: "GET", pattern: "/api/teams/:id/invitations", path: "/api/teams/" + w.foreign.ID + "/invitations", want: roles(403, 404, 200)},
		{method: "DELETE", pattern: "/api/teams/:id/invitations/:invitation_id", path: "/api/teams/" + w.foreign.ID + "/invitations/" + w.foreignInvitation, want: roles(403, 404, 204)},
		// None of the three is a member of team (other is; the manager manages
		// it), and the foreign invitation is addressed to someone else.
		{method: "DELETE", pattern: "/api/teams/:id/membership", path: "/api/teams/" + w.team.ID + "/membership", want: all(404)},
		{method: "GET", pattern: "/api/invitations", path: "/api/invitations", want: all(200)},
		{method: "POST", pattern: "/api/invitations/:id/accept", path: "/api/invitations/" + w.foreignInvitation + "/accept", want: all(404)},
		{method: "POST", pattern: "/api/invitations/:id/decline", path: "/api/invitations/" + w.foreignInvitation + "/decline", want: all(404)},
		{method: "GET", pattern: "/api/teams/:id/progress", path: "/api/teams/" + w.team.ID + "/progress", want: roles(404, 200, 200)},
		{method: "GET", pattern: "/api/teams/:id/progress", path: "/api/teams/" + w.foreign.ID + "/progress", want: roles(404, 404, 200)},
		{method: "GET", pattern: "/api/teams/:id/progress.csv", path: "/api/teams/" + w.foreign.ID + "/progress.csv", want: roles(404, 404, 200)},
		{method: "GET", pattern: "/api/teams/:id/analytics", path: "/api/teams/" + w.foreign.ID + "/analytics", want: roles(404, 404, 200)},
		{method: "GET", pattern: "/api/teams/:id/coaching/:scenario", path: "/api/teams/" + w.team.ID + "/coaching/" + testQuiz, want: roles(404, 200, 200)},
		{method: "GET", pattern: "/api/teams/:id/coaching/:scenario", path: "/api/teams/" + w.foreign.ID + "/coaching/" + testQuiz, want: roles(404, 404, 200)},
		{method: "POST", pattern: "/api/assignments", path: "/api/assignments", body: map[string]any{"module": "vision-and-narrative", "due_at": "2030-01-01T00:00:00Z", "team_id": w.team.ID}, want: roles(403, 201, 201)},
		{method: "POST", pattern: "/api/assignments", path: "/api/assignments", body: map[string]any{"module": "vision-and-narrative", "due_at": "2030-01-01T00:00:00Z", "user_ids": []string{w.stranger.ID}}, want: roles(403, 403, 201)},
		{method: "GET", pattern: "/api/assignments", path: "/api/assignments", want: all(200)},
		{method: "GET", pattern: "/api/assignments", path: "/api/assignments?team_id=" + w.foreign.ID, want: roles(404, 404, 200)},
		{method: "GET", pattern: "/api/teams/:id/members/:user_id", path: "/api/teams/" + w.team.ID + "/members/" + w.other.ID, want: roles(404, 200, 200)},
		{method: "GET", pattern: "/api/teams/:id/members/:user_id", path: "/api/teams/" + w.foreign.ID + "/members/" + w.stranger.ID, want: roles(404, 404, 200)},
		// Only a current member is found, even by an admin.
		{method: "GET", pattern: "/api/teams/:id/members/:user_id", path: "/api/teams/" + w.team.ID + "/members/" + w.stranger.ID, want: roles(404, 404, 404)},
		// Before PATCH and DELETE below: the admin's nudge needs the assignment open.
		{method: "POST", pattern: "/api/assignments/:id/nudge", path: "/api/assignments/" + w.foreignAssignment + "/nudge", body: map[string]string{"note": "How is it going?"}, want: roles(403, 404, 202)},
		{method: "PATCH", pattern: "/api/assignments/:id", path: "/api/assignments/" + w.foreignAssignment, body: map[string]string{"due_at": "2030-02-01T00:00:00Z"}, want: roles(403, 404, 200)},
		{method: "DELETE", pattern: "/api/assignments/:id", path: "/api/assignments/" + w.foreignAssignment, want: roles(403, 404, 204)},
		{method: "DELETE", pattern: "/api/teams/:id/members/:user_id", path: "/api/teams/" + w.foreign.ID + "/members/" + w.stranger.ID, want: roles(403, 404, 204)},
		{method: "GET", pattern: "/api/notifications", path: "/api/notifications", want: all(200)},
		{method: "POST", pattern: "/api/notifications/:id/read", path: "/api/notifications/" + w.otherNotification + "/read", want: all(404)},
		{method: "POST", pattern: "/api/notifications/read-all", path: "/api/notifications/read-all", want: all(204)},
		{method: "GET", pattern: "/api/audit", path: "/api/audit", want: roles(403, 403, 200)},
	}
}

// TestAccessByRole walks every protected route with every role, and fails
// when a route is missing from the table so new routes get checked too.
func TestAccessByRole(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cases := accessCases(w)
	listed := map[string]bool{}
	for _, c := range cases {
		listed[c.method+" "+c.pattern] = true
	}
	for _, r := range apiRoutes(w.s) {
		key := r.Method + " " + r.Path
		if !publicRoutes[key] && !listed[key] {
			t.Errorf("route %s is not in the access table", key)
		}
	}
	for _, c := range cases {
		for _, role := range []string{"learner", "manager", "admin"} {
			t.Run(c.method+" "+c.pattern+" as "+role, func(t *testing.T) {
				who := map[string]account{"learner": w.learner, "manager": w.manager, "admin": w.admin}[role]
				who = login(t, w.h, who.Email) // a fresh session: logout cases end theirs
				r := call(t, w.h, c.method, c.path, c.body, who.auth()...)
				if r.Status != c.want[role] {
					t.Fatalf("status %d, want %d: %s", r.Status, c.want[role], r.Body)
				}
			})
		}
	}
}

// sessionOf is one of a's sessions.
func sessionOf(w *world, a account) string {
	var id string
	w.db.Gorm.Raw("SELECT id FROM sessions WHERE user_id = ? LIMIT 1", a.ID).Scan(&id)
	return id
}

func firstCheck(w *world) string {
	l, _ := w.s.svc.Course.Lesson(testLesson)
	return l.Checks[0].ID
}

func firstReflection(w *world) string {
	l, _ := w.s.svc.Course.Lesson(testLesson)
	return l.Reflections[0].ID
}
