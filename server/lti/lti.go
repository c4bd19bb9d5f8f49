// Package lti is Baton as an LTI 1.3 tool (1EdTech LTI Core 1.3, Security
// Framework 1.0, Deep Linking 2.0, Assignment and Grade Services 2.0, Names
// and Role Provisioning 2.0, Dynamic Registration 1.0): the platforms (LMSs)
// an admin registered, Baton's own RSA keys, OIDC login initiation, the
// launch's id_token checks, deep-linking answers, scores sent back and
// course rosters. JOSE is go-jose's (signing, the key set) and go-oidc's
// (the platform's remote key set, fetched again for an unknown kid). Who a
// launched person is in Baton is the accounts area's call, as for single
// sign-on.
package lti

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"gorm.io/gorm"

	"github.com/baton-course/baton/lessons"
	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/sealing"
	"github.com/baton-course/baton/server/teams"
)

// Paths of the tool's endpoints, as platforms know them.
const (
	LoginPath    = "/api/lti/login"
	LaunchPath   = "/api/lti/launch"
	JWKSPath     = "/api/lti/jwks"
	RegisterPath = "/api/lti/register"
)

// Config is what the tool needs to know of its surroundings.
type Config struct {
	// PublicURL is where people reach Baton (BATON_PUBLIC_URL): redirect
	// URIs, target links and the tool's issuer name derive from it.
	PublicURL string
	// Secure: Baton is served over HTTPS (or BATON_SECURE_COOKIES), so the
	// login's browser cookie can be SameSite=None; Secure and ride the
	// platform's cross-site launch POST.
	Secure bool
	// HTTPClient talks to platforms; nil: one with a 10-second timeout.
	HTTPClient *http.Client
	// Now is the clock id_tokens are judged by; nil: the real one.
	Now func() time.Time
}

// Service is the tool.
type Service struct {
	cfg      Config
	db       *gorm.DB
	accounts *accounts.Service
	teams    *teams.Service
	course   *lessons.Course
	catalog  *quizzes.Catalog
	sealer   *sealing.Sealer // nil: tool keys are stored in plain text
	log      *slog.Logger

	mu       sync.Mutex
	keySets  map[string]*oidc.RemoteKeySet // by the platform's JWKS URL
	tokens   map[string]accessToken        // platforms' service tokens, by platform and scopes
	onScores func()                        // wakes the score sender; nil: the periodic sweep only
}

// New builds the tool; it does no I/O.
func New(cfg Config, db *gorm.DB, acc *accounts.Service, tm *teams.Service, course *lessons.Course, cat *quizzes.Catalog,
	sealer *sealing.Sealer, log *slog.Logger) *Service {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = outboundClient(publicOnLoopback(cfg.PublicURL))
	}
	return &Service{cfg: cfg, db: db, accounts: acc, teams: tm, course: course, catalog: cat, sealer: sealer, log: log,
		keySets: map[string]*oidc.RemoteKeySet{}}
}

// OnScoresQueued sets what wakes the score sender after a launch-linked
// attempt finished (the app inserts a River job).
func (s *Service) OnScoresQueued(f func()) { s.onScores = f }

// ScoresQueued wakes the score sender; a lost wake-up only delays the
// score until the periodic sweep.
func (s *Service) ScoresQueued() {
	if s != nil && s.onScores != nil {
		s.onScores()
	}
}

func (s *Service) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

// url is an absolute URL of Baton's.
func (s *Service) url(path string) string { return s.cfg.PublicURL + path }

// The claims' names (LTI Core 1.3 §5, Deep Linking 2.0, AGS 2.0, NRPS 2.0).
const (
	claimMessageType  = "https://purl.imsglobal.org/spec/lti/claim/message_type"
	claimVersion      = "https://purl.imsglobal.org/spec/lti/claim/version"
	claimDeploymentID = "https://purl.imsglobal.org/spec/lti/claim/deployment_id"
	claimTargetLink   = "https://purl.imsglobal.org/spec/lti/claim/target_link_uri"
	claimResourceLink = "https://purl.imsglobal.org/spec/lti/claim/resource_link"
	claimRoles        = "https://purl.imsglobal.org/spec/lti/claim/roles"
	claimContext      = "https://purl.imsglobal.org/spec/lti/claim/context"
	claimCustom       = "https://purl.imsglobal.org/spec/lti/claim/custom"
	claimAGS          = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
	claimNRPS         = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
	claimDLSettings   = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
	claimDLItems      = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
	claimDLData       = "https://purl.imsglobal.org/spec/lti-dl/claim/data"

	msgResourceLink = "LtiResourceLinkRequest"
	msgDeepLinking  = "LtiDeepLinkingRequest"
	msgDeepResponse = "LtiDeepLinkingResponse"

	roleInstructor = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
	roleLearner    = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"

	scopeLineItem        = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
	scopeLineItemRead    = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
	scopeResultRead      = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
	scopeScore           = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
	scopeMemberships     = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
	customTarget         = "baton_target"
	deepLinkTTL          = time.Hour
	clockSkew            = time.Minute
	loginTTL             = 10 * time.Minute
	retiredKeysPublished = 7 * 24 * time.Hour
)

// toolScopes are the services Baton asks platforms for.
var toolScopes = []string{scopeLineItem, scopeLineItemRead, scopeResultRead, scopeScore, scopeMemberships}

// ctxTimeout bounds a call to a platform made during someone's request.
func ctxTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, 15*time.Second)
}
