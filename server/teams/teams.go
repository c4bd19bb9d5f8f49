// Package teams is the managers' area: teams with invite codes, module
// assignments with due dates, team progress (also as CSV), choice analytics,
// reminders delivered as notifications and email, and the audit trail of it
// all. A manager sees and manages only their own teams; an admin all.
package teams

import (
	"context"
	"crypto/rand"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/baton-course/baton/lessons"
	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/audit"
	"github.com/baton-course/baton/server/problem"
	"github.com/baton-course/baton/server/web/bind"
)

// Service holds what the area needs: the database and the course, to derive
// progress from what learners did.
type Service struct {
	db      *gorm.DB
	course  *lessons.Course
	catalog *quizzes.Catalog
	lessons *lessons.Store
	quizzes *quizzes.Store
}

// New builds the service.
func New(db *gorm.DB, course *lessons.Course, catalog *quizzes.Catalog, ls *lessons.Store, qs *quizzes.Store) *Service {
	return &Service{db: db, course: course, catalog: catalog, lessons: ls, quizzes: qs}
}

// Team is a row of teams.
type Team struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	ManagerID  string    `json:"manager_id"`
	InviteCode string    `json:"invite_code"`
	CreatedAt  time.Time `json:"created_at"`
}

// Member is a learner in a team as managers see them.
type Member struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Email    string    `json:"email"`
	JoinedAt time.Time `json:"joined_at,omitzero"`
}

// inviteAlphabet avoids look-alike characters so codes can be read aloud.
const inviteAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// newInviteCode is 12 random characters (60 bits): unguessable, typeable.
func newInviteCode() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = inviteAlphabet[int(b[i])%len(inviteAlphabet)]
	}
	return string(b[:4]) + "-" + string(b[4:8]) + "-" + string(b[8:])
}

func normalizeCode(s string) string {
	return strings.ToUpper(strings.NewReplacer(" ", "", "\x00", "").Replace(strings.TrimSpace(s)))
}

// lockTeam serialises the writes that change who is in a team and what it
// is assigned, so a learner joining while a team assignment is made gets it
// either way.
func lockTeam(tx *gorm.DB, teamID string) error {
	return tx.Exec(`SELECT 1 FROM teams WHERE id = ? FOR UPDATE`, teamID).Error
}

// managed loads a team the caller manages (an admin: any team). Anything
// else is not found, so team ids reveal nothing.
func (s *Service) managed(ctx context.Context, p accounts.Principal, id string) (Team, error) {
	var t Team
	if !accounts.IsUUID(id) {
		return t, problem.New(problem.NotFound, "No such team.")
	}
	q := s.db.WithContext(ctx).Raw(`SELECT id, name, manager_id, invite_code, created_at FROM teams WHERE id = ?`, id)
	if err := q.Scan(&t).Error; err != nil {
		return t, err
	}
	if t.ID == "" || (!p.IsAdmin() && t.ManagerID != p.UserID) {
		return Team{}, problem.New(problem.NotFound, "No such team.")
	}
	return t, nil
}

type nameRequest struct {
	Name string `json:"name"`
}

// Create makes a team managed by the caller.
func (s *Service) Create(c echo.Context) error {
	var req nameRequest
	if err := bind.JSON(c, &req); err != nil {
		return err
	}
	name := accounts.CleanName(req.Name)
	if msg := accounts.NameProblem(name); msg != "" {
		return problem.Validation(problem.FieldError{Field: "name", Message: msg})
	}
	p := principalOf(c)
	var t Team
	err := s.db.WithContext(c.Request().Context()).Transaction(func(tx *gorm.DB) error {
		if err := tx.Raw(`INSERT INTO teams (name, manager_id, invite_code) VALUES (?, ?, ?)
			RETURNING id, name, manager_id, invite_code, created_at`, name, p.UserID, newInviteCode()).Scan(&t).Error; err != nil {
			return err
		}
		return audit.Record(tx, p.UserID, "team.create", "team:"+t.ID, map[string]any{"name": name})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, t)
}

type teamSummary struct {
	Team
	Members int `json:"members"`
}

// List answers the teams the caller manages (an admin: all teams).
func (s *Service) List(c echo.Context) error {
	p := principalOf(c)
	out := []teamSummary{}
	err := s.db.WithContext(c.Request().Context()).Raw(`
		SELECT t.id, t.name, t.manager_id, t.invite_code, t.created_at, count(m.user_id) AS members
		FROM teams t LEFT JOIN team_members m ON m.team_id = t.id
		WHERE ? OR t.manager_id = ?
		GROUP BY t.id ORDER BY t.created_at`, p.IsAdmin(), p.UserID).Scan(&out).Error
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

type teamDetail struct {
	Team
	Members []Member `json:"members"`
}

// Get answers a managed team with its members.
func (s *Service) Get(c echo.Context) error {
	ctx := c.Request().Context()
	t, err := s.managed(ctx, principalOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	members, err := s.members(ctx, t.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, teamDetail{Team: t, Members: members})
}

func (s *Service) members(ctx context.Context, teamID string) ([]Member, error) {
	out := []Member{}
	err := s.db.WithContext(ctx).Raw(`SELECT u.id, u.name, u.email, m.joined_at FROM team_members m JOIN users u ON u.id = m.user_id
		WHERE m.team_id = ? ORDER BY lower(u.name), u.email`, teamID).Scan(&out).Error
	return out, err
}

// RegenerateCode replaces the team's invite code; the old one stops working.
func (s *Service) RegenerateCode(c echo.Context) error {
	ctx := c.Request().Context()
	p := principalOf(c)
	t, err := s.managed(ctx, p, c.Param("id"))
	if err != nil {
		return err
	}
	code := newInviteCode()
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`UPDATE teams SET invite_code = ? WHERE id = ?`, code, t.ID).Error; err != nil {
			return err
		}
		return audit.Record(tx, p.UserID, "team.invite_code", "team:"+t.ID, nil)
	})
	if err != nil {
		return err
	}
	t.InviteCode = code
	return c.JSON(http.StatusOK, t)
}

type joinRequest struct {
	InviteCode string `json:"invite_code"`
}

// Join adds the caller to the team whose invite code they give.
func (s *Service) Join(c echo.Context) error {
	var req joinRequest
	if err := bind.JSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	p := principalOf(c)
	var t Team
	if err := s.db.WithContext(ctx).Raw(`SELECT id, name, manager_id, invite_code, created_at FROM teams WHERE invite_code = ?`,
		normalizeCode(req.InviteCode)).Scan(&t).Error; err != nil {
		return err
	}
	if t.ID == "" {
		return problem.New(problem.NotFound, "No team has that invite code; it may have been replaced.")
	}
	if t.ManagerID == p.UserID {
		return problem.New(problem.Conflict, "You manage this team; managers are not members of their own team.")
	}
	if err := s.addMember(ctx, t, p.UserID, p.UserID, "team.join"); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"id": t.ID, "name": t.Name})
}

type memberRequest struct {
	Email string `json:"email"`
}

// AddMember adds a registered user to a managed team by email.
func (s *Service) AddMember(c echo.Context) error {
	ctx := c.Request().Context()
	p := principalOf(c)
	t, err := s.managed(ctx, p, c.Param("id"))
	if err != nil {
		return err
	}
	var req memberRequest
	if err := bind.JSON(c, &req); err != nil {
		return err
	}
	var m Member
	if err := s.db.WithContext(ctx).Raw(`SELECT id, name, email FROM users WHERE email = ?`, accounts.NormalizeEmail(req.Email)).Scan(&m).Error; err != nil {
		return err
	}
	if m.ID == "" {
		return problem.New(problem.NotFound, "No account with that email; ask them to sign up first, or share the invite code.")
	}
	if m.ID == t.ManagerID {
		return problem.New(problem.Conflict, "The team's manager cannot be one of its members.")
	}
	if err := s.addMember(ctx, t, m.ID, p.UserID, "team.member_add"); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, m)
}

// addMember makes userID a member (idempotently) and gives them the team's
// open assignments, in one transaction.
func (s *Service) addMember(ctx context.Context, t Team, userID, actorID, action string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockTeam(tx, t.ID); err != nil {
			return err
		}
		res := tx.Exec(`INSERT INTO team_members (team_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, t.ID, userID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return nil // already a member
		}
		// Open team assignments reach late joiners too.
		if err := tx.Exec(`INSERT INTO assignments (user_id, module_slug, due_at, team_id, team_assignment_id, assigned_by)
			SELECT ?, ta.module_slug, ta.due_at, ta.team_id, ta.id, ta.assigned_by FROM team_assignments ta
			WHERE ta.team_id = ? AND ta.cancelled_at IS NULL AND ta.due_at > now()
			ON CONFLICT (user_id, module_slug) WHERE cancelled_at IS NULL DO NOTHING`, userID, t.ID).Error; err != nil {
			return err
		}
		return audit.Record(tx, actorID, action, "team:"+t.ID, map[string]any{"user_id": userID})
	})
}

// RemoveMember takes a learner out of a managed team and cancels the open
// assignments that came from it.
func (s *Service) RemoveMember(c echo.Context) error {
	ctx := c.Request().Context()
	p := principalOf(c)
	t, err := s.managed(ctx, p, c.Param("id"))
	if err != nil {
		return err
	}
	uid := c.Param("user_id")
	if !accounts.IsUUID(uid) {
		return problem.New(problem.NotFound, "No such member.")
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockTeam(tx, t.ID); err != nil {
			return err
		}
		res := tx.Exec(`DELETE FROM team_members WHERE team_id = ? AND user_id = ?`, t.ID, uid)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return problem.New(problem.NotFound, "No such member.")
		}
		if err := tx.Exec(`UPDATE assignments SET cancelled_at = now(), updated_at = now()
			WHERE user_id = ? AND team_id = ? AND cancelled_at IS NULL`, uid, t.ID).Error; err != nil {
			return err
		}
		return audit.Record(tx, p.UserID, "team.member_remove", "team:"+t.ID, map[string]any{"user_id": uid})
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// TeamRef names a team a user belongs to.
type TeamRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// MemberOf lists the teams a user is a member of.
func (s *Service) MemberOf(ctx context.Context, userID string) ([]TeamRef, error) {
	out := []TeamRef{}
	err := s.db.WithContext(ctx).Raw(`SELECT t.id, t.name FROM team_members m JOIN teams t ON t.id = m.team_id
		WHERE m.user_id = ? ORDER BY t.name`, userID).Scan(&out).Error
	return out, err
}
