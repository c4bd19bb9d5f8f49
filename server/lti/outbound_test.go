package lti

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

// A platform's URLs (registered or carried by a signed launch) must not
// reach Baton's own machine or the cloud metadata service, and a platform's
// redirect is not followed to somewhere else.
func TestOutboundClientRefusesInternalAddresses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			http.Redirect(w, r, "/landed", http.StatusFound)
			return
		}
		_, _ = w.Write([]byte("{}"))
	}))
	defer srv.Close()

	production := outboundClient(false)
	for _, u := range []string{srv.URL + "/lineitems", "http://169.254.169.254/latest/meta-data/", "http://[::1]:9/", "http://0.0.0.0:9/"} {
		resp, err := production.Get(u)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("GET %s answered %d; want refused", u, resp.StatusCode)
		}
		if !errors.Is(err, errRefusedAddress) {
			t.Fatalf("GET %s: %v, want errRefusedAddress", u, err)
		}
	}

	development := outboundClient(true) // Baton itself on loopback
	resp, err := development.Get(srv.URL + "/lineitems")
	if err != nil {
		t.Fatalf("loopback in development: %v", err)
	}
	resp.Body.Close()
	if resp, err := development.Get(srv.URL + "/elsewhere"); err == nil {
		resp.Body.Close()
		t.Fatalf("a platform's redirect was followed: %d", resp.StatusCode)
	}
	if _, err := development.Get("http://169.254.169.254/"); !errors.Is(err, errRefusedAddress) {
		t.Fatalf("link-local in development: %v", err)
	}
}

func TestServiceURLProblem(t *testing.T) {
	for raw, bad := range map[string]bool{
		"https://school.instructure.com/api/lti/courses/1/line_items": false,
		"http://127.0.0.1:8080/lineitems":                             false, // development
		"http://lms.example/lineitems":                                true,
		"javascript:alert(1)":                                         true,
		"ftp://lms.example/x":                                         true,
		"https://user:pw@lms.example/x":                               true,
		"":                                                            false, // none given
	} {
		if got := serviceURLProblem(raw) != ""; got != bad {
			t.Errorf("serviceURLProblem(%q) bad = %v, want %v", raw, got, bad)
		}
	}
}
