package web

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/baton-course/baton/quizzes"
	"github.com/baton-course/baton/server/accounts"
	"github.com/baton-course/baton/server/problem"
	"github.com/baton-course/baton/server/web/bind"
)

func (s *Server) scenario(c echo.Context) (*quizzes.Scenario, error) {
	sc, ok := s.Catalog.Get(c.Param("slug"))
	if !ok {
		return nil, problem.New(problem.NotFound, "No scenario %q.", c.Param("slug"))
	}
	return sc, nil
}

type quizView struct {
	Slug          string     `json:"slug"`
	Title         string     `json:"title"`
	Module        string     `json:"module"`
	Intro         string     `json:"intro"`
	PassPercent   int        `json:"pass_percent"`
	MaxAttempts   *int       `json:"max_attempts"`
	AttemptsUsed  int        `json:"attempts_used"`
	AttemptsLeft  *int       `json:"attempts_left"`
	BestPercent   *int       `json:"best_percent"`
	FirstPercent  *int       `json:"first_percent"`
	Passed        bool       `json:"passed"`
	NextReviewAt  *time.Time `json:"next_review_at"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	OpenAttempt   *string    `json:"open_attempt_id"`
}

// getQuiz describes a scenario with the caller's standing on it.
func (s *Server) getQuiz(c echo.Context) error {
	sc, err := s.scenario(c)
	if err != nil {
		return err
	}
	uid := principalOf(c).UserID
	ctx := c.Request().Context()
	statuses, err := s.Attempts.Statuses(ctx, []string{uid})
	if err != nil {
		return err
	}
	st := statuses[uid][sc.Slug]
	if st == nil {
		st = &quizzes.Status{}
	}
	avail := sc.CanStart(st.AttemptsUsed, st.LastFinished, time.Now())
	v := quizView{Slug: sc.Slug, Title: sc.Title, Module: sc.Module, Intro: sc.Intro, PassPercent: sc.PassPercent,
		MaxAttempts: sc.MaxAttempts, AttemptsUsed: st.AttemptsUsed, AttemptsLeft: avail.AttemptsLeft,
		BestPercent: st.BestPercent, FirstPercent: st.FirstPercent, Passed: st.Passed,
		NextReviewAt: st.NextReview, NextAttemptAt: avail.NextAttemptAt}
	history, err := s.Attempts.History(ctx, uid, sc.Slug)
	if err != nil {
		return err
	}
	for _, a := range history {
		if a.Status == quizzes.InProgress {
			id := a.ID
			v.OpenAttempt = &id
		}
	}
	return c.JSON(http.StatusOK, v)
}

type stepView struct {
	ID      string       `json:"id"`
	Text    string       `json:"text"`
	Choices []optionView `json:"choices"`
	// Decision is where the step stands in the attempt: decision Number of
	// about OfAbout (those taken so far plus the longest way from here to
	// an ending).
	Decision decisionView `json:"decision"`
}

type decisionView struct {
	Number  int `json:"number"`
	OfAbout int `json:"of_about"`
}

// stepFor shows a step of attempt a with its choices in the attempt's own
// order, each under its per-attempt token: authoring ids never leave the
// server.
func stepFor(sc *quizzes.Scenario, a quizzes.Attempt, stepID string) *stepView {
	step := sc.Steps[stepID]
	if step == nil {
		return nil
	}
	v := &stepView{ID: step.ID, Text: step.Text, Choices: []optionView{},
		Decision: decisionView{Number: a.Answered + 1, OfAbout: a.Answered + step.Longest}}
	for _, ch := range shuffled(step, a) {
		v.Choices = append(v.Choices, optionView{ID: quizzes.ChoiceToken(a.ID, a.Seed, step.ID, ch.ID), Text: ch.Text})
	}
	return v
}

func shuffled(step *quizzes.Step, a quizzes.Attempt) []quizzes.Choice {
	return quizzes.ChoiceOrder(step, uint64(a.Seed)) // #nosec G115 -- seeds are non-negative (randomSeed)
}

type endingView struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

type resultView struct {
	Percent int            `json:"percent"`
	Passed  bool           `json:"passed"`
	Skills  quizzes.Points `json:"skills"`
	Ending  endingView     `json:"ending"`
}

type attemptStarted struct {
	ID     string    `json:"id"`
	Quiz   string    `json:"quiz"`
	Number int       `json:"number"`
	Status string    `json:"status"`
	Step   *stepView `json:"step"`
}

// startAttempt starts an attempt, or resumes the caller's unfinished one.
func (s *Server) startAttempt(c echo.Context) error {
	sc, err := s.scenario(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a, created, err := s.Attempts.Start(ctx, principalOf(c).UserID, sc, time.Now())
	var cooldown *quizzes.CooldownError
	switch {
	case errors.As(err, &cooldown):
		return &problem.Error{Code: problem.TooMany, Detail: "Take a break before the next attempt; it opens at " + cooldown.Until.UTC().Format(time.RFC3339) + ".",
			RetryAfter: time.Until(cooldown.Until)}
	case errors.Is(err, quizzes.ErrNoAttemptsLeft):
		return problem.New(problem.Conflict, "You have used every attempt at this scenario.")
	case err != nil:
		return err
	}
	pinned, err := s.Catalog.Version(ctx, a.QuizSlug, a.ScenarioVersion)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, attemptStarted{ID: a.ID, Quiz: a.QuizSlug, Number: a.Number, Status: a.Status,
		Step: stepFor(pinned, a, deref(a.CurrentStep))})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

type answerRequest struct {
	StepID   string `json:"step_id"`
	ChoiceID string `json:"choice_id"`
}

type answerResponse struct {
	Feedback string      `json:"feedback"`
	Finished bool        `json:"finished"`
	Step     *stepView   `json:"step"`
	Result   *resultView `json:"result"`
}

// answer records one choice. The server decides what it leads to and how it
// scores; the client sends only the step and the choice.
func (s *Server) answer(c echo.Context) error {
	id := c.Param("id")
	if !accounts.IsUUID(id) {
		return problem.New(problem.NotFound, "No such attempt.")
	}
	var req answerRequest
	if err := bind.JSON(c, &req); err != nil {
		return err
	}
	if err := problem.Fields("step_id", problem.Required(req.StepID), "choice_id", problem.Required(req.ChoiceID)); err != nil {
		return err
	}
	res, err := s.Attempts.Answer(c.Request().Context(), principalOf(c).UserID, id, req.StepID, req.ChoiceID)
	if err != nil {
		return attemptError(err)
	}
	out := answerResponse{Feedback: res.Outcome.Choice.Feedback, Finished: res.Outcome.Ending != nil}
	if res.Outcome.Next != nil {
		out.Step = stepFor(res.Scenario, res.Attempt, res.Outcome.Next.ID)
	}
	if res.Result != nil {
		e := res.Outcome.Ending
		out.Result = &resultView{Percent: res.Result.Percent, Passed: res.Result.Passed, Skills: res.Result.Skills,
			Ending: endingView{ID: e.ID, Title: e.Title, Text: e.Text}}
	}
	return c.JSON(http.StatusOK, out)
}

func attemptError(err error) error {
	switch {
	case errors.Is(err, quizzes.ErrNotFound):
		return problem.New(problem.NotFound, "No such attempt.")
	case errors.Is(err, quizzes.ErrFinished):
		return problem.New(problem.Conflict, "This attempt is finished; start a new one to play again.")
	case errors.Is(err, quizzes.ErrNotCurrent):
		return problem.New(problem.Conflict, "That step has already been answered; continue from the current step.")
	case errors.Is(err, quizzes.ErrUnknownChoice):
		return problem.Validation(problem.FieldError{Field: "choice_id", Message: "is not a choice of the current step"})
	}
	return err
}

type answerView struct {
	StepID     string    `json:"step_id"`
	StepText   string    `json:"step_text"`
	ChoiceID   string    `json:"choice_id"`
	ChoiceText string    `json:"choice_text"`
	Feedback   string    `json:"feedback"`
	AnsweredAt time.Time `json:"answered_at"`
}

type reviewChoice struct {
	ID       string         `json:"id"`
	Text     string         `json:"text"`
	Feedback string         `json:"feedback"`
	Points   quizzes.Points `json:"points"`
	Chosen   bool           `json:"chosen"`
	Best     bool           `json:"best"`
}

type reviewStep struct {
	ID      string         `json:"id"`
	Text    string         `json:"text"`
	Choices []reviewChoice `json:"choices"`
}

// reviewView is the earned answer key: every step the learner met, every
// choice with its feedback, and the best path.
type reviewView struct {
	Steps    []reviewStep `json:"steps"`
	BestPath []string     `json:"best_path"`
}

type attemptView struct {
	ID         string       `json:"id"`
	Quiz       string       `json:"quiz"`
	Number     int          `json:"number"`
	Status     string       `json:"status"`
	Step       *stepView    `json:"step"`
	Answers    []answerView `json:"answers"`
	Result     *resultView  `json:"result"`
	StartedAt  time.Time    `json:"started_at"`
	FinishedAt *time.Time   `json:"finished_at"`
	Review     *reviewView  `json:"review"`
	// CostlyDecision is, once finished, the decision that lost the most
	// points against the best move there; null when none lost any.
	CostlyDecision *costlyView `json:"costly_decision"`
}

// costlyView is the decision to learn from: what was chosen, what would have
// kept the most within reach, and why, in the feedback of each.
type costlyView struct {
	StepID     string     `json:"step_id"`
	StepText   string     `json:"step_text"`
	Chosen     choiceNote `json:"chosen"`
	Best       choiceNote `json:"best"`
	PointsLost int        `json:"points_lost"`
}

type choiceNote struct {
	Text     string `json:"text"`
	Feedback string `json:"feedback"`
}

// getAttempt replays an attempt: the path taken with the feedback given, and,
// once the learner has passed or used every attempt, the full answer key.
func (s *Server) getAttempt(c echo.Context) error {
	id := c.Param("id")
	if !accounts.IsUUID(id) {
		return problem.New(problem.NotFound, "No such attempt.")
	}
	ctx := c.Request().Context()
	uid := principalOf(c).UserID
	a, answers, err := s.Attempts.Get(ctx, uid, id)
	if err != nil {
		return attemptError(err)
	}
	sc, err := s.Catalog.Version(ctx, a.QuizSlug, a.ScenarioVersion)
	if err != nil {
		return err
	}
	v := attemptView{ID: a.ID, Quiz: a.QuizSlug, Number: a.Number, Status: a.Status, Answers: []answerView{},
		StartedAt: a.StartedAt, FinishedAt: a.FinishedAt}
	if a.CurrentStep != nil {
		v.Step = stepFor(sc, a, *a.CurrentStep)
	}
	chosen := map[string]string{}
	for _, ans := range answers {
		step := sc.Steps[ans.StepID]
		if step == nil {
			return fmt.Errorf("attempt %s: step %q is not in its pinned version %s", a.ID, ans.StepID, a.ScenarioVersion)
		}
		ch, _ := step.Choice(ans.ChoiceID)
		chosen[ans.StepID] = ans.ChoiceID
		v.Answers = append(v.Answers, answerView{StepID: ans.StepID, StepText: step.Text,
			ChoiceID: quizzes.ChoiceToken(a.ID, a.Seed, step.ID, ch.ID), ChoiceText: ch.Text,
			Feedback: ch.Feedback, AnsweredAt: ans.AnsweredAt})
	}
	if a.Status != quizzes.Finished {
		return c.JSON(http.StatusOK, v)
	}
	e := sc.Endings[deref(a.EndingID)]
	if e == nil || a.Percent == nil || a.Passed == nil {
		return fmt.Errorf("attempt %s: finished without a known ending or score", a.ID)
	}
	v.Result = &resultView{Percent: *a.Percent, Passed: *a.Passed, Skills: a.Skills(), Ending: endingView{ID: e.ID, Title: e.Title, Text: e.Text}}
	if c, ok := sc.CostliestDecision(answers); ok {
		v.CostlyDecision = &costlyView{StepID: c.Step.ID, StepText: c.Step.Text, PointsLost: c.Lost,
			Chosen: choiceNote{Text: c.Chosen.Text, Feedback: c.Chosen.Feedback},
			Best:   choiceNote{Text: c.Best.Text, Feedback: c.Best.Feedback}}
	}

	statuses, err := s.Attempts.Statuses(ctx, []string{uid})
	if err != nil {
		return err
	}
	st := statuses[uid][a.QuizSlug]
	current, _ := s.Catalog.Get(a.QuizSlug)
	outOfAttempts := current != nil && current.MaxAttempts != nil && st.AttemptsUsed >= *current.MaxAttempts
	if st.Passed || outOfAttempts {
		v.Review = review(sc, a, answers, chosen)
	}
	return c.JSON(http.StatusOK, v)
}

func review(sc *quizzes.Scenario, a quizzes.Attempt, answers []quizzes.Answer, chosen map[string]string) *reviewView {
	best := map[string]bool{}
	for _, id := range sc.BestPath {
		best[id] = true
	}
	r := &reviewView{BestPath: sc.BestPathTokens(a.ID, a.Seed), Steps: []reviewStep{}}
	for _, ans := range answers {
		step := sc.Steps[ans.StepID]
		if step == nil {
			continue // getAttempt has already refused such an attempt
		}
		rs := reviewStep{ID: step.ID, Text: step.Text}
		for _, ch := range shuffled(step, a) {
			rs.Choices = append(rs.Choices, reviewChoice{ID: quizzes.ChoiceToken(a.ID, a.Seed, step.ID, ch.ID), Text: ch.Text, Feedback: ch.Feedback, Points: ch.Points,
				Chosen: chosen[step.ID] == ch.ID, Best: best[ch.ID]})
		}
		r.Steps = append(r.Steps, rs)
	}
	return r
}

type historyRow struct {
	ID         string     `json:"id"`
	Number     int        `json:"number"`
	Status     string     `json:"status"`
	Percent    *int       `json:"percent"`
	Passed     *bool      `json:"passed"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
}

// attemptHistory lists the caller's attempts at a scenario, newest first.
func (s *Server) attemptHistory(c echo.Context) error {
	sc, err := s.scenario(c)
	if err != nil {
		return err
	}
	rows, err := s.Attempts.History(c.Request().Context(), principalOf(c).UserID, sc.Slug)
	if err != nil {
		return err
	}
	out := make([]historyRow, 0, len(rows))
	for _, a := range rows {
		out = append(out, historyRow{ID: a.ID, Number: a.Number, Status: a.Status, Percent: a.Percent, Passed: a.Passed,
			StartedAt: a.StartedAt, FinishedAt: a.FinishedAt})
	}
	return c.JSON(http.StatusOK, out)
}
