package ltitest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// LineItem is an AGS 2.0 line item (a gradebook column).
type LineItem struct {
	ID             string  `json:"id"`
	Label          string  `json:"label"`
	ScoreMaximum   float64 `json:"scoreMaximum"`
	ResourceID     string  `json:"resourceId,omitempty"`
	ResourceLinkID string  `json:"resourceLinkId,omitempty"`
	Tag            string  `json:"tag,omitempty"`
	StartDateTime  string  `json:"startDateTime,omitempty"`
	EndDateTime    string  `json:"endDateTime,omitempty"`
}

// Score is an AGS 2.0 score as a tool posted it.
type Score struct {
	UserID           string         `json:"userId"`
	ScoreGiven       *float64       `json:"scoreGiven,omitempty"`
	ScoreMaximum     *float64       `json:"scoreMaximum,omitempty"`
	Comment          string         `json:"comment,omitempty"`
	Timestamp        string         `json:"timestamp"`
	ActivityProgress string         `json:"activityProgress"`
	GradingProgress  string         `json:"gradingProgress"`
	Extra            map[string]any `json:"-"` // every field as sent
	ClientID         string         `json:"-"` // the tool whose token posted it
}

const (
	typeLineItem          = "application/vnd.ims.lis.v2.lineitem+json"
	typeLineItemContainer = "application/vnd.ims.lis.v2.lineitemcontainer+json"
	typeScore             = "application/vnd.ims.lis.v1.score+json"
	typeResults           = "application/vnd.ims.lis.v2.resultcontainer+json"
	typeMemberships       = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
	assertionType         = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

var (
	activityProgress = []string{"Initialized", "Started", "InProgress", "Submitted", "Completed"}
	gradingProgress  = []string{"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"}
)

type accessToken struct {
	clientID string
	scopes   []string
	expires  time.Time
}

// LineItems are the course's line items, in creation order.
func (p *Platform) LineItems(courseID string) []LineItem {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []LineItem
	for _, item := range p.lineItems[courseID] {
		out = append(out, *item)
	}
	return out
}

// Scores are the scores posted to a line item (by its URL), oldest first.
func (p *Platform) Scores(lineItemURL string) []Score {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.scores[lineItemURL])
}

func (p *Platform) lineItemsURL(courseID string) string {
	return p.issuer + "/ags/" + url.PathEscape(courseID) + "/lineitems"
}

func (p *Platform) membershipsURL(courseID string) string {
	return p.issuer + "/nrps/" + url.PathEscape(courseID) + "/memberships"
}

// lineItemForLinkLocked finds or creates the line item of a resource link.
func (p *Platform) lineItemForLinkLocked(courseID string, l Link) *LineItem {
	for _, item := range p.lineItems[courseID] {
		if item.ResourceLinkID == l.ResourceLinkID {
			return item
		}
	}
	return p.addLineItemLocked(courseID, LineItem{Label: l.Title, ScoreMaximum: 100, ResourceLinkID: l.ResourceLinkID})
}

func (p *Platform) addLineItemLocked(courseID string, item LineItem) *LineItem {
	p.seq++
	item.ID = p.lineItemsURL(courseID) + "/" + strconv.Itoa(p.seq)
	p.lineItems[courseID] = append(p.lineItems[courseID], &item)
	return &item
}

// serveToken grants service tokens for client_credentials with a
// private_key_jwt client assertion (RFC 7523), verified against the tool's
// key set.
func (p *Platform) serveToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.tokenError(w, "invalid_request", "bad form: %v", err)
		return
	}
	if g := r.PostForm.Get("grant_type"); g != "client_credentials" {
		p.tokenError(w, "unsupported_grant_type", "grant_type %q", g)
		return
	}
	if t := r.PostForm.Get("client_assertion_type"); t != assertionType {
		p.tokenError(w, "invalid_client", "client_assertion_type %q", t)
		return
	}
	assertion := r.PostForm.Get("client_assertion")
	var unverified struct {
		Iss string `json:"iss"`
	}
	if tok, err := jwt.ParseSigned(assertion, []jose.SignatureAlgorithm{jose.RS256}); err != nil || tok.UnsafeClaimsWithoutVerification(&unverified) != nil {
		p.tokenError(w, "invalid_client", "client_assertion is not an RS256 JWT")
		return
	}
	p.mu.Lock()
	reg := p.tools[unverified.Iss]
	p.mu.Unlock()
	if reg == nil {
		p.tokenError(w, "invalid_client", "unknown client %q", unverified.Iss)
		return
	}
	claims, err := p.verifyToolJWT(reg, assertion)
	if err != nil {
		p.tokenError(w, "invalid_client", "client_assertion: %v", err)
		return
	}
	var std jwt.Claims
	if err := remarshal(claims, &std); err != nil {
		p.tokenError(w, "invalid_client", "client_assertion claims: %v", err)
		return
	}
	// Moodle accepts its token URL as the audience; some tools send the issuer.
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: reg.clientID, Subject: reg.clientID, AnyAudience: jwt.Audience{p.TokenURL(), p.issuer}, Time: time.Now()}, 30*time.Second); err != nil {
		p.tokenError(w, "invalid_client", "client_assertion: %v", err)
		return
	}
	if std.ID == "" || std.Expiry == nil {
		p.tokenError(w, "invalid_client", "client_assertion needs jti and exp")
		return
	}
	var granted []string
	for _, s := range splitScopes(r.PostForm.Get("scope")) {
		if slices.Contains(supportedScopes, s) && !slices.Contains(granted, s) {
			granted = append(granted, s)
		}
	}
	if len(granted) == 0 {
		p.tokenError(w, "invalid_scope", "none of %q is offered", r.PostForm.Get("scope"))
		return
	}
	token := randomID(24)
	p.mu.Lock()
	if p.assertionJTIs[reg.clientID+" "+std.ID] {
		p.mu.Unlock()
		p.tokenError(w, "invalid_client", "client_assertion jti %q was used before", std.ID)
		return
	}
	p.assertionJTIs[reg.clientID+" "+std.ID] = true
	p.tokens[token] = accessToken{clientID: reg.clientID, scopes: granted, expires: time.Now().Add(time.Hour)}
	p.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, "application/json", map[string]any{
		"access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": strings.Join(granted, " "),
	})
}

func (p *Platform) tokenError(w http.ResponseWriter, code, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if p.Logf != nil {
		p.Logf("ltitest: token refused: %s: %s", code, msg)
	}
	status := http.StatusBadRequest
	if code == "invalid_client" {
		status = http.StatusUnauthorized
	}
	writeJSON(w, status, "application/json", map[string]string{"error": code, "error_description": msg})
}

// verifyToolJWT checks token's RS256 signature against the tool's key set,
// fetched now (so a rotated key is seen at once), and returns its claims.
func (p *Platform) verifyToolJWT(reg *registration, token string) (map[string]any, error) {
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, err
	}
	resp, err := p.client.Get(reg.tool.JWKSURL)
	if err != nil {
		return nil, fmt.Errorf("the tool's key set: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return nil, fmt.Errorf("the tool's key set: %w", err)
	}
	kid := tok.Headers[0].KeyID
	keys := set.Keys
	if kid != "" {
		keys = set.Key(kid)
	}
	for _, k := range keys {
		var claims map[string]any
		if err := tok.Claims(k.Key, &claims); err == nil {
			return claims, nil
		}
	}
	return nil, fmt.Errorf("no key of the tool's set (kid %q) verifies the signature", kid)
}

// authorize checks the bearer token of a service request and its scopes.
func (p *Platform) authorize(w http.ResponseWriter, r *http.Request, scopes ...string) (accessToken, bool) {
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	tok, known := p.tokens[strings.TrimSpace(bearer)]
	p.mu.Unlock()
	switch {
	case !ok || !known || time.Now().After(tok.expires):
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		p.refuse(w, http.StatusUnauthorized, "no valid bearer token")
		return tok, false
	case !hasScope(tok.scopes, scopes...):
		p.refuse(w, http.StatusForbidden, "the token lacks scope %v", scopes)
		return tok, false
	}
	return tok, true
}

func (p *Platform) course(w http.ResponseWriter, r *http.Request) (Course, bool) {
	p.mu.Lock()
	c, ok := p.courses[r.PathValue("course")]
	p.mu.Unlock()
	if !ok {
		p.refuse(w, http.StatusNotFound, "no course %q", r.PathValue("course"))
	}
	return c, ok
}

func (p *Platform) serveLineItems(w http.ResponseWriter, r *http.Request) {
	c, ok := p.course(w, r)
	if !ok {
		return
	}
	if _, ok := p.authorize(w, r, ScopeLineItem, ScopeLineItemReadOnly); !ok {
		return
	}
	q := r.URL.Query()
	var out []LineItem
	for _, item := range p.LineItems(c.ID) {
		if v := q.Get("resource_id"); v != "" && item.ResourceID != v {
			continue
		}
		if v := q.Get("resource_link_id"); v != "" && item.ResourceLinkID != v {
			continue
		}
		if v := q.Get("tag"); v != "" && item.Tag != v {
			continue
		}
		out = append(out, item)
	}
	if limit, err := strconv.Atoi(q.Get("limit")); err == nil && limit > 0 && limit < len(out) {
		out = out[:limit]
	}
	if out == nil {
		out = []LineItem{}
	}
	writeJSON(w, http.StatusOK, typeLineItemContainer, out)
}

func (p *Platform) serveCreateLineItem(w http.ResponseWriter, r *http.Request) {
	c, ok := p.course(w, r)
	if !ok {
		return
	}
	if _, ok := p.authorize(w, r, ScopeLineItem); !ok {
		return
	}
	item, ok := p.readLineItem(w, r)
	if !ok {
		return
	}
	p.mu.Lock()
	created := *p.addLineItemLocked(c.ID, item)
	p.mu.Unlock()
	writeJSON(w, http.StatusCreated, typeLineItem, created)
}

func (p *Platform) readLineItem(w http.ResponseWriter, r *http.Request) (LineItem, bool) {
	var item LineItem
	if !p.contentType(w, r, typeLineItem) {
		return item, false
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&item); err != nil {
		p.refuse(w, http.StatusBadRequest, "line item JSON: %v", err)
		return item, false
	}
	if strings.TrimSpace(item.Label) == "" || item.ScoreMaximum <= 0 {
		p.refuse(w, http.StatusBadRequest, "a line item needs a label and a positive scoreMaximum")
		return item, false
	}
	return item, true
}

func (p *Platform) contentType(w http.ResponseWriter, r *http.Request, want string) bool {
	got, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || got != want {
		p.refuse(w, http.StatusUnsupportedMediaType, "Content-Type must be %s, got %q", want, r.Header.Get("Content-Type"))
		return false
	}
	return true
}

// findLineItem is the line item the request's path names.
func (p *Platform) findLineItem(w http.ResponseWriter, r *http.Request) (Course, *LineItem, bool) {
	c, ok := p.course(w, r)
	if !ok {
		return c, nil, false
	}
	id := p.lineItemsURL(c.ID) + "/" + r.PathValue("item")
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, item := range p.lineItems[c.ID] {
		if item.ID == id {
			return c, item, true
		}
	}
	p.refuse(w, http.StatusNotFound, "no line item %s", id)
	return c, nil, false
}

func (p *Platform) serveLineItem(w http.ResponseWriter, r *http.Request) {
	if _, ok := p.authorize(w, r, ScopeLineItem, ScopeLineItemReadOnly); !ok {
		return
	}
	if _, item, ok := p.findLineItem(w, r); ok {
		p.mu.Lock()
		copied := *item
		p.mu.Unlock()
		writeJSON(w, http.StatusOK, typeLineItem, copied)
	}
}

func (p *Platform) serveUpdateLineItem(w http.ResponseWriter, r *http.Request) {
	if _, ok := p.authorize(w, r, ScopeLineItem); !ok {
		return
	}
	_, item, ok := p.findLineItem(w, r)
	if !ok {
		return
	}
	update, ok := p.readLineItem(w, r)
	if !ok {
		return
	}
	p.mu.Lock()
	update.ID = item.ID
	*item = update
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, typeLineItem, update)
}

// serveDeleteLineItem removes a line item and its scores.
func (p *Platform) serveDeleteLineItem(w http.ResponseWriter, r *http.Request) {
	if _, ok := p.authorize(w, r, ScopeLineItem); !ok {
		return
	}
	c, item, ok := p.findLineItem(w, r)
	if !ok {
		return
	}
	p.mu.Lock()
	p.lineItems[c.ID] = slices.DeleteFunc(p.lineItems[c.ID], func(i *LineItem) bool { return i == item })
	delete(p.scores, item.ID)
	p.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// serveScore stores a score after the checks Moodle's AGS makes.
func (p *Platform) serveScore(w http.ResponseWriter, r *http.Request) {
	tok, ok := p.authorize(w, r, ScopeScore)
	if !ok {
		return
	}
	c, item, ok := p.findLineItem(w, r)
	if !ok || !p.contentType(w, r, typeScore) {
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		p.refuse(w, http.StatusBadRequest, "score: %v", err)
		return
	}
	var s Score
	if err := json.Unmarshal(raw, &s); err != nil {
		p.refuse(w, http.StatusBadRequest, "score JSON: %v", err)
		return
	}
	_ = json.Unmarshal(raw, &s.Extra)
	s.ClientID = tok.clientID
	if err := checkScore(s, c); err != nil {
		p.refuse(w, http.StatusBadRequest, "score: %v", err)
		return
	}
	p.mu.Lock()
	p.scores[item.ID] = append(p.scores[item.ID], s)
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, "application/json", map[string]string{"resultUrl": item.ID + "/results"})
}

func checkScore(s Score, c Course) error {
	if !slices.ContainsFunc(c.Members, func(m Person) bool { return m.Sub == s.UserID }) {
		return fmt.Errorf("userId %q is not in course %s", s.UserID, c.ID)
	}
	if _, err := time.Parse(time.RFC3339Nano, s.Timestamp); err != nil {
		return fmt.Errorf("timestamp %q is not ISO 8601 with a zone: %v", s.Timestamp, err)
	}
	if !slices.Contains(activityProgress, s.ActivityProgress) {
		return fmt.Errorf("activityProgress %q", s.ActivityProgress)
	}
	if !slices.Contains(gradingProgress, s.GradingProgress) {
		return fmt.Errorf("gradingProgress %q", s.GradingProgress)
	}
	if s.ScoreGiven != nil {
		if s.ScoreMaximum == nil || *s.ScoreMaximum <= 0 {
			return errors.New("scoreGiven needs a positive scoreMaximum")
		}
		if *s.ScoreGiven < 0 || *s.ScoreGiven > *s.ScoreMaximum {
			return fmt.Errorf("scoreGiven %v is outside 0..%v", *s.ScoreGiven, *s.ScoreMaximum)
		}
	}
	return nil
}

// serveResults lists each user's latest score, as results.
func (p *Platform) serveResults(w http.ResponseWriter, r *http.Request) {
	if _, ok := p.authorize(w, r, ScopeResultReadOnly); !ok {
		return
	}
	_, item, ok := p.findLineItem(w, r)
	if !ok {
		return
	}
	latest := map[string]Score{}
	var order []string
	for _, s := range p.Scores(item.ID) {
		if _, seen := latest[s.UserID]; !seen {
			order = append(order, s.UserID)
		}
		latest[s.UserID] = s
	}
	results := []map[string]any{}
	for _, user := range order {
		if v := r.URL.Query().Get("user_id"); v != "" && v != user {
			continue
		}
		s := latest[user]
		result := map[string]any{"id": item.ID + "/results/" + url.PathEscape(user), "scoreOf": item.ID, "userId": user}
		if s.ScoreGiven != nil && s.ScoreMaximum != nil {
			result["resultScore"] = *s.ScoreGiven / *s.ScoreMaximum * item.ScoreMaximum
			result["resultMaximum"] = item.ScoreMaximum
		}
		if s.Comment != "" {
			result["comment"] = s.Comment
		}
		results = append(results, result)
	}
	writeJSON(w, http.StatusOK, typeResults, results)
}

// serveMemberships is NRPS 2.0's membership container, with the role and
// limit filters (the next page in a Link header, as the spec pages).
func (p *Platform) serveMemberships(w http.ResponseWriter, r *http.Request) {
	c, ok := p.course(w, r)
	if !ok {
		return
	}
	if _, ok := p.authorize(w, r, ScopeMemberships); !ok {
		return
	}
	q := r.URL.Query()
	var members []map[string]any
	for _, m := range c.Members {
		if role := q.Get("role"); role != "" && !slices.ContainsFunc(m.Roles, func(have string) bool {
			return have == role || strings.HasSuffix(have, "#"+role)
		}) {
			continue
		}
		members = append(members, map[string]any{
			"status": "Active", "user_id": m.Sub, "name": m.Name, "given_name": firstWord(m.Name),
			"family_name": lastWords(m.Name), "email": m.Email, "roles": nonNil(m.Roles),
		})
	}
	from, _ := strconv.Atoi(q.Get("from"))
	if from < 0 || from > len(members) {
		from = len(members)
	}
	members = members[from:]
	if limit, err := strconv.Atoi(q.Get("limit")); err == nil && limit > 0 && limit < len(members) {
		next := *r.URL
		nq := next.Query()
		nq.Set("from", strconv.Itoa(from+limit))
		next.RawQuery = nq.Encode()
		w.Header().Set("Link", fmt.Sprintf(`<%s%s>; rel="next"`, p.issuer, next.RequestURI()))
		members = members[:limit]
	}
	if members == nil {
		members = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, typeMemberships, map[string]any{
		"id":      p.membershipsURL(c.ID),
		"context": map[string]any{"id": c.ID, "label": c.ID, "title": c.Title},
		"members": members,
	})
}

func remarshal(from, to any) error {
	raw, err := json.Marshal(from)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, to)
}
