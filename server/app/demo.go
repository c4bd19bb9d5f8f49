package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/audit"
	"github.com/baton-course/baton/server/problem"
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
	}
	if err := s.seedDemoTeam(ctx, ids); err != nil {
		return err
	}
	s.log.Info("demo accounts ready (BATON_DEMO=1)", "password", DemoPassword,
		"manager", demoAccounts[0].email, "learners", []string{demoAccounts[1].email, demoAccounts[2].email, demoAccounts[3].email})
	return nil
}

func (s *Services) seedDemoTeam(ctx context.Context, ids map[string]string) error {
	db := s.db.Gorm.WithContext(ctx)
	tx := db.Begin()
	defer tx.Rollback()
	if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext('baton.demo'))").Error; err != nil {
		return err
	}
	manager := ids[demoAccounts[0].email]
	var existing int64
	if err := tx.Raw("SELECT count(*) FROM teams WHERE manager_id = ?", manager).Scan(&existing).Error; err != nil {
		return err
	}
	if existing > 0 {
		return tx.Commit().Error
	}
	var teamID string
	if err := tx.Raw(`INSERT INTO teams (name, manager_id, invite_code) VALUES ('Demo product pod', ?, 'DEMO-TEAM-2026') RETURNING id`, manager).Scan(&teamID).Error; err != nil {
		return err
	}
	for _, a := range demoAccounts[1:] {
		if err := tx.Exec("INSERT INTO team_members (team_id, user_id) VALUES (?, ?)", teamID, ids[a.email]).Error; err != nil {
			return err
		}
	}
	now := time.Now()
	for _, as := range []struct {
		module string
		due    time.Time
	}{{"ceo-myth", now.Add(-24 * time.Hour)}, {"what-you-dont-control", now.Add(5 * 24 * time.Hour)}} {
		if err := tx.Exec(`INSERT INTO assignments (user_id, module_slug, due_at, team_id, assigned_by)
			SELECT user_id, ?, ?, team_id, ? FROM team_members WHERE team_id = ?`, as.module, as.due, manager, teamID).Error; err != nil {
			return err
		}
	}
	if err := audit.Record(tx, manager, "demo.seed", "team:"+teamID, nil); err != nil {
		return err
	}
	if err := tx.Commit().Error; err != nil {
		return err
	}
	// Progress through the real stores, as if the learners had used Baton:
	// Ana finished module 1, Ben is reading it, Chloé tried its scenario once.
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
	if err := s.playDemo(ctx, ids["ana@demo.baton.local"], sc, sc.BestPath); err != nil {
		return err
	}
	return s.playDemo(ctx, ids["chloe@demo.baton.local"], sc, nil)
}

// playDemo plays a scenario through the attempt store, following path where
// given and the first listed choice otherwise.
func (s *Services) playDemo(ctx context.Context, userID string, sc *quizzes.Scenario, path []string) error {
	a, _, err := s.Attempts.Start(ctx, userID, sc, time.Now())
	if err != nil {
		return err
	}
	step := sc.Start
	for i := 0; step != ""; i++ {
		choice := sc.Steps[step].Choices[0].ID
		if i < len(path) {
			choice = path[i]
		}
		res, err := s.Attempts.Answer(ctx, userID, a.ID, step, choice)
		if err != nil {
			return err
		}
		step = ""
		if res.Outcome.Next != nil {
			step = res.Outcome.Next.ID
		}
	}
	return nil
}
