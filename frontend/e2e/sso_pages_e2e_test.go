package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The sign-in page's company sign-in states, as the server's redirects open
// them, on a 360 px phone: a failed sign-in reads as words with the focus on
// them and leaves the address bar; connecting an existing account shows the
// address it is about, read-only. Each is axe-clean. (The whole redirect
// flow through a real provider is the SSO journey's.)
func TestCompanySignInPages(t *testing.T) {
	requireSetup(t)
	base := startServer(t)
	u := newUser(t, newBrowser(t), base, "visitor")
	u.do("phone viewport", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile))

	u.open("/login?sso_error=state", ".sso-error [role=alert]")
	if got := u.text(".sso-error [role=alert]"); !strings.Contains(got, "started in another browser or tab") || strings.Contains(got, "sso_error") {
		t.Errorf("the sso_error alert says %q", got)
	}
	u.waitFor("focus on the alert", `document.activeElement && document.activeElement.getAttribute("role") === "alert"`)
	if q := u.eval("address", `location.search`); q != "" {
		t.Errorf("the error code stays in the address bar: %q", q)
	}
	u.axe("/login after a failed company sign-in at 360 px")

	u.open("/login?sso_link=not-a-token&email=dana%40e2e.test", ".link-form")
	if v := u.eval("email", `(() => { const e = document.querySelector(".link-form input[name=email]"); return e.value + (e.readOnly ? " (read-only)" : ""); })()`); v != "dana@e2e.test (read-only)" {
		t.Errorf("the address to connect shows as %q", v)
	}
	if q := u.eval("address", `location.search`); q != "" {
		t.Errorf("the link token stays in the address bar: %q", q)
	}
	if got := u.text(".link-email-note"); !strings.Contains(got, "dana@e2e.test") {
		t.Errorf("the emailed-link note says %q", got)
	}
	u.axe("/login connecting an account at 360 px")
}
