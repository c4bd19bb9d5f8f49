package e2e

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/baton-course/baton/server/mailtest"
)

var mailedLink = regexp.MustCompile(`https?://\S+/(verify-email|reset-password)\?token=[A-Za-z0-9_-]+`)

// linkFrom is the path (with its token) of the link in the newest mail to
// email whose subject contains subject, waiting up to 15 s for it (n is
// kept for callers that know how many mails came before; 0: any).
func linkFrom(t *testing.T, mp *mailtest.Server, n int, email, subject, base string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		msgs := mp.Messages(t)
		for i := len(msgs) - 1; len(msgs) >= n && i >= 0; i-- {
			m := msgs[i]
			if len(m.To) == 1 && m.To[0].Address == email && strings.Contains(m.Subject, subject) {
				link := mailedLink.FindString(m.Text)
				if !strings.HasPrefix(link, base+"/") {
					t.Fatalf("mail %q has no link to %s: %q", m.Subject, base, m.Text)
				}
				return strings.TrimPrefix(link, base)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no mail %q to %s among %d", subject, email, len(msgs))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// verifyByMail follows the verification link mailed to email, through the
// API, as the owner of the mailbox would (for set-up steps).
func verifyByMail(t *testing.T, mp *mailtest.Server, n int, email, base string) {
	t.Helper()
	path := linkFrom(t, mp, n, email, "Confirm your email", base)
	token := strings.TrimPrefix(path, "/verify-email?token=")
	c := &apiClient{t: t, base: base, hc: &http.Client{Timeout: 10 * time.Second}}
	if code := c.call("POST", "/api/auth/verify-email", map[string]string{"token": token}, nil); code != 204 {
		t.Fatalf("verify %s: %d", email, code)
	}
}

// The account lifecycle in the browser: verify the address from the mail,
// forget the password and reset it through the mailed link, change it,
// sign another device out, download one's data, delete the account. Mail
// goes through a real SMTP server (Mailpit) started by the test.
func TestAccountJourney(t *testing.T) {
	requireSetup(t)
	mp := mailtest.Start(t)
	base := startServer(t, "BATON_SMTP_ADDR="+mp.SMTPAddr, "BATON_SMTP_FROM=Baton <baton@e2e.test>")
	browser := newBrowser(t)
	const email = "rita@e2e.test"
	pw1, pw2, pw3 := "Lantern-orchard-quiet-4410", "Harbor-violet-engine-7731", "Meadow-copper-signal-2208"

	u := newUser(t, browser, base, "rita")
	u.signUp("Rita Reyes", email, pw1)
	u.do("verification banner", chromedp.WaitVisible(chromedp.CSS(".verify-banner")))
	u.axe("course with verification banner")

	// The emailed link verifies the address; the banner goes.
	u.open(linkFrom(t, mp, 1, email, "Confirm your email", base), ".account-link-page .alert-success")
	if loc := u.eval("address bar", `location.search`); loc != "" {
		t.Errorf("the token stays in the address bar: %q", loc)
	}
	u.axe("email verified")
	u.click(`.account-link-page a[href="/"]`)
	u.do("course map", chromedp.WaitVisible(chromedp.CSS(".module-card")))
	u.waitFor("banner gone", `!document.querySelector(".verify-banner")`)

	// Forgot password: sign out, ask for a link from the sign-in page.
	u.click(".user-menu button")
	u.do("sign-in page", chromedp.WaitVisible(chromedp.CSS(`a[href="/forgot-password"]`)))
	u.click(`a[href="/forgot-password"]`)
	u.do("forgot password page", chromedp.WaitVisible(chromedp.CSS("input[name=email]")))
	u.axe("forgot password")
	u.typeInto("input[name=email]", email)
	u.click("form button[type=submit]")
	u.do("link sent", chromedp.WaitVisible(chromedp.CSS(".account-link-page .alert-success")))

	u.open(linkFrom(t, mp, 2, email, "Reset your Baton password", base), "input[name=password]")
	u.axe("reset password")
	u.typeInto("input[name=password]", pw2)
	u.click("form button[type=submit]")
	u.do("sign-in after reset", chromedp.WaitVisible(chromedp.CSS(".auth .alert-success")))
	u.typeInto("input[name=email]", email)
	u.typeInto("input[name=password]", pw2)
	u.click("form button[type=submit]")
	u.do("signed in with the new password", chromedp.WaitVisible(chromedp.CSS(".module-card")))

	// Account settings, from the header.
	u.click(`.main-nav a[href="/account"]`)
	u.do("account page", chromedp.WaitVisible(chromedp.CSS(".session-item")))
	u.axe("account settings")
	u.mobileShot("account-settings")

	// Change the password.
	u.typeInto("input[name=current_password]", pw2)
	u.typeInto("input[name=new_password]", pw3)
	u.click(".password-form button[type=submit]")
	u.do("password changed", chromedp.WaitVisible(chromedp.CSS(".password-form .alert-success")))

	// Another device signs in; the list shows it, and signing it out ends it.
	phone := signIn(t, base, email, pw3)
	var mine []struct {
		ID      string `json:"id"`
		Current bool   `json:"current"`
	}
	phone.call("GET", "/api/me/sessions", nil, &mine)
	var phoneSession string
	for _, s := range mine {
		if s.Current {
			phoneSession = s.ID
		}
	}
	u.do("reload account page", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`li[data-session="`+phoneSession+`"]`)))
	if n := u.eval("sessions listed", `String(document.querySelectorAll(".session-item").length)`); n != "2" {
		t.Fatalf("%s sessions listed, want 2", n)
	}
	u.click(`li[data-session="` + phoneSession + `"] button`)
	u.waitFor("phone signed out", `document.querySelectorAll(".session-item").length === 1`)
	if code := phone.call("POST", "/api/auth/refresh", nil, nil); code != 401 {
		t.Fatalf("the signed-out device refreshed: %d", code)
	}

	// Download my data: the file is the caller's export.
	u.eval("catch the download", `(() => { window.__exported = null; const orig = URL.createObjectURL;
		URL.createObjectURL = (b) => { b.text().then(t => { window.__exported = t; }); return orig.call(URL, b); }; return "ok"; })()`)
	u.click(".export-data")
	u.waitFor("export downloaded", `window.__exported !== null`)
	var export struct {
		Profile struct {
			Email         string `json:"email"`
			EmailVerified bool   `json:"email_verified"`
		} `json:"profile"`
		Sessions []any `json:"sessions"`
	}
	if err := json.Unmarshal([]byte(u.eval("read export", `window.__exported`)), &export); err != nil || export.Profile.Email != email || !export.Profile.EmailVerified || len(export.Sessions) == 0 {
		t.Fatalf("export: %v %+v", err, export)
	}

	// Delete the account: a wrong password is refused, the right one deletes.
	u.typeInto("input[name=delete_password]", "not-my-password-at-all")
	u.click(".delete-form button[type=submit]")
	u.do("wrong password refused", chromedp.WaitVisible(chromedp.CSS(".delete-form .alert-error")))
	u.do("clear password", chromedp.Clear(chromedp.CSS("input[name=delete_password]")))
	u.setInput("input[name=delete_password]", pw3)
	u.click(".delete-form button[type=submit]")
	u.do("deleted, at sign-in", chromedp.WaitVisible(chromedp.CSS(".auth .alert-success")))
	u.axe("sign-in after deletion")
	if code := phone.call("POST", "/api/auth/login", map[string]string{"email": email, "password": pw3}, nil); code != 401 {
		t.Fatalf("the deleted account signed in: %d", code)
	}
}

// startServerWithMail starts Baton sending its mail to a Mailpit the test
// starts, and returns both.
func startServerWithMail(t *testing.T, env ...string) (string, *mailtest.Server) {
	t.Helper()
	mp := mailtest.Start(t)
	env = append(env, "BATON_SMTP_ADDR="+mp.SMTPAddr, "BATON_SMTP_FROM=baton@e2e.test")
	return startServer(t, env...), mp
}

// verifiedAdmin registers email (listed in BATON_ADMIN_EMAILS), follows the
// verification link mailed to it, which makes it admin, and returns a client
// signed in as that admin.
func verifiedAdmin(t *testing.T, base string, mp *mailtest.Server, email, password string) *apiClient {
	t.Helper()
	admin := newAPIClient(t, base)
	admin.register("Ada Admin", email, password)
	verifyByMail(t, mp, 0, email, base)
	if role := admin.login(email, password).Role; role != "admin" {
		t.Fatalf("admin sign-in after verification: role %q", role)
	}
	return admin
}

// signInAgain signs u in through the sign-in page it was sent to (after a
// role change ended its session) and waits for ready.
func (u *user) signInAgain(email, password, ready string) {
	u.t.Helper()
	u.do("sign-in page", chromedp.WaitVisible(chromedp.CSS("form input[name=password]")))
	u.typeInto("input[name=email]", email)
	u.typeInto("input[name=password]", password)
	u.click("form button[type=submit]")
	u.do("signed in again", chromedp.WaitVisible(chromedp.CSS(ready)))
}
