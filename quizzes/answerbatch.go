package quizzes

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Answers are written in batches (coalesce.go): those that move attempts on
// in one statement, those that finish them in another.

// pendingAnswer is one answer waiting for the batch that writes it.
type pendingAnswer struct {
	attemptID, userID string
	stepID, choiceID  string
	answered          int // the guard: the attempt's answer count when judged
	nextStep          string
	state             State
	points            Points
	finish            *finishing // set when the answer ends the attempt
}

// finishing is what a finishing answer stores besides the answer: the
// attempt's result and the learner's standing.
type finishing struct {
	endingID   string
	result     Result
	finishedAt time.Time
	review     ReviewState
}

// written is an answer's fate in its batch.
type written struct {
	won    bool // the guard held and the answer is recorded
	graded bool // the finish queued LTI scores: a platform's launch linked the scenario
}

// attemptKey keeps two answers to one attempt out of one batch.
func attemptKey(p *pendingAnswer) string { return p.attemptID }

// writeMoves is the one statement of answers that move attempts on: each input row's UPDATE holds only if its
// attempt is still open at the step and answer count it was judged against
// (rechecked after any lock wait, as READ COMMITTED does), and only the rows
// updated insert their answer, so the per-row triggers on both tables fire
// for exactly the answers that won.
func writeMoves(ctx context.Context, pool *pgxpool.Pool, batch []*pendingAnswer) ([]written, error) {
	n := len(batch)
	var (
		ids, users, steps, choices, nexts, states = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		answered, vision, alignment, inspiration  = make([]int, n), make([]int, n), make([]int, n), make([]int, n)
	)
	for i, p := range batch {
		ids[i], users[i], steps[i], choices[i], nexts[i], states[i] = p.attemptID, p.userID, p.stepID, p.choiceID, p.nextStep, arrayLiteral(p.state)
		answered[i], vision[i], alignment[i], inspiration[i] = p.answered, p.points.Vision, p.points.Alignment, p.points.Inspiration
	}
	rows, err := pool.Query(ctx, sqlWriteMoves,
		ids, users, steps, answered, nexts, states, choices, vision, alignment, inspiration)
	return winners(rows, err, n)
}

// winners reads the ordinals of the input rows whose guard held, and
// whether each queued LTI scores (the trigger attempts_lti_scores queues one
// per grade link; a link made at that very moment may be seen by the trigger
// and not here, which only leaves its score to the periodic sweep).
func winners(rows pgx.Rows, err error, n int) ([]written, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	won := make([]written, n)
	for rows.Next() {
		var ord int
		var graded bool
		if err := rows.Scan(&ord, &graded); err != nil {
			return nil, err
		}
		if ord >= 1 && ord <= n {
			won[ord-1] = written{won: true, graded: graded}
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
func writeFinishes(ctx context.Context, pool *pgxpool.Pool, batch []*pendingAnswer) ([]written, error) {
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
	rows, err := pool.Query(ctx, sqlWriteFinishes,
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

const sqlWriteMoves = `WITH input AS (
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
		  SELECT id, answered, user_id, quiz_slug, scenario_version, step, choice, vision, alignment, inspiration FROM moved),
		answered AS (
		  INSERT INTO xapi_outbox (kind, source_id, position, occurred_at)
		  SELECT 'attempt_answered', id, answered, now() FROM moved WHERE (SELECT enabled FROM xapi_settings WHERE id))
		SELECT ord, false FROM moved`

const sqlWriteFinishes = `WITH input AS (
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
		    f.inspiration, f.percent, f.passed, f.finished_at, f.s_vision, f.s_alignment, f.s_inspiration, f.review_due, f.review_streak,
		    EXISTS (SELECT 1 FROM lti_grade_links g WHERE g.user_id = a.user_id AND g.quiz_slug = a.quiz_slug) AS graded),
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
		    review_due_at = EXCLUDED.review_due_at, review_streak = EXCLUDED.review_streak),
		events AS (
		  INSERT INTO xapi_outbox (kind, source_id, position, occurred_at)
		  SELECT e.kind, m.id, e.position, e.at FROM moved m
		  CROSS JOIN LATERAL (VALUES (1, 'attempt_answered', m.answered, now()), (2, 'attempt_finished', NULL, m.finished_at)) AS e (n, kind, position, at)
		  WHERE (SELECT enabled FROM xapi_settings WHERE id)
		  ORDER BY m.ord, e.n)
		SELECT ord, graded FROM moved`
