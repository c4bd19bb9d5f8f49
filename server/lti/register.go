package lti

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/audit"
	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/opaque"
)

// Dynamic registration (LTI Dynamic Registration 1.0): an admin asks Baton
// for a one-time registration URL and pastes it into the platform, which
// opens it with its OpenID configuration and a registration token; Baton
// reads the configuration, registers itself at the platform's registration
// endpoint and stores the platform with the client id it was given.

// registrationTTL is how long a registration URL works.
const registrationTTL = time.Hour

// RegistrationURL is a one-time dynamic-registration URL for an admin.
type RegistrationURL struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// NewRegistration makes a one-time registration URL, valid for an hour.
func (s *Service) NewRegistration(ctx context.Context, by accounts.Principal) (RegistrationURL, error) {
	token := opaque.New()
	var expires time.Time
	err := s.db.WithContext(ctx).Raw(`INSERT INTO lti_registration_tokens (created_by, expires_at, token_hash)
		VALUES (?, now() + make_interval(secs => ?), ?) RETURNING expires_at`, nullable(by.UserID), registrationTTL.Seconds(), opaque.Hash(token)).Scan(&expires).Error
	if err != nil {
		return RegistrationURL{}, err
	}
	if err := audit.Append(ctx, database.GormExec(s.db.WithContext(ctx)), audit.Entry{ActorID: by.UserID, Action: "lti.registration.create",
		Subject: "lti_registration"}); err != nil {
		return RegistrationURL{}, err
	}
	return RegistrationURL{URL: s.url(RegisterPath) + "?" + url.Values{"token": {token}}.Encode(), ExpiresAt: expires}, nil
}

// Registered is a finished dynamic registration.
type Registered struct {
	Platform Platform
	// Origin is the platform's origin: the page that answers may be framed
	// by it and posts its message there.
	Origin string
}

// platformConfig is the part of the platform's OpenID configuration Baton
// reads (Dynamic Registration 1.0 §3.2).
type platformConfig struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	JWKSURI               string `json:"jwks_uri"`
	RegistrationEndpoint  string `json:"registration_endpoint"`
	LTI                   struct {
		ProductFamilyCode string `json:"product_family_code"`
	} `json:"https://purl.imsglobal.org/spec/lti-platform-configuration"`
}

// Register finishes a dynamic registration started with the one-time
// token (spent on success; a failed attempt leaves it usable).
func (s *Service) DynamicRegister(ctx context.Context, token, configURL, registrationToken string) (Registered, error) {
	if token == "" || configURL == "" {
		return Registered{}, refuse(FailRequest, errors.New("registration without token or openid_configuration"))
	}
	res := s.db.WithContext(ctx).Exec(`UPDATE lti_registration_tokens SET used_at = now()
		WHERE token_hash = ? AND used_at IS NULL AND expires_at > now()`, opaque.Hash(token))
	if res.Error != nil {
		return Registered{}, refuse(FailUnavailable, res.Error)
	} else if res.RowsAffected != 1 {
		return Registered{}, refuse(FailExpired, errors.New("the registration URL is unknown, used or expired"))
	}
	reg, err := s.register(ctx, configURL, registrationToken)
	if err != nil {
		// Hand the URL back for another try (the admin's, not the platform's, mistake may be fixed).
		_ = s.db.WithContext(ctx).Exec(`UPDATE lti_registration_tokens SET used_at = NULL WHERE token_hash = ?`, opaque.Hash(token)).Error
		return Registered{}, err
	}
	if err := s.db.WithContext(ctx).Exec(`UPDATE lti_registration_tokens SET platform_id = ? WHERE token_hash = ?`, reg.Platform.ID, opaque.Hash(token)).Error; err != nil {
		return Registered{}, refuse(FailUnavailable, err)
	}
	return reg, nil
}

func (s *Service) register(ctx context.Context, configURL, registrationToken string) (Registered, error) {
	if p := endpointProblem(configURL, false); p != "" {
		return Registered{}, refuse(FailRegistration, fmt.Errorf("openid_configuration %s", p))
	}
	cu, _ := url.Parse(configURL)
	origin := cu.Scheme + "://" + cu.Host
	ctx, cancel := ctxTimeout(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, configURL, nil)
	if err != nil {
		return Registered{}, refuse(FailRegistration, err)
	}
	req.Header.Set("Accept", "application/json")
	var cfg platformConfig
	if err := s.do(req, &cfg); err != nil {
		return Registered{}, refuse(FailPlatform, err)
	}
	iu, err := url.Parse(cfg.Issuer)
	if err != nil || !strings.EqualFold(iu.Scheme+"://"+iu.Host, origin) {
		return Registered{}, refuse(FailRegistration, fmt.Errorf("issuer %q is not at the configuration's origin %s", cfg.Issuer, origin))
	}
	if p := endpointProblem(cfg.RegistrationEndpoint, false); p != "" {
		return Registered{}, refuse(FailRegistration, fmt.Errorf("registration_endpoint %s", p))
	}
	base, _ := url.Parse(s.cfg.PublicURL)
	target := s.url("/")
	body := map[string]any{ // #nosec G101 -- an OAuth client registration: grant and response types, no credential
		"application_type":           "web",
		"response_types":             []string{"id_token"},
		"grant_types":                []string{"implicit", "client_credentials"},
		"initiate_login_uri":         s.url(LoginPath),
		"redirect_uris":              []string{s.url(LaunchPath)},
		"client_name":                "Baton",
		"jwks_uri":                   s.url(JWKSPath),
		"token_endpoint_auth_method": "private_key_jwt",
		"scope":                      strings.Join(toolScopes, " "),
		"https://purl.imsglobal.org/spec/lti-tool-configuration": map[string]any{
			"domain":          base.Host,
			"target_link_uri": target,
			"description":     "Leadership scenarios with feedback on every decision.",
			"claims":          []string{"iss", "sub", "name", "given_name", "family_name", "email"},
			"messages": []map[string]any{
				{"type": msgDeepLinking, "target_link_uri": target, "label": "Baton",
					"placements": []string{"ContentArea"}, "supported_types": []string{"ltiResourceLink"}},
				{"type": msgResourceLink, "target_link_uri": target, "label": "Baton"},
			},
		},
	}
	b, _ := json.Marshal(body)
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, cfg.RegistrationEndpoint, strings.NewReader(string(b)))
	if err != nil {
		return Registered{}, refuse(FailRegistration, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if registrationToken != "" {
		req.Header.Set("Authorization", "Bearer "+registrationToken)
	}
	var answer struct {
		ClientID string `json:"client_id"`
		Tool     struct {
			DeploymentID string `json:"deployment_id"`
		} `json:"https://purl.imsglobal.org/spec/lti-tool-configuration"`
	}
	if err := s.do(req, &answer); err != nil {
		return Registered{}, refuse(FailPlatform, err)
	}
	name := cfg.LTI.ProductFamilyCode
	if name == "" {
		name = iu.Hostname()
	} else {
		name = name + " (" + iu.Hostname() + ")"
	}
	p := cleanPlatform(Platform{Issuer: cfg.Issuer, ClientID: answer.ClientID, DeploymentIDs: List{answer.Tool.DeploymentID},
		Name: truncate(name, 100), AuthURL: cfg.AuthorizationEndpoint, TokenURL: cfg.TokenEndpoint, JWKSURL: cfg.JWKSURI})
	if err := p.problems(); err != nil {
		return Registered{}, refuse(FailRegistration, err)
	}
	stored, err := s.insertPlatform(ctx, "", p, "lti.platform.dynamic_register")
	if err != nil {
		if errors.Is(err, ErrPlatformTaken) {
			return Registered{}, refuse(FailRegistration, err)
		}
		return Registered{}, refuse(FailUnavailable, err)
	}
	return Registered{Platform: stored, Origin: origin}, nil
}
