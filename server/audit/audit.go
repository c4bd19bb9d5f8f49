// Package audit keeps the append-only record of who changed teams,
// assignments and roles, and when, for admins to list.
package audit

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"
)

// Record appends one event, inside the caller's transaction so the event and
// the change it describes commit together.
func Record(tx *gorm.DB, actorID, action, subject string, details map[string]any) error {
	if details == nil {
		details = map[string]any{}
	}
	b, err := json.Marshal(details)
	if err != nil {
		return err
	}
	return tx.Exec(`INSERT INTO audit_events (actor_id, action, subject, details) VALUES (?, ?, ?, ?)`,
		actorID, action, subject, string(b)).Error
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

// List answers the newest events first (?limit, default 100, at most 1000;
// ?before=<id> pages back).
func List(db *gorm.DB) echo.HandlerFunc {
	return func(c echo.Context) error {
		limit, _ := strconv.Atoi(c.QueryParam("limit"))
		if limit <= 0 || limit > 1000 {
			limit = 100
		}
		before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
		if before <= 0 {
			before = 1<<62 - 1
		}
		events := []Event{}
		err := db.WithContext(c.Request().Context()).Raw(`
			SELECT e.id, e.at, e.actor_id, u.email AS actor_email, e.action, e.subject, e.details
			FROM audit_events e LEFT JOIN users u ON u.id = e.actor_id
			WHERE e.id < ? ORDER BY e.id DESC LIMIT ?`, before, limit).Scan(&events).Error
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, events)
	}
}
