package quizzes

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/baton-course/baton/server/database"

	"github.com/jackc/pgx/v5"
)

// ErrNothingToPractise means a finished attempt has no costly decision to
// practise from (every move was a best move), or is not finished yet.
var ErrNothingToPractise = errors.New("nothing to practise")

// Practice is a practice run: a finished attempt replayed from its costly
// decision on, in the state the learner was in there. It lives in its own
// table, so it never touches attempts, standings, retake caps, reviews,
// skill history or analytics.
type Practice struct {
	ID              string
	UserID          string
	AttemptID       string
	QuizSlug        string
	ScenarioVersion string
	Variant         string
	Seed            int64
	FromPosition    int // the decision of the attempt the run starts at
	FromStep        string
	StartState      State // the state that decision was made in
	Status          string
	CurrentStep     *string
	State           State
	Answered        int // decisions of the whole path so far: the attempt's before FromPosition, then the run's
	Points          Points
	Answers         []Answer // the run's own
	EndingID        *string
	Percent         *int
	Passed          *bool
	Skills          *Points // when finished
	StartedAt       time.Time
	FinishedAt      *time.Time
}

const practiceColumns = `id, user_id, attempt_id, quiz_slug, scenario_version, variant, seed, from_position, from_step, start_state,
	status, current_step, state, answered, points_vision, points_alignment, points_inspiration, answers, ending_id, percent, passed,
	vision, alignment, inspiration, started_at, finished_at`

func scanPractice(row pgx.Row, p *Practice) error {
	var answers []byte
	var vision, alignment, inspiration *int
	err := row.Scan(&p.ID, &p.UserID, &p.AttemptID, &p.QuizSlug, &p.ScenarioVersion, &p.Variant, &p.Seed, &p.FromPosition, &p.FromStep,
		(*[]int)(&p.StartState), &p.Status, &p.CurrentStep, (*[]int)(&p.State), &p.Answered, &p.Points.Vision, &p.Points.Alignment,
		&p.Points.Inspiration, &answers, &p.EndingID, &p.Percent, &p.Passed, &vision, &alignment, &inspiration, &p.StartedAt, &p.FinishedAt)
	if err != nil {
		return err
	}
	if vision != nil && alignment != nil && inspiration != nil {
		p.Skills = &Points{Vision: *vision, Alignment: *alignment, Inspiration: *inspiration}
	}
	var stored []practiceAnswer
	if err := json.Unmarshal(answers, &stored); err != nil {
		return err
	}
	for i, a := range stored {
		p.Answers = append(p.Answers, Answer{Position: p.FromPosition + i, StepID: a.StepID, ChoiceID: a.ChoiceID})
	}
	return nil
}

type practiceAnswer struct {
	StepID   string `json:"step_id"`
	ChoiceID string `json:"choice_id"`
}

// StartPractice starts a practice run of one of the learner's finished
// attempts from its costly decision, or resumes the one already open
// (created=false).
func (s *Store) StartPractice(ctx context.Context, userID, attemptID string) (p Practice, created bool, err error) {
	a, answers, err := s.Get(ctx, userID, attemptID)
	if err != nil {
		return Practice{}, false, err
	}
	err = scanPractice(s.pool.QueryRow(ctx, `SELECT `+practiceColumns+` FROM practice_runs
		WHERE attempt_id = $1 AND user_id = $2 AND status = 'in_progress'`, attemptID, userID), &p)
	if err == nil || !errors.Is(err, pgx.ErrNoRows) {
		return p, false, err
	}
	if a.Status != Finished {
		return Practice{}, false, ErrNothingToPractise
	}
	v, err := s.cat.Pinned(ctx, a.QuizSlug, a.ScenarioVersion, a.Variant)
	if err != nil {
		return Practice{}, false, err
	}
	start, st := v.Begin()
	path, err := v.Replay(start, st, answers)
	if err != nil {
		return Practice{}, false, err
	}
	costly, ok := v.CostliestDecision(path)
	if !ok {
		return Practice{}, false, ErrNothingToPractise
	}
	var carried Points
	for _, d := range path[:costly.Position] {
		carried = carried.Add(d.Choice.Points)
	}
	d := costly.Decision
	err = scanPractice(s.pool.QueryRow(ctx, `INSERT INTO practice_runs (user_id, attempt_id, quiz_slug, scenario_version, variant, seed,
		  from_position, from_step, start_state, current_step, state, answered, points_vision, points_alignment, points_inspiration)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8, $9, $7, $10, $11, $12)
		RETURNING `+practiceColumns, userID, attemptID, a.QuizSlug, a.ScenarioVersion, a.Variant, randomSeed(),
		costly.Position, d.Step.ID, []int(d.Before), carried.Vision, carried.Alignment, carried.Inspiration), &p)
	if err != nil {
		if database.IsUniqueViolation(err) { // started at the same moment: resume that one
			return s.StartPractice(ctx, userID, attemptID)
		}
		return Practice{}, false, err
	}
	return p, true, nil
}

// GetPractice reads one of the learner's practice runs; someone else's is
// ErrNotFound.
func (s *Store) GetPractice(ctx context.Context, userID, id string) (Practice, error) {
	var p Practice
	err := scanPractice(s.pool.QueryRow(ctx, `SELECT `+practiceColumns+` FROM practice_runs WHERE id = $1 AND user_id = $2`, id, userID), &p)
	if errors.Is(err, pgx.ErrNoRows) {
		return Practice{}, ErrNotFound
	}
	return p, err
}

// PracticeAnswered is the outcome of a practice answer.
type PracticeAnswered struct {
	Practice Practice
	Variant  *Variant
	Outcome  Outcome
	Result   *Result
	Ending   *Ending
}

// AnswerPractice records a choice of a practice run: judged like an
// attempt's, written in one statement guarded by the step and the count of
// answers, so a repeated answer is recorded once.
func (s *Store) AnswerPractice(ctx context.Context, userID, id, stepID, token string) (PracticeAnswered, error) {
	p, err := s.GetPractice(ctx, userID, id)
	if err != nil {
		return PracticeAnswered{}, err
	}
	v, err := s.cat.Pinned(ctx, p.QuizSlug, p.ScenarioVersion, p.Variant)
	if err != nil {
		return PracticeAnswered{}, err
	}
	current := ""
	if p.Status == InProgress && p.CurrentStep != nil {
		current = *p.CurrentStep
	}
	choiceID := ""
	if step := v.Steps[stepID]; step != nil {
		choiceID, _ = step.ChoiceByToken(p.ID, p.Seed, token)
	}
	out, err := v.Answer(current, p.State, stepID, choiceID)
	if err != nil {
		return PracticeAnswered{}, err
	}
	res := PracticeAnswered{Variant: v, Outcome: out}
	earned := p.Points.Add(out.Choice.Points)
	entry, _ := json.Marshal([]practiceAnswer{{StepID: stepID, ChoiceID: choiceID}})
	var next *string
	var r *Result
	var ending *string
	if out.Next != nil {
		next = &out.Next.ID
	} else {
		result, e := v.Finish(out.State, earned, out.Choice)
		res.Result, res.Ending, r, ending = &result, e, &result, &e.ID
	}
	var percent *int
	var passed *bool
	var vision, alignment, inspiration *int
	if r != nil {
		percent, passed = &r.Percent, &r.Passed
		vision, alignment, inspiration = &r.Skills.Vision, &r.Skills.Alignment, &r.Skills.Inspiration
	}
	err = scanPractice(s.pool.QueryRow(ctx, `UPDATE practice_runs SET current_step = $4, state = $5, answered = answered + 1,
		  points_vision = $6, points_alignment = $7, points_inspiration = $8, answers = answers || $9::jsonb,
		  status = CASE WHEN $4::text IS NULL THEN 'finished' ELSE status END,
		  finished_at = CASE WHEN $4::text IS NULL THEN now() END,
		  ending_id = $10, percent = $11, passed = $12, vision = $13, alignment = $14, inspiration = $15
		WHERE id = $1 AND user_id = $2 AND status = 'in_progress' AND answered = $3
		RETURNING `+practiceColumns, p.ID, userID, p.Answered, next, []int(out.State), earned.Vision, earned.Alignment, earned.Inspiration,
		string(entry), ending, percent, passed, vision, alignment, inspiration), &res.Practice)
	if errors.Is(err, pgx.ErrNoRows) {
		return PracticeAnswered{}, ErrNotCurrent // answered by a concurrent request first
	}
	return res, err
}
