package lessons

import (
	"context"
	"os"
	"testing"

	"github.com/baton-course/baton/server/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// The store on a real database: reading progress never goes backwards and
// completes a lesson once; a quick check keeps its first answer as the
// baseline; a reflection is replaced, NUL bytes dropped; State reads it all
// back and ProgressFor reads several learners at once.
func TestStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	course, err := Load(Content())
	if err != nil {
		t.Fatal(err)
	}
	if err := Sync(ctx, db.Gorm, course); err != nil {
		t.Fatal(err)
	}
	if err := Sync(ctx, db.Gorm, course); err != nil {
		t.Fatalf("a second sync: %v", err)
	}
	ann, _ := testdb.User(t, db, "learner", "Ann")
	ben, _ := testdb.User(t, db, "learner", "Ben")
	s := NewStore(db.Gorm, db.Pool)
	l := course.Lessons()[0]

	if p, err := s.SaveProgress(ctx, ann, l.Slug, 60); err != nil || p.Percent != 60 || p.Completed {
		t.Fatalf("60%%: %+v %v", p, err)
	}
	if p, _ := s.SaveProgress(ctx, ann, l.Slug, 20); p.Percent != 60 {
		t.Fatalf("progress went back: %+v", p)
	}
	done, _ := s.SaveProgress(ctx, ann, l.Slug, 100)
	again, _ := s.SaveProgress(ctx, ann, l.Slug, 100)
	if !done.Completed || again.CompletedAt == nil || !again.CompletedAt.Equal(*done.CompletedAt) {
		t.Fatalf("completion moved: %+v then %+v", done, again)
	}

	if a, _ := s.AnswerCheck(ctx, ann, l.Slug, "q1", "b", false); a.Answers != 1 || a.FirstOK {
		t.Fatalf("first answer %+v", a)
	}
	if a, _ := s.AnswerCheck(ctx, ann, l.Slug, "q1", "a", true); a.Answers != 2 || a.FirstOK || !a.Correct || a.Option != "a" {
		t.Fatalf("second answer %+v", a)
	}
	s.SaveReflection(ctx, ann, l.Slug, "r1", "first")
	if r, err := s.SaveReflection(ctx, ann, l.Slug, "r1", "sec\x00ond"); err != nil || r.Body != "second" {
		t.Fatalf("reflection %+v %v", r, err)
	}

	st, err := s.State(ctx, ann, l.Slug)
	if err != nil || st.Progress.Percent != 100 || st.Checks["q1"].Answers != 2 || st.Reflections["r1"].Body != "second" {
		t.Fatalf("state %+v %v", st, err)
	}
	if st, _ := s.State(ctx, ben, l.Slug); st.Progress.Percent != 0 || len(st.Checks) != 0 || len(st.Reflections) != 0 {
		t.Fatalf("ben sees ann's work: %+v", st)
	}
	s.SaveProgress(ctx, ben, l.Slug, 30)
	all, err := s.ProgressFor(ctx, []string{ann, ben})
	if err != nil || all[ann][l.Slug].Percent != 100 || all[ben][l.Slug].Percent != 30 {
		t.Fatalf("progress for both %+v %v", all, err)
	}
}
