package idptest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/html"
)

// Browser follows a sign-in as a person's browser would: it keeps cookies
// per host (shared across ports, as browsers do) and sends them by their
// SameSite attribute, follows redirects from host to host, and fills in and
// submits the provider's HTML forms. It can stop just before a chosen
// redirect, so a test can look at or tamper with the URL (say, Baton's
// callback) before delivering it with Continue.
//
// SameSite as Chromium applies it to top-level navigations: a request is
// cross-site when the page that started the navigation or any URL on its
// redirect chain has another scheme or host name than the request (ports do
// not count); Strict cookies go only with same-site requests, Lax ones (and
// those without the attribute) also with cross-site GETs, None always. A URL
// given to Get, SignIn or FollowUntil counts as typed into the address bar.
type Browser struct {
	// HTTP does the requests. Its Jar is not used: Browser keeps cookies
	// itself to apply SameSite. Its CheckRedirect leaves redirects to Browser.
	HTTP *http.Client
	// MaxSteps bounds the requests one call makes (redirects and forms).
	MaxSteps int
	// Logf, when set (to t.Logf, say), gets one line per request.
	Logf func(format string, args ...any)
	// RequireSecureNone refuses a SameSite=None cookie without Secure, as
	// Chromium does. (Secure cookies work over loopback http either way:
	// Go's cookie jar, like Chromium, counts localhost and loopback
	// addresses as secure.)
	RequireSecureNone bool

	mu        sync.Mutex
	jar       *cookiejar.Jar
	sameSite  map[string]http.SameSite // by host and cookie name
	lastChain []string                 // the sites of the redirect a stop cut short
}

// NewBrowser returns a browser with no cookies.
func NewBrowser() *Browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		panic(err) // cookiejar.New fails only on a bad public-suffix list, and we pass none
	}
	return &Browser{
		HTTP: &http.Client{
			Timeout:       15 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		MaxSteps: 30,
		jar:      jar,
		sameSite: map[string]http.SameSite{},
	}
}

// Cookies are the cookies the browser holds for rawURL, whatever their
// SameSite (names and values only, as a cookie jar gives them).
func (b *Browser) Cookies(rawURL string) []*http.Cookie {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.jar.Cookies(u)
}

// StopAt is a stop function for the redirect whose scheme, host and path are
// those of target (a redirect URI, say), whatever its query.
func StopAt(target string) func(*url.URL) bool {
	want, err := url.Parse(target)
	return func(u *url.URL) bool {
		return err == nil && u.Scheme == want.Scheme && u.Host == want.Host && u.Path == want.Path
	}
}

// ErrNotStopped says the flow ended on a page before any redirect matched the
// stop function.
var ErrNotStopped = errors.New("idptest: the flow ended before the stop URL")

// Get requests rawURL as if typed into the address bar and follows every
// redirect; it returns the last response, whose body is already read
// (closing it is optional).
func (b *Browser) Get(rawURL string) (*http.Response, error) {
	_, resp, err := b.run(rawURL, nil, nil, nil)
	return resp, err
}

// Continue delivers target, the URL a stop cut short (or a tampered copy),
// as the redirect it was: cross-site if that redirect chain was, so the
// receiver sees the cookies a browser would send. It follows every redirect
// and returns the last response.
func (b *Browser) Continue(target *url.URL) (*http.Response, error) {
	b.mu.Lock()
	chain := slices.Clone(b.lastChain)
	b.mu.Unlock()
	_, resp, err := b.run(target.String(), chain, nil, nil)
	return resp, err
}

// Fetch sends req as a script on a page of req's own site would (the app
// calling its API after landing): same-site, with the cookies that allows,
// no redirects followed.
func (b *Browser) Fetch(req *http.Request) (*http.Response, error) { return b.do(req, nil) }

// ContinueUntil is Continue that stops at the first redirect for which
// stop is true and returns its URL, unrequested.
func (b *Browser) ContinueUntil(target *url.URL, stop func(*url.URL) bool) (*url.URL, error) {
	b.mu.Lock()
	chain := slices.Clone(b.lastChain)
	b.mu.Unlock()
	u, _, err := b.run(target.String(), chain, stop, nil)
	return u, err
}

// FollowUntil requests rawURL and follows redirects until one goes to a URL
// for which stop is true; it returns that URL without requesting it.
func (b *Browser) FollowUntil(rawURL string, stop func(*url.URL) bool) (*url.URL, error) {
	u, _, err := b.run(rawURL, nil, stop, nil)
	return u, err
}

// SignIn starts at startURL (Baton's login URL or the provider's
// authorization URL), signs in as user, allows access when asked, and
// follows everything to the end; it returns the last response.
func (b *Browser) SignIn(startURL string, user User) (*http.Response, error) {
	_, resp, err := b.run(startURL, nil, nil, &signIn{user: user})
	return resp, err
}

// SignInUntil is SignIn that stops at the first redirect for which stop is
// true and returns its URL, unrequested; Continue delivers it.
func (b *Browser) SignInUntil(startURL string, user User, stop func(*url.URL) bool) (*url.URL, error) {
	u, _, err := b.run(startURL, nil, stop, &signIn{user: user})
	return u, err
}

// Deny starts at startURL, signs in as user where the provider asks for it
// before offering a choice, then presses the provider's Deny or Cancel
// button, and stops at the first redirect for which stop is true (which
// should carry error=access_denied).
func (b *Browser) Deny(startURL string, user User, stop func(*url.URL) bool) (*url.URL, error) {
	u, _, err := b.run(startURL, nil, stop, &signIn{user: user, deny: true})
	return u, err
}

type signIn struct {
	user   User
	deny   bool
	logins int
}

var (
	allowButton = regexp.MustCompile(`(?i)^\s*(allow|accept|authori[sz]e|continue|confirm|yes)\b`)
	denyButton  = regexp.MustCompile(`(?i)^\s*(deny|cancel|abort|reject|decline|no)\b`)
)

// run is the browser's loop: request, then follow a redirect or act on the
// page, until stop matches, nothing is left to do, or MaxSteps runs out.
// chain holds the sites of the navigation so far (empty for a typed URL).
func (b *Browser) run(rawURL string, chain []string, stop func(*url.URL) bool, person *signIn) (*url.URL, *http.Response, error) {
	next, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, err
	}
	req, err := http.NewRequest(http.MethodGet, next.String(), nil)
	if err != nil {
		return nil, nil, err
	}
	for range b.MaxSteps {
		resp, err := b.do(req, chain)
		if err != nil {
			return nil, nil, err
		}
		chain = append(chain, site(req.URL))
		if location := resp.Header.Get("Location"); location != "" && resp.StatusCode >= 300 && resp.StatusCode < 400 {
			target, err := resp.Request.URL.Parse(location)
			if err != nil {
				return nil, resp, fmt.Errorf("idptest: bad redirect %q: %w", location, err)
			}
			if stop != nil && stop(target) {
				b.mu.Lock()
				b.lastChain = slices.Clone(chain)
				b.mu.Unlock()
				return target, resp, nil
			}
			if req, err = http.NewRequest(http.MethodGet, target.String(), nil); err != nil {
				return nil, resp, err
			}
			continue
		}
		form, err := nextForm(resp, person)
		if err != nil {
			return nil, resp, err
		}
		if form == nil {
			if stop != nil {
				return nil, resp, fmt.Errorf("%w: %s answered %d: %.300s", ErrNotStopped, resp.Request.URL, resp.StatusCode, pageText(resp))
			}
			return resp.Request.URL, resp, nil
		}
		if req, err = form.request(); err != nil {
			return nil, resp, err
		}
		chain = []string{site(resp.Request.URL)} // a form starts a new navigation from its page
	}
	return nil, nil, fmt.Errorf("idptest: gave up after %d requests", b.MaxSteps)
}

// do sends req with the cookies SameSite allows after chain, stores the
// cookies the answer sets, and reads the whole body, so callers need not
// close it.
func (b *Browser) do(req *http.Request, chain []string) (*http.Response, error) {
	crossSite := slices.ContainsFunc(chain, func(s string) bool { return s != site(req.URL) })
	b.mu.Lock()
	for _, c := range b.jar.Cookies(req.URL) {
		switch b.sameSite[req.URL.Hostname()+" "+c.Name] {
		case http.SameSiteStrictMode:
			if crossSite {
				continue
			}
		case http.SameSiteNoneMode:
		default: // Lax, and Lax by default as browsers do
			if crossSite && req.Method != http.MethodGet {
				continue
			}
		}
		req.AddCookie(c)
	}
	b.mu.Unlock()

	resp, err := b.HTTP.Do(req) // #nosec G704 -- a test browser: it requests what the test tells it to, on loopback
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if b.Logf != nil {
		b.Logf("browser: %s %s (cross-site %v) -> %d %s", req.Method, req.URL, crossSite, resp.StatusCode, resp.Header.Get("Location"))
	}
	if set := b.acceptable(resp.Cookies()); len(set) > 0 {
		b.mu.Lock()
		for _, c := range set {
			b.sameSite[req.URL.Hostname()+" "+c.Name] = c.SameSite
		}
		b.jar.SetCookies(req.URL, set)
		b.mu.Unlock()
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// site is what SameSite compares: scheme and host name, not port. (Real
// browsers compare registrable domains; on loopback the host name is it.)
func site(u *url.URL) string {
	return u.Scheme + "://" + strings.ToLower(u.Hostname())
}

// nextForm decides what a person signing in does on this page: fill in the
// login form, press Allow, or press Deny. Nil means there is nothing to do.
func nextForm(resp *http.Response, person *signIn) (*submission, error) {
	if person == nil || !strings.Contains(resp.Header.Get("Content-Type"), "html") {
		return nil, nil
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	forms := parseForms(body)
	if person.deny {
		for _, f := range forms {
			if button := f.button(denyButton); button != nil {
				return f.submit(resp.Request.URL, button, nil)
			}
		}
	}
	for _, f := range forms {
		if f.hasPassword() {
			if person.logins > 0 {
				return nil, fmt.Errorf("idptest: the provider refused %s's password: %.300s", person.user.Email, pageText(resp))
			}
			person.logins++
			return f.submit(resp.Request.URL, f.firstSubmit(), func(in input) (string, bool) {
				switch {
				case in.kind == "password":
					return person.user.Password, true
				case in.kind == "text" || in.kind == "email" || in.kind == "":
					return person.user.Email, true
				}
				return "", false
			})
		}
	}
	if !person.deny {
		for _, f := range forms {
			if button := f.button(allowButton); button != nil {
				return f.submit(resp.Request.URL, button, nil)
			}
		}
	}
	return nil, nil
}

type input struct{ name, kind, value string }

type button struct{ name, value, text string }

type form struct {
	action, method string
	inputs         []input
	buttons        []button
}

func (f *form) hasPassword() bool {
	for _, in := range f.inputs {
		if in.kind == "password" {
			return true
		}
	}
	return false
}

func (f *form) button(label *regexp.Regexp) *button {
	for i, b := range f.buttons {
		if label.MatchString(b.text) || label.MatchString(b.value) {
			return &f.buttons[i]
		}
	}
	return nil
}

func (f *form) firstSubmit() *button {
	if len(f.buttons) == 0 {
		return nil
	}
	return &f.buttons[0]
}

type submission struct {
	method string
	target *url.URL
	values url.Values
}

// submit builds what the browser sends for the form: its fields (fill may
// supply values) and the pressed button's name and value.
func (f *form) submit(page *url.URL, pressed *button, fill func(input) (string, bool)) (*submission, error) {
	target, err := page.Parse(f.action)
	if err != nil {
		return nil, fmt.Errorf("idptest: bad form action %q: %w", f.action, err)
	}
	values := url.Values{}
	for _, in := range f.inputs {
		if in.name == "" || in.kind == "submit" || in.kind == "button" {
			continue
		}
		value := in.value
		if fill != nil {
			if v, ok := fill(in); ok {
				value = v
			}
		}
		values.Add(in.name, value)
	}
	if pressed != nil && pressed.name != "" {
		values.Add(pressed.name, pressed.value)
	}
	return &submission{method: f.method, target: target, values: values}, nil
}

func (s *submission) request() (*http.Request, error) {
	if s.method == http.MethodGet {
		u := *s.target
		u.RawQuery = s.values.Encode()
		return http.NewRequest(http.MethodGet, u.String(), nil)
	}
	req, err := http.NewRequest(http.MethodPost, s.target.String(), strings.NewReader(s.values.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}

// parseForms lists the page's forms with their inputs and submit buttons.
func parseForms(page []byte) []*form {
	root, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return nil
	}
	var forms []*form
	var walk func(n *html.Node, current *form)
	walk = func(n *html.Node, current *form) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "form":
				method := strings.ToUpper(attr(n, "method"))
				if method != http.MethodPost {
					method = http.MethodGet
				}
				current = &form{action: attr(n, "action"), method: method}
				forms = append(forms, current)
			case "input":
				if current != nil {
					kind := strings.ToLower(attr(n, "type"))
					if kind == "submit" {
						current.buttons = append(current.buttons, button{name: attr(n, "name"), value: attr(n, "value"), text: attr(n, "value")})
					} else {
						current.inputs = append(current.inputs, input{name: attr(n, "name"), kind: kind, value: attr(n, "value")})
					}
				}
			case "button":
				if current != nil && strings.ToLower(attr(n, "type")) != "button" {
					current.buttons = append(current.buttons, button{name: attr(n, "name"), value: attr(n, "value"), text: textOf(n)})
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, current)
		}
	}
	walk(root, nil)
	return forms
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.TrimSpace(b.String())
}

// pageText is a page's visible text, for error messages.
func pageText(resp *http.Response) string {
	body, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	root, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return string(body)
	}
	return strings.Join(strings.Fields(textOf(root)), " ")
}
