package teams

import (
	"context"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/baton-course/baton/server/accounts"
)

// Course teams mirror a learning platform's course roster (LTI Names and
// Role Provisioning, server/lti): one team per course, named after it and
// managed by the instructor who launched Baton from it. Like provisioned
// teams, their roster memberships are the platform's doing, not the
// learner's; the caller keeps which memberships the roster made, so it
// removes only those. Each function runs in the caller's transaction.

// CourseTeam loads the team teamID ("" or gone: creates one named after
// the course and managed by managerID) and returns it.
func (s *Service) CourseTeam(ctx context.Context, tx *gorm.DB, teamID, managerID, course string) (TeamRef, bool, error) {
	var t TeamRef
	if teamID != "" {
		if err := tx.Raw(`SELECT id, name FROM teams WHERE id = ? FOR UPDATE`, teamID).Scan(&t).Error; err != nil || t.ID != "" {
			return t, false, err
		}
	}
	if err := tx.Raw(`INSERT INTO teams (name, manager_id, invite_code) VALUES (?, ?, ?) RETURNING id, name`,
		CourseTeamName(course), managerID, newInviteCode()).Scan(&t).Error; err != nil {
		return TeamRef{}, false, err
	}
	return t, true, record(ctx, tx, "", "lti.team.create", "team:"+t.ID, map[string]any{"name": t.Name, "manager_id": managerID})
}

// CourseTeamName is the course's title within a team name's 100
// characters ("Course" when the platform gives none).
func CourseTeamName(course string) string {
	name := accounts.CleanName(course)
	if name == "" {
		name = "Course"
	}
	if utf8.RuneCountInString(name) > 100 {
		name = string([]rune(name)[:100])
	}
	return name
}

// AddCourseMember makes userID a member of the course team (idempotently),
// with the team's open assignments.
func (s *Service) AddCourseMember(ctx context.Context, tx *gorm.DB, teamID, userID string) error {
	return addMembership(ctx, tx, teamID, userID, "", "lti.team.member_add", nil, false)
}

// RemoveCourseMember takes someone who left the course out of its team.
func (s *Service) RemoveCourseMember(ctx context.Context, tx *gorm.DB, teamID, userID string) error {
	return endMembership(ctx, tx, teamID, userID, "lti.team.member_remove")
}
