package lessons

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"gorm.io/gorm"
)

// Sync writes the course into PostgreSQL: modules and lessons are upserted,
// a lesson whose file changed gets a new version, and what the content no
// longer has is retired. It is idempotent, and instances starting together
// take turns on an advisory lock.
func Sync(ctx context.Context, db *gorm.DB, c *Course) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext('baton.content_sync'))").Error; err != nil {
			return err
		}
		moduleSlugs := make([]string, 0, len(c.Modules))
		for _, m := range c.Modules {
			moduleSlugs = append(moduleSlugs, m.Slug)
			err := tx.Exec(`INSERT INTO modules (slug, title, summary, position) VALUES (?, ?, ?, ?)
				ON CONFLICT (slug) DO UPDATE SET title = EXCLUDED.title, summary = EXCLUDED.summary,
				  position = EXCLUDED.position, retired_at = NULL, updated_at = now()
				WHERE (modules.title, modules.summary, modules.position) IS DISTINCT FROM (EXCLUDED.title, EXCLUDED.summary, EXCLUDED.position)
				   OR modules.retired_at IS NOT NULL`,
				m.Slug, m.Title, m.Summary, m.Position).Error
			if err != nil {
				return err
			}
		}
		lessonSlugs := make([]string, 0, len(c.order))
		for _, l := range c.order {
			lessonSlugs = append(lessonSlugs, l.Slug)
			err := tx.Exec(`INSERT INTO lessons (slug, module_slug, title, minutes, position, content_hash) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (slug) DO UPDATE SET module_slug = EXCLUDED.module_slug, title = EXCLUDED.title,
				  minutes = EXCLUDED.minutes, position = EXCLUDED.position, content_hash = EXCLUDED.content_hash,
				  version = lessons.version + CASE WHEN lessons.content_hash = EXCLUDED.content_hash THEN 0 ELSE 1 END,
				  retired_at = NULL, updated_at = now()
				WHERE lessons.content_hash <> EXCLUDED.content_hash OR lessons.retired_at IS NOT NULL
				   OR (lessons.module_slug, lessons.position) IS DISTINCT FROM (EXCLUDED.module_slug, EXCLUDED.position)`,
				l.Slug, l.Module.Slug, l.Title, l.Minutes, l.Position, l.Hash).Error
			if err != nil {
				return err
			}
		}
		if err := tx.Exec(`UPDATE lessons SET retired_at = now() WHERE retired_at IS NULL AND slug NOT IN ?`, lessonSlugs).Error; err != nil {
			return err
		}
		return tx.Exec(`UPDATE modules SET retired_at = now() WHERE retired_at IS NULL AND slug NOT IN ?`, moduleSlugs).Error
	})
}

// Progress is a learner's reading progress on one lesson.
type Progress struct {
	LessonSlug  string     `json:"-"`
	Percent     int        `json:"percent"`
	Completed   bool       `json:"completed"`
	CompletedAt *time.Time `json:"completed_at"`
}

// Store records learners' progress, quick-check answers and reflections.
type Store struct {
	db    *gorm.DB
	pool  *pgxpool.Pool // the connections beneath db, queried directly on every lesson view
	reads Reads         // where the reads that may lag go; nil: db and pool
}

// Reads runs a read that may lag on a replica or the primary, whichever
// may serve the request of ctx (database.Reads).
type Reads interface {
	Gorm(ctx context.Context, read func(*gorm.DB) error) error
	Pool(ctx context.Context, read func(*pgxpool.Pool) error) error
}

// ReadsFrom sends the lesson page's and the progress reads to r.
func (s *Store) ReadsFrom(r Reads) { s.reads = r }

func (s *Store) readGorm(ctx context.Context, read func(*gorm.DB) error) error {
	if s.reads == nil {
		return read(s.db.WithContext(ctx))
	}
	return s.reads.Gorm(ctx, read)
}

func (s *Store) readPool(ctx context.Context, read func(*pgxpool.Pool) error) error {
	if s.reads == nil {
		return read(s.pool)
	}
	return s.reads.Pool(ctx, read)
}

// NewStore makes a store on db and the pool beneath it.
func NewStore(db *gorm.DB, pool *pgxpool.Pool) *Store {
	return &Store{db: db, pool: pool}
}

// AllProgress returns the learner's progress on every lesson they started,
// by slug, in one query.
func (s *Store) AllProgress(ctx context.Context, userID string) (map[string]Progress, error) {
	all, err := s.ProgressFor(ctx, []string{userID})
	if err != nil {
		return nil, err
	}
	if all[userID] == nil {
		return map[string]Progress{}, nil
	}
	return all[userID], nil
}

type progressRow struct {
	UserID      string
	LessonSlug  string
	Percent     int
	CompletedAt *time.Time
}

// ProgressFor returns progress for several learners at once (one query),
// by user id and lesson slug.
func (s *Store) ProgressFor(ctx context.Context, userIDs []string) (map[string]map[string]Progress, error) {
	var rows []progressRow
	out := make(map[string]map[string]Progress, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	err := s.readGorm(ctx, func(db *gorm.DB) error {
		rows = rows[:0]
		return db.Raw(`SELECT user_id, lesson_slug, percent, completed_at FROM lesson_progress WHERE user_id IN ?`, userIDs).
			Scan(&rows).Error
	})
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if out[r.UserID] == nil {
			out[r.UserID] = map[string]Progress{}
		}
		out[r.UserID][r.LessonSlug] = Progress{LessonSlug: r.LessonSlug, Percent: r.Percent, Completed: r.CompletedAt != nil, CompletedAt: r.CompletedAt}
	}
	return out, nil
}

// SaveProgress records reading progress. It never goes backwards: a lower
// percent leaves the stored value, and 100 completes the lesson once.
func (s *Store) SaveProgress(ctx context.Context, userID, slug string, percent int) (Progress, error) {
	var row progressRow
	err := s.pool.QueryRow(ctx, `
		INSERT INTO lesson_progress AS p (user_id, lesson_slug, percent, completed_at)
		VALUES ($1, $2, $3::int, CASE WHEN $3::int = 100 THEN now() END)
		ON CONFLICT (user_id, lesson_slug) DO UPDATE SET
		  percent = GREATEST(p.percent, EXCLUDED.percent),
		  completed_at = COALESCE(p.completed_at, EXCLUDED.completed_at),
		  updated_at = now()
		RETURNING percent, completed_at`, userID, slug, percent).Scan(&row.Percent, &row.CompletedAt)
	if err != nil {
		return Progress{}, err
	}
	return Progress{LessonSlug: slug, Percent: row.Percent, Completed: row.CompletedAt != nil, CompletedAt: row.CompletedAt}, nil
}

// CheckAnswer is a learner's latest answer to a quick check.
type CheckAnswer struct {
	CheckID string `json:"check_id"`
	Option  string `json:"option"`
	Correct bool   `json:"correct"`
	Answers int    `json:"answers"`
	FirstOK bool   `json:"first_correct"`
}

// ReflectionText is what a learner wrote for a reflection prompt.
type ReflectionText struct {
	PromptID  string    `json:"prompt_id"`
	Body      string    `json:"body"`
	UpdatedAt time.Time `json:"updated_at"`
}

// LessonState is everything a learner has done on one lesson.
type LessonState struct {
	Progress    Progress
	Checks      map[string]CheckAnswer
	Reflections map[string]ReflectionText
}

// State loads a learner's progress, answers and reflections for a lesson in
// one round trip: the lesson page is the hottest read in the product.
func (s *Store) State(ctx context.Context, userID, slug string) (LessonState, error) {
	var row struct {
		Percent     *int
		CompletedAt *time.Time
		Checks      []byte
		Reflections []byte
	}
	// Straight to the pool: this read runs on every lesson view.
	err := s.readPool(ctx, func(pool *pgxpool.Pool) error {
		return pool.QueryRow(ctx, `
		SELECT p.percent, p.completed_at,
		  (SELECT json_agg(json_build_object('check_id', check_id, 'option', last_option, 'correct', last_correct,
		                   'answers', answers, 'first_correct', first_correct))
		     FROM quick_check_answers WHERE user_id = $1 AND lesson_slug = $2) AS checks,
		  (SELECT json_agg(json_build_object('prompt_id', prompt_id, 'body', body, 'updated_at', updated_at))
		     FROM reflections WHERE user_id = $1 AND lesson_slug = $2) AS reflections
		FROM (SELECT 1) AS one
		LEFT JOIN lesson_progress p ON p.user_id = $1 AND p.lesson_slug = $2`, userID, slug).
			Scan(&row.Percent, &row.CompletedAt, &row.Checks, &row.Reflections)
	})
	if err != nil {
		return LessonState{}, err
	}
	st := LessonState{Checks: map[string]CheckAnswer{}, Reflections: map[string]ReflectionText{}}
	if row.Percent != nil {
		st.Progress = Progress{LessonSlug: slug, Percent: *row.Percent, Completed: row.CompletedAt != nil, CompletedAt: row.CompletedAt}
	}
	var checks []CheckAnswer
	var refl []ReflectionText
	if len(row.Checks) > 0 {
		if err := json.Unmarshal(row.Checks, &checks); err != nil {
			return st, err
		}
	}
	if len(row.Reflections) > 0 {
		if err := json.Unmarshal(row.Reflections, &refl); err != nil {
			return st, err
		}
	}
	for _, c := range checks {
		st.Checks[c.CheckID] = c
	}
	for _, r := range refl {
		st.Reflections[r.PromptID] = r
	}
	return st, nil
}

// AnswerCheck records an answer to a quick check; the first answer stays as
// the learner's baseline.
func (s *Store) AnswerCheck(ctx context.Context, userID, slug, checkID, option string, correct bool) (CheckAnswer, error) {
	var a CheckAnswer
	err := s.db.WithContext(ctx).Raw(`
		INSERT INTO quick_check_answers AS a (user_id, lesson_slug, check_id, first_option, first_correct, last_option, last_correct)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (user_id, lesson_slug, check_id) DO UPDATE SET
		  last_option = EXCLUDED.last_option, last_correct = EXCLUDED.last_correct,
		  answers = a.answers + 1, last_answered_at = now()
		RETURNING check_id, last_option AS option, last_correct AS correct, answers, first_correct AS first_ok`,
		userID, slug, checkID, option, correct, option, correct).Scan(&a).Error
	return a, err
}

// MaxReflection is the longest reflection kept, in characters.
const MaxReflection = 10000

// SaveReflection stores the learner's private answer to a prompt.
func (s *Store) SaveReflection(ctx context.Context, userID, slug, promptID, body string) (ReflectionText, error) {
	body = strings.ReplaceAll(body, "\x00", "")
	var r ReflectionText
	err := s.db.WithContext(ctx).Raw(`
		INSERT INTO reflections (user_id, lesson_slug, prompt_id, body) VALUES (?, ?, ?, ?)
		ON CONFLICT (user_id, lesson_slug, prompt_id) DO UPDATE SET body = EXCLUDED.body, updated_at = now()
		RETURNING prompt_id, body, updated_at`, userID, slug, promptID, body).Scan(&r).Error
	return r, err
}

// MaxPracticeNote is the longest note kept on a practice task, in characters.
const MaxPracticeNote = 2000

// PracticeDone is a learner's practice task of a module, marked done.
type PracticeDone struct {
	UserID string    `json:"-"`
	Module string    `json:"module"`
	Note   string    `json:"note"`
	Shared bool      `json:"shared"`
	DoneAt time.Time `json:"done_at"`
}

// MarkPracticeDone records (or rewrites) the learner's practice task of a
// module as done, with their note and whether their managers may read it.
func (s *Store) MarkPracticeDone(ctx context.Context, userID, module, note string, shared bool) (PracticeDone, error) {
	note = strings.ReplaceAll(note, "\x00", "")
	var d PracticeDone
	err := s.db.WithContext(ctx).Raw(`
		INSERT INTO practice_tasks (user_id, module_slug, note, shared) VALUES (?, ?, ?, ?)
		ON CONFLICT (user_id, module_slug) DO UPDATE SET note = EXCLUDED.note, shared = EXCLUDED.shared, done_at = now()
		RETURNING user_id, module_slug AS module, note, shared, done_at`, userID, module, note, shared).Scan(&d).Error
	return d, err
}

// ClearPractice marks the learner's practice task of a module not done.
func (s *Store) ClearPractice(ctx context.Context, userID, module string) error {
	return s.db.WithContext(ctx).Exec(`DELETE FROM practice_tasks WHERE user_id = ? AND module_slug = ?`, userID, module).Error
}

// Practice is the learner's practice task of a module, if marked done.
func (s *Store) Practice(ctx context.Context, userID, module string) (*PracticeDone, error) {
	var rows []PracticeDone
	err := s.db.WithContext(ctx).Raw(`SELECT user_id, module_slug AS module, note, shared, done_at FROM practice_tasks
		WHERE user_id = ? AND module_slug = ?`, userID, module).Scan(&rows).Error
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return &rows[0], nil
}

// SharedPractice is the practice notes the learners in userIDs chose to
// share, by user id, oldest first: what their managers see.
func (s *Store) SharedPractice(ctx context.Context, userIDs []string) (map[string][]PracticeDone, error) {
	out := map[string][]PracticeDone{}
	if len(userIDs) == 0 {
		return out, nil
	}
	var rows []PracticeDone
	err := s.readGorm(ctx, func(db *gorm.DB) error {
		rows = rows[:0]
		return db.Raw(`SELECT user_id, module_slug AS module, note, shared, done_at FROM practice_tasks
			WHERE user_id IN ? AND shared ORDER BY done_at`, userIDs).Scan(&rows).Error
	})
	for _, r := range rows {
		out[r.UserID] = append(out[r.UserID], r)
	}
	return out, err
}

// CheckTotals is how a learner did on the quick checks on their first try,
// which is what counts: later answers are for understanding.
type CheckTotals struct {
	Answered     int `json:"answered"`
	FirstCorrect int `json:"first_correct"`
	Of           int `json:"of"` // checks in the course
}

// CheckTotalsFor counts, per learner in userIDs, the checks answered and
// those right on the first answer (one query).
func (s *Store) CheckTotalsFor(ctx context.Context, userIDs []string) (map[string]CheckTotals, error) {
	out := map[string]CheckTotals{}
	if len(userIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		UserID       string
		Answered     int
		FirstCorrect int
	}
	err := s.readGorm(ctx, func(db *gorm.DB) error {
		rows = rows[:0]
		return db.Raw(`SELECT user_id, count(*) AS answered, count(*) FILTER (WHERE first_correct) AS first_correct
			FROM quick_check_answers WHERE user_id IN ? GROUP BY user_id`, userIDs).Scan(&rows).Error
	})
	for _, r := range rows {
		out[r.UserID] = CheckTotals{Answered: r.Answered, FirstCorrect: r.FirstCorrect}
	}
	return out, err
}
