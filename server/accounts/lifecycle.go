package accounts

import (
	"context"
	"slices"

	"gorm.io/gorm"

	"github.com/baton-course/baton/server/audit"
	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/problem"
)

// The account lifecycle: verifying the address, resetting and changing the
// password, listing and ending sessions, deleting the account. Every change
// is a security event in the audit log.

func appendAudit(ctx context.Context, tx *gorm.DB, actor, action, userID string, details map[string]any) error {
	return audit.Append(ctx, database.GormExec(tx), audit.Entry{ActorID: actor, Action: action, Subject: "user:" + userID, Details: details})
}

// sendFirstVerification queues the verification mail of a new account. A
// failure does not undo the sign-up: the person can ask for another link.
func (s *Service) sendFirstVerification(ctx context.Context, u User) {
	if err := s.inTx(ctx, func(tx *gorm.DB) error { return s.queueVerification(tx, u.ID) }); err != nil {
		s.log.Error("verification email not queued", "user", u.ID, "err", err)
	}
}

func (s *Service) queueVerification(tx *gorm.DB, userID string) error {
	raw, err := issueToken(tx, userID, purposeVerify, verifyTTL)
	if err != nil {
		return err
	}
	return queueMail(tx, userID, purposeVerify, "Confirm your email address for Baton",
		"Someone, hopefully you, signed up for Baton with this address.\n\n"+
			"To confirm it, open this link within 48 hours:\n\n"+s.link("/verify-email?token="+raw)+"\n\n"+
			"If it was not you, ignore this email: nothing happens without the link.\n")
}

// ResendVerification emails the caller a new verification link (a few an
// hour at most). An address already verified answers 409.
func (s *Service) ResendVerification(ctx context.Context, p Principal) error {
	u, err := s.User(ctx, p.UserID)
	if err != nil {
		return err
	}
	if u.EmailVerifiedAt != nil {
		return problem.New(problem.Conflict, "Your email address is already verified.")
	}
	return s.inTx(ctx, func(tx *gorm.DB) error {
		if err := countMail(tx, verifyPerUser, u.ID); err != nil {
			return err
		}
		return s.queueVerification(tx, u.ID)
	})
}

// VerifyEmail spends a verification link: the address it went to is
// verified, and an address listed in BATON_ADMIN_EMAILS becomes admin.
func (s *Service) VerifyEmail(ctx context.Context, raw string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		t, err := useToken(tx, raw, purposeVerify)
		if err != nil {
			return err
		}
		return s.markVerified(ctx, tx, t, "verification link")
	})
}

// markVerified records that the person read t.Email, if it is still the
// account's address, and promotes a listed admin address.
func (s *Service) markVerified(ctx context.Context, tx *gorm.DB, t usedToken, how string) error {
	var role string
	res := tx.Raw(`UPDATE users SET email_verified_at = now(), updated_at = now()
		WHERE id = ? AND email = ? AND email_verified_at IS NULL RETURNING role`, t.UserID, t.Email).Scan(&role)
	if res.Error != nil || res.RowsAffected == 0 {
		return res.Error
	}
	if err := appendAudit(ctx, tx, t.UserID, "email.verify", t.UserID, map[string]any{"by": how}); err != nil {
		return err
	}
	if role == RoleAdmin || !slices.Contains(s.cfg.AdminEmails, t.Email) {
		return nil
	}
	if err := tx.Exec(`UPDATE users SET role = ?, updated_at = now() WHERE id = ?`, RoleAdmin, t.UserID).Error; err != nil {
		return err
	}
	// As with any role change, the new privilege gets a new session.
	if err := tx.Exec(`UPDATE sessions SET revoked_at = now(), revoked_reason = 'role changed'
		WHERE user_id = ? AND revoked_at IS NULL`, t.UserID).Error; err != nil {
		return err
	}
	s.log.Info("verified admin address promoted", "user", t.UserID)
	return appendAudit(ctx, tx, "", "user.role", t.UserID,
		map[string]any{"from": role, "to": RoleAdmin, "reason": "verified address listed in BATON_ADMIN_EMAILS"})
}

// RequestPasswordReset emails a single-use reset link, valid 30 minutes, to
// the account with this address, if there is one. Known and unknown
// addresses get the same answer and cost the same statements (the mail is
// sent later, by the job queue), so the answer tells nobody whether an
// account exists. Requests are limited per address asked for and per
// client address (ip).
func (s *Service) RequestPasswordReset(ctx context.Context, email, ip string) error {
	email = NormalizeEmail(email)
	if err := problem.Fields("email", EmailProblem(email)); err != nil {
		return err
	}
	if err := s.refuseWhereSSORequired(ctx, email); err != nil {
		return err // a password would not sign in there anyway
	}
	raw := newRefreshToken()
	body := "Someone, hopefully you, asked to reset the password of your Baton account.\n\n" +
		"To choose a new password, open this link within 30 minutes (it works once):\n\n" +
		s.link("/reset-password?token="+raw) + "\n\n" +
		"If you did not ask, ignore this email: your password stays as it is.\n"
	return s.inTx(ctx, func(tx *gorm.DB) error {
		if err := countMail(tx, resetPerAddress, ip); err != nil {
			return err
		}
		if err := countMail(tx, resetPerEmail, email); err != nil {
			return err
		}
		var userID string
		if err := tx.Raw(`INSERT INTO account_tokens (user_id, purpose, email, expires_at, token_hash)
			SELECT id, ?, email, now() + make_interval(secs => ?), ? FROM users WHERE email = ? RETURNING user_id`,
			purposeReset, resetTTL.Seconds(), hashToken(raw), email).Scan(&userID).Error; err != nil {
			return err
		}
		if err := tx.Exec(`INSERT INTO account_emails (user_id, kind, to_email, to_name, subject, body)
			SELECT id, ?, email, name, ?, ? FROM users WHERE email = ?`,
			purposeReset, "Reset your Baton password", body, email).Error; err != nil {
			return err
		}
		subject := "unknown" // an address with no account: recorded, but not which
		if userID != "" {
			subject = userID
		}
		return appendAudit(ctx, tx, "", "password.reset_requested", subject, nil)
	})
}

// ConfirmPasswordReset spends a reset link and sets the new password: every
// session of the account ends, the address counts as verified (the link
// proved the mailbox) and the account's sign-in throttle starts afresh.
func (s *Service) ConfirmPasswordReset(ctx context.Context, raw, password string) error {
	var t usedToken
	// A look first, so that a password that breaks the rules keeps the link
	// usable; the spend below is what makes it single-use.
	res := s.db.WithContext(ctx).Raw(`SELECT user_id, email FROM account_tokens
		WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > now()`, hashToken(raw), purposeReset).Scan(&t)
	if res.Error != nil {
		return res.Error
	} else if res.RowsAffected != 1 {
		return ErrLinkInvalid
	}
	u, found, err := userWhere(ctx, s.db, "id = ?", t.UserID)
	if err != nil {
		return err
	} else if !found {
		return ErrLinkInvalid
	}
	if err := s.refuseWhereSSORequired(ctx, u.Email); err != nil {
		return err // the domain came to require single sign-on after the link was sent
	}
	if err := problem.Fields("password", PasswordProblem(password, u.Email, u.Name)); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *gorm.DB) error {
		if t, err = useToken(tx, raw, purposeReset); err != nil {
			return err
		}
		if err := s.setPassword(ctx, tx, u, hash, "", "password reset"); err != nil {
			return err
		}
		if err := ClearThrottle(ctx, tx, u.Email); err != nil {
			return err
		}
		if err := appendAudit(ctx, tx, u.ID, "password.reset", u.ID, nil); err != nil {
			return err
		}
		return s.markVerified(ctx, tx, t, "password reset link")
	}, func() { s.live.forgetUser(u.ID) })
}

// ChangePassword sets a new password for the caller, who proves it is them
// with the current one (a wrong one counts as a failed sign-in, under the
// same limits). Every other session of the account ends.
func (s *Service) ChangePassword(ctx context.Context, p Principal, current, next, ip string) error {
	if err := problem.Fields("current_password", problem.Required(current), "new_password", problem.Required(next)); err != nil {
		return err
	}
	u, err := s.confirmPassword(ctx, p, current, ip)
	if err != nil {
		return err
	}
	if err := problem.Fields("new_password", PasswordProblem(next, u.Email, u.Name)); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *gorm.DB) error {
		if err := s.setPassword(ctx, tx, u, hash, p.Session, "password changed"); err != nil {
			return err
		}
		return appendAudit(ctx, tx, u.ID, "password.change", u.ID, nil)
	}, func() { s.live.forgetUser(u.ID) })
}

// ErrNoPassword answers a password check for an account that has none.
var ErrNoPassword = &problem.Error{Code: problem.Forbidden,
	Detail: "Your account has no password: you sign in through your organisation's single sign-on."}

// confirmPassword checks the caller's password as a sign-in would: a
// wrong one answers 403 and counts against the sign-in limits.
func (s *Service) confirmPassword(ctx context.Context, p Principal, password, ip string) (User, error) {
	u, err := s.User(ctx, p.UserID)
	if err != nil {
		return u, err
	}
	if !u.HasPassword() {
		return u, ErrNoPassword
	}
	if len(password) > 4*MaxPasswordLen {
		password = password[:4*MaxPasswordLen] // never hash a megabyte
	}
	a := signInAttempt{keys: keysFor(u.Email, ip)}
	v, ok, locks, err := s.checkPassword(ctx, a, password, u.PasswordHash)
	if err != nil {
		return u, err
	} else if !ok {
		if err := s.auditFailure(ctx, a, v, u, true, locks); err != nil {
			return u, err
		}
		return u, problem.New(problem.Forbidden, "That is not your current password.")
	}
	return u, nil
}

// setPassword stores a new hash, ends every session but keep (none when
// empty), spends open reset links and tells the owner by mail.
func (s *Service) setPassword(ctx context.Context, tx *gorm.DB, u User, hash, keep, reason string) error {
	if err := tx.Exec(`UPDATE users SET password_hash = ?, updated_at = now() WHERE id = ?`, hash, u.ID).Error; err != nil {
		return err
	}
	if err := tx.Exec(`UPDATE sessions SET revoked_at = now(), revoked_reason = ?
		WHERE user_id = ? AND revoked_at IS NULL AND id::text <> ?`, reason, u.ID, keep).Error; err != nil {
		return err
	}
	if err := endTokens(tx, u.ID, purposeReset); err != nil {
		return err
	}
	return queueMail(tx, u.ID, "password_changed", "Your Baton password was changed",
		"The password of your Baton account was just changed, and your other sessions were signed out.\n\n"+
			"If this was not you, reset your password now: "+s.link("/forgot-password")+"\n")
}
