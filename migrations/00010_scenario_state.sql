-- +goose Up
-- Scenario engine 2: an attempt pins the variant it was given (attempts
-- stored before variants existed keep '', the only variant of their
-- format-1 version) and carries its state after the last answer, so the
-- next answer needs nothing but the row.
ALTER TABLE attempts
    ADD COLUMN variant text NOT NULL DEFAULT '',
    ADD COLUMN state integer[] NOT NULL DEFAULT '{}';

-- A practice run replays a finished attempt from one decision on. It is
-- kept apart from attempts on purpose: numbering, standings, retake caps,
-- reviews, skill history and team analytics all read attempts, and a
-- practice run must change none of them.
CREATE TABLE practice_runs (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    attempt_id         uuid NOT NULL REFERENCES attempts (id) ON DELETE CASCADE,
    quiz_slug          text NOT NULL,
    scenario_version   text NOT NULL,
    variant            text NOT NULL,
    seed               bigint NOT NULL,
    from_position      integer NOT NULL, -- the decision of the attempt it starts at (0 = first)
    from_step          text NOT NULL,
    start_state        integer[] NOT NULL, -- the state that decision was made in
    status             text NOT NULL DEFAULT 'in_progress' CHECK (status IN ('in_progress', 'finished')),
    current_step       text,
    state              integer[] NOT NULL,
    answered           integer NOT NULL DEFAULT 0,
    -- points of the whole path: the attempt's before from_position, then the run's
    points_vision      integer NOT NULL,
    points_alignment   integer NOT NULL,
    points_inspiration integer NOT NULL,
    answers            jsonb NOT NULL DEFAULT '[]', -- [{step_id, choice_id}], in order
    ending_id          text,
    percent            integer,
    passed             boolean,
    vision             integer,
    alignment          integer,
    inspiration        integer,
    started_at         timestamptz NOT NULL DEFAULT now(),
    finished_at        timestamptz,
    CHECK ((status = 'in_progress') = (current_step IS NOT NULL))
);
CREATE UNIQUE INDEX practice_runs_one_open ON practice_runs (attempt_id) WHERE status = 'in_progress';

-- +goose Down
DROP TABLE practice_runs;
ALTER TABLE attempts DROP COLUMN state, DROP COLUMN variant;
