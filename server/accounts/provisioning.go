package accounts

import (
	"context"

	"gorm.io/gorm"

	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/problem"
)

// What a company's identity provider (SCIM, server/scim) may do to an
// account: change its address and name, turn it off and on, promote the
// manager it names, delete it. Each runs in the caller's transaction, so
// the provisioning change and its team changes commit together; the caller
// calls SessionsEnded for the accounts whose sessions ended once it commits.

// ErrDeactivated is every sign-in's answer for an account the company
// turned off.
var ErrDeactivated = &problem.Error{Code: problem.Forbidden, Detail: "Your company has turned off this account."}

// UserByID loads any account by id (found false for none or a malformed id).
func (s *Service) UserByID(ctx context.Context, tx *gorm.DB, id string) (User, bool, error) {
	if !IsUUID(id) {
		return User{}, false, nil
	}
	return userWhere(ctx, tx, "id = ?", id)
}

// UpdateIdentity sets the address and name the identity provider holds for
// an account (normalised and checked as at sign-up); the address counts as
// verified, the company asserts it. Another account's address: ErrEmailTaken.
func (s *Service) UpdateIdentity(ctx context.Context, tx *gorm.DB, id, email, name string) (User, error) {
	email, name = NormalizeEmail(email), CleanName(name)
	if err := problem.Fields("email", EmailProblem(email), "name", NameProblem(name)); err != nil {
		return User{}, err
	}
	var u User
	err := tx.WithContext(ctx).Raw(`UPDATE users SET email = ?, name = ?, updated_at = now(),
		email_verified_at = coalesce(email_verified_at, now()) WHERE id = ? RETURNING `+userColumns, email, name, id).Scan(&u).Error
	if database.IsUniqueViolation(err) {
		return User{}, ErrEmailTaken
	}
	return u, err
}

// Deactivate turns an account off: its sessions end at once (the
// revocation trigger tells every instance) and sign-in and refresh are
// refused until Reactivate. The last active admin cannot be turned off
// (409). Reports whether the account was on.
func (s *Service) Deactivate(ctx context.Context, tx *gorm.DB, id string) (bool, error) {
	if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext('baton.roles'))").Error; err != nil {
		return false, err
	}
	u, found, err := userWhere(ctx, tx, "id = ? FOR UPDATE", id)
	if err != nil || !found || u.DeactivatedAt != nil {
		return false, err
	}
	if u.Role == RoleAdmin {
		if err := refuseLastAdmin(tx, u.ID, "This is the last active admin; make someone else admin first."); err != nil {
			return false, err
		}
	}
	if err := tx.Exec(`UPDATE users SET deactivated_at = now(), updated_at = now() WHERE id = ?`, id).Error; err != nil {
		return false, err
	}
	if err := tx.Exec(`UPDATE sessions SET revoked_at = now(), revoked_reason = 'deactivated'
		WHERE user_id = ? AND revoked_at IS NULL`, id).Error; err != nil {
		return false, err
	}
	return true, appendAudit(ctx, tx, "", "user.deactivate", id, map[string]any{"by": "scim"})
}

// Reactivate turns a deactivated account on again; reports whether it was off.
func (s *Service) Reactivate(ctx context.Context, tx *gorm.DB, id string) (bool, error) {
	res := tx.WithContext(ctx).Exec(`UPDATE users SET deactivated_at = NULL, updated_at = now()
		WHERE id = ? AND deactivated_at IS NOT NULL`, id)
	if res.Error != nil || res.RowsAffected == 0 {
		return false, res.Error
	}
	return true, appendAudit(ctx, tx, "", "user.reactivate", id, map[string]any{"by": "scim"})
}

// PromoteToManager gives a learner the manager role, the way an admin's
// role change does (their sessions end: a new privilege level, a new
// session); a manager or admin keeps their role. Reports whether it changed.
func (s *Service) PromoteToManager(ctx context.Context, tx *gorm.DB, id string) (bool, error) {
	if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext('baton.roles'))").Error; err != nil {
		return false, err
	}
	u, found, err := userWhere(ctx, tx, "id = ?", id)
	if err != nil || !found || u.Role != RoleLearner {
		return false, err
	}
	return true, changeRole(ctx, tx, "", &u, RoleManager)
}

// DeleteProvisioned deletes an account the identity provider removed,
// exactly as the person deleting it themselves would (deleteUser); the last
// active admin cannot be deleted (409).
func (s *Service) DeleteProvisioned(ctx context.Context, tx *gorm.DB, u User) error {
	return deleteUser(ctx, tx, u, "scim", "This is the last active admin; make someone else admin first.")
}

// ClaimForProvisioning is what becoming managed by the company's identity
// provider (SCIM) does to an account someone registered themselves: if its
// address was never verified, whoever registered it may not be the person
// the company means (the pre-hijacked account), so its password goes and
// its sessions end, in tx; the address counts as verified from now on, as
// the company asserts it. It reports whether sessions ended (the caller
// calls SessionsEnded once tx commits).
func (s *Service) ClaimForProvisioning(ctx context.Context, tx *gorm.DB, id string) (bool, error) {
	res := tx.WithContext(ctx).Exec(`UPDATE users SET password_hash = '', email_verified_at = now(), updated_at = now()
		WHERE id = ? AND email_verified_at IS NULL AND password_hash <> ''`, id)
	if res.Error != nil || res.RowsAffected == 0 {
		return false, res.Error
	}
	if err := tx.Exec(`UPDATE sessions SET revoked_at = now(), revoked_reason = 'provisioned by the company'
		WHERE user_id = ? AND revoked_at IS NULL`, id).Error; err != nil {
		return false, err
	}
	return true, appendAudit(ctx, tx, "", "password.removed", id, map[string]any{"reason": "unverified account provisioned by SCIM"})
}
