-- +goose Up
-- A learner's standing on one scenario, kept by the same statements that
-- start and finish attempts, so the course listing, the dashboard and team
-- progress read one row per learner and scenario instead of every attempt
-- the learner ever made.
CREATE TABLE scenario_standings (
    user_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    quiz_slug          text NOT NULL,
    attempts_used      integer NOT NULL DEFAULT 0,
    first_percent      integer,             -- the first finished attempt: the diagnostic baseline
    best_percent       integer,
    passed             boolean NOT NULL DEFAULT false,
    last_finished_at   timestamptz,
    latest_vision      integer,             -- the latest finished attempt's skills
    latest_alignment   integer,
    latest_inspiration integer,
    review_due_at      timestamptz,         -- null: never passed, not in review
    review_streak      integer NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, quiz_slug)
) WITH (fillfactor = 70); -- room for its updates to stay on the page (HOT)

INSERT INTO scenario_standings (user_id, quiz_slug, attempts_used, first_percent, best_percent, passed, last_finished_at,
                                latest_vision, latest_alignment, latest_inspiration)
SELECT user_id, quiz_slug, count(*),
       (array_agg(percent ORDER BY finished_at, number) FILTER (WHERE status = 'finished'))[1],
       max(percent) FILTER (WHERE status = 'finished'),
       coalesce(bool_or(passed) FILTER (WHERE status = 'finished'), false),
       max(finished_at),
       (array_agg(vision ORDER BY finished_at DESC, number DESC) FILTER (WHERE status = 'finished'))[1],
       (array_agg(alignment ORDER BY finished_at DESC, number DESC) FILTER (WHERE status = 'finished'))[1],
       (array_agg(inspiration ORDER BY finished_at DESC, number DESC) FILTER (WHERE status = 'finished'))[1]
FROM attempts GROUP BY user_id, quiz_slug;

-- The review schedule replays each learner's finished attempts in order, as
-- quizzes.ReviewState.After does (intervals 2, 7, 21 and 60 days); a test
-- checks the two agree.
-- +goose StatementBegin
DO $$
DECLARE
    r         record;
    due       timestamptz;
    streak    integer := 0;
    cur_user  uuid;
    cur_quiz  text;
    intervals interval[] := ARRAY['2 days', '7 days', '21 days', '60 days']::interval[];
    in_review boolean;
BEGIN
    FOR r IN SELECT user_id, quiz_slug, started_at, finished_at, coalesce(passed, false) AS passed
             FROM attempts WHERE status = 'finished' ORDER BY user_id, quiz_slug, finished_at, number LOOP
        IF cur_user IS DISTINCT FROM r.user_id OR cur_quiz IS DISTINCT FROM r.quiz_slug THEN
            UPDATE scenario_standings SET review_due_at = due, review_streak = streak
            WHERE user_id = cur_user AND quiz_slug = cur_quiz;
            cur_user := r.user_id; cur_quiz := r.quiz_slug; due := NULL; streak := 0;
        END IF;
        in_review := due IS NOT NULL AND r.started_at >= due;
        IF due IS NULL AND r.passed THEN
            streak := 1; due := r.finished_at + intervals[1];
        ELSIF in_review AND r.passed THEN
            streak := streak + 1; due := r.finished_at + intervals[least(streak, 4)];
        ELSIF in_review THEN
            streak := 0; due := r.finished_at;
        END IF;
    END LOOP;
    UPDATE scenario_standings SET review_due_at = due, review_streak = streak
    WHERE user_id = cur_user AND quiz_slug = cur_quiz;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP TABLE scenario_standings;
