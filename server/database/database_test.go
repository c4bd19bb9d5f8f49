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
			errs <- database.Migrate(ctx, db.SQL, log)
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
// must agree with the engine's on a history with practice, a first pass, a
// failed and a passed review, and with an attempt still open.
func TestStandingsBackfillAgreesWithTheEngine(t *testing.T) {
	c := emptyDatabase(t, "standings_backfill")
	ctx := context.Background()
	db, err := database.Open(ctx, c.URL("standings_backfill"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	provider, err := goose.NewProvider(goose.DialectPostgres, db.SQL, migrations.FS, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provider.UpTo(ctx, 7); err != nil {
		t.Fatal(err)
	}
	mustExec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.SQL.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustExec(`INSERT INTO users (id, email, name, password_hash) VALUES ('00000000-0000-0000-0000-0000000000a1', 'a@example.com', 'A', 'x')`)
	mustExec(`INSERT INTO modules (slug, title, summary, position) VALUES ('m', 'M', 'S', 1)`)
	mustExec(`INSERT INTO scenario_versions (quiz_slug, version, module_slug, source) VALUES ('q', 'v', 'm', '')`)
	mustExec(`INSERT INTO scenarios (slug, module_slug, title, current_version) VALUES ('q', 'm', 'Q', 'v')`)

	day := 24 * time.Hour
	t0 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	history := []struct {
		startDay, finishDay time.Duration
		percent             int
		passed              bool
		skills              quizzes.Points
	}{
		{0, 0, 40, false, quizzes.Points{Vision: 40, Alignment: 30, Inspiration: 50}},   // practice
		{1, 1, 80, true, quizzes.Points{Vision: 80, Alignment: 70, Inspiration: 90}},    // first pass: due two days on
		{2, 2, 60, false, quizzes.Points{Vision: 60, Alignment: 60, Inspiration: 60}},   // before due: practice
		{4, 4, 50, false, quizzes.Points{Vision: 50, Alignment: 40, Inspiration: 60}},   // failed review: due now
		{5, 5, 90, true, quizzes.Points{Vision: 90, Alignment: 95, Inspiration: 100}},   // passed review
		{20, 20, 95, true, quizzes.Points{Vision: 95, Alignment: 90, Inspiration: 100}}, // passed again: next interval
	}
	var summaries []quizzes.AttemptSummary
	for i, h := range history {
		started, finished := t0.Add(h.startDay*day), t0.Add(h.finishDay*day+time.Hour)
		mustExec(`INSERT INTO attempts (user_id, quiz_slug, scenario_version, number, seed, status, ending_id, percent, passed,
			vision, alignment, inspiration, started_at, finished_at)
			VALUES ('00000000-0000-0000-0000-0000000000a1', 'q', 'v', $1, 1, 'finished', 'e', $2, $3, $4, $5, $6, $7, $8)`,
			i+1, h.percent, h.passed, h.skills.Vision, h.skills.Alignment, h.skills.Inspiration, started, finished)
		summaries = append(summaries, quizzes.AttemptSummary{StartedAt: started, FinishedAt: finished, Passed: h.passed})
	}
	mustExec(`INSERT INTO attempts (user_id, quiz_slug, scenario_version, number, seed, current_step, started_at)
		VALUES ('00000000-0000-0000-0000-0000000000a1', 'q', 'v', 7, 1, 's', $1)`, t0.Add(21*day))
	if _, err := provider.Up(ctx); err != nil {
		t.Fatal(err)
	}

	var (
		used, first, best int
		passed            bool
		vis, al, insp     int
		last, due         time.Time
		streak            int
	)
	if err := db.SQL.QueryRow(`SELECT attempts_used, first_percent, best_percent, passed, latest_vision, latest_alignment,
		latest_inspiration, last_finished_at, review_due_at, review_streak FROM scenario_standings`).
		Scan(&used, &first, &best, &passed, &vis, &al, &insp, &last, &due, &streak); err != nil {
		t.Fatal(err)
	}
	want := quizzes.NextReview(summaries)
	var engine quizzes.ReviewState
	for _, s := range summaries {
		engine = engine.After(s)
	}
	latest := history[len(history)-1]
	if used != 7 || first != 40 || best != 95 || !passed || vis != latest.skills.Vision || al != latest.skills.Alignment ||
		insp != latest.skills.Inspiration || !last.Equal(summaries[len(summaries)-1].FinishedAt) {
		t.Fatalf("standing: used %d first %d best %d passed %v skills %d/%d/%d last %s", used, first, best, passed, vis, al, insp, last)
	}
	if want == nil || !due.Equal(*want) || streak != engine.Streak {
		t.Fatalf("review due %s streak %d; the engine says %v streak %d", due, streak, want, engine.Streak)
	}
}
