// Package export gathers everything Baton holds about one person into one
// JSON document, for the person to download (the right of access). Each
// part of the document is one query over the person's rows; a new table
// with personal data gets a new entry in sections.
package export

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/baton-course/baton/quizzes"
)

// Service builds export documents.
type Service struct {
	db  *gorm.DB
	cat *quizzes.Catalog
}

// New builds the service; the catalog turns stored choice ids into the
// words the person chose.
func New(db *gorm.DB, cat *quizzes.Catalog) *Service { return &Service{db: db, cat: cat} }

// section is one part of the document: a query whose rows (with $1, the
// person's id, as its only parameter, written ?) become a JSON array, or an
// object when one is true. A section with a table runs only when that table
// exists, so parts other changes add (invitations, device cookies) come and
// go with their migrations.
type section struct {
	name, table, query string
	one                bool
}

var sections = []section{
	{name: "profile", one: true, query: `SELECT id, email, name, role, email_verified_at IS NOT NULL AS email_verified,
		email_verified_at, created_at, updated_at FROM users WHERE id = ?`},
	{name: "sessions", query: `SELECT id, created_at, last_used_at, expires_at, revoked_at, revoked_reason, user_agent
		FROM sessions WHERE user_id = ? ORDER BY created_at`},
	{name: "lesson_progress", query: `SELECT lesson_slug, percent, completed_at, updated_at
		FROM lesson_progress WHERE user_id = ? ORDER BY lesson_slug`},
	{name: "quick_check_answers", query: `SELECT lesson_slug, check_id, first_option, first_correct, last_option, last_correct,
		answers, first_answered_at, last_answered_at FROM quick_check_answers WHERE user_id = ? ORDER BY lesson_slug, check_id`},
	{name: "reflections", query: `SELECT lesson_slug, prompt_id, body, updated_at
		FROM reflections WHERE user_id = ? ORDER BY lesson_slug, prompt_id`},
	{name: "scenario_standings", query: `SELECT quiz_slug, attempts_used, first_percent, best_percent, passed, last_finished_at,
		latest_vision, latest_alignment, latest_inspiration, review_due_at, review_streak
		FROM scenario_standings WHERE user_id = ? ORDER BY quiz_slug`},
	{name: "practice_runs", query: `SELECT id, attempt_id, quiz_slug, scenario_version, variant, from_position, from_step, status,
		answers, ending_id, percent, passed, vision, alignment, inspiration, started_at, finished_at
		FROM practice_runs WHERE user_id = ? ORDER BY started_at`},
	{name: "job_aid_practice", query: `SELECT module_slug, note, shared, done_at
		FROM practice_tasks WHERE user_id = ? ORDER BY module_slug`},
	{name: "team_memberships", query: `SELECT t.id AS team_id, t.name AS team_name, m.joined_at
		FROM team_members m JOIN teams t ON t.id = m.team_id WHERE m.user_id = ? ORDER BY m.joined_at`},
	{name: "teams_managed", query: `SELECT id, name, created_at FROM teams WHERE manager_id = ? ORDER BY created_at`},
	{name: "assignments", query: `SELECT id, module_slug, due_at, team_id, created_at, updated_at, cancelled_at
		FROM assignments WHERE user_id = ? ORDER BY created_at`},
	{name: "notifications", query: `SELECT id, kind, title, body, link, created_at, read_at, email_status
		FROM notifications WHERE user_id = ? ORDER BY created_at`},
	{name: "invitations", table: "team_invitations", query: `SELECT i.id, t.name AS team_name, i.created_at, i.expires_at,
		i.answered_at, i.answer FROM team_invitations i JOIN teams t ON t.id = i.team_id
		WHERE i.email = (SELECT email FROM users WHERE id = ?) ORDER BY i.created_at`},
	{name: "devices", table: "device_tokens", query: `SELECT created_at, used_at, expires_at
		FROM device_tokens WHERE user_id = ? ORDER BY created_at`},
	{name: "security_events", query: `SELECT at, action, subject, details FROM audit_events
		WHERE actor_id = ? OR subject = 'user:' || ? ORDER BY id`},
}

// Answer is one decision of an attempt, with the words of the choice.
type Answer struct {
	Position    int       `json:"position"`
	StepID      string    `json:"step_id"`
	ChoiceID    string    `json:"choice_id"`
	Choice      string    `json:"choice"`
	Vision      int       `json:"vision"`
	Alignment   int       `json:"alignment"`
	Inspiration int       `json:"inspiration"`
	AnsweredAt  time.Time `json:"answered_at"`
}

// Attempt is one scenario attempt with its answers.
type Attempt struct {
	ID              string     `json:"id"`
	QuizSlug        string     `json:"quiz_slug"`
	ScenarioVersion string     `json:"scenario_version"`
	Variant         string     `json:"variant"`
	Number          int        `json:"number"`
	Status          string     `json:"status"`
	EndingID        *string    `json:"ending_id"`
	Percent         *int       `json:"percent"`
	Passed          *bool      `json:"passed"`
	Vision          *int       `json:"vision"`
	Alignment       *int       `json:"alignment"`
	Inspiration     *int       `json:"inspiration"`
	StartedAt       time.Time  `json:"started_at"`
	FinishedAt      *time.Time `json:"finished_at"`
	Answers         []Answer   `json:"answers" gorm:"-"`
}

// For builds userID's document: an object of sections, plus attempts and
// when it was made. Every query reads in one repeatable-read transaction,
// so the parts agree with each other.
func (s *Service) For(ctx context.Context, userID string) (map[string]any, error) {
	doc := map[string]any{"exported_at": time.Now().UTC()}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY").Error; err != nil {
			return err
		}
		for _, sec := range sections {
			raw, ok, err := sec.read(tx, userID)
			if err != nil {
				return fmt.Errorf("export %s: %w", sec.name, err)
			}
			if ok {
				doc[sec.name] = raw
			}
		}
		attempts, err := s.attempts(ctx, tx, userID)
		doc["attempts"] = attempts
		return err
	})
	return doc, err
}

func (sec section) read(tx *gorm.DB, userID string) (json.RawMessage, bool, error) {
	if sec.table != "" {
		var exists bool
		if err := tx.Raw(`SELECT to_regclass(?) IS NOT NULL`, sec.table).Scan(&exists).Error; err != nil || !exists {
			return nil, false, err
		}
	}
	agg := `SELECT coalesce(json_agg(row_to_json(r)), '[]'::json)::text FROM (` + sec.query + `) r`
	if sec.one {
		agg = `SELECT coalesce((SELECT row_to_json(r) FROM (` + sec.query + `) r), 'null'::json)::text`
	}
	args := []any{userID}
	if sec.name == "security_events" {
		args = append(args, userID)
	}
	var text string
	if err := tx.Raw(agg, args...).Scan(&text).Error; err != nil {
		return nil, false, err
	}
	return json.RawMessage(text), true, nil
}

// attempts reads the person's attempts with their answers, naming each
// choice in the words of the scenario version the attempt was taken on.
func (s *Service) attempts(ctx context.Context, tx *gorm.DB, userID string) ([]Attempt, error) {
	list := []Attempt{}
	if err := tx.Raw(`SELECT id, quiz_slug, scenario_version, variant, number, status, ending_id, percent, passed,
		vision, alignment, inspiration, started_at, finished_at FROM attempts WHERE user_id = ? ORDER BY started_at, number`,
		userID).Scan(&list).Error; err != nil {
		return nil, err
	}
	var answers []struct {
		AttemptID string
		Answer
	}
	if err := tx.Raw(`SELECT attempt_id, position, step_id, choice_id, vision, alignment, inspiration, answered_at
		FROM attempt_answers WHERE user_id = ? ORDER BY attempt_id, position`, userID).Scan(&answers).Error; err != nil {
		return nil, err
	}
	byID := map[string]*Attempt{}
	for i := range list {
		list[i].Answers = []Answer{}
		byID[list[i].ID] = &list[i]
	}
	for _, a := range answers {
		at, ok := byID[a.AttemptID]
		if !ok {
			continue
		}
		a.Answer.Choice = s.choiceText(ctx, at, a.StepID, a.ChoiceID)
		at.Answers = append(at.Answers, a.Answer)
	}
	return list, nil
}

// choiceText is what a choice said, or "" when its scenario version is no
// longer known (the ids stay in the export either way).
func (s *Service) choiceText(ctx context.Context, a *Attempt, stepID, choiceID string) string {
	v, err := s.cat.Pinned(ctx, a.QuizSlug, a.ScenarioVersion, a.Variant)
	if err != nil {
		return ""
	}
	step, ok := v.Steps[stepID]
	if !ok {
		return ""
	}
	c, ok := step.Choice(choiceID)
	if !ok {
		return ""
	}
	return c.Text
}
