package lti

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"
	"unicode/utf8"
)

// Baton calls the URLs a platform names: its registered endpoints, and the
// service URLs (line items, scores, rosters, the pages after them) that its
// signed launches carry. A registered platform gone bad, or one whose key
// leaked, must not turn those calls against Baton's own network: so the
// client follows no redirects and dials no loopback address (unless Baton
// itself runs on loopback, as in development and the tests), no link-local
// one (the cloud metadata service lives at 169.254.169.254) and no
// unspecified or multicast one. Private ranges stay allowed: a company's
// Moodle often lives on its own network, beside Baton.

var errRefusedAddress = errors.New("refused: Baton does not call loopback, link-local, unspecified or multicast addresses for a platform")

// outboundClient is the HTTP client for platforms.
func outboundClient(allowLoopback bool) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		if ip := net.ParseIP(host); ip == nil || refusedIP(ip, allowLoopback) {
			return fmt.Errorf("%w (%s)", errRefusedAddress, address)
		}
		return nil
	}}
	return &http.Client{
		Timeout: 15 * time.Second,
		Transport: &http.Transport{DialContext: dialer.DialContext, TLSHandshakeTimeout: 5 * time.Second,
			ResponseHeaderTimeout: 10 * time.Second, MaxIdleConnsPerHost: 4},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return errors.New("a platform's redirect is not followed")
		},
	}
}

// refusedIP is an address a platform call must not reach (dialed after DNS,
// so a name that resolves there is refused too).
func refusedIP(ip net.IP, allowLoopback bool) bool {
	return ip.IsUnspecified() || ip.IsMulticast() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		(ip.IsLoopback() && !allowLoopback)
}

// serviceURLProblem says what is wrong with a URL a launch carries for
// Baton to call or send the browser to (line items, rosters, the deep
// linking return), or "": https, or http on loopback.
func serviceURLProblem(raw string) string {
	if raw == "" {
		return ""
	}
	return endpointProblem(raw, false)
}

// unreadable reports text PostgreSQL cannot store or no platform means:
// invalid UTF-8 or a NUL.
func unreadable(values ...string) bool {
	for _, v := range values {
		if !utf8.ValidString(v) {
			return true
		}
		for i := range len(v) {
			if v[i] == 0 {
				return true
			}
		}
	}
	return false
}

// publicOnLoopback: Baton itself is served on loopback (development, the
// tests), where platforms on loopback are expected.
func publicOnLoopback(publicURL string) bool {
	u, err := url.Parse(publicURL)
	return err == nil && loopback(u.Hostname())
}
