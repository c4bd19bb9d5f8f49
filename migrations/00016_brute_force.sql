-- +goose Up
-- Device cookies (OWASP's "device cookies"): a browser that signed in to an
-- account holds a random token bound to that account, kept here only as its
-- SHA-256. A sign-in presenting it is judged by this row's failures alone, so
-- strangers who trip the account's and their addresses' limits cannot lock
-- the owner out of a device used before. A token whose failures reach the
-- device limit is trusted no more (its sign-ins meet the ordinary limits).
CREATE TABLE device_tokens (
    token_hash bytea PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    failures   integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at    timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX device_tokens_user_id ON device_tokens (user_id, used_at DESC);
CREATE INDEX device_tokens_expires_at ON device_tokens (expires_at);

-- Token buckets for what is limited by rate rather than by failures (sign-ups
-- per address), shared by every instance.
CREATE TABLE rate_buckets (
    key        text PRIMARY KEY,
    tokens     double precision NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX rate_buckets_updated_at ON rate_buckets (updated_at);

-- A password reset forgets the account's pair keys ("pair:<email>|<address>")
-- by prefix, whatever the database's collation.
CREATE INDEX login_throttle_key_prefix ON login_throttle (key text_pattern_ops);

-- +goose Down
DROP INDEX login_throttle_key_prefix;
DROP TABLE rate_buckets;
DROP TABLE device_tokens;
