package xapi

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Queued is the outbox as events, in order, for tests that build
// statements without sending them.
func Queued(ctx context.Context, pool *pgxpool.Pool) ([]Event, error) {
	rows, err := pool.Query(ctx, `SELECT id, kind, source_id, position, lesson_slug, occurred_at FROM xapi_outbox ORDER BY id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Event, error) {
		var e Event
		err := row.Scan(&e.ID, &e.Kind, &e.SourceID, &e.Position, &e.LessonSlug, &e.OccurredAt)
		return e, err
	})
}
