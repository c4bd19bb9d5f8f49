// Package database opens Baton's PostgreSQL pool, applies the embedded
// migrations under an advisory lock, and reports whether the server is
// configured to keep what it acknowledges.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/baton-course/baton/migrations"
)

// DB is the pool Baton works with. One pgx pool holds the connections: the
// few hot paths (answering, lesson views) query it directly, and GORM and
// database/sql (migrations, health checks) borrow from it, so requests never
// use more than PoolSize connections. The job queue (River) runs on the
// same pool.
type DB struct {
	Pool *pgxpool.Pool
	Gorm *gorm.DB
	SQL  *sql.DB

	statements *statementCounter
}

// PoolSize is both the open and idle connection limit. On two cores 16 beats
// both 8 and 64; setting idle to the same value stops connection churn.
const PoolSize = 16

// Open connects to PostgreSQL and checks that it answers within timeout.
func Open(ctx context.Context, databaseURL string, timeout time.Duration) (*DB, error) {
	return open(ctx, databaseURL, timeout, true)
}

// OpenReplica opens the pool of a read replica without waiting for it to
// answer: a replica that is down at start-up must not stop Baton, whose
// reads then go to the primary until the replica answers (see Reads).
func OpenReplica(ctx context.Context, databaseURL string, timeout time.Duration) (*DB, error) {
	db, err := open(ctx, databaseURL, timeout, false)
	if err != nil {
		return nil, fmt.Errorf("BATON_READ_DATABASE_URL: %w", err)
	}
	return db, nil
}

func open(ctx context.Context, databaseURL string, timeout time.Duration, ping bool) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// pgconn redacts the password in its parse errors.
		return nil, fmt.Errorf("DATABASE_URL is not a valid PostgreSQL URL: %w", err)
	}
	cfg.ConnConfig.ConnectTimeout = timeout
	counter := &statementCounter{}
	cfg.ConnConfig.Tracer = counter
	cfg.MaxConns = PoolSize
	cfg.MaxConnIdleTime = 5 * time.Minute
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot reach PostgreSQL at %s: %s", describe(cfg.ConnConfig), rootCause(err))
	}
	// database/sql keeps no idle connections of its own: they stay in the
	// pgx pool, where the hot paths can use them too.
	sqlDB := stdlib.OpenDBFromPool(pool)
	sqlDB.SetMaxOpenConns(PoolSize)

	if ping {
		pingCtx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		if err := pool.Ping(pingCtx); err != nil {
			_ = sqlDB.Close()
			pool.Close()
			return nil, fmt.Errorf("cannot reach PostgreSQL at %s: %s", describe(cfg.ConnConfig), rootCause(err))
		}
	}
	gdb, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), &gorm.Config{
		// One explicit transaction where a write needs one; no hidden extra
		// round trips on every statement.
		SkipDefaultTransaction: true,
		Logger:                 logger.Discard,
		// A replica may be down at start-up (see OpenReplica); the primary
		// was pinged above.
		DisableAutomaticPing: !ping,
	})
	if err != nil {
		_ = sqlDB.Close()
		pool.Close()
		return nil, err
	}
	return &DB{Pool: pool, Gorm: gdb, SQL: sqlDB, statements: counter}, nil
}

// Close closes the pool.
func (db *DB) Close() error {
	err := db.SQL.Close()
	db.Pool.Close()
	return err
}

// Ping answers whether the database responds within timeout.
func (db *DB) Ping(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return db.Pool.Ping(ctx)
}

// migrationLockID is the advisory lock key that serialises migrations when
// several Baton instances start at once ("baton" in ASCII).
const migrationLockID = 0x626174_6f6e

// Migrate applies every pending migration. Concurrent callers wait for the
// lock; the second finds nothing left to do.
func Migrate(ctx context.Context, db *DB, log *slog.Logger) error {
	sqlDB := db.SQL
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID), lock.WithLockTimeout(1, 300))
	if err != nil {
		return err
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS,
		goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	for _, r := range results {
		log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	return migrateRiver(ctx, db.Pool, log)
}

// migrateRiver brings the job queue's own tables (River's) up to date. Its
// migrations each need their own transaction, so instances starting together
// are serialised by a session advisory lock held on a separate connection.
func migrateRiver(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: log})
	if err != nil {
		return err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLockID+1); err != nil {
		return err
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", migrationLockID+1) //nolint:errcheck // the session ends anyway
	res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	for _, v := range res.Versions {
		log.Info("job queue migration applied", "version", v.Version)
	}
	return nil
}

// describe names the server of a config without its password.
func describe(cfg *pgx.ConnConfig) string {
	host := cfg.Host
	if len(host) > 0 && host[0] == '/' {
		return fmt.Sprintf("unix socket in %s", host)
	}
	return fmt.Sprintf("%s:%d/%s", host, cfg.Port, cfg.Database)
}

// rootCause keeps the innermost message of a connection error, which is the
// one a person can act on ("connection refused", "password authentication
// failed"), without the URL.
func rootCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}
