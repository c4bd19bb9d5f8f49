package quizzes

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"errors"
	"sort"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
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
	Number          int
	Seed            int64
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
	db  *gorm.DB
	sql *sql.DB // the pool beneath db, for the hot path
	cat *Catalog
}

// NewStore makes an attempt store over the catalog's scenarios.
func NewStore(db *gorm.DB, cat *Catalog) *Store {
	sqlDB, err := db.DB()
	if err != nil {
		panic(err) // GORM opened on a *sql.DB always has one
	}
	return &Store{db: db, sql: sqlDB, cat: cat}
}

// Catalog is the store's scenario catalog.
func (s *Store) Catalog() *Catalog { return s.cat }

const attemptColumns = `id, user_id, quiz_slug, scenario_version, number, seed, status, current_step, ending_id,
	percent, passed, vision, alignment, inspiration, started_at, finished_at`

// Start resumes the learner's unfinished attempt (created=false) or starts a
// new one on the scenario's current version, within the retake rules.
func (s *Store) Start(ctx context.Context, userID string, sc *Scenario, now time.Time) (a Attempt, created bool, err error) {
	for try := 0; try < 3; try++ {
		a, created, err = s.start(ctx, userID, sc, now)
		if !isUniqueViolation(err) {
			return a, created, err
		}
		// Another request started one at the same moment: resume that one.
	}
	return a, created, err
}

func (s *Store) start(ctx context.Context, userID string, sc *Scenario, now time.Time) (Attempt, bool, error) {
	db := s.db.WithContext(ctx)
	var open []Attempt
	if err := db.Raw(`SELECT `+attemptColumns+` FROM attempts WHERE user_id = ? AND quiz_slug = ? AND status = 'in_progress'`,
		userID, sc.Slug).Scan(&open).Error; err != nil {
		return Attempt{}, false, err
	}
	if len(open) > 0 {
		return open[0], false, nil
	}
	var used struct {
		Count        int
		LastFinished *time.Time
	}
	if err := db.Raw(`SELECT count(*) AS count, max(finished_at) AS last_finished FROM attempts WHERE user_id = ? AND quiz_slug = ?`,
		userID, sc.Slug).Scan(&used).Error; err != nil {
		return Attempt{}, false, err
	}
	avail := sc.CanStart(used.Count, used.LastFinished, now)
	if !avail.Allowed {
		if avail.NextAttemptAt != nil && (avail.AttemptsLeft == nil || *avail.AttemptsLeft > 0) {
			return Attempt{}, false, &CooldownError{Until: *avail.NextAttemptAt}
		}
		return Attempt{}, false, ErrNoAttemptsLeft
	}
	var a Attempt
	err := db.Raw(`INSERT INTO attempts (user_id, quiz_slug, scenario_version, number, seed, current_step)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING `+attemptColumns,
		userID, sc.Slug, sc.Version, used.Count+1, randomSeed(), sc.Start).Scan(&a).Error
	if err != nil {
		return Attempt{}, false, err
	}
	return a, true, nil
}

// isUniqueViolation reports a unique-key conflict, which raw statements
// surface as the driver's error rather than GORM's translated one.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.Is(err, gorm.ErrDuplicatedKey) || (errors.As(err, &pgErr) && pgErr.Code == "23505")
}

func randomSeed() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return int64(binary.LittleEndian.Uint64(b[:]) >> 1)
}

// Get loads one of the learner's attempts with its answers. Someone else's
// attempt is ErrNotFound, exactly like one that does not exist.
func (s *Store) Get(ctx context.Context, userID, attemptID string) (Attempt, []Answer, error) {
	var rows []Attempt
	db := s.db.WithContext(ctx)
	if err := db.Raw(`SELECT `+attemptColumns+` FROM attempts WHERE id = ? AND user_id = ?`, attemptID, userID).Scan(&rows).Error; err != nil {
		return Attempt{}, nil, err
	}
	if len(rows) == 0 {
		return Attempt{}, nil, ErrNotFound
	}
	var answers []Answer
	err := db.Raw(`SELECT position, step_id, choice_id, answered_at FROM attempt_answers WHERE attempt_id = ? ORDER BY position`, attemptID).Scan(&answers).Error
	return rows[0], answers, err
}

// Answered is the outcome of recording an answer.
type Answered struct {
	Attempt  Attempt
	Scenario *Scenario
	Outcome  Outcome
	Result   *Result // set when the attempt finished
}

// Answer records a choice for the attempt's current step. The check that the
// step is still current and the write happen in one statement, so the same
// answer sent many times at once is recorded once; the others get
// ErrNotCurrent. It is the hottest write in the product: two round trips,
// the first a primary-key read, through database/sql without the ORM.
func (s *Store) Answer(ctx context.Context, userID, attemptID, stepID, choiceID string) (Answered, error) {
	var (
		slug, version, status string
		current               sql.NullString
		seed                  int64
		answered              int
		sum                   Points
	)
	err := s.sql.QueryRowContext(ctx, `SELECT quiz_slug, scenario_version, seed, status, current_step, answered,
		  points_vision, points_alignment, points_inspiration
		FROM attempts WHERE id = $1 AND user_id = $2`, attemptID, userID).
		Scan(&slug, &version, &seed, &status, &current, &answered, &sum.Vision, &sum.Alignment, &sum.Inspiration)
	if errors.Is(err, sql.ErrNoRows) {
		return Answered{}, ErrNotFound
	} else if err != nil {
		return Answered{}, err
	}
	sc, err := s.cat.Version(ctx, slug, version)
	if err != nil {
		return Answered{}, err
	}
	cur := ""
	if status == InProgress && current.Valid {
		cur = current.String
	}
	out, err := sc.Answer(cur, stepID, choiceID)
	if err != nil {
		return Answered{}, err
	}
	res := Answered{Scenario: sc, Outcome: out, Attempt: Attempt{ID: attemptID, UserID: userID, QuizSlug: slug, ScenarioVersion: version, Seed: seed}}
	p := out.Choice.Points
	// The guarded UPDATE decides: a concurrent answer to the same step finds
	// current_step moved and updates nothing, so nothing is inserted either.
	const record = `,
		ins AS (
		  INSERT INTO attempt_answers (attempt_id, position, user_id, quiz_slug, scenario_version, step_id, choice_id, vision, alignment, inspiration)
		  SELECT id, answered, user_id, quiz_slug, scenario_version, $3, $4, $5, $6, $7 FROM moved)
		SELECT count(*) FROM moved`
	var written int
	if out.Ending == nil {
		err = s.sql.QueryRowContext(ctx, `WITH moved AS (
			  UPDATE attempts SET current_step = $8, answered = answered + 1, points_vision = points_vision + $5,
			    points_alignment = points_alignment + $6, points_inspiration = points_inspiration + $7
			  WHERE id = $1 AND user_id = $2 AND status = 'in_progress' AND current_step = $3
			  RETURNING id, answered, user_id, quiz_slug, scenario_version)`+record,
			attemptID, userID, stepID, choiceID, p.Vision, p.Alignment, p.Inspiration, out.Next.ID).Scan(&written)
	} else {
		r := sc.Score(sum.Add(p))
		res.Result = &r
		err = s.sql.QueryRowContext(ctx, `WITH moved AS (
			  UPDATE attempts SET status = 'finished', current_step = NULL, ending_id = $8, percent = $9, passed = $10,
			    vision = $11, alignment = $12, inspiration = $13, finished_at = now(), answered = answered + 1,
			    points_vision = points_vision + $5, points_alignment = points_alignment + $6, points_inspiration = points_inspiration + $7
			  WHERE id = $1 AND user_id = $2 AND status = 'in_progress' AND current_step = $3
			  RETURNING id, answered, user_id, quiz_slug, scenario_version)`+record,
			attemptID, userID, stepID, choiceID, p.Vision, p.Alignment, p.Inspiration,
			out.Ending.ID, r.Percent, r.Passed, r.Skills.Vision, r.Skills.Alignment, r.Skills.Inspiration).Scan(&written)
	}
	if isUniqueViolation(err) {
		return Answered{}, ErrNotCurrent
	}
	if err != nil {
		return Answered{}, err
	}
	if written == 0 {
		return Answered{}, ErrNotCurrent // answered by a concurrent request first
	}
	return res, nil
}

// History lists the learner's attempts at a scenario, newest first.
func (s *Store) History(ctx context.Context, userID, slug string) ([]Attempt, error) {
	var rows []Attempt
	err := s.db.WithContext(ctx).Raw(`SELECT `+attemptColumns+` FROM attempts WHERE user_id = ? AND quiz_slug = ?
		ORDER BY number DESC`, userID, slug).Scan(&rows).Error
	return rows, err
}

// Status is a learner's standing on one scenario, derived from all their
// attempts.
type Status struct {
	AttemptsUsed int
	BestPercent  *int // best finished attempt
	Passed       bool
	FirstPercent *int     // the first finished attempt: the diagnostic baseline
	Latest       *Attempt // the most recent finished attempt
	LastFinished *time.Time
	NextReview   *time.Time
	Finished     []Attempt // oldest first
}

// Statuses derives every scenario status of several learners from one query,
// by user id and scenario slug.
func (s *Store) Statuses(ctx context.Context, userIDs []string) (map[string]map[string]*Status, error) {
	out := make(map[string]map[string]*Status, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	var rows []Attempt
	if err := s.db.WithContext(ctx).Raw(`SELECT `+attemptColumns+` FROM attempts WHERE user_id IN ? ORDER BY started_at, number`,
		userIDs).Scan(&rows).Error; err != nil {
		return nil, err
	}
	for i := range rows {
		a := rows[i]
		if out[a.UserID] == nil {
			out[a.UserID] = map[string]*Status{}
		}
		st := out[a.UserID][a.QuizSlug]
		if st == nil {
			st = &Status{}
			out[a.UserID][a.QuizSlug] = st
		}
		st.AttemptsUsed++
		if a.Status != Finished {
			continue
		}
		st.Finished = append(st.Finished, a)
	}
	for _, byQuiz := range out {
		for _, st := range byQuiz {
			sort.SliceStable(st.Finished, func(i, j int) bool { return st.Finished[i].FinishedAt.Before(*st.Finished[j].FinishedAt) })
			var summaries []AttemptSummary
			for i := range st.Finished {
				a := &st.Finished[i]
				if st.FirstPercent == nil {
					st.FirstPercent = a.Percent
				}
				if st.BestPercent == nil || *a.Percent > *st.BestPercent {
					st.BestPercent = a.Percent
				}
				st.Passed = st.Passed || (a.Passed != nil && *a.Passed)
				st.Latest = a
				st.LastFinished = a.FinishedAt
				summaries = append(summaries, AttemptSummary{StartedAt: a.StartedAt, FinishedAt: *a.FinishedAt, Passed: a.Passed != nil && *a.Passed})
			}
			st.NextReview = NextReview(summaries)
		}
	}
	return out, nil
}
