package sso

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/baton-course/baton/server/idptest"
	"github.com/baton-course/baton/server/opaque"
)

// The web tests drive the whole flow; these hand Baton's ID-token check
// real tokens a provider signed that a genuine flow could never deliver to
// Baton: one issued to another application, one from another provider.

const secret = "sso-unit-test-secret-0123456789ab"

// tokenFor runs a code flow for client at p as person and returns the raw
// ID token and its nonce.
func tokenFor(t *testing.T, p idptest.Provider, client idptest.Client, person idptest.User) (string, string) {
	t.Helper()
	provider, err := oidc.NewProvider(t.Context(), p.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	cfg := oauth2.Config{ClientID: client.ID, ClientSecret: client.Secret, Endpoint: provider.Endpoint(),
		RedirectURL: client.RedirectURIs[0], Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
	nonce, verifier := opaque.New(), oauth2.GenerateVerifier()
	cb, err := idptest.NewBrowser().SignInUntil(cfg.AuthCodeURL("st", oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)),
		person, idptest.StopAt(client.RedirectURIs[0]))
	if err != nil {
		t.Fatal(err)
	}
	q, _ := url.ParseQuery(cb.RawQuery)
	tok, err := cfg.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	return raw, nonce
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	f, ok := errors.AsType[*Failure](err)
	if !ok || f.Code != code {
		t.Fatalf("got %v, want a %s failure", err, code)
	}
}

func TestIDTokenChecks(t *testing.T) {
	cb := "http://127.0.0.1:9/api/auth/oidc/callback"
	baton := idptest.Client{ID: "baton", Secret: secret, RedirectURIs: []string{cb}}
	other := idptest.Client{ID: "other-app", Secret: secret, RedirectURIs: []string{cb}}
	ada := idptest.User{Subject: "ada", Email: "ada@acme.example", Name: "Ada", Password: "pw-ada-0123", EmailVerified: true}
	a := idptest.StartNode(t, []idptest.Client{baton, other}, []idptest.User{ada})
	b := idptest.StartZitadel(t, []idptest.Client{baton, other}, []idptest.User{ada})

	var clock time.Duration
	s := New(Config{Issuer: a.Issuer(), ClientID: "baton", ClientSecret: secret, PublicURL: "http://127.0.0.1:9",
		Now: func() time.Time { return time.Now().Add(clock) }}, nil, nil, nil)
	d, err := s.discover()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	raw, nonce := tokenFor(t, a, baton, ada)
	if id, err := s.verify(ctx, d, raw, nonce); err != nil || id.Email != ada.Email || !id.EmailVerified || id.Subject != "ada" {
		t.Fatalf("Baton's own token: %+v, %v", id, err)
	}
	t.Run("another audience", func(t *testing.T) {
		raw, nonce := tokenFor(t, a, other, ada)
		_, err := s.verify(ctx, d, raw, nonce)
		wantCode(t, err, FailToken)
	})
	t.Run("another provider", func(t *testing.T) {
		raw, nonce := tokenFor(t, b, baton, ada)
		_, err := s.verify(ctx, d, raw, nonce)
		wantCode(t, err, FailToken)
	})
	t.Run("wrong nonce", func(t *testing.T) {
		_, err := s.verify(ctx, d, raw, "another-sign-in's-nonce")
		wantCode(t, err, FailToken)
	})
	t.Run("expired", func(t *testing.T) {
		clock = 2 * time.Hour
		defer func() { clock = 0 }()
		_, err := s.verify(ctx, d, raw, nonce)
		wantCode(t, err, FailExpired)
	})
	t.Run("tampered signature", func(t *testing.T) {
		_, err := s.verify(ctx, d, raw[:len(raw)-4]+"AAAA", nonce)
		wantCode(t, err, FailToken)
	})
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/modules/x?y=1": "/modules/x?y=1", "": "/", "//evil.example": "/", "https://evil.example/": "/",
		"/\\evil.example": "/", "/api/auth/logout": "/", "modules": "/", "/ok\r\nSet-Cookie: x": "/",
		"/./api/auth/logout": "/", "/%2e%2e/api/x": "/", "/modules/../api/me": "/", "/apiary": "/apiary",
	} {
		if got := SafeNext(in); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
