package ltitest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/baton-course/baton/server/idptest"
)

// goTool is a minimal tool written here: a key set, and the JWTs a tool
// signs (client assertions, deep-linking responses). It lets the tests
// reach each of the platform's refusals precisely.
type goTool struct {
	key  *rsa.PrivateKey
	kid  string
	jwks *httptest.Server
	Tool
}

func newGoTool(t *testing.T) *goTool {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	g := &goTool{key: key, kid: "tool-1"}
	g.jwks = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, "application/json", jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: g.kid, Algorithm: "RS256", Use: "sig"}}})
	}))
	t.Cleanup(g.jwks.Close)
	g.Tool = Tool{LoginURL: "http://127.0.0.1:1/login", RedirectURL: "http://127.0.0.1:1/launch", JWKSURL: g.jwks.URL, DeepLinkURL: "http://127.0.0.1:1/dl"}
	return g
}

func (g *goTool) sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	token, err := sign(g.key, g.kid, claims)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func (g *goTool) assertion(t *testing.T, p *Platform, clientID string) string {
	return g.sign(t, map[string]any{"iss": clientID, "sub": clientID, "aud": p.TokenURL(), "iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix(), "jti": randomID(8)})
}

func postForm(t *testing.T, target string, values url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := http.PostForm(target, values)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (g *goTool) serviceToken(t *testing.T, p *Platform, clientID string, scopes ...string) string {
	t.Helper()
	resp, body := postForm(t, p.TokenURL(), url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {assertionType},
		"client_assertion": {g.assertion(t, p, clientID)}, "scope": {strings.Join(scopes, " ")}})
	var answer struct {
		AccessToken string `json:"access_token"`
		Scope       string `json:"scope"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &answer) != nil {
		t.Fatalf("token: %d %s", resp.StatusCode, body)
	}
	return answer.AccessToken
}

// authorize plays the tool's half of login: the authorization request for a
// launch, returning the platform's answer page.
func authorize(t *testing.T, p *Platform, launchURL string, change func(url.Values)) (int, string) {
	t.Helper()
	b := idptest.NewBrowser()
	start, err := b.NavigateUntil(launchURL, func(u *url.URL) bool { return u.Path == "/login" })
	if err != nil {
		t.Fatal(err)
	}
	_ = start.ParseForm()
	login := start.PostForm
	q := url.Values{"response_type": {"id_token"}, "response_mode": {"form_post"}, "scope": {"openid"}, "prompt": {"none"},
		"client_id": {login.Get("client_id")}, "redirect_uri": {"http://127.0.0.1:1/launch"}, "login_hint": {login.Get("login_hint")},
		"lti_message_hint": {login.Get("lti_message_hint")}, "nonce": {"n-" + randomID(4)}, "state": {"s-1"}}
	if change != nil {
		change(q)
	}
	resp, err := http.Get(p.AuthURL() + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// idTokenClaims verifies the platform's last id_token with its own key set.
func idTokenClaims(t *testing.T, p *Platform) (map[string]any, error) {
	t.Helper()
	token, _ := p.LastIDToken()
	resp, err := http.Get(p.JWKSURL())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	keys := set.Key(parsed.Headers[0].KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q not in the platform's set", parsed.Headers[0].KeyID)
	}
	var claims map[string]any
	err = parsed.Claims(keys[0].Key, &claims)
	return claims, err
}

func TestAuthorizationEndpointChecksTheRequest(t *testing.T) {
	p := Start(t)
	g := newGoTool(t)
	p.Register(g.Tool)
	c := course()
	link := Link{ResourceLinkID: "rl", Title: "T", TargetLinkURI: "http://127.0.0.1:1/launch"}
	for name, change := range map[string]func(url.Values){
		"another redirect_uri": func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:1/elsewhere") },
		"another client_id":    func(q url.Values) { q.Set("client_id", "nobody") },
		"no nonce":             func(q url.Values) { q.Del("nonce") },
		"another login_hint":   func(q url.Values) { q.Set("login_hint", "u-grace") },
		"code flow":            func(q url.Values) { q.Set("response_type", "code") },
		"query response mode":  func(q url.Values) { q.Set("response_mode", "query") },
		"no openid scope":      func(q url.Values) { q.Set("scope", "profile") },
		"interactive prompt":   func(q url.Values) { q.Set("prompt", "login") },
		"unknown message hint": func(q url.Values) { q.Set("lti_message_hint", "nope") },
	} {
		t.Run(name, func(t *testing.T) {
			if status, body := authorize(t, p, p.LaunchURL(c, ada, link), change); status != http.StatusBadRequest {
				t.Fatalf("answered %d: %.200s", status, body)
			}
		})
	}
	t.Run("a message hint serves one launch", func(t *testing.T) {
		var first url.Values
		if status, body := authorize(t, p, p.LaunchURL(c, ada, link), func(q url.Values) { first = q }); status != http.StatusOK {
			t.Fatalf("first: %d %s", status, body)
		}
		resp, err := http.Get(p.AuthURL() + "?" + first.Encode())
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("the second use answered %d", resp.StatusCode)
		}
	})
}

func TestLaunchTokenClaimsAndForgeries(t *testing.T) {
	p := Start(t)
	g := newGoTool(t)
	clientID, deploymentID := p.Register(g.Tool)
	c := course()
	link := Link{ResourceLinkID: "rl", Title: "T", TargetLinkURI: "http://127.0.0.1:1/launch", Custom: map[string]string{"a": "b"}, LineItem: true}

	status, page := authorize(t, p, p.LaunchURL(c, ada, link), func(q url.Values) { q.Set("nonce", "n-fixed"); q.Set("state", "s-fixed") })
	if status != http.StatusOK || !strings.Contains(page, `action="http://127.0.0.1:1/launch"`) || !strings.Contains(page, `name="state" value="s-fixed"`) {
		t.Fatalf("the form_post page: %d %s", status, page)
	}
	claims, err := idTokenClaims(t, p)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"iss": p.Issuer(), "aud": clientID, "azp": clientID, "sub": ada.Sub, "nonce": "n-fixed",
		ClaimMessageType: MessageResourceLink, ClaimVersion: "1.3.0", ClaimDeploymentID: deploymentID, ClaimTargetLinkURI: link.TargetLinkURI} {
		if claims[k] != want {
			t.Errorf("%s = %v, want %v", k, claims[k], want)
		}
	}
	for _, k := range []string{ClaimResourceLink, ClaimRoles, ClaimContext, ClaimCustom, ClaimAGSEndpoint, ClaimNRPS, "exp", "iat", "email", "name"} {
		if claims[k] == nil {
			t.Errorf("no %s claim", k)
		}
	}

	forged := map[string]struct {
		f     Forgery
		check func(map[string]any, error) bool
	}{
		"another key":        {Forgery{OtherKey: true}, func(_ map[string]any, err error) bool { return err != nil }},
		"another audience":   {Forgery{Audience: "x"}, func(c map[string]any, _ error) bool { return c["aud"] == "x" && c["azp"] == "x" }},
		"expired":            {Forgery{ExpiredBy: time.Hour}, func(c map[string]any, _ error) bool { return c["exp"].(float64) < float64(time.Now().Unix()) }},
		"another deployment": {Forgery{DeploymentID: "d-x"}, func(c map[string]any, _ error) bool { return c[ClaimDeploymentID] == "d-x" }},
		"another message":    {Forgery{MessageType: "LtiSubmissionReviewRequest"}, func(c map[string]any, _ error) bool { return c[ClaimMessageType] == "LtiSubmissionReviewRequest" }},
	}
	for name, tc := range forged {
		t.Run(name, func(t *testing.T) {
			if status, body := authorize(t, p, p.LaunchURL(c, ada, link, Forged(tc.f)), nil); status != http.StatusOK {
				t.Fatalf("%d %s", status, body)
			}
			if claims, err := idTokenClaims(t, p); !tc.check(claims, err) {
				t.Fatalf("the forgery did not take: %v %v", claims, err)
			}
		})
	}

	// Deep linking: its own claims, no resource link.
	if status, body := authorize(t, p, p.DeepLinkLaunchURL(c, grace), nil); status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	claims, _ = idTokenClaims(t, p)
	settings, _ := claims[ClaimDeepLinking].(map[string]any)
	if claims[ClaimMessageType] != MessageDeepLinking || claims[ClaimResourceLink] != nil || settings["data"] == "" ||
		!strings.HasPrefix(settings["deep_link_return_url"].(string), p.Issuer()+"/deeplink/") {
		t.Fatalf("deep-linking claims %v", claims)
	}
}

func TestTokenEndpointChecksTheAssertion(t *testing.T) {
	p := Start(t)
	g := newGoTool(t)
	clientID, _ := p.Register(g.Tool)
	stranger := newGoTool(t)
	now := time.Now()
	token := func(assertion, scope string) (*http.Response, string) {
		return postForm(t, p.TokenURL(), url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {assertionType}, "client_assertion": {assertion}, "scope": {scope}})
	}
	once := g.assertion(t, p, clientID)
	resp, body := token(once, ScopeScore+" "+ScopeMemberships+" https://example.com/unknown")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"scope":"`+ScopeScore+" "+ScopeMemberships+`"`) {
		t.Fatalf("granted %d %s", resp.StatusCode, body)
	}
	if resp, body := token(once, ScopeScore); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a reused jti: %d %s", resp.StatusCode, body)
	}
	for name, tc := range map[string]struct {
		assertion string
		scope     string
		status    int
	}{
		"another key":          {stranger.assertion(t, p, clientID), ScopeScore, http.StatusUnauthorized},
		"unknown client":       {g.assertion(t, p, "nobody"), ScopeScore, http.StatusUnauthorized},
		"another audience":     {g.sign(t, map[string]any{"iss": clientID, "sub": clientID, "aud": "http://x", "exp": now.Add(time.Minute).Unix(), "jti": "j1"}), ScopeScore, http.StatusUnauthorized},
		"expired":              {g.sign(t, map[string]any{"iss": clientID, "sub": clientID, "aud": p.TokenURL(), "exp": now.Add(-time.Hour).Unix(), "jti": "j2"}), ScopeScore, http.StatusUnauthorized},
		"no jti":               {g.sign(t, map[string]any{"iss": clientID, "sub": clientID, "aud": p.TokenURL(), "exp": now.Add(time.Minute).Unix()}), ScopeScore, http.StatusUnauthorized},
		"no scope it can give": {g.assertion(t, p, clientID), "https://example.com/unknown", http.StatusBadRequest},
	} {
		t.Run(name, func(t *testing.T) {
			if resp, body := token(tc.assertion, tc.scope); resp.StatusCode != tc.status {
				t.Fatalf("answered %d %s", resp.StatusCode, body)
			}
		})
	}
}

func TestScoresAreChecked(t *testing.T) {
	p := Start(t)
	g := newGoTool(t)
	clientID, _ := p.Register(g.Tool)
	c := course()
	p.LaunchURL(c, ada, Link{ResourceLinkID: "rl", Title: "Scenario", LineItem: true})
	item := p.LineItems(c.ID)[0]
	scoreToken := g.serviceToken(t, p, clientID, ScopeScore)
	readToken := g.serviceToken(t, p, clientID, ScopeLineItemReadOnly)
	good := `{"userId":"u-ada","scoreGiven":80,"scoreMaximum":100,"activityProgress":"Completed","gradingProgress":"FullyGraded","timestamp":"2026-12-01T10:00:00.123Z"}`
	post := func(token, contentType, body string) int {
		req, _ := http.NewRequest(http.MethodPost, item.ID+"/scores", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", contentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	for name, tc := range map[string]struct {
		token, contentType, body string
		status                   int
	}{
		"no token":            {"nope", typeScore, good, http.StatusUnauthorized},
		"read-only token":     {readToken, typeScore, good, http.StatusForbidden},
		"plain JSON":          {scoreToken, "application/json", good, http.StatusUnsupportedMediaType},
		"not in the course":   {scoreToken, typeScore, strings.Replace(good, "u-ada", "u-nobody", 1), http.StatusBadRequest},
		"above the maximum":   {scoreToken, typeScore, strings.Replace(good, `"scoreGiven":80`, `"scoreGiven":101`, 1), http.StatusBadRequest},
		"no maximum":          {scoreToken, typeScore, strings.Replace(good, `"scoreMaximum":100,`, ``, 1), http.StatusBadRequest},
		"unknown progress":    {scoreToken, typeScore, strings.Replace(good, `"Completed"`, `"Done"`, 1), http.StatusBadRequest},
		"unknown grading":     {scoreToken, typeScore, strings.Replace(good, `"FullyGraded"`, `"Graded"`, 1), http.StatusBadRequest},
		"no timestamp":        {scoreToken, typeScore, strings.Replace(good, `,"timestamp":"2026-12-01T10:00:00.123Z"`, ``, 1), http.StatusBadRequest},
		"timestamp with zone": {scoreToken, typeScore + "; charset=utf-8", strings.Replace(good, "123Z", "123+02:00", 1), http.StatusOK},
	} {
		t.Run(name, func(t *testing.T) {
			if got := post(tc.token, tc.contentType, tc.body); got != tc.status {
				t.Fatalf("answered %d, want %d", got, tc.status)
			}
		})
	}
	if scores := p.Scores(item.ID); len(scores) != 1 || scores[0].Extra["timestamp"] != "2026-12-01T10:00:00.123+02:00" {
		t.Fatalf("stored %+v", scores)
	}
}

func TestLineItemsContainer(t *testing.T) {
	p := Start(t)
	g := newGoTool(t)
	clientID, _ := p.Register(g.Tool)
	c := course()
	p.AddCourse(c)
	token := g.serviceToken(t, p, clientID, ScopeLineItem)
	do := func(method, target, contentType, body string) (int, string) {
		req, _ := http.NewRequest(method, target, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	container := p.lineItemsURL(c.ID)
	status, created := do(http.MethodPost, container, typeLineItem, `{"label":"Feedback talk","scoreMaximum":100,"resourceId":"feedback-talk","tag":"baton"}`)
	if status != http.StatusCreated || !strings.Contains(created, `"id":"`+container+"/") {
		t.Fatalf("create: %d %s", status, created)
	}
	do(http.MethodPost, container, typeLineItem, `{"label":"Other","scoreMaximum":10,"resourceId":"other"}`)
	if status, _ := do(http.MethodPost, container, typeLineItem, `{"label":"","scoreMaximum":10}`); status != http.StatusBadRequest {
		t.Errorf("an unlabelled line item: %d", status)
	}
	status, list := do(http.MethodGet, container+"?resource_id=feedback-talk", "", "")
	var items []LineItem
	if status != http.StatusOK || json.Unmarshal([]byte(list), &items) != nil || len(items) != 1 || items[0].Label != "Feedback talk" {
		t.Fatalf("filtered list: %d %s", status, list)
	}
	if status, one := do(http.MethodGet, items[0].ID, "", ""); status != http.StatusOK || !strings.Contains(one, `"tag":"baton"`) {
		t.Fatalf("one: %d %s", status, one)
	}
	if status, _ := do(http.MethodGet, container+"/999", "", ""); status != http.StatusNotFound {
		t.Fatalf("a missing line item: %d", status)
	}
	if status, _ := do(http.MethodDelete, items[0].ID, "", ""); status != http.StatusNoContent {
		t.Fatalf("delete: %d", status)
	}
	if left := p.LineItems(c.ID); len(left) != 1 || left[0].Label != "Other" {
		t.Fatalf("after the delete: %+v", left)
	}
}

func TestDeepLinkingResponseChecks(t *testing.T) {
	p := Start(t)
	g := newGoTool(t)
	clientID, deploymentID := p.Register(g.Tool)
	c := course()
	stranger := newGoTool(t)
	for name, tc := range map[string]struct {
		signer *goTool
		change func(map[string]any)
		ok     bool
	}{
		"accepted":             {g, nil, true},
		"another key":          {stranger, nil, false},
		"data not echoed":      {g, func(m map[string]any) { m[ClaimDeepLinkData] = "other" }, false},
		"another audience":     {g, func(m map[string]any) { m["aud"] = "http://x" }, false},
		"another deployment":   {g, func(m map[string]any) { m[ClaimDeploymentID] = "d-x" }, false},
		"another message type": {g, func(m map[string]any) { m[ClaimMessageType] = MessageResourceLink }, false},
		"no nonce":             {g, func(m map[string]any) { delete(m, "nonce") }, false},
		"a type not offered":   {g, func(m map[string]any) { m[ClaimContentItems] = []any{map[string]any{"type": "file"}} }, false},
	} {
		t.Run(name, func(t *testing.T) {
			if status, body := authorize(t, p, p.DeepLinkLaunchURL(c, grace), nil); status != http.StatusOK {
				t.Fatalf("%d %s", status, body)
			}
			launched, _ := idTokenClaims(t, p)
			settings := launched[ClaimDeepLinking].(map[string]any)
			claims := map[string]any{"iss": clientID, "aud": p.Issuer(), "iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix(), "nonce": randomID(6),
				ClaimMessageType: MessageDeepLinkReply, ClaimVersion: "1.3.0", ClaimDeploymentID: deploymentID, ClaimDeepLinkData: settings["data"],
				ClaimContentItems: []any{map[string]any{"type": "ltiResourceLink", "title": "Scenario", "url": "http://127.0.0.1:1/launch"}}}
			if tc.change != nil {
				tc.change(claims)
			}
			before := len(p.DeepLinks())
			resp, body := postForm(t, settings["deep_link_return_url"].(string), url.Values{"JWT": {tc.signer.sign(t, claims)}})
			if got := resp.StatusCode == http.StatusOK; got != tc.ok {
				t.Fatalf("answered %d %s", resp.StatusCode, body)
			}
			if tc.ok && len(p.DeepLinks()) != before+1 {
				t.Fatal("not stored")
			}
			if tc.ok { // one response per launch
				if resp, _ := postForm(t, settings["deep_link_return_url"].(string), url.Values{"JWT": {tc.signer.sign(t, claims)}}); resp.StatusCode != http.StatusBadRequest {
					t.Fatalf("a second response answered %d", resp.StatusCode)
				}
			}
		})
	}
}

func TestRegistrationEndpointChecks(t *testing.T) {
	p := Start(t)
	valid := func() map[string]any {
		return map[string]any{"application_type": "web", "grant_types": []any{"implicit", "client_credentials"}, "response_types": []any{"id_token"},
			"redirect_uris": []any{"http://127.0.0.1:1/launch"}, "initiate_login_uri": "http://127.0.0.1:1/login", "jwks_uri": "http://127.0.0.1:1/jwks",
			"token_endpoint_auth_method": "private_key_jwt", "client_name": "Go tool",
			toolConfigKey: map[string]any{"domain": "127.0.0.1", "target_link_uri": "http://127.0.0.1:1/launch",
				"messages": []any{map[string]any{"type": MessageDeepLinking, "target_link_uri": "http://127.0.0.1:1/dl"}}}}
	}
	token := func() string {
		tok := randomID(8)
		p.mu.Lock()
		p.regTokens[tok] = &dynamicRegistration{}
		p.mu.Unlock()
		return tok
	}
	send := func(bearer string, body map[string]any) (int, map[string]any) {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, p.RegistrationURL(), strings.NewReader(string(raw)))
		req.Header.Set("Authorization", "Bearer "+bearer)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		var answer map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&answer)
		return resp.StatusCode, answer
	}
	once := token()
	status, answer := send(once, valid())
	config, _ := answer[toolConfigKey].(map[string]any)
	if status != http.StatusOK || answer["client_id"] == "" || config["deployment_id"] == nil {
		t.Fatalf("registration: %d %v", status, answer)
	}
	p.mu.Lock()
	reg := p.tools[answer["client_id"].(string)]
	p.mu.Unlock()
	if reg == nil || reg.tool.DeepLinkURL != "http://127.0.0.1:1/dl" || reg.tool.LoginURL != "http://127.0.0.1:1/login" {
		t.Fatalf("registered %+v", reg)
	}
	if status, _ := send(once, valid()); status != http.StatusUnauthorized {
		t.Errorf("a spent token: %d", status)
	}
	for name, change := range map[string]func(map[string]any){
		"native application":    func(m map[string]any) { m["application_type"] = "native" },
		"no client_credentials": func(m map[string]any) { m["grant_types"] = []any{"implicit"} },
		"code response":         func(m map[string]any) { m["response_types"] = []any{"code"} },
		"no redirect URIs":      func(m map[string]any) { delete(m, "redirect_uris") },
		"relative login URI":    func(m map[string]any) { m["initiate_login_uri"] = "/login" },
		"secret auth":           func(m map[string]any) { m["token_endpoint_auth_method"] = "client_secret_basic" },
		"no LTI configuration":  func(m map[string]any) { delete(m, toolConfigKey) },
	} {
		t.Run(name, func(t *testing.T) {
			body := valid()
			change(body)
			if status, answer := send(token(), body); status != http.StatusBadRequest {
				t.Fatalf("answered %d %v", status, answer)
			}
		})
	}
}
