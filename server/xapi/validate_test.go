package xapi_test

import (
	"context"
	"testing"

	"github.com/baton-course/baton/server/lrstest"
	"github.com/baton-course/baton/server/testdb"
	"github.com/baton-course/baton/server/xapi"
)

// TestEveryStatementIsValid builds every kind of statement Baton makes
// (started, answered, passed, failed, completed, a lesson completed, and
// the practice run's, with account and with mbox actors) and checks each
// against the xAPI 1.0.3 rules with Learning Locker's xapi-validation.
func TestEveryStatementIsValid(t *testing.T) {
	ctx := context.Background()
	// Capture on, no sender: the outbox keeps every event for the builder.
	s, db := start(t, nil, false, false)
	if err := xapi.Enable(ctx, db.Pool, true); err != nil {
		t.Fatal(err)
	}
	ana, _ := testdb.User(t, db, "learner", "Ana")
	ben, _ := testdb.User(t, db, "learner", "Ben")
	play(t, s, ana, scenario(t, s, 0), best)
	p := play(t, s, ben, scenario(t, s, 0), first)
	practise(t, s, ben, p)
	if _, err := s.Lessons.SaveProgress(ctx, ana, s.Course.Modules[0].Lessons[0].Slug, 100); err != nil {
		t.Fatal(err)
	}
	events, err := xapi.Queued(ctx, db.Pool)
	if err != nil {
		t.Fatal(err)
	}
	var all []xapi.Statement
	verbs := map[string]bool{}
	kinds := map[string]bool{}
	for _, mbox := range []bool{false, true} {
		b := xapi.NewBuilder(db.Pool, s.Catalog, publicURL, mbox)
		for _, e := range events {
			sts, err := b.Statements(ctx, e)
			if err != nil {
				t.Fatalf("%s event %d: %v", e.Kind, e.ID, err)
			}
			kinds[e.Kind] = true
			for _, st := range sts {
				verbs[st.Verb.ID] = true
			}
			all = append(all, sts...)
		}
	}
	for _, k := range []string{xapi.KindAttemptStarted, xapi.KindAttemptAnswered, xapi.KindAttemptFinished, xapi.KindLessonCompleted,
		xapi.KindPracticeStarted, xapi.KindPracticeAnswered, xapi.KindPracticeFinished} {
		if !kinds[k] {
			t.Errorf("no %s event was built", k)
		}
	}
	for _, v := range []xapi.Verb{xapi.Attempted, xapi.Answered, xapi.Passed, xapi.Failed, xapi.Completed} {
		if !verbs[v.ID] {
			t.Errorf("no statement with verb %s was built", v.ID)
		}
	}
	problems, err := lrstest.Validate(all)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != len(all) {
		t.Fatalf("%d results for %d statements", len(problems), len(all))
	}
	for i, list := range problems {
		if len(list) > 0 {
			t.Errorf("statement %d (%s %s) is not valid xAPI: %v", i, all[i].Verb.ID, all[i].Object.ID, list)
		}
	}
	// The validator itself refuses what it should: the test can fail.
	broken := all[0]
	broken.Actor = xapi.Actor{ObjectType: "Agent", Mbox: "not-an-address"}
	if problems, err := lrstest.Validate([]xapi.Statement{broken}); err != nil || len(problems) != 1 || len(problems[0]) == 0 {
		t.Fatalf("a statement with a broken actor passed validation: %v %v", problems, err)
	}
}
