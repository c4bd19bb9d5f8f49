package idptest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// zitadel is the certified zitadel/oidc OP, served in-process on a loopback
// httptest server. It keeps the library's example storage (auth requests,
// codes, tokens in memory) and replaces what the example hard-codes: the
// clients, the people and the single signing key.
type zitadel struct {
	server  *httptest.Server
	issuer  string
	storage *zitadelStorage
	stop    sync.Once
}

// NewZitadel starts the zitadel provider; call Stop when done.
func NewZitadel(clients []Client, users []User, opts ...Option) (Provider, error) {
	o, err := collect(opts)
	if err != nil {
		return nil, err
	}
	if err := checkSetup(clients, users); err != nil {
		return nil, err
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(listener.Addr().String())
	issuer := "http://" + net.JoinHostPort(o.host, port)

	people := &zitadelUsers{byID: map[string]*zitadelUser{}}
	for _, u := range users {
		people.add(u)
	}
	registered := map[string]*storage.Client{}
	lifetimes := map[string]time.Duration{}
	for _, c := range clients {
		registered[c.ID] = storage.WebClient(c.ID, c.Secret, c.RedirectURIs...)
		lifetimes[c.ID] = c.IDTokenLifetime
	}
	key, err := newZitadelKey()
	if err != nil {
		_ = listener.Close()
		return nil, err
	}
	st := &zitadelStorage{
		Storage:   storage.NewStorageWithClients(people, registered),
		users:     people,
		lifetimes: lifetimes,
		key:       key,
	}

	cryptoKey := [32]byte{}
	if _, err := rand.Read(cryptoKey[:]); err != nil {
		_ = listener.Close()
		return nil, err
	}
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:          cryptoKey,
		CodeMethodS256:     true,
		AuthMethodPost:     true,
		SupportedUILocales: []language.Tag{language.English},
	}, st, op.StaticIssuer(issuer), op.WithAllowInsecure())
	if err != nil {
		_ = listener.Close()
		return nil, err
	}

	login := &zitadelLogin{storage: st, provider: provider}
	interceptor := op.NewIssuerInterceptor(provider.IssuerFromRequest)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/username", login.show)
	mux.Handle("POST /login/username", interceptor.HandlerFunc(login.check))
	mux.HandleFunc("POST /login/cancel", login.cancel)
	mux.Handle("/", provider)

	server := httptest.NewUnstartedServer(mux)
	_ = server.Listener.Close()
	server.Listener = listener
	server.Start()
	return &zitadel{server: server, issuer: issuer, storage: st}, nil
}

func (z *zitadel) Name() string   { return "zitadel" }
func (z *zitadel) Issuer() string { return z.issuer }

func (z *zitadel) AddUser(u User) error {
	if err := checkUser(u); err != nil {
		return err
	}
	z.storage.users.add(u)
	return nil
}

func (z *zitadel) Rotate() (string, error) {
	key, err := newZitadelKey()
	if err != nil {
		return "", err
	}
	z.storage.mu.Lock()
	z.storage.key = key
	z.storage.mu.Unlock()
	return key.id, nil
}

func (z *zitadel) KeyID() string {
	z.storage.mu.Lock()
	defer z.storage.mu.Unlock()
	return z.storage.key.id
}

func (z *zitadel) Stop() {
	z.stop.Do(func() {
		z.server.CloseClientConnections()
		z.server.Close()
	})
}

// zitadelStorage is the example's in-memory op.Storage with our signing key,
// our clients' settings and our people's names.
type zitadelStorage struct {
	*storage.Storage
	users     *zitadelUsers
	lifetimes map[string]time.Duration

	mu  sync.Mutex
	key *zitadelKey
}

func (s *zitadelStorage) SigningKey(context.Context) (op.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.key, nil
}

func (s *zitadelStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *zitadelStorage) KeySet(context.Context) ([]op.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return []op.Key{zitadelPublicKey{s.key}}, nil
}

func (s *zitadelStorage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, clientID)
	if err != nil {
		return nil, err
	}
	return zitadelClient{Client: c, idTokenLifetime: s.lifetimes[clientID]}, nil
}

// SetUserinfoFromRequest fills the ID token's claims.
func (s *zitadelStorage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, token op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, info, token, scopes); err != nil {
		return err
	}
	s.fixName(info, token.GetSubject(), scopes)
	return nil
}

// SetUserinfoFromToken fills the userinfo endpoint's answer.
func (s *zitadelStorage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, info, tokenID, subject, origin); err != nil {
		return err
	}
	s.fixName(info, info.Subject, []string{oidc.ScopeProfile})
	return nil
}

// fixName gives "name" exactly as the test set it: the example builds it
// from first and last name.
func (s *zitadelStorage) fixName(info *oidc.UserInfo, subject string, scopes []string) {
	if !slices.Contains(scopes, oidc.ScopeProfile) {
		return
	}
	if u := s.users.GetUserByID(subject); u != nil {
		info.Name = s.users.name(subject)
	}
}

// zitadelClient is the example's web client (basic or post secret, code
// flow, http redirect URIs allowed) that also puts the email and profile
// claims into the ID token, where Baton reads them.
type zitadelClient struct {
	op.Client
	idTokenLifetime time.Duration
}

func (c zitadelClient) IDTokenUserinfoClaimsAssertion() bool { return true }

func (c zitadelClient) IDTokenLifetime() time.Duration {
	if c.idTokenLifetime > 0 {
		return c.idTokenLifetime
	}
	return time.Hour
}

type zitadelKey struct {
	id  string
	key *rsa.PrivateKey
}

func newZitadelKey() (*zitadelKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	return &zitadelKey{id: "zitadel-" + randomToken(8), key: key}, nil
}

func (k *zitadelKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *zitadelKey) Key() any                                    { return k.key }
func (k *zitadelKey) ID() string                                  { return k.id }

type zitadelPublicKey struct{ k *zitadelKey }

func (p zitadelPublicKey) ID() string                         { return p.k.id }
func (p zitadelPublicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (p zitadelPublicKey) Use() string                        { return "sig" }
func (p zitadelPublicKey) Key() any                           { return &p.k.key.PublicKey }

// zitadelUsers is the example storage's UserStore, filled by the test; the
// username on the login form is the email address.
type zitadelUsers struct {
	mu   sync.RWMutex
	byID map[string]*zitadelUser
}

type zitadelUser struct {
	user storage.User
	name string
}

func (s *zitadelUsers) add(u User) {
	first, last, _ := strings.Cut(u.Name, " ")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byID[u.Subject] = &zitadelUser{name: u.Name, user: storage.User{
		ID:                u.Subject,
		Username:          u.Email,
		Password:          u.Password,
		FirstName:         first,
		LastName:          last,
		Email:             u.Email,
		EmailVerified:     u.EmailVerified,
		PreferredLanguage: language.English,
	}}
}

func (s *zitadelUsers) GetUserByID(id string) *storage.User {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if u, ok := s.byID[id]; ok {
		copied := u.user
		return &copied
	}
	return nil
}

func (s *zitadelUsers) GetUserByUsername(username string) *storage.User {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, u := range s.byID {
		if sameEmail(u.user.Username, username) {
			copied := u.user
			return &copied
		}
	}
	return nil
}

func (s *zitadelUsers) name(id string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if u, ok := s.byID[id]; ok {
		return u.name
	}
	return ""
}

// ExampleClientID names the example's JWT-profile service account, which
// these tests do not use.
func (s *zitadelUsers) ExampleClientID() string { return storage.ServiceUserID }

// zitadelLogin is the provider's sign-in page: email and password, and a
// Cancel button that sends the person back with error=access_denied.
type zitadelLogin struct {
	storage  *zitadelStorage
	provider *op.Provider
}

var zitadelLoginPage = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>
<body><main><h1>Sign in</h1>
{{if .Error}}<p role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/login/username">
<input type="hidden" name="id" value="{{.ID}}">
<label for="username">Email</label> <input id="username" name="username" autocomplete="username">
<label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password">
<button type="submit">Sign in</button>
</form>
<form method="post" action="/login/cancel">
<input type="hidden" name="id" value="{{.ID}}">
<button type="submit">Cancel</button>
</form>
</main></body></html>`))

func (l *zitadelLogin) render(w http.ResponseWriter, id, problem string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := zitadelLoginPage.Execute(w, struct{ ID, Error string }{id, problem}); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

func (l *zitadelLogin) show(w http.ResponseWriter, r *http.Request) {
	l.render(w, r.URL.Query().Get("authRequestID"), "")
}

func (l *zitadelLogin) check(w http.ResponseWriter, r *http.Request) {
	id := r.PostFormValue("id")
	if err := l.storage.CheckUsernamePassword(r.PostFormValue("username"), r.PostFormValue("password"), id); err != nil {
		l.render(w, id, "Wrong email or password.")
		return
	}
	http.Redirect(w, r, op.AuthCallbackURL(l.provider)(r.Context(), id), http.StatusFound)
}

func (l *zitadelLogin) cancel(w http.ResponseWriter, r *http.Request) {
	id := r.PostFormValue("id")
	request, err := l.storage.AuthRequestByID(r.Context(), id)
	if err != nil {
		http.Error(w, fmt.Sprintf("no such sign-in: %v", err), http.StatusBadRequest)
		return
	}
	_ = l.storage.DeleteAuthRequest(r.Context(), id)
	op.AuthRequestError(w, r, request, oidc.ErrAccessDenied().WithDescription("the person denied the request"), l.provider)
}
