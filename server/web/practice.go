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
)

// practiceView is a practice run: a finished attempt replayed from its
// costly decision. Nothing it does counts: its result is shown, never
// stored in standings, reviews or analytics.
type practiceView struct {
	ID         string       `json:"id"`
	Practice   bool         `json:"practice"`
	AttemptID  string       `json:"attempt_id"`
	Quiz       string       `json:"quiz"`
	Status     string       `json:"status"`
	Variant    variantView  `json:"variant"`
	From       int          `json:"from_position"`
	Step       *stepView    `json:"step"`
	Answers    []answerView `json:"answers"`
	Result     *resultView  `json:"result"`
	StartedAt  time.Time    `json:"started_at"`
	FinishedAt *time.Time   `json:"finished_at"`
}

// startPractice starts (201) or resumes (200) a practice run of the
// caller's finished attempt from its costly decision.
func (s *Server) startPractice(c echo.Context) error {
	id := c.Param("id")
	if !accounts.IsUUID(id) {
		return problem.New(problem.NotFound, "No such attempt.")
	}
	ctx := c.Request().Context()
	p, created, err := s.Attempts.StartPractice(ctx, principalOf(c).UserID, id)
	if errors.Is(err, quizzes.ErrNothingToPractise) {
		return problem.New(problem.Conflict, "There is nothing to practise here: the attempt is not finished, or every decision was already a best move.")
	}
	if err != nil {
		return attemptError(err)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return s.showPractice(c, status, p)
}

// getPractice shows one of the caller's practice runs.
func (s *Server) getPractice(c echo.Context) error {
	id := c.Param("id")
	if !accounts.IsUUID(id) {
		return problem.New(problem.NotFound, "No such practice run.")
	}
	ctx := c.Request().Context()
	p, err := s.Attempts.GetPractice(ctx, principalOf(c).UserID, id)
	if err != nil {
		return practiceError(err)
	}
	return s.showPractice(c, http.StatusOK, p)
}

// showPractice answers with the practice run on its pinned variant.
func (s *Server) showPractice(c echo.Context, status int, p quizzes.Practice) error {
	v, err := s.Catalog.Pinned(c.Request().Context(), p.QuizSlug, p.ScenarioVersion, p.Variant)
	if err != nil {
		return err
	}
	out, err := practiceOf(v, p)
	if err != nil {
		return err
	}
	return c.JSON(status, out)
}

func practiceOf(v *quizzes.Variant, p quizzes.Practice) (practiceView, error) {
	out := practiceView{ID: p.ID, Practice: true, AttemptID: p.AttemptID, Quiz: p.QuizSlug, Status: p.Status, Variant: variantOf(v),
		From: p.FromPosition, Answers: []answerView{}, StartedAt: p.StartedAt, FinishedAt: p.FinishedAt}
	if p.CurrentStep != nil {
		out.Step = stepIn(v, p.ID, p.Seed, p.State, p.Answered, *p.CurrentStep)
	}
	if len(p.Answers) > 0 {
		// The run's own decisions, replayed from the state it started in.
		path, err := v.Replay(p.FromStep, p.StartState, p.Answers)
		if err != nil {
			return out, fmt.Errorf("practice run %s no longer replays: %w", p.ID, err)
		}
		tokens := quizzes.NewChoiceTokens(p.ID, p.Seed)
		for _, d := range path {
			out.Answers = append(out.Answers, answerView{StepID: d.Step.ID, StepText: v.Render(d.Step.Text, d.Before),
				ChoiceID: tokens.For(d.Step.ID, d.Choice.ID), ChoiceText: d.Choice.Text,
				Feedback: v.Render(d.Choice.Feedback, d.After)})
		}
	}
	if p.Status == quizzes.Finished && p.Percent != nil && p.Passed != nil && p.Skills != nil {
		e := v.Ending(deref(p.EndingID))
		if e == nil {
			return out, fmt.Errorf("practice run %s: unknown ending %q", p.ID, deref(p.EndingID))
		}
		out.Result = resultOf(v, quizzes.Result{Percent: *p.Percent, Passed: *p.Passed, Skills: *p.Skills}, e, p.State)
	}
	return out, nil
}

// answerPractice records one decision of a practice run.
func (s *Server) answerPractice(c echo.Context) error {
	id, req, err := answerOf(c, "No such practice run.")
	if err != nil {
		return err
	}
	res, err := s.Attempts.AnswerPractice(c.Request().Context(), principalOf(c).UserID, id, req.StepID, req.ChoiceID)
	if err != nil {
		return practiceError(err)
	}
	p := res.Practice
	return c.JSON(http.StatusOK, answered(res.Variant, p.ID, p.Seed, p.Answered, res.Outcome, res.Result, res.Ending))
}

func practiceError(err error) error {
	if errors.Is(err, quizzes.ErrNotFound) {
		return problem.New(problem.NotFound, "No such practice run.")
	}
	if errors.Is(err, quizzes.ErrFinished) {
		return problem.New(problem.Conflict, "This practice run is finished; start another from the attempt's result.")
	}
	return attemptError(err)
}
