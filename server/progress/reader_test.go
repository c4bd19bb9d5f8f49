package progress

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/baton-course/baton/lessons"
	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/database"
	"github.com/baton-course/baton/server/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

func newReader(t *testing.T) (*Reader, *lessons.Store, *database.DB) {
	t.Helper()
	course, err := lessons.Load(lessons.Content())
	if err != nil {
		t.Fatal(err)
	}
	modules := map[string]bool{}
	for _, m := range course.Modules {
		modules[m.Slug] = true
	}
	scenarios, err := quizzes.LoadAll(quizzes.Content(), modules)
	if err != nil {
		t.Fatal(err)
	}
	db, ctx := testdb.New(t), context.Background()
	if err := lessons.Sync(ctx, db.Gorm, course); err != nil {
		t.Fatal(err)
	}
	catalog, err := quizzes.NewCatalog(ctx, db.Gorm, scenarios)
	if err != nil {
		t.Fatal(err)
	}
	ls := lessons.NewStore(db.Gorm, db.Pool)
	return NewReader(course, catalog, ls, quizzes.NewStore(db.Gorm, db.Pool, catalog)), ls, db
}

func newUser(t *testing.T, db *database.DB, email string) string {
	t.Helper()
	id, _ := testdb.User(t, db, "learner", "L")
	return id
}

// Standings of many learners load in two statements; a learner who did
// nothing has an empty standing, not a missing one.
func TestStandingOfMany(t *testing.T) {
	t.Parallel()
	r, ls, db := newReader(t)
	ctx := context.Background()
	reader, idle := newUser(t, db, "reader@example.com"), newUser(t, db, "idle@example.com")
	m := r.course.Modules[0]
	for _, l := range m.Lessons {
		if _, err := ls.SaveProgress(ctx, reader, l.Slug, 100); err != nil {
			t.Fatal(err)
		}
	}
	before := db.Statements()
	all, err := r.Standing(ctx, []string{reader, idle})
	if err != nil {
		t.Fatal(err)
	}
	if n := db.Statements() - before; n != 2 {
		t.Fatalf("%d statements, want 2", n)
	}
	if got := r.Module(all[reader], m); got.LessonsDone != len(m.Lessons) || !got.Started {
		t.Fatalf("reader's module %+v", got)
	}
	st, ok := all[idle]
	if !ok || r.Module(st, m).Started || st.Skills() != (quizzes.Points{}) {
		t.Fatalf("idle learner %+v (present %v)", st, ok)
	}

	d, err := r.Dashboard(ctx, reader, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Modules) != len(r.course.Modules) || d.Modules[0].LessonsDone != len(m.Lessons) || d.SkillHistory == nil || d.ReviewsDue == nil {
		t.Fatalf("dashboard %+v", d)
	}
}
