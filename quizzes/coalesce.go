package quizzes

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// An answer is written together with the other answers waiting at the same
// moment (those that move an attempt on in one batch, those that finish one
// in another): one statement applies them all, each under its own guard, and one commit makes them durable
// together (group commit). A lone answer goes at once; while a batch is in
// flight the next one forms behind it, so no timer ever adds latency.

// pendingAnswer is one answer waiting for the batch that writes it.
type pendingAnswer struct {
	attemptID, userID string
	stepID, choiceID  string
	answered          int // the guard: the attempt's answer count when judged
	nextStep          string
	state             State
	points            Points
	finish            *finishing // set when the answer ends the attempt

	ctx  context.Context // the request's: an answer nobody waits for any more is not written
	won  bool            // the guard held and the answer is recorded
	err  error
	done chan struct{}
}

// finishing is what a finishing answer stores besides the answer: the
// attempt's result and the learner's standing.
type finishing struct {
	endingID   string
	result     Result
	finishedAt time.Time
	review     ReviewState
}

const (
	// answerFlights is how many batches of one kind may be in flight at
	// once. One, with the next forming behind it, made the largest batches
	// and the best rate in make bench at 64 learners (2 and 4 split the same
	// answers into smaller batches and measured no better).
	answerFlights = 1
	// maxAnswerBatch bounds one statement's parameters and its locks.
	maxAnswerBatch = 256
	// batchDeadline bounds one batch, which no single request owns.
	batchDeadline = 10 * time.Second
)

// answerBatcher gathers waiting answers into batches.
type answerBatcher struct {
	pool *pgxpool.Pool
	exec func(ctx context.Context, pool *pgxpool.Pool, batch []*pendingAnswer) ([]bool, error)

	mu      sync.Mutex
	queue   []*pendingAnswer
	flights int

	stats BatchStats
}

// BatchStats counts the batches written so far: Answers/Batches is the mean
// batch size, Largest the largest.
type BatchStats struct {
	Batches, Answers, Largest atomic.Int64
}

func newAnswerBatcher(pool *pgxpool.Pool, exec func(context.Context, *pgxpool.Pool, []*pendingAnswer) ([]bool, error)) *answerBatcher {
	return &answerBatcher{pool: pool, exec: exec}
}

// write queues the answer and waits for its batch's commit. won is false
// when the guard found the attempt moved on.
func (b *answerBatcher) write(ctx context.Context, p *pendingAnswer) (won bool, err error) {
	p.ctx, p.done = ctx, make(chan struct{})
	b.mu.Lock()
	b.queue = append(b.queue, p)
	if b.flights < answerFlights {
		b.flights++
		go b.fly()
	}
	b.mu.Unlock()
	select {
	case <-p.done:
		return p.won, p.err
	case <-ctx.Done():
		// The batch may still commit it: the caller treats this like any
		// write whose fate is unknown.
		return false, ctx.Err()
	}
}

// fly writes batches until nothing is waiting.
func (b *answerBatcher) fly() {
	for {
		b.mu.Lock()
		batch := b.take()
		if len(batch) == 0 {
			b.flights--
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		b.apply(batch)
	}
}

// take removes the next batch from the queue (b.mu held). Answers to an
// attempt already in the batch stay queued for the next one, in order: one
// statement updates a row once, so each must be judged after the other.
// Answers whose request gave up (its deadline passed while the database was
// away) leave unwritten.
func (b *answerBatcher) take() []*pendingAnswer {
	var batch, rest []*pendingAnswer
	seen := make(map[string]bool, len(b.queue))
	for _, p := range b.queue {
		if err := p.ctx.Err(); err != nil {
			p.err = err
			close(p.done)
			continue
		}
		if seen[p.attemptID] || len(batch) == maxAnswerBatch {
			rest = append(rest, p)
			continue
		}
		seen[p.attemptID] = true
		batch = append(batch, p)
	}
	b.queue = rest
	return batch
}

// apply writes the batch and answers every request in it. A statement the
// server refused (say one answer breaks a constraint) changed nothing, so
// its answers are written again one by one, each finding its own fate.
func (b *answerBatcher) apply(batch []*pendingAnswer) {
	ctx, cancel := context.WithTimeout(context.Background(), batchDeadline)
	defer cancel()
	won, err := b.exec(ctx, b.pool, batch)
	var refused *pgconn.PgError
	if len(batch) > 1 && errors.As(err, &refused) {
		for _, p := range batch {
			b.apply([]*pendingAnswer{p})
		}
		return
	}
	if err != nil {
		won = make([]bool, len(batch))
	}
	b.stats.Batches.Add(1)
	b.stats.Answers.Add(int64(len(batch)))
	for n := int64(len(batch)); ; {
		largest := b.stats.Largest.Load()
		if n <= largest || b.stats.Largest.CompareAndSwap(largest, n) {
			break
		}
	}
	for i, p := range batch {
		p.won, p.err = won[i], err
		close(p.done)
	}
}

// writeMoves is the one statement of answers that move attempts on: each input row's UPDATE holds only if its
// attempt is still open at the step and answer count it was judged against
// (rechecked after any lock wait, as READ COMMITTED does), and only the rows
// updated insert their answer, so the per-row triggers on both tables fire
// for exactly the answers that won.
func writeMoves(ctx context.Context, pool *pgxpool.Pool, batch []*pendingAnswer) ([]bool, error) {
	n := len(batch)
	var (
		ids, users, steps, choices, nexts, states = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		answered, vision, alignment, inspiration  = make([]int, n), make([]int, n), make([]int, n), make([]int, n)
	)
	for i, p := range batch {
		ids[i], users[i], steps[i], choices[i], nexts[i], states[i] = p.attemptID, p.userID, p.stepID, p.choiceID, p.nextStep, arrayLiteral(p.state)
		answered[i], vision[i], alignment[i], inspiration[i] = p.answered, p.points.Vision, p.points.Alignment, p.points.Inspiration
	}
	rows, err := pool.Query(ctx, `WITH input AS (
		  SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[], $8::int[], $9::int[], $10::int[])
		    WITH ORDINALITY AS i (id, user_id, step, answered, next_step, state, choice, vision, alignment, inspiration, ord)),
		moved AS (
		  UPDATE attempts a SET current_step = i.next_step, state = i.state::int[], answered = a.answered + 1,
		    points_vision = a.points_vision + i.vision, points_alignment = a.points_alignment + i.alignment,
		    points_inspiration = a.points_inspiration + i.inspiration
		  FROM input i
		  WHERE a.id = i.id AND a.user_id = i.user_id AND a.status = 'in_progress' AND a.current_step = i.step AND a.answered = i.answered
		  RETURNING i.ord, a.id, a.answered, a.user_id, a.quiz_slug, a.scenario_version, i.step, i.choice, i.vision, i.alignment, i.inspiration),
		ins AS (
		  INSERT INTO attempt_answers (attempt_id, position, user_id, quiz_slug, scenario_version, step_id, choice_id, vision, alignment, inspiration)
		  SELECT id, answered, user_id, quiz_slug, scenario_version, step, choice, vision, alignment, inspiration FROM moved)
		SELECT ord FROM moved`,
		ids, users, steps, answered, nexts, states, choices, vision, alignment, inspiration)
	return winners(rows, err, n)
}

// winners reads the ordinals of the input rows whose guard held.
func winners(rows pgx.Rows, err error, n int) ([]bool, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	won := make([]bool, n)
	for rows.Next() {
		var ord int
		if err := rows.Scan(&ord); err != nil {
			return nil, err
		}
		if ord >= 1 && ord <= n {
			won[ord-1] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return won, nil
}

// writeFinishes is the one statement of answers that finish attempts: the
// same guard, and for each attempt that finished its learner's standing is
// brought up to date in the same statement (nothing can see the attempt
// finished and the standing not). One attempt per learner and scenario is
// open, so no two rows of a batch meet in the standings.
func writeFinishes(ctx context.Context, pool *pgxpool.Pool, batch []*pendingAnswer) ([]bool, error) {
	n := len(batch)
	var (
		ids, users, steps, choices, states, endings = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		answered, vision, alignment, inspiration    = make([]int, n), make([]int, n), make([]int, n), make([]int, n)
		percent, sVision, sAlignment, sInspiration  = make([]int, n), make([]int, n), make([]int, n), make([]int, n)
		passed                                      = make([]bool, n)
		finished                                    = make([]time.Time, n)
		due                                         = make([]*time.Time, n)
		streak                                      = make([]int, n)
	)
	for i, p := range batch {
		f := p.finish
		ids[i], users[i], steps[i], choices[i], states[i], endings[i] = p.attemptID, p.userID, p.stepID, p.choiceID, arrayLiteral(p.state), f.endingID
		answered[i], vision[i], alignment[i], inspiration[i] = p.answered, p.points.Vision, p.points.Alignment, p.points.Inspiration
		percent[i], sVision[i], sAlignment[i], sInspiration[i] = f.result.Percent, f.result.Skills.Vision, f.result.Skills.Alignment, f.result.Skills.Inspiration
		passed[i], finished[i], due[i], streak[i] = f.result.Passed, f.finishedAt, f.review.Due, f.review.Streak
	}
	rows, err := pool.Query(ctx, `WITH input AS (
		  SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::int[], $5::text[], $6::text[], $7::int[], $8::int[], $9::int[],
		    $10::text[], $11::int[], $12::bool[], $13::int[], $14::int[], $15::int[], $16::timestamptz[], $17::timestamptz[], $18::int[])
		    WITH ORDINALITY AS f (id, user_id, step, answered, state, choice, vision, alignment, inspiration,
		      ending, percent, passed, s_vision, s_alignment, s_inspiration, finished_at, review_due, review_streak, ord)),
		moved AS (
		  UPDATE attempts a SET status = 'finished', current_step = NULL, state = f.state::int[], ending_id = f.ending, percent = f.percent,
		    passed = f.passed, vision = f.s_vision, alignment = f.s_alignment, inspiration = f.s_inspiration, finished_at = f.finished_at,
		    answered = a.answered + 1, points_vision = a.points_vision + f.vision, points_alignment = a.points_alignment + f.alignment,
		    points_inspiration = a.points_inspiration + f.inspiration
		  FROM input f
		  WHERE a.id = f.id AND a.user_id = f.user_id AND a.status = 'in_progress' AND a.current_step = f.step AND a.answered = f.answered
		  RETURNING f.ord, a.id, a.number, a.answered, a.user_id, a.quiz_slug, a.scenario_version, f.step, f.choice, f.vision, f.alignment,
		    f.inspiration, f.percent, f.passed, f.finished_at, f.s_vision, f.s_alignment, f.s_inspiration, f.review_due, f.review_streak),
		ins AS (
		  INSERT INTO attempt_answers (attempt_id, position, user_id, quiz_slug, scenario_version, step_id, choice_id, vision, alignment, inspiration)
		  SELECT id, answered, user_id, quiz_slug, scenario_version, step, choice, vision, alignment, inspiration FROM moved),
		standing AS (
		  INSERT INTO scenario_standings AS s (user_id, quiz_slug, attempts_used, first_percent, best_percent, passed,
		    last_finished_at, latest_vision, latest_alignment, latest_inspiration, review_due_at, review_streak)
		  SELECT user_id, quiz_slug, number, percent, percent, passed, finished_at, s_vision, s_alignment, s_inspiration, review_due, review_streak FROM moved
		  ON CONFLICT (user_id, quiz_slug) DO UPDATE SET first_percent = coalesce(s.first_percent, EXCLUDED.first_percent),
		    best_percent = greatest(s.best_percent, EXCLUDED.best_percent), passed = s.passed OR EXCLUDED.passed,
		    last_finished_at = EXCLUDED.last_finished_at, latest_vision = EXCLUDED.latest_vision,
		    latest_alignment = EXCLUDED.latest_alignment, latest_inspiration = EXCLUDED.latest_inspiration,
		    review_due_at = EXCLUDED.review_due_at, review_streak = EXCLUDED.review_streak)
		SELECT ord FROM moved`,
		ids, users, steps, answered, states, choices, vision, alignment, inspiration,
		endings, percent, passed, sVision, sAlignment, sInspiration, finished, due, streak)
	return winners(rows, err, n)
}

// arrayLiteral spells the state as PostgreSQL's integer[] input.
func arrayLiteral(s State) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, v := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(v))
	}
	b.WriteByte('}')
	return b.String()
}
