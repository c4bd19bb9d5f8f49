package database

import (
	"context"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// ExecFunc runs one statement, with $n placeholders, on whatever it was made
// from: writers that must join the caller's transaction (the audit trail)
// take one, so they work with GORM and pgx transactions alike.
type ExecFunc func(ctx context.Context, sql string, args ...any) error

// Exec runs the statement.
func (f ExecFunc) Exec(ctx context.Context, sql string, args ...any) error {
	return f(ctx, sql, args...)
}

// GormExec runs statements on a GORM handle's connection: inside
// db.Transaction that is the transaction. The SQL goes to pgx's stdlib
// driver as written, so it uses $n placeholders, not GORM's ?.
func GormExec(tx *gorm.DB) ExecFunc {
	return func(ctx context.Context, sql string, args ...any) error {
		_, err := tx.Statement.ConnPool.ExecContext(ctx, sql, args...)
		return err
	}
}

// PgxExecer is what pgx.Tx, *pgx.Conn and *pgxpool.Pool have in common.
type PgxExecer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// PgxExec runs statements on a pgx transaction, connection or pool.
func PgxExec(tx PgxExecer) ExecFunc {
	return func(ctx context.Context, sql string, args ...any) error {
		_, err := tx.Exec(ctx, sql, args...)
		return err
	}
}
