package quizzes_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/testdb"
)

// After a finish this process wrote, the learner's next start is one round
// trip: the standing is remembered, not read. A remembered standing that
// has gone stale is never trusted: when another instance started and
// finished since, or the stored standing was changed under it, the start is
// decided again on the stored standing, whichever way the stale one leaned.
func TestRememberedStandingDecidesOnlyWhileCurrent(t *testing.T) {
	t.Parallel()
	db, cat := courseDB(t)
	ctx := context.Background()
	store, other := quizzes.NewStore(db.Gorm, db.Pool, cat), quizzes.NewStore(db.Gorm, db.Pool, cat)
	three := 3
	limited := *cat.All()[0]
	limited.MaxAttempts = &three
	reads := func() int64 { return store.StandingReads().Requests.Load() }
	start := func(s *quizzes.Store, user string, sc *quizzes.Scenario, now time.Time) (quizzes.Attempt, error) {
		t.Helper()
		a, created, err := s.Start(ctx, user, sc, now)
		if err == nil && !created {
			t.Fatalf("start resumed attempt %d, want a new one", a.Number)
		}
		return a, err
	}
	// finishedOnce is a new learner who played sc through once on store.
	finishedOnce := func(t *testing.T, sc *quizzes.Scenario) string {
		t.Helper()
		user, _ := testdb.User(t, db, "learner", "Learner")
		a, err := start(store, user, sc, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		playThrough(t, store, cat, a)
		return user
	}

	t.Run("another instance used the last attempt", func(t *testing.T) {
		user := finishedOnce(t, &limited)
		before := reads()
		second, err := start(store, user, &limited, time.Now())
		if err != nil || second.Number != 2 {
			t.Fatalf("second start: attempt %d, %v", second.Number, err)
		}
		if reads() != before {
			t.Errorf("the start after this store's finish read the standing (%d reads), want it remembered", reads()-before)
		}
		playThrough(t, store, cat, second)
		third, err := start(other, user, &limited, time.Now()) // this store's memory now counts two of three
		if err != nil || third.Number != 3 {
			t.Fatalf("third start, on the other instance: attempt %d, %v", third.Number, err)
		}
		playThrough(t, other, cat, third)
		if _, err := start(store, user, &limited, time.Now()); !errors.Is(err, quizzes.ErrNoAttemptsLeft) {
			t.Errorf("a fourth start of three on a stale memory: %v, want ErrNoAttemptsLeft", err)
		}
		var attempts int64
		db.Gorm.Raw("SELECT count(*) FROM attempts WHERE user_id = ?", user).Scan(&attempts)
		if attempts != 3 {
			t.Errorf("%d attempts stored, want 3", attempts)
		}
	})

	cooling := *cat.All()[0]
	cooling.Cooldown = time.Hour
	t.Run("the stored finish moved back, out of the cooldown", func(t *testing.T) {
		user := finishedOnce(t, &cooling)
		db.Gorm.Exec("UPDATE scenario_standings SET last_finished_at = last_finished_at - interval '2 hours' WHERE user_id = ?", user)
		if _, err := start(store, user, &cooling, time.Now()); err != nil {
			t.Errorf("a start the stored standing allows, which the remembered one would refuse: %v", err)
		}
	})
	t.Run("the stored finish moved on, into the cooldown", func(t *testing.T) {
		user := finishedOnce(t, &cooling)
		later := time.Now().Add(2 * time.Hour) // past the remembered finish's cooldown
		db.Gorm.Exec("UPDATE scenario_standings SET last_finished_at = ? WHERE user_id = ?", later.Add(-30*time.Minute), user)
		var cooldown *quizzes.CooldownError
		if _, err := start(store, user, &cooling, later); !errors.As(err, &cooldown) {
			t.Errorf("a start the stored standing refuses, which the remembered one would allow: %v, want a cooldown", err)
		}
	})
}
