package idptest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// The relying parties' callbacks are never requested: the browser stops at
// them, as Baton's tests stop at Baton's callback to tamper with it.
const (
	batonCallback = "http://127.0.0.1:9/api/auth/oidc/callback"
	otherCallback = "http://127.0.0.1:9/other/callback"
)

var (
	batonClient = Client{ID: "baton", Secret: "baton-secret-0123456789abcdef", RedirectURIs: []string{batonCallback}}
	otherClient = Client{ID: "other-app", Secret: "other-secret-0123456789abcdef", RedirectURIs: []string{otherCallback},
		AuthMethod: AuthSecretPost, IDTokenLifetime: 90 * time.Second}
	ada = User{Subject: "ada-1815", Email: "ada@example.com", Name: "Ada Lovelace", Password: "analytical-engine", EmailVerified: true}
)

// providers are started once for the test binary: the node one costs a
// Node.js start.
var providers []Provider

func TestMain(m *testing.M) {
	os.Exit(runWithProviders(m))
}

func runWithProviders(m *testing.M) int {
	clients := []Client{batonClient, otherClient}
	z, err := NewZitadel(clients, []User{ada})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer z.Stop()
	n, err := NewNode(clients, []User{ada})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer n.Stop()
	providers = []Provider{z, n}
	return m.Run()
}

func eachProvider(t *testing.T, test func(t *testing.T, p Provider)) {
	for _, p := range providers {
		t.Run(p.Name(), func(t *testing.T) { test(t, p) })
	}
}

// relyingParty is what Baton does, built from go-oidc and x/oauth2.
type relyingParty struct {
	provider *oidc.Provider
	config   oauth2.Config
}

func newRelyingParty(t *testing.T, p Provider, c Client) *relyingParty {
	t.Helper()
	provider, err := oidc.NewProvider(t.Context(), p.Issuer())
	if err != nil {
		t.Fatalf("discovery at %s: %v", p.Issuer(), err)
	}
	endpoint := provider.Endpoint()
	if c.AuthMethod == AuthSecretPost {
		endpoint.AuthStyle = oauth2.AuthStyleInParams
	} else {
		endpoint.AuthStyle = oauth2.AuthStyleInHeader
	}
	return &relyingParty{provider: provider, config: oauth2.Config{
		ClientID: c.ID, ClientSecret: c.Secret, Endpoint: endpoint, RedirectURL: c.RedirectURIs[0],
		Scopes: []string{oidc.ScopeOpenID, "email", "profile"},
	}}
}

type flow struct {
	state, nonce, verifier, authURL string
}

func (rp *relyingParty) start() flow {
	f := flow{state: randomToken(16), nonce: randomToken(16), verifier: oauth2.GenerateVerifier()}
	f.authURL = rp.config.AuthCodeURL(f.state, oauth2.S256ChallengeOption(f.verifier), oidc.Nonce(f.nonce))
	return f
}

type claims struct {
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	Name          string `json:"name"`
}

// finish exchanges the callback's code and verifies the ID token as Baton
// must: signature, issuer, audience, expiry, then nonce.
func (rp *relyingParty) finish(ctx context.Context, f flow, callback string) (*oidc.IDToken, string, error) {
	q, err := queryOf(callback)
	if err != nil {
		return nil, "", err
	}
	if q.Get("state") != f.state {
		return nil, "", fmt.Errorf("state %q, want %q", q.Get("state"), f.state)
	}
	if q.Get("code") == "" {
		return nil, "", fmt.Errorf("no code in %s", callback)
	}
	token, err := rp.config.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		return nil, "", fmt.Errorf("exchange: %w", err)
	}
	raw, _ := token.Extra("id_token").(string)
	idToken, err := rp.provider.Verifier(&oidc.Config{ClientID: rp.config.ClientID}).Verify(ctx, raw)
	if err != nil {
		return nil, raw, fmt.Errorf("verify: %w", err)
	}
	if idToken.Nonce != f.nonce {
		return nil, raw, fmt.Errorf("nonce %q, want %q", idToken.Nonce, f.nonce)
	}
	return idToken, raw, nil
}

func TestSignInWithCodeAndPKCE(t *testing.T) {
	eachProvider(t, func(t *testing.T, p Provider) {
		grace := User{Subject: "grace-" + p.Name(), Email: "Grace@Example.com", Name: "Grace Hopper", Password: "cobol-1959"}
		if err := p.AddUser(grace); err != nil {
			t.Fatal(err)
		}
		rp := newRelyingParty(t, p, batonClient)
		f := rp.start()
		callback, err := NewBrowser().SignInUntil(f.authURL, grace, StopAt(batonCallback))
		if err != nil {
			t.Fatal(err)
		}
		idToken, _, err := rp.finish(t.Context(), f, callback.String())
		if err != nil {
			t.Fatal(err)
		}
		var got claims
		if err := idToken.Claims(&got); err != nil {
			t.Fatal(err)
		}
		want := claims{Email: grace.Email, EmailVerified: false, Name: grace.Name}
		if got != want || idToken.Subject != grace.Subject || idToken.Issuer != p.Issuer() {
			t.Errorf("ID token sub %q iss %q claims %+v, want sub %q iss %q claims %+v",
				idToken.Subject, idToken.Issuer, got, grace.Subject, p.Issuer(), want)
		}
		if !slices.Equal(idToken.Audience, []string{batonClient.ID}) {
			t.Errorf("audience %v, want [%s]", idToken.Audience, batonClient.ID)
		}
	})
}

func TestOtherClientSecretPostAndLifetime(t *testing.T) {
	eachProvider(t, func(t *testing.T, p Provider) {
		rp := newRelyingParty(t, p, otherClient)
		f := rp.start()
		callback, err := NewBrowser().SignInUntil(f.authURL, ada, StopAt(otherCallback))
		if err != nil {
			t.Fatal(err)
		}
		idToken, raw, err := rp.finish(t.Context(), f, callback.String())
		if err != nil {
			t.Fatal(err)
		}
		var got claims
		if err := idToken.Claims(&got); err != nil {
			t.Fatal(err)
		}
		if got != (claims{Email: ada.Email, EmailVerified: true, Name: ada.Name}) {
			t.Errorf("claims %+v", got)
		}
		// zitadel reads the clock twice, so the whole seconds may differ by one.
		if life := idToken.Expiry.Sub(idToken.IssuedAt); life < otherClient.IDTokenLifetime-time.Second || life > otherClient.IDTokenLifetime+time.Second {
			t.Errorf("ID token lives %v, want %v", life, otherClient.IDTokenLifetime)
		}
		// The other client's token is not for Baton.
		batonRP := newRelyingParty(t, p, batonClient)
		if _, err := batonRP.provider.Verifier(&oidc.Config{ClientID: batonClient.ID}).Verify(t.Context(), raw); err == nil {
			t.Error("Baton's verifier accepted a token for another audience")
		}
	})
}

func TestPKCEVerifierIsChecked(t *testing.T) {
	eachProvider(t, func(t *testing.T, p Provider) {
		rp := newRelyingParty(t, p, batonClient)
		f := rp.start()
		callback, err := NewBrowser().SignInUntil(f.authURL, ada, StopAt(batonCallback))
		if err != nil {
			t.Fatal(err)
		}
		f.verifier = oauth2.GenerateVerifier()
		if _, _, err := rp.finish(t.Context(), f, callback.String()); err == nil || !strings.Contains(err.Error(), "exchange") {
			t.Fatalf("exchange with the wrong PKCE verifier: %v, want refused", err)
		}
	})
}

func TestWrongPasswordIsRefused(t *testing.T) {
	eachProvider(t, func(t *testing.T, p Provider) {
		f := newRelyingParty(t, p, batonClient).start()
		wrong := ada
		wrong.Password = "difference-engine"
		_, err := NewBrowser().SignInUntil(f.authURL, wrong, StopAt(batonCallback))
		if err == nil || !strings.Contains(err.Error(), "refused") {
			t.Fatalf("sign-in with a wrong password: %v, want refused", err)
		}
	})
}

func TestDenyReturnsAccessDenied(t *testing.T) {
	eachProvider(t, func(t *testing.T, p Provider) {
		f := newRelyingParty(t, p, batonClient).start()
		browser := NewBrowser()
		browser.Logf = t.Logf
		callback, err := browser.Deny(f.authURL, ada, StopAt(batonCallback))
		if err != nil {
			t.Fatal(err)
		}
		q := callback.Query()
		if q.Get("error") != "access_denied" || q.Get("state") != f.state || q.Get("code") != "" {
			t.Fatalf("denied sign-in came back as %s", callback)
		}
	})
}

func TestRotateSignsWithANewKey(t *testing.T) {
	eachProvider(t, func(t *testing.T, p Provider) {
		rp := newRelyingParty(t, p, batonClient)
		browser := NewBrowser()
		signIn := func() string {
			t.Helper()
			f := rp.start()
			callback, err := browser.SignInUntil(f.authURL, ada, StopAt(batonCallback))
			if err != nil {
				t.Fatal(err)
			}
			// The same verifier throughout: go-oidc fetches the JWKS again
			// when a token names a kid it has not seen.
			_, raw, err := rp.finish(t.Context(), f, callback.String())
			if err != nil {
				t.Fatal(err)
			}
			return kidOf(t, raw)
		}
		before := p.KeyID()
		if kid := signIn(); kid != before {
			t.Fatalf("token signed with kid %q, provider says %q", kid, before)
		}
		rotated, err := p.Rotate()
		if err != nil {
			t.Fatal(err)
		}
		if rotated == before || p.KeyID() != rotated {
			t.Fatalf("Rotate gave kid %q (before %q, now %q)", rotated, before, p.KeyID())
		}
		if kid := signIn(); kid != rotated {
			t.Fatalf("after Rotate the token has kid %q, want %q", kid, rotated)
		}
		if published := publishedKids(t, rp.provider); !slices.Equal(published, []string{rotated}) {
			t.Fatalf("JWKS publishes %v, want only [%s]", published, rotated)
		}
	})
}

func TestBrowserGetFollowsToTheEnd(t *testing.T) {
	// Without a stop, the browser goes as far as the flow goes; with one
	// that never matches, it says so.
	p := providers[0]
	resp, err := NewBrowser().Get(p.Issuer() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), p.Issuer()) {
		t.Fatalf("discovery: %d %s", resp.StatusCode, body)
	}
	if _, err := NewBrowser().FollowUntil(p.Issuer()+"/.well-known/openid-configuration", StopAt(batonCallback)); !errors.Is(err, ErrNotStopped) {
		t.Fatalf("FollowUntil past its stop: %v, want ErrNotStopped", err)
	}
}

func TestNodeStopEndsTheProcess(t *testing.T) {
	p := StartNode(t, []Client{batonClient}, nil)
	pid := p.(*node).proc.Pid()
	p.Stop()
	p.Stop() // twice is fine
	if _, err := http.Get(p.Issuer() + "/.well-known/openid-configuration"); err == nil {
		t.Fatal("the provider still answers after Stop")
	}
	if err := processAlive(pid); err == nil {
		t.Fatalf("node process %d still runs after Stop", pid)
	}
}

func kidOf(t *testing.T, raw string) string {
	t.Helper()
	header, _, _ := strings.Cut(raw, ".")
	decoded, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(decoded, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

func publishedKids(t *testing.T, provider *oidc.Provider) []string {
	t.Helper()
	var discovery struct {
		JWKS string `json:"jwks_uri"`
	}
	if err := provider.Claims(&discovery); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(discovery.JWKS)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

func queryOf(raw string) (url.Values, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	return u.Query(), nil
}

// processAlive is nil while the process exists (signal 0 probes it).
func processAlive(pid int) error {
	return syscall.Kill(pid, 0)
}
