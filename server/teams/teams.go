// Package teams is the managers' area: teams with invite codes, module
// assignments with due dates, team progress (also as CSV) and choice
// analytics, each change audited. A manager sees and manages only their own
// teams; an admin all. (Reminders about assignments are server/notify's.)
package teams

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"time"

	"github.com/baton-course/baton/server/sealing"

	"gorm.io/gorm"

	"github.com/baton-course/baton/lessons"
	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/audit"
	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/problem"
	"github.com/baton-course/baton/server/progress"
)

// Service holds what the area needs: the database, the course, and the
// progress reader to derive assignment status from what learners did.
type Service struct {
	db       *gorm.DB
	course   *lessons.Course
	catalog  *quizzes.Catalog
	progress *progress.Reader
	sealer   *sealing.Sealer // opens the analytics secret when it is sealed; nil: it is not
	reads    *database.Reads // where team progress and analytics are read; nil: db
}

// New builds the service.
func New(db *gorm.DB, course *lessons.Course, catalog *quizzes.Catalog, pr *progress.Reader) *Service {
	return &Service{db: db, course: course, catalog: catalog, progress: pr}
}

// SealedWith makes the service open the analytics secret with sealer
// (BATON_SECRET_KEY), which start-up has sealed it with.
func (s *Service) SealedWith(sealer *sealing.Sealer) { s.sealer = sealer }

// ReadsFrom sends the team progress report's and the analytics' reads,
// which may lag, to r (a replica when one is configured).
func (s *Service) ReadsFrom(r *database.Reads) { s.reads = r }

// readLagging runs a read that may lag: on s.reads when set, else on s.db.
func (s *Service) readLagging(ctx context.Context, read func(*gorm.DB) error) error {
	if s.reads == nil {
		return read(s.db.WithContext(ctx))
	}
	return s.reads.Gorm(ctx, read)
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

// TeamRef names a team a user belongs to.
type TeamRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Summary is a team in a manager's list.
type Summary struct {
	Team
	Members int `json:"members"`
}

// Detail is a team with its members.
type Detail struct {
	Team
	Members []Member `json:"members"`
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

// record appends an audit entry inside tx, so it commits with the change.
func record(ctx context.Context, tx *gorm.DB, actorID, action, subject string, details map[string]any) error {
	return audit.Append(ctx, database.GormExec(tx), audit.Entry{ActorID: actorID, Action: action, Subject: subject, Details: details})
}

// Managed is a team the acting principal manages, as Manage found it:
// holding one is the permission to act on the team, so every team-scoped
// operation takes one.
type Managed struct {
	team Team
	by   accounts.Principal
}

// Team is the managed team as loaded.
func (m Managed) Team() Team { return m.team }

// valid guards against a zero Managed, which no caller was given.
func (m Managed) valid() error {
	if m.team.ID == "" {
		return problem.New(problem.NotFound, "No such team.")
	}
	return nil
}

// Manage loads a team p manages (an admin: any team). Anything else is not
// found, so team ids reveal nothing. Managing takes the manager role as p
// holds it now, not only being the team's manager_id: a demoted manager
// loses every view of their teams.
func (s *Service) Manage(ctx context.Context, p accounts.Principal, teamID string) (Managed, error) {
	if !accounts.IsUUID(teamID) || !p.IsManager() {
		return Managed{}, problem.New(problem.NotFound, "No such team.")
	}
	// The caller's role is read again in the same statement: a manager
	// demoted a moment ago on another instance is refused here at once, not
	// a notification's delay later, at no extra round trip.
	var row struct {
		Team
		CallerRole string
	}
	q := s.db.WithContext(ctx).Raw(`SELECT id, name, manager_id, invite_code, created_at,
		(SELECT role FROM users WHERE id = ?) AS caller_role FROM teams WHERE id = ?`, p.UserID, teamID)
	if err := q.Scan(&row).Error; err != nil {
		return Managed{}, err
	}
	p.Role = row.CallerRole
	if row.ID == "" || !p.IsManager() || (!p.IsAdmin() && row.ManagerID != p.UserID) {
		return Managed{}, problem.New(problem.NotFound, "No such team.")
	}
	return Managed{team: row.Team, by: p}, nil
}

// NewTeam is a team to create.
type NewTeam struct {
	Name string
	// InviteCode is the team's code; empty draws a fresh random one (what
	// managers get). Seeded data names its own so it can be documented.
	InviteCode string
}

// maxInviteCode bounds a chosen invite code.
const maxInviteCode = 64

// Create makes a team managed by p.
func (s *Service) Create(ctx context.Context, p accounts.Principal, in NewTeam) (Team, error) {
	name := accounts.CleanName(in.Name)
	if msg := accounts.NameProblem(name); msg != "" {
		return Team{}, problem.Validation(problem.FieldError{Field: "name", Message: msg})
	}
	code := newInviteCode()
	if in.InviteCode != "" {
		if code = normalizeCode(in.InviteCode); code == "" || len(code) > maxInviteCode {
			return Team{}, problem.Validation(problem.FieldError{Field: "invite_code", Message: "must be 1 to 64 characters"})
		}
	}
	var t Team
	var err error
	// A random code that happens to be taken is drawn again; a chosen one is
	// the caller's conflict.
	for try := 0; try < 3; try++ {
		if try > 0 {
			code = newInviteCode()
		}
		err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Raw(`INSERT INTO teams (name, manager_id, invite_code) VALUES (?, ?, ?)
				RETURNING id, name, manager_id, invite_code, created_at`, name, p.UserID, code).Scan(&t).Error; err != nil {
				return err
			}
			return record(ctx, tx, p.UserID, "team.create", "team:"+t.ID, map[string]any{"name": name})
		})
		if in.InviteCode != "" || !database.IsUniqueViolation(err, "teams_invite_code_key") {
			break
		}
	}
	if database.IsUniqueViolation(err, "teams_invite_code_key") {
		return Team{}, problem.New(problem.Conflict, "Another team has that invite code.")
	}
	return t, err
}

// List answers the teams p manages (an admin: all teams).
func (s *Service) List(ctx context.Context, p accounts.Principal) ([]Summary, error) {
	out := []Summary{}
	err := s.db.WithContext(ctx).Raw(`
		SELECT t.id, t.name, t.manager_id, t.invite_code, t.created_at, count(m.user_id) AS members
		FROM teams t LEFT JOIN team_members m ON m.team_id = t.id
		WHERE ? OR t.manager_id = ?
		GROUP BY t.id ORDER BY t.created_at`, p.IsAdmin(), p.UserID).Scan(&out).Error
	return out, err
}

// Detail answers a managed team with its members.
func (s *Service) Detail(ctx context.Context, m Managed) (Detail, error) {
	if err := m.valid(); err != nil {
		return Detail{}, err
	}
	members, err := s.members(ctx, m.team.ID)
	if err != nil {
		return Detail{}, err
	}
	return Detail{Team: m.team, Members: members}, nil
}

func (s *Service) members(ctx context.Context, teamID string) ([]Member, error) {
	out := []Member{}
	err := s.db.WithContext(ctx).Raw(`SELECT u.id, u.name, u.email, m.joined_at FROM team_members m JOIN users u ON u.id = m.user_id
		WHERE m.team_id = ? ORDER BY lower(u.name), u.email`, teamID).Scan(&out).Error
	return out, err
}

// RegenerateCode replaces the team's invite code; the old one stops working.
func (s *Service) RegenerateCode(ctx context.Context, m Managed) (Team, error) {
	if err := m.valid(); err != nil {
		return Team{}, err
	}
	t := m.team
	code := newInviteCode()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`UPDATE teams SET invite_code = ? WHERE id = ?`, code, t.ID).Error; err != nil {
			return err
		}
		return record(ctx, tx, m.by.UserID, "team.invite_code", "team:"+t.ID, nil)
	})
	if err != nil {
		return Team{}, err
	}
	t.InviteCode = code
	return t, nil
}

// managerHoldsRole is the SQL condition that a team's manager still holds
// the manager (or admin) role: a demoted manager's invite codes and
// invitations stop working with their views.
const managerHoldsRole = `EXISTS (SELECT 1 FROM users mu WHERE mu.id = t.manager_id AND mu.role IN ('manager', 'admin'))`

// Join adds p to the team whose invite code they give: typing the code is
// their consent.
func (s *Service) Join(ctx context.Context, p accounts.Principal, inviteCode string) (TeamRef, error) {
	var t Team
	if err := s.db.WithContext(ctx).Raw(`SELECT id, name, manager_id, invite_code, created_at FROM teams t
		WHERE invite_code = ? AND `+managerHoldsRole, normalizeCode(inviteCode)).Scan(&t).Error; err != nil {
		return TeamRef{}, err
	}
	if t.ID == "" {
		return TeamRef{}, problem.New(problem.NotFound, "No team has that invite code; it may have been replaced.")
	}
	if t.ManagerID == p.UserID {
		return TeamRef{}, problem.New(problem.Conflict, "You manage this team; managers are not members of their own team.")
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return addMember(ctx, tx, t.ID, p.UserID, p.UserID, "team.join", nil)
	})
	if err != nil {
		return TeamRef{}, err
	}
	return TeamRef{ID: t.ID, Name: t.Name}, nil
}

// addMember makes userID a member (idempotently) and gives them the team's
// open assignments, inside tx.
func addMember(ctx context.Context, tx *gorm.DB, teamID, userID, actorID, action string, details map[string]any) error {
	return addMembership(ctx, tx, teamID, userID, actorID, action, details, false)
}

// addMembership is addMember; provisioned marks a membership the company's
// identity provider made (a membership that exists already keeps its kind).
func addMembership(ctx context.Context, tx *gorm.DB, teamID, userID, actorID, action string, details map[string]any, provisioned bool) error {
	if err := lockTeam(tx, teamID); err != nil {
		return err
	}
	res := tx.Exec(`INSERT INTO team_members (team_id, user_id, provisioned) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		teamID, userID, provisioned)
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
		ON CONFLICT (user_id, module_slug) WHERE cancelled_at IS NULL DO NOTHING`, userID, teamID).Error; err != nil {
		return err
	}
	if err := noticeJoined(tx, teamID, userID); err != nil {
		return err
	}
	d := map[string]any{"user_id": userID}
	for k, v := range details {
		d[k] = v
	}
	return record(ctx, tx, actorID, action, "team:"+teamID, d)
}

// RemoveMember takes a learner out of a managed team.
func (s *Service) RemoveMember(ctx context.Context, m Managed, userID string) error {
	if err := m.valid(); err != nil {
		return err
	}
	if !accounts.IsUUID(userID) {
		return problem.New(problem.NotFound, "No such member.")
	}
	return s.removeMember(ctx, m.team.ID, userID, m.by.UserID, "team.member_remove")
}

// Leave takes p out of a team they are a member of: their manager no
// longer sees their progress, and their open assignments from it end.
func (s *Service) Leave(ctx context.Context, p accounts.Principal, teamID string) error {
	if !accounts.IsUUID(teamID) {
		return problem.New(problem.NotFound, "You are not a member of that team.")
	}
	err := s.removeMember(ctx, teamID, p.UserID, p.UserID, "team.leave")
	var pe *problem.Error
	if errors.As(err, &pe) && pe.Code == problem.NotFound {
		return problem.New(problem.NotFound, "You are not a member of that team.")
	}
	return err
}

// removeMember ends userID's membership and cancels the open assignments
// that came from the team, in one transaction: whether a manager removes
// them or they leave, the team stops reaching them.
func (s *Service) removeMember(ctx context.Context, teamID, userID, actorID, action string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockTeam(tx, teamID); err != nil {
			return err
		}
		res := tx.Exec(`DELETE FROM team_members WHERE team_id = ? AND user_id = ?`, teamID, userID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return problem.New(problem.NotFound, "No such member.")
		}
		if err := tx.Exec(`UPDATE assignments SET cancelled_at = now(), updated_at = now()
			WHERE user_id = ? AND team_id = ? AND cancelled_at IS NULL`, userID, teamID).Error; err != nil {
			return err
		}
		return record(ctx, tx, actorID, action, "team:"+teamID, map[string]any{"user_id": userID})
	})
}

// Membership is a team a user belongs to, with who manages it and whether
// the company's identity provider put them in it.
type Membership struct {
	TeamRef
	ManagerName string `json:"manager_name"`
	Provisioned bool   `json:"provisioned"`
}

// MemberOf lists the teams a user is a member of.
func (s *Service) MemberOf(ctx context.Context, userID string) ([]Membership, error) {
	out := []Membership{}
	err := s.db.WithContext(ctx).Raw(`SELECT t.id, t.name, mu.name AS manager_name, m.provisioned
		FROM team_members m JOIN teams t ON t.id = m.team_id JOIN users mu ON mu.id = t.manager_id
		WHERE m.user_id = ? ORDER BY t.name`, userID).Scan(&out).Error
	return out, err
}
