package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/audit"
	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/problem"
	"github.com/baton-course/baton/server/teams"
)

// DemoPassword is the password of every demo account. Demo mode is for
// trying Baton on a laptop; never set BATON_DEMO on a real deployment.
const DemoPassword = "influence-not-authority"

type demoAccount struct{ email, name, role string }

var demoAccounts = []demoAccount{
	{"manager@demo.baton.local", "Maya Okafor", accounts.RoleManager},
	{"ana@demo.baton.local", "Ana Lima", accounts.RoleLearner},
	{"ben@demo.baton.local", "Ben Carter", accounts.RoleLearner},
	{"chloe@demo.baton.local", "Chloé Dubois", accounts.RoleLearner},
}

// seedDemo creates the demo accounts, a team managed by the demo manager
// with the learners in it, two assignments and some progress, unless they
// exist, and logs how to sign in. Instances starting together converge on
// one set (an advisory lock orders them).
func (s *Services) seedDemo(ctx context.Context) error {
	ids := map[string]string{}
	for _, a := range demoAccounts {
		u, err := s.Accounts.CreateUser(ctx, a.email, DemoPassword, a.name, a.role)
		var p *problem.Error
		if errors.As(err, &p) && p.Code == problem.Conflict {
			if err := s.db.Gorm.WithContext(ctx).Raw("SELECT id FROM users WHERE email = ?", a.email).Scan(&u.ID).Error; err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		ids[a.email] = u.ID
		// Demo addresses receive no mail: they count as verified.
		if err := s.db.Gorm.WithContext(ctx).Exec(`UPDATE users SET email_verified_at = now()
			WHERE id = ? AND email_verified_at IS NULL`, u.ID).Error; err != nil {
			return err
		}
	}
	if err := s.seedDemoTeam(ctx, ids); err != nil {
		return err
	}
	s.log.Info("demo accounts ready (BATON_DEMO=1)", "password", DemoPassword,
		"manager", demoAccounts[0].email, "learners", []string{demoAccounts[1].email, demoAccounts[2].email, demoAccounts[3].email})
	return nil
}

// The demo team, and what its manager assigns it: one module overdue, one
// due in five days.
const (
	demoTeamName   = "Demo product pod"
	demoInviteCode = "DEMO-TEAM-2026"
)

var demoAssignments = []struct {
	module string
	due    time.Duration // from now
}{{"ceo-myth", -24 * time.Hour}, {"what-you-dont-control", 5 * 24 * time.Hour}}

// seedDemoTeam builds the demo team through the teams area, as its manager
// and learners would: create it, invite the learners who accept, assign
// modules to the team. A
// transaction holding an advisory lock orders instances starting together;
// the "demo.seed" audit event it commits last marks the demo as done, and
// each step skips what an interrupted earlier run already did.
func (s *Services) seedDemoTeam(ctx context.Context, ids map[string]string) error {
	lock, err := s.db.Pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer lock.Rollback(context.Background()) //nolint:errcheck // after Commit it is a no-op
	if _, err := lock.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('baton.demo'))"); err != nil {
		return err
	}
	var seeded bool
	if err := lock.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM audit_events WHERE action = 'demo.seed')").Scan(&seeded); err != nil {
		return err
	}
	if seeded {
		return lock.Commit(ctx)
	}
	manager := accounts.Principal{UserID: ids[demoAccounts[0].email], Role: accounts.RoleManager}
	team, err := s.demoTeam(ctx, manager)
	if err != nil {
		return err
	}
	for _, a := range demoAccounts[1:] {
		// Invited and accepted, as a manager and learner would; a learner who
		// is a member already (an interrupted run) has nothing to accept.
		inv, err := s.Teams.Invite(ctx, team, a.email)
		if err != nil {
			return err
		}
		learner := accounts.Principal{UserID: ids[a.email], Role: a.role}
		var p *problem.Error
		if _, err := s.Teams.Accept(ctx, learner, inv.ID); err != nil && (!errors.As(err, &p) || p.Code != problem.NotFound) {
			return err
		}
	}
	assigned, err := s.Teams.TeamAssignments(ctx, team)
	if err != nil {
		return err
	}
	has := map[string]bool{}
	for _, a := range assigned {
		has[a.Module] = true
	}
	teamID := team.Team().ID
	now := time.Now()
	for _, as := range demoAssignments {
		if has[as.module] {
			continue
		}
		if _, err := s.Teams.Assign(ctx, manager, teams.NewAssignment{
			Module: as.module, DueAt: now.Add(as.due).UTC().Format(time.RFC3339), TeamID: &teamID,
		}); err != nil {
			return err
		}
	}
	if err := s.seedDemoProgress(ctx, ids); err != nil {
		return err
	}
	if err := audit.Append(ctx, database.PgxExec(lock), audit.Entry{
		ActorID: manager.UserID, Action: "demo.seed", Subject: "team:" + teamID,
	}); err != nil {
		return err
	}
	return lock.Commit(ctx)
}

// demoTeam finds the demo manager's demo team or creates it, with the
// invite code the demo documents.
func (s *Services) demoTeam(ctx context.Context, manager accounts.Principal) (teams.Managed, error) {
	mine, err := s.Teams.List(ctx, manager)
	if err != nil {
		return teams.Managed{}, err
	}
	id := ""
	for _, t := range mine {
		if t.Name == demoTeamName {
			id = t.ID
		}
	}
	if id == "" {
		t, err := s.Teams.Create(ctx, manager, teams.NewTeam{Name: demoTeamName, InviteCode: demoInviteCode})
		if err != nil {
			return teams.Managed{}, err
		}
		id = t.ID
	}
	return s.Teams.Manage(ctx, manager, id)
}

// seedDemoProgress records progress through the real stores, as if the
// learners had used Baton: Ana finished module 1, Ben is reading it, Chloé
// tried its scenario once.
func (s *Services) seedDemoProgress(ctx context.Context, ids map[string]string) error {
	m, _ := s.Course.Module("ceo-myth")
	for i, l := range m.Lessons {
		if _, err := s.Lessons.SaveProgress(ctx, ids["ana@demo.baton.local"], l.Slug, 100); err != nil {
			return err
		}
		if i == 0 {
			if _, err := s.Lessons.SaveProgress(ctx, ids["ben@demo.baton.local"], l.Slug, 60); err != nil {
				return err
			}
		}
	}
	sc, ok := s.Catalog.Get("just-tell-them-to-build-it")
	if !ok {
		return fmt.Errorf("demo scenario missing")
	}
	if err := s.playDemo(ctx, ids["ana@demo.baton.local"], sc, true); err != nil {
		return err
	}
	return s.playDemo(ctx, ids["chloe@demo.baton.local"], sc, false)
}

// playDemo plays a scenario through the attempt store, taking the best
// move at each step (best) or the first one offered, unless the learner
// has already tried it.
func (s *Services) playDemo(ctx context.Context, userID string, sc *quizzes.Scenario, best bool) error {
	if tried, err := s.Attempts.History(ctx, userID, sc.Slug); err != nil || len(tried) > 0 {
		return err
	}
	a, _, err := s.Attempts.Start(ctx, userID, sc, time.Now())
	if err != nil {
		return err
	}
	v, err := s.Catalog.Pinned(ctx, a.QuizSlug, a.ScenarioVersion, a.Variant)
	if err != nil {
		return err
	}
	step, st := v.Begin()
	for step != "" {
		choice := v.Offered(v.Steps[step], st)[0].ID
		if best {
			choice = v.BestChoice(step, st)
		}
		res, err := s.Attempts.Answer(ctx, userID, a.ID, step, quizzes.ChoiceToken(a.ID, a.Seed, step, choice))
		if err != nil {
			return err
		}
		step, st = "", res.Outcome.State
		if res.Outcome.Next != nil {
			step = res.Outcome.Next.ID
		}
	}
	return nil
}
