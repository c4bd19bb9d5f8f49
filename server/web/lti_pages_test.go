package web_test

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/baton-course/baton/server/idptest"
	"github.com/baton-course/baton/server/lti"
	"github.com/baton-course/baton/server/ltitest"
)

// formAction is the form-action directive of a page's CSP.
func formAction(h http.Header) string {
	for _, d := range strings.Split(h.Get("Content-Security-Policy"), ";") {
		if d = strings.TrimSpace(d); strings.HasPrefix(d, "form-action ") {
			return d
		}
	}
	return ""
}

// TestLTIDeepLinkPageFormAction: the picker page may post to its request's
// platform, and only while the request is open; no other page may.
func TestLTIDeepLinkPageFormAction(t *testing.T) {
	t.Parallel()
	lw := newLTIWorld(t)
	c := ltiCourse("c-csp")
	lw.p.AddCourse(c)
	id, grace, _ := lw.openDeepLink(t, c)
	h := lw.ts.Handler()

	page := call(t, h, "GET", lti.DeepLinkPage+id, nil)
	if page.Status != 200 || !strings.Contains(string(page.Body), "<html") {
		t.Fatalf("the picker page: %d %.200s", page.Status, page.Body)
	}
	if got, want := formAction(page.Header), "form-action 'self' "+lw.p.Issuer(); got != want {
		t.Errorf("the picker's %q, want %q", got, want)
	}
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("the picker's CSP lost the rest of the app's policy: %s", csp)
	}
	for _, other := range []string{"/", "/lti/deep-links/00000000-0000-4000-8000-000000000000", "/lti/deep-links/not-a-uuid", "/quizzes/" + testQuiz} {
		if got := formAction(call(t, h, "GET", other, nil).Header); got != "form-action 'self'" {
			t.Errorf("%s has %q", other, got)
		}
	}

	// Answered, the request is spent: its page posts nowhere else.
	r := call(t, h, "POST", "/api/lti/deep-links/"+id, map[string]any{"items": []map[string]string{{"kind": "scenario", "slug": testQuiz}}}, grace.auth()...)
	if r.Status != 200 {
		t.Fatalf("answer: %d %s", r.Status, r.Body)
	}
	if got := formAction(call(t, h, "GET", lti.DeepLinkPage+id, nil).Header); got != "form-action 'self'" {
		t.Errorf("an answered request's page has %q", got)
	}
}

// TestLTIRefusalPageStyle: a refusal page carries its one inline style,
// allowed by its hash and nothing else (no script, no framing, no forms).
func TestLTIRefusalPageStyle(t *testing.T) {
	t.Parallel()
	lw := newLTIWorld(t)
	c := ltiCourse("c-style")
	lw.p.AddCourse(c)
	link := ltitest.Link{ResourceLinkID: "rl-s", TargetLinkURI: lw.base + "/quizzes/" + testQuiz}
	resp, err := idptest.NewBrowser().Navigate(lw.p.LaunchURL(c, ltiPeople.ada, link, ltitest.Forged(ltitest.Forgery{OtherKey: true})))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	style := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindSubmatch(body)
	if resp.StatusCode != 403 || style == nil {
		t.Fatalf("refusal page %d without a style: %.300s", resp.StatusCode, body)
	}
	sum := sha256.Sum256(style[1])
	want := "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
	if got := resp.Header.Get("Content-Security-Policy"); got != want {
		t.Errorf("refusal page CSP\n got %s\nwant %s", got, want)
	}
}
