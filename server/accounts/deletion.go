package accounts

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/baton-course/baton/server/problem"
)

// DeleteAccount deletes the caller's account once they confirm it with
// their password (a wrong one: 403, counted as a failed sign-in), or, for
// an account without one, by a sign-in of the last few minutes. Deleting
// the users row takes everything hanging off it (progress, attempts,
// reflections, memberships, notifications, sessions, the teams the person
// manages) through the schema's cascades, so no manager view or analytics
// shows the person again and the address can register anew. Assignments the
// person gave others stay those learners', cancelled if still open. The last
// admin cannot leave (409): nobody could manage roles after them.
func (s *Service) DeleteAccount(ctx context.Context, p Principal, password, ip string) error {
	u, err := s.confirmOwner(ctx, p, password, ip)
	if err != nil {
		return err
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return deleteUser(ctx, tx, u, "self", "You are the last admin; make someone else admin before deleting your account.")
	})
	if err == nil {
		s.live.forgetUser(u.ID)
		s.log.Info("account deleted", "user", u.ID)
	}
	return err
}

// recentSignIn is how fresh the session of a passwordless account must be
// to stand in for the password it does not have.
const recentSignIn = 10 * time.Minute

// confirmOwner makes sure the caller is the account's owner before an
// irreversible step: by the password, or, where the account has none (its
// company's provider signs it in), by a session opened minutes ago.
func (s *Service) confirmOwner(ctx context.Context, p Principal, password, ip string) (User, error) {
	u, err := s.User(ctx, p.UserID)
	if err != nil {
		return u, err
	}
	if u.HasPassword() {
		if err := problem.Fields("password", problem.Required(password)); err != nil {
			return u, err
		}
		return s.confirmPassword(ctx, p, password, ip)
	}
	var fresh bool
	if err := s.db.WithContext(ctx).Raw(`SELECT created_at > now() - make_interval(secs => ?) FROM sessions WHERE id = ?`,
		recentSignIn.Seconds(), p.Session).Scan(&fresh).Error; err != nil {
		return u, err
	}
	if !fresh {
		return u, problem.New(problem.Forbidden, "Sign out and sign in again through your organisation first, then delete the account within 10 minutes.")
	}
	return u, nil
}

// deleteUser deletes u inside tx, refusing (409, lastAdmin) to delete the
// last admin. by says who asked ("self", "scim") in the audit entry. The
// caller tells this instance's session cache once tx commits.
func deleteUser(ctx context.Context, tx *gorm.DB, u User, by, lastAdmin string) error {
	// The roles lock orders this against a concurrent demotion, so two
	// admins cannot both leave or be demoted into having none.
	if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext('baton.roles'))").Error; err != nil {
		return err
	}
	var role string
	if err := tx.Raw(`SELECT role FROM users WHERE id = ?`, u.ID).Scan(&role).Error; err != nil {
		return err
	}
	if role == RoleAdmin {
		if err := refuseLastAdmin(tx, u.ID, lastAdmin); err != nil {
			return err
		}
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE assignments SET cancelled_at = now(), updated_at = now() WHERE assigned_by = ? AND cancelled_at IS NULL`, []any{u.ID}},
		{`UPDATE team_assignments SET cancelled_at = now() WHERE assigned_by = ? AND cancelled_at IS NULL`, []any{u.ID}},
		// The audit trail keeps what happened, not who the person was.
		{`UPDATE audit_events SET details = details - 'email' WHERE details->>'email' = ?`, []any{u.Email}},
		{`DELETE FROM mail_throttle WHERE key = ? OR key = ?`, []any{resetPerEmail.prefix + u.Email, verifyPerUser.prefix + u.ID}},
		// Learning records waiting for the LRS: the person's events go with
		// the person (the outbox holds ids, not rows it cascades from).
		{`DELETE FROM xapi_outbox WHERE source_id = ? OR source_id IN (SELECT id FROM attempts WHERE user_id = ?)
			OR source_id IN (SELECT id FROM practice_runs WHERE user_id = ?)`, []any{u.ID, u.ID, u.ID}},
		{`DELETE FROM users WHERE id = ?`, []any{u.ID}},
	} {
		if err := tx.Exec(q.sql, q.args...).Error; err != nil {
			return err
		}
	}
	if err := ClearThrottle(ctx, tx, u.Email); err != nil {
		return err
	}
	// Invitations are kept by address, not account, so the cascade does
	// not reach those sent to the person.
	if err := tx.Exec(`DELETE FROM team_invitations WHERE email = ?`, u.Email).Error; err != nil {
		return err
	}
	// No actor: the account is gone; the id is kept, the address not.
	return appendAudit(ctx, tx, "", "user.delete", u.ID, map[string]any{"by": by, "role": role})
}

// refuseLastAdmin answers 409 (detail) when no active admin but userID
// would be left; the caller holds the roles lock. A deactivated admin cannot
// sign in, so they do not count.
func refuseLastAdmin(tx *gorm.DB, userID, detail string) error {
	var others int64
	if err := tx.Raw(`SELECT count(*) FROM users WHERE role = ? AND deactivated_at IS NULL AND id <> ?`,
		RoleAdmin, userID).Scan(&others).Error; err != nil {
		return err
	}
	if others == 0 {
		return problem.New(problem.Conflict, "%s", detail)
	}
	return nil
}
