package database

import (
	"context"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

// statementCounter counts the statements sent on every connection of the
// pool, whichever way they were sent (GORM, database/sql or pgx directly),
// so tests can prove a request's statement count is constant and the
// metrics can show it.
type statementCounter struct{ n atomic.Int64 }

// TraceQueryStart counts a statement. (The pool's liveness pings go through
// pgconn below the tracer, so they are not counted.)
func (c *statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// Statements is how many SQL statements the pool has sent since it opened.
func (db *DB) Statements() int64 { return db.statements.n.Load() }
