package main

import (
	"net/http"
	"testing"

	"github.com/baton-course/baton/server/database"
)

// world is a small population for authorization tests: one account per role
// plus a second learner whose things the others try to reach.
type world struct {
	s                              *Server
	h                              http.Handler
	db                             *database.DB
	learner, other, manager, admin account
	otherAttempt                   string // an attempt of other's that nobody else may see
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
	r.json(t, &started)
	w.otherAttempt = started.ID
	return w
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

func all(status int) map[string]int {
	return map[string]int{"learner": status, "manager": status, "admin": status}
}

// accessCases is the table every protected route must appear in.
func accessCases(w *world) []accessCase {
	return []accessCase{
		{method: "GET", pattern: "/api/me", path: "/api/me", want: all(200)},
		{method: "GET", pattern: "/api/users", path: "/api/users", want: map[string]int{"learner": 403, "manager": 403, "admin": 200}},
		{method: "PATCH", pattern: "/api/users/:id", path: "/api/users/" + w.other.ID, body: map[string]string{"role": "learner"},
			want: map[string]int{"learner": 403, "manager": 403, "admin": 200}},
		{method: "POST", pattern: "/api/admin/signing-keys", path: "/api/admin/signing-keys", want: map[string]int{"learner": 403, "manager": 403, "admin": 201}},
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
		{method: "GET", pattern: "/api/progress", path: "/api/progress", want: all(200)},
	}
}

// TestAccessByRole walks every protected route with every role, and fails
// when a route is missing from the table so new routes get checked too.
func TestAccessByRole(t *testing.T) {
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

func firstCheck(w *world) string {
	l, _ := w.s.content.course.Lesson(testLesson)
	return l.Checks[0].ID
}

func firstReflection(w *world) string {
	l, _ := w.s.content.course.Lesson(testLesson)
	return l.Reflections[0].ID
}
