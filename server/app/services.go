package app

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/baton-course/baton/server/privacy"
	"github.com/baton-course/baton/server/sealing"

	"github.com/baton-course/baton/lessons"
	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/lti"
	"github.com/baton-course/baton/server/notify"
	"github.com/baton-course/baton/server/progress"
	"github.com/baton-course/baton/server/sso"
	"github.com/baton-course/baton/server/teams"
	"github.com/baton-course/baton/server/web"
	"github.com/baton-course/baton/server/xapi"
)

// Services is every domain area of one Baton process, built on one
// database pool, and the web layer in front of them.
type Services struct {
	Course     *lessons.Course
	Scenarios  []*quizzes.Scenario
	Lessons    *lessons.Store
	Catalog    *quizzes.Catalog
	Attempts   *quizzes.Store
	Accounts   *accounts.Service
	Teams      *teams.Service
	Notify     *notify.Service
	Progress   *progress.Reader
	SSO        *sso.Service
	XAPI       *xapi.Sender // its metrics always; it sends only with an LRS configured
	LTI        *lti.Service
	Durability database.Durability
	Web        *web.Server
	// Reads routes the reads that may lag to the replica, if there is one.
	Reads *database.Reads

	cfg  Config
	db   *database.DB
	log  *slog.Logger
	jobs *jobs // nil until StartJobs
	// clock is what the notice jobs take as now; nil is the real time.
	// Only tests set it, to make a digest or an escalation due.
	clock func() time.Time

	stopWatching context.CancelFunc
}

// Build checks the database's durability, syncs the course into it, builds
// every area and the router, and seeds the demo data when asked to.
func Build(ctx context.Context, cfg Config, db *database.DB, log *slog.Logger) (*Services, error) {
	return BuildWithReplica(ctx, cfg, db, nil, log)
}

// BuildWithReplica is Build with a read replica (nil: none) that the reads
// which may lag go to while it keeps within database.DefaultMaxLag.
func BuildWithReplica(ctx context.Context, cfg Config, db, replica *database.DB, log *slog.Logger) (_ *Services, err error) {
	s := &Services{cfg: cfg, db: db, log: log, Reads: database.NewReads(db, replica, database.DefaultMaxLag)}
	defer func() {
		if err != nil {
			s.Reads.Close() // its lag probe would outlive a failed build
		}
	}()
	if s.Durability, err = db.CheckDurability(ctx); err != nil {
		return nil, err
	}
	if !s.Durability.Safe() {
		log.Warn("DATABASE DURABILITY IS OFF: a crash can lose writes Baton has acknowledged; turn these settings on",
			"settings", s.Durability.Problems())
	}
	c, err := loadContent()
	if err != nil {
		return nil, err
	}
	s.Course, s.Scenarios = c.course, c.scenarios
	if err := lessons.Sync(ctx, db.Gorm, s.Course); err != nil {
		return nil, fmt.Errorf("sync lessons: %w", err)
	}
	s.Lessons = lessons.NewStore(db.Gorm, db.Pool)
	s.Lessons.ReadsFrom(s.Reads)
	if s.Catalog, err = quizzes.NewCatalog(ctx, db.Gorm, s.Scenarios); err != nil {
		return nil, err
	}
	s.Attempts = quizzes.NewStore(db.Gorm, db.Pool, s.Catalog)
	s.Progress = progress.NewReader(s.Course, s.Catalog, s.Lessons, s.Attempts)
	s.Progress.ReadsFrom(s.Reads)
	s.Teams = teams.New(db.Gorm, s.Course, s.Catalog, s.Progress)
	s.Teams.ReadsFrom(s.Reads)
	var sealer *sealing.Sealer
	if cfg.SecretKey != "" {
		// The analytics secret is sealed like the signing keys (a wrong key
		// stops start-up here, not at the first analytics request).
		if sealer, err = sealing.New(cfg.SecretKey); err != nil {
			return nil, err
		}
		if err := privacy.Seal(ctx, db.Gorm, sealer); err != nil {
			return nil, err
		}
		s.Teams.SealedWith(sealer)
	}
	s.Notify = notify.New(db.Gorm, s.Teams)
	if s.Accounts, err = accounts.NewService(ctx, db.Gorm, accounts.Config{
		AccessTTL: cfg.AccessTTL, AdminEmails: cfg.AdminEmails, HashCost: cfg.HashCost, SecretKey: cfg.SecretKey,
		PublicURL: cfg.PublicURL, SingleSignOn: cfg.OIDC.Issuer != "",
		ProvisionedOnly: cfg.SCIMToken != "",
	}, log); err != nil {
		return nil, err
	}
	s.SSO = sso.New(sso.Config{
		Issuer: cfg.OIDC.Issuer, ClientID: cfg.OIDC.ClientID, ClientSecret: cfg.OIDC.ClientSecret,
		Name: cfg.OIDC.Name, PublicURL: cfg.PublicURL,
	}, db.Gorm, s.Accounts, log)
	s.LTI = lti.New(lti.Config{PublicURL: cfg.PublicURL, Secure: cfg.SecureCookies || strings.HasPrefix(strings.ToLower(cfg.PublicURL), "https://")},
		db.Gorm, s.Accounts, s.Teams, s.Course, s.Catalog, sealer, log)
	// The tool's first key, made (and sealed) at start-up like the signing
	// keys: a wrong BATON_SECRET_KEY stops start-up here.
	if err := s.LTI.EnsureKey(ctx); err != nil {
		return nil, fmt.Errorf("LTI tool keys: %w", err)
	}
	// Revocations, role changes and key rotations made by any instance reach
	// this one's caches through the database's notifications.
	watchCtx, stopWatching := context.WithCancel(context.WithoutCancel(ctx))
	s.stopWatching = stopWatching
	s.Accounts.Watch(watchCtx, db, 5*time.Second)
	s.Web = web.New(web.Deps{
		DB: db, Reads: s.Reads, Log: log, Durability: s.Durability, TrustedProxies: cfg.TrustedProxies, SecureCookies: cfg.SecureCookies,
		PublicOrigin: cfg.PublicOrigin(), MetricsToken: cfg.MetricsToken, SCIMToken: cfg.SCIMToken,
		Course: s.Course, Lessons: s.Lessons, Catalog: s.Catalog, Attempts: s.Attempts,
		Accounts: s.Accounts, Teams: s.Teams, Notify: s.Notify, Progress: s.Progress, SSO: s.SSO,
		LTI: s.LTI,
	})
	// The capture triggers record events only while an LRS is configured
	// (every instance of an installation shares the configuration).
	if err := xapi.Enable(ctx, db.Pool, cfg.XAPI.Enabled()); err != nil {
		return nil, fmt.Errorf("xapi: %w", err)
	}
	s.XAPI = xapi.NewSender(db.Pool, xapi.NewBuilder(db.Pool, s.Catalog, cfg.PublicURL, cfg.XAPI.Mbox), cfg.XAPI, log)
	s.Web.Register(s.XAPI.Collectors()...)
	s.Web.Register(s.LTI.Collectors()...)
	if cfg.Demo {
		if err := s.seedDemo(ctx); err != nil {
			s.Close()
			return nil, fmt.Errorf("demo data: %w", err)
		}
	}
	return s, nil
}

// Close stops background work the services started.
func (s *Services) Close() {
	if s.stopWatching != nil {
		s.stopWatching()
	}
	if s.Reads != nil {
		s.Reads.Close()
	}
	if s.jobs != nil {
		s.jobs.stop()
		s.jobs = nil
	}
}
