package quizzes

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// The hot writes and the read before a start are coalesced: the requests
// of one kind waiting at the same moment go to PostgreSQL as one statement,
// each row under its own guard, and one commit makes a batch of writes
// durable together (group commit). A lone request goes at once; while a
// batch is in flight the next one forms behind it, so no timer ever adds
// latency. Kinds: answers that move an attempt on, answers that finish one,
// the standings read before a start, and the starts' inserts.

const (
	// batchFlights is how many batches of one kind may be in flight at
	// once. One, with the next forming behind it, made the largest batches
	// and the best rate in make bench at 64 learners (2 and 4 split the same
	// answers into smaller batches and measured no better).
	batchFlights = 1
	// maxBatch bounds one statement's parameters and its locks.
	maxBatch = 256
	// batchDeadline bounds one batch, which no single request owns.
	batchDeadline = 10 * time.Second
)

// coalescer gathers waiting requests of one kind into batches and runs
// exec on each batch, which answers every request in it (out[i] is in[i]'s).
type coalescer[In, Out any] struct {
	exec func(ctx context.Context, batch []In) ([]Out, error)
	// key, when set, keeps requests with the same key out of one batch:
	// one statement changes a row once, so each must see the other's result.
	key func(In) string

	mu      sync.Mutex
	queue   []*waiting[In, Out]
	flights int

	stats BatchStats
}

// waiting is one request and, once its batch is back, its answer.
type waiting[In, Out any] struct {
	in   In
	ctx  context.Context // the request's: a request nobody waits for any more is not sent
	out  Out
	err  error
	done chan struct{}
}

// BatchStats counts the batches written so far: Requests/Batches is the
// mean batch size, Largest the largest.
type BatchStats struct {
	Batches, Requests, Largest atomic.Int64
}

func newCoalescer[In, Out any](exec func(context.Context, []In) ([]Out, error), key func(In) string) *coalescer[In, Out] {
	return &coalescer[In, Out]{exec: exec, key: key}
}

// do queues the request and waits for its batch. A request whose context
// ends first returns its error; its batch may still have written it, so the
// caller treats that like any write whose fate is unknown.
func (c *coalescer[In, Out]) do(ctx context.Context, in In) (Out, error) {
	w := &waiting[In, Out]{in: in, ctx: ctx, done: make(chan struct{})}
	c.mu.Lock()
	c.queue = append(c.queue, w)
	if c.flights < batchFlights {
		c.flights++
		go c.fly()
	}
	c.mu.Unlock()
	select {
	case <-w.done:
		return w.out, w.err
	case <-ctx.Done():
		var zero Out
		return zero, ctx.Err()
	}
}

// fly sends batches until nothing is waiting.
func (c *coalescer[In, Out]) fly() {
	for {
		c.mu.Lock()
		batch := c.take()
		if len(batch) == 0 {
			c.flights--
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		c.apply(batch)
	}
}

// take removes the next batch from the queue (c.mu held). Requests sharing
// a key with one already in the batch stay queued for the next, in order.
// Requests that gave up (their deadline passed while the database was away)
// leave unsent.
func (c *coalescer[In, Out]) take() []*waiting[In, Out] {
	var batch, rest []*waiting[In, Out]
	var seen map[string]bool
	if c.key != nil {
		seen = make(map[string]bool, len(c.queue))
	}
	for _, w := range c.queue {
		if err := w.ctx.Err(); err != nil {
			w.err = err
			close(w.done)
			continue
		}
		if len(batch) == maxBatch {
			rest = append(rest, w)
			continue
		}
		if c.key != nil {
			k := c.key(w.in)
			if seen[k] {
				rest = append(rest, w)
				continue
			}
			seen[k] = true
		}
		batch = append(batch, w)
	}
	c.queue = rest
	return batch
}

// apply runs the batch and answers every request in it. A statement the
// server refused (say one row breaks a constraint) changed nothing, so its
// requests still waiting are sent again one by one, each finding its own
// fate; a server that is away (connection, resources, shutdown) would
// refuse them alike, so they all hear its error at once.
func (c *coalescer[In, Out]) apply(batch []*waiting[In, Out]) {
	ctx, cancel := context.WithTimeout(context.Background(), batchDeadline)
	defer cancel()
	in := make([]In, len(batch))
	for i, w := range batch {
		in[i] = w.in
	}
	out, err := c.run(ctx, in)
	if len(batch) > 1 && refusedStatement(err) {
		for _, w := range batch {
			if err := w.ctx.Err(); err != nil {
				w.err = err
				close(w.done)
				continue
			}
			c.apply([]*waiting[In, Out]{w})
		}
		return
	}
	if err == nil && len(out) != len(batch) {
		err = errors.New("quizzes: a batch answered " + strconv.Itoa(len(out)) + " of " + strconv.Itoa(len(batch)) + " requests")
	}
	c.stats.Batches.Add(1)
	c.stats.Requests.Add(int64(len(batch)))
	for n := int64(len(batch)); ; {
		largest := c.stats.Largest.Load()
		if n <= largest || c.stats.Largest.CompareAndSwap(largest, n) {
			break
		}
	}
	for i, w := range batch {
		if err != nil {
			w.err = err
		} else {
			w.out = out[i]
		}
		close(w.done)
	}
}

// run is exec, with a panic turned into the batch's error: the batch runs
// on no request's goroutine, where the server's recovery could catch it.
func (c *coalescer[In, Out]) run(ctx context.Context, in []In) (out []Out, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("quizzes: batch failed: %v", r)
		}
	}()
	return c.exec(ctx, in)
}

// refusedStatement reports an error PostgreSQL gave the statement itself
// (a constraint, bad data, a deadlock), rather than one of a connection or
// a server that is starting, stopping or out of resources
// (SQLSTATE classes 08, 53, 57, 58).
func refusedStatement(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || len(pe.Code) < 2 {
		return false
	}
	switch pe.Code[:2] {
	case "08", "53", "57", "58":
		return false
	}
	return true
}
