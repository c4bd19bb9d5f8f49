-- +goose Up
-- Every version of every scenario ever served, by content hash. An attempt
-- pins the version it started on, so editing a scenario never breaks an
-- attempt in progress or rewrites a past result.
CREATE TABLE scenario_versions (
    quiz_slug   text NOT NULL,
    version     text NOT NULL,
    module_slug text NOT NULL,
    source      bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (quiz_slug, version)
);

CREATE TABLE scenarios (
    slug            text PRIMARY KEY,
    module_slug     text NOT NULL REFERENCES modules (slug),
    title           text NOT NULL,
    current_version text NOT NULL,
    retired_at      timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (slug, current_version) REFERENCES scenario_versions (quiz_slug, version)
);

-- One learner's run through a scenario. current_step is null once finished.
-- seed orders the choices of this attempt (stable when it is resumed).
CREATE TABLE attempts (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    quiz_slug        text NOT NULL REFERENCES scenarios (slug),
    scenario_version text NOT NULL,
    number           integer NOT NULL,
    seed             bigint NOT NULL,
    status           text NOT NULL DEFAULT 'in_progress' CHECK (status IN ('in_progress', 'finished')),
    current_step     text,
    ending_id        text,
    percent          integer CHECK (percent BETWEEN 0 AND 100),
    passed           boolean,
    vision           integer,
    alignment        integer,
    inspiration      integer,
    started_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    FOREIGN KEY (quiz_slug, scenario_version) REFERENCES scenario_versions (quiz_slug, version),
    UNIQUE (user_id, quiz_slug, number),
    CHECK ((status = 'finished') = (finished_at IS NOT NULL)),
    CHECK ((status = 'in_progress') = (current_step IS NOT NULL))
);
-- At most one unfinished attempt per learner and scenario: a second start
-- resumes it instead.
CREATE UNIQUE INDEX attempts_one_open ON attempts (user_id, quiz_slug) WHERE status = 'in_progress';
CREATE INDEX attempts_user ON attempts (user_id, quiz_slug, started_at);

-- Every answer, kept as an event: who chose what, where, on which version,
-- when. The unique keys make a repeated answer impossible to record twice.
CREATE TABLE attempt_answers (
    attempt_id       uuid NOT NULL REFERENCES attempts (id) ON DELETE CASCADE,
    position         integer NOT NULL,
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    quiz_slug        text NOT NULL,
    scenario_version text NOT NULL,
    step_id          text NOT NULL,
    choice_id        text NOT NULL,
    vision           integer NOT NULL,
    alignment        integer NOT NULL,
    inspiration      integer NOT NULL,
    answered_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (attempt_id, position),
    UNIQUE (attempt_id, step_id)
);
CREATE INDEX attempt_answers_quiz ON attempt_answers (quiz_slug, step_id);

-- +goose Down
DROP TABLE attempt_answers;
DROP TABLE attempts;
DROP TABLE scenarios;
DROP TABLE scenario_versions;
