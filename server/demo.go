package main

import (
	"context"
	"errors"

	"github.com/baton-course/baton/server/auth"
	"github.com/baton-course/baton/server/problem"
)

// demoPassword is the password of every demo account. Demo mode is for
// trying Baton on a laptop; never set BATON_DEMO on a real deployment.
const demoPassword = "influence-not-authority"

type demoAccount struct{ email, name, role string }

var demoAccounts = []demoAccount{
	{"manager@demo.baton.local", "Maya Okafor", auth.RoleManager},
	{"ana@demo.baton.local", "Ana Lima", auth.RoleLearner},
	{"ben@demo.baton.local", "Ben Carter", auth.RoleLearner},
	{"chloe@demo.baton.local", "Chloé Dubois", auth.RoleLearner},
}

// seedDemo creates the demo accounts unless they exist, and logs how to sign
// in. Several instances starting at once converge on one set.
func (s *Server) seedDemo(ctx context.Context) error {
	for _, a := range demoAccounts {
		_, err := s.auth.CreateUser(ctx, a.email, demoPassword, a.name, a.role)
		var p *problem.Error
		if err != nil && !(errors.As(err, &p) && p.Code == problem.Conflict) {
			return err
		}
	}
	s.log.Info("demo accounts ready (BATON_DEMO=1)", "password", demoPassword,
		"manager", demoAccounts[0].email, "learners", []string{demoAccounts[1].email, demoAccounts[2].email, demoAccounts[3].email})
	return nil
}
