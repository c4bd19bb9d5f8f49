-- +goose Up
-- The installation's secret for team analytics' deliberate noise: each
-- member's reported answer is derived from it (server/privacy), so it is
-- the same on every query and in every team, and nobody can recompute it.
-- One row, drawn here once from gen_random_uuid() (PostgreSQL's strong
-- random source, 244 random bits from two UUIDs) and never shown anywhere.
CREATE TABLE analytics_secret (
    id     boolean PRIMARY KEY DEFAULT true CHECK (id),
    secret bytea NOT NULL CHECK (length(secret) >= 16)
);
INSERT INTO analytics_secret (secret)
VALUES (decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));

-- +goose Down
DROP TABLE analytics_secret;
