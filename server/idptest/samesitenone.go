package idptest

import "net/http"

// acceptable drops the cookies Chromium refuses to store when
// RequireSecureNone is set: SameSite=None without Secure.
func (b *Browser) acceptable(set []*http.Cookie) []*http.Cookie {
	if !b.RequireSecureNone {
		return set
	}
	var kept []*http.Cookie
	for _, c := range set {
		if c.SameSite == http.SameSiteNoneMode && !c.Secure {
			continue
		}
		kept = append(kept, c)
	}
	return kept
}
