package teams

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/baton-course/baton/server/coursetest"

	"github.com/baton-course/baton/lessons"
	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/privacy"
)

// The tests seed the installation secret and give accounts fixed ids, so
// every report (and every variant draw) is the same on every run; the
// bounds they assert would hold for almost any secret too, as each says.
var testSecret = []byte("the analytics tests' fixed secret")

func (e env) seedSecret(t *testing.T) privacy.Noise {
	t.Helper()
	if _, err := e.db.Pool.Exec(context.Background(), `UPDATE analytics_secret SET secret = $1`, testSecret); err != nil {
		t.Fatal(err)
	}
	return privacy.New(testSecret)
}

// fixedUser is a learner whose id is fixed by n.
func (e env) fixedUser(t *testing.T, n int) accounts.Principal {
	t.Helper()
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
	if _, err := e.db.Pool.Exec(context.Background(), `INSERT INTO users (id, email, name, role, password_hash) VALUES ($1, $2, $3, $4, 'x')`,
		id, fmt.Sprintf("fixed%d@example.com", n), fmt.Sprint("Learner ", n), accounts.RoleLearner); err != nil {
		t.Fatal(err)
	}
	return accounts.Principal{UserID: id, Role: accounts.RoleLearner}
}

func fixedID(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

// play finishes one attempt of sc as p: the start step's first offered
// choice, then the first offered choice at every step. It returns the
// variant the attempt was given.
func (e env) play(t *testing.T, p accounts.Principal, sc *quizzes.Scenario) *quizzes.Variant {
	t.Helper()
	ctx := context.Background()
	a, _, err := e.attempt.Start(ctx, p.UserID, sc, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	v, ok := sc.Variant(a.Variant)
	if !ok {
		t.Fatalf("attempt on unknown variant %q", a.Variant)
	}
	step, st := v.Begin()
	for {
		pick := v.Offered(v.Steps[step], st)[0].ID
		ans, err := e.attempt.Answer(ctx, p.UserID, a.ID, step, quizzes.ChoiceToken(a.ID, a.Seed, step, pick))
		if err != nil {
			t.Fatal(err)
		}
		if ans.Outcome.Next == nil {
			return v
		}
		step, st = ans.Outcome.Next.ID, ans.Outcome.State
	}
}

// startTruth is the outcome index of what play chooses at v's start, and
// the number of outcomes there (choices plus "did not answer").
func startTruth(v *quizzes.Variant) (truth, outcomes int) {
	step := v.Steps[v.Start]
	return slices.IndexFunc(step.Choices, func(c *quizzes.Choice) bool { return c.ID == firstOffered(v) }), len(step.Choices) + 1
}

// startReport is what noise reports for member at v's start after play.
func startReport(noise privacy.Noise, member string, v *quizzes.Variant) int {
	truth, k := startTruth(v)
	return noise.Report(member, stepQuestion(v.Scenario.Slug, v.Scenario.Version, v.ID, v.Start), truth, k)
}

// puppets are n accounts the manager controls, each having played every
// variant of sc once, whose start-step reports the manager knows. They are
// the strongest puppets there are: chosen so that each one's report is an
// answer (a manager sees that from members_answered), and known exactly
// (a manager can solve for them with teams of puppets only). ids are
// fixed from base on.
func (e env) puppets(t *testing.T, noise privacy.Noise, sc *quizzes.Scenario, n, base int) []accounts.Principal {
	t.Helper()
	var out []accounts.Principal
	for id := base; len(out) < n; id++ {
		answers := true
		for _, v := range sc.Variants {
			_, k := startTruth(v)
			answers = answers && startReport(noise, fixedID(id), v) != k-1
		}
		if !answers {
			continue
		}
		p := e.fixedUser(t, id)
		seen := map[string]bool{}
		for range sc.Variants {
			seen[e.play(t, p, sc).ID] = true
		}
		if len(seen) != len(sc.Variants) {
			t.Fatalf("a puppet met %d of %d variants", len(seen), len(sc.Variants))
		}
		out = append(out, p)
	}
	return out
}

// variantOf is the analytics of sc's variant v.
func variantOf(t *testing.T, a Analytics, v *quizzes.Variant) ScenarioAnalytics {
	t.Helper()
	for _, s := range a.Scenarios {
		if s.Slug == v.Scenario.Slug && s.Variant.ID == v.ID {
			return s
		}
	}
	t.Fatalf("variant %s of %s missing", v.ID, v.Scenario.Slug)
	return ScenarioAnalytics{}
}

// differenced is the puppet attack on a team of one learner and puppets:
// the start step's counts minus the puppets' known reports, which leaves
// exactly the learner's report (an outcome index). A suppressed step still
// shows how many answered, so a learner counted as not answering shows as
// that.
func differenced(t *testing.T, noise privacy.Noise, sa ScenarioAnalytics, v *quizzes.Variant, puppets []accounts.Principal) int {
	t.Helper()
	_, k := startTruth(v)
	st := sa.Steps[slices.Index(v.StepOrder, v.Start)]
	if st.Suppressed { // the puppets are counted as answering: the learner is not
		if st.Answered != len(puppets) {
			t.Fatalf("step suppressed with %d answered: %+v", st.Answered, st)
		}
		return k - 1
	}
	left := make([]int, k)
	left[k-1] = sa.Members - st.Answered
	for i, c := range st.Choices {
		left[i] = c.First
	}
	for _, p := range puppets {
		left[startReport(noise, p.UserID, v)]--
	}
	report := -1
	for i, n := range left {
		switch {
		case n == 1 && report < 0:
			report = i
		case n != 0:
			t.Fatalf("the counts minus the puppets' reports are %v, not one learner's report: %+v", left, st)
		}
	}
	if report < 0 {
		t.Fatalf("nothing left of the learner: %+v", st)
	}
	return report
}

// M1: a manager puts each real learner in a team with two puppets whose
// contributions they know exactly, and subtracts. Without noise that gave
// every learner's choice; now it gives the learner's report, which is their
// choice only with probability p + (1-p)/k (k: the step's choices plus "did
// not answer"), about 0.6 here, and nothing tells the manager which
// learners' reports are the true ones.
func TestPuppetAttackGetsOnlyNoisyAnswers(t *testing.T) {
	t.Parallel()
	e, ctx := newEnv(t), context.Background()
	noise := e.seedSecret(t)
	mgr, _ := e.user(t, accounts.RoleManager, "Maya")
	sc := coursetest.Scenarios(t)[0]
	puppets := e.puppets(t, noise, sc, 2, 1)
	const learners = 40
	matches, want := 0, 0.0
	for i := range learners {
		l := e.fixedUser(t, 1000+i)
		v := e.play(t, l, sc) // every learner truly takes the same choice at the start
		team := must[Team](t)(e.Create(ctx, mgr, NewTeam{Name: fmt.Sprint("Pod ", i)}))
		for _, p := range append([]accounts.Principal{l}, puppets...) {
			must[TeamRef](t)(e.Join(ctx, p, team.InviteCode))
		}
		sa := variantOf(t, must[Analytics](t)(e.Analytics(ctx, must[Managed](t)(e.Manage(ctx, mgr, team.ID)))), v)
		if sa.Members != 3 || sa.Suppressed {
			t.Fatalf("team of three: %+v", sa)
		}
		truth, k := startTruth(v)
		if differenced(t, noise, sa, v, puppets) == truth {
			matches++
		}
		want += privacy.TruthProbability + (1-privacy.TruthProbability)/float64(k)
	}
	// With a match rate q between 0.6 and 2/3 (3 or 4 choices at the
	// start), Binomial(40, q) is outside 13..36 with probability below
	// 2e-4 whatever the secret: at 37 or more the attack would nearly
	// always work, at 12 or fewer the noise would have drowned the team.
	t.Logf("the attack named %d of %d learners' real choice (expected %.1f)", matches, learners, want)
	if matches > 36 || matches < 13 {
		t.Fatalf("the attack named %d of %d learners' real choice, want about %.0f", matches, learners, want)
	}
}

// What a member's answer is counted as never changes: not on repeated
// queries, not when puppets leave and come back, not in another team of the
// same manager, not when the member plays again. So nothing can be averaged.
func TestReportsStayPut(t *testing.T) {
	t.Parallel()
	e, ctx := newEnv(t), context.Background()
	noise := e.seedSecret(t)
	mgr, _ := e.user(t, accounts.RoleManager, "Maya")
	sc := coursetest.Scenarios(t)[0]
	ps := e.puppets(t, noise, sc, 4, 1)
	l := e.fixedUser(t, 1000)
	v := e.play(t, l, sc)
	teamOf := func(name string, members ...accounts.Principal) Managed {
		team := must[Team](t)(e.Create(ctx, mgr, NewTeam{Name: name}))
		for _, p := range members {
			must[TeamRef](t)(e.Join(ctx, p, team.InviteCode))
		}
		return must[Managed](t)(e.Manage(ctx, mgr, team.ID))
	}
	a, b := teamOf("A", l, ps[0], ps[1]), teamOf("B", l, ps[2], ps[3])
	view := func(m Managed) ScenarioAnalytics { return variantOf(t, must[Analytics](t)(e.Analytics(ctx, m)), v) }
	first := view(a)
	if first.Suppressed {
		t.Fatalf("team of three suppressed: %+v", first)
	}
	for range 5 {
		if again := view(a); !reflect.DeepEqual(again, first) {
			t.Fatalf("a repeated query changed:\n%+v\n%+v", first, again)
		}
	}
	if err := e.RemoveMember(ctx, a, ps[1].UserID); err != nil {
		t.Fatal(err)
	}
	if gone := view(a); !gone.Suppressed || gone.Members != 2 || len(gone.Steps[0].Choices) != 0 {
		t.Fatalf("two members left, yet: %+v", gone)
	}
	must[TeamRef](t)(e.Join(ctx, ps[1], a.Team().InviteCode))
	if back := view(a); !reflect.DeepEqual(back, first) {
		t.Fatalf("a puppet leaving and coming back changed the counts:\n%+v\n%+v", first, back)
	}
	if inA, inB := differenced(t, noise, first, v, ps[:2]), differenced(t, noise, view(b), v, ps[2:]); inA != inB {
		t.Fatalf("the learner counts as %d in one team and %d in the other", inA, inB)
	}
	for range sc.Variants { // later attempts, of every variant, change nothing
		e.play(t, l, sc)
	}
	if later := view(a); !reflect.DeepEqual(later, first) {
		t.Fatalf("playing again changed the first attempt's counts:\n%+v\n%+v", first, later)
	}
}

// A variant shows only once MinGroup members finished their first attempt
// of it (an attempt in progress does not count); its counts are the
// members' reports; a step shows choices only when at least MinGroup are
// counted as answering it; and the cost does not grow with the team.
func TestAnalyticsFloor(t *testing.T) {
	t.Parallel()
	e, ctx := newEnv(t), context.Background()
	noise := e.seedSecret(t)
	mgr, _ := e.user(t, accounts.RoleManager, "Maya")
	team := must[Team](t)(e.Create(ctx, mgr, NewTeam{Name: "Pod"}))
	m := must[Managed](t)(e.Manage(ctx, mgr, team.ID))
	sc := coursetest.Scenarios(t)[0]
	statements := func() int64 {
		before := e.db.Statements()
		must[Analytics](t)(e.Analytics(ctx, m))
		return e.db.Statements() - before
	}
	empty := statements()

	// One member answers a step and stops: no finished attempt, no count.
	open := e.fixedUser(t, 1)
	must[TeamRef](t)(e.Join(ctx, open, team.InviteCode))
	a, _, err := e.attempt.Start(ctx, open.UserID, sc, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	v0, _ := sc.Variant(a.Variant)
	if _, err := e.attempt.Answer(ctx, open.UserID, a.ID, v0.Start, quizzes.ChoiceToken(a.ID, a.Seed, v0.Start, firstOffered(v0))); err != nil {
		t.Fatal(err)
	}
	if sa := variantOf(t, must[Analytics](t)(e.Analytics(ctx, m)), v0); sa.Members != 0 {
		t.Fatalf("an attempt in progress counted: %+v", sa)
	}

	byVariant := map[string][]accounts.Principal{}
	var v *quizzes.Variant
	for i := 0; v == nil; i++ {
		if i > 20 {
			t.Fatal("no variant reached three members")
		}
		p := e.fixedUser(t, 100+i)
		must[TeamRef](t)(e.Join(ctx, p, team.InviteCode))
		played := e.play(t, p, sc)
		byVariant[played.ID] = append(byVariant[played.ID], p)
		sa := variantOf(t, must[Analytics](t)(e.Analytics(ctx, m)), played)
		if n := len(byVariant[played.ID]); n < MinGroup {
			if !sa.Suppressed || sa.Members != n {
				t.Fatalf("%d members shown: %+v", n, sa)
			}
			for _, st := range sa.Steps {
				if !st.Suppressed || len(st.Choices) != 0 || st.Answered != 0 {
					t.Fatalf("a step of a variant %d members played shows: %+v", n, st)
				}
			}
		} else {
			v = played
		}
	}
	sa := variantOf(t, must[Analytics](t)(e.Analytics(ctx, m)), v)
	if sa.Suppressed || sa.Members != MinGroup || len(sa.Steps) != len(v.StepOrder) {
		t.Fatalf("three members: %+v", sa)
	}
	for _, st := range sa.Steps {
		sum := 0
		for _, c := range st.Choices {
			sum += c.First
			if c.Estimate != nil {
				t.Fatalf("an estimate from %d members: %+v", sa.Members, c)
			}
		}
		if st.Answered > sa.Members || st.Suppressed != (st.Answered < MinGroup) || (!st.Suppressed && sum != st.Answered) ||
			(st.Suppressed && len(st.Choices) != 0) {
			t.Fatalf("step %+v of %d members", st, sa.Members)
		}
	}
	_, k := startTruth(v)
	want := make([]int, k)
	for _, p := range byVariant[v.ID] {
		want[startReport(noise, p.UserID, v)]++
	}
	start := sa.Steps[slices.Index(v.StepOrder, v.Start)]
	if start.Answered != MinGroup-want[k-1] {
		t.Fatalf("start step %+v, reports %v", start, want)
	}
	for i, c := range start.Choices {
		if c.First != want[i] {
			t.Fatalf("start step %+v, reports %v", start, want)
		}
	}
	if busy := statements(); busy != empty || busy != 3 {
		t.Fatalf("analytics ran %d statements empty, %d with members; want 3", empty, busy)
	}
}

// firstOffered is the first choice the start of v offers.
func firstOffered(v *quizzes.Variant) string {
	step, st := v.Begin()
	return v.Offered(v.Steps[step], st)[0].ID
}

// Quick checks: how many answered is exact (answering is not a choice) and
// hidden under MinGroup; who was right first time is counted through the
// noise, so the puppet attack names a learner's result only about 3 times
// in 4.
func TestCheckAnalytics(t *testing.T) {
	t.Parallel()
	e, ctx := newEnv(t), context.Background()
	noise := e.seedSecret(t)
	ls := lessons.NewStore(e.db.Gorm, e.db.Pool)
	mgr, _ := e.user(t, accounts.RoleManager, "Maya")
	team := must[Team](t)(e.Create(ctx, mgr, NewTeam{Name: "Pod"}))
	m := must[Managed](t)(e.Manage(ctx, mgr, team.ID))
	l := coursetest.Course(t).Lessons()[0]
	q := l.Checks[0]
	check := func() CheckAnalytics {
		for _, c := range must[Analytics](t)(e.Analytics(ctx, m)).QuickChecks {
			if c.Lesson == l.Slug && c.CheckID == q.ID {
				return c
			}
		}
		t.Fatal("check missing from analytics")
		return CheckAnalytics{}
	}
	answer := func(p accounts.Principal, firstRight bool) {
		if _, err := ls.AnswerCheck(ctx, p.UserID, l.Slug, q.ID, "a", firstRight); err != nil {
			t.Fatal(err)
		}
		if _, err := ls.AnswerCheck(ctx, p.UserID, l.Slug, q.ID, "b", !firstRight); err != nil { // a second try does not count
			t.Fatal(err)
		}
	}
	reported := func(p accounts.Principal, truth bool) int {
		return boolInt(noise.ReportBool(p.UserID, checkQuestion(l.Slug, q.ID), truth))
	}
	known := 0 // what the two puppets are counted as: their reports
	for i := range 2 {
		p := e.fixedUser(t, i+1)
		must[TeamRef](t)(e.Join(ctx, p, team.InviteCode))
		answer(p, false)
		known += reported(p, false)
		if c := check(); !c.Suppressed || c.FirstCorrect != 0 || c.Estimate != nil || c.Answered != i+1 {
			t.Fatalf("after %d members: %+v", i+1, c)
		}
	}
	const learners = 60
	matches := 0
	for i := range learners {
		p := e.fixedUser(t, 1000+i)
		must[TeamRef](t)(e.Join(ctx, p, team.InviteCode))
		answer(p, true)
		c := check()
		if c.Suppressed || c.Answered != 3 || c.Estimate != nil {
			t.Fatalf("three members: %+v", c)
		}
		// The count minus the puppets' is the learner's report, no more.
		if left := c.FirstCorrect - known; left != reported(p, true) {
			t.Fatalf("first correct %d, puppets %d, learner reported %d", c.FirstCorrect, known, reported(p, true))
		}
		matches += reported(p, true)
		if err := e.RemoveMember(ctx, m, p.UserID); err != nil {
			t.Fatal(err)
		}
	}
	// Binomial(60, 0.75) is outside 32..56 with probability below 2e-4.
	t.Logf("the attack named %d of %d learners' first answer right", matches, learners)
	if matches > 56 || matches < 32 {
		t.Fatalf("the attack named %d of %d learners' first answer right, want about 45", matches, learners)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
