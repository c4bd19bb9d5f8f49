package database

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"gorm.io/gorm"
)

// Reads routes the reads that may lag (lesson pages, module progress, team
// progress and analytics, the CSV export) to a streaming replica, and every
// other read to the primary. Stores that may read stale data take a Reads
// explicitly; everything else keeps using the primary's DB.
//
// Read-your-writes is kept by a window, not by LSNs: a learner who wrote
// (any unsafe request) reads from the primary for MaxLag plus one probe
// interval afterwards. Within that time a replica trusted by the probe has
// replayed the write. Comparing the replica's replay LSN with the write's
// commit LSN would be exact, but costs a statement after every write (on
// the answer path, which is measured in statements) and one before every
// read; the window costs none. The window is kept per instance: behind a
// balancer without sticky sessions a learner's next read may reach another
// instance, which then relies on the lag bound alone (docs/operations.md).
type Reads struct {
	primary *DB
	replica *DB // nil: no replica configured, every read goes to primary
	maxLag  time.Duration
	every   time.Duration

	lagMillis atomic.Int64 // the replica's replay lag at the last probe
	healthy   atomic.Bool  // the replica answered the last probe within maxLag

	mu     sync.Mutex
	wrote  map[string]time.Time // user id → until when their reads stay on the primary
	served atomic.Int64         // reads the replica answered (tests and metrics)
	stop   context.CancelFunc
}

// DefaultMaxLag is how far behind the replica may be before reads leave it.
const DefaultMaxLag = 5 * time.Second

// probeEvery is how often the replica's lag is measured.
const probeEvery = time.Second

// NewReads routes reads between primary and replica (nil: primary only).
// With a replica it probes the replica's lag until Close.
func NewReads(primary, replica *DB, maxLag time.Duration) *Reads {
	r := &Reads{primary: primary, replica: replica, maxLag: maxLag, every: probeEvery, wrote: map[string]time.Time{}}
	if replica == nil {
		return r
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	r.probe(ctx)
	go func() {
		t := time.NewTicker(r.every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				r.probe(ctx)
			}
		}
	}()
	return r
}

// Close stops the probe; it closes neither pool.
func (r *Reads) Close() {
	if r.stop != nil {
		r.stop()
	}
}

// lagQuery is the replica's replay lag: zero when it has replayed all it
// received (an idle primary sends nothing, and the last replay timestamp
// then ages without the replica falling behind), else the age of the last
// transaction it replayed. A server that is not in recovery is no replica.
const lagQuery = `SELECT pg_is_in_recovery(),
  CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
       ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END::float8`

func (r *Reads) probe(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, r.every)
	defer cancel()
	var recovering bool
	var lag float64
	if err := r.replica.Pool.QueryRow(ctx, lagQuery).Scan(&recovering, &lag); err != nil || !recovering {
		r.healthy.Store(false)
		return
	}
	r.lagMillis.Store(int64(math.Round(lag * 1000)))
	r.healthy.Store(lag <= r.maxLag.Seconds())
}

// Replica is what /readyz and /metrics report: whether a replica is
// configured, its lag at the last probe, and whether reads go to it.
type Replica struct {
	LagSeconds float64 `json:"lag_seconds"`
	OK         bool    `json:"ok"`
}

// Replica reports the replica's state; configured is false without one.
func (r *Reads) Replica() (state Replica, configured bool) {
	if r.replica == nil {
		return Replica{}, false
	}
	return Replica{LagSeconds: float64(r.lagMillis.Load()) / 1000, OK: r.healthy.Load()}, true
}

// ReplicaReads is how many reads the replica has answered.
func (r *Reads) ReplicaReads() int64 { return r.served.Load() }

// Wrote keeps userID's reads on the primary for the read-your-writes window.
func (r *Reads) Wrote(userID string) {
	if r.replica == nil || userID == "" {
		return
	}
	until := time.Now().Add(r.maxLag + r.every)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.wrote[userID] = until
	// The map holds only users inside their window: prune now and then
	// rather than with a timer.
	if len(r.wrote) > 1024 {
		now := time.Now()
		for id, t := range r.wrote {
			if t.Before(now) {
				delete(r.wrote, id)
			}
		}
	}
}

type primaryKey struct{}

// ForUser marks ctx so its reads go to the primary when userID wrote inside
// the read-your-writes window.
func (r *Reads) ForUser(ctx context.Context, userID string) context.Context {
	if r.replica == nil {
		return ctx
	}
	r.mu.Lock()
	until, ok := r.wrote[userID]
	r.mu.Unlock()
	if ok && time.Now().Before(until) {
		return context.WithValue(ctx, primaryKey{}, true)
	}
	return ctx
}

// pick is the pool a read of ctx goes to.
func (r *Reads) pick(ctx context.Context) (db *DB, replica bool) {
	if r.replica == nil || !r.healthy.Load() || ctx.Value(primaryKey{}) != nil {
		return r.primary, false
	}
	return r.replica, true
}

// Gorm runs read on the replica when it may serve ctx, else on the
// primary. A replica that fails the read (it went down since the last
// probe) is not trusted again until a probe says so, and the read is run on
// the primary: the caller never sees the replica's failure.
func (r *Reads) Gorm(ctx context.Context, read func(*gorm.DB) error) error {
	db, replica := r.pick(ctx)
	err := read(db.Gorm.WithContext(ctx))
	if !replica {
		return err
	}
	if err == nil || errors.Is(err, gorm.ErrRecordNotFound) || ctx.Err() != nil {
		r.served.Add(1)
		return err
	}
	r.healthy.Store(false)
	return read(r.primary.Gorm.WithContext(ctx))
}

// Pool is Gorm for reads written against the pgx pool.
func (r *Reads) Pool(ctx context.Context, read func(*pgxpool.Pool) error) error {
	db, replica := r.pick(ctx)
	err := read(db.Pool)
	if !replica {
		return err
	}
	if err == nil || errors.Is(err, pgx.ErrNoRows) || ctx.Err() != nil {
		r.served.Add(1)
		return err
	}
	r.healthy.Store(false)
	return read(r.primary.Pool)
}
