-- +goose Up
-- The analytics secret sealed with BATON_SECRET_KEY (AES-256-GCM) when it is
-- set, like the signing keys: a copy of the database then cannot recompute
-- which reported answers are members' real ones.
ALTER TABLE analytics_secret ADD COLUMN sealed boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE analytics_secret DROP COLUMN sealed;
