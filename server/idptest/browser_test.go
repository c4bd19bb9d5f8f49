package idptest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// TestBrowserSameSite holds the browser to the cookie rules that decide
// whether Baton's state cookie comes back with the provider's redirect.
func TestBrowserSameSite(t *testing.T) {
	var provider *httptest.Server
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/set":
			http.SetCookie(w, &http.Cookie{Name: "strict", Value: "1", SameSite: http.SameSiteStrictMode})
			http.SetCookie(w, &http.Cookie{Name: "lax", Value: "1", SameSite: http.SameSiteLaxMode})
			http.SetCookie(w, &http.Cookie{Name: "unset", Value: "1"})
			http.SetCookie(w, &http.Cookie{Name: "none", Value: "1", SameSite: http.SameSiteNoneMode, Secure: false})
		case "/away": // to the provider, which is another site, and back
			http.Redirect(w, r, strings.Replace(provider.URL, "127.0.0.1", "localhost", 1)+"/back", http.StatusFound)
		case "/echo":
			var names []string
			for _, c := range r.Cookies() {
				names = append(names, c.Name)
			}
			slices.Sort(names)
			_, _ = io.WriteString(w, strings.Join(names, " "))
		}
	}))
	defer app.Close()
	provider = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, app.URL+"/echo", http.StatusFound)
	}))
	defer provider.Close()

	b := NewBrowser()
	b.Logf = t.Logf
	if _, err := b.Get(app.URL + "/set"); err != nil {
		t.Fatal(err)
	}
	echo := func(resp *http.Response, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	if got := echo(b.Get(app.URL + "/echo")); got != "lax none strict unset" {
		t.Errorf("typed URL sent %q, want every cookie", got)
	}
	if got := echo(b.Get(app.URL + "/away")); got != "lax none unset" {
		t.Errorf("back from another site sent %q, want no Strict cookie", got)
	}
	stopped, err := b.FollowUntil(app.URL+"/away", StopAt(app.URL+"/echo"))
	if err != nil {
		t.Fatal(err)
	}
	if got := echo(b.Continue(stopped)); got != "lax none unset" {
		t.Errorf("Continue after another site sent %q, want no Strict cookie", got)
	}
	if got := len(b.Cookies(app.URL)); got != 4 {
		t.Errorf("Cookies gives %d cookies, want 4", got)
	}
}

func TestParseFormsFindsFieldsAndButtons(t *testing.T) {
	forms := parseForms([]byte(`<form method="post" action="/in"><input type="hidden" name="id" value="7">
<input name="user"><input type="password" name="pw"><button name="go" value="yes">Sign <b>in</b></button></form>
<form action="/q"><input type="submit" value="Deny access"></form>`))
	if len(forms) != 2 {
		t.Fatalf("found %d forms, want 2", len(forms))
	}
	login := forms[0]
	if login.method != http.MethodPost || !login.hasPassword() || len(login.inputs) != 3 || login.buttons[0].text != "Sign in" {
		t.Errorf("login form parsed as %+v", login)
	}
	if forms[1].method != http.MethodGet || forms[1].button(denyButton) == nil || forms[1].button(allowButton) != nil {
		t.Errorf("deny form parsed as %+v", forms[1])
	}
}
