package quizzes

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/baton-course/baton/server/database"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"gorm.io/gorm"
)

// Attempt statuses.
const (
	InProgress = "in_progress"
	Finished   = "finished"
)

// Errors of the attempt store, mapped to HTTP statuses by the server.
var (
	ErrNotFound       = errors.New("no such attempt") // also: another learner's
	ErrNoAttemptsLeft = errors.New("no attempts left")
)

// CooldownError says when the next attempt may start.
type CooldownError struct{ Until time.Time }

func (e *CooldownError) Error() string {
	return "next attempt allowed at " + e.Until.Format(time.RFC3339)
}

// Attempt is one row of attempts.
type Attempt struct {
	ID              string
	UserID          string
	QuizSlug        string
	ScenarioVersion string
	Variant         string // "" for attempts stored before variants
	State           State  // after the last answer
	Number          int
	Seed            int64
	Answered        int // decisions recorded so far
	Status          string
	CurrentStep     *string
	EndingID        *string
	Percent         *int
	Passed          *bool
	Vision          *int
	Alignment       *int
	Inspiration     *int
	StartedAt       time.Time
	FinishedAt      *time.Time
}

// Skills is the attempt's per-skill result, when finished.
func (a Attempt) Skills() Points {
	if a.Vision == nil {
		return Points{}
	}
	return Points{*a.Vision, *a.Alignment, *a.Inspiration}
}

// Answer is one recorded answer.
type Answer struct {
	Position   int
	StepID     string
	ChoiceID   string
	AnsweredAt time.Time
}

// Store keeps attempts and answers in PostgreSQL.
type Store struct {
	db   *gorm.DB
	pool *pgxpool.Pool // the connections beneath db, queried directly on the hot paths
	cat  *Catalog
	open *remembered[string, openAttempt]
	// finished remembers a learner's standing on a scenario as the finish
	// this process wrote left it, so the next start need not read it.
	finished *remembered[standingKey, standing]
	// answers and finishes coalesce the answers that move attempts on and
	// those that finish them; standings and starts the two round trips of
	// a start (see coalesce.go).
	answers, finishes *coalescer[*pendingAnswer, written]
	standings         *coalescer[standingKey, standing]
	starts            *coalescer[*pendingStart, Attempt]
}

// NewStore makes an attempt store over the catalog's scenarios.
func NewStore(db *gorm.DB, pool *pgxpool.Pool, cat *Catalog) *Store {
	return &Store{db: db, pool: pool, cat: cat, open: newRemembered[string, openAttempt](openAttemptsCap),
		finished: newRemembered[standingKey, standing](finishedCap),
		answers:  newCoalescer(func(ctx context.Context, b []*pendingAnswer) ([]written, error) { return writeMoves(ctx, pool, b) }, attemptKey),
		finishes: newCoalescer(func(ctx context.Context, b []*pendingAnswer) ([]written, error) {
			return writeFinishes(ctx, pool, b)
		}, attemptKey),
		standings: newCoalescer(func(ctx context.Context, b []standingKey) ([]standing, error) { return readStandings(ctx, pool, b) }, nil),
		starts:    newCoalescer(func(ctx context.Context, b []*pendingStart) ([]Attempt, error) { return insertStarts(ctx, pool, b) }, startKey),
	}
}

// AnswerBatches counts the batches the store has written answers that move
// attempts on in, FinishBatches those that finish them, and StartBatches the
// starts' inserts.
func (s *Store) AnswerBatches() *BatchStats { return &s.answers.stats }

// FinishBatches: see AnswerBatches.
func (s *Store) FinishBatches() *BatchStats { return &s.finishes.stats }

// StartBatches: see AnswerBatches.
func (s *Store) StartBatches() *BatchStats { return &s.starts.stats }

// Catalog is the store's scenario catalog.
func (s *Store) Catalog() *Catalog { return s.cat }

const attemptColumns = `id, user_id, quiz_slug, scenario_version, variant, state, number, seed, answered, status, current_step, ending_id,
	percent, passed, vision, alignment, inspiration, started_at, finished_at`

// scanAttempt reads attemptColumns, in that order.
func scanAttempt(row pgx.Row, a *Attempt) error {
	return row.Scan(&a.ID, &a.UserID, &a.QuizSlug, &a.ScenarioVersion, &a.Variant, (*[]int)(&a.State), &a.Number, &a.Seed, &a.Answered, &a.Status, &a.CurrentStep,
		&a.EndingID, &a.Percent, &a.Passed, &a.Vision, &a.Alignment, &a.Inspiration, &a.StartedAt, &a.FinishedAt)
}

// Start resumes the learner's unfinished attempt (created=false) or starts a
// new one on the scenario's current version, within the retake rules.
func (s *Store) Start(ctx context.Context, userID string, sc *Scenario, now time.Time) (a Attempt, created bool, err error) {
	for try := 0; try < 3; try++ {
		a, created, err = s.start(ctx, userID, sc, now)
		if !database.IsUniqueViolation(err) && !errors.Is(err, errStartRaced) {
			return a, created, err
		}
		// Another request started one at the same moment: resume that one.
	}
	return a, created, err
}

// start is two round trips, each shared with the other starts waiting
// (startbatch.go): one reads the learner's standing on the scenario and
// their open attempt (if any), the other inserts the attempt and counts it
// in the standing. After a finish this process wrote, the standing is
// remembered and the start is one round trip: the insert is guarded by the
// standing it was decided on, so a remembered standing that is stale
// (another instance started since) fails the guard, and the start, like
// one the remembered standing refused, is decided again on the stored one.
func (s *Store) start(ctx context.Context, userID string, sc *Scenario, now time.Time) (Attempt, bool, error) {
	key := standingKey{userID: userID, slug: sc.Slug}
	st, known := s.finished.take(key)
	if known {
		a, created, err := s.startOn(ctx, st, userID, sc, now)
		if !refused(err) && !errors.Is(err, errStartRaced) {
			return a, created, err
		}
	}
	st, err := s.standings.do(ctx, key)
	if err != nil {
		return Attempt{}, false, err
	}
	return s.startOn(ctx, st, userID, sc, now)
}

// startOn resumes the open attempt the standing names or decides on the
// standing whether a new one may start, and inserts it.
func (s *Store) startOn(ctx context.Context, st standing, userID string, sc *Scenario, now time.Time) (Attempt, bool, error) {
	var a Attempt
	if st.openID != nil {
		err := scanAttempt(s.pool.QueryRow(ctx, `SELECT `+attemptColumns+` FROM attempts WHERE id = $1`, *st.openID), &a)
		if errors.Is(err, pgx.ErrNoRows) {
			return Attempt{}, false, ErrNotFound // finished and deleted in between: vanishingly rare
		}
		return a, false, err
	}
	avail := sc.CanStart(st.used, st.lastFinished, now)
	if !avail.Allowed {
		if avail.NextAttemptAt != nil && (avail.AttemptsLeft == nil || *avail.AttemptsLeft > 0) {
			return Attempt{}, false, &CooldownError{Until: *avail.NextAttemptAt}
		}
		return Attempt{}, false, ErrNoAttemptsLeft
	}
	isReview := st.review.Due != nil && !now.Before(*st.review.Due)
	v := sc.ChooseVariant(Seen{Count: st.seen, Last: st.lastVariant}, isReview, userID, st.used+1)
	step, state := v.Begin()
	// started_at comes from the same clock as finished_at, which the review
	// schedule compares it with.
	a, err := s.starts.do(ctx, &pendingStart{userID: userID, slug: sc.Slug, version: sc.Version, variant: v.ID, state: state,
		seed: randomSeed(), step: step, startedAt: now, decidedOn: st})
	if err != nil {
		return Attempt{}, false, err
	}
	if a.ID == "" {
		return Attempt{}, false, errStartRaced
	}
	s.open.put(a.ID, openAttempt{userID: userID, slug: sc.Slug, version: sc.Version, variant: v.ID, seed: a.Seed, step: step,
		state: state, startedAt: a.StartedAt, review: st.review, standing: st.counting(a.Number, v.ID)})
	return a, true, nil
}

// refused: the start was refused by the retake rules.
func refused(err error) bool {
	var cooldown *CooldownError
	return errors.Is(err, ErrNoAttemptsLeft) || errors.As(err, &cooldown)
}

// errStartRaced: the start's insert inserted nothing (insertStarts): it met
// an attempt begun since its read, which Start then resumes, or its guard
// found the standing changed since, and Start decides again on the stored
// one.
var errStartRaced = errors.New("quizzes: the start met another start, or a standing changed since its decision")

func randomSeed() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return int64(binary.LittleEndian.Uint64(b[:]) >> 1)
}

// Get loads one of the learner's attempts with its answers. Someone else's
// attempt is ErrNotFound, exactly like one that does not exist.
func (s *Store) Get(ctx context.Context, userID, attemptID string) (Attempt, []Answer, error) {
	var a Attempt
	err := scanAttempt(s.pool.QueryRow(ctx, `SELECT `+attemptColumns+` FROM attempts WHERE id = $1 AND user_id = $2`, attemptID, userID), &a)
	if errors.Is(err, pgx.ErrNoRows) {
		return Attempt{}, nil, ErrNotFound
	}
	if err != nil {
		return Attempt{}, nil, err
	}
	var answers []Answer
	err = s.db.WithContext(ctx).Raw(`SELECT position, step_id, choice_id, answered_at FROM attempt_answers WHERE attempt_id = ? ORDER BY position`, attemptID).Scan(&answers).Error
	return a, answers, err
}

// Answered is the outcome of recording an answer.
type Answered struct {
	Attempt Attempt
	Variant *Variant
	Outcome Outcome
	Result  *Result // set when the attempt finished
	Ending  *Ending // the ending the path earned, when finished
	// ScoresQueued: the finish queued LTI scores for the platforms whose
	// launch linked this scenario, and their sender should be woken.
	ScoresQueued bool
}

// Answer records a choice for the attempt's current step: one round trip
// when the attempt's state is known from this process's last write to it,
// two otherwise.
//
// The check that the step is still current and the write happen in one
// statement, guarded by the step and the number of answers so far, so the
// same answer sent many times at once is recorded once (the others get
// ErrNotCurrent), and a remembered state that another instance has moved on
// from simply fails the guard and is read afresh.
func (s *Store) Answer(ctx context.Context, userID, attemptID, stepID, token string) (Answered, error) {
	st, remembered := s.open.get(attemptID)
	remembered = remembered && st.userID == userID
	if !remembered {
		var err error
		if st, err = s.readOpen(ctx, userID, attemptID); err != nil {
			return Answered{}, err
		}
	}
	res, written, err := s.record(ctx, attemptID, st, stepID, token)
	if remembered && movedOn(written, err) {
		// The remembered state may be stale (another instance moved the
		// attempt on): judge the answer again against the stored one.
		s.open.drop(attemptID)
		if st, err = s.readOpen(ctx, userID, attemptID); err != nil {
			return Answered{}, err
		}
		res, written, err = s.record(ctx, attemptID, st, stepID, token)
	}
	switch {
	case database.IsUniqueViolation(err):
		return Answered{}, ErrNotCurrent
	case errors.Is(err, ErrNotCurrent), errors.Is(err, ErrFinished), errors.Is(err, ErrUnknownChoice):
		return Answered{}, err // judged against the stored state, or a remembered one still current
	case err != nil:
		if remembered {
			s.open.drop(attemptID) // the write's fate is unknown: read it next time
		}
		return Answered{}, err
	case !written:
		return Answered{}, ErrNotCurrent // answered by a concurrent request first
	}
	if res.Outcome.Next == nil {
		s.open.drop(attemptID)
	} else {
		st.step, st.answered, st.sum = res.Outcome.Next.ID, st.answered+1, st.sum.Add(res.Outcome.Choice.Points)
		st.state = res.Outcome.State
		s.open.put(attemptID, st)
	}
	return res, nil
}

// movedOn reports an outcome that a stale remembered state would explain:
// the guard found the attempt changed, or the engine judged the answer
// against a step or status the attempt may have left.
func movedOn(written bool, err error) bool {
	if err == nil {
		return !written
	}
	return errors.Is(err, ErrNotCurrent) || errors.Is(err, ErrFinished) || database.IsUniqueViolation(err)
}

// readOpen reads what answering needs from the attempt's row and the
// learner's standing. Someone else's attempt is ErrNotFound; a finished one
// has no current step.
func (s *Store) readOpen(ctx context.Context, userID, attemptID string) (openAttempt, error) {
	st := openAttempt{userID: userID}
	var status string
	var current *string
	err := s.pool.QueryRow(ctx, `SELECT a.quiz_slug, a.scenario_version, a.variant, a.state, a.seed, a.status, a.current_step, a.answered,
		  a.points_vision, a.points_alignment, a.points_inspiration, a.started_at, s.review_due_at, coalesce(s.review_streak, 0)
		FROM attempts a LEFT JOIN scenario_standings s ON s.user_id = a.user_id AND s.quiz_slug = a.quiz_slug
		WHERE a.id = $1 AND a.user_id = $2`, attemptID, userID).
		Scan(&st.slug, &st.version, &st.variant, (*[]int)(&st.state), &st.seed, &status, &current, &st.answered, &st.sum.Vision, &st.sum.Alignment, &st.sum.Inspiration,
			&st.startedAt, &st.review.Due, &st.review.Streak)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, ErrNotFound
	}
	if status == InProgress && current != nil {
		st.step = *current
	}
	return st, err
}

// record judges the answer (token is the choice's per-attempt id, see
// ChoiceToken) against st and, when it is for the current step, writes it
// in one statement. written is false when the guard found the attempt moved
// on (or finished) since st was read.
func (s *Store) record(ctx context.Context, attemptID string, st openAttempt, stepID, token string) (res Answered, written bool, err error) {
	v, err := s.cat.Pinned(ctx, st.slug, st.version, st.variant)
	if err != nil {
		return res, false, err
	}
	if !v.Scenario.state.valid(st.state) {
		return res, false, fmt.Errorf("attempt %s holds state %v, which %s@%s cannot", attemptID, st.state, st.slug, st.version)
	}
	choiceID := "" // no choice has it: an unknown token is ErrUnknownChoice
	if step := v.Steps[stepID]; step != nil {
		choiceID, _ = step.ChoiceByToken(attemptID, st.seed, token)
	}
	out, err := v.Answer(st.step, st.state, stepID, choiceID)
	if err != nil {
		return res, false, err
	}
	res = Answered{Variant: v, Outcome: out,
		Attempt: Attempt{ID: attemptID, UserID: st.userID, QuizSlug: st.slug, ScenarioVersion: st.version, Variant: st.variant,
			State: out.State, Seed: st.seed, Answered: st.answered + 1}}
	p := out.Choice.Points
	// Each answer is written in a batch with the others waiting
	// (coalesce.go): its guarded UPDATE decides, so a concurrent answer to
	// the same step finds the attempt moved and inserts nothing.
	if out.Next != nil {
		w, err := s.answers.do(ctx, &pendingAnswer{attemptID: attemptID, userID: st.userID, stepID: stepID, choiceID: choiceID,
			answered: st.answered, nextStep: out.Next.ID, state: out.State, points: p})
		return res, w.won, err
	}
	r, ending := v.Finish(out.State, st.sum.Add(p), out.Choice)
	res.Result, res.Ending = &r, ending
	// In PostgreSQL's precision: the next start's insert compares the
	// remembered finish with the stored one, which must then be equal
	// however the driver sends a time (text rounds, binary truncates).
	now := time.Now().Truncate(time.Microsecond)
	review := st.review.After(AttemptSummary{StartedAt: st.startedAt, FinishedAt: now, Passed: r.Passed})
	w, err := s.finishes.do(ctx, &pendingAnswer{attemptID: attemptID, userID: st.userID, stepID: stepID, choiceID: choiceID,
		answered: st.answered, state: out.State, points: p, finish: &finishing{endingID: ending.ID, result: r, finishedAt: now, review: review}})
	res.ScoresQueued = w.graded
	if err == nil && w.won && st.standing != nil {
		s.finished.put(standingKey{userID: st.userID, slug: st.slug}, st.standing.finishing(now, review))
	}
	return res, w.won, err
}

// History lists the learner's attempts at a scenario, newest first.
func (s *Store) History(ctx context.Context, userID, slug string) ([]Attempt, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+attemptColumns+` FROM attempts WHERE user_id = $1 AND quiz_slug = $2
		ORDER BY number DESC`, userID, slug)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, collectAttempt)
}

// Status is a learner's standing on one scenario.
type Status struct {
	AttemptsUsed int
	BestPercent  *int // best finished attempt
	Passed       bool
	FirstPercent *int    // the first finished attempt: the diagnostic baseline
	LatestSkills *Points // the most recent finished attempt's skills
	LastFinished *time.Time
	NextReview   *time.Time
}

// Statuses reads every scenario standing of several learners in one query,
// by user id and scenario slug: one row per learner and scenario, however
// many attempts they have made.
func (s *Store) Statuses(ctx context.Context, userIDs []string) (map[string]map[string]*Status, error) {
	return statusesOn(ctx, s.pool, userIDs)
}

func statusesOn(ctx context.Context, pool *pgxpool.Pool, userIDs []string) (map[string]map[string]*Status, error) {
	out := make(map[string]map[string]*Status, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	rows, err := pool.Query(ctx, `SELECT user_id::text, quiz_slug, attempts_used, best_percent, passed, first_percent,
		  latest_vision, latest_alignment, latest_inspiration, last_finished_at, review_due_at
		FROM scenario_standings WHERE user_id = ANY($1::uuid[])`, userIDs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			user, slug    string
			st            Status
			vis, al, insp *int
		)
		if err := rows.Scan(&user, &slug, &st.AttemptsUsed, &st.BestPercent, &st.Passed, &st.FirstPercent,
			&vis, &al, &insp, &st.LastFinished, &st.NextReview); err != nil {
			return nil, err
		}
		if vis != nil && al != nil && insp != nil {
			st.LatestSkills = &Points{Vision: *vis, Alignment: *al, Inspiration: *insp}
		}
		if out[user] == nil {
			out[user] = map[string]*Status{}
		}
		out[user][slug] = &st
	}
	return out, rows.Err()
}

// Finished lists the learner's finished attempts, oldest first: their
// whole history, for the skill timeline.
func (s *Store) Finished(ctx context.Context, userID string) ([]Attempt, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+attemptColumns+` FROM attempts WHERE user_id = $1 AND status = 'finished'
		ORDER BY finished_at, number`, userID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, collectAttempt)
}

func collectAttempt(r pgx.CollectableRow) (Attempt, error) {
	var a Attempt
	return a, scanAttempt(r, &a)
}
