package lti

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/baton-course/baton/server/opaque"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Calls to a platform's services (AGS, NRPS) carry an access token from its
// token endpoint: the client-credentials grant with a private_key_jwt
// client assertion signed by the tool key (LTI Security Framework §4.1,
// RFC 7523).

type accessToken struct {
	value   string
	expires time.Time
}

// token gets an access token for scopes at the platform, kept until shortly
// before it expires.
func (s *Service) token(ctx context.Context, p Platform, scopes ...string) (string, error) {
	key := p.ID + " " + strings.Join(scopes, " ")
	s.mu.Lock()
	if s.tokens == nil {
		s.tokens = map[string]accessToken{}
	}
	t, ok := s.tokens[key]
	s.mu.Unlock()
	if ok && time.Now().Before(t.expires) {
		return t.value, nil
	}
	signer, err := s.signer(ctx)
	if err != nil {
		return "", err
	}
	now := time.Now()
	assertion, err := jwt.Signed(signer).Claims(jwt.Claims{
		Issuer: p.ClientID, Subject: p.ClientID, Audience: jwt.Audience{p.TokenURL},
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now.Add(-5 * time.Second)),
		Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute)), ID: opaque.New(),
	}).Serialize()
	if err != nil {
		return "", err
	}
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
		"scope":                 {strings.Join(scopes, " ")},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := s.do(req, &out); err != nil {
		return "", fmt.Errorf("token endpoint: %w", err)
	}
	if out.AccessToken == "" {
		return "", errors.New("token endpoint: no access_token")
	}
	life := time.Duration(out.ExpiresIn) * time.Second
	if life <= 0 {
		life = time.Hour
	}
	s.mu.Lock()
	s.tokens[key] = accessToken{value: out.AccessToken, expires: now.Add(life - min(life/2, time.Minute))}
	s.mu.Unlock()
	return out.AccessToken, nil
}

// maxAnswer bounds what Baton reads of a platform's answer.
const maxAnswer = 4 << 20

// do sends req and decodes a 2xx JSON answer into out (nil: ignored).
func (s *Service) do(req *http.Request, out any) error {
	_, err := s.doHeader(req, out)
	return err
}

// doHeader is do, also returning the answer's header.
func (s *Service) doHeader(req *http.Request, out any) (http.Header, error) {
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: %s: %.300s", req.Method, req.URL.Redacted(), resp.Status, body)
	}
	if out == nil || len(bytes.TrimSpace(body)) == 0 {
		return resp.Header, nil
	}
	return resp.Header, json.Unmarshal(body, out)
}

// call makes an authorised request to a platform service.
func (s *Service) call(ctx context.Context, p Platform, method, target, contentType, accept string, body any, out any, scopes ...string) error {
	tok, err := s.token(ctx, p, scopes...)
	if err != nil {
		return err
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return s.do(req, out)
}

// withPath adds a path segment to a service URL before its query
// (a line item's scores: <lineitem>/scores?…).
func withPath(raw, segment string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/" + segment
	u.RawPath = ""
	return u.String(), nil
}
