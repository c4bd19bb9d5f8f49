package ltitest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/baton-course/baton/server/idptest"
)

var (
	ada   = Person{Sub: "u-ada", Name: "Ada Lovelace", Email: "ada@example.com", Roles: []string{RoleLearner}}
	grace = Person{Sub: "u-grace", Name: "Grace Hopper", Email: "grace@example.com", Roles: []string{RoleInstructor}}
)

func course() Course {
	return Course{ID: "c-" + randomID(3), Title: "Difficult conversations", Members: []Person{ada, grace}}
}

// newBrowser is a browser that keeps cookies as Chromium does.
func newBrowser(t *testing.T) *idptest.Browser {
	b := idptest.NewBrowser()
	b.Logf = t.Logf
	b.RequireSecureNone = true
	return b
}

// launchJSON opens a launch URL in browser b and decodes the JSON ltijs'
// onConnect (or its invalid-token handler) answered with.
func launchJSON(t *testing.T, b *idptest.Browser, launchURL string) (int, map[string]any) {
	t.Helper()
	resp, err := b.Navigate(launchURL)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	var seen map[string]any
	if err := json.Unmarshal(raw, &seen); err != nil {
		t.Fatalf("the launch ended on %s with %d: %.500s", resp.Request.URL, resp.StatusCode, raw)
	}
	return resp.StatusCode, seen
}

// refusal is the reason ltijs gave for a 401.
func refusal(seen map[string]any) string {
	details, _ := seen["details"].(map[string]any)
	msg, _ := details["message"].(string)
	return msg
}

func TestLTIJSAcceptsResourceLinkLaunch(t *testing.T) {
	tool := startLTIJS(t)
	p := Start(t)
	p.Logf = t.Logf
	clientID, deploymentID := tool.registerAt(t, p)
	c := course()
	p.AddCourse(c)
	link := Link{ResourceLinkID: "rl-1", Title: "Feedback talk", TargetLinkURI: tool.url + "/", Custom: map[string]string{"scenario": "feedback-talk"}, LineItem: true}

	b := newBrowser(t)
	status, seen := launchJSON(t, b, p.LaunchURL(c, ada, link))
	if status != http.StatusOK {
		t.Fatalf("ltijs refused the launch: %d %v", status, seen)
	}
	want := map[string]any{"iss": p.Issuer(), "clientId": clientID, "deploymentId": deploymentID, "user": ada.Sub, "messageType": MessageResourceLink, "version": "1.3.0", "targetLinkUri": tool.url + "/"}
	for k, v := range want {
		if seen[k] != v {
			t.Errorf("ltijs saw %s = %v, want %v", k, seen[k], v)
		}
	}
	info := seen["userInfo"].(map[string]any)
	if info["email"] != ada.Email || info["name"] != ada.Name || info["given_name"] != "Ada" || info["family_name"] != "Lovelace" {
		t.Errorf("userInfo = %v", info)
	}
	ctx := seen["context"].(map[string]any)
	if ctx["id"] != c.ID || ctx["title"] != c.Title {
		t.Errorf("context = %v", ctx)
	}
	if res := seen["resource"].(map[string]any); res["id"] != "rl-1" || res["title"] != "Feedback talk" {
		t.Errorf("resource = %v", res)
	}
	if custom := seen["custom"].(map[string]any); custom["scenario"] != "feedback-talk" {
		t.Errorf("custom = %v", custom)
	}
	if roles := seen["roles"].([]any); len(roles) != 1 || roles[0] != RoleLearner {
		t.Errorf("roles = %v", roles)
	}
	items := p.LineItems(c.ID)
	endpoint := seen["endpoint"].(map[string]any)
	if len(items) != 1 || endpoint["lineitem"] != items[0].ID || endpoint["lineitems"] != p.lineItemsURL(c.ID) {
		t.Errorf("endpoint = %v, line items %v", endpoint, items)
	}
	if nrps := seen["namesRoles"].(map[string]any); nrps["context_memberships_url"] != p.membershipsURL(c.ID) {
		t.Errorf("namesRoles = %v", nrps)
	}

	// AGS: ltijs gets a token with its private_key_jwt assertion, posts the
	// score and reads the result back.
	ltik := seen["ltik"].(string)
	status, graded := tool.call(t, b, http.MethodPost, "/grade", ltik, "scoreGiven=87")
	if status != http.StatusOK {
		t.Fatalf("ltijs grade: %d %v", status, graded)
	}
	scores := p.Scores(items[0].ID)
	if len(scores) != 1 || scores[0].UserID != ada.Sub || *scores[0].ScoreGiven != 87 || *scores[0].ScoreMaximum != 100 ||
		scores[0].ActivityProgress != "Completed" || scores[0].GradingProgress != "FullyGraded" || scores[0].ClientID != clientID {
		t.Fatalf("scores = %+v", scores)
	}
	if _, err := time.Parse(time.RFC3339, scores[0].Timestamp); err != nil {
		t.Errorf("timestamp %q: %v", scores[0].Timestamp, err)
	}
	if results, _ := graded["results"].(map[string]any)["scores"].([]any); len(results) != 1 || results[0].(map[string]any)["resultScore"] != 87.0 {
		t.Errorf("ltijs read back results %v", graded["results"])
	}

	// NRPS: ltijs reads the roster.
	status, roster := tool.call(t, b, http.MethodGet, "/members", ltik, "")
	if status != http.StatusOK {
		t.Fatalf("ltijs members: %d %v", status, roster)
	}
	members, _ := roster["members"].([]any)
	if len(members) != 2 {
		t.Fatalf("members = %v", roster)
	}
	first := members[0].(map[string]any)
	if first["user_id"] != ada.Sub || first["email"] != ada.Email || first["status"] != "Active" {
		t.Errorf("first member = %v", first)
	}
	if roster["context"].(map[string]any)["id"] != c.ID {
		t.Errorf("roster context = %v", roster["context"])
	}
}

func TestLTIJSDeepLinkingResponseVerified(t *testing.T) {
	tool := startLTIJS(t)
	p := Start(t)
	p.Logf = t.Logf
	tool.registerAt(t, p)
	c := course()
	p.AddCourse(c)

	resp, err := newBrowser(t).Navigate(p.DeepLinkLaunchURL(c, grace))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "1 item(s) added") {
		t.Fatalf("deep linking ended on %s with %d: %.500s (refusals %v)", resp.Request.URL, resp.StatusCode, body, p.DeepLinkFailures())
	}
	links := p.DeepLinks()
	if len(links) != 1 || len(links[0]) != 1 {
		t.Fatalf("deep links = %v", links)
	}
	item := links[0][0]
	if item["type"] != "ltiResourceLink" || item["title"] != "Picked by ltijs" || item["url"] != tool.url+"/picked" {
		t.Errorf("content item = %v", item)
	}
}

// Dynamic registration, then a launch whose login initiation is a GET
// redirect (as Canvas starts it) from a platform on the tool's own site.
func TestLTIJSDynamicRegistration(t *testing.T) {
	tool := startLTIJS(t)
	p := Start(t, OnHost("127.0.0.1"))
	p.Logf = t.Logf
	p.LoginByGET = true
	clientID, deploymentID, err := p.StartRegistration(tool.url + "/register")
	if err != nil {
		t.Fatal(err)
	}
	sent := p.RegistrationRequest(clientID)
	config, _ := sent[toolConfigKey].(map[string]any)
	if sent["initiate_login_uri"] != tool.url+"/login" || sent["jwks_uri"] != tool.url+"/keys" || config["target_link_uri"] != tool.url {
		t.Errorf("ltijs registered %v", sent)
	}
	c := course()
	p.AddCourse(c)
	status, seen := launchJSON(t, newBrowser(t), p.LaunchURL(c, grace, Link{ResourceLinkID: "rl-dyn", Title: "Dyn", ClientID: clientID}))
	if status != http.StatusOK || seen["clientId"] != clientID || seen["deploymentId"] != deploymentID {
		t.Fatalf("launch after dynamic registration: %d %v", status, seen)
	}
}

// The forgeries are real: an independent tool refuses each of them.
func TestLTIJSRefusesForgedLaunches(t *testing.T) {
	tool := startLTIJS(t)
	p := Start(t)
	p.Logf = t.Logf
	tool.registerAt(t, p)
	c := course()
	p.AddCourse(c)
	link := Link{ResourceLinkID: "rl-f", Title: "Forged", TargetLinkURI: tool.url + "/"}
	for name, tc := range map[string]struct {
		f      Forgery
		reason string
	}{
		"another key":      {Forgery{OtherKey: true}, "invalid signature"},
		"another audience": {Forgery{Audience: "someone-else"}, "UNREGISTERED_PLATFORM"},
		"expired":          {Forgery{ExpiredBy: 2 * time.Minute}, "jwt expired"},
		"another issuer":   {Forgery{Issuer: "http://evil.example"}, "ISS_CLAIM_DOES_NOT_MATCH"},
	} {
		t.Run(name, func(t *testing.T) {
			status, seen := launchJSON(t, newBrowser(t), p.LaunchURL(c, ada, link, Forged(tc.f)))
			if status != http.StatusUnauthorized || !strings.Contains(refusal(seen), tc.reason) {
				t.Fatalf("ltijs answered %d %v, want 401 for %s", status, seen, tc.reason)
			}
		})
	}
	// A replay in the same browser: ltijs spent the launch's state cookie.
	t.Run("replayed", func(t *testing.T) {
		b := newBrowser(t)
		if status, seen := launchJSON(t, b, p.LaunchURL(c, ada, link)); status != http.StatusOK {
			t.Fatalf("the first launch: %d %v", status, seen)
		}
		idToken, state := p.LastIDToken()
		resp, err := b.PostForm(tool.url+"/", map[string][]string{"id_token": {idToken}, "state": {state}})
		if err != nil {
			t.Fatal(err)
		}
		var seen map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&seen)
		if resp.StatusCode != http.StatusUnauthorized || refusal(seen) != "MISSING_VALIDATION_COOKIE" {
			t.Fatalf("the replay: %d %v", resp.StatusCode, seen)
		}

		// The old id_token slipped into a fresh login's form post (whose
		// state cookie is there): ltijs knows its nonce.
		fresh, err := b.NavigateUntil(p.LaunchURL(c, ada, link), func(u *url.URL) bool { return u.String() == tool.url+"/" })
		if err != nil {
			t.Fatal(err)
		}
		_ = fresh.ParseForm()
		swapped, _ := http.NewRequest(http.MethodPost, fresh.URL.String(),
			strings.NewReader(url.Values{"id_token": {idToken}, "state": {fresh.PostForm.Get("state")}}.Encode()))
		swapped.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err = b.Submit(swapped)
		if err != nil {
			t.Fatal(err)
		}
		seen = nil
		_ = json.NewDecoder(resp.Body).Decode(&seen)
		if resp.StatusCode != http.StatusUnauthorized || refusal(seen) != "NONCE_ALREADY_RECEIVED" {
			t.Fatalf("the replay with a fresh state: %d %v", resp.StatusCode, seen)
		}
	})
}
