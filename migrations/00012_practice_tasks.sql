-- +goose Up
-- A learner's "try it this week" task of a module, marked done with a
-- short note; shared notes are what the learner's team managers see.
CREATE TABLE practice_tasks (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    module_slug text NOT NULL REFERENCES modules (slug),
    note        text NOT NULL DEFAULT '',
    shared      boolean NOT NULL DEFAULT false,
    done_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, module_slug)
);

-- +goose Down
DROP TABLE practice_tasks;
