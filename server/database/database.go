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
	"strings"
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
//
// The pool may go through a pooler in transaction mode (PgBouncer): then
// what needs a session of its own (LISTEN, the migrations' session advisory
// locks) connects to the primary directly instead (see OpenPooled).
type DB struct {
	Pool *pgxpool.Pool
	Gorm *gorm.DB
	SQL  *sql.DB

	statements *statementCounter
	// direct is where session-bound work connects: the pool's own server,
	// or the primary behind the pooler.
	direct *pgx.ConnConfig
	pooled bool
}

// PoolSize is both the open and idle connection limit. On two cores 16 beats
// both 8 and 64; setting idle to the same value stops connection churn.
const PoolSize = 16

// Open connects to PostgreSQL and checks that it answers within timeout.
func Open(ctx context.Context, databaseURL string, timeout time.Duration) (*DB, error) {
	return open(ctx, databaseURL, timeout, true)
}

// OpenPooled opens the pool through a pooler in transaction mode at
// poolerURL, with directURL (the primary itself) for the work that needs
// a session: LISTEN and the migrations' advisory locks. In transaction
// mode consecutive transactions may run on different server connections
// and PgBouncer 1.18 does not carry named prepared statements across, so
// unless poolerURL names a default_query_exec_mode the pool uses
// cache_describe: statements go out unnamed (Parse, Bind, Execute in one
// round trip) with the parameter and result types pgx learnt once per
// connection, so values keep their binary encoding and types.
func OpenPooled(ctx context.Context, poolerURL, directURL string, timeout time.Duration) (*DB, error) {
	direct, err := pgx.ParseConfig(directURL)
	if err != nil {
		return nil, fmt.Errorf("BATON_DIRECT_DATABASE_URL is not a valid PostgreSQL URL: %w", err)
	}
	direct.ConnectTimeout = timeout
	db, err := openWith(ctx, poolerURL, timeout, true, func(cfg *pgxpool.Config) error {
		mode, err := PooledQueryMode(poolerURL)
		if err != nil {
			return err
		}
		cfg.ConnConfig.DefaultQueryExecMode = mode
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := sameDatabase(ctx, db.Pool, direct, timeout); err != nil {
		_ = db.Close()
		return nil, err
	}
	db.direct, db.pooled = direct, true
	return db, nil
}

// sameDatabase checks that direct reaches the database the pool serves, on
// the primary: a direct URL naming another database (a staging one on the
// same server) or a standby would take the migrations and the LISTEN
// connection away from it, and revocations notified in the served database
// would never arrive.
func sameDatabase(ctx context.Context, pool *pgxpool.Pool, direct *pgx.ConnConfig, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	const which = `SELECT current_database(), (SELECT system_identifier FROM pg_control_system()), pg_is_in_recovery()`
	var served, reached string
	var servedID, reachedID int64
	var standby bool
	if err := pool.QueryRow(ctx, which).Scan(&served, &servedID, &standby); err != nil {
		return fmt.Errorf("cannot tell which database DATABASE_URL serves: %s", rootCause(err))
	}
	conn, err := pgx.ConnectConfig(ctx, direct)
	if err != nil {
		return fmt.Errorf("cannot reach the primary at %s (BATON_DIRECT_DATABASE_URL): %s", describe(direct), rootCause(err))
	}
	defer conn.Close(context.Background()) //nolint:errcheck // a one-question connection
	if err := conn.QueryRow(ctx, which).Scan(&reached, &reachedID, &standby); err != nil {
		return fmt.Errorf("cannot tell which database BATON_DIRECT_DATABASE_URL reaches: %s", rootCause(err))
	}
	switch {
	case standby:
		return fmt.Errorf("BATON_DIRECT_DATABASE_URL reaches a standby at %s: it must be the primary behind DATABASE_URL's pooler", describe(direct))
	case reached != served || reachedID != servedID:
		return fmt.Errorf("BATON_DIRECT_DATABASE_URL reaches database %q at %s, not the database %q that DATABASE_URL's pooler serves", reached, describe(direct), served)
	}
	return nil
}

// PooledQueryMode is the query mode a pool through a transaction-mode
// pooler uses: the one poolerURL names, or cache_describe. Naming
// cache_statement is an error, as its named prepared statements would be
// looked for on server connections that never saw them.
func PooledQueryMode(poolerURL string) (pgx.QueryExecMode, error) {
	cfg, err := pgx.ParseConfig(poolerURL)
	if err != nil {
		return 0, fmt.Errorf("DATABASE_URL is not a valid PostgreSQL URL: %w", err)
	}
	if !strings.Contains(poolerURL, "default_query_exec_mode") {
		return pgx.QueryExecModeCacheDescribe, nil
	}
	if cfg.DefaultQueryExecMode == pgx.QueryExecModeCacheStatement {
		return 0, errors.New("DATABASE_URL goes through a pooler (BATON_DIRECT_DATABASE_URL is set), where default_query_exec_mode=cache_statement breaks: named prepared statements do not survive transaction pooling; use cache_describe (the default there), exec or simple_protocol")
	}
	return cfg.DefaultQueryExecMode, nil
}

// Pooled reports whether the pool goes through a transaction-mode pooler:
// nothing session-bound may then use it (the job queue polls instead of
// listening).
func (db *DB) Pooled() bool { return db.pooled }

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
	return openWith(ctx, databaseURL, timeout, ping, nil)
}

func openWith(ctx context.Context, databaseURL string, timeout time.Duration, ping bool, adjust func(*pgxpool.Config) error) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// pgconn redacts the password in its parse errors.
		return nil, fmt.Errorf("DATABASE_URL is not a valid PostgreSQL URL: %w", err)
	}
	cfg.ConnConfig.ConnectTimeout = timeout
	if adjust != nil {
		if err := adjust(cfg); err != nil {
			return nil, err
		}
	}
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
	direct := cfg.ConnConfig.Copy()
	direct.Tracer = nil // session-bound work is no request's statement
	return &DB{Pool: pool, Gorm: gdb, SQL: sqlDB, statements: counter, direct: direct}, nil
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
// lock; the second finds nothing left to do. The lock is a session advisory
// lock, so behind a pooler the migrations run on a connection of their own
// to the primary.
func Migrate(ctx context.Context, db *DB, log *slog.Logger) error {
	if !db.pooled {
		return migrate(ctx, db.SQL, db.Pool, log)
	}
	pcfg, err := pgxpool.ParseConfig("")
	if err != nil {
		return err
	}
	pcfg.ConnConfig = db.direct.Copy()
	pcfg.MaxConns = 2 // goose's locked session, and River's
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return fmt.Errorf("migrations: cannot reach the primary at %s: %s", describe(db.direct), rootCause(err))
	}
	defer pool.Close()
	sqlDB := stdlib.OpenDBFromPool(pool)
	defer sqlDB.Close()
	return migrate(ctx, sqlDB, pool, log)
}

func migrate(ctx context.Context, sqlDB *sql.DB, pool *pgxpool.Pool, log *slog.Logger) error {
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
	return migrateRiver(ctx, pool, log)
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
