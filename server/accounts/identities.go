package accounts

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/problem"
)

// Identity is a person as the company's OpenID provider vouches for them
// after a sign-in whose ID token passed every check (package sso).
type Identity struct {
	Issuer, Subject string
	Email           string // as the provider gave it; normalised here
	// EmailVerified: the provider verified Email, or Email's domain is one
	// the admin made sign in through this provider (it is then the
	// authority for those addresses).
	EmailVerified bool
	Name          string
	Provider      string // the provider's name, as people know it (mail text)
	// ProveToLink: the provider's addresses are not the company's word (an
	// LMS lets people edit their own), so an existing account, with or
	// without a password, is linked only after its owner's proof.
	ProveToLink bool
	// Via names the protocol in the audit log: "oidc" when empty, "lti"
	// for a launch from a learning platform.
	Via string
}

func (id Identity) via() string {
	if id.Via == "" {
		return "oidc"
	}
	return id.Via
}

// IdentitySignIn is what a provider's sign-in comes to: the person signed
// in, or, when a password account has the address, a link waiting for
// proof that the person owns it.
type IdentitySignIn struct {
	SignedIn *SignedIn
	// LinkToken (for the browser, with the password) and LinkEmail: a
	// pending link; a second token went to LinkEmail.
	LinkToken, LinkEmail string
}

// Refusals of a provider's sign-in, each with its own text.
var (
	ErrEmailUnverified = &problem.Error{Code: problem.Forbidden,
		Detail: "Your organisation's sign-in has not verified your email address, so Baton cannot tell which account is yours."}
	ErrIdentityConflict = &problem.Error{Code: problem.Conflict,
		Detail: "This Baton account is already connected to another account at your organisation's sign-in."}
	ErrNotProvisioned = &problem.Error{Code: problem.Forbidden,
		Detail: "Your organisation has not given you a Baton account yet."}
)

// linkTTL is how long a pending link waits for its proof.
const linkTTL = 30 * time.Minute

// SignInWithIdentity signs in the person the provider vouched for: by the
// provider account linked before; else by the verified address, creating
// the account on first sign-in (just-in-time provisioning) or linking a
// passwordless one (provisioned by the company, SCIM); an account with a
// password is linked only once its owner proves it (LinkWithPassword,
// LinkByMail), since whoever registered the address first may not be the
// person the provider vouches for.
func (s *Service) SignInWithIdentity(ctx context.Context, id Identity) (IdentitySignIn, error) {
	id.Email = NormalizeEmail(id.Email)
	for range 2 { // a second pass after losing a race to create the same account
		u, found, err := s.userByIdentity(ctx, id)
		if err != nil {
			return IdentitySignIn{}, err
		}
		if found {
			in, err := s.SignInExternal(ctx, u, id.via(), touchIdentity(id))
			return IdentitySignIn{SignedIn: &in}, err
		}
		if !id.EmailVerified {
			return IdentitySignIn{}, ErrEmailUnverified
		}
		u, found, err = s.UserByEmail(ctx, id.Email)
		if err != nil {
			return IdentitySignIn{}, err
		}
		switch {
		case !found:
			u, err = s.createFromIdentity(ctx, id)
			if errors.Is(err, ErrEmailTaken) {
				continue
			} else if err != nil {
				return IdentitySignIn{}, err
			}
			in, err := s.SignInExternal(ctx, u, id.via())
			return IdentitySignIn{SignedIn: &in}, err
		case u.HasPassword() || id.ProveToLink:
			token, err := s.startLink(ctx, u, id)
			return IdentitySignIn{LinkToken: token, LinkEmail: u.Email}, err
		case u.EmailVerifiedAt == nil:
			// An account an LMS made from its unproven word: the provider has
			// now proven the address, so it becomes the company's. Every
			// earlier session ends, and the LMS links go (migration 00028).
			if err := s.inTx(ctx, func(tx *gorm.DB) error {
				if err := tx.Exec(`UPDATE users SET email_verified_at = now(), updated_at = now() WHERE id = ?`, u.ID).Error; err != nil {
					return err
				}
				return tx.Exec(`UPDATE sessions SET revoked_at = now(), revoked_reason = 'address proven by single sign-on'
					WHERE user_id = ? AND revoked_at IS NULL`, u.ID).Error
			}, func() { s.live.forgetUser(u.ID) }); err != nil {
				return IdentitySignIn{}, err
			}
			in, err := s.SignInExternal(ctx, u, id.via(), linkIdentity(ctx, u, id, "unproven account, address proven"))
			return IdentitySignIn{SignedIn: &in}, err
		default:
			in, err := s.SignInExternal(ctx, u, id.via(), linkIdentity(ctx, u, id, "provisioned account"))
			return IdentitySignIn{SignedIn: &in}, err
		}
	}
	return IdentitySignIn{}, ErrEmailTaken
}

func (s *Service) userByIdentity(ctx context.Context, id Identity) (User, bool, error) {
	return userWhere(ctx, s.db, `id = (SELECT user_id FROM oidc_identities WHERE issuer = ? AND subject = ?)`, id.Issuer, id.Subject)
}

// createFromIdentity creates the account of a first sign-in with its link,
// unless the company provisions accounts itself (ProvisionedOnly).
func (s *Service) createFromIdentity(ctx context.Context, id Identity) (User, error) {
	if s.cfg.ProvisionedOnly {
		return User{}, ErrNotProvisioned
	}
	name := id.Name
	if CleanName(name) == "" || NameProblem(CleanName(name)) != "" {
		name, _, _ = strings.Cut(id.Email, "@") // the provider gave no usable name
	}
	var u User
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if id.ProveToLink {
			// The provider's address is not proven (an LMS lets people type
			// their own): the account starts unverified and a learner, even
			// at a BATON_ADMIN_EMAILS address, and the first proof of the
			// mailbox ends this link (migration 00028), so whoever typed
			// someone else's address keeps no way in.
			u, err = s.createUnverifiedExternal(ctx, tx, id.Email, name, id.via())
		} else {
			u, err = s.CreateExternalUser(ctx, tx, id.Email, name, id.via())
		}
		if err != nil {
			return err
		}
		return linkIdentity(ctx, u, id, "first sign-in")(tx)
	})
	return u, err
}

// linkIdentity records that the provider account signs u in.
func linkIdentity(ctx context.Context, u User, id Identity, how string) func(tx *gorm.DB) error {
	return func(tx *gorm.DB) error {
		err := tx.Exec(`INSERT INTO oidc_identities (issuer, subject, user_id, email) VALUES (?, ?, ?, ?)`,
			id.Issuer, id.Subject, u.ID, id.Email).Error
		if database.IsUniqueViolation(err) {
			return ErrIdentityConflict
		} else if err != nil {
			return err
		}
		return appendAudit(ctx, tx, u.ID, "sso.link", u.ID, map[string]any{"issuer": id.Issuer, "by": how})
	}
}

func touchIdentity(id Identity) func(tx *gorm.DB) error {
	return func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE oidc_identities SET last_sign_in_at = now() WHERE issuer = ? AND subject = ?`, id.Issuer, id.Subject).Error
	}
}

// startLink stores a pending link of id to u's account and mails its
// second token to the account's address; it returns the browser's token.
func (s *Service) startLink(ctx context.Context, u User, id Identity) (string, error) {
	browser, mailed := newRefreshToken(), newRefreshToken()
	provider := id.Provider
	if provider == "" {
		provider = "your organisation's single sign-on"
	}
	body := "Someone, hopefully you, signed in to " + provider + " as " + u.Email +
		" and asked to use it to sign in to your Baton account.\n\n" +
		"To connect the two, open this link within 30 minutes (it works once):\n\n" +
		s.link("/sso/link?token="+mailed) + "\n\n" +
		"If it was not you, ignore this email: nothing changes, and your password stays as it is.\n"
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		if err := countMail(tx, linkPerUser, u.ID); err != nil {
			return err
		}
		if err := tx.Exec(`INSERT INTO oidc_links (user_id, issuer, subject, email, provider, expires_at, browser_hash, mail_hash)
			VALUES (?, ?, ?, ?, ?, now() + make_interval(secs => ?), ?, ?)`,
			u.ID, id.Issuer, id.Subject, id.Email, provider, linkTTL.Seconds(), hashToken(browser), hashToken(mailed)).Error; err != nil {
			return err
		}
		if err := queueMail(tx, u.ID, "sso_link", "Connect your Baton account to "+provider, body); err != nil {
			return err
		}
		return appendAudit(ctx, tx, "", "sso.link_requested", u.ID, map[string]any{"issuer": id.Issuer})
	})
	return browser, err
}

// linkPerUser bounds the link mails one account can be sent.
var linkPerUser = mailLimit{prefix: "sso-link-user:", max: 5}

// pendingLink is an oidc_links row still waiting for its proof.
type pendingLink struct {
	ID, UserID, Issuer, Subject, Email, Provider string
}

func (l pendingLink) identity() Identity {
	return Identity{Issuer: l.Issuer, Subject: l.Subject, Email: l.Email}
}

// findLink loads the unused, unexpired link with this token in column,
// and the account it would link.
func (s *Service) findLink(ctx context.Context, column, raw string) (pendingLink, User, error) {
	var l pendingLink
	res := s.db.WithContext(ctx).Raw(`SELECT id, user_id, issuer, subject, email, provider FROM oidc_links
		WHERE `+column+` = ? AND used_at IS NULL AND expires_at > now()`, hashToken(raw)).Scan(&l)
	if res.Error != nil {
		return l, User{}, res.Error
	} else if res.RowsAffected != 1 {
		return l, User{}, ErrLinkInvalid
	}
	u, err := s.User(ctx, l.UserID)
	return l, u, err
}

// spendLink marks a link used in tx: two requests with one link cannot
// both succeed.
func spendLink(tx *gorm.DB, l pendingLink) error {
	res := tx.Exec(`UPDATE oidc_links SET used_at = now() WHERE id = ? AND used_at IS NULL AND expires_at > now()`, l.ID)
	if res.Error != nil {
		return res.Error
	} else if res.RowsAffected != 1 {
		return ErrLinkInvalid
	}
	return nil
}

// LinkWithPassword completes a pending link with the account's password,
// under the sign-in limits, and signs the person in.
func (s *Service) LinkWithPassword(ctx context.Context, browserToken, password, ip, device string) (SignedIn, error) {
	l, u, err := s.findLink(ctx, "browser_hash", browserToken)
	if err != nil {
		return SignedIn{}, err
	}
	pw, err := s.checkSignInPassword(ctx, u.Email, password, ip, device)
	if err != nil {
		return SignedIn{}, err
	}
	return s.passwordSignIn(ctx, pw, func(tx *gorm.DB) error {
		if err := spendLink(tx, l); err != nil {
			return err
		}
		return linkIdentity(ctx, u, l.identity(), "password")(tx)
	})
}

// PreviewMailedLink names the account a mailed link would connect, without
// spending it: the page asks the person to confirm before connecting, so a
// link someone else sent them cannot sign their browser into another
// account unnoticed (login CSRF).
func (s *Service) PreviewMailedLink(ctx context.Context, mailToken string) (email, provider string, err error) {
	l, u, err := s.findLink(ctx, "mail_hash", mailToken)
	return u.Email, l.Provider, err
}

// LinkByMail completes a pending link with the token mailed to the
// account's address and signs the person in. Every other session ends: the
// person proved the mailbox, not the password, and whoever knows the
// password may not be them. For the same reason, an address nobody had
// verified loses its password (someone else may have registered it first,
// the pre-hijacked account); the provider signs the person in from now on.
func (s *Service) LinkByMail(ctx context.Context, mailToken string) (SignedIn, error) {
	l, u, err := s.findLink(ctx, "mail_hash", mailToken)
	if err != nil {
		return SignedIn{}, err
	}
	err = s.inTx(ctx, func(tx *gorm.DB) error {
		if err := spendLink(tx, l); err != nil {
			return err
		}
		if err := linkIdentity(ctx, u, l.identity(), "mailed link")(tx); err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE sessions SET revoked_at = now(), revoked_reason = 'account linked by mail'
			WHERE user_id = ? AND revoked_at IS NULL`, u.ID).Error; err != nil {
			return err
		}
		if u.EmailVerifiedAt != nil {
			return nil
		}
		if err := tx.Exec(`UPDATE users SET password_hash = '', email_verified_at = now(), updated_at = now() WHERE id = ?`, u.ID).Error; err != nil {
			return err
		}
		return appendAudit(ctx, tx, u.ID, "password.removed", u.ID, map[string]any{"reason": "unverified address linked to single sign-on"})
	}, func() { s.live.forgetUser(u.ID) })
	if err != nil {
		return SignedIn{}, err
	}
	return s.SignInExternal(ctx, u, "oidc")
}
