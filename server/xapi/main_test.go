package xapi_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/app"
	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/lrstest"
	"github.com/baton-course/baton/server/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

const publicURL = "https://baton.example.com"

// start builds a Baton on a fresh database, sending to lrs (nil: xAPI off),
// with its job queue running when jobs is set.
func start(t testing.TB, lrs *lrstest.LRS, mbox, jobs bool) (*app.Services, *database.DB) {
	t.Helper()
	env := map[string]string{"BATON_PUBLIC_URL": publicURL}
	if lrs != nil {
		env["BATON_XAPI_ENDPOINT"], env["BATON_XAPI_USERNAME"], env["BATON_XAPI_PASSWORD"] = lrs.Endpoint, lrs.Username, lrs.Password
		if mbox {
			env["BATON_XAPI_MBOX"] = "1"
		}
	}
	cfg, err := app.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	cfg.HashCost = accounts.CheapHashCost
	db := testdb.New(t)
	s, err := app.Build(context.Background(), cfg, db, testdb.Log(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if jobs {
		if err := s.StartJobs(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return s, db
}

// played is an attempt as the test played it.
type played struct {
	attempt quizzes.Attempt
	variant *quizzes.Variant
	choices []string // in order
	result  *quizzes.Result
}

// statements is how many statements the attempt makes: started, one per
// decision, and passed or failed with completed.
func (p played) statements() int { return 1 + len(p.choices) + 2 }

type picker func(v *quizzes.Variant, step *quizzes.Step, st quizzes.State) string

func best(v *quizzes.Variant, step *quizzes.Step, st quizzes.State) string {
	return v.BestChoice(step.ID, st)
}

func first(v *quizzes.Variant, step *quizzes.Step, st quizzes.State) string {
	return v.Offered(step, st)[0].ID
}

// play runs one attempt of sc to its end, choosing with pick.
func play(t testing.TB, s *app.Services, userID string, sc *quizzes.Scenario, pick picker) played {
	t.Helper()
	ctx := context.Background()
	a, _, err := s.Attempts.Start(ctx, userID, sc, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Catalog.Pinned(ctx, a.QuizSlug, a.ScenarioVersion, a.Variant)
	if err != nil {
		t.Fatal(err)
	}
	p := played{attempt: a, variant: v}
	step, st := v.Steps[*a.CurrentStep], a.State
	for {
		choice := pick(v, step, st)
		res, err := s.Attempts.Answer(ctx, userID, a.ID, step.ID, quizzes.ChoiceToken(a.ID, a.Seed, step.ID, choice))
		if err != nil {
			t.Fatal(err)
		}
		p.choices = append(p.choices, choice)
		if res.Outcome.Next == nil {
			p.result = res.Result
			return p
		}
		step, st = res.Outcome.Next, res.Outcome.State
	}
}

// practise replays a finished attempt from its costliest decision with
// the best choices and returns how many decisions the run took.
func practise(t testing.TB, s *app.Services, userID string, a played) (quizzes.Practice, int) {
	t.Helper()
	ctx := context.Background()
	p, _, err := s.Attempts.StartPractice(ctx, userID, a.attempt.ID)
	if err != nil {
		t.Fatal(err)
	}
	step, st, n := a.variant.Steps[*p.CurrentStep], p.State, 0
	for {
		choice := a.variant.BestChoice(step.ID, st)
		res, err := s.Attempts.AnswerPractice(ctx, userID, p.ID, step.ID, quizzes.ChoiceToken(p.ID, p.Seed, step.ID, choice))
		if err != nil {
			t.Fatal(err)
		}
		n++
		if res.Outcome.Next == nil {
			return res.Practice, n
		}
		step, st = res.Outcome.Next, res.Outcome.State
	}
}

// scenario is a shipped scenario a first attempt can always start.
func scenario(t testing.TB, s *app.Services, i int) *quizzes.Scenario {
	t.Helper()
	all := s.Catalog.All()
	return all[i%len(all)]
}

// waitFor polls the LRS until it holds want statements (and the outbox is
// empty), or fails after timeout.
func waitFor(t testing.TB, db *database.DB, lrs *lrstest.LRS, want int, timeout time.Duration) []lrstest.Statement {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got, err := lrs.Statements(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) >= want && pending(t, db) == 0 {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("the LRS holds %d statements, not %d, %s after the events (%d still queued)", len(got), want, timeout, pending(t, db))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func pending(t testing.TB, db *database.DB) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM xapi_outbox`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
