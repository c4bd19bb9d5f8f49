package idptest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"
)

// User is a person the provider knows. They sign in with Email and Password;
// the ID token carries Subject as "sub" and Email, EmailVerified and Name as
// "email", "email_verified" and "name".
type User struct {
	Subject       string
	Email         string
	Name          string
	Password      string
	EmailVerified bool
}

// Client is a relying party registered at the provider before it starts.
type Client struct {
	ID           string
	Secret       string
	RedirectURIs []string
	// AuthMethod is how the client authenticates at the token endpoint:
	// AuthSecretBasic (the default) or AuthSecretPost. oidc-provider accepts
	// only the registered method; zitadel accepts both.
	AuthMethod string
	// IDTokenLifetime is how long ID tokens stay valid; zero means one hour.
	// oidc-provider counts whole seconds.
	IDTokenLifetime time.Duration
}

// Token endpoint authentication methods (RFC 7591 names).
const (
	AuthSecretBasic = "client_secret_basic"
	AuthSecretPost  = "client_secret_post"
)

// Provider is a running OpenID provider on a loopback port.
type Provider interface {
	// Name says which implementation this is: "zitadel" or "oidc-provider".
	Name() string
	// Issuer is the provider's issuer URL; discovery is at
	// Issuer()+"/.well-known/openid-configuration".
	Issuer() string
	// AddUser adds a person, or replaces the one with the same Subject.
	AddUser(User) error
	// Rotate makes the provider sign with a fresh key from now on and
	// publish only that key, and returns its key ID ("kid").
	Rotate() (string, error)
	// KeyID is the "kid" of the key the provider signs with now.
	KeyID() string
	// Stop shuts the provider down; it is safe to call more than once.
	Stop()
}

// Option changes how a provider starts.
type Option func(*options)

type options struct{ host string }

// OnHost names the loopback host in the issuer URL: "localhost" (the
// default) or "127.0.0.1". Either way the provider listens on 127.0.0.1.
// With Baton on 127.0.0.1 and the provider on localhost the two are
// different sites, as a company's provider and Baton are, so cookies and
// SameSite rules apply as they would in production.
func OnHost(host string) Option {
	return func(o *options) { o.host = host }
}

func collect(opts []Option) (options, error) {
	o := options{host: "localhost"}
	for _, opt := range opts {
		opt(&o)
	}
	if o.host != "localhost" && o.host != "127.0.0.1" {
		return o, fmt.Errorf("idptest: host %q is not a loopback name", o.host)
	}
	return o, nil
}

// StartZitadel starts the zitadel provider for one test and stops it when
// the test ends.
func StartZitadel(t testing.TB, clients []Client, users []User, opts ...Option) Provider {
	t.Helper()
	p, err := NewZitadel(clients, users, opts...)
	if err != nil {
		t.Fatalf("idptest: start zitadel: %v", err)
	}
	t.Cleanup(p.Stop)
	return p
}

// StartNode starts the oidc-provider (Node.js) provider for one test and
// stops it when the test ends.
func StartNode(t testing.TB, clients []Client, users []User, opts ...Option) Provider {
	t.Helper()
	p, err := NewNode(clients, users, opts...)
	if err != nil {
		t.Fatalf("idptest: start oidc-provider: %v", err)
	}
	t.Cleanup(p.Stop)
	return p
}

func checkSetup(clients []Client, users []User) error {
	if len(clients) == 0 {
		return fmt.Errorf("at least one client is needed")
	}
	for _, c := range clients {
		if c.ID == "" || c.Secret == "" || len(c.RedirectURIs) == 0 {
			return fmt.Errorf("client %q needs an ID, a secret and a redirect URI", c.ID)
		}
		if c.AuthMethod != "" && c.AuthMethod != AuthSecretBasic && c.AuthMethod != AuthSecretPost {
			return fmt.Errorf("client %q: unknown auth method %q", c.ID, c.AuthMethod)
		}
	}
	for _, u := range users {
		if err := checkUser(u); err != nil {
			return err
		}
	}
	return nil
}

func checkUser(u User) error {
	if u.Subject == "" || u.Email == "" || u.Password == "" {
		return fmt.Errorf("user %q needs a subject, an email and a password", u.Email)
	}
	return nil
}

// randomToken returns n random bytes as hex.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return hex.EncodeToString(b)
}

func sameEmail(a, b string) bool { return strings.EqualFold(a, b) }
