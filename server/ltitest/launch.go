package ltitest

import (
	"crypto/rand"
	"crypto/rsa"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// The claim names of LTI 1.3 and its services.
const (
	ClaimMessageType     = "https://purl.imsglobal.org/spec/lti/claim/message_type"
	ClaimVersion         = "https://purl.imsglobal.org/spec/lti/claim/version"
	ClaimDeploymentID    = "https://purl.imsglobal.org/spec/lti/claim/deployment_id"
	ClaimTargetLinkURI   = "https://purl.imsglobal.org/spec/lti/claim/target_link_uri"
	ClaimResourceLink    = "https://purl.imsglobal.org/spec/lti/claim/resource_link"
	ClaimRoles           = "https://purl.imsglobal.org/spec/lti/claim/roles"
	ClaimContext         = "https://purl.imsglobal.org/spec/lti/claim/context"
	ClaimCustom          = "https://purl.imsglobal.org/spec/lti/claim/custom"
	ClaimToolPlatform    = "https://purl.imsglobal.org/spec/lti/claim/tool_platform"
	ClaimLaunch          = "https://purl.imsglobal.org/spec/lti/claim/launch_presentation"
	ClaimLIS             = "https://purl.imsglobal.org/spec/lti/claim/lis"
	ClaimAGSEndpoint     = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
	ClaimNRPS            = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
	ClaimDeepLinking     = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
	ClaimDeepLinkData    = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
	ClaimContentItems    = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
	MessageResourceLink  = "LtiResourceLinkRequest"
	MessageDeepLinking   = "LtiDeepLinkingRequest"
	MessageDeepLinkReply = "LtiDeepLinkingResponse"
)

// Forgery makes one launch's id_token what an attacker (or a misconfigured
// platform) would send. Zero fields change nothing.
type Forgery struct {
	OtherKey     bool          // signed by a key not in the platform's key set (same kid)
	Audience     string        // aud (and azp) of another client
	ExpiredBy    time.Duration // exp this long in the past (iat before it)
	DeploymentID string        // a deployment the tool was never given
	MessageType  string        // another message type
	Issuer       string        // another iss
	Nonce        string        // a nonce the tool did not choose
	Claims       func(claims map[string]any)
}

// Option adjusts one launch.
type Option func(*launch)

// Forged applies f to the launch's id_token.
func Forged(f Forgery) Option { return func(l *launch) { l.forgery = f } }

// ForClient launches the tool registered as clientID (default: the last registered).
func ForClient(clientID string) Option { return func(l *launch) { l.clientID = clientID } }

// AcceptTypes sets a deep-linking launch's accept_types (default ltiResourceLink).
func AcceptTypes(types ...string) Option { return func(l *launch) { l.acceptTypes = types } }

// launch is a launch the platform has started and not finished: the
// lti_message_hint names it across login initiation and authorization.
type launch struct {
	hint        string
	messageType string
	clientID    string
	course      Course
	person      Person
	link        Link
	acceptTypes []string
	data        string // deep-linking data the tool must echo
	nonce       string // deep-linking: nonce of the launch, for the record
	forgery     Forgery
}

// LaunchURL is a platform URL that, opened in a browser, launches link for
// person in course: login initiation at the tool, then the authorization
// request, then the id_token posted to the tool's redirect URI.
func (p *Platform) LaunchURL(c Course, who Person, l Link, opts ...Option) string {
	return p.start(&launch{messageType: MessageResourceLink, clientID: l.ClientID, course: c, person: who, link: l}, opts)
}

// DeepLinkLaunchURL is LaunchURL for a deep-linking request (an instructor
// adding content from the course editor).
func (p *Platform) DeepLinkLaunchURL(c Course, who Person, opts ...Option) string {
	return p.start(&launch{messageType: MessageDeepLinking, course: c, person: who, acceptTypes: []string{"ltiResourceLink"}}, opts)
}

func (p *Platform) start(l *launch, opts []Option) string {
	for _, o := range opts {
		o(l)
	}
	l.hint = randomID(12)
	l.data = "dl-" + randomID(8)
	p.mu.Lock()
	defer p.mu.Unlock()
	if l.clientID == "" {
		l.clientID = p.lastClient
	}
	if _, ok := p.courses[l.course.ID]; !ok {
		p.courses[l.course.ID] = l.course
	}
	if reg := p.tools[l.clientID]; reg != nil && l.link.TargetLinkURI == "" {
		l.link.TargetLinkURI = reg.tool.TargetLinkURI
	}
	if l.messageType == MessageResourceLink && l.link.LineItem {
		p.lineItemForLinkLocked(l.course.ID, l.link)
	}
	p.pending[l.hint] = l
	return p.issuer + "/initiate/" + l.hint
}

// serveInitiate starts third-party login at the tool, as Moodle's launch
// page does: an auto-submitted form (or a redirect with LoginByGET).
func (p *Platform) serveInitiate(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	l, ok := p.pending[r.PathValue("hint")]
	var reg *registration
	if ok {
		reg = p.tools[l.clientID]
	}
	p.mu.Unlock()
	if !ok || reg == nil {
		p.refuse(w, http.StatusNotFound, "no such launch or tool")
		return
	}
	target := l.link.TargetLinkURI
	if l.messageType == MessageDeepLinking {
		target = reg.tool.DeepLinkURL
	}
	fields := map[string]string{
		"iss":               p.issuer,
		"login_hint":        l.person.Sub,
		"target_link_uri":   target,
		"lti_message_hint":  l.hint,
		"client_id":         reg.clientID,
		"lti_deployment_id": reg.deploymentID,
	}
	if p.LoginByGET {
		u, err := url.Parse(reg.tool.LoginURL)
		if err != nil {
			p.refuse(w, http.StatusInternalServerError, "bad login URL: %v", err)
			return
		}
		q := u.Query()
		for k, v := range fields {
			q.Set(k, v)
		}
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
		return
	}
	writeAutoPost(w, reg.tool.LoginURL, fields)
}

// serveAuth is the OIDC authorization endpoint of LTI's implicit flow: it
// checks the tool's authentication request and posts the id_token back.
func (p *Platform) serveAuth(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.refuse(w, http.StatusBadRequest, "bad request: %v", err)
		return
	}
	q := r.Form
	for name, want := range map[string]string{"response_type": "id_token", "response_mode": "form_post", "scope": "openid", "prompt": "none"} {
		if got := q.Get(name); name == "scope" && !slices.Contains(strings.Fields(got), want) || name != "scope" && got != want {
			p.refuse(w, http.StatusBadRequest, "%s must be %q, got %q", name, want, got)
			return
		}
	}
	if q.Get("nonce") == "" {
		p.refuse(w, http.StatusBadRequest, "nonce is required")
		return
	}
	p.mu.Lock()
	l, ok := p.pending[q.Get("lti_message_hint")]
	reg := p.tools[q.Get("client_id")]
	p.mu.Unlock()
	switch {
	case !ok:
		p.refuse(w, http.StatusBadRequest, "unknown or spent lti_message_hint")
		return
	case reg == nil || reg.clientID != l.clientID:
		p.refuse(w, http.StatusBadRequest, "client_id %q is not the launched tool", q.Get("client_id"))
		return
	case !slices.Contains(reg.tool.redirects(), q.Get("redirect_uri")):
		p.refuse(w, http.StatusBadRequest, "redirect_uri %q is not registered", q.Get("redirect_uri"))
		return
	case q.Get("login_hint") != l.person.Sub:
		p.refuse(w, http.StatusBadRequest, "login_hint %q is not the launching person", q.Get("login_hint"))
		return
	}
	token, err := p.idToken(l, reg, q.Get("nonce"))
	if err != nil {
		p.refuse(w, http.StatusInternalServerError, "sign: %v", err)
		return
	}
	p.mu.Lock()
	delete(p.pending, l.hint) // a message hint serves one launch
	if l.messageType == MessageDeepLinking {
		l.nonce = q.Get("nonce")
		p.pending["dl:"+l.hint] = l // the return URL needs it
	}
	p.lastIDToken, p.lastState = token, q.Get("state")
	p.mu.Unlock()
	fields := map[string]string{"id_token": token}
	if s := q.Get("state"); s != "" {
		fields["state"] = s
	}
	writeAutoPost(w, q.Get("redirect_uri"), fields)
}

// idToken builds and signs the launch's id_token with every claim LTI 1.3
// requires and the service claims Moodle adds.
func (p *Platform) idToken(l *launch, reg *registration, nonce string) (string, error) {
	now := time.Now()
	course := l.course
	claims := map[string]any{
		"iss":             p.issuer,
		"aud":             reg.clientID,
		"azp":             reg.clientID,
		"sub":             l.person.Sub,
		"iat":             now.Unix(),
		"exp":             now.Add(5 * time.Minute).Unix(),
		"nonce":           nonce,
		"name":            l.person.Name,
		"given_name":      firstWord(l.person.Name),
		"family_name":     lastWords(l.person.Name),
		"email":           l.person.Email,
		ClaimMessageType:  l.messageType,
		ClaimVersion:      "1.3.0",
		ClaimDeploymentID: reg.deploymentID,
		ClaimRoles:        nonNil(l.person.Roles),
		ClaimContext:      map[string]any{"id": course.ID, "label": course.ID, "title": course.Title, "type": []string{"http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"}},
		ClaimToolPlatform: map[string]any{"guid": p.issuer, "name": "ltitest", "product_family_code": "moodle", "version": "4.5"},
		ClaimLaunch:       map[string]any{"document_target": "iframe", "return_url": p.issuer + "/course/" + url.PathEscape(course.ID), "locale": "en"},
		ClaimLIS:          map[string]any{"person_sourcedid": l.person.Sub, "course_section_sourcedid": course.ID},
		ClaimNRPS:         map[string]any{"context_memberships_url": p.membershipsURL(course.ID), "service_versions": []string{"2.0"}},
		ClaimCustom:       map[string]string{},
		ClaimAGSEndpoint:  p.agsClaim(course.ID, l.link, l.messageType),
		"locale":          "en",
		"https://purl.imsglobal.org/spec/lti/claim/ext": map[string]any{"user_username": l.person.Email, "lms": "moodle-2"},
	}
	switch l.messageType {
	case MessageResourceLink:
		claims[ClaimTargetLinkURI] = l.link.TargetLinkURI
		claims[ClaimResourceLink] = map[string]any{"id": l.link.ResourceLinkID, "title": l.link.Title}
		if l.link.Custom != nil {
			claims[ClaimCustom] = maps.Clone(l.link.Custom)
		}
	case MessageDeepLinking:
		claims[ClaimTargetLinkURI] = reg.tool.DeepLinkURL
		claims[ClaimDeepLinking] = map[string]any{
			"deep_link_return_url":                 p.issuer + "/deeplink/" + l.hint,
			"accept_types":                         l.acceptTypes,
			"accept_presentation_document_targets": []string{"iframe", "window"},
			"accept_multiple":                      true,
			"auto_create":                          true,
			"title":                                course.Title,
			"data":                                 l.data,
		}
	}

	key, kid := p.key, p.kid
	f := l.forgery
	if f.OtherKey {
		other, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return "", err
		}
		key = other
	}
	if f.Audience != "" {
		claims["aud"], claims["azp"] = f.Audience, f.Audience
	}
	if f.ExpiredBy > 0 {
		claims["exp"] = now.Add(-f.ExpiredBy).Unix()
		claims["iat"] = now.Add(-f.ExpiredBy - 5*time.Minute).Unix()
	}
	if f.DeploymentID != "" {
		claims[ClaimDeploymentID] = f.DeploymentID
	}
	if f.MessageType != "" {
		claims[ClaimMessageType] = f.MessageType
	}
	if f.Issuer != "" {
		claims["iss"] = f.Issuer
	}
	if f.Nonce != "" {
		claims["nonce"] = f.Nonce
	}
	if f.Claims != nil {
		f.Claims(claims)
	}
	return sign(key, kid, claims)
}

func sign(key *rsa.PrivateKey, kid string, claims map[string]any) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	return jwt.Signed(signer).Claims(claims).Serialize()
}

func (p *Platform) agsClaim(courseID string, l Link, messageType string) map[string]any {
	claim := map[string]any{
		"scope":     []string{ScopeLineItem, ScopeLineItemReadOnly, ScopeResultReadOnly, ScopeScore},
		"lineitems": p.lineItemsURL(courseID),
	}
	if messageType == MessageResourceLink && l.LineItem {
		p.mu.Lock()
		if item := p.lineItemForLinkLocked(courseID, l); item != nil {
			claim["lineitem"] = item.ID
		}
		p.mu.Unlock()
	}
	return claim
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func firstWord(name string) string {
	if f := strings.Fields(name); len(f) > 0 {
		return f[0]
	}
	return ""
}

func lastWords(name string) string {
	if f := strings.Fields(name); len(f) > 1 {
		return strings.Join(f[1:], " ")
	}
	return ""
}
