package notify

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/baton-course/baton/server/coursetest"

	"github.com/baton-course/baton/lessons"
	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/progress"
	"github.com/baton-course/baton/server/teams"
	"github.com/baton-course/baton/server/testdb"
)

// instance is one Baton process's notify service, with the areas the
// world's tests act through, on its own pool.
type instance struct {
	*Service
	db      *database.DB
	teams   *teams.Service
	lessons *lessons.Store
	catalog *quizzes.Catalog
	attempt *quizzes.Store
}

// newInstance opens its own pool on the database at url and builds the
// services on it, as a second server would.
func newInstance(t *testing.T, url string) *instance {
	t.Helper()
	ctx := context.Background()
	db, err := database.Open(ctx, url, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := lessons.Sync(ctx, db.Gorm, coursetest.Course(t)); err != nil {
		t.Fatal(err)
	}
	catalog, err := quizzes.NewCatalog(ctx, db.Gorm, coursetest.Scenarios(t))
	if err != nil {
		t.Fatal(err)
	}
	ls, qs := lessons.NewStore(db.Gorm, db.Pool), quizzes.NewStore(db.Gorm, db.Pool, catalog)
	ts := teams.New(db.Gorm, coursetest.Course(t), catalog, progress.NewReader(coursetest.Course(t), catalog, ls, qs))
	return &instance{Service: New(db.Gorm, ts), db: db, teams: ts, lessons: ls, catalog: catalog, attempt: qs}
}

// team is a managed team with learners in it.
type team struct {
	manager accounts.Principal
	id      string
	members map[string]accounts.Principal // by name
}

func (in *instance) team(t *testing.T, name string, learners ...string) team {
	t.Helper()
	ctx := context.Background()
	mid, _ := testdb.User(t, in.db, accounts.RoleManager, "Manager of "+name)
	tm := team{manager: accounts.Principal{UserID: mid, Role: accounts.RoleManager}, members: map[string]accounts.Principal{}}
	created, err := in.teams.Create(ctx, tm.manager, teams.NewTeam{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	tm.id = created.ID
	for _, l := range learners {
		id, _ := testdb.User(t, in.db, accounts.RoleLearner, l)
		p := accounts.Principal{UserID: id, Role: accounts.RoleLearner}
		if _, err := in.teams.Join(ctx, p, created.InviteCode); err != nil {
			t.Fatal(err)
		}
		tm.members[l] = p
	}
	return tm
}

// assign gives the whole team a module due at due.
func (in *instance) assign(t *testing.T, tm team, module string, due time.Time) {
	t.Helper()
	if _, err := in.teams.Assign(context.Background(), tm.manager, teams.NewAssignment{
		Module: module, DueAt: due.UTC().Format(time.RFC3339), TeamID: &tm.id,
	}); err != nil {
		t.Fatal(err)
	}
}

// complete finishes a module as p: every lesson read, every scenario
// passed with the best move at each step.
func (in *instance) complete(t *testing.T, p accounts.Principal, module string) {
	t.Helper()
	ctx := context.Background()
	m, ok := coursetest.Course(t).Module(module)
	if !ok {
		t.Fatalf("no module %s", module)
	}
	for _, l := range m.Lessons {
		if _, err := in.lessons.SaveProgress(ctx, p.UserID, l.Slug, 100); err != nil {
			t.Fatal(err)
		}
	}
	for _, sc := range in.catalog.ForModule(module) {
		in.play(t, p, sc, true)
	}
}

// play finishes one attempt of sc as p, taking the best move at each step
// (best) or the first one offered.
func (in *instance) play(t *testing.T, p accounts.Principal, sc *quizzes.Scenario, best bool) {
	t.Helper()
	ctx := context.Background()
	a, _, err := in.attempt.Start(ctx, p.UserID, sc, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	v, err := in.catalog.Pinned(ctx, a.QuizSlug, a.ScenarioVersion, a.Variant)
	if err != nil {
		t.Fatal(err)
	}
	step, st := v.Begin()
	for step != "" {
		choice := v.Offered(v.Steps[step], st)[0].ID
		if best {
			choice = v.BestChoice(step, st)
		}
		res, err := in.attempt.Answer(ctx, p.UserID, a.ID, step, quizzes.ChoiceToken(a.ID, a.Seed, step, choice))
		if err != nil {
			t.Fatal(err)
		}
		step, st = "", res.Outcome.State
		if res.Outcome.Next != nil {
			step = res.Outcome.Next.ID
		}
	}
}

func title(t *testing.T, module string) string {
	t.Helper()
	m, ok := coursetest.Course(t).Module(module)
	if !ok {
		t.Fatalf("no module %s", module)
	}
	return m.Title
}

// sent is a notification as its recipient has it.
type sent struct {
	UserID, Kind, Title, Body, Link, EmailStatus string
	AssignmentID                                 *string
}

func notices(t *testing.T, db *database.DB, kind string) []sent {
	t.Helper()
	var out []sent
	if err := db.Gorm.Raw(`SELECT user_id, kind, title, body, link, email_status, assignment_id FROM notifications
		WHERE kind = ? ORDER BY created_at, id`, kind).Scan(&out).Error; err != nil {
		t.Fatal(err)
	}
	return out
}

var monday8 = DigestSchedule{Weekday: time.Monday, Hour: 8}

func TestParseDigestAt(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]DigestSchedule{
		"Mon 08:00":     monday8,
		" friday 17:30": {Weekday: time.Friday, Hour: 17, Minute: 30},
		"SUN 0:05":      {Weekday: time.Sunday, Minute: 5},
	} {
		if got, err := ParseDigestAt(in); err != nil || got != want {
			t.Errorf("%q: %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "Mon", "Mon 8", "Mon 24:00", "Mon 08:60", "Mo 08:00", "Mon 08:0", "Monday8:00"} {
		if got, err := ParseDigestAt(in); err == nil {
			t.Errorf("%q accepted as %+v", in, got)
		}
	}
}

// A week's digest is due from its scheduled moment to the end of its ISO
// week (UTC).
func TestDigestWeek(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC) // a Monday, ISO week 2026-W49
	if _, due := monday8.week(at.Add(-time.Minute)); due {
		t.Error("due before its moment")
	}
	for _, now := range []time.Time{at, at.Add(6*24*time.Hour + 15*time.Hour + 59*time.Minute)} {
		wk, due := monday8.week(now)
		if !due || wk.Key != "2026-W49" || !wk.At.Equal(at) {
			t.Errorf("at %s: %+v, %v", now, wk, due)
		}
	}
	// In another zone the UTC week is what counts.
	if wk, _ := monday8.week(at.In(time.FixedZone("UTC-10", -10*3600))); wk.Key != "2026-W49" {
		t.Errorf("zone changed the week: %s", wk.Key)
	}
	friday := DigestSchedule{Weekday: time.Friday, Hour: 17}
	if wk, due := friday.week(at); due {
		t.Errorf("Friday's digest due on Monday: %+v", wk)
	}
	if next := monday8.Next(at); !next.Equal(at.AddDate(0, 0, 7)) {
		t.Errorf("next after the moment: %s", next)
	}
	if next := friday.Next(at); !next.Equal(time.Date(2026, 12, 4, 17, 0, 0, 0, time.UTC)) {
		t.Errorf("next Friday: %s", next)
	}
}

// The digest says, per team and in plain words, who finished an assigned
// module that week, who is overdue and for how long, and whose reviews
// slip; a manager with nothing to say gets none, and each gets one a week.
func TestDigest(t *testing.T) {
	t.Parallel()
	in := newInstance(t, testdb.URL(t))
	ctx := context.Background()
	// The first digest moment after the work below, and an hour past it.
	at := monday8.Next(time.Now())
	now := at.Add(time.Hour)

	pod := in.team(t, "Pod «Nord»", "Ana Lima", "Ben Carter", "Chloé Dubois")
	in.assign(t, pod, "ceo-myth", now.Add(-50*time.Hour))
	in.complete(t, pod.members["Ana Lima"], "ceo-myth")
	// Chloé passed a scenario once and left its review 8 days past due.
	sc := in.catalog.ForModule("what-you-dont-control")[0]
	in.play(t, pod.members["Chloé Dubois"], sc, true)
	if err := in.db.Gorm.Exec(`UPDATE scenario_standings SET review_due_at = ? WHERE user_id = ?`,
		now.Add(-8*24*time.Hour), pod.members["Chloé Dubois"].UserID).Error; err != nil {
		t.Fatal(err)
	}
	// A team whose only assignment is not due yet: nothing to say.
	quiet := in.team(t, "Quiet team", "Dan")
	in.assign(t, quiet, "ceo-myth", now.Add(72*time.Hour))

	if n, err := in.Digests(ctx, at.Add(-time.Minute), monday8, true); err != nil || n != 0 {
		t.Fatalf("before the moment: %d, %v", n, err)
	}
	if n, err := in.Digests(ctx, now, monday8, true); err != nil || n != 1 {
		t.Fatalf("digests %d, %v", n, err)
	}
	got := notices(t, in.db, KindDigest)
	if len(got) != 1 {
		t.Fatalf("%d digests: %+v", len(got), got)
	}
	d := got[0]
	module := title(t, "ceo-myth")
	if d.UserID != pod.manager.UserID || d.Title != "Your team this week: Pod «Nord»" || d.Link != "/teams/"+pod.id || d.EmailStatus != "pending" {
		t.Errorf("digest %+v", d)
	}
	for _, want := range []string{
		"The last " + lateBy(now.Sub(at.AddDate(0, 0, -7))) + ".",
		"Pod «Nord»\nFinished:\n- Ana Lima finished “" + module + "” ",
		"\nOverdue:\n- Ben Carter: “" + module + "” is 2 days overdue (0% done).",
		"- Chloé Dubois: “" + module + "”",
		"\nReviews slipping:\n- Chloé Dubois: the review of “" + sc.Title + "” has been due for 8 days.",
	} {
		if !strings.Contains(d.Body, want) {
			t.Errorf("digest lacks %q:\n%s", want, d.Body)
		}
	}
	if strings.Contains(d.Body, "UTC") || strings.Contains(d.Body, ":00") {
		t.Errorf("the digest states clock times, which no zone reads alike:\n%s", d.Body)
	}
	if strings.Contains(d.Body, `\"`) || strings.Contains(d.Body, "Ana Lima: ") {
		t.Errorf("escaped quotes, or Ana both finished and overdue:\n%s", d.Body)
	}
	// Later runs that week write nothing more, for either manager.
	if n, err := in.Digests(ctx, now.Add(48*time.Hour), monday8, true); err != nil || n != 0 {
		t.Fatalf("again: %d, %v", n, err)
	}
	var claims int
	in.db.Gorm.Raw(`SELECT count(*) FROM manager_digests WHERE notification_id IS NULL AND manager_id = ?`, quiet.manager.UserID).Scan(&claims)
	if claims != 1 {
		t.Errorf("the quiet manager's week is not settled: %d claims", claims)
	}
	// The next week has a digest of its own, from where the last week's
	// ended (for the quiet manager too: their week was settled then); Ana's
	// completion is not news any more.
	if n, err := in.Digests(ctx, now.AddDate(0, 0, 7), monday8, false); err != nil || n != 2 {
		t.Fatalf("next week: %d, %v", n, err)
	}
	for _, d := range notices(t, in.db, KindDigest)[1:] {
		if !strings.HasPrefix(d.Body, "The last 7 days.") ||
			strings.Contains(d.Body, "Finished:") || d.EmailStatus != "none" {
			t.Errorf("next week's digest %+v", d)
		}
	}
}

// An unfinished assignment EscalateAfter past due tells the team's manager
// once; one not yet that late, or finished, does not.
func TestEscalation(t *testing.T) {
	t.Parallel()
	in := newInstance(t, testdb.URL(t))
	ctx := context.Background()
	now := time.Now()
	pod := in.team(t, "Pod", "Ana Lima", "Ben Carter")
	in.assign(t, pod, "ceo-myth", now.Add(-EscalateAfter-time.Hour))
	in.assign(t, pod, "what-you-dont-control", now.Add(-EscalateAfter+time.Hour))
	in.complete(t, pod.members["Ana Lima"], "ceo-myth")

	if n, err := in.Escalations(ctx, now, true); err != nil || n != 1 {
		t.Fatalf("escalations %d, %v", n, err)
	}
	got := notices(t, in.db, KindEscalation)
	module := title(t, "ceo-myth")
	if len(got) != 1 || got[0].UserID != pod.manager.UserID || got[0].Link != "/teams/"+pod.id || got[0].EmailStatus != "pending" ||
		got[0].Title != "Ben Carter is 3 days overdue on “"+module+"”" ||
		!strings.Contains(got[0].Body, "Ben Carter (Pod) has not finished “"+module+"”: 3 days overdue, at 0%.") {
		t.Fatalf("escalations %+v", got)
	}
	if n, err := in.Escalations(ctx, now.Add(2*time.Hour), true); err != nil || n != 2 {
		t.Fatalf("the second module, two hours on: %d, %v", n, err)
	}
	if n, err := in.Escalations(ctx, now.Add(48*time.Hour), true); err != nil || n != 0 {
		t.Fatalf("again: %d, %v", n, err)
	}
}

// Two instances producing at the same moment write each digest and each
// escalation exactly once.
func TestManagerNoticesOnceAcrossInstances(t *testing.T) {
	t.Parallel()
	url := testdb.URL(t)
	a, b := newInstance(t, url), newInstance(t, url)
	now := time.Now()
	var pods []team
	for _, name := range []string{"North", "South", "East"} {
		pod := a.team(t, name, name+" learner one", name+" learner two")
		a.assign(t, pod, "ceo-myth", now.Add(-4*24*time.Hour))
		pods = append(pods, pod)
	}
	sch := DigestSchedule{Weekday: now.UTC().Weekday(), Hour: 0} // due since midnight
	for round := range 3 {
		var wg sync.WaitGroup
		counts := make([][2]int, 2)
		errs := make([]error, 2)
		for i, in := range []*instance{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				esc, err := in.Escalations(context.Background(), now, true)
				dig, digErr := in.Digests(context.Background(), now, sch, true)
				counts[i], errs[i] = [2]int{esc, dig}, err
				if errs[i] == nil {
					errs[i] = digErr
				}
			}()
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatal(errs)
		}
		esc, dig := counts[0][0]+counts[1][0], counts[0][1]+counts[1][1]
		if want := map[bool]int{true: 6, false: 0}[round == 0]; esc != want || dig != want/2 {
			t.Fatalf("round %d: %d escalations and %d digests reported", round, esc, dig)
		}
	}
	for _, pod := range pods {
		var escalations, digests int
		row := a.db.Pool.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE kind = $1), count(*) FILTER (WHERE kind = $2)
			FROM notifications WHERE user_id = $3`, KindEscalation, KindDigest, pod.manager.UserID)
		if err := row.Scan(&escalations, &digests); err != nil {
			t.Fatal(err)
		}
		if escalations != 2 || digests != 1 {
			t.Errorf("team %s's manager has %d escalations and %d digests, want 2 and 1", pod.id, escalations, digests)
		}
	}
}
