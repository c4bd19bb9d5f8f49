package idptest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// site serves a page that submits its second form by script, the target
// that form posts to, and a cookie to see SameSite applied.
func autoSubmitSite(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /start", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "lax", Value: "1", Path: "/"})
		http.SetCookie(w, &http.Cookie{Name: "none", Value: "1", Path: "/", SameSite: http.SameSiteNoneMode, Secure: true})
		// Chromium refuses None without Secure; Secure ones go over loopback http.
		http.SetCookie(w, &http.Cookie{Name: "insecure-none", Value: "1", Path: "/", SameSite: http.SameSiteNoneMode})
		http.Redirect(w, r, "/page", http.StatusFound)
	})
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, r *http.Request) {
		action := r.URL.Query().Get("action")
		if action == "" {
			action = "/target"
		}
		w.Header().Set("Content-Type", "text/html")
		_, _ = fmt.Fprintf(w, `<!DOCTYPE html><html><body>
<form id="first" method="post" action="/wrong"><input type="hidden" name="which" value="first"></form>
<form id="second" method="post" action="%s"><input type="hidden" name="which" value="second"><input type="hidden" name="token" value="t&amp;1"></form>
<script>document.getElementById("second").submit()</script></body></html>`, action)
	})
	mux.HandleFunc("GET /plain", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, `<form method="post" action="/target"><input name="which" value="typed"><button>Send</button></form>`)
	})
	mux.HandleFunc("POST /target", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		var cookies []string
		for _, c := range r.Cookies() {
			cookies = append(cookies, c.Name)
		}
		_, _ = fmt.Fprintf(w, "which=%s token=%s cookies=%s", r.PostForm.Get("which"), r.PostForm.Get("token"), strings.Join(cookies, ","))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func bodyOf(t *testing.T, resp *http.Response) string {
	t.Helper()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

func TestNavigateSubmitsSelfSubmittingForms(t *testing.T) {
	srv := autoSubmitSite(t)
	b := NewBrowser()
	b.RequireSecureNone = true
	resp, err := b.Navigate(srv.URL + "/start")
	if err != nil {
		t.Fatal(err)
	}
	if got := bodyOf(t, resp); got != "which=second token=t&1 cookies=lax,none" {
		t.Fatalf("same-site: %q", got)
	}

	// A form on a page of another site (localhost vs 127.0.0.1): its POST is
	// cross-site, so the Lax cookie stays home and the None one goes.
	other := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	resp, err = b.Navigate(other + "/page?action=" + url.QueryEscape(srv.URL+"/target"))
	if err != nil {
		t.Fatal(err)
	}
	if got := bodyOf(t, resp); got != "which=second token=t&1 cookies=none" {
		t.Fatalf("cross-site: %q", got)
	}

	// Without RequireSecureNone, None without Secure is kept.
	plain := NewBrowser()
	resp, err = plain.Navigate(srv.URL + "/start")
	if err != nil {
		t.Fatal(err)
	}
	if got := bodyOf(t, resp); got != "which=second token=t&1 cookies=lax,none,insecure-none" {
		t.Fatalf("without RequireSecureNone: %q", got)
	}

	// A form nobody submits by script is left for the person.
	resp, err = b.Navigate(srv.URL + "/plain")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Request.URL.Path != "/plain" {
		t.Fatalf("submitted a form on its own: ended at %s", resp.Request.URL)
	}
}

func TestNavigateUntilStopsBeforeAFormPost(t *testing.T) {
	srv := autoSubmitSite(t)
	b := NewBrowser()
	b.RequireSecureNone = true
	stopped, err := b.NavigateUntil(srv.URL+"/start", func(u *url.URL) bool { return u.Path == "/target" })
	if err != nil {
		t.Fatal(err)
	}
	if stopped.Method != http.MethodPost || stopped.URL.Path != "/target" {
		t.Fatalf("stopped at %s %s", stopped.Method, stopped.URL)
	}
	if err := stopped.ParseForm(); err != nil || stopped.PostForm.Get("which") != "second" {
		t.Fatalf("form %v (%v)", stopped.PostForm, err)
	}
	// The tampered copy goes as the navigation it was.
	tampered, _ := formRequest(stopped.URL.String(), url.Values{"which": {"tampered"}})
	resp, err := b.Submit(tampered)
	if err != nil {
		t.Fatal(err)
	}
	if got := bodyOf(t, resp); got != "which=tampered token= cookies=lax,none" {
		t.Fatalf("submitted: %q", got)
	}
	if _, err := b.NavigateUntil(srv.URL+"/plain", func(u *url.URL) bool { return u.Path == "/target" }); err == nil {
		t.Fatal("no error when the stop URL never came")
	}

	// PostForm is a cross-site POST: the Lax cookie is not sent.
	resp, err = b.PostForm(srv.URL+"/target", url.Values{"which": {"replayed"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := bodyOf(t, resp); got != "which=replayed token= cookies=none" {
		t.Fatalf("posted: %q", got)
	}
}
