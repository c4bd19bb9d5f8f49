package web_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
)

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

type practiceJSON struct {
	ID        string
	Practice  bool
	AttemptID string `json:"attempt_id"`
	Status    string
	Variant   struct{ ID, Title string }
	From      int `json:"from_position"`
	Step      *stepJSON
	Answers   []struct{ StepID, ChoiceText, Feedback string }
	Result    *resultJSON
}

// standing is everything a practice run must leave alone.
type standing struct {
	Attempts, Answers                       int64
	Used, Best, First                       *int
	ReviewDue, LastFinished                 *string
	LatestVision, LatestAlign, LatestInspir *int
}

func standingOf(t *testing.T, w *world, user string) standing {
	t.Helper()
	var s standing
	w.db.Gorm.Raw(`SELECT (SELECT count(*) FROM attempts WHERE user_id = ?) AS attempts,
		  (SELECT count(*) FROM attempt_answers WHERE user_id = ?) AS answers,
		  s.attempts_used AS used, s.best_percent AS best, s.first_percent AS first, s.review_due_at::text AS review_due,
		  s.last_finished_at::text AS last_finished, s.latest_vision, s.latest_alignment AS latest_align, s.latest_inspiration AS latest_inspir
		FROM scenario_standings s WHERE s.user_id = ? AND s.quiz_slug = ?`, user, user, user, testQuiz).Scan(&s)
	return s
}

// Practice from the costly decision: the run starts at that decision in
// the state the learner was in, resumes rather than duplicates, plays to an
// ending, and changes no result, standing, review, skill or history.
func TestPracticeRun(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	me := w.learner
	id, v, worst := playVariant(t, w, me, testQuiz, worstChoice)
	var attempt struct {
		CostlyDecision *struct {
			StepID   string `json:"step_id"`
			Position int
		} `json:"costly_decision"`
	}
	call(t, w.h, "GET", "/api/attempts/"+id, nil, me.auth()...).JSON(t, &attempt)
	costly := attempt.CostlyDecision
	if costly == nil {
		t.Fatal("the worst path names no costly decision")
	}
	before := standingOf(t, w, me.ID)
	if before.Attempts != 1 || before.Used == nil || *before.Used != 1 || before.LastFinished == nil {
		t.Fatalf("standing read as %+v", before)
	}
	var progressBefore, progressAfter map[string]any
	call(t, w.h, "GET", "/api/progress", nil, me.auth()...).JSON(t, &progressBefore)

	r := call(t, w.h, "POST", "/api/attempts/"+id+"/practice", nil, me.auth()...)
	var run practiceJSON
	r.JSON(t, &run)
	if r.Status != 201 || !run.Practice || run.AttemptID != id || run.Variant.ID != v.ID || run.From != costly.Position ||
		run.Step == nil || run.Step.ID != costly.StepID || run.Step.Decision.Number != costly.Position+1 {
		t.Fatalf("practice start: %d %s", r.Status, r.Body)
	}
	var again practiceJSON
	if r := call(t, w.h, "POST", "/api/attempts/"+id+"/practice", nil, me.auth()...); r.Status != 200 {
		t.Fatalf("resume: %d %s", r.Status, r.Body)
	} else if r.JSON(t, &again); again.ID != run.ID || choiceIDs(again.Step) != choiceIDs(run.Step) {
		t.Fatalf("resume gave another run: %+v", again)
	}
	answers := "/api/practice/" + run.ID + "/answers"
	assertProblem(t, call(t, w.h, "POST", answers, map[string]string{"step_id": run.Step.ID, "choice_id": "made-up"}, me.auth()...), 422)
	assertProblem(t, call(t, w.h, "POST", answers, map[string]string{"step_id": "not-current", "choice_id": run.Step.Choices[0].ID}, me.auth()...), 409)
	assertProblem(t, call(t, w.h, "GET", "/api/practice/"+run.ID, nil, w.other.auth()...), 404)
	assertProblem(t, call(t, w.h, "POST", answers, map[string]string{"step_id": run.Step.ID, "choice_id": run.Step.Choices[0].ID}, w.other.auth()...), 404)
	assertProblem(t, call(t, w.h, "POST", "/api/attempts/"+id+"/practice", nil, w.other.auth()...), 404)

	// Play the best moves from the state the run is in (read where the
	// server keeps it), the first one sent ten times at once.
	step := run.Step
	var result *resultJSON
	for taken := 0; step != nil; taken++ {
		var state []int
		if err := w.db.Pool.QueryRow(context.Background(), "SELECT state FROM practice_runs WHERE id = $1", run.ID).Scan(&state); err != nil {
			t.Fatal(err)
		}
		body := map[string]string{"step_id": step.ID, "choice_id": tokenFor(t, v, step, v.BestChoice(step.ID, state))}
		var ans answeredJSON
		if taken == 0 {
			statuses := make(chan response, 10)
			var wg sync.WaitGroup
			for range 10 {
				wg.Add(1)
				go func() { defer wg.Done(); statuses <- call(t, w.h, "POST", answers, body, me.auth()...) }()
			}
			wg.Wait()
			close(statuses)
			ok := 0
			for r := range statuses {
				switch r.Status {
				case 200:
					ok++
					r.JSON(t, &ans)
				case 409:
				default:
					t.Fatalf("concurrent practice answer: %d %s", r.Status, r.Body)
				}
			}
			if ok != 1 {
				t.Fatalf("%d of ten identical practice answers recorded", ok)
			}
		} else {
			r := call(t, w.h, "POST", answers, body, me.auth()...)
			if r.Status != 200 {
				t.Fatalf("practice answer: %d %s", r.Status, r.Body)
			}
			r.JSON(t, &ans)
		}
		if ans.Feedback == "" {
			t.Fatal("a practice answer without feedback")
		}
		step, result = ans.Step, ans.Result
	}
	if result == nil || result.Ending.ID == "" || result.Percent <= worst.Percent {
		t.Fatalf("practice result %+v after an attempt at %d%%", result, worst.Percent)
	}
	assertProblem(t, call(t, w.h, "POST", answers, map[string]string{"step_id": run.Step.ID, "choice_id": run.Step.Choices[0].ID}, me.auth()...), 409)
	var done practiceJSON
	call(t, w.h, "GET", "/api/practice/"+run.ID, nil, me.auth()...).JSON(t, &done)
	if done.Status != "finished" || done.Result == nil || done.Result.Percent != result.Percent || len(done.Answers) == 0 {
		t.Fatalf("finished practice run %+v", done)
	}

	if after := standingOf(t, w, me.ID); !equalJSON(after, before) {
		t.Fatalf("a practice run changed the standing: %+v, was %+v", after, before)
	}
	call(t, w.h, "GET", "/api/progress", nil, me.auth()...).JSON(t, &progressAfter)
	if a, b := progressAfter["skills"], progressBefore["skills"]; !equalJSON(a, b) || !equalJSON(progressAfter["reviews_due"], progressBefore["reviews_due"]) {
		t.Fatalf("a practice run changed progress: %v, was %v", progressAfter, progressBefore)
	}
	var hist []struct{ ID string }
	call(t, w.h, "GET", "/api/quizzes/"+testQuiz+"/attempts", nil, me.auth()...).JSON(t, &hist)
	if len(hist) != 1 {
		t.Fatalf("history after practice: %+v", hist)
	}

	// A second run may start once the first is finished.
	if r := call(t, w.h, "POST", "/api/attempts/"+id+"/practice", nil, me.auth()...); r.Status != 201 {
		t.Fatalf("a second practice run: %d %s", r.Status, r.Body)
	}
	// Nothing to practise: an attempt in progress, or a best path.
	open, _ := start(t, w.h, w.other, testQuiz)
	assertProblem(t, call(t, w.h, "POST", "/api/attempts/"+open.ID+"/practice", nil, w.other.auth()...), 409)
	best, _ := playScenario(t, w, w.stranger, testQuiz, bestChoice)
	assertProblem(t, call(t, w.h, "POST", "/api/attempts/"+best+"/practice", nil, w.stranger.auth()...), 409)
}
