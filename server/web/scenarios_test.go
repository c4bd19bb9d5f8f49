package web_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/progress"
)

type stepJSON struct {
	ID       string
	Text     string
	Choices  []struct{ ID, Text string }
	Decision struct {
		Number  int
		OfAbout int `json:"of_about"`
	}
}

type resultJSON struct {
	Percent int
	Passed  bool
	Skills  quizzes.Points
	Ending  struct{ ID, Title, Text string }
}

type startedJSON struct {
	ID     string
	Number int
	Status string
	Step   *stepJSON
}

type answeredJSON struct {
	Feedback string
	Finished bool
	Step     *stepJSON
	Result   *resultJSON
}

// strategy picks a choice for a step of sc.
type strategy func(sc *quizzes.Scenario, step string, taken int) string

// bestChoice follows the scenario's best path.
func bestChoice(sc *quizzes.Scenario, _ string, taken int) string { return sc.BestPath[taken] }

// worstChoice greedily takes the lowest-scoring move.
func worstChoice(sc *quizzes.Scenario, step string, _ int) string {
	best, pick := 1<<30, ""
	for _, c := range sc.Steps[step].Choices {
		if t := c.Points.Total(); t < best {
			best, pick = t, c.ID
		}
	}
	return pick
}

func start(t testing.TB, h http.Handler, a account, quiz string) (startedJSON, int) {
	t.Helper()
	r := call(t, h, "POST", "/api/quizzes/"+quiz+"/attempts", nil, a.auth()...)
	if r.Status != 200 && r.Status != 201 {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	var s startedJSON
	r.JSON(t, &s)
	return s, r.Status
}

// playScenario starts (or resumes) an attempt and plays it to its ending.
func playScenario(t testing.TB, w *world, a account, quiz string, pick strategy) (string, resultJSON) {
	t.Helper()
	h := w.h
	s, _ := start(t, h, a, quiz)
	sc, ok := w.s.Catalog.Get(quiz)
	if !ok {
		t.Fatalf("no scenario %s", quiz)
	}
	step := s.Step
	for taken := 0; ; taken++ {
		// Decision N of about M: M is those taken plus the longest way on.
		if d := step.Decision; d.Number != taken+1 || d.OfAbout != taken+sc.Steps[step.ID].Longest {
			t.Fatalf("step %s after %d decisions shows decision %d of about %d", step.ID, taken, d.Number, d.OfAbout)
		}
		r := call(t, h, "POST", "/api/attempts/"+s.ID+"/answers",
			map[string]string{"step_id": step.ID, "choice_id": tokenFor(t, sc, step, pick(sc, step.ID, taken))}, a.auth()...)
		if r.Status != 200 {
			t.Fatalf("answer: %d %s", r.Status, r.Body)
		}
		var ans answeredJSON
		r.JSON(t, &ans)
		if ans.Feedback == "" {
			t.Fatal("an answer came back without feedback")
		}
		if ans.Finished {
			return s.ID, *ans.Result
		}
		step = ans.Step
	}
}

func scenarioNamed(t testing.TB, slug string) *quizzes.Scenario {
	t.Helper()
	c, err := quizzes.LoadAll(quizzes.Content(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range c {
		if sc.Slug == slug {
			return sc
		}
	}
	t.Fatalf("no scenario %s", slug)
	return nil
}

// tokenFor is the id the attempt shows for the choice authored as id: the
// wire carries per-attempt tokens, so a test finds the choice by its text.
func tokenFor(t testing.TB, sc *quizzes.Scenario, step *stepJSON, id string) string {
	t.Helper()
	c, ok := sc.Steps[step.ID].Choice(id)
	if !ok {
		t.Fatalf("step %s has no choice %s", step.ID, id)
	}
	for _, shown := range step.Choices {
		if shown.Text == c.Text {
			return shown.ID
		}
	}
	t.Fatalf("step %s does not show %s", step.ID, id)
	return ""
}

func choiceIDs(s *stepJSON) string {
	var ids []string
	for _, c := range s.Choices {
		ids = append(ids, c.ID)
	}
	return strings.Join(ids, ",")
}

func TestScenarioAttemptFlow(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	h, me := w.h, w.learner
	sc := scenarioNamed(t, testQuiz)

	first, status := start(t, h, me, testQuiz)
	if status != 201 || first.Number != 1 || first.Status != "in_progress" || first.Step.ID != sc.Start || len(first.Step.Choices) < 2 {
		t.Fatalf("start: %d %+v", status, first)
	}
	again, status := start(t, h, me, testQuiz)
	if status != 200 || again.ID != first.ID || choiceIDs(again.Step) != choiceIDs(first.Step) {
		t.Fatalf("resume: %d %+v", status, again)
	}
	for _, c := range first.Step.Choices {
		if strings.Contains(c.Text, "points") {
			t.Fatal("choices must not reveal scores")
		}
	}
	answers := "/api/attempts/" + first.ID + "/answers"
	assertProblem(t, call(t, h, "POST", answers, map[string]string{"step_id": "not-current", "choice_id": tokenFor(t, sc, first.Step, sc.BestPath[0])}, me.auth()...), 409)
	assertProblem(t, call(t, h, "POST", answers, map[string]string{"step_id": sc.Start, "choice_id": "made-up"}, me.auth()...), 422)
	assertProblem(t, call(t, h, "POST", answers, map[string]string{"step_id": sc.Start}, me.auth()...), 422)
	assertProblem(t, call(t, h, "POST", answers, `{"step_id":"a","choice_id":"b","score":100}`, me.auth()...), 400)
	assertProblem(t, call(t, h, "POST", "/api/attempts/not-a-uuid/answers", map[string]string{"step_id": "a", "choice_id": "b"}, me.auth()...), 404)

	id, res := playScenario(t, w, me, testQuiz, bestChoice)
	if id != first.ID || res.Percent != 100 || !res.Passed || res.Ending.Title == "" {
		t.Fatalf("best path: %+v", res)
	}
	for _, v := range []int{res.Skills.Vision, res.Skills.Alignment, res.Skills.Inspiration} {
		if v < 0 || v > 100 {
			t.Fatalf("skills %+v", res.Skills)
		}
	}
	assertProblem(t, call(t, h, "POST", answers, map[string]string{"step_id": sc.Start, "choice_id": tokenFor(t, sc, first.Step, sc.BestPath[0])}, me.auth()...), 409)

	// Retake worse: the best attempt still counts.
	second, status := start(t, h, me, testQuiz)
	if status != 201 || second.Number != 2 {
		t.Fatalf("retake: %d %+v", status, second)
	}
	_, worse := playScenario(t, w, me, testQuiz, worstChoice)
	if worse.Percent >= 70 || worse.Passed {
		t.Fatalf("worst path passed: %+v", worse)
	}
	var q struct {
		BestPercent  *int    `json:"best_percent"`
		FirstPercent *int    `json:"first_percent"`
		AttemptsUsed int     `json:"attempts_used"`
		AttemptsLeft *int    `json:"attempts_left"`
		MaxAttempts  *int    `json:"max_attempts"`
		Passed       bool    `json:"passed"`
		NextReviewAt *string `json:"next_review_at"`
		PassPercent  int     `json:"pass_percent"`
	}
	call(t, h, "GET", "/api/quizzes/"+testQuiz, nil, me.auth()...).JSON(t, &q)
	if *q.BestPercent != 100 || *q.FirstPercent != 100 || !q.Passed || q.AttemptsUsed != 2 || q.AttemptsLeft != nil || q.MaxAttempts != nil || q.NextReviewAt == nil || q.PassPercent != 70 {
		t.Fatalf("quiz view: %+v", q)
	}
	var hist []struct {
		ID      string
		Number  int
		Percent *int
	}
	call(t, h, "GET", "/api/quizzes/"+testQuiz+"/attempts", nil, me.auth()...).JSON(t, &hist)
	if len(hist) != 2 || hist[0].Number != 2 || hist[1].Number != 1 || *hist[1].Percent != 100 {
		t.Fatalf("history: %+v", hist)
	}

	// Replay: the path with feedback, and (passed) the answer key.
	var replay struct {
		Status  string
		Answers []struct{ StepID, ChoiceID, Feedback string } `json:"answers"`
		Result  *resultJSON
		Review  *struct {
			BestPath []string `json:"best_path"`
			Steps    []struct {
				Choices []struct {
					Feedback     string
					Chosen, Best bool
				}
			}
		}
	}
	call(t, h, "GET", "/api/attempts/"+first.ID, nil, me.auth()...).JSON(t, &replay)
	if replay.Status != "finished" || len(replay.Answers) != len(sc.BestPath) || replay.Result.Percent != 100 || replay.Review == nil {
		t.Fatalf("replay: %+v", replay)
	}
	for _, st := range replay.Review.Steps {
		for _, c := range st.Choices {
			if c.Feedback == "" {
				t.Fatal("review lacks the feedback of a choice not taken")
			}
		}
	}
}

// The answer key is earned: a learner who has not passed sees only their own
// path and feedback.
func TestReplayHidesAnswerKeyUntilPassed(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	id, res := playScenario(t, w, w.learner, testQuiz, worstChoice)
	if res.Passed {
		t.Fatal("worst path passed")
	}
	r := call(t, w.h, "GET", "/api/attempts/"+id, nil, w.learner.auth()...)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"review":null`) || strings.Contains(string(r.Body), "best_path") {
		t.Fatalf("review visible before a pass: %s", r.Body)
	}
}

// The same answer sent ten times at once is recorded once.
func TestConcurrentAnswersRecordedOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	s, _ := start(t, w.h, w.learner, testQuiz)
	sc := scenarioNamed(t, testQuiz)
	body := map[string]string{"step_id": s.Step.ID, "choice_id": tokenFor(t, sc, s.Step, sc.BestPath[0])}
	var wg sync.WaitGroup
	statuses := make(chan int, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- call(t, w.h, "POST", "/api/attempts/"+s.ID+"/answers", body, w.learner.auth()...).Status
		}()
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for st := range statuses {
		count[st]++
	}
	if count[200] != 1 || count[409] != 9 {
		t.Fatalf("statuses %v, want one 200 and nine 409", count)
	}
	var n int64
	w.db.Gorm.Raw("SELECT count(*) FROM attempt_answers WHERE attempt_id = ?", s.ID).Scan(&n)
	if n != 1 {
		t.Fatalf("%d answers recorded", n)
	}
}

// Ten simultaneous starts give one attempt, not ten.
func TestConcurrentStartsResumeOneAttempt(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var wg sync.WaitGroup
	ids := make(chan string, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, _ := start(t, w.h, w.learner, testQuiz)
			ids <- s.ID
		}()
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		seen[id] = true
	}
	if len(seen) != 1 {
		t.Fatalf("%d attempts started", len(seen))
	}
}

// withScenario adds a scenario to the server's catalog (as an admin-configured
// assessment would be) and returns it.
func withScenario(t *testing.T, w *world, yaml string) *quizzes.Scenario {
	t.Helper()
	slug := strings.TrimSpace(strings.TrimPrefix(strings.SplitN(yaml, "\n", 2)[0], "slug:"))
	sc, err := quizzes.Parse(slug+".yaml", []byte(yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	list := append([]*quizzes.Scenario{sc}, w.s.svc.Scenarios...)
	cat, err := quizzes.NewCatalog(context.Background(), w.db.Gorm, list)
	if err != nil {
		t.Fatal(err)
	}
	w.s.Catalog = cat
	w.s.Attempts = quizzes.NewStore(w.db.Gorm, w.db.Pool, cat)
	w.s.Progress = progress.NewReader(w.s.Course, cat, w.s.Lessons, w.s.Attempts)
	return sc
}

const assessment = `slug: assessment
module: capstone
title: Assessment
pass_percent: 50
intro: Two moves.
start: one
steps:
  - id: one
    text: First.
    choices:
      - id: good
        text: Good.
        feedback: Good because.
        points: {vision: 2, alignment: 2, inspiration: 2}
        ending: end
      - id: bad
        text: Bad.
        feedback: Bad because.
        points: {vision: -1}
        ending: end
endings:
  - id: end
    title: The end
    text: Done.
`

func TestAttemptCapAndCooldown(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	withScenario(t, w, strings.Replace(assessment, "pass_percent: 50", "pass_percent: 50\nmax_attempts: 1", 1))
	_, res := playScenario(t, w, w.learner, "assessment", worstChoice)
	if res.Passed {
		t.Fatal("bad move passed")
	}
	assertProblem(t, call(t, w.h, "POST", "/api/quizzes/assessment/attempts", nil, w.learner.auth()...), 409)
	var q struct {
		AttemptsLeft *int `json:"attempts_left"`
		MaxAttempts  *int `json:"max_attempts"`
	}
	call(t, w.h, "GET", "/api/quizzes/assessment", nil, w.learner.auth()...).JSON(t, &q)
	if q.AttemptsLeft == nil || *q.AttemptsLeft != 0 || *q.MaxAttempts != 1 {
		t.Fatalf("%+v", q)
	}
	// Out of attempts: the answer key is shown even without a pass.
	var hist []struct{ ID string }
	call(t, w.h, "GET", "/api/quizzes/assessment/attempts", nil, w.learner.auth()...).JSON(t, &hist)
	if r := call(t, w.h, "GET", "/api/attempts/"+hist[0].ID, nil, w.learner.auth()...); !strings.Contains(string(r.Body), "best_path") {
		t.Fatalf("no answer key after the last attempt: %s", r.Body)
	}

	withScenario(t, w, strings.Replace(assessment, "pass_percent: 50", "pass_percent: 50\ncooldown: 1h", 1))
	playScenario(t, w, w.other, "assessment", bestChoice)
	r := call(t, w.h, "POST", "/api/quizzes/assessment/attempts", nil, w.other.auth()...)
	assertProblem(t, r, 429)
	if secs, _ := strconv.Atoi(r.Header.Get("Retry-After")); secs < 3500 || secs > 3600 {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	var q2 struct {
		NextAttemptAt *time.Time `json:"next_attempt_at"`
	}
	call(t, w.h, "GET", "/api/quizzes/assessment", nil, w.other.auth()...).JSON(t, &q2)
	if q2.NextAttemptAt == nil || time.Until(*q2.NextAttemptAt) < 59*time.Minute {
		t.Fatalf("next_attempt_at %v", q2.NextAttemptAt)
	}
}

// Editing a scenario never breaks an attempt in progress or rewrites a
// finished result: attempts pin their version.
func TestScenarioVersionsArePinned(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	v1 := strings.Replace(assessment, "ending: end\n      - id: bad", "next: two\n      - id: bad", 1)
	v1 = strings.Replace(v1, "endings:", `  - id: two
    text: Second.
    choices:
      - id: finish
        text: Finish.
        feedback: Version one feedback.
        points: {vision: 1}
        ending: end
      - id: quit
        text: Quit.
        feedback: Quitting.
        points: {vision: 0}
        ending: end
endings:`, 1)
	sc1 := withScenario(t, w, v1)
	done, _ := playScenario(t, w, w.learner, "assessment", bestChoice)
	open, _ := start(t, w.h, w.other, "assessment")
	r := call(t, w.h, "POST", "/api/attempts/"+open.ID+"/answers", map[string]string{"step_id": "one", "choice_id": tokenFor(t, sc1, open.Step, "good")}, w.other.auth()...)
	if r.Status != 200 {
		t.Fatal(r.Status)
	}
	var moved answeredJSON
	r.JSON(t, &moved)
	two := moved.Step

	// Version two drops step "two" and reweights everything.
	v2 := strings.Replace(assessment, "{vision: 2, alignment: 2, inspiration: 2}", "{vision: 1, alignment: 1, inspiration: 1}", 1)
	withScenario(t, w, v2)

	r = call(t, w.h, "POST", "/api/attempts/"+open.ID+"/answers", map[string]string{"step_id": "two", "choice_id": tokenFor(t, sc1, two, "finish")}, w.other.auth()...)
	var ans answeredJSON
	r.JSON(t, &ans)
	if r.Status != 200 || ans.Feedback != "Version one feedback." || !ans.Finished || ans.Result.Percent != 100 {
		t.Fatalf("attempt on version one after the edit: %d %s", r.Status, r.Body)
	}
	var replay struct{ Result resultJSON }
	call(t, w.h, "GET", "/api/attempts/"+done, nil, w.learner.auth()...).JSON(t, &replay)
	if replay.Result.Percent != 100 {
		t.Fatalf("finished result changed: %+v", replay.Result)
	}
	fresh, _ := start(t, w.h, w.learner, "assessment")
	var version string
	w.db.Gorm.Raw("SELECT scenario_version FROM attempts WHERE id = ?", fresh.ID).Scan(&version)
	if cur, _ := w.s.Catalog.Get("assessment"); version != cur.Version {
		t.Fatal("a new attempt did not start on the current version")
	}
}

func TestSpacedReviewAndSkillProfile(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	_, res := playScenario(t, w, w.learner, testQuiz, bestChoice)
	var p struct {
		Skills       quizzes.Points
		ReviewsDue   []string `json:"reviews_due"`
		SkillHistory []struct {
			Quiz   string
			Skills quizzes.Points
		} `json:"skill_history"`
		Modules []struct {
			Slug    string
			Percent int
		}
	}
	call(t, w.h, "GET", "/api/progress", nil, w.learner.auth()...).JSON(t, &p)
	if len(p.ReviewsDue) != 0 || p.Skills != res.Skills || len(p.SkillHistory) != 1 || len(p.Modules) != len(w.s.svc.Course.Modules) {
		t.Fatalf("after a pass: %+v (result skills %+v)", p, res.Skills)
	}
	// Three days later the two-day review is due.
	w.db.Gorm.Exec("UPDATE attempts SET started_at = started_at - interval '3 days', finished_at = finished_at - interval '3 days' WHERE user_id = ?", w.learner.ID)
	w.db.Gorm.Exec("UPDATE scenario_standings SET last_finished_at = last_finished_at - interval '3 days', review_due_at = review_due_at - interval '3 days' WHERE user_id = ?", w.learner.ID)
	call(t, w.h, "GET", "/api/progress", nil, w.learner.auth()...).JSON(t, &p)
	if len(p.ReviewsDue) != 1 || p.ReviewsDue[0] != testQuiz {
		t.Fatalf("reviews due: %v", p.ReviewsDue)
	}
	// A failed review keeps it due; the skill profile follows the latest run.
	_, worse := playScenario(t, w, w.learner, testQuiz, worstChoice)
	call(t, w.h, "GET", "/api/progress", nil, w.learner.auth()...).JSON(t, &p)
	if len(p.ReviewsDue) != 1 || p.Skills != worse.Skills || len(p.SkillHistory) != 2 {
		t.Fatalf("after a failed review: %+v", p)
	}
	_, again := playScenario(t, w, w.learner, testQuiz, bestChoice)
	call(t, w.h, "GET", "/api/progress", nil, w.learner.auth()...).JSON(t, &p)
	if len(p.ReviewsDue) != 0 || !again.Passed {
		t.Fatalf("after passing the review: %+v", p)
	}
}

// Two instances share the database; each remembers the attempts it wrote
// last. An answer sent to the instance whose memory is stale must be judged
// against the stored attempt: a step already answered elsewhere is a 409, the
// current step is recorded, and the score counts every answer once.
func TestAnswersAcrossInstancesWithStaleMemory(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	sc := scenarioNamed(t, testQuiz)
	a := quizzes.NewStore(w.db.Gorm, w.db.Pool, w.s.Catalog)
	b := quizzes.NewStore(w.db.Gorm, w.db.Pool, w.s.Catalog)
	w.s.Attempts = a
	s, _ := start(t, w.h, w.learner, testQuiz) // a remembers the new attempt
	answer := func(step, choice string) response {
		return call(t, w.h, "POST", "/api/attempts/"+s.ID+"/answers",
			map[string]string{"step_id": step, "choice_id": choice}, w.learner.auth()...)
	}
	w.s.Attempts = b
	first := answer(s.Step.ID, tokenFor(t, sc, s.Step, sc.BestPath[0]))
	if first.Status != 200 {
		t.Fatalf("first answer on b: %d %s", first.Status, first.Body)
	}
	var ans answeredJSON
	first.JSON(t, &ans)

	w.s.Attempts = a // a still believes the attempt is at the first step
	assertProblem(t, answer(s.Step.ID, tokenFor(t, sc, s.Step, sc.BestPath[0])), 409)
	step, stores := ans.Step, []*quizzes.Store{a, b}
	for taken := 1; ; taken++ {
		w.s.Attempts = stores[taken%2]
		r := answer(step.ID, tokenFor(t, sc, step, sc.BestPath[taken]))
		if r.Status != 200 {
			t.Fatalf("answer %d: %d %s", taken, r.Status, r.Body)
		}
		ans = answeredJSON{}
		r.JSON(t, &ans)
		if ans.Finished {
			if ans.Result.Percent != 100 {
				t.Fatalf("best path scored %d%% across two instances", ans.Result.Percent)
			}
			// The attempt's running totals are the sum of its stored answers,
			// each counted once (the percentage alone is capped at 100).
			var agree struct{ Answers, Answered int64 }
			w.db.Gorm.Raw(`SELECT count(x.*) AS answers, a.answered
				FROM attempts a JOIN attempt_answers x ON x.attempt_id = a.id WHERE a.id = ?
				GROUP BY a.id HAVING a.points_vision = sum(x.vision) AND a.points_alignment = sum(x.alignment)
				  AND a.points_inspiration = sum(x.inspiration)`, s.ID).Scan(&agree)
			if agree.Answers != int64(taken+1) || agree.Answered != agree.Answers {
				t.Fatalf("%d answers given; stored %+v (zero: the totals disagree with the answers)", taken+1, agree)
			}
			return
		}
		step = ans.Step
	}
}

// An answer is one statement when this instance wrote the attempt last and
// two when it must read it first, however many attempts the learner has.
func TestAnswerStatementCountIsConstant(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	sc := scenarioNamed(t, testQuiz)
	counts := func() []int64 {
		s, _ := start(t, w.h, w.learner, testQuiz)
		var out []int64
		step := s.Step
		for taken := 0; step != nil; taken++ {
			n := countQueries(w.db)
			r := call(t, w.h, "POST", "/api/attempts/"+s.ID+"/answers",
				map[string]string{"step_id": step.ID, "choice_id": tokenFor(t, sc, step, sc.BestPath[taken])}, w.learner.auth()...)
			out = append(out, n())
			if r.Status != 200 {
				t.Fatalf("answer %d: %d %s", taken, r.Status, r.Body)
			}
			var ans answeredJSON
			r.JSON(t, &ans)
			step = ans.Step
		}
		return out
	}
	first := counts()
	if len(first) != len(sc.BestPath) {
		t.Fatalf("%d answers on a best path of %d", len(first), len(sc.BestPath))
	}
	for range 4 {
		playScenario(t, w, w.learner, testQuiz, worstChoice)
	}
	later := counts()
	for i, n := range append(first, later...) {
		if n != 1 {
			t.Fatalf("answer %d ran %d statements (first attempt %v, sixth %v); want 1", i, n, first, later)
		}
	}
	// Another instance (or this one after a restart) reads the attempt first.
	s, _ := start(t, w.h, w.learner, testQuiz)
	w.s.Attempts = quizzes.NewStore(w.db.Gorm, w.db.Pool, w.s.Catalog)
	n := countQueries(w.db)
	r := call(t, w.h, "POST", "/api/attempts/"+s.ID+"/answers", map[string]string{"step_id": s.Step.ID, "choice_id": tokenFor(t, sc, s.Step, sc.BestPath[0])}, w.learner.auth()...)
	if r.Status != 200 {
		t.Fatalf("answer on a fresh instance: %d %s", r.Status, r.Body)
	}
	if got := n(); got != 2 {
		t.Fatalf("an answer without the remembered state ran %d statements; want 2", got)
	}
}

// On the wire a choice is a per-attempt token: no authoring id leaves the
// server (not in the step, the answers, the replay or the answer key), the
// tokens differ from one attempt to the next and stay put on resume, and a
// token of one attempt is no choice in another.
func TestChoiceIDsAreOpaque(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	sc := scenarioNamed(t, testQuiz)
	authoring := func(body []byte) string {
		for _, step := range sc.Steps {
			for _, c := range step.Choices {
				if strings.Contains(string(body), `"`+c.ID+`"`) {
					return c.ID
				}
			}
		}
		return ""
	}
	first, _ := start(t, w.h, w.learner, testQuiz)
	resumed, _ := start(t, w.h, w.learner, testQuiz)
	if choiceIDs(first.Step) != choiceIDs(resumed.Step) {
		t.Fatalf("tokens changed on resume: %s then %s", choiceIDs(first.Step), choiceIDs(resumed.Step))
	}
	id, _ := playScenario(t, w, w.learner, testQuiz, bestChoice)
	r := call(t, w.h, "GET", "/api/attempts/"+id, nil, w.learner.auth()...)
	if !strings.Contains(string(r.Body), `"review":{`) {
		t.Fatalf("a passed attempt shows no answer key: %s", r.Body)
	}
	if leak := authoring(r.Body); leak != "" {
		t.Fatalf("the replay names the authoring id %q: %s", leak, r.Body)
	}
	second, _ := start(t, w.h, w.learner, testQuiz)
	for _, c := range second.Step.Choices {
		if strings.Contains(choiceIDs(first.Step), c.ID) {
			t.Fatalf("token %s came back in a new attempt", c.ID)
		}
	}
	if leak := authoring([]byte(choiceIDs(second.Step))); leak != "" {
		t.Fatalf("a step names the authoring id %q", leak)
	}
	// A token of the first attempt is no choice of the second.
	assertProblem(t, call(t, w.h, "POST", "/api/attempts/"+second.ID+"/answers",
		map[string]string{"step_id": second.Step.ID, "choice_id": first.Step.Choices[0].ID}, w.learner.auth()...), 422)
	// Neither is the authoring id itself.
	assertProblem(t, call(t, w.h, "POST", "/api/attempts/"+second.ID+"/answers",
		map[string]string{"step_id": second.Step.ID, "choice_id": sc.BestPath[0]}, w.learner.auth()...), 422)
}

// A finished attempt names the decision that cost the most, with the best
// move there and both choices' feedback; a best path names none, and an
// attempt in progress shows nothing yet.
func TestCostlyDecision(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	sc := scenarioNamed(t, testQuiz)
	type costlyJSON struct {
		CostlyDecision *struct {
			StepID     string `json:"step_id"`
			Chosen     struct{ Text, Feedback string }
			Best       struct{ Text, Feedback string }
			PointsLost int `json:"points_lost"`
		} `json:"costly_decision"`
	}
	open, _ := start(t, w.h, w.learner, testQuiz)
	var got costlyJSON
	call(t, w.h, "GET", "/api/attempts/"+open.ID, nil, w.learner.auth()...).JSON(t, &got)
	if got.CostlyDecision != nil {
		t.Fatalf("an attempt in progress names a costly decision: %+v", got.CostlyDecision)
	}
	worst, _ := playScenario(t, w, w.learner, testQuiz, worstChoice)
	got = costlyJSON{}
	call(t, w.h, "GET", "/api/attempts/"+worst, nil, w.learner.auth()...).JSON(t, &got)
	c := got.CostlyDecision
	if c == nil || c.PointsLost <= 0 || c.Best.Feedback == "" || c.Chosen.Text == c.Best.Text {
		t.Fatalf("worst path's costly decision %+v", c)
	}
	step := sc.Steps[c.StepID]
	if step == nil {
		t.Fatalf("costly decision at unknown step %s", c.StepID)
	}
	var best quizzes.Choice
	for _, ch := range step.Choices {
		if ch.Text == c.Best.Text {
			best = ch
		}
	}
	if best.ID == "" || best.Feedback != c.Best.Feedback {
		t.Fatalf("best move %q is not a choice of step %s", c.Best.Text, c.StepID)
	}
	bestRun, _ := playScenario(t, w, w.learner, testQuiz, bestChoice)
	got = costlyJSON{}
	call(t, w.h, "GET", "/api/attempts/"+bestRun, nil, w.learner.auth()...).JSON(t, &got)
	if got.CostlyDecision != nil {
		t.Fatalf("the best path names a costly decision: %+v", got.CostlyDecision)
	}
}
