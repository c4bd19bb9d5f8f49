package web_test

import (
	"strings"
	"testing"

	"github.com/baton-course/baton/server/database"
)

// countQueries returns how many SQL statements db has sent since the call,
// by any route: GORM, database/sql or the pgx pool directly.
func countQueries(db *database.DB) func() int64 {
	start := db.Statements()
	return func() int64 { return db.Statements() - start }
}

func TestLessonProgressRules(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	put := func(a account, body any) response {
		return call(t, w.h, "PUT", "/api/lessons/"+testLesson+"/progress", body, a.auth()...)
	}
	var p struct {
		Percent     int
		Completed   bool
		CompletedAt *string `json:"completed_at"`
	}
	r := put(w.learner, map[string]int{"percent": 50})
	r.JSON(t, &p)
	if r.Status != 200 || p.Percent != 50 || p.Completed || p.CompletedAt != nil {
		t.Fatalf("50: %d %s", r.Status, r.Body)
	}
	r = put(w.learner, map[string]int{"percent": 30})
	r.JSON(t, &p)
	if r.Status != 200 || p.Percent != 50 {
		t.Fatalf("a lower percent must leave 50: %d %s", r.Status, r.Body)
	}
	r = put(w.learner, map[string]int{"percent": 100})
	r.JSON(t, &p)
	if !p.Completed || p.CompletedAt == nil {
		t.Fatalf("100 must complete: %s", r.Body)
	}
	first := *p.CompletedAt
	put(w.learner, map[string]int{"percent": 100}).JSON(t, &p)
	if *p.CompletedAt != first {
		t.Fatal("completed_at moved on a second 100")
	}
	for name, body := range map[string]any{"101": `{"percent":101}`, "-1": `{"percent":-1}`, "fraction": `{"percent":50.5}`, "missing": `{}`} {
		assertProblem(t, put(w.learner, body), 422)
		_ = name
	}
	assertProblem(t, put(w.learner, `{"percent":"50"}`), 400)
	assertProblem(t, put(w.learner, `{"percent":50,"extra":1}`), 400)
	assertProblem(t, call(t, w.h, "PUT", "/api/lessons/no-such-lesson/progress", map[string]int{"percent": 5}, w.learner.auth()...), 404)

	// Another learner's progress is theirs alone.
	var lesson struct{ Progress struct{ Percent int } }
	call(t, w.h, "GET", "/api/lessons/"+testLesson, nil, w.other.auth()...).JSON(t, &lesson)
	if lesson.Progress.Percent != 0 {
		t.Fatalf("other learner sees %d%%", lesson.Progress.Percent)
	}
	call(t, w.h, "GET", "/api/lessons/"+testLesson, nil, w.learner.auth()...).JSON(t, &lesson)
	if lesson.Progress.Percent != 100 {
		t.Fatalf("learner sees %d%%", lesson.Progress.Percent)
	}
}

func TestLessonView(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := call(t, w.h, "GET", "/api/lessons/"+testLesson, nil, w.learner.auth()...)
	if r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	var l struct {
		Slug, Title, Module, HTML, Objective string
		Prev, Next                           *string
		Minutes                              int
		Checks                               []struct {
			ID      string
			Options []map[string]any
			Answer  any
		}
		Reflections []struct{ ID, Prompt, Body string }
	}
	r.JSON(t, &l)
	if l.Module != "what-you-dont-control" || l.Prev == nil || l.Next == nil || l.Objective == "" || l.Minutes == 0 {
		t.Fatalf("lesson %+v", l)
	}
	if !strings.Contains(l.HTML, "<h2") || strings.Contains(l.HTML, "<script") || !strings.Contains(l.HTML, `data-check="`) {
		t.Fatalf("html: %.300s", l.HTML)
	}
	// The answer key never leaves the server before an answer.
	if strings.Contains(string(r.Body), `"correct"`) || strings.Contains(string(r.Body), `"feedback"`) {
		t.Fatal("lesson view leaks which option is correct")
	}
	if len(l.Checks) == 0 || len(l.Reflections) == 0 || l.Checks[0].Answer != nil {
		t.Fatalf("interactive pieces: %+v %+v", l.Checks, l.Reflections)
	}
	assertProblem(t, call(t, w.h, "GET", "/api/lessons/nope", nil, w.learner.auth()...), 404)
	assertProblem(t, call(t, w.h, "GET", "/api/lessons/..%2F..%2Fetc", nil, w.learner.auth()...), 404)
}

func TestQuickChecksAndReflections(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	l, _ := w.s.svc.Course.Lesson(testLesson)
	q := l.Checks[0]
	var right, wrong string
	for _, o := range q.Options {
		if o.Correct {
			right = o.ID
		} else if wrong == "" {
			wrong = o.ID
		}
	}
	path := "/api/lessons/" + testLesson + "/checks/" + q.ID + "/answers"
	var a struct {
		Correct      bool
		Feedback     string
		Answers      int
		Explanations []struct {
			Option   string
			Correct  bool
			Feedback string
		}
	}
	call(t, w.h, "POST", path, map[string]string{"option": wrong}, w.learner.auth()...).JSON(t, &a)
	if a.Correct || a.Feedback == "" || a.Answers != 1 || len(a.Explanations) != len(q.Options) {
		t.Fatalf("wrong answer: %+v", a)
	}
	// Once answered, the learner sees why each option is right or wrong.
	for i, e := range a.Explanations {
		if e.Option != q.Options[i].ID || e.Correct != q.Options[i].Correct || e.Feedback != q.Options[i].Feedback {
			t.Fatalf("explanation %d: %+v", i, e)
		}
	}
	r := call(t, w.h, "POST", path, map[string]string{"option": right}, w.learner.auth()...)
	var b struct {
		Correct      bool
		FirstCorrect bool `json:"first_correct"`
		Answers      int
	}
	r.JSON(t, &b)
	if !b.Correct || b.FirstCorrect || b.Answers != 2 {
		t.Fatalf("second answer must be correct with the first kept as wrong: %s", r.Body)
	}
	// The first answer is what counts in the learner's progress.
	var p struct {
		QuickChecks struct {
			Answered     int
			FirstCorrect int `json:"first_correct"`
			Of           int
		} `json:"quick_checks"`
	}
	call(t, w.h, "GET", "/api/progress", nil, w.learner.auth()...).JSON(t, &p)
	if p.QuickChecks.Answered != 1 || p.QuickChecks.FirstCorrect != 0 || p.QuickChecks.Of < 7 {
		t.Fatalf("progress after a wrong then a right answer: %+v", p.QuickChecks)
	}
	assertProblem(t, call(t, w.h, "POST", path, map[string]string{"option": "z"}, w.learner.auth()...), 422)
	assertProblem(t, call(t, w.h, "POST", "/api/lessons/"+testLesson+"/checks/nope/answers", map[string]string{"option": "a"}, w.learner.auth()...), 404)

	rp := "/api/lessons/" + testLesson + "/reflections/" + l.Reflections[0].ID
	secret := "My manager <b>zyxwv-unique</b> listens & I said so"
	if r := call(t, w.h, "PUT", rp, map[string]string{"body": secret}, w.learner.auth()...); r.Status != 200 {
		t.Fatalf("save reflection %d %s", r.Status, r.Body)
	}
	assertProblem(t, call(t, w.h, "PUT", rp, map[string]string{"body": strings.Repeat("x", 10001)}, w.learner.auth()...), 422)
	mine := call(t, w.h, "GET", "/api/lessons/"+testLesson, nil, w.learner.auth()...)
	theirs := call(t, w.h, "GET", "/api/lessons/"+testLesson, nil, w.other.auth()...)
	if !strings.Contains(string(mine.Body), "zyxwv-unique") || strings.Contains(string(theirs.Body), "zyxwv-unique") {
		t.Fatal("a reflection must be visible to its author only")
	}
	if !strings.Contains(string(mine.Body), `"first_correct":false`) {
		t.Fatalf("lesson view lacks the recorded answer: %.200s", mine.Body)
	}
}

// TestModulesQueryCountIsConstant: listing the course with progress costs
// the same number of statements whatever the learner has done.
func TestModulesQueryCountIsConstant(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	measure := func() int64 {
		n := countQueries(w.db)
		if r := call(t, w.h, "GET", "/api/modules", nil, w.learner.auth()...); r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		return n()
	}
	empty := measure()
	for _, l := range w.s.svc.Course.Lessons() {
		call(t, w.h, "PUT", "/api/lessons/"+l.Slug+"/progress", map[string]int{"percent": 100}, w.learner.auth()...)
	}
	for range 3 {
		playScenario(t, w, w.learner, testQuiz, bestChoice)
	}
	busy := measure()
	if busy == 0 || empty != busy || busy > 2 {
		t.Fatalf("GET /api/modules ran %d statements empty, %d with history; want a constant 2", empty, busy)
	}
	var mods []struct {
		Slug      string
		Percent   int
		Completed bool
		Quizzes   []struct {
			Slug        string
			Passed      bool
			BestPercent *int `json:"best_percent"`
		}
	}
	call(t, w.h, "GET", "/api/modules", nil, w.learner.auth()...).JSON(t, &mods)
	for _, m := range mods {
		if m.Slug == "what-you-dont-control" {
			if !m.Completed || m.Percent != 100 || !m.Quizzes[0].Passed || *m.Quizzes[0].BestPercent != 100 {
				t.Fatalf("module after all lessons and a pass: %+v", m)
			}
		} else if m.Completed {
			t.Fatalf("module %s completed without its scenario", m.Slug)
		}
	}
}
