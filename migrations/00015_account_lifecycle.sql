-- +goose Up
-- The account lifecycle: verified emails, emailed single-use tokens, the
-- transactional mail outbox, what a session list shows, and deletion.

-- Null until the person proves they read the address (a verification or a
-- password-reset link). Accounts from before this migration start
-- unverified and can ask for a link.
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;

-- Emailed secrets (verification, password reset), stored only as SHA-256
-- hashes of 256 random bits. A token is used once (used_at) and expires.
-- email is the address the link went to: verifying proves that address.
CREATE TABLE account_tokens (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text NOT NULL CHECK (purpose IN ('verify_email', 'password_reset')),
    email      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose);
CREATE INDEX account_tokens_expires ON account_tokens (expires_at);

-- The outbox of account mail, written in the same transaction as the token
-- it carries. A sender leases rows (lease_until, attempts identify a claim,
-- as in notifications), sends with no transaction open and deletes the row
-- once the server accepted it, so link secrets do not linger in the
-- database. A failed row waits until next_attempt_at (backoff).
CREATE TABLE account_emails (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind            text NOT NULL,
    to_email        text NOT NULL,
    to_name         text NOT NULL,
    subject         text NOT NULL,
    body            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    lease_until     timestamptz,
    next_attempt_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX account_emails_due ON account_emails (next_attempt_at);

-- Requests that send mail to a person (reset links, verification resends),
-- counted per key in fixed windows so nobody can mail-bomb an address.
CREATE TABLE mail_throttle (
    key               text PRIMARY KEY,
    count             integer NOT NULL,
    window_started_at timestamptz NOT NULL
);

-- What the session list shows: the device (as its User-Agent says) and when
-- the session was last signed in or refreshed.
ALTER TABLE sessions
    ADD COLUMN user_agent   text NOT NULL DEFAULT '',
    ADD COLUMN last_used_at timestamptz;

-- A deleted account takes its teams (as their manager) with it; what it
-- assigned to others stays theirs, with no assigner.
ALTER TABLE assignments ALTER COLUMN assigned_by DROP NOT NULL;
ALTER TABLE assignments DROP CONSTRAINT assignments_assigned_by_fkey,
    ADD CONSTRAINT assignments_assigned_by_fkey FOREIGN KEY (assigned_by) REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE team_assignments ALTER COLUMN assigned_by DROP NOT NULL;
ALTER TABLE team_assignments DROP CONSTRAINT team_assignments_assigned_by_fkey,
    ADD CONSTRAINT team_assignments_assigned_by_fkey FOREIGN KEY (assigned_by) REFERENCES users (id) ON DELETE SET NULL;

-- +goose Down
ALTER TABLE team_assignments DROP CONSTRAINT team_assignments_assigned_by_fkey,
    ADD CONSTRAINT team_assignments_assigned_by_fkey FOREIGN KEY (assigned_by) REFERENCES users (id);
ALTER TABLE team_assignments ALTER COLUMN assigned_by SET NOT NULL;
ALTER TABLE assignments DROP CONSTRAINT assignments_assigned_by_fkey,
    ADD CONSTRAINT assignments_assigned_by_fkey FOREIGN KEY (assigned_by) REFERENCES users (id);
ALTER TABLE assignments ALTER COLUMN assigned_by SET NOT NULL;
ALTER TABLE sessions DROP COLUMN last_used_at, DROP COLUMN user_agent;
DROP TABLE mail_throttle;
DROP TABLE account_emails;
DROP TABLE account_tokens;
ALTER TABLE users DROP COLUMN email_verified_at;
