-- +goose Up
-- People who use Baton. Every other table hangs off this one. Emails are
-- stored normalised (trimmed, lower-case) by the application, so a plain
-- unique index is the uniqueness rule.
CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text NOT NULL UNIQUE CHECK (email = lower(btrim(email)) AND length(email) BETWEEN 3 AND 254),
    name          text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    role          text NOT NULL DEFAULT 'learner' CHECK (role IN ('learner', 'manager', 'admin')),
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE users;
