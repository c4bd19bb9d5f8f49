// Package audit keeps the append-only record of who changed teams,
// assignments and roles, and when, for admins to list.
package audit

import (
	"context"
	"encoding/json"
	"time"

	"gorm.io/gorm"
)

// Execer runs one statement ($n placeholders) in the caller's transaction;
// database.GormExec and database.PgxExec make one.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) error
}

// Entry is one change to record.
type Entry struct {
	ActorID string // empty: no actor (the system)
	Action  string // e.g. "team.create"
	Subject string // e.g. "team:<id>"
	Details map[string]any
}

// Append records one entry through x, inside the caller's transaction so the
// entry and the change it describes commit together.
func Append(ctx context.Context, x Execer, e Entry) error {
	details := e.Details
	if details == nil {
		details = map[string]any{}
	}
	b, err := json.Marshal(details)
	if err != nil {
		return err
	}
	var actor *string
	if e.ActorID != "" {
		actor = &e.ActorID
	}
	return x.Exec(ctx, `INSERT INTO audit_events (actor_id, action, subject, details) VALUES ($1, $2, $3, $4)`,
		actor, e.Action, e.Subject, string(b))
}

// Event is one audit record as listed.
type Event struct {
	ID         int64           `json:"id"`
	At         time.Time       `json:"at"`
	ActorID    *string         `json:"actor_id"`
	ActorEmail *string         `json:"actor_email"`
	Action     string          `json:"action"`
	Subject    string          `json:"subject"`
	Details    json.RawMessage `json:"details"`
}

// DefaultLimit and MaxLimit bound one page of List.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// List answers the newest events first, those with an id below before (0:
// from the newest), at most limit of them (0 or out of range: DefaultLimit).
func List(ctx context.Context, db *gorm.DB, before int64, limit int) ([]Event, error) {
	if limit <= 0 || limit > MaxLimit {
		limit = DefaultLimit
	}
	if before <= 0 {
		before = 1<<62 - 1
	}
	events := []Event{}
	err := db.WithContext(ctx).Raw(`
		SELECT e.id, e.at, e.actor_id, u.email AS actor_email, e.action, e.subject, e.details
		FROM audit_events e LEFT JOIN users u ON u.id = e.actor_id
		WHERE e.id < ? ORDER BY e.id DESC LIMIT ?`, before, limit).Scan(&events).Error
	return events, err
}
