-- +goose Up
-- The course as synced from the embedded content at start-up. Slugs are the
-- stable ids; a lesson's version goes up whenever its file changes, and a
-- module or lesson dropped from the content is retired, never deleted, so
-- progress on it stays in history.
CREATE TABLE modules (
    slug       text PRIMARY KEY,
    title      text NOT NULL,
    summary    text NOT NULL,
    position   integer NOT NULL,
    retired_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE lessons (
    slug         text PRIMARY KEY,
    module_slug  text NOT NULL REFERENCES modules (slug),
    title        text NOT NULL,
    minutes      integer NOT NULL,
    position     integer NOT NULL,
    content_hash text NOT NULL,
    version      integer NOT NULL DEFAULT 1,
    retired_at   timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Reading progress per learner and lesson. percent only ever goes up;
-- completed_at is set once, when percent first reaches 100.
CREATE TABLE lesson_progress (
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    lesson_slug  text NOT NULL REFERENCES lessons (slug),
    percent      integer NOT NULL CHECK (percent BETWEEN 0 AND 100),
    completed_at timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, lesson_slug)
);

-- Quick-check answers: the first answer is kept (what the learner knew on
-- arrival) beside the latest one.
CREATE TABLE quick_check_answers (
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    lesson_slug      text NOT NULL REFERENCES lessons (slug),
    check_id         text NOT NULL,
    first_option     text NOT NULL,
    first_correct    boolean NOT NULL,
    last_option      text NOT NULL,
    last_correct     boolean NOT NULL,
    answers          integer NOT NULL DEFAULT 1,
    first_answered_at timestamptz NOT NULL DEFAULT now(),
    last_answered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, lesson_slug, check_id)
);

-- Reflections are private to their author: no manager view reads this table.
CREATE TABLE reflections (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    lesson_slug text NOT NULL REFERENCES lessons (slug),
    prompt_id   text NOT NULL,
    body        text NOT NULL CHECK (char_length(body) <= 10000),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, lesson_slug, prompt_id)
);

-- +goose Down
DROP TABLE reflections;
DROP TABLE quick_check_answers;
DROP TABLE lesson_progress;
DROP TABLE lessons;
DROP TABLE modules;
