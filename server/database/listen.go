package database

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Listener is told what arrives on a LISTEN channel and when it may have
// missed something.
type Listener struct {
	// Notify gets each notification's payload, in commit order.
	Notify func(payload string)
	// Up is called each time LISTEN is in place (first and after every
	// reconnect): from then on nothing committed is missed.
	Up func()
	// Down is called when the connection is lost: until the next Up,
	// notifications may be missed, so whoever caches on them must stop.
	Down func()
}

// Listen keeps a dedicated connection (outside the pool, so it takes no
// request's slot; to the primary itself when the pool goes through a
// pooler, where LISTEN would not hold) listening on channel until ctx ends,
// reconnecting with backoff. It returns at once; ready is closed after the first Up, or when
// ctx ends first.
func (db *DB) Listen(ctx context.Context, channel string, l Listener, log *slog.Logger) (ready <-chan struct{}) {
	readyCh := make(chan struct{})
	go func() {
		first := true
		markUp := func() {
			l.Up()
			if first {
				first = false
				close(readyCh)
			}
		}
		defer func() {
			if first {
				close(readyCh)
			}
		}()
		backoff := 100 * time.Millisecond
		for ctx.Err() == nil {
			err := db.listenOnce(ctx, channel, l, markUp)
			if ctx.Err() != nil {
				return
			}
			l.Down()
			log.Warn("notification listener lost its connection; caches off until it is back", "channel", channel, "error", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
		}
	}()
	return readyCh
}

// listenOnce runs one connection's life: LISTEN, then deliver until an error.
func (db *DB) listenOnce(ctx context.Context, channel string, l Listener, up func()) error {
	cfg := db.direct.Copy()
	connectCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	conn, err := pgx.ConnectConfig(connectCtx, cfg)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.Background()) //nolint:errcheck // the connection is being dropped
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	up()
	for {
		// A connection that died without a word (a partition) would wait
		// forever: every so often, check that it still answers.
		waitCtx, cancel := context.WithTimeout(ctx, listenProbe)
		n, err := conn.WaitForNotification(waitCtx)
		cancel()
		switch {
		case err == nil:
			l.Notify(n.Payload)
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
			probeCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := conn.Exec(probeCtx, "SELECT 1")
			cancel()
			if err != nil {
				return err
			}
		default:
			return err
		}
	}
}

// listenProbe is how long a listener waits in silence before checking that
// its connection still answers.
const listenProbe = 15 * time.Second
