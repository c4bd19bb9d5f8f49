package accounts

import (
	"context"
	"slices"

	"gorm.io/gorm"

	"github.com/baton-course/baton/server/audit"
	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/problem"
)

// Accounts that a company's identity provider vouches for (SCIM
// provisioning, the first single sign-on) have no password: their
// password_hash is empty, which no password matches (Hasher.Verify treats it
// as "no such account", at the same cost). Their address counts as verified
// because the company that owns the domain asserted it.

// CreateExternalUser stores a passwordless account whose address the
// company's identity provider has verified, in tx (so the caller can add
// its link, team or identity in the same transaction). A listed
// BATON_ADMIN_EMAILS address is admin from the start, as a verified one
// would be. An address that has an account already: ErrEmailTaken.
func (s *Service) CreateExternalUser(ctx context.Context, tx *gorm.DB, email, name, via string) (User, error) {
	email, name = NormalizeEmail(email), CleanName(name)
	if err := problem.Fields("email", EmailProblem(email), "name", NameProblem(name)); err != nil {
		return User{}, err
	}
	role := RoleLearner
	if slices.Contains(s.cfg.AdminEmails, email) {
		role = RoleAdmin
	}
	var u User
	err := tx.WithContext(ctx).Raw(`INSERT INTO users (email, name, role, password_hash, email_verified_at)
		VALUES (?, ?, ?, '', now()) RETURNING `+userColumns, email, name, role).Scan(&u).Error
	if database.IsUniqueViolation(err) {
		return User{}, ErrEmailTaken
	} else if err != nil {
		return User{}, err
	}
	return u, appendAudit(ctx, tx, "", "user.create", u.ID, map[string]any{"via": via, "role": role})
}

// createUnverifiedExternal stores a passwordless learner whose address no
// one has proven yet (an LMS's word for it), in tx.
func (s *Service) createUnverifiedExternal(ctx context.Context, tx *gorm.DB, email, name, via string) (User, error) {
	email, name = NormalizeEmail(email), CleanName(name)
	if err := problem.Fields("email", EmailProblem(email), "name", NameProblem(name)); err != nil {
		return User{}, err
	}
	var u User
	err := tx.WithContext(ctx).Raw(`INSERT INTO users (email, name, role, password_hash) VALUES (?, ?, ?, '')
		RETURNING `+userColumns, email, name, RoleLearner).Scan(&u).Error
	if database.IsUniqueViolation(err) {
		return User{}, ErrEmailTaken
	} else if err != nil {
		return User{}, err
	}
	return u, appendAudit(ctx, tx, "", "user.create", u.ID, map[string]any{"via": via, "role": RoleLearner, "verified": false})
}

// SignInExternal opens a session for a person their identity provider has
// just authenticated (via names it in the audit log, e.g. "oidc"); also
// runs in the session's transaction.
func (s *Service) SignInExternal(ctx context.Context, u User, via string, also ...func(tx *gorm.DB) error) (SignedIn, error) {
	return s.signIn(ctx, u, append(also, func(tx *gorm.DB) error {
		return audit.Append(ctx, database.GormExec(tx), audit.Entry{ActorID: u.ID, Action: "auth.sign_in", Subject: "user:" + u.ID,
			Details: map[string]any{"via": via}})
	})...)
}

// UserByEmail loads the account with this (normalised) address.
func (s *Service) UserByEmail(ctx context.Context, email string) (User, bool, error) {
	return userWhere(ctx, s.db, "email = ?", NormalizeEmail(email))
}

// HasPassword reports whether the account can sign in with a password.
func (u User) HasPassword() bool { return u.PasswordHash != "" }
