package idptest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Form posts (OpenID's response_mode=form_post, LTI's login initiation, its
// launch and its deep-linking return) arrive as a page whose script submits a
// hidden form at once. Navigate plays those pages as a browser with scripts
// on would; it shares Browser's cookies, SameSite rules and form parsing.

// autoSubmit finds a page's self-submitting form: a script or onload that
// calls submit() on it.
var autoSubmit = regexp.MustCompile(`(?i)\.submit\(\s*\)`)

// formByID names the form a script submits with getElementById("x").submit().
var formByID = regexp.MustCompile(`getElementById\(\s*['"]([^'"]+)['"]\s*\)\s*\.submit\(`)

// Navigate requests rawURL as if typed into the address bar, follows every
// redirect and submits every form that submits itself, until a page asks for
// nothing more; it returns that last response, its body already read.
func (b *Browser) Navigate(rawURL string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	_, resp, err := b.navigate(req, nil, nil)
	return resp, err
}

// NavigateUntil is Navigate that stops before the first request (a redirect
// or a self-submitting form) for which stop is true; it returns that request
// unsent, so a test can look at it, tamper with it, or send it with Submit.
func (b *Browser) NavigateUntil(rawURL string, stop func(*url.URL) bool) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	stopped, resp, err := b.navigate(req, nil, stop)
	if err == nil && stopped == nil {
		err = fmt.Errorf("%w: %s answered %d: %.300s", ErrNotStopped, resp.Request.URL, resp.StatusCode, pageText(resp))
	}
	return stopped, err
}

// PostForm submits values to target as a form on a page of another site
// would (a cross-site POST navigation, as a platform's launch is), then goes
// on as Navigate does.
func (b *Browser) PostForm(target string, values url.Values) (*http.Response, error) {
	req, err := formRequest(target, values)
	if err != nil {
		return nil, err
	}
	_, resp, err := b.navigate(req, []string{"cross-site://elsewhere"}, nil)
	return resp, err
}

// Submit sends a request NavigateUntil stopped at (or a tampered copy) as
// the navigation it was: cross-site when that chain was. It goes on as
// Navigate does.
func (b *Browser) Submit(req *http.Request) (*http.Response, error) {
	b.mu.Lock()
	chain := slices.Clone(b.lastChain)
	b.mu.Unlock()
	_, resp, err := b.navigate(req, chain, nil)
	return resp, err
}

func formRequest(target string, values url.Values) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(values.Encode())) // #nosec G704 -- a test browser posts where the test or the page's form says, on loopback
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// Keep the body replayable: Submit may send a stopped request later.
	body := values.Encode()
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
	return req, nil
}

// navigate is Navigate's loop. It returns the request it stopped before, or
// the last response when nothing was left to do.
func (b *Browser) navigate(req *http.Request, chain []string, stop func(*url.URL) bool) (*http.Request, *http.Response, error) {
	for range b.MaxSteps {
		if stop != nil && stop(req.URL) {
			b.mu.Lock()
			b.lastChain = slices.Clone(chain)
			b.mu.Unlock()
			return req, nil, nil
		}
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
			if req, err = http.NewRequest(http.MethodGet, target.String(), nil); err != nil {
				return nil, resp, err
			}
			continue
		}
		next, err := selfSubmitted(resp)
		if err != nil || next == nil {
			return nil, resp, err
		}
		req = next
		chain = []string{site(resp.Request.URL)} // a form starts a new navigation from its page
	}
	return nil, nil, fmt.Errorf("idptest: gave up after %d requests", b.MaxSteps)
}

// selfSubmitted is the request of the page's self-submitting form, or nil
// when the page has none.
func selfSubmitted(resp *http.Response) (*http.Request, error) {
	if !strings.Contains(resp.Header.Get("Content-Type"), "html") {
		return nil, nil
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if !autoSubmit.Match(body) {
		return nil, nil
	}
	forms := parseForms(body)
	if len(forms) == 0 {
		return nil, nil
	}
	chosen := forms[0]
	if m := formByID.FindSubmatch(body); m != nil {
		if f := formWithID(body, string(m[1]), forms); f != nil {
			chosen = f
		}
	}
	s, err := chosen.submit(resp.Request.URL, nil, nil)
	if err != nil {
		return nil, err
	}
	if s.method == http.MethodGet {
		u := *s.target
		u.RawQuery = s.values.Encode()
		return http.NewRequest(http.MethodGet, u.String(), nil) // #nosec G704 -- a test browser goes where the page's form says, on loopback
	}
	return formRequest(s.target.String(), s.values)
}

// formWithID picks, among the parsed forms, the one whose tag carries
// id="want" (parseForms keeps forms in document order, so the n-th <form
// tag is the n-th form).
func formWithID(page []byte, want string, forms []*form) *form {
	tags := regexp.MustCompile(`(?is)<form\b[^>]*>`).FindAll(page, -1)
	id := regexp.MustCompile(`(?i)\bid\s*=\s*["']?` + regexp.QuoteMeta(want) + `["'\s>]`)
	for i, tag := range tags {
		if i < len(forms) && id.Match(tag) {
			return forms[i]
		}
	}
	return nil
}
