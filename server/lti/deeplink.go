package lti

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/opaque"
	"github.com/baton-course/baton/server/problem"
)

// A deep-linking launch (Deep Linking 2.0) lands the instructor on an app
// page that lists Baton's modules and scenarios; the page sends their pick
// here and form-POSTs the signed answer to the platform.

// DeepLinkPage is the app page that answers a deep-linking request.
const DeepLinkPage = "/lti/deep-links/"

// startDeepLink stores the request and returns the page that answers it.
func (s *Service) startDeepLink(ctx context.Context, p Platform, userID string, c launchClaims) (string, error) {
	dl := c.DeepLinking
	multiple := dl.AcceptMultiple == nil || *dl.AcceptMultiple
	var data any
	if dl.Data != "" {
		data = dl.Data
	}
	var id string
	err := s.db.WithContext(ctx).Raw(`INSERT INTO lti_deep_links (platform_id, user_id, deployment_id, return_url, accept_types, accept_multiple, data, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, now() + make_interval(secs => ?)) RETURNING id`,
		p.ID, userID, c.DeploymentID, dl.ReturnURL, List(dl.AcceptTypes), multiple, data, deepLinkTTL.Seconds()).Scan(&id).Error
	return DeepLinkPage + id, err
}

// ContentItem is something of Baton's an instructor can link.
type ContentItem struct {
	Kind   string `json:"kind"` // "module" or "scenario"
	Slug   string `json:"slug"`
	Title  string `json:"title"`
	Module string `json:"module,omitempty"` // a scenario's module
}

// DeepLink is a deep-linking request as the app page shows it.
type DeepLink struct {
	ID             string        `json:"id"`
	Platform       string        `json:"platform"`
	AcceptTypes    List          `json:"accept_types"`
	AcceptMultiple bool          `json:"accept_multiple"`
	ExpiresAt      time.Time     `json:"expires_at"`
	Items          []ContentItem `json:"items"`
}

type deepLinkRow struct {
	ID, PlatformID, UserID, DeploymentID, ReturnURL string
	AcceptTypes                                     List
	AcceptMultiple                                  bool
	Data                                            *string
	ExpiresAt                                       time.Time
}

var errNoDeepLink = problem.New(problem.NotFound, "No such deep-linking request (it may have expired or been answered).")

// deepLink loads the caller's own open request.
func (s *Service) deepLink(ctx context.Context, by accounts.Principal, id string) (deepLinkRow, Platform, error) {
	var r deepLinkRow
	if !accounts.IsUUID(id) {
		return r, Platform{}, errNoDeepLink
	}
	res := s.db.WithContext(ctx).Raw(`SELECT id, platform_id, user_id, deployment_id, return_url, accept_types, accept_multiple, data, expires_at
		FROM lti_deep_links WHERE id = ? AND user_id = ? AND used_at IS NULL AND expires_at > now()`, id, by.UserID).Scan(&r)
	if res.Error != nil {
		return r, Platform{}, res.Error
	} else if res.RowsAffected != 1 {
		return r, Platform{}, errNoDeepLink
	}
	p, found, err := s.platform(ctx, `id = ?`, r.PlatformID)
	if err != nil {
		return r, p, err
	} else if !found {
		return r, p, errNoDeepLink
	}
	return r, p, nil
}

// DeepLink shows the caller's request with what they can pick.
func (s *Service) DeepLink(ctx context.Context, by accounts.Principal, id string) (DeepLink, error) {
	r, p, err := s.deepLink(ctx, by, id)
	if err != nil {
		return DeepLink{}, err
	}
	items := []ContentItem{}
	for _, m := range s.course.Modules {
		items = append(items, ContentItem{Kind: "module", Slug: m.Slug, Title: m.Title})
	}
	for _, sc := range s.catalog.All() {
		items = append(items, ContentItem{Kind: "scenario", Slug: sc.Slug, Title: sc.Title, Module: sc.Module})
	}
	return DeepLink{ID: r.ID, Platform: p.Name, AcceptTypes: r.AcceptTypes, AcceptMultiple: r.AcceptMultiple,
		ExpiresAt: r.ExpiresAt, Items: items}, nil
}

// Pick names one item to link.
type Pick struct {
	Kind string `json:"kind"`
	Slug string `json:"slug"`
}

// DeepLinkResponse is the signed answer and where the page form-POSTs it
// (as the field JWT).
type DeepLinkResponse struct {
	JWT       string `json:"jwt"`
	ReturnURL string `json:"return_url"`
}

// resourceLink is one content item of the answer (Deep Linking 2.0 §3.1).
type resourceLink struct {
	Type     string            `json:"type"`
	URL      string            `json:"url"`
	Title    string            `json:"title"`
	Custom   map[string]string `json:"custom"`
	LineItem *struct {
		ScoreMaximum float64 `json:"scoreMaximum"`
		ResourceID   string  `json:"resourceId"`
		Label        string  `json:"label"`
	} `json:"lineItem,omitempty"`
}

// RespondDeepLink signs the answer with the picked items (the request is
// spent: a platform takes one answer per request).
func (s *Service) RespondDeepLink(ctx context.Context, by accounts.Principal, id string, picks []Pick) (DeepLinkResponse, error) {
	r, p, err := s.deepLink(ctx, by, id)
	if err != nil {
		return DeepLinkResponse{}, err
	}
	if !slices.Contains(r.AcceptTypes, "ltiResourceLink") {
		return DeepLinkResponse{}, problem.New(problem.Conflict, "The platform does not accept resource links in this place.")
	}
	if len(picks) == 0 {
		return DeepLinkResponse{}, problem.Fields("items", "pick at least one module or scenario")
	}
	if len(picks) > 1 && !r.AcceptMultiple {
		return DeepLinkResponse{}, problem.Fields("items", "the platform accepts one item here")
	}
	if len(picks) > 100 {
		return DeepLinkResponse{}, problem.Fields("items", "at most 100 items")
	}
	items := make([]resourceLink, 0, len(picks))
	for i, pick := range picks {
		item, ok := s.contentItem(pick)
		if !ok {
			return DeepLinkResponse{}, problem.Fields(fmt.Sprintf("items[%d]", i), "is not a module or scenario of this course")
		}
		items = append(items, item)
	}
	signer, err := s.signer(ctx)
	if err != nil {
		return DeepLinkResponse{}, err
	}
	now := s.now()
	claims := map[string]any{
		claimMessageType:  msgDeepResponse,
		claimVersion:      "1.3.0",
		claimDeploymentID: r.DeploymentID,
		claimDLItems:      items,
		"nonce":           opaque.New(),
	}
	if r.Data != nil {
		claims[claimDLData] = *r.Data
	}
	signed, err := jwt.Signed(signer).Claims(jwt.Claims{
		Issuer: p.ClientID, Audience: jwt.Audience{p.Issuer}, IssuedAt: jwt.NewNumericDate(now),
		Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute)), ID: opaque.New(),
	}).Claims(claims).Serialize()
	if err != nil {
		return DeepLinkResponse{}, err
	}
	res := s.db.WithContext(ctx).Exec(`UPDATE lti_deep_links SET used_at = now() WHERE id = ? AND used_at IS NULL`, r.ID)
	if res.Error != nil {
		return DeepLinkResponse{}, res.Error
	} else if res.RowsAffected != 1 {
		return DeepLinkResponse{}, errNoDeepLink
	}
	return DeepLinkResponse{JWT: signed, ReturnURL: r.ReturnURL}, nil
}

func (s *Service) contentItem(pick Pick) (resourceLink, bool) {
	switch pick.Kind {
	case "module":
		m, found := s.course.Module(pick.Slug)
		if !found {
			return resourceLink{}, false
		}
		return resourceLink{Type: "ltiResourceLink", URL: s.url("/modules/" + url.PathEscape(m.Slug)), Title: m.Title,
			Custom: map[string]string{customTarget: "modules/" + m.Slug}}, true
	case "scenario":
		sc, found := s.catalog.Get(pick.Slug)
		if !found {
			return resourceLink{}, false
		}
		item := resourceLink{Type: "ltiResourceLink", URL: s.url("/quizzes/" + url.PathEscape(sc.Slug)), Title: sc.Title,
			Custom: map[string]string{customTarget: "quizzes/" + sc.Slug}}
		item.LineItem = &struct {
			ScoreMaximum float64 `json:"scoreMaximum"`
			ResourceID   string  `json:"resourceId"`
			Label        string  `json:"label"`
		}{100, sc.Slug, sc.Title}
		return item, true
	}
	return resourceLink{}, false
}

// DeepLinkReturnOrigin is the origin (scheme://host[:port]) of an open
// request's return URL, for the picker page's form-action: the page
// form-POSTs the signed answer there. The page's own load carries no
// identity (the app signs in after it loads), so this looks the request up
// by its id alone; what it gives away is the platform's origin, to someone
// who holds the id of an unexpired, unanswered request.
func (s *Service) DeepLinkReturnOrigin(ctx context.Context, id string) (string, bool) {
	if !accounts.IsUUID(id) {
		return "", false
	}
	var returnURL string
	res := s.db.WithContext(ctx).Raw(`SELECT return_url FROM lti_deep_links WHERE id = ? AND used_at IS NULL AND expires_at > now()`, id).Scan(&returnURL)
	if res.Error != nil || res.RowsAffected != 1 {
		return "", false
	}
	return originOf(returnURL)
}

// originPattern is what an origin may look like to go into a CSP header:
// nothing that could end the directive or add a source.
var originPattern = regexp.MustCompile(`^https?://([A-Za-z0-9.-]+|\[[0-9a-fA-F:.]+\])(:[0-9]{1,5})?$`)

func originOf(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return "", false
	}
	origin := u.Scheme + "://" + strings.ToLower(u.Host)
	return origin, originPattern.MatchString(origin)
}
