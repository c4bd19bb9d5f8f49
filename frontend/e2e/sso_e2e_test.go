package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/baton-course/baton/server/idptest"
)

// TestCompanySignInJourney is a new person's first day at a company that
// runs Baton with single sign-on and SCIM: the company's identity provider
// has provisioned them under their manager, they press "Sign in with Acme
// SSO" on a fresh Baton, sign in at the provider (npm's oidc-provider,
// started here), and land on their course with their team already there.
// Their manager, signing in the same way, finds them on the team page.
func TestCompanySignInJourney(t *testing.T) {
	addr := freeAddr(t)
	base := "http://" + addr
	const secret = "journey-client-secret-0123456789"
	scimToken := strings.Repeat("k", 40)
	sam := idptest.User{Subject: "okta-sam", Email: "sam.lee@acme.example", Name: "Sam Lee", Password: "provider-pass-sam", EmailVerified: true}
	dana := idptest.User{Subject: "okta-dana", Email: "dana.reyes@acme.example", Name: "Dana Reyes", Password: "provider-pass-dana", EmailVerified: true}
	idp := idptest.StartNode(t, []idptest.Client{{ID: "baton", Secret: secret, RedirectURIs: []string{base + "/api/auth/oidc/callback"}}},
		[]idptest.User{sam, dana})
	startServerAt(t, addr, "BATON_PUBLIC_URL="+base, "BATON_OIDC_ISSUER="+idp.Issuer(), "BATON_OIDC_CLIENT_ID=baton",
		"BATON_OIDC_CLIENT_SECRET="+secret, "BATON_OIDC_NAME=Acme SSO", "BATON_SCIM_TOKEN="+scimToken)

	// The identity provider provisions the manager, then the new report.
	danaID := scimCreate(t, base, scimToken, dana, "")
	scimCreate(t, base, scimToken, sam, danaID)

	browser := newBrowser(t)
	u := newUser(t, browser, base, "sam")
	u.open("/login", "button.sso-button")
	if got := u.text("button.sso-button"); got != "Sign in with Acme SSO" {
		t.Fatalf("the sign-in button says %q", got)
	}
	u.axe("sign-in page with single sign-on")
	u.providerSignIn(sam)

	// Home: the course, and the team the company put them in.
	u.do("course map after single sign-on", chromedp.WaitVisible(chromedp.CSS(".module-card")))
	u.waitFor("the provisioned team on home", `document.body.innerText.includes("Dana Reyes's team") && document.body.innerText.includes("managed by Dana Reyes") && document.body.innerText.includes("added by your company")`)
	u.axe("home after single sign-on")
	if path := u.eval("path", "location.pathname"); path != "/" {
		t.Fatalf("landed on %s, want home", path)
	}
	// No password to change: the account page says how they sign in.
	u.open("/account", "main h1")
	u.waitFor("account page names the provider", `document.body.innerText.includes("Acme SSO") && !document.querySelector("input[name=current_password]")`)

	// Dana signs in the same way (SCIM made her a manager) and finds Sam.
	d := newUser(t, browser, base, "dana")
	d.open("/login", "button.sso-button")
	d.providerSignIn(dana)
	d.do("dana's home after single sign-on", chromedp.WaitVisible(chromedp.CSS(".module-card")))
	d.open("/teams", "main h1")
	d.waitFor("the provisioned team is listed", `document.body.innerText.includes("Dana Reyes's team")`)
	d.click("main a[href^='/teams/']")
	d.waitFor("Sam is on the team page", `document.body.innerText.includes("Sam Lee")`)
	d.axe("manager's provisioned team")
}

// providerSignIn presses the company sign-in button and goes through the
// provider's own pages: its login form, then its consent page.
func (u *user) providerSignIn(p idptest.User) {
	u.t.Helper()
	u.click("button.sso-button")
	u.do("the provider's login page", chromedp.WaitVisible(chromedp.CSS("#email")))
	u.typeInto("#email", p.Email)
	u.typeInto("#password", p.Password)
	u.click("form button[type=submit]")
	u.do("the provider's consent page", chromedp.WaitVisible(chromedp.CSS("form[action$='/confirm'] button")))
	u.click("form[action$='/confirm'] button")
}

// scimCreate provisions p as a company's identity provider would, under
// the manager with SCIM id managerID (none: ""), and returns p's SCIM id.
func scimCreate(t *testing.T, base, token string, p idptest.User, managerID string) string {
	t.Helper()
	given, family, _ := strings.Cut(p.Name, " ")
	body := map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"},
		"userName":   p.Email,
		"externalId": p.Subject,
		"name":       map[string]any{"givenName": given, "familyName": family},
		"emails":     []any{map[string]any{"value": p.Email, "type": "work", "primary": true}},
		"active":     true,
	}
	if managerID != "" {
		body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] = map[string]any{"manager": map[string]any{"value": managerID}}
	}
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", base+"/scim/v2/Users", bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 201 || out.ID == "" {
		t.Fatalf("SCIM create %s: %d %v", p.Email, resp.StatusCode, err)
	}
	return out.ID
}
