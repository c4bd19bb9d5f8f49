package quizzes_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/baton-course/baton/lessons"
	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/coursetest"
	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// courseDB is a database holding the test course and its scenarios'
// catalog.
func courseDB(t *testing.T) (*database.DB, *quizzes.Catalog) {
	t.Helper()
	db := testdb.New(t)
	ctx := context.Background()
	if err := lessons.Sync(ctx, db.Gorm, coursetest.Course(t)); err != nil {
		t.Fatal(err)
	}
	cat, err := quizzes.NewCatalog(ctx, db.Gorm, coursetest.Scenarios(t))
	if err != nil {
		t.Fatal(err)
	}
	return db, cat
}

// One batch holds answers that win and answers that lose their guard: an
// attempt another instance moved on (this store's memory of it is stale) and
// a second copy of an answer. Each request hears its own fate, only the
// winners are stored, and the per-row triggers fire once per stored answer.
func TestBatchAnswersEachRequest(t *testing.T) {
	t.Parallel()
	db, cat := courseDB(t)
	ctx := context.Background()
	if err := db.Gorm.Exec("UPDATE xapi_settings SET enabled = true").Error; err != nil {
		t.Fatal(err)
	}
	store, other := quizzes.NewStore(db.Gorm, db.Pool, cat), quizzes.NewStore(db.Gorm, db.Pool, cat)
	sc := cat.All()[0]

	type answer struct{ user, attempt, step, token string }
	const learners = 6
	var answers []answer
	for i := range learners {
		user, _ := testdb.User(t, db, "learner", "Learner")
		a, _, err := store.Start(ctx, user, sc, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		v, err := cat.Pinned(ctx, a.QuizSlug, a.ScenarioVersion, a.Variant)
		if err != nil {
			t.Fatal(err)
		}
		step := v.Steps[*a.CurrentStep]
		offered := v.Offered(step, a.State)
		// Pick a choice that moves on (a finishing one is written alone).
		var token string
		for _, c := range offered {
			if out, err := v.Answer(step.ID, a.State, step.ID, c.ID); err == nil && out.Next != nil {
				token = quizzes.ChoiceToken(a.ID, a.Seed, step.ID, c.ID)
				break
			}
		}
		if token == "" {
			t.Fatalf("%s: the first step has no choice that moves on", sc.Slug)
		}
		answers = append(answers, answer{user, a.ID, step.ID, token})
		if i == 0 {
			// Another instance answers first: store still believes the
			// attempt is at its first step.
			if _, err := other.Answer(ctx, user, a.ID, step.ID, token); err != nil {
				t.Fatal(err)
			}
		}
	}
	answers = append(answers, answers[1]) // the same answer twice

	release := store.HoldAnswers()
	errs := make([]error, len(answers))
	var wg sync.WaitGroup
	for i, a := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = store.Answer(ctx, a.user, a.attempt, a.step, a.token)
		}()
	}
	release(len(answers))
	wg.Wait()

	if !errors.Is(errs[0], quizzes.ErrNotCurrent) {
		t.Errorf("answer to an attempt moved on elsewhere: %v, want ErrNotCurrent", errs[0])
	}
	for i := 2; i < learners; i++ {
		if errs[i] != nil {
			t.Errorf("answer %d: %v", i, errs[i])
		}
	}
	// The copy waits for the next batch and finds the attempt moved on.
	first, dup := errs[1], errs[len(answers)-1]
	if (first == nil) == (dup == nil) || !errors.Is(errors.Join(first, dup), quizzes.ErrNotCurrent) {
		t.Errorf("the same answer twice: %v and %v, want one recorded and one ErrNotCurrent", first, dup)
	}
	if st := store.AnswerBatches(); st.Largest.Load() < learners {
		t.Errorf("largest batch %d, want the %d held answers in one", st.Largest.Load(), learners)
	}
	var stored, events, agree int64
	db.Gorm.Raw("SELECT count(*) FROM attempt_answers").Scan(&stored)
	db.Gorm.Raw("SELECT count(*) FROM xapi_outbox WHERE kind = 'attempt_answered'").Scan(&events)
	db.Gorm.Raw(`SELECT count(*) FROM attempts a WHERE a.answered = (SELECT count(*) FROM attempt_answers x WHERE x.attempt_id = a.id)
		AND a.answered = 1`).Scan(&agree)
	if stored != learners || events != learners || agree != learners {
		t.Errorf("%d answers stored, %d answered events, %d attempts agreeing with their answers; want %d each", stored, events, agree, learners)
	}
}

// Finishing answers of several learners share a batch too, and each
// learner's standing is brought up to date by it; a second copy of one of
// them finds the attempt finished (ErrFinished, a 409 like ErrNotCurrent).
func TestBatchFinishesEachRequest(t *testing.T) {
	t.Parallel()
	db, cat := courseDB(t)
	ctx := context.Background()
	store := quizzes.NewStore(db.Gorm, db.Pool, cat)
	sc := cat.All()[0]

	type answer struct{ user, attempt, step, token string }
	const learners = 4
	var answers []answer
	for range learners {
		user, _ := testdb.User(t, db, "learner", "Learner")
		a, _, err := store.Start(ctx, user, sc, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		last := playToLast(t, store, cat, a)
		answers = append(answers, answer{user, a.ID, last.step, last.token})
	}
	answers = append(answers, answers[0]) // the same finishing answer twice

	release := store.HoldFinishes()
	errs := make([]error, len(answers))
	results := make([]quizzes.Answered, len(answers))
	var wg sync.WaitGroup
	for i, a := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = store.Answer(ctx, a.user, a.attempt, a.step, a.token)
		}()
	}
	release(len(answers))
	wg.Wait()

	for i := 1; i < learners; i++ {
		if errs[i] != nil || results[i].Result == nil {
			t.Errorf("finishing answer %d: %v (result %v)", i, errs[i], results[i].Result)
		}
	}
	first, dup := errs[0], errs[len(answers)-1]
	if (first == nil) == (dup == nil) || !errors.Is(errors.Join(first, dup), quizzes.ErrFinished) {
		t.Errorf("the same finishing answer twice: %v and %v, want one recorded and one ErrFinished", first, dup)
	}
	if st := store.FinishBatches(); st.Largest.Load() < learners {
		t.Errorf("largest finishing batch %d, want the %d held answers in one", st.Largest.Load(), learners)
	}
	var finished, standings int64
	db.Gorm.Raw("SELECT count(*) FROM attempts WHERE status = 'finished' AND percent IS NOT NULL AND finished_at IS NOT NULL").Scan(&finished)
	db.Gorm.Raw(`SELECT count(*) FROM scenario_standings s JOIN attempts a ON a.user_id = s.user_id AND a.quiz_slug = s.quiz_slug
		WHERE s.attempts_used = 1 AND s.best_percent = a.percent AND s.first_percent = a.percent AND s.last_finished_at = a.finished_at`).Scan(&standings)
	if finished != learners || standings != learners {
		t.Errorf("%d attempts finished, %d standings agreeing with them; want %d each", finished, standings, learners)
	}
}

// lastAnswer is an attempt's finishing answer, not yet sent.
type lastAnswer struct{ step, token string }

// playToLast answers the first offered choice at each step of the learner's
// attempt until the next answer would finish it, and returns that answer.
func playToLast(t *testing.T, store *quizzes.Store, cat *quizzes.Catalog, a quizzes.Attempt) lastAnswer {
	t.Helper()
	ctx := context.Background()
	v, err := cat.Pinned(ctx, a.QuizSlug, a.ScenarioVersion, a.Variant)
	if err != nil {
		t.Fatal(err)
	}
	step, state := v.Steps[*a.CurrentStep], a.State
	for {
		c := v.Offered(step, state)[0]
		out, err := v.Answer(step.ID, state, step.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		token := quizzes.ChoiceToken(a.ID, a.Seed, step.ID, c.ID)
		if out.Next == nil {
			return lastAnswer{step.ID, token}
		}
		if _, err := store.Answer(ctx, a.UserID, a.ID, step.ID, token); err != nil {
			t.Fatal(err)
		}
		step, state = out.Next, out.State
	}
}

// playThrough plays the learner's attempt to its end.
func playThrough(t *testing.T, store *quizzes.Store, cat *quizzes.Catalog, a quizzes.Attempt) {
	t.Helper()
	last := playToLast(t, store, cat, a)
	if _, err := store.Answer(context.Background(), a.UserID, a.ID, last.step, last.token); err != nil {
		t.Fatal(err)
	}
}

// Starts of several learners share one insert; a learner starting twice at
// once gets one attempt (the copy waits for the next batch and resumes it),
// and a start that loses a race with another instance (whose attempt the
// batch's read did not see) inserts nothing, so only it reads again, and it
// resumes the attempt that won.
func TestBatchStartsEachRequest(t *testing.T) {
	t.Parallel()
	db, cat := courseDB(t)
	ctx := context.Background()
	store, other := quizzes.NewStore(db.Gorm, db.Pool, cat), quizzes.NewStore(db.Gorm, db.Pool, cat)
	sc := cat.All()[0]

	const learners = 5
	users := make([]string, learners)
	for i := range users {
		users[i], _ = testdb.User(t, db, "learner", "Learner")
	}
	starts := append([]string{}, users...)
	starts = append(starts, users[1]) // the same learner twice at once

	release := store.HoldStarts()
	got, wg := startAll(ctx, store, sc, starts, nil)
	// Wait until every read is done and the inserts are queued, then let
	// another instance start learner 0's attempt first.
	waitFor(t, func() bool { return store.QueuedStarts() >= len(starts) })
	raced, _, err := other.Start(ctx, users[0], sc, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	release(learners)
	wg.Wait()

	for i, g := range got {
		if g.err != nil {
			t.Fatalf("start %d: %v", i, g.err)
		}
	}
	if got[0].a.ID != raced.ID || got[0].created {
		t.Errorf("the start that lost the race: attempt %s created=%v, want to resume %s", got[0].a.ID, got[0].created, raced.ID)
	}
	first, dup := got[1], got[len(starts)-1]
	if first.a.ID != dup.a.ID || first.created == dup.created {
		t.Errorf("the same learner twice: %s (created %v) and %s (created %v), want one attempt created once", first.a.ID, first.created, dup.a.ID, dup.created)
	}
	for i := 2; i < learners; i++ {
		if !got[i].created || got[i].a.Number != 1 || got[i].a.CurrentStep == nil {
			t.Errorf("start %d: %+v, want a new first attempt at its first step", i, got[i])
		}
	}
	var attempts, standings int64
	db.Gorm.Raw("SELECT count(*) FROM attempts").Scan(&attempts)
	db.Gorm.Raw("SELECT count(*) FROM scenario_standings WHERE attempts_used = 1").Scan(&standings)
	if attempts != learners || standings != learners {
		t.Errorf("%d attempts, %d standings counting one attempt; want %d each", attempts, standings, learners)
	}
}

// started is one Start's outcome.
type started struct {
	a       quizzes.Attempt
	created bool
	err     error
}

// startAll starts each of users' attempts at sc in its own goroutine (after
// each, then(i) when set) and returns where their outcomes land once wg is done.
func startAll(ctx context.Context, store *quizzes.Store, sc *quizzes.Scenario, users []string, then func(i int)) ([]started, *sync.WaitGroup) {
	got := make([]started, len(users))
	wg := &sync.WaitGroup{}
	for i, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i].a, got[i].created, got[i].err = store.Start(ctx, u, sc, time.Now())
		}()
		if then != nil {
			then(i)
		}
	}
	return got, wg
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}

// A learner starting twice at once (a double click) has the copy held for
// the next batch, where it meets the attempt the first batch inserted. That
// must cost only the copy: the other starts in that batch are inserted by
// the one statement, not sent again one at a time (which, in a synchronized
// start, would turn every double click into up to 255 extra commits while
// every other start waits).
func TestBatchStartsCopyCostsOnlyItself(t *testing.T) {
	t.Parallel()
	db, cat := courseDB(t)
	ctx := context.Background()
	store := quizzes.NewStore(db.Gorm, db.Pool, cat)
	sc := cat.All()[0]

	// One full batch, then the copy of its first start and another learner:
	// the second batch holds the copy and an innocent start.
	const full = 256
	users := make([]string, full+1)
	for i := range users {
		users[i], _ = testdb.User(t, db, "learner", "Learner")
	}
	starts := append(append(append([]string{}, users[:full]...), users[0]), users[full])

	release := store.HoldStarts()
	// Queue them in this order.
	got, wg := startAll(ctx, store, sc, starts, func(i int) { waitFor(t, func() bool { return store.QueuedStarts() > i }) })
	release(len(starts))
	wg.Wait()

	for i, g := range got {
		if g.err != nil {
			t.Fatalf("start %d: %v", i, g.err)
		}
	}
	if first, dup := got[0], got[full]; dup.a.ID != first.a.ID || dup.created || !first.created {
		t.Errorf("the same learner twice: %s (created %v) and %s (created %v), want one attempt created once", first.a.ID, first.created, dup.a.ID, dup.created)
	}
	if last := got[full+1]; !last.created || last.a.Number != 1 {
		t.Errorf("the start batched with the copy: %+v, want a new first attempt", last)
	}
	st := store.StartBatches()
	if b, r := st.Batches.Load(), st.Requests.Load(); b != 2 || r != int64(len(starts)) {
		t.Errorf("%d starts' inserts in %d batches, want %d in 2 (none sent again one by one)", r, b, len(starts))
	}
	var attempts int64
	db.Gorm.Raw("SELECT count(*) FROM attempts").Scan(&attempts)
	if attempts != full+1 {
		t.Errorf("%d attempts, want %d", attempts, full+1)
	}
}

// Each coalesced statement finds its rows by key, however many learners
// there are: in its generic plan (the one a prepared statement settles on)
// no table the learners fill is read whole or hashed. The standings read
// once hashed all of scenario_standings for every batch of starts.
func TestBatchStatementsFindRowsByKey(t *testing.T) {
	t.Parallel()
	db, cat := courseDB(t)
	ctx := context.Background()
	store := quizzes.NewStore(db.Gorm, db.Pool, cat)
	for range 120 {
		user, _ := testdb.User(t, db, "learner", "Learner")
		for _, sc := range cat.All() {
			if _, _, err := store.Start(ctx, user, sc, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := db.Gorm.Exec("ANALYZE").Error; err != nil {
		t.Fatal(err)
	}
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SET plan_cache_mode = force_generic_plan"); err != nil {
		t.Fatal(err)
	}
	grown := regexp.MustCompile(`Seq Scan on (attempts|attempt_answers|scenario_standings)\b|Hash (Right |Left )?Join`)
	i := 0
	for name, st := range quizzes.BatchStatements() {
		i++
		prepared := fmt.Sprintf("batch_%d", i)
		if _, err := conn.Exec(ctx, "PREPARE "+prepared+"("+st.Types+") AS "+st.SQL); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rows, err := conn.Query(ctx, "EXPLAIN EXECUTE "+prepared+"("+st.Args+")")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if plan := strings.Join(lines, "\n"); grown.MatchString(plan) {
			t.Errorf("%s reads a growing table whole:\n%s", name, plan)
		}
	}
}
