package lti

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/baton-course/baton/server/accounts"
)

// member is one person of an NRPS membership container (NRPS 2.0 §2.2).
type member struct {
	UserID     string   `json:"user_id"`
	Roles      []string `json:"roles"`
	Status     string   `json:"status"`
	Email      string   `json:"email"`
	Name       string   `json:"name"`
	GivenName  string   `json:"given_name"`
	FamilyName string   `json:"family_name"`
}

func (m member) learner() bool {
	return (m.Status == "" || m.Status == "Active") && slices.ContainsFunc(m.Roles, func(r string) bool {
		return r == roleLearner || r == "Learner" || strings.HasPrefix(r, roleLearner+"#")
	})
}

// maxRosterPages bounds how many pages of a roster Baton follows.
const maxRosterPages = 50

// roster fetches every page of the course's memberships.
func (s *Service) roster(ctx context.Context, p Platform, membershipsURL string) ([]member, error) {
	var all []member
	next := membershipsURL
	for page := 0; next != "" && page < maxRosterPages; page++ {
		tok, err := s.token(ctx, p, scopeMemberships)
		if err != nil {
			return nil, err
		}
		if p := serviceURLProblem(next); p != "" {
			return nil, fmt.Errorf("roster URL %s", p)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/vnd.ims.lti-nrps.v2.membershipcontainer+json")
		var out struct {
			Members []member `json:"members"`
		}
		h, err := s.doHeader(req, &out)
		if err != nil {
			return nil, err
		}
		next = nextLink(h.Values("Link"))
		all = append(all, out.Members...)
	}
	return all, nil
}

// nextLink reads rel="next" from Link headers (RFC 8288), as NRPS pages.
func nextLink(values []string) string {
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
			if ok && strings.Contains(strings.ReplaceAll(params, " ", ""), `rel="next"`) {
				return strings.Trim(strings.TrimSpace(target), "<>")
			}
		}
	}
	return ""
}

// SyncRoster fills the course's Baton team with its learners: each found
// or created by (platform, user_id) with their address, the launching
// instructor its manager (made one, if a learner, which reports promoted:
// their sessions ended). Learners who left the course leave the team;
// memberships people chose are never touched. Learners whose address
// belongs to a password account they have not linked are left out.
func (s *Service) SyncRoster(ctx context.Context, p Platform, instructorID, contextID, title, membershipsURL string) (bool, error) {
	ctx, cancel := ctxTimeout(ctx)
	defer cancel()
	members, err := s.roster(ctx, p, membershipsURL)
	if err != nil {
		return false, err
	}
	var learners []string
	skipped := 0
	for _, m := range members {
		if !m.learner() || m.UserID == "" {
			continue
		}
		email := accounts.NormalizeEmail(m.Email)
		if email == "" || accounts.EmailProblem(email) != "" {
			skipped++
			continue
		}
		u, err := s.accounts.ProvisionIdentity(ctx, identityOf(p, m.UserID, email, m.Name, m.GivenName, m.FamilyName))
		if errors.Is(err, accounts.ErrNeedsProof) || errors.Is(err, accounts.ErrIdentityConflict) || errors.Is(err, accounts.ErrDeactivated) {
			skipped++
			continue
		} else if err != nil {
			return false, err
		}
		if u.ID != instructorID && u.DeactivatedAt == nil && !slices.Contains(learners, u.ID) {
			learners = append(learners, u.ID)
		}
	}
	promoted := false
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if promoted, err = s.accounts.PromoteToManager(ctx, tx, instructorID); err != nil {
			return err
		}
		var teamID string
		if err := tx.Raw(`SELECT team_id FROM lti_courses WHERE platform_id = ? AND context_id = ? FOR UPDATE`, p.ID, contextID).Scan(&teamID).Error; err != nil {
			return err
		}
		team, _, err := s.teams.CourseTeam(ctx, tx, teamID, instructorID, title)
		if err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE teams SET manager_id = ? WHERE id = ?`, instructorID, team.ID).Error; err != nil {
			return err
		}
		if err := tx.Exec(`INSERT INTO lti_courses (platform_id, context_id, team_id) VALUES (?, ?, ?)
			ON CONFLICT (platform_id, context_id) DO UPDATE SET team_id = EXCLUDED.team_id, synced_at = now()`, p.ID, contextID, team.ID).Error; err != nil {
			return err
		}
		var before []string
		if err := tx.Raw(`SELECT user_id FROM lti_course_members WHERE team_id = ?`, team.ID).Scan(&before).Error; err != nil {
			return err
		}
		for _, id := range before {
			if slices.Contains(learners, id) {
				continue
			}
			if err := s.teams.RemoveCourseMember(ctx, tx, team.ID, id); err != nil {
				return err
			}
			if err := tx.Exec(`DELETE FROM lti_course_members WHERE team_id = ? AND user_id = ?`, team.ID, id).Error; err != nil {
				return err
			}
		}
		for _, id := range learners {
			var chosen bool
			// A membership that existed before the roster is the learner's
			// own: the roster never takes it away.
			if err := tx.Raw(`SELECT EXISTS (SELECT 1 FROM team_members WHERE team_id = ? AND user_id = ?)
				AND NOT EXISTS (SELECT 1 FROM lti_course_members WHERE team_id = ? AND user_id = ?)`, team.ID, id, team.ID, id).Scan(&chosen).Error; err != nil {
				return err
			}
			if chosen {
				continue
			}
			if err := s.teams.AddCourseMember(ctx, tx, team.ID, id); err != nil {
				return err
			}
			if err := tx.Exec(`INSERT INTO lti_course_members (team_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, team.ID, id).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	if promoted {
		s.accounts.SessionsEnded(instructorID, "")
	}
	if skipped > 0 {
		s.log.Info("LTI roster: learners left out (no address, or a password account not linked yet)", "platform", p.ID, "context", contextID, "skipped", skipped)
	}
	return promoted, nil
}
