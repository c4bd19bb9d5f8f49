package ltitest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Tool is what the platform knows of a registered tool: where login
// initiation starts, where launches are posted (RedirectURL and any
// RedirectURLs), its key set, and the deep-linking target.
type Tool struct {
	LoginURL     string
	RedirectURL  string
	JWKSURL      string
	DeepLinkURL  string
	RedirectURLs []string // further registered redirect URIs (dynamic registration may send several)
	// TargetLinkURI is the launch target of a link that names none (the
	// tool's default, as a registration's target_link_uri is).
	TargetLinkURI string
}

func (t Tool) redirects() []string {
	return append([]string{t.RedirectURL}, t.RedirectURLs...)
}

// Person is someone in a course; Roles are full LIS IRIs (RoleLearner...).
type Person struct {
	Sub, Name, Email string
	Roles            []string
}

// Course is a platform course (the LTI context) with its members.
type Course struct {
	ID, Title string
	Members   []Person
}

// Link is a resource link placed in a course. LineItem asks the platform
// to create a line item bound to it (as Moodle does when the tool's grade
// option is on), so the launch carries its AGS lineitem URL.
type Link struct {
	ResourceLinkID, Title, TargetLinkURI string
	Custom                               map[string]string
	LineItem                             bool
	ClientID                             string // the tool to launch; empty means the last registered
}

// The LIS roles tests use most.
const (
	RoleLearner       = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
	RoleInstructor    = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
	RoleAdministrator = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"
)

// The AGS and NRPS scopes the platform grants.
const (
	ScopeLineItem         = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
	ScopeLineItemReadOnly = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
	ScopeResultReadOnly   = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
	ScopeScore            = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
	ScopeMemberships      = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
)

var supportedScopes = []string{ScopeLineItem, ScopeLineItemReadOnly, ScopeResultReadOnly, ScopeScore, ScopeMemberships}

// Platform is an LTI 1.3 platform on a loopback port. Its methods are safe
// for concurrent use.
type Platform struct {
	// LoginByGET makes login initiation a redirect (as Canvas does) instead
	// of an auto-submitted POST form (as Moodle does).
	LoginByGET bool
	// Logf, when set, gets a line per refused request: why it was refused.
	Logf func(format string, args ...any)

	srv    *httptest.Server
	issuer string
	key    *rsa.PrivateKey
	kid    string
	client *http.Client // for the tools' key sets

	mu            sync.Mutex
	seq           int
	tools         map[string]*registration // by client_id
	lastClient    string
	courses       map[string]Course
	pending       map[string]*launch // by lti_message_hint
	lastIDToken   string
	lastState     string
	deepLinks     [][]map[string]any
	deepLinkFails []string
	lineItems     map[string][]*LineItem // by course id
	scores        map[string][]Score     // by line item URL
	tokens        map[string]accessToken // by access token
	assertionJTIs map[string]bool
	responseNonce map[string]bool
	regTokens     map[string]*dynamicRegistration
}

type registration struct {
	tool         Tool
	clientID     string
	deploymentID string
}

// StartOption adjusts a platform before it starts.
type StartOption func(*startOptions)

type startOptions struct{ host string }

// OnHost names the platform's host in its URLs (default "localhost"; it
// always listens on 127.0.0.1). With "127.0.0.1" a tool on 127.0.0.1 is on
// the same site as the platform, which changes what SameSite lets through.
func OnHost(host string) StartOption { return func(o *startOptions) { o.host = host } }

// Start runs a platform until the test ends.
func Start(t testing.TB, opts ...StartOption) *Platform {
	t.Helper()
	o := startOptions{host: "localhost"}
	for _, opt := range opts {
		opt(&o)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("ltitest: key: %v", err)
	}
	p := &Platform{
		key:           key,
		kid:           "platform-" + randomID(6),
		client:        &http.Client{Timeout: 10 * time.Second},
		tools:         map[string]*registration{},
		courses:       map[string]Course{},
		pending:       map[string]*launch{},
		lineItems:     map[string][]*LineItem{},
		scores:        map[string][]Score{},
		tokens:        map[string]accessToken{},
		assertionJTIs: map[string]bool{},
		responseNonce: map[string]bool{},
		regTokens:     map[string]*dynamicRegistration{},
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("ltitest: listen: %v", err)
	}
	p.srv = httptest.NewUnstartedServer(p.routes())
	p.srv.Listener = listener
	p.srv.Start()
	// Named localhost by default, so a tool on 127.0.0.1 is another site, as
	// an LMS and a tool are: cookies meet SameSite as they would in production.
	p.issuer = "http://" + o.host + ":" + portOf(listener.Addr())
	t.Cleanup(p.srv.Close)
	return p
}

func portOf(addr net.Addr) string {
	_, port, _ := net.SplitHostPort(addr.String())
	return port
}

// Issuer is the platform's issuer URL (iss of its tokens).
func (p *Platform) Issuer() string { return p.issuer }

// AuthURL is the OIDC authorization endpoint a tool redirects logins to.
func (p *Platform) AuthURL() string { return p.issuer + "/auth" }

// TokenURL is the OAuth 2 token endpoint for the tool's service tokens.
func (p *Platform) TokenURL() string { return p.issuer + "/token" }

// JWKSURL is the platform's public key set.
func (p *Platform) JWKSURL() string { return p.issuer + "/jwks" }

// OpenIDConfigURL is the platform's OpenID configuration (dynamic registration).
func (p *Platform) OpenIDConfigURL() string { return p.issuer + "/.well-known/openid-configuration" }

// RegistrationURL is the dynamic registration endpoint.
func (p *Platform) RegistrationURL() string { return p.issuer + "/register" }

// KeyID is the kid of the platform's signing key.
func (p *Platform) KeyID() string { return p.kid }

// Register makes a tool known (as an admin pasting its URLs would) and
// returns its client_id and deployment id.
func (p *Platform) Register(t Tool) (clientID, deploymentID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.registerLocked(t)
}

func (p *Platform) registerLocked(t Tool) (clientID, deploymentID string) {
	p.seq++
	clientID = fmt.Sprintf("client-%d-%s", p.seq, randomID(4))
	deploymentID = fmt.Sprintf("deployment-%d", p.seq)
	p.tools[clientID] = &registration{tool: t, clientID: clientID, deploymentID: deploymentID}
	p.lastClient = clientID
	return clientID, deploymentID
}

// AddCourse adds (or replaces) a course and its members.
func (p *Platform) AddCourse(c Course) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.courses[c.ID] = c
}

// DeepLinks are the content item lists the tools returned, one per accepted
// deep-linking response, oldest first.
func (p *Platform) DeepLinks() [][]map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.deepLinks)
}

// DeepLinkFailures say why deep-linking responses were refused.
func (p *Platform) DeepLinkFailures() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.deepLinkFails)
}

// LastIDToken is the last id_token the authorization endpoint issued and
// the state it echoed, for replay tests.
func (p *Platform) LastIDToken() (idToken, state string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastIDToken, p.lastState
}

func (p *Platform) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /jwks", p.serveJWKS)
	mux.HandleFunc("GET /.well-known/openid-configuration", p.serveOpenIDConfig)
	mux.HandleFunc("GET /initiate/{hint}", p.serveInitiate)
	mux.HandleFunc("GET /auth", p.serveAuth)
	mux.HandleFunc("POST /auth", p.serveAuth)
	mux.HandleFunc("POST /token", p.serveToken)
	mux.HandleFunc("GET /ags/{course}/lineitems", p.serveLineItems)
	mux.HandleFunc("POST /ags/{course}/lineitems", p.serveCreateLineItem)
	mux.HandleFunc("GET /ags/{course}/lineitems/{item}", p.serveLineItem)
	mux.HandleFunc("PUT /ags/{course}/lineitems/{item}", p.serveUpdateLineItem)
	mux.HandleFunc("DELETE /ags/{course}/lineitems/{item}", p.serveDeleteLineItem)
	mux.HandleFunc("POST /ags/{course}/lineitems/{item}/scores", p.serveScore)
	mux.HandleFunc("GET /ags/{course}/lineitems/{item}/results", p.serveResults)
	mux.HandleFunc("GET /nrps/{course}/memberships", p.serveMemberships)
	mux.HandleFunc("POST /deeplink/{hint}", p.serveDeepLinkReturn)
	mux.HandleFunc("POST /register", p.serveRegister)
	return mux
}

func (p *Platform) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: p.kid, Algorithm: string(jose.RS256), Use: "sig"}}}
	writeJSON(w, http.StatusOK, "application/json", set)
}

// refuse answers a request the platform will not serve and logs why.
func (p *Platform) refuse(w http.ResponseWriter, status int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if p.Logf != nil {
		p.Logf("ltitest: refused (%d): %s", status, msg)
	}
	http.Error(w, "ltitest: "+msg, status)
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// autoPost is the page an LMS answers with to POST a form in the browser
// at once (login initiation, the form_post launch).
var autoPost = template.Must(template.New("post").Parse(`<!DOCTYPE html>
<html><head><title>Launching…</title></head>
<body onload="document.forms[0].submit()">
<form method="post" action="{{.Action}}">{{range $k, $v := .Fields}}
<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
<noscript><button type="submit">Continue</button></noscript>
</form>
</body></html>`))

func writeAutoPost(w http.ResponseWriter, action string, fields map[string]string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = autoPost.Execute(w, struct {
		Action string
		Fields map[string]string
	}{action, fields})
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func hasScope(granted []string, any ...string) bool {
	for _, s := range any {
		if slices.Contains(granted, s) {
			return true
		}
	}
	return false
}

func splitScopes(s string) []string { return strings.Fields(s) }
