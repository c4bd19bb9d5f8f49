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
	ID      string
	Number  int
	Status  string
	Variant struct{ ID, Title string }
	Step    *stepJSON
}

type answeredJSON struct {
	Feedback string
	Finished bool
	Step     *stepJSON
	Result   *resultJSON
}

// strategy picks a choice (its authoring id) for a step of the variant an
// attempt plays, after taken decisions.
type strategy func(v *quizzes.Variant, step *stepJSON, taken int) string

// bestChoice follows the variant's best path.
func bestChoice(v *quizzes.Variant, _ *stepJSON, taken int) string {
	return v.BestPath()[taken].Choice.ID
}

// worstChoice greedily takes the lowest-scoring move shown.
func worstChoice(v *quizzes.Variant, step *stepJSON, _ int) string {
	best, pick := 1<<30, ""
	for _, c := range v.Steps[step.ID].Choices {
		if t := c.Points.Total(); t < best && shows(step, c.Text) {
			best, pick = t, c.ID
		}
	}
	return pick
}

func shows(step *stepJSON, text string) bool {
	for _, c := range step.Choices {
		if c.Text == text {
			return true
		}
	}
	return false
}

// variantOf is the variant an attempt started on the current version plays.
func variantOf(t testing.TB, w *world, quiz string, s startedJSON) *quizzes.Variant {
	t.Helper()
	sc, ok := w.s.Catalog.Get(quiz)
	if !ok {
		t.Fatalf("no scenario %s", quiz)
	}
	v, ok := sc.Variant(s.Variant.ID)
	if !ok || s.Variant.Title != v.Title || v.Title == "" {
		t.Fatalf("attempt %s names variant %+v", s.ID, s.Variant)
	}
	return v
}

// bestIDs is a variant's best path as authoring ids.
func bestIDs(v *quizzes.Variant) []string {
	var out []string
	for _, d := range v.BestPath() {
		out = append(out, d.Choice.ID)
	}
	return out
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
	id, _, res := playVariant(t, w, a, quiz, pick)
	return id, res
}

// playVariant is playScenario that also says which variant was played.
func playVariant(t testing.TB, w *world, a account, quiz string, pick strategy) (string, *quizzes.Variant, resultJSON) {
	t.Helper()
	h := w.h
	s, _ := start(t, h, a, quiz)
	v := variantOf(t, w, quiz, s)
	step := s.Step
	for taken := 0; ; taken++ {
		// Decision N of about M: M is those taken plus the longest way on.
		if d := step.Decision; d.Number != taken+1 || d.OfAbout < d.Number || d.OfAbout > taken+v.Remaining(v.Begin()) {
			t.Fatalf("step %s after %d decisions shows decision %d of about %d", step.ID, taken, d.Number, d.OfAbout)
		}
		r := call(t, h, "POST", "/api/attempts/"+s.ID+"/answers",
			map[string]string{"step_id": step.ID, "choice_id": tokenFor(t, v, step, pick(v, step, taken))}, a.auth()...)
		if r.Status != 200 {
			t.Fatalf("answer: %d %s", r.Status, r.Body)
		}
		var ans answeredJSON
		r.JSON(t, &ans)
		if ans.Feedback == "" {
			t.Fatal("an answer came back without feedback")
		}
		if ans.Finished {
			return s.ID, v, *ans.Result
		}
		step = ans.Step
	}
}

// tokenFor is the id the attempt shows for the choice authored as id: the
// wire carries per-attempt tokens, so a test finds the choice by its text.
func tokenFor(t testing.TB, v *quizzes.Variant, step *stepJSON, id string) string {
	t.Helper()
	c, ok := v.Steps[step.ID].Choice(id)
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

	first, status := start(t, h, me, testQuiz)
	v := variantOf(t, w, testQuiz, first)
	best := bestIDs(v)
	if status != 201 || first.Number != 1 || first.Status != "in_progress" || first.Step.ID != v.Start || len(first.Step.Choices) < 2 {
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
	assertProblem(t, call(t, h, "POST", answers, map[string]string{"step_id": "not-current", "choice_id": tokenFor(t, v, first.Step, best[0])}, me.auth()...), 409)
	assertProblem(t, call(t, h, "POST", answers, map[string]string{"step_id": v.Start, "choice_id": "made-up"}, me.auth()...), 422)
	assertProblem(t, call(t, h, "POST", answers, map[string]string{"step_id": v.Start}, me.auth()...), 422)
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
	assertProblem(t, call(t, h, "POST", answers, map[string]string{"step_id": v.Start, "choice_id": tokenFor(t, v, first.Step, best[0])}, me.auth()...), 409)

	// Retake worse: the best attempt still counts.
	second, status := start(t, h, me, testQuiz)
	if status != 201 || second.Number != 2 || second.Variant.ID == first.Variant.ID {
		t.Fatalf("retake (a retake meets a variant not seen yet): %d %+v after %+v", status, second, first.Variant)
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
		Variants     int
	}
	call(t, h, "GET", "/api/quizzes/"+testQuiz, nil, me.auth()...).JSON(t, &q)
	if *q.BestPercent != 100 || *q.FirstPercent != 100 || !q.Passed || q.AttemptsUsed != 2 || q.AttemptsLeft != nil || q.MaxAttempts != nil ||
		q.NextReviewAt == nil || q.PassPercent != 70 || q.Variants != len(v.Scenario.Variants) || q.Variants < 2 {
		t.Fatalf("quiz view: %+v", q)
	}
	var hist []struct {
		ID      string
		Number  int
		Percent *int
		Variant struct{ ID, Title string }
		Version string `json:"scenario_version"`
	}
	call(t, h, "GET", "/api/quizzes/"+testQuiz+"/attempts", nil, me.auth()...).JSON(t, &hist)
	if len(hist) != 2 || hist[0].Number != 2 || hist[1].Number != 1 || *hist[1].Percent != 100 ||
		hist[1].Variant.ID != first.Variant.ID || hist[0].Variant.ID != second.Variant.ID || hist[1].Version != v.Scenario.Version {
		t.Fatalf("history: %+v", hist)
	}

	// Replay: the path with feedback, and (passed) the answer key.
	var replay struct {
		Status  string
		Variant struct{ ID, Title string }
		Answers []struct{ StepID, ChoiceID, Feedback string } `json:"answers"`
		Result  *resultJSON
		Review  *struct {
			BestPath      []string `json:"best_path"`
			BestPathSteps []struct {
				StepText   string `json:"step_text"`
				ChoiceText string `json:"choice_text"`
			} `json:"best_path_steps"`
			Steps []struct {
				Choices []struct {
					Feedback     string
					Chosen, Best bool
				}
			}
		}
	}
	call(t, h, "GET", "/api/attempts/"+first.ID, nil, me.auth()...).JSON(t, &replay)
	if replay.Status != "finished" || len(replay.Answers) != len(best) || replay.Result.Percent != 100 || replay.Review == nil ||
		replay.Variant.ID != first.Variant.ID || len(replay.Review.BestPath) != len(best) || len(replay.Review.BestPathSteps) != len(best) ||
		replay.Review.BestPathSteps[0].StepText != first.Step.Text {
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
	v := variantOf(t, w, testQuiz, s)
	body := map[string]string{"step_id": s.Step.ID, "choice_id": tokenFor(t, v, s.Step, bestIDs(v)[0])}
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

// assessment is four decisions of one good and one bad move each, in two
// variants; a pass needs half the points.
const assessment = `slug: assessment
module: capstone
title: Assessment
pass_percent: 50
intro: Four moves.
measurement_note: A test fixture, too small to measure skills apart.
variants:
  - {id: plain, title: Plain}
  - {id: other, title: Other}
start: one
steps:
  - id: one
    text: First.
    choices:
      - {id: good, text: Good., feedback: Good because., points: {vision: 2, alignment: 2, inspiration: 2}, next: two}
      - {id: bad, text: Bad., feedback: Bad because., points: {vision: -1}, next: two}
  - id: two
    text: Second.
    choices:
      - {id: good2, text: Good., feedback: Good because., points: {vision: 2, alignment: 2, inspiration: 2}, next: three}
      - {id: bad2, text: Bad., feedback: Bad because., points: {vision: -1}, next: three}
  - id: three
    text: Third.
    choices:
      - {id: good3, text: Good., feedback: Good because., points: {vision: 2, alignment: 2, inspiration: 2}, next: four}
      - {id: bad3, text: Bad., feedback: Bad because., points: {vision: -1}, next: four}
  - id: four
    text: Fourth.
    choices:
      - {id: finish, text: Finish., feedback: Version one feedback., points: {vision: 2, alignment: 2, inspiration: 2}, next: end}
      - {id: quit, text: Quit., feedback: Quitting., points: {vision: -1}, next: end}
endings:
  - {id: won, when: passed, title: Won, text: Done well.}
  - {id: lost, title: Lost, text: Not this time.}
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
// finished result: attempts pin their version and variant.
func TestScenarioVersionsArePinned(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	withScenario(t, w, assessment)
	done, _ := playScenario(t, w, w.learner, "assessment", bestChoice)
	open, _ := start(t, w.h, w.other, "assessment")
	v1 := variantOf(t, w, "assessment", open)
	step := open.Step
	for _, id := range []string{"good", "good2", "good3"} {
		r := call(t, w.h, "POST", "/api/attempts/"+open.ID+"/answers", map[string]string{"step_id": step.ID, "choice_id": tokenFor(t, v1, step, id)}, w.other.auth()...)
		var moved answeredJSON
		r.JSON(t, &moved)
		step = moved.Step
	}

	// Version two reweights the last move and rewrites its feedback.
	v2 := strings.Replace(assessment, "feedback: Version one feedback., points: {vision: 2, alignment: 2, inspiration: 2}",
		"feedback: Version two feedback., points: {vision: 9, alignment: 9, inspiration: 9}", 1)
	withScenario(t, w, v2)

	r := call(t, w.h, "POST", "/api/attempts/"+open.ID+"/answers", map[string]string{"step_id": "four", "choice_id": tokenFor(t, v1, step, "finish")}, w.other.auth()...)
	var ans answeredJSON
	r.JSON(t, &ans)
	if r.Status != 200 || ans.Feedback != "Version one feedback." || !ans.Finished || ans.Result.Percent != 100 {
		t.Fatalf("attempt on version one after the edit: %d %s", r.Status, r.Body)
	}
	var replay struct {
		Result  resultJSON
		Answers []struct{ Feedback string }
	}
	call(t, w.h, "GET", "/api/attempts/"+done, nil, w.learner.auth()...).JSON(t, &replay)
	if replay.Result.Percent != 100 || replay.Answers[3].Feedback != "Version one feedback." {
		t.Fatalf("finished result changed: %+v", replay)
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
	_, passedOn, res := playVariant(t, w, w.learner, testQuiz, bestChoice)
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
	// A failed review keeps it due; the skill profile follows the latest
	// run. The review meets another situation than the pass it reviews.
	_, reviewedOn, worse := playVariant(t, w, w.learner, testQuiz, worstChoice)
	if reviewedOn == passedOn {
		t.Fatalf("the review repeated variant %s", passedOn.ID)
	}
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
	a := quizzes.NewStore(w.db.Gorm, w.db.Pool, w.s.Catalog)
	b := quizzes.NewStore(w.db.Gorm, w.db.Pool, w.s.Catalog)
	w.s.Attempts = a
	s, _ := start(t, w.h, w.learner, testQuiz) // a remembers the new attempt
	v := variantOf(t, w, testQuiz, s)
	best := bestIDs(v)
	answer := func(step, choice string) response {
		return call(t, w.h, "POST", "/api/attempts/"+s.ID+"/answers",
			map[string]string{"step_id": step, "choice_id": choice}, w.learner.auth()...)
	}
	w.s.Attempts = b
	first := answer(s.Step.ID, tokenFor(t, v, s.Step, best[0]))
	if first.Status != 200 {
		t.Fatalf("first answer on b: %d %s", first.Status, first.Body)
	}
	var ans answeredJSON
	first.JSON(t, &ans)

	w.s.Attempts = a // a still believes the attempt is at the first step
	assertProblem(t, answer(s.Step.ID, tokenFor(t, v, s.Step, best[0])), 409)
	step, stores := ans.Step, []*quizzes.Store{a, b}
	for taken := 1; ; taken++ {
		w.s.Attempts = stores[taken%2]
		r := answer(step.ID, tokenFor(t, v, step, best[taken]))
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
	var best []string
	counts := func() []int64 {
		s, _ := start(t, w.h, w.learner, testQuiz)
		best = bestIDs(variantOf(t, w, testQuiz, s))
		v := variantOf(t, w, testQuiz, s)
		var out []int64
		step := s.Step
		for taken := 0; step != nil; taken++ {
			n := countQueries(w.db)
			r := call(t, w.h, "POST", "/api/attempts/"+s.ID+"/answers",
				map[string]string{"step_id": step.ID, "choice_id": tokenFor(t, v, step, best[taken])}, w.learner.auth()...)
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
	if len(first) != len(best) {
		t.Fatalf("%d answers on a best path of %d", len(first), len(best))
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
	v := variantOf(t, w, testQuiz, s)
	w.s.Attempts = quizzes.NewStore(w.db.Gorm, w.db.Pool, w.s.Catalog)
	n := countQueries(w.db)
	r := call(t, w.h, "POST", "/api/attempts/"+s.ID+"/answers", map[string]string{"step_id": s.Step.ID, "choice_id": tokenFor(t, v, s.Step, bestIDs(v)[0])}, w.learner.auth()...)
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
	sc, _ := w.s.Catalog.Get(testQuiz)
	authoring := func(body []byte) string {
		for _, v := range sc.Variants {
			for _, step := range v.Steps {
				for _, c := range step.Choices {
					if strings.Contains(string(body), `"`+c.ID+`"`) {
						return c.ID
					}
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
		map[string]string{"step_id": second.Step.ID, "choice_id": bestIDs(variantOf(t, w, testQuiz, second))[0]}, w.learner.auth()...), 422)
}

// A finished attempt names the decision that cost the most, with the best
// move there and both choices' feedback; a best path names none, and an
// attempt in progress shows nothing yet.
func TestCostlyDecision(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	type costlyJSON struct {
		CostlyDecision *struct {
			StepID     string `json:"step_id"`
			Chosen     struct{ Text, Feedback string }
			Best       struct{ Text, Feedback string }
			PointsLost int `json:"points_lost"`
		} `json:"costly_decision"`
	}
	open, _ := start(t, w.h, w.learner, testQuiz)
	v := variantOf(t, w, testQuiz, open)
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
	step := v.Steps[c.StepID]
	if step == nil {
		t.Fatalf("costly decision at unknown step %s", c.StepID)
	}
	var best *quizzes.Choice
	for _, ch := range step.Choices {
		if ch.Text == c.Best.Text {
			best = ch
		}
	}
	if best == nil || c.Best.Feedback == "" {
		t.Fatalf("best move %q is not a choice of step %s", c.Best.Text, c.StepID)
	}
	bestRun, _ := playScenario(t, w, w.learner, testQuiz, bestChoice)
	got = costlyJSON{}
	call(t, w.h, "GET", "/api/attempts/"+bestRun, nil, w.learner.auth()...).JSON(t, &got)
	if got.CostlyDecision != nil {
		t.Fatalf("the best path names a costly decision: %+v", got.CostlyDecision)
	}
}
