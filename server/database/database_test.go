package database_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/baton-course/baton/migrations"
	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/embeddedpg"
	"github.com/baton-course/baton/server/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// emptyDatabase creates a database with no schema in the test cluster.
func emptyDatabase(t *testing.T, name string) *embeddedpg.Cluster {
	t.Helper()
	c := testdb.Cluster(t)
	admin, err := database.Open(context.Background(), c.URL("postgres"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.SQL.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	return c
}

// migratedUpTo is a new database with the migrations up to version applied
// (and a provider to apply the rest), for tests of what a migration does to
// rows written before it.
func migratedUpTo(t *testing.T, name string, version int64) (*database.DB, *goose.Provider) {
	t.Helper()
	c := emptyDatabase(t, name)
	db, err := database.Open(context.Background(), c.URL(name), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	provider, err := goose.NewProvider(goose.DialectPostgres, db.SQL, migrations.FS, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provider.UpTo(context.Background(), version); err != nil {
		t.Fatal(err)
	}
	return db, provider
}

// Several instances starting at once must all succeed, and the schema must be
// applied exactly once.
func TestConcurrentMigrate(t *testing.T) {
	c := emptyDatabase(t, "concurrent_migrate")
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := database.Open(ctx, c.URL("concurrent_migrate"), 5*time.Second)
			if err != nil {
				errs <- err
				return
			}
			defer db.Close()
			errs <- database.Migrate(ctx, db, log)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	db, err := database.Open(ctx, c.URL("concurrent_migrate"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var applied, distinct int
	if err := db.SQL.QueryRow(`SELECT count(*), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`).Scan(&applied, &distinct); err != nil {
		t.Fatal(err)
	}
	if applied == 0 || applied != distinct {
		t.Fatalf("%d migrations recorded, %d distinct", applied, distinct)
	}
}

// The migration that introduced scenario standings fills them from the
// attempts already stored; its replay of the review schedule is SQL, so it
// must agree with the engine's: on a history with practice, a first pass, a
// failed and a passed review and an attempt still open; on a second learner
// and scenario next to it (the replay hands over between groups); and on a
// learner with nothing finished yet.
func TestStandingsBackfillAgreesWithTheEngine(t *testing.T) {
	ctx := context.Background()
	db, provider := migratedUpTo(t, "standings_backfill", 7)
	mustExec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.SQL.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustExec(`INSERT INTO modules (slug, title, summary, position) VALUES ('m', 'M', 'S', 1)`)
	for _, q := range []string{"q", "r"} {
		mustExec(`INSERT INTO scenario_versions (quiz_slug, version, module_slug, source) VALUES ($1, 'v', 'm', '')`, q)
		mustExec(`INSERT INTO scenarios (slug, module_slug, title, current_version) VALUES ($1, 'm', 'Q', 'v')`, q)
	}

	type run struct {
		startDay, finishDay int
		percent             int
		passed              bool
		skills              quizzes.Points
	}
	type group struct {
		user, quiz string
		finished   []run
		open       bool // and one attempt still in progress
	}
	p := func(v, a, i int) quizzes.Points { return quizzes.Points{Vision: v, Alignment: a, Inspiration: i} }
	groups := []group{
		{"a1", "q", []run{
			{0, 0, 40, false, p(40, 30, 50)},   // practice
			{1, 1, 80, true, p(80, 70, 90)},    // first pass: due two days on
			{2, 2, 60, false, p(60, 60, 60)},   // before it is due: practice
			{4, 4, 50, false, p(50, 40, 60)},   // a failed review: due now
			{5, 5, 90, true, p(90, 95, 100)},   // a passed review
			{20, 20, 95, true, p(95, 90, 100)}, // passed again: the next interval
		}, true},
		{"a1", "r", []run{{0, 0, 75, true, p(70, 75, 80)}, {9, 9, 30, false, p(30, 30, 30)}}, false},
		{"b2", "q", nil, true},
	}
	day := 24 * time.Hour
	t0 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	userID := func(u string) string { return "00000000-0000-0000-0000-0000000000" + u }
	for _, u := range []string{"a1", "b2"} {
		mustExec(`INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, 'U', 'x')`, userID(u), u+"@example.com")
	}
	for _, g := range groups {
		for i, r := range g.finished {
			mustExec(`INSERT INTO attempts (user_id, quiz_slug, scenario_version, number, seed, status, ending_id, percent, passed,
				vision, alignment, inspiration, started_at, finished_at)
				VALUES ($1, $2, 'v', $3, 1, 'finished', 'e', $4, $5, $6, $7, $8, $9, $10)`,
				userID(g.user), g.quiz, i+1, r.percent, r.passed, r.skills.Vision, r.skills.Alignment, r.skills.Inspiration,
				t0.Add(time.Duration(r.startDay)*day), t0.Add(time.Duration(r.finishDay)*day+time.Hour))
		}
		if g.open {
			mustExec(`INSERT INTO attempts (user_id, quiz_slug, scenario_version, number, seed, current_step, started_at)
				VALUES ($1, $2, 'v', $3, 1, 's', $4)`, userID(g.user), g.quiz, len(g.finished)+1, t0.Add(30*day))
		}
	}
	if _, err := provider.Up(ctx); err != nil {
		t.Fatal(err)
	}

	for _, g := range groups {
		var (
			used          int
			first, best   *int
			passed        bool
			vis, al, insp *int
			last, due     *time.Time
			streak        int
		)
		if err := db.SQL.QueryRow(`SELECT attempts_used, first_percent, best_percent, passed, latest_vision, latest_alignment,
			latest_inspiration, last_finished_at, review_due_at, review_streak FROM scenario_standings WHERE user_id = $1 AND quiz_slug = $2`,
			userID(g.user), g.quiz).Scan(&used, &first, &best, &passed, &vis, &al, &insp, &last, &due, &streak); err != nil {
			t.Fatalf("%s/%s: %v", g.user, g.quiz, err)
		}
		// What the engine and the online code would hold.
		var review quizzes.ReviewState
		wantUsed, wantPassed, wantBest := len(g.finished), false, -1
		for _, r := range g.finished {
			review = review.After(quizzes.AttemptSummary{StartedAt: t0.Add(time.Duration(r.startDay) * day),
				FinishedAt: t0.Add(time.Duration(r.finishDay)*day + time.Hour), Passed: r.passed})
			wantPassed = wantPassed || r.passed
			wantBest = max(wantBest, r.percent)
		}
		if g.open {
			wantUsed++
		}
		if used != wantUsed || passed != wantPassed || streak != review.Streak {
			t.Errorf("%s/%s: used %d passed %v streak %d; want %d %v %d", g.user, g.quiz, used, passed, streak, wantUsed, wantPassed, review.Streak)
		}
		if (due == nil) != (review.Due == nil) || (due != nil && !due.Equal(*review.Due)) {
			t.Errorf("%s/%s: review due %v; the engine says %v", g.user, g.quiz, due, review.Due)
		}
		if len(g.finished) == 0 {
			if first != nil || best != nil || vis != nil || last != nil {
				t.Errorf("%s/%s: nothing finished, yet the standing has results", g.user, g.quiz)
			}
			continue
		}
		latest := g.finished[len(g.finished)-1]
		if first == nil || *first != g.finished[0].percent || best == nil || *best != wantBest || vis == nil ||
			*vis != latest.skills.Vision || *al != latest.skills.Alignment || *insp != latest.skills.Inspiration ||
			last == nil || !last.Equal(t0.Add(time.Duration(latest.finishDay)*day+time.Hour)) {
			t.Errorf("%s/%s: first %v best %v latest skills %v/%v/%v last %v", g.user, g.quiz, first, best, vis, al, insp, last)
		}
	}
}

// Migrations 00010 and 00011 keep every stored attempt as it was: no variant (the
// only one of its format-1 version) and no state.
func TestScenarioStateMigrationKeepsAttempts(t *testing.T) {
	ctx := context.Background()
	db, provider := migratedUpTo(t, "scenario_state", 9)
	for _, q := range []string{
		`INSERT INTO modules (slug, title, summary, position) VALUES ('m', 'M', 'S', 1)`,
		`INSERT INTO scenario_versions (quiz_slug, version, module_slug, source) VALUES ('q', 'v', 'm', 'slug: q')`,
		`INSERT INTO scenarios (slug, module_slug, title, current_version) VALUES ('q', 'm', 'Q', 'v')`,
		`INSERT INTO users (id, email, name, password_hash) VALUES ('00000000-0000-0000-0000-000000000001', 'a@example.com', 'A', 'x')`,
		`INSERT INTO attempts (user_id, quiz_slug, scenario_version, number, seed, current_step) VALUES ('00000000-0000-0000-0000-000000000001', 'q', 'v', 1, 1, 's')`,
		`INSERT INTO scenario_standings (user_id, quiz_slug, attempts_used) VALUES ('00000000-0000-0000-0000-000000000001', 'q', 1)`,
	} {
		if _, err := db.SQL.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := provider.Up(ctx); err != nil {
		t.Fatal(err)
	}
	var variant, state string
	var practice int
	if err := db.SQL.QueryRow(`SELECT variant, state::text, (SELECT count(*) FROM practice_runs) FROM attempts`).Scan(&variant, &state, &practice); err != nil {
		t.Fatal(err)
	}
	if variant != "" || state != "{}" || practice != 0 {
		t.Fatalf("a stored attempt after the migration: variant %q state %s, %d practice runs", variant, state, practice)
	}
	// 00011 counts it on the standing as a variant-less attempt.
	var seen string
	var last *string
	if err := db.SQL.QueryRow(`SELECT variants_seen::text, last_variant FROM scenario_standings`).Scan(&seen, &last); err != nil {
		t.Fatal(err)
	}
	if seen != `{"": 1}` || last == nil || *last != "" {
		t.Fatalf("standing after 00011: variants_seen %s, last_variant %v", seen, last)
	}
}
