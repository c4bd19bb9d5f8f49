package web_test

import (
	"os"
	"testing"
	"time"
)

// Attempts stored before scenario format 2 (on a format-1 version, with no
// variant and no state, as migration 00010 leaves them) still read, replay
// and count, and one left in progress can be finished on its old version.
func TestAttemptsStoredBeforeVariants(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	src, err := os.ReadFile("testdata/the-impossible-date.format1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if err := w.db.Gorm.Exec(q, args...).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO scenario_versions (quiz_slug, version, module_slug, source) VALUES (?, 'format-1', 'what-you-dont-control', ?)`, testQuiz, src)
	// The columns the old code wrote: no variant, no state.
	finished := time.Now().Add(-3 * 24 * time.Hour)
	const done = "00000000-0000-4000-8000-000000000001"
	exec(`INSERT INTO attempts (id, user_id, quiz_slug, scenario_version, number, seed, status, ending_id, percent, passed,
		  vision, alignment, inspiration, answered, started_at, finished_at)
		VALUES (?, ?, ?, 'format-1', 1, 7, 'finished', 'a-smaller-promise-kept', 100, true, 100, 100, 100, 5, ?, ?)`,
		done, w.learner.ID, testQuiz, finished.Add(-time.Hour), finished)
	best := [][2]string{{"the-estimate", "unpack-the-estimate"}, {"what-must-be-true", "slice-to-the-link"}, {"the-buffer", "agree-a-cut-line"},
		{"leadership-case", "make-the-business-case"}, {"expo-messaging", "co-write-the-story"}}
	for i, a := range best {
		exec(`INSERT INTO attempt_answers (attempt_id, position, user_id, quiz_slug, scenario_version, step_id, choice_id, vision, alignment, inspiration)
			VALUES (?, ?, ?, ?, 'format-1', ?, ?, 0, 0, 0)`, done, i+1, w.learner.ID, testQuiz, a[0], a[1])
	}
	exec(`INSERT INTO scenario_standings (user_id, quiz_slug, attempts_used, first_percent, best_percent, passed, last_finished_at,
		  latest_vision, latest_alignment, latest_inspiration, review_due_at, review_streak)
		VALUES (?, ?, 1, 100, 100, true, ?, 100, 100, 100, ?, 1)`, w.learner.ID, testQuiz, finished, finished.Add(2*24*time.Hour))
	// And one left in progress at the second step.
	const open = "00000000-0000-4000-8000-000000000002"
	exec(`INSERT INTO attempts (id, user_id, quiz_slug, scenario_version, number, seed, current_step, answered, points_alignment, points_inspiration, started_at)
		VALUES (?, ?, ?, 'format-1', 1, 9, 'what-must-be-true', 1, 2, 2, now())`, open, w.stranger.ID, testQuiz)
	exec(`INSERT INTO attempt_answers (attempt_id, position, user_id, quiz_slug, scenario_version, step_id, choice_id, vision, alignment, inspiration)
		VALUES (?, 1, ?, ?, 'format-1', 'the-estimate', 'unpack-the-estimate', 0, 2, 2)`, open, w.stranger.ID, testQuiz)
	exec(`INSERT INTO scenario_standings (user_id, quiz_slug, attempts_used) VALUES (?, ?, 1)`, w.stranger.ID, testQuiz)

	var replay struct {
		Status  string
		Variant struct{ ID, Title string }
		Answers []struct {
			StepID   string `json:"step_id"`
			StepText string `json:"step_text"`
			Feedback string
		}
		Result *resultJSON
		Review *struct {
			BestPath []string `json:"best_path"`
		}
	}
	r := call(t, w.h, "GET", "/api/attempts/"+done, nil, w.learner.auth()...)
	if r.Status != 200 {
		t.Fatalf("a stored attempt does not read: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &replay)
	if replay.Status != "finished" || replay.Variant.ID != "" || replay.Variant.Title != "The impossible date" || len(replay.Answers) != 5 ||
		replay.Answers[1].StepID != "what-must-be-true" || replay.Answers[1].Feedback == "" || replay.Result == nil ||
		replay.Result.Percent != 100 || replay.Result.Ending.Title != "A smaller promise, kept" || replay.Review == nil || len(replay.Review.BestPath) != 5 {
		t.Fatalf("stored attempt replayed as %s", r.Body)
	}
	var q struct {
		AttemptsUsed int  `json:"attempts_used"`
		BestPercent  *int `json:"best_percent"`
		Passed       bool
	}
	call(t, w.h, "GET", "/api/quizzes/"+testQuiz, nil, w.learner.auth()...).JSON(t, &q)
	if q.AttemptsUsed != 1 || q.BestPercent == nil || *q.BestPercent != 100 || !q.Passed {
		t.Fatalf("a stored attempt does not count: %+v", q)
	}
	var hist []struct {
		Variant struct{ ID, Title string }
		Version string `json:"scenario_version"`
	}
	call(t, w.h, "GET", "/api/quizzes/"+testQuiz+"/attempts", nil, w.learner.auth()...).JSON(t, &hist)
	if len(hist) != 1 || hist[0].Version != "format-1" || hist[0].Variant.Title != "The impossible date" {
		t.Fatalf("history %+v", hist)
	}
	// The next attempt follows it, on the current version and a variant.
	next, status := start(t, w.h, w.learner, testQuiz)
	if status != 201 || next.Number != 2 || next.Variant.ID == "" {
		t.Fatalf("the attempt after a stored one: %d %+v", status, next)
	}

	// The open one goes on where it stood, on its old version.
	resumed, status := start(t, w.h, w.stranger, testQuiz)
	if status != 200 || resumed.ID != open || resumed.Step.ID != "what-must-be-true" || resumed.Variant.ID != "" {
		t.Fatalf("resume a stored attempt: %d %+v", status, resumed)
	}
	step := resumed.Step
	for _, a := range best[1:] {
		var answered answeredJSON
		r := call(t, w.h, "POST", "/api/attempts/"+open+"/answers", map[string]string{"step_id": a[0], "choice_id": tokenByText(t, w, step, a[1])}, w.stranger.auth()...)
		if r.Status != 200 {
			t.Fatalf("answer %s on the stored version: %d %s", a[1], r.Status, r.Body)
		}
		r.JSON(t, &answered)
		if answered.Finished {
			if answered.Result.Percent != 100 || answered.Result.Ending.ID != "a-smaller-promise-kept" {
				t.Fatalf("finished on the stored version: %+v", answered.Result)
			}
			return
		}
		step = answered.Step
	}
	t.Fatal("the stored attempt never finished")
}

// tokenByText finds, on a format-1 step shown by the API, the token of the
// choice with authoring id id in the stored version.
func tokenByText(t *testing.T, w *world, step *stepJSON, id string) string {
	t.Helper()
	v, err := w.s.Catalog.Pinned(t.Context(), testQuiz, "format-1", "")
	if err != nil {
		t.Fatal(err)
	}
	return tokenFor(t, v, step, id)
}
