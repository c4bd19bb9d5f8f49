package teams

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/problem"
)

// Invitation rules.
const (
	// InvitationTTL is how long an invitation can be accepted.
	InvitationTTL = 30 * 24 * time.Hour
	// InvitesPerDay bounds the invitations one person sends in a rolling
	// day, across all the teams they manage: enough to invite a department,
	// too few to make Baton a mailer.
	InvitesPerDay = 200
	// KindInvitation is the notification kind of a team invitation.
	KindInvitation = "team_invitation"
	// invitationsLink is where the app shows a learner's invitations.
	invitationsLink = "/#invitations"
)

// InvitationStatus is what the manager is told after inviting.
type InvitationStatus struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// SentInvitation is a pending invitation as the team's manager lists it:
// only the address they typed, never whether it has an account.
type SentInvitation struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// ManagerRef names a team's manager to an invitee.
type ManagerRef struct {
	Name string `json:"name"`
}

// Invitation is a pending invitation as its invitee sees it.
type Invitation struct {
	ID        string     `json:"id"`
	Team      TeamRef    `json:"team"`
	Manager   ManagerRef `json:"manager"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
}

// errNoInvitation is the answer for an invitation that is not the caller's
// to answer: someone else's, unknown, answered, withdrawn or expired alike.
var errNoInvitation = problem.New(problem.NotFound, "No such invitation; it may have been answered, withdrawn or have expired.")

// openInvitations is the one definition of the invitations a user (me.id =
// the first argument) may see and answer: addressed to their email, pending,
// not expired, from a team whose manager still holds the role, and not for
// a team they manage — and only once they have verified that email: whoever
// registers someone else's address must not see, or accept as them, the
// invitations sent to it. Listing and answering both read it.
const openInvitations = `FROM team_invitations i
	JOIN users me ON me.email = i.email
	JOIN teams t ON t.id = i.team_id
	JOIN users mu ON mu.id = t.manager_id
	WHERE me.id = ? AND me.email_verified_at IS NOT NULL AND i.answered_at IS NULL AND i.expires_at > now()
	  AND mu.role IN ('manager', 'admin') AND t.manager_id <> me.id`

// Invite invites email to a managed team. It never enrols: the person
// becomes a member only by accepting. The answer is the same whether or not
// the email has an account, and the same statements run either way (the
// account only decides how many rows the notification insert writes), so
// neither the body nor the timing tells a manager who is registered. Inviting
// an address again while its invitation is pending answers that invitation;
// inviting a current member (or the team's own manager) changes nothing.
func (s *Service) Invite(ctx context.Context, m Managed, email string) (InvitationStatus, error) {
	if err := m.valid(); err != nil {
		return InvitationStatus{}, err
	}
	email = accounts.NormalizeEmail(email)
	if msg := accounts.EmailProblem(email); msg != "" {
		return InvitationStatus{}, problem.Validation(problem.FieldError{Field: "email", Message: msg})
	}
	t, actor := m.team, m.by.UserID
	out := InvitationStatus{Status: "pending"}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := underInviteLimit(tx, actor); err != nil {
			return err
		}
		// A pending invitation that ran out makes way for a new one.
		if err := tx.Exec(`UPDATE team_invitations SET answered_at = now(), answer = 'expired'
			WHERE team_id = ? AND email = ? AND answered_at IS NULL AND expires_at <= now()`, t.ID, email).Error; err != nil {
			return err
		}
		var created []string
		if err := tx.Raw(`INSERT INTO team_invitations (team_id, email, invited_by, expires_at)
			SELECT ?, ?, ?, now() + make_interval(secs => ?)
			WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.email = ? AND (u.id = ?
				OR EXISTS (SELECT 1 FROM team_members tm WHERE tm.team_id = ? AND tm.user_id = u.id)))
			ON CONFLICT (team_id, email) WHERE answered_at IS NULL DO NOTHING
			RETURNING id`, t.ID, email, actor, InvitationTTL.Seconds(), email, t.ManagerID, t.ID).Scan(&created).Error; err != nil {
			return err
		}
		if len(created) == 1 {
			out.ID = created[0]
			if err := s.noticeInvitation(tx, t, out.ID, email); err != nil {
				return err
			}
			return record(ctx, tx, actor, "team.invite", "team:"+t.ID, map[string]any{"invitation_id": out.ID})
		}
		if err := tx.Raw(`SELECT id FROM team_invitations WHERE team_id = ? AND email = ? AND answered_at IS NULL`,
			t.ID, email).Scan(&out.ID).Error; err != nil {
			return err
		}
		if out.ID == "" {
			// Already a member (which the manager can see anyway): nothing is
			// stored, and the id names no invitation.
			out.ID = randomUUID()
		}
		return nil
	})
	return out, err
}

// underInviteLimit refuses a sender who already sent InvitesPerDay
// invitations in the last day. An advisory lock on the sender makes the
// count exact under concurrent invites.
func underInviteLimit(tx *gorm.DB, senderID string) error {
	if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtext('baton.invite:' || ?))`, senderID).Error; err != nil {
		return err
	}
	var sent struct {
		N      int
		Oldest *time.Time
	}
	if err := tx.Raw(`SELECT count(*) AS n, min(created_at) AS oldest FROM team_invitations
		WHERE invited_by = ? AND created_at > now() - interval '1 day'`, senderID).Scan(&sent).Error; err != nil {
		return err
	}
	if sent.N < InvitesPerDay || sent.Oldest == nil {
		return nil
	}
	wait := max(time.Until(sent.Oldest.Add(24*time.Hour)), time.Second)
	return &problem.Error{Code: problem.TooMany, RetryAfter: wait,
		Detail: fmt.Sprintf("You have sent %d invitations in the last day; wait before inviting more, or share the team's invite code.", InvitesPerDay)}
}

// noticeInvitation tells the invitee in the app and by email, when the
// address has an account whose owner verified it (whoever registered
// someone else's address hears nothing of what is sent to it). A stranger
// is not mailed: Baton would otherwise
// send a manager's chosen words to any address; their invitation waits and
// shows once they register with it. A team whose invitation this address
// declined in the last 30 days may invite again, but is not mailed again,
// so a decline cannot be answered with a stream of mail.
func (s *Service) noticeInvitation(tx *gorm.DB, t Team, invitationID, email string) error {
	var manager string
	if err := tx.Raw(`SELECT name FROM users WHERE id = ?`, t.ManagerID).Scan(&manager).Error; err != nil {
		return err
	}
	title := fmt.Sprintf("Invitation to join %s", t.Name)
	body := fmt.Sprintf("%s invited you to join the team %q. If you accept, %s will see your course progress and can assign you modules. "+
		"You can accept or decline on your home page, and leave the team later.", manager, t.Name, manager)
	return tx.Exec(`INSERT INTO notifications (user_id, kind, invitation_id, title, body, link, email_status)
		SELECT u.id, ?, ?, ?, ?, ?, CASE WHEN EXISTS (SELECT 1 FROM team_invitations d WHERE d.team_id = ? AND d.email = u.email
			AND d.answer = 'declined' AND d.answered_at > now() - interval '30 days') THEN 'none' ELSE 'pending' END
		FROM users u WHERE u.email = ? AND u.email_verified_at IS NOT NULL`,
		KindInvitation, invitationID, title, body, invitationsLink, t.ID, email).Error
}

// SentInvitations lists a managed team's pending invitations, newest first.
func (s *Service) SentInvitations(ctx context.Context, m Managed) ([]SentInvitation, error) {
	if err := m.valid(); err != nil {
		return nil, err
	}
	out := []SentInvitation{}
	err := s.db.WithContext(ctx).Raw(`SELECT id, email, created_at, expires_at FROM team_invitations
		WHERE team_id = ? AND answered_at IS NULL AND expires_at > now() ORDER BY created_at DESC, email`, m.team.ID).Scan(&out).Error
	return out, err
}

// Withdraw takes back a pending invitation of a managed team; its notice
// goes, and so does its email if not sent yet.
func (s *Service) Withdraw(ctx context.Context, m Managed, invitationID string) error {
	if err := m.valid(); err != nil {
		return err
	}
	if !accounts.IsUUID(invitationID) {
		return errNoInvitation
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE team_invitations SET answered_at = now(), answer = 'withdrawn'
			WHERE id = ? AND team_id = ? AND answered_at IS NULL AND expires_at > now()`, invitationID, m.team.ID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errNoInvitation
		}
		if err := tx.Exec(`DELETE FROM notifications WHERE invitation_id = ?`, invitationID).Error; err != nil {
			return err
		}
		return record(ctx, tx, m.by.UserID, "team.invitation_withdraw", "team:"+m.team.ID, map[string]any{"invitation_id": invitationID})
	})
}

// Invitations lists p's pending invitations, newest first.
func (s *Service) Invitations(ctx context.Context, p accounts.Principal) ([]Invitation, error) {
	var rows []struct {
		ID, TeamID, TeamName, ManagerName string
		CreatedAt, ExpiresAt              time.Time
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT i.id, t.id AS team_id, t.name AS team_name, mu.name AS manager_name, i.created_at, i.expires_at
		`+openInvitations+`
		  AND NOT EXISTS (SELECT 1 FROM team_members tm WHERE tm.team_id = t.id AND tm.user_id = me.id)
		ORDER BY i.created_at DESC`, p.UserID).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]Invitation, 0, len(rows))
	for _, r := range rows {
		out = append(out, Invitation{ID: r.ID, Team: TeamRef{ID: r.TeamID, Name: r.TeamName},
			Manager: ManagerRef{Name: r.ManagerName}, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt})
	}
	return out, nil
}

// Accept makes p a member of the invitation's team, with its open
// assignments, and marks the invitation accepted, in one transaction.
func (s *Service) Accept(ctx context.Context, p accounts.Principal, invitationID string) (TeamRef, error) {
	var ref TeamRef
	err := s.answer(ctx, p, invitationID, "accepted", func(tx *gorm.DB, t TeamRef) error {
		ref = t
		return addMember(ctx, tx, t.ID, p.UserID, p.UserID, "team.invitation_accept", map[string]any{"invitation_id": invitationID})
	})
	return ref, err
}

// Decline turns the invitation down; the manager's pending list loses it.
func (s *Service) Decline(ctx context.Context, p accounts.Principal, invitationID string) error {
	return s.answer(ctx, p, invitationID, "declined", func(tx *gorm.DB, t TeamRef) error {
		return record(ctx, tx, p.UserID, "team.invitation_decline", "team:"+t.ID, map[string]any{"invitation_id": invitationID})
	})
}

// answer records p's answer to one of their open invitations and runs then
// in the same transaction. The invitation's notice is marked read and its
// email, if not sent yet, is not sent.
func (s *Service) answer(ctx context.Context, p accounts.Principal, invitationID, answer string, then func(*gorm.DB, TeamRef) error) error {
	if !accounts.IsUUID(invitationID) {
		return errNoInvitation
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var t TeamRef
		if err := tx.Raw(`SELECT t.id, t.name `+openInvitations+` AND i.id = ? FOR UPDATE OF i`,
			p.UserID, invitationID).Scan(&t).Error; err != nil {
			return err
		}
		if t.ID == "" {
			return errNoInvitation
		}
		if err := tx.Exec(`UPDATE team_invitations SET answered_at = now(), answer = ? WHERE id = ?`, answer, invitationID).Error; err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE notifications SET read_at = coalesce(read_at, now()),
			email_status = CASE WHEN email_status = 'pending' THEN 'none' ELSE email_status END
			WHERE invitation_id = ?`, invitationID).Error; err != nil {
			return err
		}
		return then(tx, t)
	})
}

// randomUUID is a version 4 UUID that names nothing stored.
func randomUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
