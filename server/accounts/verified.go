package accounts

import (
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// verifiedTokens remembers access tokens this instance has already verified,
// so a request with a token seen before costs a map lookup instead of a
// signature check and a JSON decode of the claims: the largest CPU cost of a
// cheap read. The key is the whole token, so only the exact bytes that passed
// verification match; an entry counts only until the token expires and only
// while its signing key is still in the ring.
type verifiedTokens struct {
	mu      sync.RWMutex
	byToken map[string]verifiedToken
}

type verifiedToken struct {
	claims  *Claims
	kid     string
	expires time.Time
}

// maxVerifiedTokens bounds the memory the cache takes (well under 1 KB an
// entry); beyond it, tokens are simply verified again.
const maxVerifiedTokens = 10000

// get returns a copy of the claims of a remembered, unexpired token whose
// key is still known.
func (v *verifiedTokens) get(raw string, now time.Time, keyKnown func(kid string) bool) (*Claims, bool) {
	v.mu.RLock()
	e, ok := v.byToken[raw]
	v.mu.RUnlock()
	if !ok || !now.Before(e.expires) || !keyKnown(e.kid) {
		return nil, false
	}
	return cloneClaims(e.claims), true
}

// cloneClaims copies c deeply enough that nothing the caller can reach is
// shared with the remembered entry.
func cloneClaims(c *Claims) *Claims {
	out := *c
	out.Audience = append(jwt.ClaimStrings(nil), c.Audience...)
	for _, d := range []**jwt.NumericDate{&out.ExpiresAt, &out.NotBefore, &out.IssuedAt} {
		if *d != nil {
			copied := **d
			*d = &copied
		}
	}
	return &out
}

func (v *verifiedTokens) put(raw, kid string, c *Claims) {
	if c.ExpiresAt == nil {
		return
	}
	e := verifiedToken{claims: cloneClaims(c), kid: kid, expires: c.ExpiresAt.Time} // the caller keeps its own
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.byToken == nil {
		v.byToken = make(map[string]verifiedToken)
	}
	if len(v.byToken) >= maxVerifiedTokens {
		now := time.Now()
		for t, old := range v.byToken {
			if !now.Before(old.expires) {
				delete(v.byToken, t)
			}
		}
		if len(v.byToken) >= maxVerifiedTokens {
			clear(v.byToken) // all still valid: start over rather than grow
		}
	}
	v.byToken[raw] = e
}

func (v *verifiedTokens) clear() {
	v.mu.Lock()
	defer v.mu.Unlock()
	clear(v.byToken)
}
