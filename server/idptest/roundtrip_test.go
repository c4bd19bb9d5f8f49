package idptest

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// miniRP is the smallest relying party that does what Baton must: a state
// cookie, PKCE and nonce kept server-side, the code exchanged and the ID
// token verified at the callback.
type miniRP struct {
	server     *httptest.Server
	rp         *relyingParty
	cookieMode http.SameSite

	mu      sync.Mutex
	pending map[string]flow
}

func (m *miniRP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/login":
		f := m.rp.start()
		m.mu.Lock()
		m.pending[f.state] = f
		m.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "rp_state", Value: f.state, Path: "/", HttpOnly: true, SameSite: m.cookieMode})
		http.Redirect(w, r, f.authURL, http.StatusFound)
	case "/callback":
		cookie, err := r.Cookie("rp_state")
		if err != nil || cookie.Value != r.URL.Query().Get("state") {
			http.Error(w, "state cookie missing or different", http.StatusBadRequest)
			return
		}
		m.mu.Lock()
		f, ok := m.pending[cookie.Value]
		delete(m.pending, cookie.Value)
		m.mu.Unlock()
		if !ok {
			http.Error(w, "unknown state", http.StatusBadRequest)
			return
		}
		idToken, _, err := m.rp.finish(r.Context(), f, r.URL.String())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var c claims
		_ = idToken.Claims(&c)
		_, _ = fmt.Fprintf(w, "hello %s", c.Email)
	}
}

// startMiniRP starts the relying party on 127.0.0.1 and p on localhost, as
// Baton and a company's provider are different sites.
func startMiniRP(t *testing.T, start func(testing.TB, []Client, []User, ...Option) Provider, mode http.SameSite) (*miniRP, Provider) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &miniRP{cookieMode: mode, pending: map[string]flow{}}
	m.server = httptest.NewUnstartedServer(m)
	_ = m.server.Listener.Close()
	m.server.Listener = listener
	m.server.Start()
	t.Cleanup(m.server.Close)
	client := Client{ID: "mini", Secret: "mini-secret-0123456789abcdef", RedirectURIs: []string{m.server.URL + "/callback"}}
	p := start(t, []Client{client}, []User{ada})
	provider, err := oidc.NewProvider(t.Context(), p.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	m.rp = &relyingParty{provider: provider, config: oauth2.Config{
		ClientID: client.ID, ClientSecret: client.Secret, Endpoint: provider.Endpoint(), RedirectURL: client.RedirectURIs[0],
		Scopes: []string{oidc.ScopeOpenID, "email", "profile"},
	}}
	return m, p
}

var starters = map[string]func(testing.TB, []Client, []User, ...Option) Provider{
	"zitadel": StartZitadel, "oidc-provider": StartNode,
}

func TestSignInThroughARelyingParty(t *testing.T) {
	for name, start := range starters {
		t.Run(name, func(t *testing.T) {
			m, _ := startMiniRP(t, start, http.SameSiteLaxMode)
			resp, err := NewBrowser().SignIn(m.server.URL+"/login", ada)
			if err != nil {
				t.Fatal(err)
			}
			if body, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusOK || string(body) != "hello "+ada.Email {
				t.Fatalf("relying party answered %d %q", resp.StatusCode, body)
			}

			// Stopped at the callback, tampered and delivered: refused.
			b := NewBrowser()
			callback, err := b.SignInUntil(m.server.URL+"/login", ada, StopAt(m.server.URL+"/callback"))
			if err != nil {
				t.Fatal(err)
			}
			q := callback.Query()
			q.Set("state", q.Get("state")+"x")
			callback.RawQuery = q.Encode()
			resp, err = b.Continue(callback)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("tampered state: %d, want 400", resp.StatusCode)
			}
		})
	}
}

// A relying party whose state cookie is SameSite=Strict fails in real
// browsers, because the callback arrives from the provider's site; the
// browser here fails it too.
func TestStrictStateCookieDoesNotComeBack(t *testing.T) {
	m, _ := startMiniRP(t, StartZitadel, http.SameSiteStrictMode)
	resp, err := NewBrowser().SignIn(m.server.URL+"/login", ada)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "state cookie") {
		t.Fatalf("Strict state cookie: %d %q, want the cookie missing", resp.StatusCode, body)
	}
}

func TestOnHost(t *testing.T) {
	for name, start := range starters {
		t.Run(name, func(t *testing.T) {
			p := start(t, []Client{batonClient}, nil, OnHost("127.0.0.1"))
			if !strings.HasPrefix(p.Issuer(), "http://127.0.0.1:") {
				t.Fatalf("issuer %s, want it on 127.0.0.1", p.Issuer())
			}
			if _, err := oidc.NewProvider(t.Context(), p.Issuer()); err != nil {
				t.Fatal(err)
			}
		})
	}
	if _, err := NewZitadel([]Client{batonClient}, nil, OnHost("example.com")); err == nil {
		t.Fatal("a non-loopback host was accepted")
	}
}
