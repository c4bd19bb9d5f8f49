package web_test

import (
	"net/url"
	"strings"
	"testing"
)

// tableCounts sums the rows of every application table, to show a request
// changed nothing.
func tableCounts(t *testing.T, w *world) map[string]int64 {
	t.Helper()
	var tables []string
	w.db.Gorm.Raw(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'
		AND tablename NOT LIKE 'river%' AND tablename <> 'goose_db_version'`).Scan(&tables)
	out := map[string]int64{}
	for _, tb := range tables {
		var n int64
		w.db.Gorm.Raw(`SELECT count(*) FROM ` + tb).Scan(&n)
		out[tb] = n
	}
	return out
}

func deepJSON(depth int) string {
	return strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
}

// TestHostileInputSweep sends malformed, oversized, deeply nested, wrong-typed
// and injection-shaped input to every route that takes a body, as every
// role: each answer is a 4xx problem and the database is unchanged.
func TestHostileInputSweep(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	bodies := map[string]string{
		"malformed":      `{"name":`,
		"not json":       `name=x&email=y`,
		"oversized":      `{"name":"` + strings.Repeat("x", 1<<20) + `"}`,
		"deeply nested":  deepJSON(20000),
		"array":          `[1,2,3]`,
		"wrong types":    `{"email":5,"password":[],"name":{},"percent":"50","module":1,"due_at":true,"step_id":1,"choice_id":2,"role":3,"invite_code":4,"option":5,"body":6,"user_ids":"x","team_id":7}`,
		"unknown fields": `{"__proto__":{"admin":true},"constructor":1}`,
		"null":           `null`,
		"nul bytes":      "{\"name\":\"a\u0000b\",\"email\":\"\u0000\"}",
		"injection-shaped": `{"email":"x@y.z' OR '1'='1","password":"' OR 1=1 --","name":"","percent":-1,"module":"x'; DROP TABLE users; --",` +
			`"due_at":"2026-01-01'; DROP TABLE assignments; --","invite_code":"' OR '1'='1","option":"a' OR '1'='1","role":"admin' --",` +
			`"step_id":"' OR 1=1 --","choice_id":"1; DELETE FROM attempts","user_ids":["' OR 1=1 --"],"team_id":"' OR 1=1 --"}`,
	}
	before := tableCounts(t, w)
	for _, r := range apiRoutes(w.s) {
		if r.Method != "POST" && r.Method != "PUT" && r.Method != "PATCH" {
			continue
		}
		path := r.Path
		path = strings.ReplaceAll(path, ":slug", map[bool]string{true: testQuiz, false: testLesson}[strings.HasPrefix(path, "/api/quizzes")])
		path = strings.ReplaceAll(path, ":check", firstCheck(w))
		path = strings.ReplaceAll(path, ":prompt", firstReflection(w))
		path = strings.ReplaceAll(path, ":id", map[bool]string{true: w.otherAttempt, false: w.team.ID}[strings.HasPrefix(path, "/api/attempts")])
		path = strings.ReplaceAll(path, ":user_id", w.other.ID)
		for name, body := range bodies {
			for _, who := range []account{w.learner, w.manager, w.admin} {
				if r.Path == "/api/auth/logout" || r.Path == "/api/admin/signing-keys" || r.Path == "/api/teams/:id/invite-code" ||
					r.Path == "/api/notifications/read-all" || r.Path == "/api/quizzes/:slug/attempts" || r.Path == "/api/auth/refresh" ||
					r.Path == "/api/admin/lti/registrations" || r.Path == "/api/admin/lti/keys" {
					continue // these take no body and change state by design
				}
				res := call(t, w.h, r.Method, path, body, who.auth()...)
				if res.Status < 400 || res.Status >= 500 {
					t.Errorf("%s %s with %s: status %d %.200s", r.Method, r.Path, name, res.Status, res.Body)
					continue
				}
				assertProblem(t, res, res.Status)
			}
		}
	}
	after := tableCounts(t, w)
	for tb, n := range before {
		if after[tb] != n && tb != "login_throttle" {
			t.Errorf("table %s changed: %d rows, then %d", tb, n, after[tb])
		}
	}
}

// TestOddPathIDs: ids no route expects never reach a 5xx.
func TestOddPathIDs(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	odd := []string{"%00", "..", "%2e%2e", "%2F..%2F..%2Fetc%2Fpasswd", strings.Repeat("a", 5000), "%ff%fe", url.PathEscape("' OR 1=1 --"),
		url.PathEscape("ñandú-🙂"), "00000000-0000-0000-0000-000000000000", "-1", "null"}
	for _, r := range apiRoutes(w.s) {
		if !strings.Contains(r.Path, ":") {
			continue
		}
		for _, id := range odd {
			path := routeParam.ReplaceAllString(r.Path, id)
			for _, who := range []account{w.learner, w.admin} {
				res := call(t, w.h, r.Method, path, "{}", who.auth()...)
				if res.Status >= 500 {
					t.Errorf("%s %s: %d %.200s", r.Method, path[:min(len(path), 80)], res.Status, res.Body)
				}
			}
		}
	}
	for _, path := range []string{"/%00", "/../../etc/passwd", "/" + strings.Repeat("x", 5000), "/assets/%2e%2e/%2e%2e/go.mod"} {
		if res := call(t, w.h, "GET", path, nil); res.Status >= 500 || strings.Contains(string(res.Body), "module github.com") {
			t.Errorf("GET %.60s: %d", path, res.Status)
		}
	}
}

// TestSecurityHeaders: every answer, page or API, carries the headers.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, path := range []string{"/", "/api/me", "/api/nope", "/healthz"} {
		r := call(t, w.h, "GET", path, nil, w.learner.auth()...)
		want := map[string]string{
			"X-Content-Type-Options": "nosniff",
			"X-Frame-Options":        "DENY",
			"Referrer-Policy":        "no-referrer",
		}
		for k, v := range want {
			if r.Header.Get(k) != v {
				t.Errorf("%s: %s = %q", path, k, r.Header.Get(k))
			}
		}
		csp := r.Header.Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("%s: CSP lacks %s", path, d)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP allows inline code", path)
		}
	}
}
