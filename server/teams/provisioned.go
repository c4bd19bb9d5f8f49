package teams

import (
	"context"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/baton-course/baton/server/accounts"
)

// Provisioned teams are built by the company's identity provider (SCIM,
// server/scim): a user whose record names a manager is a member of that
// manager's provisioned team, made on demand. Those memberships are the
// company's consent, not the learner's; the memberships a learner chose
// (invite code, invitation) are never touched here. Each function runs in
// the caller's transaction; audit entries have no actor (the provider).

// Provision makes userID a member of managerID's provisioned team and of no
// other provisioned team ("" managerID: of none). A new membership gets the
// team's open assignments, as any late joiner does. Reports the team and
// whether it was created.
func (s *Service) Provision(ctx context.Context, tx *gorm.DB, userID, managerID string) (TeamRef, bool, error) {
	var team TeamRef
	created := false
	if managerID != "" {
		var err error
		if team, created, err = s.provisionedTeam(ctx, tx, managerID); err != nil {
			return TeamRef{}, false, err
		}
	}
	var old []string
	if err := tx.Raw(`SELECT team_id FROM team_members WHERE user_id = ? AND provisioned AND team_id IS DISTINCT FROM ?`,
		userID, nullable(team.ID)).Scan(&old).Error; err != nil {
		return TeamRef{}, false, err
	}
	for _, teamID := range old {
		if err := endMembership(ctx, tx, teamID, userID, "scim.team.member_remove"); err != nil {
			return TeamRef{}, false, err
		}
	}
	if team.ID != "" {
		if err := addMembership(ctx, tx, team.ID, userID, "", "scim.team.member_add", nil, true); err != nil {
			return TeamRef{}, false, err
		}
	}
	return team, created, nil
}

// EndMemberships takes a deactivated user out of every team (chosen or
// provisioned), so no team view, export, analytics or digest shows them;
// their open team assignments end with the memberships.
func (s *Service) EndMemberships(ctx context.Context, tx *gorm.DB, userID string) error {
	var ids []string
	if err := tx.Raw(`SELECT team_id FROM team_members WHERE user_id = ?`, userID).Scan(&ids).Error; err != nil {
		return err
	}
	for _, teamID := range ids {
		if err := endMembership(ctx, tx, teamID, userID, "scim.team.member_remove"); err != nil {
			return err
		}
	}
	return nil
}

// provisionedTeam loads managerID's provisioned team, creating it (named
// after the manager) when there is none.
func (s *Service) provisionedTeam(ctx context.Context, tx *gorm.DB, managerID string) (TeamRef, bool, error) {
	// The manager's row lock orders two reports provisioned at once, so the
	// second finds the team the first made.
	var name string
	if err := tx.Raw(`SELECT name FROM users WHERE id = ? FOR UPDATE`, managerID).Scan(&name).Error; err != nil {
		return TeamRef{}, false, err
	}
	var t TeamRef
	if err := tx.Raw(`SELECT id, name FROM teams WHERE manager_id = ? AND provisioned`, managerID).Scan(&t).Error; err != nil {
		return TeamRef{}, false, err
	}
	if t.ID != "" {
		return t, false, nil
	}
	if err := tx.Raw(`INSERT INTO teams (name, manager_id, invite_code, provisioned) VALUES (?, ?, ?, true)
		RETURNING id, name`, TeamNameFor(name), managerID, newInviteCode()).Scan(&t).Error; err != nil {
		return TeamRef{}, false, err
	}
	return t, true, record(ctx, tx, "", "scim.team.create", "team:"+t.ID, map[string]any{"name": t.Name, "manager_id": managerID})
}

// TeamNameFor names a manager's provisioned team ("Dana Reyes's team"),
// within the 100 characters a team name may have.
func TeamNameFor(manager string) string {
	const suffix = "'s team"
	limit := 100 - utf8.RuneCountInString(suffix)
	if r := []rune(accounts.CleanName(manager)); len(r) > limit {
		manager = string(r[:limit])
	}
	return accounts.CleanName(manager) + suffix
}

// endMembership deletes one membership and cancels the open assignments
// that came from the team, as removeMember does, inside tx.
func endMembership(ctx context.Context, tx *gorm.DB, teamID, userID, action string) error {
	if err := lockTeam(tx, teamID); err != nil {
		return err
	}
	if err := tx.Exec(`DELETE FROM team_members WHERE team_id = ? AND user_id = ?`, teamID, userID).Error; err != nil {
		return err
	}
	if err := tx.Exec(`UPDATE assignments SET cancelled_at = now(), updated_at = now()
		WHERE user_id = ? AND team_id = ? AND cancelled_at IS NULL`, userID, teamID).Error; err != nil {
		return err
	}
	return record(ctx, tx, "", action, "team:"+teamID, map[string]any{"user_id": userID})
}

func nullable(id string) any {
	if id == "" {
		return nil
	}
	return id
}
