package lti

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/audit"
	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/problem"
)

// Platform is a registered LMS: its issuer, the client id it gave Baton,
// the deployments Baton accepts launches from, and its endpoints.
type Platform struct {
	ID            string    `json:"id"`
	Issuer        string    `json:"issuer"`
	ClientID      string    `json:"client_id"`
	DeploymentIDs List      `json:"deployment_ids"`
	Name          string    `json:"name"`
	AuthURL       string    `json:"auth_url"`
	TokenURL      string    `json:"token_url"`
	JWKSURL       string    `json:"jwks_url"`
	CreatedAt     time.Time `json:"created_at"`
}

const platformColumns = `id, issuer, client_id, deployment_ids, name, auth_url, token_url, jwks_url, created_at`

// ErrPlatformTaken: the issuer has a registration with this client id.
var ErrPlatformTaken = problem.New(problem.Conflict, "This platform (issuer and client id) is registered already.")

// Platforms lists the registrations, oldest first.
func (s *Service) Platforms(ctx context.Context) ([]Platform, error) {
	out := []Platform{}
	err := s.db.WithContext(ctx).Raw(`SELECT ` + platformColumns + ` FROM lti_platforms ORDER BY created_at, id`).Scan(&out).Error
	return out, err
}

func (s *Service) platform(ctx context.Context, cond string, args ...any) (Platform, bool, error) {
	var p Platform
	res := s.db.WithContext(ctx).Raw(`SELECT `+platformColumns+` FROM lti_platforms WHERE `+cond, args...).Scan(&p)
	return p, res.RowsAffected == 1, res.Error
}

// Register stores a platform after checking every field (422 naming them).
func (s *Service) Register(ctx context.Context, by accounts.Principal, p Platform) (Platform, error) {
	p = cleanPlatform(p)
	if err := p.problems(); err != nil {
		return Platform{}, err
	}
	return s.insertPlatform(ctx, by.UserID, p, "lti.platform.register")
}

func (s *Service) insertPlatform(ctx context.Context, actorID string, p Platform, action string) (Platform, error) {
	var out Platform
	err := s.db.WithContext(ctx).Raw(`INSERT INTO lti_platforms (issuer, client_id, deployment_ids, name, auth_url, token_url, jwks_url, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+platformColumns,
		p.Issuer, p.ClientID, p.DeploymentIDs, p.Name, p.AuthURL, p.TokenURL, p.JWKSURL, nullable(actorID)).Scan(&out).Error
	if database.IsUniqueViolation(err) {
		return Platform{}, ErrPlatformTaken
	} else if err != nil {
		return Platform{}, err
	}
	return out, audit.Append(ctx, database.GormExec(s.db.WithContext(ctx)), audit.Entry{ActorID: actorID, Action: action,
		Subject: "lti_platform:" + out.ID, Details: map[string]any{"issuer": out.Issuer, "client_id": out.ClientID}})
}

// Delete removes a registration; launches from it are refused from now on.
func (s *Service) Delete(ctx context.Context, by accounts.Principal, id string) error {
	if !accounts.IsUUID(id) {
		return problem.New(problem.NotFound, "No such platform.")
	}
	res := s.db.WithContext(ctx).Exec(`DELETE FROM lti_platforms WHERE id = ?`, id)
	if res.Error != nil {
		return res.Error
	} else if res.RowsAffected == 0 {
		return problem.New(problem.NotFound, "No such platform.")
	}
	return audit.Append(ctx, database.GormExec(s.db.WithContext(ctx)), audit.Entry{ActorID: by.UserID, Action: "lti.platform.delete",
		Subject: "lti_platform:" + id})
}

func cleanPlatform(p Platform) Platform {
	p.Issuer, p.ClientID = strings.TrimSpace(p.Issuer), strings.TrimSpace(p.ClientID)
	p.Name, p.AuthURL = strings.TrimSpace(p.Name), strings.TrimSpace(p.AuthURL)
	p.TokenURL, p.JWKSURL = strings.TrimSpace(p.TokenURL), strings.TrimSpace(p.JWKSURL)
	var ids List
	for _, d := range p.DeploymentIDs {
		if d = strings.TrimSpace(d); d != "" && !containsString(ids, d) {
			ids = append(ids, d)
		}
	}
	p.DeploymentIDs = ids
	if p.Name == "" {
		if u, err := url.Parse(p.Issuer); err == nil {
			p.Name = u.Hostname()
		}
	}
	return p
}

func (p Platform) problems() error {
	deployments := ""
	if len(p.DeploymentIDs) == 0 {
		deployments = "needs at least one deployment id"
	}
	for _, d := range p.DeploymentIDs {
		if len(d) > 255 {
			deployments = "each deployment id has at most 255 characters"
		}
	}
	return problem.Fields(
		"issuer", endpointProblem(p.Issuer, true),
		"client_id", lengthProblem(p.ClientID, 255),
		"deployment_ids", deployments,
		"name", lengthProblem(p.Name, 100),
		"auth_url", endpointProblem(p.AuthURL, false),
		"token_url", endpointProblem(p.TokenURL, false),
		"jwks_url", endpointProblem(p.JWKSURL, false),
	)
}

func lengthProblem(v string, max int) string {
	if v == "" {
		return "is required"
	}
	if len(v) > max {
		return "is too long"
	}
	return ""
}

// endpointProblem checks a platform URL: HTTPS, or plain HTTP only on a
// loopback host (a platform on the same machine, as in tests); an issuer
// has no query or fragment (LTI Security Framework §5.1.2).
func endpointProblem(raw string, issuer bool) string {
	if raw == "" {
		return "is required"
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || len(raw) > 500 {
		return "must be an absolute https URL"
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && loopback(u.Hostname()):
	default:
		return "must be an https URL"
	}
	if issuer && (u.RawQuery != "" || u.Fragment != "") {
		return "must have no query or fragment"
	}
	return ""
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func containsString(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func nullable(id string) any {
	if id == "" {
		return nil
	}
	return id
}

// platformFor finds the registration a login or launch names: by issuer
// and client id, or by issuer alone when it has one registration.
func (s *Service) platformFor(ctx context.Context, issuer, clientID string) (Platform, error) {
	if clientID != "" {
		p, found, err := s.platform(ctx, `issuer = ? AND client_id = ?`, issuer, clientID)
		if err != nil {
			return p, err
		} else if !found {
			return p, refuse(FailUnknownPlatform, errors.New("no platform "+issuer+" with client "+clientID))
		}
		return p, nil
	}
	var ps []Platform
	if err := s.db.WithContext(ctx).Raw(`SELECT `+platformColumns+` FROM lti_platforms WHERE issuer = ? LIMIT 2`, issuer).Scan(&ps).Error; err != nil {
		return Platform{}, err
	}
	switch len(ps) {
	case 0:
		return Platform{}, refuse(FailUnknownPlatform, errors.New("no platform "+issuer))
	case 1:
		return ps[0], nil
	}
	return Platform{}, refuse(FailUnknownPlatform, errors.New("several registrations of "+issuer+" and no client_id"))
}
