package quizzes

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// A batch falls back to one request at a time only when PostgreSQL refused
// the statement; a server that is away answers every request with its
// error at once, and a panic in a batch is that batch's error, not the
// process's end.
func TestCoalescerFallsBackOnlyForRefusedStatements(t *testing.T) {
	for _, tc := range []struct {
		code      string
		wantCalls int
	}{
		{"23505", 4}, // unique violation: the batch, then each of its 3 requests
		{"40P01", 4}, // deadlock
		{"57P01", 1}, // admin shutdown
		{"53300", 1}, // too many connections
		{"08006", 1}, // connection failure
	} {
		calls := 0
		c := newCoalescer(func(_ context.Context, in []int) ([]int, error) {
			calls++
			return nil, &pgconn.PgError{Code: tc.code}
		}, nil)
		batch := make([]*waiting[int, int], 3)
		for i := range batch {
			batch[i] = &waiting[int, int]{in: i, ctx: context.Background(), done: make(chan struct{})}
		}
		c.apply(batch)
		for i, w := range batch {
			var pe *pgconn.PgError
			if !errors.As(w.err, &pe) || pe.Code != tc.code {
				t.Errorf("%s: request %d got %v", tc.code, i, w.err)
			}
		}
		if calls != tc.wantCalls {
			t.Errorf("%s: %d statements, want %d", tc.code, calls, tc.wantCalls)
		}
	}
	c := newCoalescer(func(context.Context, []int) ([]int, error) { panic("boom") }, nil)
	if _, err := c.do(context.Background(), 1); err == nil {
		t.Error("a batch that panicked answered without an error")
	}
}
