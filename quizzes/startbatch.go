package quizzes

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// A start's two round trips are coalesced like answers (coalesce.go): the
// read of the learners' standings and open attempts is one statement for
// every start waiting, and so is the insert of the attempts they begin.
// When everyone starts at once (an assignment mailed at nine), the starts
// cost PostgreSQL two statements and one commit per batch, not per learner.

// standingKey names the standing a start reads: one learner's on one scenario.
type standingKey struct{ userID, slug string }

// standing is what deciding a start needs: how many attempts the learner
// used, when they last finished, their review schedule, the variants they
// met, and the attempt still open, if any.
type standing struct {
	used         int
	lastFinished *time.Time
	review       ReviewState
	openID       *string
	seen         VariantCounts
	lastVariant  *string
}

// counting is the standing once an attempt numbered number has started on
// the variant (the insert counts attempts_used as the attempt's number).
func (st standing) counting(number int, variant string) *standing {
	return &standing{used: number, lastFinished: st.lastFinished, review: st.review, seen: st.seen.Plus(variant), lastVariant: &variant}
}

// finishing is the standing once its open attempt finished at the time, on
// the review schedule it moved on to (a standing made by counting names no
// open attempt).
func (st standing) finishing(at time.Time, review ReviewState) standing {
	st.lastFinished, st.review = &at, review
	return st
}

// readStandings reads the standings and open attempts of the batch's
// learners, one row per input row (a learner with no standing yet reads
// as zero attempts).
func readStandings(ctx context.Context, pool *pgxpool.Pool, batch []standingKey) ([]standing, error) {
	users, slugs := make([]string, len(batch)), make([]string, len(batch))
	for i, k := range batch {
		users[i], slugs[i] = k.userID, k.slug
	}
	rows, err := pool.Query(ctx, sqlReadStandings, users, slugs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]standing, len(batch))
	for rows.Next() {
		var ord int
		var st standing
		var seen map[string]int
		if err := rows.Scan(&ord, &st.used, &st.lastFinished, &st.review.Due, &st.review.Streak, &st.openID, &seen, &st.lastVariant); err != nil {
			return nil, err
		}
		st.seen = countsOf(seen)
		if ord >= 1 && ord <= len(out) {
			out[ord-1] = st
		}
	}
	return out, rows.Err()
}

// pendingStart is one attempt a start inserts.
type pendingStart struct {
	userID, slug, version, variant string
	state                          State
	seed                           int64
	step                           string
	startedAt                      time.Time
	decidedOn                      standing // the guard: the standing the start was decided on
}

// startKey keeps two starts of one learner at one scenario out of one
// batch: the second must find the first's attempt.
func startKey(p *pendingStart) string { return p.userID + " " + p.slug }

// insertStarts inserts the batch's attempts and counts each in its
// learner's standing, in one statement. The number follows the learner's
// last attempt (a lookup at the end of the unique key's index). A start
// inserts nothing and comes back as a zero Attempt when its guard fails
// (the standing is no longer the one it was decided on: its attempts used,
// last finish and review date) or when the unique keys (one number per
// learner and scenario, one open attempt) find it racing another, such as
// the copy of a double click held for this batch or another instance's
// start: only it reads again and resumes or decides again, while the
// batch's other starts are inserted by the same statement.
func insertStarts(ctx context.Context, pool *pgxpool.Pool, batch []*pendingStart) ([]Attempt, error) {
	n := len(batch)
	var (
		users, slugs, versions, variants, states, steps = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		seeds                                           = make([]int64, n)
		started                                         = make([]time.Time, n)
		used                                            = make([]int, n)
		finished, due                                   = make([]*time.Time, n), make([]*time.Time, n)
	)
	for i, p := range batch {
		users[i], slugs[i], versions[i], variants[i], states[i], steps[i] = p.userID, p.slug, p.version, p.variant, arrayLiteral(p.state), p.step
		seeds[i], started[i] = p.seed, p.startedAt
		used[i], finished[i], due[i] = p.decidedOn.used, p.decidedOn.lastFinished, p.decidedOn.review.Due
	}
	rows, err := pool.Query(ctx, sqlInsertStarts,
		users, slugs, versions, variants, states, seeds, steps, started, used, finished, due)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	// RETURNING does not carry the input's order: the batch holds one start
	// per learner and scenario, which names its row.
	at := make(map[string]int, n)
	for i, p := range batch {
		at[startKey(p)] = i
	}
	out := make([]Attempt, n)
	for rows.Next() {
		var a Attempt
		if err := scanAttempt(rows, &a); err != nil {
			return nil, err
		}
		i, ok := at[a.UserID+" "+a.QuizSlug]
		if !ok {
			return nil, fmt.Errorf("quizzes: a started attempt of %s at %s came back that no start in the batch asked for", a.UserID, a.QuizSlug)
		}
		out[i] = a
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Each row's standing and open attempt are looked up by key (LIMIT 1 keeps
// the planner from joining the whole table: it hashed scenario_standings
// in a sequential scan, a cost growing with every learner).
const sqlReadStandings = `SELECT k.ord, coalesce(s.attempts_used, 0), s.last_finished_at, s.review_due_at, coalesce(s.review_streak, 0),
	  a.id::text, coalesce(s.variants_seen, '{}'), s.last_variant
	FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS k (user_id, quiz_slug, ord)
	LEFT JOIN LATERAL (SELECT * FROM scenario_standings s WHERE s.user_id = k.user_id AND s.quiz_slug = k.quiz_slug LIMIT 1) s ON true
	LEFT JOIN LATERAL (SELECT a.id FROM attempts a WHERE a.user_id = k.user_id AND a.quiz_slug = k.quiz_slug AND a.status = 'in_progress' LIMIT 1) a ON true`

const sqlInsertStarts = `WITH input AS (
		  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::timestamptz[],
		      $9::int[], $10::timestamptz[], $11::timestamptz[])
		    WITH ORDINALITY AS n (user_id, quiz_slug, version, variant, state, seed, step, started_at, used, last_finished, review_due, ord)),
		a AS (
		  INSERT INTO attempts (user_id, quiz_slug, scenario_version, variant, state, number, seed, current_step, started_at)
		  SELECT n.user_id, n.quiz_slug, n.version, n.variant, n.state::int[],
		    coalesce((SELECT max(number) FROM attempts x WHERE x.user_id = n.user_id AND x.quiz_slug = n.quiz_slug), 0) + 1,
		    n.seed, n.step, n.started_at
		  FROM input n
		  LEFT JOIN LATERAL (SELECT s.attempts_used, s.last_finished_at, s.review_due_at FROM scenario_standings s
		    WHERE s.user_id = n.user_id AND s.quiz_slug = n.quiz_slug LIMIT 1) s ON true
		  WHERE coalesce(s.attempts_used, 0) = n.used AND s.last_finished_at IS NOT DISTINCT FROM n.last_finished
		    AND s.review_due_at IS NOT DISTINCT FROM n.review_due
		  ORDER BY n.ord
		  ON CONFLICT DO NOTHING
		  RETURNING ` + attemptColumns + `),
		counted AS (
		  INSERT INTO scenario_standings AS s (user_id, quiz_slug, attempts_used, variants_seen, last_variant)
		  SELECT user_id, quiz_slug, number, jsonb_build_object(variant, 1), variant FROM a
		  ON CONFLICT (user_id, quiz_slug) DO UPDATE SET attempts_used = EXCLUDED.attempts_used,
		    variants_seen = s.variants_seen || jsonb_build_object(EXCLUDED.last_variant, coalesce((s.variants_seen->>EXCLUDED.last_variant)::int, 0) + 1),
		    last_variant = EXCLUDED.last_variant),
		started AS (
		  INSERT INTO xapi_outbox (kind, source_id, occurred_at)
		  SELECT 'attempt_started', id, started_at FROM a WHERE (SELECT enabled FROM xapi_settings WHERE id))
		SELECT ` + attemptColumns + ` FROM a`
