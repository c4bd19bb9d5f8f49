package ltitest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/baton-course/baton/server/idptest"
)

const toolConfigKey = "https://purl.imsglobal.org/spec/lti-tool-configuration"

// dynamicRegistration is one registration_token handed to a tool.
type dynamicRegistration struct {
	used         bool
	clientID     string
	deploymentID string
	request      map[string]any
}

// serveOpenIDConfig is the platform's OpenID configuration with the LTI
// platform configuration Dynamic Registration 1.0 reads.
func (p *Platform) serveOpenIDConfig(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, "application/json", map[string]any{
		"issuer":                                p.issuer,
		"authorization_endpoint":                p.AuthURL(),
		"token_endpoint":                        p.TokenURL(),
		"token_endpoint_auth_methods_supported": []string{"private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": []string{"RS256"},
		"jwks_uri":                              p.JWKSURL(),
		"registration_endpoint":                 p.RegistrationURL(),
		"scopes_supported":                      append([]string{"openid"}, supportedScopes...),
		"response_types_supported":              []string{"id_token"},
		"subject_types_supported":               []string{"public", "pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"claims_supported":                      []string{"sub", "iss", "name", "given_name", "family_name", "email"},
		"https://purl.imsglobal.org/spec/lti-platform-configuration": map[string]any{
			"product_family_code": "moodle",
			"version":             "4.5",
			"messages_supported": []map[string]any{
				{"type": MessageResourceLink},
				{"type": MessageDeepLinking, "placements": []string{"ContentArea"}},
			},
			"variables": []string{"basic-lti-launch-request", "ContentItemSelectionRequest", "User.id", "Person.email.primary"},
		},
	})
}

// StartRegistration runs Dynamic Registration with the tool at toolURL as
// an admin's browser would: it opens toolURL with openid_configuration and
// a one-time registration_token; the tool then posts its registration to
// the platform. It returns the client_id and deployment id given.
func (p *Platform) StartRegistration(toolURL string) (clientID, deploymentID string, err error) {
	u, err := url.Parse(toolURL)
	if err != nil {
		return "", "", err
	}
	token := randomID(20)
	p.mu.Lock()
	p.regTokens[token] = &dynamicRegistration{}
	p.mu.Unlock()
	q := u.Query()
	q.Set("openid_configuration", p.OpenIDConfigURL())
	q.Set("registration_token", token)
	u.RawQuery = q.Encode()

	resp, err := idptest.NewBrowser().Navigate(u.String())
	if err != nil {
		return "", "", err
	}
	p.mu.Lock()
	reg := p.regTokens[token]
	p.mu.Unlock()
	if !reg.used {
		body, _ := io.ReadAll(resp.Body)
		return "", "", fmt.Errorf("ltitest: the tool did not register (its page answered %d: %.300s)", resp.StatusCode, body)
	}
	return reg.clientID, reg.deploymentID, nil
}

// RegistrationRequest is the client registration a tool posted with the
// token StartRegistration handed out, as sent (nil before it arrives).
func (p *Platform) RegistrationRequest(clientID string) map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, reg := range p.regTokens {
		if reg.clientID == clientID {
			return reg.request
		}
	}
	return nil
}

// serveRegister is the registration endpoint: it checks the bearer
// registration token and the tool's client metadata, registers the tool,
// and answers as Moodle 4.x does (client_id, deployment_id inside the tool
// configuration).
func (p *Platform) serveRegister(w http.ResponseWriter, r *http.Request) {
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	reg := p.regTokens[strings.TrimSpace(token)]
	p.mu.Unlock()
	if reg == nil || reg.used {
		p.refuse(w, http.StatusUnauthorized, "no valid registration token")
		return
	}
	if !p.contentType(w, r, "application/json") {
		return
	}
	var body map[string]any
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
		p.refuse(w, http.StatusBadRequest, "registration JSON: %v", err)
		return
	}
	tool, err := toolFromRegistration(body)
	if err != nil {
		p.refuse(w, http.StatusBadRequest, "registration: %v", err)
		return
	}
	p.mu.Lock()
	if reg.used { // a second request raced the first
		p.mu.Unlock()
		p.refuse(w, http.StatusUnauthorized, "no valid registration token")
		return
	}
	clientID, deploymentID := p.registerLocked(tool)
	reg.used, reg.clientID, reg.deploymentID, reg.request = true, clientID, deploymentID, body
	p.mu.Unlock()

	answer := map[string]any{}
	for k, v := range body {
		answer[k] = v
	}
	answer["client_id"] = clientID
	config, _ := body[toolConfigKey].(map[string]any)
	echoed := map[string]any{}
	for k, v := range config {
		echoed[k] = v
	}
	echoed["deployment_id"] = deploymentID
	answer[toolConfigKey] = echoed
	writeJSON(w, http.StatusOK, "application/json", answer)
}

// toolFromRegistration checks an OpenID client registration with the LTI
// tool configuration and reads the tool's URLs from it.
func toolFromRegistration(body map[string]any) (Tool, error) {
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	list := func(m map[string]any, k string) []string {
		var out []string
		raw, _ := m[k].([]any)
		for _, v := range raw {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	var problems []string
	if str(body, "application_type") != "web" {
		problems = append(problems, `application_type must be "web"`)
	}
	if g := list(body, "grant_types"); !slices.Contains(g, "implicit") || !slices.Contains(g, "client_credentials") {
		problems = append(problems, "grant_types must include implicit and client_credentials")
	}
	if !slices.Equal(list(body, "response_types"), []string{"id_token"}) {
		problems = append(problems, `response_types must be ["id_token"]`)
	}
	redirects := list(body, "redirect_uris")
	if len(redirects) == 0 {
		problems = append(problems, "redirect_uris is required")
	}
	for _, k := range []string{"initiate_login_uri", "jwks_uri"} {
		if u, err := url.Parse(str(body, k)); err != nil || u.Scheme == "" || u.Host == "" {
			problems = append(problems, k+" must be an absolute URL")
		}
	}
	if str(body, "token_endpoint_auth_method") != "private_key_jwt" {
		problems = append(problems, `token_endpoint_auth_method must be "private_key_jwt"`)
	}
	config, ok := body[toolConfigKey].(map[string]any)
	if !ok {
		problems = append(problems, toolConfigKey+" is required")
		config = map[string]any{}
	}
	if str(config, "domain") == "" || str(config, "target_link_uri") == "" {
		problems = append(problems, "the tool configuration needs domain and target_link_uri")
	}
	if len(problems) > 0 {
		return Tool{}, errors.New(strings.Join(problems, "; "))
	}
	tool := Tool{LoginURL: str(body, "initiate_login_uri"), RedirectURL: redirects[0], RedirectURLs: redirects[1:],
		JWKSURL: str(body, "jwks_uri"), DeepLinkURL: str(config, "target_link_uri"), TargetLinkURI: str(config, "target_link_uri")}
	messages, _ := config["messages"].([]any)
	for _, m := range messages {
		if msg, ok := m.(map[string]any); ok && str(msg, "type") == MessageDeepLinking && str(msg, "target_link_uri") != "" {
			tool.DeepLinkURL = str(msg, "target_link_uri")
		}
	}
	return tool, nil
}
