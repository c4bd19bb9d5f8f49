package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// M4 in a real browser: a stranger's failures block the account for
// clients without a device cookie, but the owner's browser, which signed in
// before and holds the HttpOnly device cookie Chromium keeps and sends to
// the sign-in only, signs in; a fresh browser is told to wait, accessibly.
func TestDeviceCookieKeepsTheOwnerIn(t *testing.T) {
	requireSetup(t)
	base := startServer(t)
	browser := newBrowser(t)
	const email, password = "dana@e2e.test", "Lilac-ferry-compass-2719"
	owner := newUser(t, browser, base, "owner")
	owner.signUp("Dana Device", email, password)
	owner.click(".user-menu button")
	owner.do("signed out", chromedp.WaitVisible(chromedp.CSS("input[name=email]")))

	// The attacker, from the owner's own address (this machine), fails until
	// that address is blocked for the account; the right password is then
	// refused too, to any client without the device cookie.
	attacker := &apiClient{t: t, base: base, hc: &http.Client{Timeout: 10 * time.Second}}
	blocked := false
	for range 12 {
		if code := attacker.call("POST", "/api/auth/login", map[string]string{"email": email, "password": "a-guess-of-theirs"}, nil); code == 429 {
			blocked = true
			break
		}
	}
	if !blocked {
		t.Fatal("the attacker's failures never reached 429")
	}
	if code := attacker.call("POST", "/api/auth/login", map[string]string{"email": email, "password": password}, nil); code != 429 {
		t.Fatalf("a client without the device cookie got %d with the right password, want 429", code)
	}

	owner.signIn(email, password)
	owner.do("the owner is signed in", chromedp.WaitVisible(chromedp.CSS(".module-card")))

	stranger := newUser(t, browser, base, "new browser")
	stranger.signIn(email, password)
	stranger.waitFor("the wait message", `document.querySelector("form [role=alert]") && document.querySelector("form [role=alert]").textContent.includes("Too many failed sign-ins")`)
	if msg := stranger.text("form [role=alert]"); !strings.Contains(msg, "Wait") {
		t.Errorf("the blocked sign-in says %q", msg)
	}
	stranger.axe("sign-in refused by the limits")
}
