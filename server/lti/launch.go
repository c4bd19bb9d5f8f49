package lti

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/baton-course/baton/server/accounts"
)

// launchClaims are the id_token's claims Baton reads (LTI Core 1.3 §5).
type launchClaims struct {
	AZP           string   `json:"azp"`
	IssuedAt      *float64 `json:"iat"`
	Email         string   `json:"email"`
	Name          string   `json:"name"`
	GivenName     string   `json:"given_name"`
	FamilyName    string   `json:"family_name"`
	MessageType   string   `json:"https://purl.imsglobal.org/spec/lti/claim/message_type"`
	Version       string   `json:"https://purl.imsglobal.org/spec/lti/claim/version"`
	DeploymentID  string   `json:"https://purl.imsglobal.org/spec/lti/claim/deployment_id"`
	TargetLinkURI string   `json:"https://purl.imsglobal.org/spec/lti/claim/target_link_uri"`
	ResourceLink  struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"https://purl.imsglobal.org/spec/lti/claim/resource_link"`
	Roles   []string `json:"https://purl.imsglobal.org/spec/lti/claim/roles"`
	Context struct {
		ID    string `json:"id"`
		Title string `json:"title"`
		Label string `json:"label"`
	} `json:"https://purl.imsglobal.org/spec/lti/claim/context"`
	Custom map[string]any `json:"https://purl.imsglobal.org/spec/lti/claim/custom"`
	AGS    *struct {
		Scope     []string `json:"scope"`
		LineItems string   `json:"lineitems"`
		LineItem  string   `json:"lineitem"`
	} `json:"https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"`
	NRPS *struct {
		ContextMembershipsURL string `json:"context_memberships_url"`
	} `json:"https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"`
	DeepLinking *struct {
		ReturnURL      string   `json:"deep_link_return_url"`
		AcceptTypes    []string `json:"accept_types"`
		AcceptMultiple *bool    `json:"accept_multiple"`
		Data           string   `json:"data"`
	} `json:"https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"`
}

func (c launchClaims) instructor() bool {
	return slices.ContainsFunc(c.Roles, func(r string) bool {
		return r == roleInstructor || strings.HasPrefix(r, roleInstructor+"#") // sub-roles (TeachingAssistant…)
	})
}

// Result is a launch that passed: the person signed in (or a password
// account waiting for its owner's proof) and where the browser goes.
type Result struct {
	accounts.IdentitySignIn
	Next string
}

// Launch checks the platform's answer (form id_token and state) for the
// browser holding browserKey and signs the person in. Every refusal is a
// *Failure.
func (s *Service) Launch(ctx context.Context, idToken, state string, browserKey BrowserKey) (Result, error) {
	if idToken == "" || state == "" {
		return Result{}, refuse(FailRequest, errors.New("launch without id_token or state"))
	}
	l, err := s.spendLogin(ctx, state, browserKey)
	if err != nil {
		return Result{}, err
	}
	p, found, err := s.platform(ctx, `id = ?`, l.PlatformID)
	if err != nil {
		return Result{}, refuse(FailUnavailable, err)
	} else if !found {
		return Result{}, refuse(FailUnknownPlatform, errors.New("the platform was deleted during the login"))
	}
	sub, c, err := s.verify(ctx, p, idToken, l.Nonce)
	if err != nil {
		return Result{}, err
	}
	if c.Version != "1.3.0" {
		return Result{}, refuse(FailToken, fmt.Errorf("LTI version %q", c.Version))
	}
	if c.MessageType != msgResourceLink && c.MessageType != msgDeepLinking {
		return Result{}, refuse(FailMessageType, fmt.Errorf("message type %q", c.MessageType))
	}
	if c.DeploymentID == "" || !containsString(p.DeploymentIDs, c.DeploymentID) {
		return Result{}, refuse(FailDeployment, fmt.Errorf("deployment %q is not registered", c.DeploymentID))
	}
	next := ""
	if c.MessageType == msgResourceLink {
		if c.ResourceLink.ID == "" {
			return Result{}, refuse(FailToken, errors.New("a resource link launch without resource_link.id"))
		}
		if next, err = s.target(c); err != nil {
			return Result{}, err
		}
	} else if c.DeepLinking == nil || c.DeepLinking.ReturnURL == "" {
		return Result{}, refuse(FailToken, errors.New("a deep-linking request without deep_link_return_url"))
	} else if p := serviceURLProblem(c.DeepLinking.ReturnURL); p != "" {
		// The browser is sent there with a signed answer: never a
		// javascript: or plain-http URL.
		return Result{}, refuse(FailToken, errors.New("deep_link_return_url "+p))
	}
	if sub == "" {
		return Result{}, refuse(FailAnonymous, errors.New("no sub"))
	}
	if unreadable(sub, c.Email, c.Name) {
		return Result{}, refuse(FailToken, errors.New("a launch with unreadable text (invalid UTF-8 or NUL)"))
	}
	email := accounts.NormalizeEmail(c.Email)
	if email == "" || accounts.EmailProblem(email) != "" {
		return Result{}, refuse(FailNoEmail, errors.New("the id_token carries no usable email"))
	}
	id := identityOf(p, sub, email, c.Name, c.GivenName, c.FamilyName)
	in, err := s.accounts.SignInWithIdentity(ctx, id)
	if err != nil {
		return Result{}, accountFailure(err)
	}
	res := Result{IdentitySignIn: in, Next: next}
	if in.SignedIn == nil {
		return res, nil // a password account: its owner proves it first (the sign-in page's link flow)
	}
	userID := in.SignedIn.User.ID
	switch c.MessageType {
	case msgDeepLinking:
		if res.Next, err = s.startDeepLink(ctx, p, userID, c); err != nil {
			return Result{}, refuse(FailUnavailable, err)
		}
	case msgResourceLink:
		if err := s.linkGrade(ctx, p, userID, sub, c); err != nil {
			return Result{}, refuse(FailUnavailable, err)
		}
	}
	if c.instructor() && c.NRPS != nil && c.NRPS.ContextMembershipsURL != "" && c.Context.ID != "" {
		// The roster is a convenience: a platform that fails it does not
		// keep the instructor out (the next launch tries again).
		promoted, err := s.SyncRoster(ctx, p, userID, c.Context.ID, c.Context.Title, c.NRPS.ContextMembershipsURL)
		if err != nil {
			s.log.Warn("LTI roster not synced", "platform", p.ID, "context", c.Context.ID, "err", err)
		}
		if promoted {
			// The new role ended the instructor's sessions: a fresh one.
			u, _, err := s.accounts.UserByEmail(ctx, in.SignedIn.User.Email)
			if err != nil {
				return Result{}, refuse(FailUnavailable, err)
			}
			again, err := s.accounts.SignInExternal(ctx, u, "lti")
			if err != nil {
				return Result{}, accountFailure(err)
			}
			res.SignedIn = &again
		}
	}
	return res, nil
}

// identityOf is the platform's person as the accounts area links them: the
// pair (platform, sub) LTI promises stable. The platform's address counts
// as verified: the admin registered the platform as the authority for the
// people it launches; a password account is still linked only after its
// owner's proof.
func identityOf(p Platform, sub, email, name, given, family string) accounts.Identity {
	if name == "" {
		name = strings.TrimSpace(given + " " + family)
	}
	// An LMS's addresses are good enough to create an account with, not to
	// take over one: people edit their own address there.
	return accounts.Identity{Issuer: identityIssuer(p), Subject: sub, Email: email, EmailVerified: true,
		Name: name, Provider: p.Name, Via: "lti", ProveToLink: true}
}

// identityIssuer names a platform registration among the identity links
// (which single sign-on shares): "lti:" keeps it apart from any OpenID
// provider, the client id apart from the issuer's other registrations.
func identityIssuer(p Platform) string { return "lti:" + p.Issuer + "#" + p.ClientID }

// verify checks the id_token: RS256 signature against the platform's key
// set (fetched and cached, fetched again for an unknown kid), iss, aud
// (containing Baton's client id, with azp naming it among several), exp
// and iat within a minute's skew, and the login's nonce. It returns sub.
func (s *Service) verify(ctx context.Context, p Platform, raw, nonce string) (string, launchClaims, error) {
	var c launchClaims
	v := oidc.NewVerifier(p.Issuer, s.keySet(p.JWKSURL), &oidc.Config{
		ClientID: p.ClientID, SupportedSigningAlgs: []string{oidc.RS256},
		Now: func() time.Time { return s.now().Add(-clockSkew) }, // exp judged with a minute's grace
	})
	t, err := v.Verify(oidc.ClientContext(ctx, s.cfg.HTTPClient), raw)
	if err != nil {
		if _, expired := errors.AsType[*oidc.TokenExpiredError](err); expired {
			return "", c, refuse(FailExpired, err)
		}
		return "", c, refuse(FailToken, err)
	}
	if err := t.Claims(&c); err != nil {
		return "", c, refuse(FailToken, err)
	}
	if c.IssuedAt == nil || time.Unix(int64(*c.IssuedAt), 0).After(s.now().Add(clockSkew)) {
		return "", c, refuse(FailToken, errors.New("iat missing or in the future"))
	}
	if (len(t.Audience) > 1 || c.AZP != "") && c.AZP != p.ClientID {
		return "", c, refuse(FailToken, fmt.Errorf("azp %q is not Baton's client id", c.AZP))
	}
	if subtle.ConstantTimeCompare([]byte(t.Nonce), []byte(nonce)) != 1 {
		return "", c, refuse(FailToken, errors.New("the id_token's nonce is not this login's"))
	}
	return t.Subject, c, nil
}

// keySet is the platform's remote key set, one per JWKS URL, kept so its
// cache serves every launch.
func (s *Service) keySet(jwksURL string) *oidc.RemoteKeySet {
	s.mu.Lock()
	defer s.mu.Unlock()
	ks, ok := s.keySets[jwksURL]
	if !ok {
		// Never a request's context: the set keeps it for later fetches.
		ks = oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), s.cfg.HTTPClient), jwksURL)
		s.keySets[jwksURL] = ks
	}
	return ks
}

// target is the app page the resource link opens: the custom parameter
// baton_target ("quizzes/<slug>", "modules/<slug>"), else the target link
// URI under BATON_PUBLIC_URL; the module or scenario must exist.
func (s *Service) target(c launchClaims) (string, error) {
	raw := ""
	if v, ok := c.Custom[customTarget].(string); ok && v != "" {
		raw = v
	} else {
		if !s.ours(c.TargetLinkURI) {
			return "", refuse(FailTarget, fmt.Errorf("target_link_uri %q is not Baton's", c.TargetLinkURI))
		}
		u, _ := url.Parse(c.TargetLinkURI)
		base, _ := url.Parse(s.cfg.PublicURL)
		raw = strings.TrimPrefix(u.Path, strings.TrimRight(base.Path, "/"))
	}
	kind, slug, ok := strings.Cut(strings.Trim(raw, "/"), "/")
	if strings.Trim(raw, "/") == "" || raw == LaunchPath {
		return "/", nil // the tool itself: the course's start page
	}
	if !ok || slug == "" || strings.Contains(slug, "/") {
		return "", refuse(FailTarget, fmt.Errorf("target %q names no module or scenario", raw))
	}
	switch kind {
	case "quizzes":
		if _, found := s.catalog.Get(slug); found {
			return "/quizzes/" + url.PathEscape(slug), nil
		}
	case "modules":
		if _, found := s.course.Module(slug); found {
			return "/modules/" + url.PathEscape(slug), nil
		}
	}
	return "", refuse(FailTarget, fmt.Errorf("target %q: no such module or scenario", raw))
}

// scenarioOf is the scenario a resource link opens, if it opens one.
func (s *Service) scenarioOf(c launchClaims) string {
	next, err := s.target(c)
	if err != nil {
		return ""
	}
	slug, ok := strings.CutPrefix(next, "/quizzes/")
	if !ok {
		return ""
	}
	return slug
}

// accountFailure names the code of a refusal from the accounts area.
func accountFailure(err error) error {
	switch {
	case errors.Is(err, accounts.ErrIdentityConflict):
		return refuse(FailConflict, err)
	case errors.Is(err, accounts.ErrDeactivated):
		return refuse(FailDeactivated, err)
	case errors.Is(err, accounts.ErrEmailUnverified):
		return refuse(FailNoEmail, err)
	}
	return refuse(FailUnavailable, err)
}
