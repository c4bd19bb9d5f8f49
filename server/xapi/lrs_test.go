package xapi_test

import (
	"context"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/baton-course/baton/server/lrstest"
	"github.com/baton-course/baton/server/testdb"
	"github.com/baton-course/baton/server/xapi"
	"gorm.io/gorm"
)

const verbs = "http://adlnet.gov/expapi/verbs/"

func ext(name string) string { return publicURL + "/xapi/extensions/" + name }

// TestStatementsReachTheLRS plays a passed attempt, a failed one with a
// practice run after it, and a lesson to its end, and reads every
// statement back from a real LRS: the actor, verb, object, result and
// context each event should have.
func TestStatementsReachTheLRS(t *testing.T) {
	lrs := lrstest.Start(t)
	s, db := start(t, lrs, false, true)
	ctx := context.Background()
	ana, _ := testdb.User(t, db, "learner", "Ana")
	ben, _ := testdb.User(t, db, "learner", "Ben")
	sc := scenario(t, s, 0)
	passed := play(t, s, ana, sc, best)
	failed := play(t, s, ben, sc, first)
	run, runAnswers := practise(t, s, ben, failed)
	lesson := s.Course.Modules[0].Lessons[0]
	if _, err := s.Lessons.SaveProgress(ctx, ana, lesson.Slug, 100); err != nil {
		t.Fatal(err)
	}
	want := passed.statements() + failed.statements() + 1 + runAnswers + 2 + 1
	got := waitFor(t, db, lrs, want, 60*time.Second)
	if len(got) != want {
		t.Fatalf("the LRS holds %d statements, want %d", len(got), want)
	}
	byID := map[string]lrstest.Statement{}
	for _, st := range got {
		byID[st.ID] = st
	}
	find := func(name string) lrstest.Statement {
		t.Helper()
		st, ok := byID[xapi.StatementID(name)]
		if !ok {
			t.Fatalf("no statement %s in the LRS", name)
		}
		return st
	}
	scenarioIRI := publicURL + "/xapi/activities/scenarios/" + sc.Slug

	started := find("attempt-started:" + passed.attempt.ID)
	if started.Verb.ID != verbs+"attempted" || started.Object.ID != scenarioIRI ||
		started.Actor.Account.HomePage != publicURL || started.Actor.Account.Name != ana || started.Actor.Mbox != "" {
		t.Errorf("started: %s", started.Raw)
	}
	if started.Context == nil || started.Context.Registration != passed.attempt.ID || started.Context.Extensions[ext("variant")] != passed.attempt.Variant ||
		started.Context.Extensions[ext("scenario-version")] != passed.attempt.ScenarioVersion {
		t.Errorf("started context: %s", started.Raw)
	}
	for i, choice := range passed.choices {
		st := find("attempt-answer:" + passed.attempt.ID + ":" + strconv.Itoa(i+1)) // positions count from 1
		if st.Verb.ID != verbs+"answered" || st.Result == nil || st.Result.Response != choice ||
			!strings.HasPrefix(st.Object.ID, scenarioIRI+"/steps/") || st.Object.Definition.InteractionType != "choice" {
			t.Errorf("decision %d: %s", i, st.Raw)
			continue
		}
		stepID := strings.TrimPrefix(st.Object.ID, scenarioIRI+"/steps/")
		c, _ := passed.variant.Steps[stepID].Choice(choice)
		points, _ := st.Result.Extensions[ext("points")].(map[string]any)
		if points["vision"] != float64(c.Points.Vision) || points["alignment"] != float64(c.Points.Alignment) || points["inspiration"] != float64(c.Points.Inspiration) {
			t.Errorf("decision %d points %v, want %+v", i, points, c.Points)
		}
		if _, ok := st.Result.Extensions[ext("feedback")].(string); !ok {
			t.Errorf("decision %d has no feedback: %s", i, st.Raw)
		}
		if len(st.Context.ContextActivities.Parent) != 1 || st.Context.ContextActivities.Parent[0].ID != scenarioIRI ||
			st.Context.Extensions[ext("variant")] != passed.attempt.Variant || st.Context.Extensions[ext("scenario-version")] != passed.attempt.ScenarioVersion {
			t.Errorf("decision %d context: %s", i, st.Raw)
		}
	}
	for _, p := range []played{passed, failed} {
		fin := find("attempt-finished:" + p.attempt.ID)
		verb := "failed"
		if p.result.Passed {
			verb = "passed"
		}
		if fin.Verb.ID != verbs+verb || fin.Result == nil || fin.Result.Score == nil || fin.Result.Score.Raw != float64(p.result.Percent) ||
			fin.Result.Score.Scaled != float64(p.result.Percent)/100 || fin.Result.Success == nil || *fin.Result.Success != p.result.Passed ||
			!strings.HasPrefix(fin.Result.Duration, "PT") {
			t.Errorf("finished (%d %%, passed %v): %s", p.result.Percent, p.result.Passed, fin.Raw)
		}
		if done := find("attempt-completed:" + p.attempt.ID); done.Verb.ID != verbs+"completed" || done.Result == nil || done.Result.Completion == nil || !*done.Result.Completion {
			t.Errorf("completed: %s", done.Raw)
		}
	}
	if !passed.result.Passed || failed.result.Passed {
		t.Logf("the best path passed: %v, the first choices failed: %v", passed.result.Passed, failed.result.Passed)
	}
	for _, name := range []string{"practice-started:" + run.ID, "practice-answer:" + run.ID + ":0", "practice-finished:" + run.ID} {
		st := find(name)
		if st.Context == nil || st.Context.Extensions[ext("practice")] != true || len(st.Context.ContextActivities.Category) != 1 ||
			st.Context.ContextActivities.Category[0].ID != publicURL+"/xapi/profiles/practice" || st.Actor.Account.Name != ben {
			t.Errorf("%s is not marked as practice: %s", name, st.Raw)
		}
	}
	read := find("lesson-completed:" + ana + ":" + lesson.Slug)
	if read.Verb.ID != verbs+"completed" || read.Object.ID != publicURL+"/xapi/activities/lessons/"+lesson.Slug ||
		read.Context == nil || len(read.Context.ContextActivities.Parent) != 1 ||
		read.Context.ContextActivities.Parent[0].ID != publicURL+"/xapi/activities/modules/"+s.Course.Modules[0].Slug {
		t.Errorf("lesson completed: %s", read.Raw)
	}
	// Reading back by verb works too (the LRS indexed what it stored).
	answered, err := lrs.Statements(ctx, url.Values{"verb": {verbs + "answered"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := len(passed.choices) + len(failed.choices) + runAnswers; len(answered) != want {
		t.Errorf("%d answered statements, want %d", len(answered), want)
	}
}

// TestMboxActors: with BATON_XAPI_MBOX=1 the actor is the learner's address.
func TestMboxActors(t *testing.T) {
	lrs := lrstest.Start(t)
	s, db := start(t, lrs, true, true)
	ana, email := testdb.User(t, db, "learner", "Ana")
	p := play(t, s, ana, scenario(t, s, 1), best)
	got := waitFor(t, db, lrs, p.statements(), 60*time.Second)
	for _, st := range got {
		if st.Actor.Mbox != "mailto:"+email || st.Actor.Account.Name != "" {
			t.Fatalf("actor of %s: %s", st.ID, st.Raw)
		}
	}
}

// TestLRSOutageLosesNothing stops the LRS while learners keep answering,
// brings it back, and finds every statement there exactly once. The outage
// is 3 s, or the 30 s under make chaos (BATON_CHAOS=1).
func TestLRSOutageLosesNothing(t *testing.T) {
	outage := 3 * time.Second
	if os.Getenv("BATON_CHAOS") == "1" {
		outage = 30 * time.Second
	}
	lrs := lrstest.Start(t)
	s, db := start(t, lrs, false, true)
	want, i := 0, 0
	playOne := func() {
		u, _ := testdb.User(t, db, "learner", "Learner")
		want += play(t, s, u, scenario(t, s, i), best).statements()
		i++
	}
	playOne()
	waitFor(t, db, lrs, want, 60*time.Second)
	lrs.Stop(t)
	down := time.Now()
	for time.Since(down) < outage {
		playOne()
		time.Sleep(outage / 6)
	}
	if pending(t, db) == 0 {
		t.Fatal("nothing queued while the LRS was down")
	}
	lrs.Start(t)
	playOne()
	got := waitFor(t, db, lrs, want, 2*time.Minute)
	seen := map[string]int{}
	for _, st := range got {
		seen[st.ID]++
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("statement %s is in the LRS %d times", id, n)
		}
	}
	if len(seen) != want {
		t.Errorf("%d distinct statements in the LRS, want %d", len(seen), want)
	}
}

// TestOffCapturesNothing: without an LRS configured the triggers write no
// row and the job queue has no xAPI job.
func TestOffCapturesNothing(t *testing.T) {
	s, db := start(t, nil, false, true)
	u, _ := testdb.User(t, db, "learner", "Ana")
	p := play(t, s, u, scenario(t, s, 0), first)
	practise(t, s, u, p)
	if _, err := s.Lessons.SaveProgress(context.Background(), u, s.Course.Modules[0].Lessons[0].Slug, 100); err != nil {
		t.Fatal(err)
	}
	time.Sleep(6 * time.Second) // past one sweep interval
	var jobs int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'xapi_statements'`).Scan(&jobs); err != nil {
		t.Fatal(err)
	}
	if n := pending(t, db); n != 0 || jobs != 0 {
		t.Fatalf("xAPI off: %d outbox rows, %d xAPI jobs", n, jobs)
	}
}

// TestDeletedLearnersLeaveNothingQueued: deleting an account takes its
// learning records still waiting for the LRS with it.
func TestDeletedLearnersLeaveNothingQueued(t *testing.T) {
	lrs := lrstest.Start(t)
	s, db := start(t, lrs, false, false) // no sender: everything stays queued
	ana, _ := testdb.User(t, db, "learner", "Ana")
	bo, _ := testdb.User(t, db, "learner", "Bo")
	for _, u := range []string{ana, bo} {
		p := play(t, s, u, scenario(t, s, 0), first)
		practise(t, s, u, p)
		if _, err := s.Lessons.SaveProgress(context.Background(), u, s.Course.Modules[0].Lessons[0].Slug, 100); err != nil {
			t.Fatal(err)
		}
	}
	before := pending(t, db)
	u, err := s.Accounts.User(context.Background(), ana)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Gorm.Transaction(func(tx *gorm.DB) error { return s.Accounts.DeleteProvisioned(context.Background(), tx, u) }); err != nil {
		t.Fatal(err)
	}
	if after := pending(t, db); after == 0 || after >= before || after*2 != before {
		t.Fatalf("outbox rows: %d before, %d after deleting one of two learners with the same history", before, after)
	}
}
