-- +goose Up
-- Single sign-on through one OpenID Connect provider.

-- The provider's account (issuer + subject, the only stable pair OpenID
-- Connect promises) that signs a Baton account in. One per account and issuer.
CREATE TABLE oidc_identities (
    issuer          text NOT NULL,
    subject         text NOT NULL CHECK (char_length(subject) BETWEEN 1 AND 255),
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email           text NOT NULL, -- as the provider said it when the link was made
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_sign_in_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (issuer, subject)
);
CREATE UNIQUE INDEX oidc_identities_user ON oidc_identities (user_id, issuer);

-- A sign-in under way: the state sent to the provider (only its SHA-256),
-- bound to the browser that started it (browser_hash, from an HttpOnly
-- cookie), with the nonce and PKCE verifier the answer must match. In the
-- database, not a cookie, so any instance can finish what another started
-- and a used state stays used (used_at) on every instance.
CREATE TABLE oidc_logins (
    state_hash   bytea PRIMARY KEY CHECK (length(state_hash) = 32),
    browser_hash bytea NOT NULL CHECK (length(browser_hash) = 32),
    nonce        text NOT NULL,
    verifier     text NOT NULL,
    next_path    text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);
CREATE INDEX oidc_logins_expires ON oidc_logins (expires_at);

-- A provider account waiting to be linked to a password account with the
-- same address: linked only once the person proves they own the account,
-- by its password (with browser_hash, handed to the browser that signed in
-- at the provider) or by the link mailed to the address (mail_hash).
CREATE TABLE oidc_links (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    issuer       text NOT NULL,
    subject      text NOT NULL,
    email        text NOT NULL,
    browser_hash bytea NOT NULL UNIQUE CHECK (length(browser_hash) = 32),
    mail_hash    bytea NOT NULL UNIQUE CHECK (length(mail_hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);
CREATE INDEX oidc_links_expires ON oidc_links (expires_at);

-- Email domains whose people must sign in through the provider: password
-- sign-in, sign-up and reset are refused for their addresses.
CREATE TABLE sso_domains (
    domain     text PRIMARY KEY CHECK (domain = lower(domain) AND char_length(domain) BETWEEN 3 AND 253),
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE sso_domains;
DROP TABLE oidc_links;
DROP TABLE oidc_logins;
DROP TABLE oidc_identities;
