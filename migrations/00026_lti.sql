-- +goose Up
-- Baton as an LTI 1.3 tool (docs/lti.md): the platforms (LMSs) an admin
-- registered, Baton's own RSA keys, logins under way, launches' grade links
-- and the scores sent back, deep-linking sessions and course rosters.

-- A platform registration: one LMS (issuer) and the client id it gave Baton.
CREATE TABLE lti_platforms (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    issuer         text NOT NULL CHECK (char_length(issuer) BETWEEN 1 AND 500),
    client_id      text NOT NULL CHECK (char_length(client_id) BETWEEN 1 AND 255),
    deployment_ids jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(deployment_ids) = 'array'),
    name           text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    auth_url       text NOT NULL,
    token_url      text NOT NULL,
    jwks_url       text NOT NULL,
    created_by     uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (issuer, client_id)
);

-- A one-time dynamic-registration URL an admin handed to a platform
-- (only the token's SHA-256 is kept).
CREATE TABLE lti_registration_tokens (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    platform_id uuid REFERENCES lti_platforms (id) ON DELETE SET NULL
);

-- Baton's RSA keys as a tool (PKCS #8 DER; sealed with BATON_SECRET_KEY when
-- set). The newest unretired key signs; retired keys stay published in the
-- key set for a while, so platforms that cached it still verify.
CREATE TABLE lti_tool_keys (
    kid         text PRIMARY KEY,
    private_key bytea NOT NULL,
    sealed      boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    retired_at  timestamptz
);

-- A login initiation under way: the state sent to the platform (hash), the
-- nonce its id_token must carry, bound to the browser by an HttpOnly
-- SameSite=None cookie when Baton is served over HTTPS (browser_hash NULL:
-- unbound, plain-HTTP development). Spent once (used_at), on any instance.
CREATE TABLE lti_logins (
    state_hash   bytea PRIMARY KEY CHECK (length(state_hash) = 32),
    browser_hash bytea CHECK (length(browser_hash) = 32),
    platform_id  uuid NOT NULL REFERENCES lti_platforms (id) ON DELETE CASCADE,
    nonce        text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);
CREATE INDEX lti_logins_expires ON lti_logins (expires_at);

-- A deep-linking request an instructor is answering: what the platform
-- asked for and where the answer goes. Usable by the launching account only.
CREATE TABLE lti_deep_links (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    platform_id   uuid NOT NULL REFERENCES lti_platforms (id) ON DELETE CASCADE,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    deployment_id text NOT NULL,
    return_url    text NOT NULL,
    accept_types  jsonb NOT NULL DEFAULT '[]',
    accept_multiple boolean NOT NULL DEFAULT true,
    data          text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz
);

-- Where a learner's scenario grade goes: the launch's resource link, its
-- line item (or the line items container to find or create one in), and the
-- platform's name for the learner (sub).
CREATE TABLE lti_grade_links (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    platform_id      uuid NOT NULL REFERENCES lti_platforms (id) ON DELETE CASCADE,
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    subject          text NOT NULL,
    quiz_slug        text NOT NULL,
    resource_link_id text NOT NULL,
    lineitem_url     text,
    lineitems_url    text,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (platform_id, user_id, quiz_slug, resource_link_id)
);
CREATE INDEX lti_grade_links_user ON lti_grade_links (user_id, quiz_slug);

-- A score to send, written by the attempt's own finishing statement (the
-- trigger below), so no finished attempt's grade can be lost; sent by a
-- River job, with backoff (next_at) while the platform fails.
CREATE TABLE lti_scores (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    grade_link_id uuid NOT NULL REFERENCES lti_grade_links (id) ON DELETE CASCADE,
    attempt_id    uuid NOT NULL REFERENCES attempts (id) ON DELETE CASCADE,
    percent       integer NOT NULL,
    finished_at   timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    tries         integer NOT NULL DEFAULT 0,
    next_at       timestamptz NOT NULL DEFAULT now(),
    last_error    text,
    sent_at       timestamptz,
    lineitem_url  text,  -- where it went
    sent          jsonb, -- what was sent
    UNIQUE (grade_link_id, attempt_id)
);
CREATE INDEX lti_scores_pending ON lti_scores (next_at) WHERE sent_at IS NULL;

-- +goose StatementBegin
CREATE FUNCTION lti_queue_scores() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lti_scores (grade_link_id, attempt_id, percent, finished_at)
    SELECT g.id, NEW.id, coalesce(NEW.percent, 0), coalesce(NEW.finished_at, now())
      FROM lti_grade_links g WHERE g.user_id = NEW.user_id AND g.quiz_slug = NEW.quiz_slug
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER attempts_lti_scores AFTER UPDATE OF status ON attempts
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM 'finished' AND NEW.status = 'finished')
    EXECUTE FUNCTION lti_queue_scores();

-- A course (context) of a platform whose roster (NRPS) fills a Baton team
-- managed by the instructor who launched from it.
CREATE TABLE lti_courses (
    platform_id uuid NOT NULL REFERENCES lti_platforms (id) ON DELETE CASCADE,
    context_id  text NOT NULL,
    team_id     uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    synced_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (platform_id, context_id)
);
-- The memberships a roster made, so a learner who left the course leaves
-- the team (and no membership someone chose is touched).
CREATE TABLE lti_course_members (
    team_id uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id)
);

-- +goose Down
DROP TABLE lti_course_members;
DROP TABLE lti_courses;
DROP TRIGGER attempts_lti_scores ON attempts;
DROP FUNCTION lti_queue_scores();
DROP TABLE lti_scores;
DROP TABLE lti_grade_links;
DROP TABLE lti_deep_links;
DROP TABLE lti_logins;
DROP TABLE lti_tool_keys;
DROP TABLE lti_registration_tokens;
DROP TABLE lti_platforms;
