package quizzes

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Reads runs a read that may lag on a replica or the primary, whichever may
// serve the request of ctx (database.Reads).
type Reads interface {
	Pool(ctx context.Context, read func(*pgxpool.Pool) error) error
}

// StatusesVia is Statuses read through reads: team progress and the module
// overview may lag behind the last answer by the replica's bound.
func (s *Store) StatusesVia(ctx context.Context, reads Reads, userIDs []string) (map[string]map[string]*Status, error) {
	var out map[string]map[string]*Status
	err := reads.Pool(ctx, func(pool *pgxpool.Pool) error {
		var err error
		out, err = statusesOn(ctx, pool, userIDs)
		return err
	})
	return out, err
}
