package ltitest

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// serveDeepLinkReturn receives the tool's LtiDeepLinkingResponse (a form
// POST of JWT to deep_link_return_url), verifies it against the tool's key
// set and stores its content items.
func (p *Platform) serveDeepLinkReturn(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.deepLinkRefused(w, "bad form: %v", err)
		return
	}
	p.mu.Lock()
	l, ok := p.pending["dl:"+r.PathValue("hint")]
	var reg *registration
	if ok {
		reg = p.tools[l.clientID]
	}
	p.mu.Unlock()
	if !ok || reg == nil {
		p.deepLinkRefused(w, "no deep-linking launch for this return URL")
		return
	}
	items, err := p.checkDeepLinkResponse(reg, l, r.PostForm.Get("JWT"))
	if err != nil {
		p.deepLinkRefused(w, "%v", err)
		return
	}
	p.mu.Lock()
	delete(p.pending, "dl:"+l.hint) // one response per deep-linking launch
	p.deepLinks = append(p.deepLinks, items)
	p.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = io.WriteString(w, "<!DOCTYPE html><html><head><title>Content added</title></head><body><p>"+strconv.Itoa(len(items))+" item(s) added to the course.</p></body></html>")
}

func (p *Platform) checkDeepLinkResponse(reg *registration, l *launch, token string) ([]map[string]any, error) {
	if token == "" {
		return nil, fmt.Errorf("no JWT in the form")
	}
	claims, err := p.verifyToolJWT(reg, token)
	if err != nil {
		return nil, err
	}
	var std jwt.Claims
	if err := remarshal(claims, &std); err != nil {
		return nil, err
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: reg.clientID, AnyAudience: jwt.Audience{p.issuer}, Time: time.Now()}, 30*time.Second); err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	nonce, _ := claims["nonce"].(string)
	switch {
	case nonce == "":
		return nil, fmt.Errorf("no nonce")
	case claims[ClaimMessageType] != MessageDeepLinkReply:
		return nil, fmt.Errorf("message_type %v, want %s", claims[ClaimMessageType], MessageDeepLinkReply)
	case claims[ClaimVersion] != "1.3.0":
		return nil, fmt.Errorf("version %v", claims[ClaimVersion])
	case claims[ClaimDeploymentID] != reg.deploymentID:
		return nil, fmt.Errorf("deployment_id %v, want %s", claims[ClaimDeploymentID], reg.deploymentID)
	case claims[ClaimDeepLinkData] != l.data:
		return nil, fmt.Errorf("data %v, want the launch's %q echoed", claims[ClaimDeepLinkData], l.data)
	}
	raw, _ := claims[ClaimContentItems].([]any)
	if _, present := claims[ClaimContentItems]; present && raw == nil {
		return nil, fmt.Errorf("content_items is not an array")
	}
	items := []map[string]any{}
	for _, item := range raw {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("a content item is not an object")
		}
		kind, _ := m["type"].(string)
		if !slices.Contains(l.acceptTypes, kind) {
			return nil, fmt.Errorf("content item type %q was not offered (accept_types %v)", kind, l.acceptTypes)
		}
		items = append(items, m)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.responseNonce[reg.clientID+" "+nonce] {
		return nil, fmt.Errorf("nonce %q was used before", nonce)
	}
	p.responseNonce[reg.clientID+" "+nonce] = true
	return items, nil
}

func (p *Platform) deepLinkRefused(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.mu.Lock()
	p.deepLinkFails = append(p.deepLinkFails, msg)
	p.mu.Unlock()
	p.refuse(w, http.StatusBadRequest, "deep-linking response refused: %s", msg)
}
