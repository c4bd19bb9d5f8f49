package accounts

import (
	"context"
	"regexp"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/baton-course/baton/server/audit"
	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/problem"
)

// A company that signs its people in through its provider can require it
// for its email domains: password sign-in, sign-up and reset are then
// refused for those addresses, so a leaked or guessed Baton password is
// worth nothing and leaving the company (the provider turning the person
// off) really ends their access.

// ErrSSORequired is the answer to a password sign-in or sign-up for an
// address whose domain must sign in through the provider. It says so
// before any password is checked: the rule is the domain's, known to
// everyone, and says nothing about whether an account exists.
var ErrSSORequired = &problem.Error{Code: problem.Forbidden,
	Detail: "Your organisation signs you in through its own sign-in: use the single sign-on button instead of a password."}

// SSODomain is one domain that must sign in through the provider.
type SSODomain struct {
	Domain    string    `json:"domain"`
	CreatedAt time.Time `json:"created_at"`
}

// domainPattern is a DNS name of at least two labels (no IP, no port).
var domainPattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`)

// NormalizeDomain folds a domain as emails are folded.
func NormalizeDomain(d string) string { return strings.TrimSuffix(NormalizeEmail(d), ".") }

// DomainProblem says what is wrong with a normalised domain, or "".
func DomainProblem(d string) string {
	if len(d) < 3 || len(d) > 253 || !domainPattern.MatchString(d) {
		return "is not a domain name such as example.com"
	}
	return ""
}

// SSODomains lists the domains that must use single sign-on.
func (s *Service) SSODomains(ctx context.Context) ([]SSODomain, error) {
	out := []SSODomain{}
	err := s.db.WithContext(ctx).Raw(`SELECT domain, created_at FROM sso_domains ORDER BY domain`).Scan(&out).Error
	return out, err
}

// RequireSSO makes a domain sign in through the provider (repeating it
// changes nothing). by is the admin doing it. The sessions of the domain's
// password accounts end: a password is no longer how they get in, so a
// session a password opened must not outlive the rule.
func (s *Service) RequireSSO(ctx context.Context, by Principal, domain string) (SSODomain, error) {
	domain = NormalizeDomain(domain)
	if err := problem.Fields("domain", DomainProblem(domain)); err != nil {
		return SSODomain{}, err
	}
	var d SSODomain
	var ended []string
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		res := tx.Raw(`INSERT INTO sso_domains (domain, created_by) VALUES (?, ?)
			ON CONFLICT (domain) DO NOTHING RETURNING domain, created_at`, domain, by.UserID).Scan(&d)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return tx.Raw(`SELECT domain, created_at FROM sso_domains WHERE domain = ?`, domain).Scan(&d).Error
		}
		if err := tx.Raw(`UPDATE sessions SET revoked_at = now(), revoked_reason = 'single sign-on required'
			WHERE revoked_at IS NULL AND user_id IN (SELECT id FROM users WHERE split_part(email, '@', 2) = ? AND password_hash <> '')
			RETURNING user_id`, domain).Scan(&ended).Error; err != nil {
			return err
		}
		return audit.Append(ctx, database.GormExec(tx), audit.Entry{ActorID: by.UserID, Action: "sso.domain.require", Subject: "domain:" + domain,
			Details: map[string]any{"sessions_ended": len(ended)}})
	}, func() {
		for _, id := range ended {
			s.live.forgetUser(id)
		}
	})
	return d, err
}

// DropSSODomain lets a domain's people use passwords again; an unknown
// domain is 404.
func (s *Service) DropSSODomain(ctx context.Context, by Principal, domain string) error {
	domain = NormalizeDomain(domain)
	return s.inTx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`DELETE FROM sso_domains WHERE domain = ?`, domain)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return problem.New(problem.NotFound, "No such domain requires single sign-on.")
		}
		return audit.Append(ctx, database.GormExec(tx), audit.Entry{ActorID: by.UserID, Action: "sso.domain.drop", Subject: "domain:" + domain})
	})
}

// SSORequired reports whether a (normalised) address must sign in through
// the provider.
func (s *Service) SSORequired(ctx context.Context, email string) (bool, error) {
	_, domain, ok := strings.Cut(email, "@")
	if !ok || domain == "" {
		return false, nil
	}
	var n int64
	err := s.db.WithContext(ctx).Raw(`SELECT count(*) FROM sso_domains WHERE domain = ?`, domain).Scan(&n).Error
	return n > 0, err
}

func (s *Service) refuseWhereSSORequired(ctx context.Context, email string) error {
	if !s.cfg.SingleSignOn {
		return nil
	}
	if required, err := s.SSORequired(ctx, email); err != nil {
		return err
	} else if required {
		return ErrSSORequired
	}
	return nil
}
