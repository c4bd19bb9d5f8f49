package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/baton-course/baton/server/web/webtest"
)

// TestOpenAPIValidationIsStrict proves the check catches what it is for: a
// real response with one field renamed, a status the operation does not
// list, and a body in another media type.
func TestOpenAPIValidationIsStrict(t *testing.T) {
	t.Parallel()
	s, db := newTestServer(t)
	h := s.Handler()
	a := signUp(t, h, db, "")
	r := call(t, h, "GET", "/api/me", nil, a.auth()...)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"email":`) {
		t.Fatalf("me: %d %s", r.Status, r.Body)
	}
	req := httptest.NewRequest("GET", "/api/me", nil)
	if documented, err := webtest.ResponseMismatch(req, r.Status, r.Header, r.Body); !documented || err != nil {
		t.Fatalf("the real response should pass: documented %v, %v", documented, err)
	}

	renamed := []byte(strings.Replace(string(r.Body), `"email":`, `"e_mail":`, 1))
	_, err := webtest.ResponseMismatch(req, r.Status, r.Header, renamed)
	if err == nil || !strings.Contains(err.Error(), `property "email" is missing`) {
		t.Errorf("a renamed field passed: %v", err)
	}
	if _, err := webtest.ResponseMismatch(req, 418, r.Header, r.Body); err == nil || !strings.Contains(err.Error(), "status is not supported") {
		t.Errorf("an undocumented status passed: %v", err)
	}
	text := http.Header{"Content-Type": {"text/plain"}}
	if _, err := webtest.ResponseMismatch(req, r.Status, text, r.Body); err == nil {
		t.Error("a text/plain body passed where JSON is documented")
	}
	if documented, _ := webtest.ResponseMismatch(httptest.NewRequest("GET", "/lessons/x", nil), 200, r.Header, r.Body); documented {
		t.Error("a browser-app path counted as an API operation")
	}
}
