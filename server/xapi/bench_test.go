package xapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/testdb"
	"github.com/baton-course/baton/server/xapi"
)

// BenchmarkAnswer is the answer path's database work (start an attempt,
// answer every decision to the end) with xAPI capture off and on: the
// difference is what queueing the events costs (the coalesced statements
// queue them, migration 00029). One op is one decision.
func BenchmarkAnswer(b *testing.B) {
	for _, name := range []string{"xapi-off", "xapi-on"} {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			s, db := start(b, nil, false, false)
			if err := xapi.Enable(ctx, db.Pool, name == "xapi-on"); err != nil {
				b.Fatal(err)
			}
			sc := scenario(b, s, 0)
			b.ResetTimer()
			for n := 0; n < b.N; {
				b.StopTimer()
				u, _ := testdb.User(b, db, "learner", "Bench")
				b.StartTimer()
				a, _, err := s.Attempts.Start(ctx, u, sc, time.Now())
				if err != nil {
					b.Fatal(err)
				}
				v, _ := s.Catalog.Pinned(ctx, a.QuizSlug, a.ScenarioVersion, a.Variant)
				step, st := v.Steps[*a.CurrentStep], a.State
				for step != nil && n < b.N {
					choice := v.BestChoice(step.ID, st)
					res, err := s.Attempts.Answer(ctx, u, a.ID, step.ID, quizzes.ChoiceToken(a.ID, a.Seed, step.ID, choice))
					if err != nil {
						b.Fatal(err)
					}
					n++
					step, st = res.Outcome.Next, res.Outcome.State
				}
			}
		})
	}
}
