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
	// Variants is how many situations the scenario comes in: each new
	// attempt meets one the learner has seen least.
	Variants int `json:"variants"`
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
		NextReviewAt: st.NextReview, NextAttemptAt: avail.NextAttemptAt, Variants: len(sc.Variants)}
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

// stepFor shows a step of attempt a (in the attempt's state) with the
// choices that state offers, in the attempt's own order, each under its
// per-attempt token: authoring ids never leave the server.
func stepFor(v *quizzes.Variant, a quizzes.Attempt, stepID string) *stepView {
	return stepIn(v, a.ID, a.Seed, a.State, a.Answered, stepID)
}

// stepIn shows a step met in state st after answered decisions, for a run
// (attempt or practice) with the given id and seed.
func stepIn(v *quizzes.Variant, runID string, seed int64, st quizzes.State, answered int, stepID string) *stepView {
	step := v.Steps[stepID]
	if step == nil {
		return nil
	}
	out := &stepView{ID: step.ID, Text: v.Render(step.Text, st), Choices: []optionView{},
		Decision: decisionView{Number: answered + 1, OfAbout: answered + v.Remaining(stepID, st)}}
	tokens := quizzes.NewChoiceTokens(runID, seed)
	for _, ch := range v.ChoiceOrder(step, st, uint64(seed)) { // #nosec G115 -- seeds are non-negative (randomSeed)
		out.Choices = append(out.Choices, optionView{ID: tokens.For(step.ID, ch.ID), Text: ch.Text})
	}
	return out
}

type variantView struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

func variantOf(v *quizzes.Variant) variantView { return variantView{ID: v.ID, Title: v.Title} }

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
	// SkillDecisions is, per skill, how many decisions of the path moved
	// it (in replays, where the whole path is at hand).
	SkillDecisions *quizzes.Points `json:"skill_decisions,omitempty"`
}

type attemptStarted struct {
	ID      string      `json:"id"`
	Quiz    string      `json:"quiz"`
	Number  int         `json:"number"`
	Status  string      `json:"status"`
	Variant variantView `json:"variant"`
	Step    *stepView   `json:"step"`
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
	v, err := s.Catalog.Pinned(ctx, a.QuizSlug, a.ScenarioVersion, a.Variant)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, attemptStarted{ID: a.ID, Quiz: a.QuizSlug, Number: a.Number, Status: a.Status,
		Variant: variantOf(v), Step: stepFor(v, a, deref(a.CurrentStep))})
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
	id, req, err := answerOf(c, "No such attempt.")
	if err != nil {
		return err
	}
	res, err := s.Attempts.Answer(c.Request().Context(), principalOf(c).UserID, id, req.StepID, req.ChoiceID)
	if err != nil {
		return attemptError(err)
	}
	if res.ScoresQueued {
		// The finish queued its LTI scores in the same statement (the
		// learner came from a platform's launch); this wakes their sender.
		s.LTI.ScoresQueued()
	}
	return c.JSON(http.StatusOK, answered(res.Variant, res.Attempt.ID, res.Attempt.Seed, res.Attempt.Answered, res.Outcome, res.Result, res.Ending))
}

// answerOf reads an answer to a run (attempt or practice) named by the
// path's id: an id that cannot be one is notFound, before the body is read.
func answerOf(c echo.Context, notFound string) (string, answerRequest, error) {
	var req answerRequest
	id := c.Param("id")
	if !accounts.IsUUID(id) {
		return id, req, problem.New(problem.NotFound, "%s", notFound)
	}
	if err := bind.JSON(c, &req); err != nil {
		return id, req, err
	}
	return id, req, problem.Fields("step_id", problem.Required(req.StepID), "choice_id", problem.Required(req.ChoiceID))
}

// answered is the answer to one decision of a run: its feedback, and the
// next step or the result.
func answered(v *quizzes.Variant, runID string, seed int64, n int, o quizzes.Outcome, r *quizzes.Result, e *quizzes.Ending) answerResponse {
	out := answerResponse{Feedback: o.Feedback, Finished: o.Next == nil}
	if o.Next != nil {
		out.Step = stepIn(v, runID, seed, o.State, n, o.Next.ID)
	}
	if r != nil && e != nil {
		out.Result = resultOf(v, *r, e, o.State)
	}
	return out
}

func resultOf(v *quizzes.Variant, r quizzes.Result, e *quizzes.Ending, final quizzes.State) *resultView {
	return &resultView{Percent: r.Percent, Passed: r.Passed, Skills: r.Skills,
		Ending: endingView{ID: e.ID, Title: e.Title, Text: v.EndingText(e, final, r)}}
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
	// BestPathSteps is the variant's best path from the start, step by
	// step as it reads on that path, for learners whose path left it.
	BestPathSteps []bestStep `json:"best_path_steps"`
}

type bestStep struct {
	StepID     string `json:"step_id"`
	StepText   string `json:"step_text"`
	ChoiceText string `json:"choice_text"`
	Feedback   string `json:"feedback"`
}

type attemptView struct {
	ID         string       `json:"id"`
	Quiz       string       `json:"quiz"`
	Number     int          `json:"number"`
	Status     string       `json:"status"`
	Variant    variantView  `json:"variant"`
	Version    string       `json:"scenario_version"`
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
// kept the most within reach, and why, in the feedback of each. Position is
// the decision's index in the path, where a practice run can start.
type costlyView struct {
	StepID     string     `json:"step_id"`
	StepText   string     `json:"step_text"`
	Position   int        `json:"position"`
	Chosen     choiceNote `json:"chosen"`
	Best       choiceNote `json:"best"`
	PointsLost int        `json:"points_lost"`
}

type choiceNote struct {
	Text     string `json:"text"`
	Feedback string `json:"feedback"`
}

// getAttempt replays an attempt: the path taken with the feedback given, and,
// once the learner has passed or used every attempt, the answer key for the
// variant they played.
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
	v, err := s.Catalog.Pinned(ctx, a.QuizSlug, a.ScenarioVersion, a.Variant)
	if err != nil {
		return err
	}
	out := attemptView{ID: a.ID, Quiz: a.QuizSlug, Number: a.Number, Status: a.Status, Variant: variantOf(v), Version: a.ScenarioVersion,
		Answers: []answerView{}, StartedAt: a.StartedAt, FinishedAt: a.FinishedAt}
	if a.CurrentStep != nil {
		out.Step = stepFor(v, a, *a.CurrentStep)
	}
	start, st := v.Begin()
	path, err := v.Replay(start, st, answers)
	if err != nil {
		return fmt.Errorf("attempt %s no longer replays on %s@%s: %w", a.ID, a.QuizSlug, a.ScenarioVersion, err)
	}
	tokens := quizzes.NewChoiceTokens(a.ID, a.Seed)
	for i, d := range path {
		out.Answers = append(out.Answers, answerView{StepID: d.Step.ID, StepText: v.Render(d.Step.Text, d.Before),
			ChoiceID: tokens.For(d.Step.ID, d.Choice.ID), ChoiceText: d.Choice.Text,
			Feedback: v.Render(d.Choice.Feedback, d.After), AnsweredAt: answers[i].AnsweredAt})
	}
	if a.Status != quizzes.Finished {
		return c.JSON(http.StatusOK, out)
	}
	e := v.Ending(deref(a.EndingID))
	if e == nil || a.Percent == nil || a.Passed == nil {
		return fmt.Errorf("attempt %s: finished without a known ending or score", a.ID)
	}
	out.Result = resultOf(v, quizzes.Result{Percent: *a.Percent, Passed: *a.Passed, Skills: a.Skills()}, e, a.State)
	out.Result.SkillDecisions = decisionsPerSkill(path)
	out.CostlyDecision = costlyOf(v, path)

	statuses, err := s.Attempts.Statuses(ctx, []string{uid})
	if err != nil {
		return err
	}
	standing := statuses[uid][a.QuizSlug]
	if standing == nil {
		standing = &quizzes.Status{}
	}
	current, _ := s.Catalog.Get(a.QuizSlug)
	outOfAttempts := current != nil && current.MaxAttempts != nil && standing.AttemptsUsed >= *current.MaxAttempts
	if standing.Passed || outOfAttempts {
		out.Review = review(v, a.ID, a.Seed, path)
	}
	return c.JSON(http.StatusOK, out)
}

// decisionsPerSkill counts, per skill, the decisions that moved it.
func decisionsPerSkill(path []quizzes.PathStep) *quizzes.Points {
	var n quizzes.Points
	for _, d := range path {
		p := d.Choice.Points
		n = n.Add(quizzes.Points{Vision: nonZero(p.Vision), Alignment: nonZero(p.Alignment), Inspiration: nonZero(p.Inspiration)})
	}
	return &n
}

func nonZero(v int) int {
	if v != 0 {
		return 1
	}
	return 0
}

func costlyOf(v *quizzes.Variant, path []quizzes.PathStep) *costlyView {
	c, ok := v.CostliestDecision(path)
	if !ok {
		return nil
	}
	d := c.Decision
	return &costlyView{StepID: d.Step.ID, StepText: v.Render(d.Step.Text, d.Before), Position: c.Position, PointsLost: c.Lost,
		Chosen: choiceNote{Text: d.Choice.Text, Feedback: v.Render(d.Choice.Feedback, d.After)},
		Best:   choiceNote{Text: c.Best.Text, Feedback: v.Render(c.Best.Feedback, v.After(c.Best, d.Before))}}
}

// review is the earned answer key of the variant played: every step the
// learner met, as they met it, with every choice that state offered, its
// feedback and points, which they chose and which was best there; and the
// variant's best path. Nothing of other variants is shown.
func review(v *quizzes.Variant, runID string, seed int64, path []quizzes.PathStep) *reviewView {
	bestPath := v.BestPath()
	r := &reviewView{BestPath: quizzes.PathTokens(runID, seed, bestPath), Steps: []reviewStep{}, BestPathSteps: []bestStep{}}
	for _, d := range bestPath {
		r.BestPathSteps = append(r.BestPathSteps, bestStep{StepID: d.Step.ID, StepText: v.Render(d.Step.Text, d.Before),
			ChoiceText: d.Choice.Text, Feedback: v.Render(d.Choice.Feedback, d.After)})
	}
	tokens := quizzes.NewChoiceTokens(runID, seed)
	for _, d := range path {
		best := v.BestChoice(d.Step.ID, d.Before)
		rs := reviewStep{ID: d.Step.ID, Text: v.Render(d.Step.Text, d.Before)}
		for _, ch := range v.ChoiceOrder(d.Step, d.Before, uint64(seed)) { // #nosec G115 -- seeds are non-negative
			rs.Choices = append(rs.Choices, reviewChoice{ID: tokens.For(d.Step.ID, ch.ID), Text: ch.Text,
				Feedback: v.Render(ch.Feedback, v.After(ch, d.Before)), Points: ch.Points, Chosen: d.Choice.ID == ch.ID, Best: best == ch.ID})
		}
		r.Steps = append(r.Steps, rs)
	}
	return r
}

type historyRow struct {
	ID         string      `json:"id"`
	Number     int         `json:"number"`
	Variant    variantView `json:"variant"`
	Version    string      `json:"scenario_version"`
	Status     string      `json:"status"`
	Percent    *int        `json:"percent"`
	Passed     *bool       `json:"passed"`
	StartedAt  time.Time   `json:"started_at"`
	FinishedAt *time.Time  `json:"finished_at"`
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
		row := historyRow{ID: a.ID, Number: a.Number, Variant: variantView{ID: a.Variant}, Version: a.ScenarioVersion,
			Status: a.Status, Percent: a.Percent, Passed: a.Passed, StartedAt: a.StartedAt, FinishedAt: a.FinishedAt}
		if v, err := s.Catalog.Pinned(c.Request().Context(), a.QuizSlug, a.ScenarioVersion, a.Variant); err == nil {
			row.Variant = variantOf(v)
		}
		out = append(out, row)
	}
	return c.JSON(http.StatusOK, out)
}
